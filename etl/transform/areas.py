"""Area hierarchy, ancestor closure and web geometry in the warehouse.

Coarser levels' geometry is dissolved from the finest level, so every level's shapes
agree. Web geometry is simplified and its exterior rings are clockwise (plotly geo /
d3-geo needs that; research/toolchain.md, gotcha 2).
"""

from __future__ import annotations

import json
from datetime import timedelta

import duckdb
import pandas as pd
import shapely

from etl.errors import ConfigError
from etl.profile import Profile, extent_excluded, profile_line
from etl.sources.area_list import AreaVintage
from etl.sources.geometry import for_web, to_geojson

CLOSURE_SQL = """
INSERT INTO area_closure
WITH RECURSIVE up(member_id, area_id, vintage) AS (
    SELECT area_id, area_id, vintage FROM areas WHERE level = $finest
    UNION ALL
    SELECT up.member_id, a.parent_id, up.vintage
    FROM up
    INNER JOIN areas AS a ON a.area_id = up.area_id AND a.vintage = up.vintage
    WHERE a.parent_id IS NOT NULL
),

final AS (
    SELECT up.member_id, up.area_id, a.level, up.vintage
    FROM up
    INNER JOIN areas AS a ON a.area_id = up.area_id AND a.vintage = up.vintage
)

SELECT * FROM final
"""


def write_levels(con: duckdb.DuckDBPyConnection, profile: Profile) -> None:
    rows = [(lv.id, rank, lv.label_de, lv.label_en) for rank, lv in enumerate(profile.levels)]
    con.executemany("INSERT INTO levels VALUES (?, ?, ?, ?)", rows)


def write_areas(
    con: duckdb.DuckDBPyConnection, vintages: list[AreaVintage], profile: Profile
) -> None:
    """Insert ``areas``, ``area_closure`` and ``area_geometry`` for all vintages."""
    vintages = sorted(vintages, key=lambda v: v.valid_from)
    outside = _extent_exclude(vintages, profile)
    for i, vintage in enumerate(vintages):
        following = vintages[i + 1].valid_from if i + 1 < len(vintages) else None
        frame = vintage.areas.assign(
            vintage=vintage.vintage,
            valid_from=vintage.valid_from,
            valid_to=following - timedelta(days=1) if following else None,
        )
        con.register("new_areas", frame)
        con.execute(
            "INSERT INTO areas SELECT area_id, level, name, parent_id, vintage, "
            "valid_from, valid_to FROM new_areas"
        )
        con.unregister("new_areas")
        geometry = web_geometry(
            vintage, profile.geography.simplify_tolerance, profile.level_ids(), outside
        )
        con.register("new_geometry", geometry)
        con.execute(
            "INSERT INTO area_geometry SELECT area_id, level, vintage, geojson FROM new_geometry"
        )
        con.unregister("new_geometry")
    con.execute(CLOSURE_SQL, {"finest": profile.level_ids()[-1]})


def _extent_exclude(vintages: list[AreaVintage], profile: Profile) -> frozenset[str]:
    """The areas of ``geography.map_extent_exclude``; each must be an area of a vintage (of
    the level it is listed under, where listed per level)."""
    frames = [v.areas[["area_id", "level"]] for v in vintages]
    found = pd.concat(frames).drop_duplicates("area_id") if frames else pd.DataFrame()
    level_of = dict(zip(found.get("area_id", []), found.get("level", []), strict=True))
    wanted = set()
    for level, ids in extent_excluded(profile).items():
        key = "geography.map_extent_exclude" + (f".{level}" if level else "")
        for area in ids:
            if area not in level_of or (level is not None and level_of[area] != level):
                known = sorted(a for a, lv in level_of.items() if level in (None, lv))[:3]
                where = f" (an area of level '{level_of[area]}')" if area in level_of else ""
                what = f"level '{level}'" if level else "any boundary vintage"
                raise ConfigError(
                    f"{profile.path}: {profile_line(profile.path, *key.split('.'))}"
                    f"{key}: '{area}' is no area of {what}{where}; expected area ids as the "
                    f"data and boundary files give them (e.g. {', '.join(known)})"
                )
            wanted.add(area)
    return frozenset(wanted)


def web_geometry(
    vintage: AreaVintage, tolerance: float, levels: list[str], outside: frozenset[str] = frozenset()
) -> pd.DataFrame:
    """Simplified, clockwise GeoJSON geometry of every area that has a shape: its own from a
    boundary file, else dissolved from its children when every child has one.
    ``levels`` run coarsest to finest. An area in ``outside`` (the profile's
    ``map_extent_exclude``) carries the foreign member ``"map_extent": false`` (RFC 7946,
    section 6.1; geometry readers ignore it): maps draw it but leave it out of their frame
    (dashboards.figures.common.fit_map)."""
    shapes = dict(vintage.shapes)
    areas = vintage.areas
    children = areas.dropna(subset=["parent_id"]).groupby("parent_id")["area_id"].apply(list)
    for level in reversed(levels):
        for area_id in areas.loc[areas["level"] == level, "area_id"]:
            kids = children.get(area_id, [])
            if area_id not in shapes and kids and all(k in shapes for k in kids):
                shapes[area_id] = shapely.union_all([shapes[k] for k in kids])
    level_of = areas.set_index("area_id")["level"]
    rows = [
        (
            area_id,
            level_of[area_id],
            vintage.vintage,
            _outside(to_geojson(for_web(geom, tolerance)))
            if area_id in outside
            else to_geojson(for_web(geom, tolerance)),
        )
        for area_id, geom in shapes.items()
        if area_id in level_of.index
    ]
    return pd.DataFrame(rows, columns=["area_id", "level", "vintage", "geojson"])


EXTENT_MEMBER = "map_extent"  # a geometry's foreign member: false = not in the map's frame


def _outside(geojson: str) -> str:
    return json.dumps({**json.loads(geojson), EXTENT_MEMBER: False}, separators=(",", ":"))
