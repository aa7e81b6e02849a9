"""Series breaks: where values before and after a date are not directly comparable.

Two kinds of break (issue #18):

* ``boundaries`` – the level's division changed: a new boundary vintage whose areas differ
  from the previous one's (another set of area ids, or an area whose geometry differs by
  more than :data:`BOUNDARY_TOLERANCE`, or whose geometry is unknown in either vintage).
  Berlin redrew its LOR on 1 Jan 2021: forecast areas, district regions and planning
  areas break there, the districts do not (same ids, same boundaries). The whole city
  (the rank-0 level) never breaks.
* ``definition`` – the indicator's ``definition_id`` changes between two dates of a series.

:func:`level_breaks` reads the boundary breaks of every level once per snapshot;
:func:`mark` (pure) adds ``break_before`` to a series frame: the kind of break between a
row and the previous row of the same series (None: none); :func:`chart_breaks` lists the
breaks a time chart must draw; :func:`between` says whether a change from one date to
another crosses a break (then no change statement may be made about it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
from shapely.geometry import shape

from dashboards.data.snapshot import Warehouse, memoised, query

BOUNDARIES = "boundaries"
DEFINITION = "definition"
# Relative area of the symmetric difference above which two boundaries count as different
# (simplified web geometry of the same boundary in two vintages differs by far less).
BOUNDARY_TOLERANCE = 0.005
SERIES_KEYS = ("indicator_id", "role", "area_id", "level")  # those present identify a series


@dataclass(frozen=True)
class Break:
    """A break of one level (or of a definition) inside a chart's dates: the last date
    before it, the first date after it, and where to draw it (``at``: the first day of the
    new vintage, or the middle between the two dates for a change of definition)."""

    kind: str
    level: str | None
    before: str
    after: str
    at: str


@memoised(2048)
def boundaries_differ(geojson_a: str | None, geojson_b: str | None) -> bool:
    """True if two GeoJSON geometries differ by more than the tolerance (or one is unknown)."""
    if geojson_a is None or geojson_b is None:
        return True
    if geojson_a == geojson_b:
        return False
    a, b = shape(json.loads(geojson_a)), shape(json.loads(geojson_b))
    union = a.union(b).area
    return union == 0 or a.symmetric_difference(b).area / union > BOUNDARY_TOLERANCE


def _none(value: object) -> object:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else value


def division_changed(old: pd.DataFrame, new: pd.DataFrame) -> bool:
    """Whether two vintages of a level divide the city differently (``area_id`` and
    ``geojson`` per area; NULL geojson: no boundaries known)."""
    if set(old["area_id"]) != set(new["area_id"]):
        return True
    shapes = dict(zip(old["area_id"], old["geojson"], strict=True))
    return any(
        boundaries_differ(_none(shapes[a]), _none(g))
        for a, g in zip(new["area_id"], new["geojson"], strict=True)
    )


@memoised(8)
def level_breaks(warehouse: Warehouse) -> dict[str, tuple[str, ...]]:
    """Per level below the city, the first days (ISO) of the vintages that changed its
    division; levels without a break are left out."""
    sql = """
        SELECT a.level, a.vintage, CAST(min(a.valid_from) OVER (
                   PARTITION BY a.level, a.vintage) AS VARCHAR) AS valid_from,
               a.area_id, g.geojson
        FROM areas a
        JOIN levels l ON l.level = a.level AND l.rank > 0
        LEFT JOIN area_geometry g ON g.area_id = a.area_id AND g.vintage = a.vintage
        ORDER BY a.level, valid_from, a.area_id
    """
    frame = query(warehouse, sql)
    found: dict[str, tuple[str, ...]] = {}
    for level, rows in frame.groupby("level", sort=True):
        vintages = [part for _, part in rows.groupby("valid_from", sort=True)]
        dates = tuple(
            new["valid_from"].iloc[0]
            for old, new in zip(vintages, vintages[1:], strict=False)
            if division_changed(old, new)
        )
        if dates:
            found[str(level)] = dates
    return found


def _keys(frame: pd.DataFrame) -> list[str]:
    return [k for k in SERIES_KEYS if k in frame.columns]


def _kind(prev: dict | None, row: dict, dates: tuple[str, ...]) -> str | None:
    if prev is None:
        return None
    if prev.get("definition_id") != row.get("definition_id"):
        return DEFINITION
    if any(prev["ref_date"] < d <= row["ref_date"] for d in dates):
        return BOUNDARIES
    return None


def mark(frame: pd.DataFrame, breaks: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    """``frame`` (a series: ``ref_date``, ``level``, ``definition_id`` and the series keys)
    with ``break_before``: ``definition``, ``boundaries`` or None for each row against the
    previous row of its series (same indicator, role, area and level), in date order."""
    out = frame.copy()
    out["break_before"] = None
    if out.empty:
        return out
    keys = _keys(out)
    order = out.sort_values([*keys, "ref_date"], kind="stable")
    kinds: dict = {}
    for _, rows in order.groupby(keys, sort=False, dropna=False):
        prev = None
        for index, row in zip(rows.index, rows.to_dict("records"), strict=True):
            kinds[index] = _kind(prev, row, breaks.get(row.get("level"), ()))
            prev = row
    out["break_before"] = pd.Series(kinds, dtype=object).reindex(out.index)
    out["break_before"] = (
        out["break_before"].astype(object).where(out["break_before"].notna(), None)
    )
    return out


def annotate(warehouse: Warehouse, frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`mark` with the snapshot's boundary breaks."""
    return mark(frame, level_breaks(warehouse))


