"""``imon values``: published indicator values as CSV (machine-readable, '.' decimals).

The rows come from :mod:`dashboards.data.values` (the read path and its publication rules).

For the city-wide segregation indices also the number of units used and the
random-allocation benchmark (expected value and 95 % range).
"""

from __future__ import annotations

import csv
import math
from datetime import date
from pathlib import Path
from typing import TextIO

from dashboards.data.boundaries import boundary_rows, resolve_vintage
from dashboards.data.snapshot import open_warehouse
from dashboards.data.values import validate_request, value_rows
from etl.errors import ImonError

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


# --boundaries: values on today's boundaries (dashboards.data.boundaries), flagged
BOUNDARY_HEADER = [*HEADER[:9], "boundaries", "boundary_flag"]


def write_values(
    curated_dir: Path,
    out: TextIO,
    indicator: str,
    level: str | None = None,
    ref_date: date | None = None,
    area: str | None = None,
    boundaries: str | None = None,
) -> int:
    """Write matching values as CSV to ``out``; return the number of rows. ``boundaries``:
    a vintage (id or year) — the values of every date on its units, earlier dates
    recomputed ('exakt' or 'geschätzt' in ``boundary_flag``)."""
    wh, iso = open_warehouse(curated_dir), ref_date.isoformat() if ref_date else None
    validate_request(wh, indicator, level, iso, area)
    if boundaries is None:
        rows, header = value_rows(wh, indicator, level, iso, area), HEADER
    else:
        vintage = resolve_vintage(wh, boundaries)
        rows = boundary_rows(wh, indicator, vintage, level, iso, area)
        header = BOUNDARY_HEADER
        if not rows:
            raise ImonError(
                f"no values of '{indicator}' on the boundaries {vintage}"
                + (f" at level '{level}'" if level else "")
                + " (only counts, shares, ratios and location quotients are recomputed, on "
                "levels whose units the crosswalk covers completely)"
            )
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return len(rows)


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value)
        return repr(value)
    return value
