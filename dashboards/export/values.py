"""``imon values``: published indicator values as CSV (machine-readable, '.' decimals).

For the city-wide segregation indices also the number of units used and the
random-allocation benchmark (expected value and 95 % range).
"""

from __future__ import annotations

import csv
import math
from datetime import date
from pathlib import Path
from typing import TextIO

import duckdb

from etl import warehouse
from etl.errors import ImonError
from etl.indicators.random_allocation import BASELINE_SQL

HEADER = [
    "indicator",
    "ref_date",
    "level",
    "area_id",
    "area_name",
    "value",
    "numerator",
    "denominator",
    "flag",
    "n_units",
    "random_expected",
    "random_lower",
    "random_upper",
]

# n_units and the random-allocation benchmark (mean and 95 % range over the draws,
# random_allocation.BASELINE_SQL) are filled for the city-wide segregation indices
VALUES_SQL = f"""
SELECT v.indicator_id, v.ref_date, v.level, v.area_id, a.name, v.value,
       -- disclosure control: nothing of a suppressed value leaves the warehouse
       CASE WHEN v.flag IS DISTINCT FROM 'suppressed' THEN v.numerator END,
       CASE WHEN v.flag IS DISTINCT FROM 'suppressed' THEN v.denominator END,
       v.flag, v.n_units, b.expected, b.lower, b.upper
FROM indicator_values AS v
INNER JOIN areas AS a
    ON a.area_id = v.area_id
   AND v.ref_date BETWEEN a.valid_from AND coalesce(a.valid_to, DATE '9999-12-31')
INNER JOIN levels AS l ON l.level = v.level
LEFT JOIN ({BASELINE_SQL}) AS b
    ON b.indicator_id = v.indicator_id AND b.ref_date = v.ref_date
   AND b.area_id = v.area_id AND b.level = v.level
WHERE v.indicator_id = $indicator
  AND ($level IS NULL OR v.level = $level)
  AND ($ref_date IS NULL OR v.ref_date = $ref_date)
  AND ($area IS NULL OR v.area_id = $area)
ORDER BY v.ref_date, l.rank, v.area_id
"""


def write_values(
    curated_dir: Path,
    out: TextIO,
    indicator: str,
    level: str | None = None,
    ref_date: date | None = None,
    area: str | None = None,
) -> int:
    """Write matching values as CSV to ``out``; return the number of rows."""
    db = warehouse.current_database(curated_dir)
    with duckdb.connect(str(db), read_only=True) as con:
        validate_request(con, indicator, level, ref_date, area)
        rows = con.execute(
            VALUES_SQL, {"indicator": indicator, "level": level, "ref_date": ref_date, "area": area}
        ).fetchall()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return len(rows)


def validate_request(
    con: duckdb.DuckDBPyConnection,
    indicator: str,
    level: str | None,
    ref_date: date | None,
    area: str | None,
) -> None:
    _known(con, "indicator", indicator, "SELECT indicator_id FROM indicators ORDER BY sort_order")
    _known(con, "level", level, "SELECT level FROM levels ORDER BY rank")
    _known(con, "date", ref_date, "SELECT DISTINCT ref_date FROM indicator_values ORDER BY 1")
    _known(con, "area", area, "SELECT DISTINCT area_id FROM areas ORDER BY 1")


def _known(con: duckdb.DuckDBPyConnection, what: str, value: object, sql: str) -> None:
    if value is None:
        return
    known = [r[0] for r in con.execute(sql).fetchall()]
    if value not in known:
        shown = ", ".join(str(k) for k in known[:40]) + (" …" if len(known) > 40 else "")
        raise ImonError(f"unknown {what} '{value}' (known: {shown})")


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value)
        return repr(value)
    return value
