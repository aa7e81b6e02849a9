"""Reads of ``imon values`` and ``imon export``: the published values of one indicator as
rows, and the check of a request against what the snapshot holds.

For the city-wide segregation indices also the number of units used and the
random-allocation benchmark (expected value and 95 % range, :data:`segregation.BASELINE_SQL`).
"""

from __future__ import annotations

from dashboards.data import queries
from dashboards.data.segregation import BASELINE_SQL
from dashboards.data.snapshot import DISCLOSED_COUNTS, Warehouse, fetch
from etl.errors import ImonError

# n_units and the random-allocation benchmark (mean and 95 % range over the draws,
# segregation.BASELINE_SQL) are filled for the city-wide segregation indices
VALUES_SQL = f"""
SELECT v.indicator_id, v.ref_date, v.level, v.area_id, a.name, v.value,
       {DISCLOSED_COUNTS},
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


def value_rows(
    warehouse: Warehouse,
    indicator: str,
    level: str | None = None,
    ref_date: str | None = None,
    area: str | None = None,
) -> list[tuple]:
    """The values of ``indicator`` (optionally of one level, date and area) as row tuples
    in the order of :data:`VALUES_SQL`'s columns (``ref_date``: ISO date)."""
    params = {"indicator": indicator, "level": level, "ref_date": ref_date, "area": area}
    return fetch(warehouse, VALUES_SQL, params)


def validate_request(
    wh: Warehouse,
    indicator: str,
    level: str | None,
    ref_date: str | None,
    area: str | None,
) -> None:
    """An :class:`ImonError` naming the known values if any given value is unknown (from the
    cached catalogue reads the rest of the request uses too). ``ref_date``: ISO date."""
    _known("indicator", indicator, queries.indicators(wh)["indicator_id"].tolist())
    _known("level", level, queries.levels(wh)["level"].tolist())
    _known("date", ref_date, queries.ref_dates(wh)["ref_date"].tolist())
    _known("area", area, queries.area_ids(wh)["area_id"].tolist())


def _known(what: str, value: str | None, known: list[str]) -> None:
    if value is not None and value not in known:
        shown = ", ".join(str(k) for k in known[:40]) + (" …" if len(known) > 40 else "")
        raise ImonError(f"unknown {what} '{value}' (known: {shown})")
