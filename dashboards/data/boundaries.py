"""Values on today's boundaries (#18, "auf heutigem Gebietsstand"): the rows of
``boundary_values`` that the build computed from the published values of earlier dates
(:func:`etl.publication.write_boundary_values`), and for dates already on the chosen
boundaries the published values themselves. Read from the publication like every other
value; the counts of a withheld value never leave (as :data:`snapshot.DISCLOSED_COUNTS`).
"""

from __future__ import annotations

import pandas as pd

from dashboards.data import breaks, queries
from dashboards.data.catalogue import Indicator
from dashboards.data.snapshot import DISCLOSED_COUNTS, Warehouse, fetch, query, tables
from dashboards.i18n import t
from etl.errors import ImonError

EXACT, ESTIMATED = "exakt", "geschätzt"
# the functions etl.publication recomputes (RECOMPUTED_FUNCTIONS)
RECOMPUTED = ("count", "share", "ratio", "location_quotient")
PUBLISHED, TODAY = "published", "today"  # the choice of the time series pages

VINTAGES_SQL = """
SELECT vintage, min(valid_from) AS valid_from FROM areas GROUP BY vintage ORDER BY 2
"""

BOUNDARY_VALUES_SQL = f"""
WITH chosen AS (
    SELECT v.indicator_id, v.ref_date, v.level, v.area_id, v.value, {DISCLOSED_COUNTS},
           v.flag, v.estimated
    FROM boundary_values AS v WHERE v.vintage = $vintage
    UNION ALL
    SELECT v.indicator_id, v.ref_date, v.level, v.area_id, v.value, {DISCLOSED_COUNTS},
           v.flag, false AS estimated
    FROM indicator_values AS v
    INNER JOIN (SELECT DISTINCT vintage, valid_from, valid_to FROM areas) AS p
        ON p.vintage = $vintage
       AND v.ref_date BETWEEN p.valid_from AND coalesce(p.valid_to, DATE '9999-12-31')
    WHERE v.n_units IS NULL
)
SELECT c.indicator_id, c.ref_date, c.level, c.area_id, a.name, c.value, c.numerator,
       c.denominator, c.flag, $vintage AS boundaries,
       CASE WHEN c.estimated THEN '{ESTIMATED}' ELSE '{EXACT}' END AS boundary_flag
FROM chosen AS c
INNER JOIN areas AS a ON a.area_id = c.area_id AND a.vintage = $vintage
INNER JOIN levels AS l ON l.level = c.level
WHERE c.indicator_id = $indicator
  AND ($level IS NULL OR c.level = $level)
  AND ($ref_date IS NULL OR c.ref_date = $ref_date)
  AND ($area IS NULL OR c.area_id = $area)
ORDER BY c.ref_date, l.rank, c.area_id
"""


def vintages(wh: Warehouse) -> list[str]:
    """The boundary vintages of the snapshot, oldest first."""
    return [r[0] for r in fetch(wh, VINTAGES_SQL)]


def resolve_vintage(wh: Warehouse, boundaries: str) -> str:
    """A vintage named by its id (``lor-2021``) or the year it took effect (``2021``);
    only the newest vintage has values recomputed onto it."""
    known = fetch(wh, VINTAGES_SQL)
    matches = [v for v, start in known if boundaries in (v, str(start.year))]
    if not matches:
        shown = ", ".join(f"{v} (ab {start:%d.%m.%Y})" for v, start in known)
        raise ImonError(f"unknown boundaries '{boundaries}' (known: {shown})")
    if matches[-1] != known[-1][0]:
        raise ImonError(
            f"boundaries '{boundaries}': values are recomputed onto today's boundaries only "
            f"({known[-1][0]}); without --boundaries the values are as published"
        )
    if "boundary_values" not in tables(wh):
        raise ImonError(
            "this snapshot has no values on today's boundaries (built before #18); "
            "rebuild it with imon build"
        )
    return matches[-1]


def boundary_rows(
    wh: Warehouse,
    indicator: str,
    vintage: str,
    level: str | None = None,
    ref_date: str | None = None,
    area: str | None = None,
) -> list[tuple]:
    """Rows of :data:`BOUNDARY_VALUES_SQL` (``ref_date``: ISO date); counts, shares, ratios
    and location quotients are recomputed onto today's boundaries (:data:`RECOMPUTED`)."""
    function = fetch(
        wh, "SELECT function FROM indicators WHERE indicator_id = $i", {"i": indicator}
    )
    if function and function[0][0] not in RECOMPUTED:
        raise ImonError(
            f"indicator '{indicator}' ({function[0][0]}): only counts, shares, ratios and "
            "location quotients are recomputed onto today's boundaries; without --boundaries "
            "it is as published"
        )
    params = {
        "indicator": indicator,
        "vintage": vintage,
        "level": level,
        "ref_date": ref_date,
        "area": area,
    }
    return fetch(wh, BOUNDARY_VALUES_SQL, params)


