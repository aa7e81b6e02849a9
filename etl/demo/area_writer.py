"""Write Musterstadt's area list (``gebiete.csv``) and geometries (GeoJSON)."""

from __future__ import annotations

import json
from pathlib import Path

from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from etl.demo.config import DemoConfig
from etl.demo.geography import Geography

CITY_ID = "0"


def area_rows(cfg: DemoConfig) -> list[tuple[str, str, str, str]]:
    """``(gebiet_id, ebene, name, uebergeordnet)`` for city, boroughs and districts."""
    rows = [(CITY_ID, "Stadt", cfg.params["stadt"]["name"], "")]
    rows += [(b.gebiet_id, "Stadtbezirk", b.name, CITY_ID) for b in cfg.boroughs.itertuples()]
    rows += [(d.gebiet_id, "Stadtteil", d.name, d.stadtbezirk) for d in cfg.districts.itertuples()]
    return rows


def write_area_list(cfg: DemoConfig, path: Path) -> Path:
    """Write ``gebiete.csv`` (``;``-separated, header ``gebiet_id;ebene;name;uebergeordnet``)."""
    lines = ["gebiet_id;ebene;name;uebergeordnet"] + [";".join(r) for r in area_rows(cfg)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")
    return path


def _rounded(value):
    if isinstance(value, float):
        return round(value, 6)
    return [_rounded(v) for v in value]


def _feature(geom: BaseGeometry, properties: dict) -> dict:
    shape = mapping(geom)
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": shape["type"], "coordinates": _rounded(shape["coordinates"])},
    }


def write_geojson(features: list[tuple[BaseGeometry, dict]], path: Path) -> Path:
    """Write a GeoJSON FeatureCollection (WGS84, coordinates rounded to 6 decimals)."""
    collection = {"type": "FeatureCollection", "features": [_feature(g, p) for g, p in features]}
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8", newline="\n")
    return path


def district_features(cfg: DemoConfig, geo: Geography) -> list[tuple[BaseGeometry, dict]]:
    """District geometries with properties ``gebiet_id`` and ``name``."""
    return [
        (geom, {"gebiet_id": d.gebiet_id, "name": d.name})
        for geom, d in zip(geo.districts, cfg.districts.itertuples(), strict=True)
    ]


def river_features(cfg: DemoConfig, geo: Geography) -> list[tuple[BaseGeometry, dict]]:
    """The river polygon (map decoration; belongs to no district)."""
    return [(geo.river, {"name": cfg.params["stadt"]["fluss"]})]
