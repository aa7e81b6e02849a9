"""The reader's choice "wie veröffentlicht" / "auf heutigem Gebietsstand" (#18) on the
pages that show values of earlier dates (Gebiet, Profil, Karte; Zeitreihen and Vergleich
use :mod:`dashboards.data.boundaries` directly).

Values on today's boundaries come from the publication's ``boundary_values`` (computed by
:func:`etl.publication.write_boundary_values` from published values only), read like every
other value through :mod:`dashboards.data.snapshot`. Only counts and shares are recomputed
(:data:`boundaries.RECOMPUTED`); every other indicator stays as published, with its breaks.
A row recomputed by weight (an earlier unit split between today's) is ``estimated``: the
pages name it "geschätzt".
"""

from __future__ import annotations

import json

import pandas as pd

from dashboards.data import boundaries, breaks, catalogue, compare, queries
from dashboards.data.catalogue import Indicator
from dashboards.data.snapshot import Warehouse, fetch, memoised, query, tables
from etl import crosswalk

PUBLISHED, TODAY = boundaries.PUBLISHED, boundaries.TODAY
PARAM = "boundaries"  # the query-string key on every page


def lineage(wh: Warehouse) -> list[tuple]:
    """How the values on today's boundaries placed the older units, per pair of vintages,
    level and method, with the correspondence lists (file, sha256) from the publication's
    ``meta`` (:func:`etl.crosswalk.lineage_rows`); [] without a crosswalk."""
    if "area_crosswalk" not in tables(wh):
        return []
    counts = fetch(wh, crosswalk.LINEAGE_SQL.format(table="area_crosswalk"))
    raw = catalogue.meta(wh).get("crosswalk_lists")
    return crosswalk.lineage_rows(counts, json.loads(raw) if raw else [])


def offered(wh: Warehouse) -> list[str]:
    """ "wie veröffentlicht", and "auf heutigem Gebietsstand" where the snapshot has it."""
    return [PUBLISHED, TODAY] if boundaries.available(wh) else [PUBLISHED]


def recomputed(indicator: Indicator) -> bool:
    """Whether the indicator has values on today's boundaries (counts and shares)."""
    return indicator.function in boundaries.RECOMPUTED and not indicator.is_segregation


@memoised(64)
def today_units(wh: Warehouse) -> frozenset[str]:
    """The area ids of the newest vintage (the units values are recomputed onto)."""
    sql = "SELECT DISTINCT area_id FROM areas WHERE vintage = $v"
    return frozenset(r[0] for r in fetch(wh, sql, {"v": boundaries.newest_vintage(wh)}))


def applies(wh: Warehouse, choice: str | None, area_ids: tuple[str, ...]) -> bool:
    """True if ``choice`` is today's boundaries, the snapshot has them and every area is a
    unit of today's boundaries (an area of an earlier division has no recomputed values)."""
    return choice == TODAY and boundaries.available(wh) and set(area_ids) <= today_units(wh)


def series_of_indicators(
    wh: Warehouse,
    indicators: list[Indicator],
    area_ids: tuple[str, ...],
    choice: str | None,
) -> tuple[pd.DataFrame, frozenset[str]]:
    """:func:`queries.series_of_indicators` (with ``break_before`` and ``estimated``) and
    the ids of the indicators on today's boundaries: with ``choice`` :data:`TODAY` (where
    :func:`applies`) the counts and shares have every date on today's units and no
    boundary break; the others are as published, with their breaks."""
    all_ids = tuple(i.indicator_id for i in indicators)
    today = (
        frozenset(i.indicator_id for i in indicators if recomputed(i))
        if applies(wh, choice, area_ids)
        else frozenset()
    )
    published_ids = tuple(i for i in all_ids if i not in today)
    parts = []
    if published_ids:
        frame = queries.series_of_indicators(wh, published_ids, area_ids)
        parts.append(frame.assign(estimated=False))
    if today:
        params = {
            "indicator_ids": sorted(today),
            "area_ids": list(area_ids),
            "vintage": boundaries.newest_vintage(wh),
        }
        parts.append(breaks.mark(query(wh, boundaries.SERIES_SQL, params), {}))
    if not parts:
        return queries.series_of_indicators(wh, all_ids, area_ids).assign(estimated=False), today
    frame = pd.concat([p for p in parts if not p.empty] or parts[:1], ignore_index=True)
    frame["estimated"] = frame["estimated"].fillna(False).astype(bool)
    return frame, today


def area_values(
    wh: Warehouse, indicator: Indicator, ref_date: str, level: str, choice: str | None
) -> tuple[pd.DataFrame, bool]:
    """The values of one level and date for a map or table, and whether they are on
    today's boundaries: with ``choice`` :data:`TODAY` (snapshot with them, a recomputed
    indicator) today's units, an estimate flagged ``estimated`` as on Vergleich
    (:func:`compare.today_values`); else :func:`queries.area_values`."""
    ids = (indicator.indicator_id,)
    if choice == TODAY and boundaries.available(wh) and recomputed(indicator):
        return compare.today_values(wh, ids, ref_date, level), True
    return queries.area_values(wh, ids, ref_date, level), False