AVAILABLE_SQL = "SELECT count(*) > 0 FROM boundary_values"


def available(wh: Warehouse) -> bool:
    """True if the snapshot has values on today's boundaries (an instance with more than
    one boundary vintage, built after #18)."""
    return "boundary_values" in tables(wh) and bool(fetch(wh, AVAILABLE_SQL)[0][0])


def newest_vintage(wh: Warehouse) -> str:
    return vintages(wh)[-1]


# queries.series_of_indicators' columns (and ``estimated``) on the newest vintage's units:
# the recomputed rows of earlier dates and the published rows of the vintage's own dates
SERIES_SQL = f"""
WITH chosen AS (
    SELECT v.indicator_id, v.ref_date, v.level, v.area_id, v.value, {DISCLOSED_COUNTS},
           v.flag, v.definition_id, v.estimated
    FROM boundary_values AS v
    WHERE v.vintage = $vintage AND list_contains($indicator_ids, v.indicator_id)
      AND list_contains($area_ids, v.area_id)
    UNION ALL
    SELECT v.indicator_id, v.ref_date, v.level, v.area_id, v.value, {DISCLOSED_COUNTS},
           v.flag, v.definition_id, false AS estimated
    FROM indicator_values AS v
    INNER JOIN (SELECT DISTINCT vintage, valid_from, valid_to FROM areas) AS p
        ON p.vintage = $vintage
       AND v.ref_date BETWEEN p.valid_from AND coalesce(p.valid_to, DATE '9999-12-31')
    WHERE v.n_units IS NULL AND list_contains($indicator_ids, v.indicator_id)
      AND list_contains($area_ids, v.area_id)
)
SELECT c.indicator_id, c.area_id, a.name, c.level, l.rank,
       CAST(c.ref_date AS VARCHAR) AS ref_date, c.value, c.numerator, c.denominator, c.flag,
       c.definition_id, CAST(NULL AS INTEGER) AS n_units, c.estimated
FROM chosen AS c
INNER JOIN areas AS a ON a.area_id = c.area_id AND a.vintage = $vintage
INNER JOIN levels AS l ON l.level = c.level
ORDER BY c.indicator_id, l.rank, c.area_id, c.ref_date
"""


def series(wh: Warehouse, indicator_id: str, area_ids: tuple[str, ...]) -> pd.DataFrame:
    """:func:`queries.series` on today's boundaries: every date on the newest vintage's
    units (``estimated`` where recomputed by weight). No boundary break remains, only
    changes of definition (:func:`breaks.mark` without level breaks)."""
    params = {
        "indicator_ids": [indicator_id],
        "area_ids": list(area_ids),
        "vintage": newest_vintage(wh),
    }
    frame = query(wh, SERIES_SQL, params).drop(columns="indicator_id")
    return breaks.mark(frame, {})


def chosen_series(
    wh: Warehouse, indicator: Indicator, area_ids: tuple[str, ...], boundaries: str | None
) -> tuple[pd.DataFrame, dict[str, tuple[str, ...]], bool]:
    """(series frame, the level breaks it has, on today's boundaries?) for a time chart:
    on today's boundaries where ``boundaries`` is :data:`TODAY`, the snapshot has them and
    the indicator is recomputed (:data:`RECOMPUTED`); else as published."""
    today = (
        boundaries == TODAY
        and indicator.function in RECOMPUTED
        and not indicator.is_segregation
        and available(wh)
    )
    if today:
        return series(wh, indicator.indicator_id, area_ids), {}, True
    frame = queries.series(wh, indicator.indicator_id, area_ids)
    return frame, breaks.level_breaks(wh), False


def today_notes(wh: Warehouse, frame: pd.DataFrame, lang: str) -> list[str]:
    """The notes of a series on today's boundaries: earlier dates recomputed, and the
    areas whose earlier values are estimates."""
    notes = [t("trends.boundaries_note", lang, vintage=newest_vintage(wh))]
    if "estimated" in frame:
        estimated = frame[frame["estimated"].fillna(False).astype(bool)]
        if not estimated.empty:
            names = ", ".join(dict.fromkeys(estimated["name"]))
            notes.append(t("trends.boundaries_estimated", lang, areas=names))
    return notes
