"""The map's frame: an island far outside the city does not shrink the city to a corner
(dashboards/figures/common.py, fit_map)."""

from __future__ import annotations

import json

import duckdb
import plotly.graph_objects as go
import pytest
import shapely
import yaml

from dashboards.figures.common import MAP_PAD, fit_map
from etl import warehouse
from etl.build import build
from etl.errors import ConfigError
from etl.profile import load_profile


def square(lon: float, lat: float, size: float = 0.01) -> dict:
    ring = [[lon, lat], [lon, lat + size], [lon + size, lat + size], [lon + size, lat], [lon, lat]]
    return {
        "type": "Feature",
        "id": f"{lon}",
        "properties": {},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def city(island: bool) -> dict:
    """Six districts side by side, 8.00–8.06° E x 50.00–50.01° N; the island 1° west and
    0.5° north (a Hamburg–Neuwerk distance)."""
    features = [square(round(8.0 + 0.01 * i, 2), 50.0) for i in range(6)]
    if island:
        features.append(square(7.0, 50.5, 0.005))
    return {"type": "FeatureCollection", "features": features}


def framed(geojson: dict) -> go.Figure:
    fig = go.Figure(
        go.Choropleth(
            geojson=geojson,
            locations=[f["id"] for f in geojson["features"]],
            z=[1] * len(geojson["features"]),
        )
    )
    fit_map(fig, geojson)
    return fig


def test_an_island_far_outside_is_left_out_of_the_frame():
    geo = framed(city(island=True)).layout.geo
    pad_lon, pad_lat = MAP_PAD * 0.06, MAP_PAD * 0.01
    assert list(geo.lonaxis.range) == pytest.approx([8.0 - pad_lon, 8.06 + pad_lon])
    assert list(geo.lataxis.range) == pytest.approx([50.0 - pad_lat, 50.01 + pad_lat])
    assert geo.fitbounds is False  # fitbounds would take every location, the island too
    assert (geo.center.lon, geo.center.lat) == pytest.approx((8.03, 50.005))


def test_a_city_without_outliers_is_framed_on_all_its_areas():
    geo = framed(city(island=False)).layout.geo
    assert geo.fitbounds == "locations"
    assert list(geo.lonaxis.range) == pytest.approx([8.0 - MAP_PAD * 0.06, 8.06 + MAP_PAD * 0.06])


def test_few_areas_are_never_left_out():
    few = {
        "type": "FeatureCollection",
        "features": [square(8.0, 50.0), square(8.01, 50.0), square(7.0, 50.5)],
    }
    geo = framed(few).layout.geo
    assert geo.fitbounds == "locations" and geo.lonaxis.range[0] < 7.0


def test_an_area_declared_outside_is_left_out_of_the_frame():
    """geography.map_extent_exclude: the sixth district (8.05-8.06° E) marked by the build
    is drawn but not framed, though it is no outlier; the frame is the other five's."""
    geojson = city(island=False)
    geojson["features"][5]["geometry"]["map_extent"] = False
    geo = framed(geojson).layout.geo
    pad_lon, pad_lat = MAP_PAD * 0.05, MAP_PAD * 0.01
    assert list(geo.lonaxis.range) == pytest.approx([8.0 - pad_lon, 8.05 + pad_lon])
    assert list(geo.lataxis.range) == pytest.approx([50.0 - pad_lat, 50.01 + pad_lat])
    assert geo.fitbounds is False
    every = city(island=False)  # all declared outside: all framed
    for feature in every["features"]:
        feature["geometry"]["map_extent"] = False
    assert framed(every).layout.geo.fitbounds == "locations"


def test_the_build_marks_the_declared_areas_and_refuses_unknown_ones(tmp_path):
    """The district-table fixture with map_extent_exclude per level, {district: [02]}:
    district 02's published geometry carries "map_extent": false, 01's does not, the shapes
    are unchanged; an id that is no area, an area listed under another level than its own
    and a level the profile does not have stop the build with the profile key."""
    from tests.etl.test_corpus import _tables

    profile_path, _, _ = _tables(tmp_path)
    data = yaml.safe_load(profile_path.read_text(encoding="utf-8"))

    def with_exclude(value) -> None:
        data["geography"]["map_extent_exclude"] = value
        profile_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    with_exclude({"district": ["02"]})
    build(load_profile(profile_path))
    publication = warehouse.published(tmp_path / "curated") / warehouse.PUBLICATION
    with duckdb.connect(str(publication), read_only=True) as con:
        rows = dict(con.execute("SELECT area_id, geojson FROM area_geometry").fetchall())
    marked = {a for a, g in rows.items() if json.loads(g).get("map_extent") is False}
    assert marked == {"02"}
    assert shapely.from_geojson(rows["02"]).equals(
        shapely.from_geojson(json.dumps({**json.loads(rows["02"]), "map_extent": None}))
    )
    with_exclude(["0299"])
    with pytest.raises(ConfigError, match=r"geography\.map_extent_exclude: '0299' is no area"):
        build(load_profile(profile_path))
    with_exclude({"quarter": ["02"]})  # 02 is a district
    with pytest.raises(
        ConfigError,
        match=r"geography\.map_extent_exclude\.quarter: '02' is no area of level 'quarter' "
        r"\(an area of level 'district'\)",
    ):
        build(load_profile(profile_path))
    with_exclude({"bezirk": ["02"]})
    line = next(
        n
        for n, text in enumerate(profile_path.read_text(encoding="utf-8").splitlines(), 1)
        if text.strip().startswith("bezirk:")
    )
    with pytest.raises(
        ConfigError,
        match=rf"line {line}, field 'geography\.map_extent_exclude\.bezirk': unknown level "
        r"'bezirk'; expected a level below the root \(district, quarter\)",
    ):
        load_profile(profile_path)
