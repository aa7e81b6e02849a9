"""Karte for lay readers (#19): palettes light to dark without a grey class, location
quotients with concentration as the saturated end, outlines of the coarser level, labels
that do not overlap and stay inside the frame, area names in the table linking to the
area page (synthetic city, tests/dashboards/conftest.py)."""

from __future__ import annotations

import re
import sys

import numpy as np
import pandas as pd
import pytest

from dashboards.app import create_app
from dashboards.figures import map as map_figures
from tests.dashboards.test_dash_browser import (  # noqa: F401
    browser,
    open_page,
    serve,
    wait_count,
    wait_text,
    wait_url,
)


@pytest.fixture(scope="module")
def app(synthetic_curated_dir):
    return create_app(synthetic_curated_dir)


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance of 'rgb(r, g, b)' or '#rrggbb'."""
    if colour.startswith("#"):
        channels = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    else:
        channels = [float(v) for v in re.findall(r"[\d.]+", colour)[:3]]
    linear = [
        c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4
        for c in channels
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _chroma(colour: str) -> float:
    channels = [float(v) for v in re.findall(r"[\d.]+", colour)[:3]]
    return max(channels) - min(channels)


def test_sequential_classes_go_light_to_dark_without_grey():
    colours = map_figures._class_colors([0, 1, 2, 3, 4, 5], 5, None)
    lum = [_luminance(c) for c in colours]
    assert lum == sorted(lum, reverse=True)  # class 0 lightest, class 4 darkest
    assert lum[0] > 0.8 and lum[-1] < 0.05
    # a grey (r = g = b) reads as "no value": every class clearly coloured
    assert min(_chroma(c) for c in colours) >= 60


def test_location_quotients_concentration_is_the_saturated_end():
    # quotients 0.2 .. 3.0 in five classes: two below 1, three above
    edges = [0.2, 0.6, 1.0, 1.5, 2.0, 3.0]
    colours = map_figures._class_colors(edges, 5, 1.0)
    lum = [_luminance(c) for c in colours]
    assert min(lum[:2]) > 0.5  # under-representation: light
    assert lum[2] > lum[3] > lum[4]  # concentration: darker the higher
    assert lum[4] == min(lum) and lum[4] < 0.1  # the strongest concentration darkest
    red, _, blue = (float(v) for v in re.findall(r"[\d.]+", colours[0])[:3])
    assert red > blue  # orange below 1; purple above
    red, _, blue = (float(v) for v in re.findall(r"[\d.]+", colours[4])[:3])
    assert blue > red


def test_labels_greedy_largest_first_no_overlap_inside_the_frame():
    """Hand-placed boxes in a 100 × 100 px frame (y down), 2 px apart at least:
    A (50, 50) 40 × 10, the largest, stays; B (60, 52) hits A centred, above (cy 47) and
    below (cy 57: its top 52 < A's bottom 55 + 2): dropped; F (50, 58) hits A centred and
    above, fits below (cy 63: top 58 ≥ 57); C (5, 95) 30 × 10 would be cut at the left
    and bottom edges: moved in to (15, 95); D is wider than the frame: dropped."""
    x = np.array([50, 60, 50, 5, 50])
    y = np.array([50, 52, 58, 95, 20])
    widths = np.array([40, 40, 40, 30, 120])
    heights = np.array([10, 10, 10, 10, 10])
    priority = np.array([5, 4, 3, 2, 1])
    kept = map_figures.place_labels(x, y, widths, heights, priority, 100, 100)
    assert kept == [(0, 50, 50), (2, 50, 63), (3, 15, 95)]
    # the order is the priority's, not the input's
    again = map_figures.place_labels(x[::-1], y[::-1], widths[::-1], heights[::-1],
                                     priority[::-1], 100, 100)  # fmt: skip
    assert [(4 - i, cx, cy) for i, cx, cy in again] == kept


def test_long_names_break_at_a_hyphen_or_slash():
    assert map_figures.label_lines("Mitte") == "Mitte"
    assert map_figures.label_lines("Charlottenburg-Wilmersdorf") == "Charlottenburg-<br>Wilmersdorf"
    assert (
        map_figures.label_lines("Schmöckwitz/Rauchfangswerder")
        == "Schmöckwitz/<br>Rauchfangswerder"
    )
    assert map_figures.label_lines("Rahnsdorf Hessenwinkel") == "Rahnsdorf<br>Hessenwinkel"


def test_drawn_labels_keep_apart_in_the_estimated_frame():
    """Four squares in a row with long names, on a map 200 px wide: squares 50 px apart,
    names 90 px wide (15 characters of 6 px): neighbours cannot both be named. The labels
    drawn, projected back to pixels (Mercator, as plotly geo draws), do not overlap and
    lie inside the frame; the largest area keeps its name."""

    def square(i, size):
        x0, y0 = 13.0 + i * 0.02, 52.5
        ring = [[x0, y0], [x0, y0 + size], [x0 + size, y0 + size], [x0 + size, y0], [x0, y0]]
        return f'{{"type": "Polygon", "coordinates": [{ring}]}}'

    shapes = pd.DataFrame({"area_id": list("abcd"),
                           "geojson": [square(i, 0.02 - 0.001 * i) for i in range(4)]})  # fmt: skip
    rows = pd.DataFrame({"area_id": list("abcd"), "name": ["Ein sehr langer Gebietsname"] * 4})
    trace = map_figures._label_trace(rows, shapes, {}, [], (200.0, 300.0))
    assert 2 <= len(trace.text) < 4 and trace.text[0] == "Ein sehr langer<br>Gebietsname"
    assert 13.0 < trace.lon[0] < 13.02  # the first placed: the largest area's
    # back to pixels: the map frame spans lon 13.0 - pad .. 13.077 + pad (MAP_PAD 2 %)
    pad = 0.02 * 0.077
    x0, x1 = np.radians(13.0 - pad), np.radians(13.077 + pad)
    scale = 200 / (x1 - x0)
    xs = sorted((np.radians(lon) - x0) * scale for lon in trace.lon)
    assert all(b - a >= 90 + 2 for a, b in zip(xs, xs[1:], strict=False))  # no overlap
    assert xs[0] >= 45 - 1e-6 and xs[-1] <= 200 - 45 + 1e-6  # not cut at the edge


def test_outlines_of_the_boroughs_over_the_districts(app):
    with app.server.test_request_context("/"):
        figure, *_ = sys.modules["pages.map"].update_map(
            "population", "district", "quantile", [], None, "2024-12-31", None
        )
        borough, *_ = sys.modules["pages.map"].update_map(
            "population", "borough", "quantile", [], None, "2024-12-31", None
        )
    outline = figure.data[1]
    assert outline.name == "outlines" and outline.mode == "lines"
    # two boroughs, each a rectangle of two grid cells: two closed rings of 5 points
    assert list(outline.lon).count(None) == 2 and len(outline.lon) == 12
    assert sorted({round(v, 2) for v in outline.lat if v is not None}) == [50.34, 50.35, 50.36]
    assert "outlines" not in [t.name for t in borough.data]  # the coarsest level: none


def test_frames_leave_the_outlines_in_the_browser(app):
    with app.server.test_request_context("/"):
        page = sys.modules["pages.map"]
        figure, *_ = page.update_map(
            "foreigner_share", "district", "quantile", [], None, "2024-12-31", None
        )
        frames = page.update_frames(
            dict(key=figure.layout.meta["key"], geometry=figure.layout.meta["geometry"])
        )
        patch, *_ = page.update_map(
            "foreigner_share", "district", "equal", [], None, "2024-12-31", dict(figure.layout.meta)
        )
    for frame in frames["dates"].values():
        assert frame["data"][1]["name"] == "outlines" and "lon" not in frame["data"][1]
    # same boundaries, other classes: the patch keeps the first two traces (areas, outlines)
    # and replaces the third (district 22, suppressed on 31.12.2024)
    operations = patch.to_plotly_json()["operations"]
    deleted = [op for op in operations if op["operation"] == "Delete"]
    assert [op["location"] for op in deleted] == [["data", 2]]
    assert "lon" not in str(operations)


def test_table_names_link_to_the_area_page(app):
    with app.server.test_request_context("/?lang=en"):
        table = sys.modules["pages.map"].update_table("population", "2023-12-31", "district", None)
    html = str(table.to_plotly_json())
    assert "/gebiet?area=11&amp;date=2023-12-31&amp;lang=en" in html or (
        "/gebiet?area=11&date=2023-12-31&lang=en" in html
    )


# --- in the browser ------------------------------------------------------------------------
def test_timeline_plays_from_the_frames_and_a_click_opens_the_area_page(
    browser,  # noqa: F811
    synthetic_curated_dir,
):
    """Play: 2022 -> 2023 -> 2024 drawn from the frames, no figure asked of the server;
    when it stops, the date control and the address take the date shown. The slider by
    keyboard: one date back. A click on district 11 opens /gebiet?area=11&date=…"""
    with serve(synthetic_curated_dir) as url, open_page(browser, url) as page:
        page.goto(f"{url}/karte?indicator=population&level=district&date=2022-12-31")
        paths = "#map-graph path.choroplethlocation"
        wait_count(page, paths, 4)
        page.locator("#map-timeline").wait_for(state="visible")  # the frames have come
        wait_text(page, "#map-timeline-date", "31.12.2022")
        handle = page.locator("#map-slider [role=slider]")  # named for screen readers
        page.wait_for_function(
            "() => document.querySelector('#map-slider [role=slider]')"
            ".getAttribute('aria-valuetext') === '31.12.2022'"
        )
        assert handle.get_attribute("aria-label") == "Zeitverlauf"
        page.wait_for_load_state("networkidle")
        asked = []
        page.on(
            "request",
            lambda r: (
                "_dash-update-component" in r.url
                and (
                    "map-graph.figure" in (r.post_data or "") or "map-frames" in (r.post_data or "")
                )
                and asked.append(r)
            ),
        )
        play = page.locator("#map-play")
        assert play.inner_text() == "▶ Abspielen"
        play.click()
        assert play.get_attribute("aria-pressed") == "true"
        wait_text(page, "#map-graph .gtitle-subtitle", "Stichtag 31.12.2023")
        wait_text(page, "#map-graph .gtitle-subtitle", "Stichtag 31.12.2024")
        wait_url(page, "date=2024-12-31")  # stopped at the last date: the control took it
        wait_text(page, "#map-play", "Abspielen")
        assert play.get_attribute("aria-pressed") == "false"
        page.wait_for_load_state("networkidle")
        assert asked == []
        # keyboard: the slider's handle takes the arrow keys
        handle.focus()
        page.keyboard.press("ArrowLeft")
        wait_url(page, "date=2023-12-31")
        wait_text(page, "#map-graph .gtitle-subtitle", "Stichtag 31.12.2023")
        # a click on district 11 (the order of the first trace's locations is the paths')
        locations = page.evaluate(
            "document.querySelector('#map-graph .js-plotly-plot').data[0].locations"
        )
        box = page.locator(paths).nth(locations.index("11")).bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        wait_url(page, "/gebiet?area=11&date=2023-12-31")
        assert page.problems == []
