"""The map's frame: an island far outside the city does not shrink the city to a corner
(dashboards/figures/common.py, fit_map)."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from dashboards.figures.common import MAP_PAD, fit_map


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