def _midpoint(a: str, b: str) -> str:
    first, last = pd.Timestamp(a), pd.Timestamp(b)
    return str((first + (last - first) / 2).date())


def chart_breaks(
    frame: pd.DataFrame, breaks: dict[str, tuple[str, ...]], dates: Iterable[str] | None = None
) -> list[Break]:
    """The breaks a time chart of ``frame`` draws: every boundary break of a level in the
    frame that falls between two of the chart's ``dates`` (default: the frame's), also
    where a series only starts after it (one per level and date), and every change of
    definition (one per date)."""
    if frame.empty:
        return []
    shown = sorted(set(dates) if dates is not None else set(frame["ref_date"]))
    found: dict[tuple[str, str | None], Break] = {}
    for level in dict.fromkeys(frame["level"]):
        for day in breaks.get(level, ()):
            before = [d for d in shown if d < day]
            after = [d for d in shown if d >= day]
            if before and after:
                found[(day, level)] = Break(BOUNDARIES, level, before[-1], after[0], day)
    marked = frame if "break_before" in frame else mark(frame, breaks)
    keys = _keys(marked)
    for _, rows in marked.sort_values([*keys, "ref_date"]).groupby(keys, sort=False):
        prev = None
        for row in rows.to_dict("records"):
            if row["break_before"] == DEFINITION and prev is not None:
                at = _midpoint(prev, row["ref_date"])
                found.setdefault((at, None), Break(DEFINITION, None, prev, row["ref_date"], at))
            prev = row["ref_date"]
    return sorted(found.values(), key=lambda b: (b.at, b.level or ""))


def between(
    breaks: dict[str, tuple[str, ...]],
    level: str,
    start: str,
    end: str,
    definitions: Iterable[str] = (),
) -> str | None:
    """The kind of break between ``start`` and ``end`` on ``level`` (``definitions``: the
    definition ids of the values in between, both ends included), or None if a change
    from one to the other compares like with like."""
    first, last = sorted((start, end))
    if len(set(definitions)) > 1:
        return DEFINITION
    if any(first < d <= last for d in breaks.get(level, ())):
        return BOUNDARIES
    return None


def comparable_levels(
    breaks: dict[str, tuple[str, ...]], levels: Iterable[str], start: str, end: str
) -> list[str]:
    """Of ``levels``, those whose division is the same on ``start`` and ``end``."""
    return [lvl for lvl in levels if between(breaks, lvl, start, end) is None]
