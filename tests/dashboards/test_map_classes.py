"""Karte: classification control, class legend, area labels, URL state and the patch that
leaves the boundaries in the browser (synthetic city, tests/dashboards/conftest.py)."""

from __future__ import annotations

import sys

import dash
import pytest
from dash_tree import find as _find

from dashboards.app import create_app
from dashboards.figures import common as figures


@pytest.fixture(scope="module")
def app(synthetic_curated_dir):
    return create_app(synthetic_curated_dir)


def _map(app, indicator, date, level, method, labels, drawn=None):
    """The server's map callback (figure, panel style, legend, definition)."""
    with app.server.test_request_context("/"):
        update = sys.modules["pages.map"].update_map
        return update(indicator, level, method, labels, None, date, drawn)


def _frames(app, figure):
    """The frames the browser asks for once ``figure`` is drawn (map-frames-wanted)."""
    meta = figure.layout.meta
    with app.server.test_request_context("/"):
        update = sys.modules["pages.map"].update_frames
        return update({"key": meta["key"], "geometry": meta["geometry"]})


def test_layout_takes_classes_and_labels_from_url(app):
    with app.server.test_request_context("/"):
        layout = dash.page_registry["pages.map"]["layout"](classes="jenks", labels="1")
        default = dash.page_registry["pages.map"]["layout"](classes="bogus")
    assert _find(layout, "map-classes").value == "jenks"
    assert _find(layout, "map-labels").value == ["1"]
    assert _find(default, "map-classes").value == "quantile"
    assert _find(default, "map-labels").value == []


def test_quantile_legend_in_german_format(app):
    # residents 2022: 500, 1000, 1500, 2000 -> quantiles at 800, 1100, 1400, 1700 (type 7)
    figure, *_ = _map(app, "population", "2022-12-31", "district", "quantile", [], None)
    bar = figure.data[0].colorbar
    assert list(bar.ticktext) == [
        "500 – 800",
        "800 – 1.100",
        "1.100 – 1.400",
        "1.400 – 1.700",
        "1.700 – 2.000",
    ]
    assert "Quantile, 5 Klassen" in bar.title.text
    assert list(figure.data[0].z) == [1, 4, 3, 0]  # districts 11, 12, 21, 22


def test_equal_intervals_in_percent(app):
    # foreigner share 2022: 10, 15, 30, 10 % -> width 4 points
    figure, *_ = _map(app, "foreigner_share", "2022-12-31", "district", "equal", [], None)
    assert figure.data[0].colorbar.ticktext[0] == "10,0 % – 14,0 %"
    assert list(figure.data[0].z) == [0, 1, 4, 0]


def test_suppressed_area_keeps_its_own_trace_and_legend(app):
    figure, _, legend, *_ = _map(app, "foreigner_share", "2024-12-31", "district", "jenks", [])
    assert figure.data[1].name == "outlines"  # the boroughs' outlines over the districts
    assert list(figure.data[2].locations) == ["22"]
    assert legend is not None


def test_area_labels(app):
    figure, *_ = _map(app, "population", "2022-12-31", "district", "quantile", ["1"], None)
    labels = figure.data[-1]
    assert labels.type == "scattergeo" and labels.mode == "text"
    assert "Altstadt" in labels.text and len(labels.lon) == 4
    # a halo of the other colour (#19: names that run over a neighbour keep their contrast)
    halo = {"white": "rgb(0,0,0)", "#000000": "#fff"}
    for colour, shadow in zip(labels.textfont.color, labels.textfont.shadow, strict=True):
        assert shadow.startswith(f"0 0 2px {halo[colour]}"), (colour, shadow)


def test_same_boundaries_give_a_patch_without_geometry(app):
    figure, *_ = _map(app, "population", "2022-12-31", "district", "quantile", [], None)
    meta = figure.layout.meta
    assert figure.data[0].geojson is not None and meta["traces"] == len(figure.data)
    patch, *_ = _map(app, "population", "2023-12-31", "district", "quantile", [], dict(meta))
    assert isinstance(patch, dash.Patch)
    assert "geojson" not in str(patch.to_plotly_json())
    other = dict(meta, geometry="something else")
    full, *_ = _map(app, "population", "2023-12-31", "district", "quantile", [], other)
    assert full.data[0].geojson is not None


def test_frames_recolour_every_date_in_the_browser(app):
    """A date change is drawn client-side from the frames: one per date with the same
    boundaries, each as the server draws that date, without geometry."""
    figure, *_ = _map(app, "population", "2024-12-31", "district", "quantile", [])
    assert figure.layout.meta["key"] == ["population", "district", "quantile", False]
    assert figure.layout.meta["date"] == "2024-12-31"
    frames = _frames(app, figure)
    assert frames["key"] == ["population", "district", "quantile", False]
    assert frames["geometry"] == figure.layout.meta["geometry"]
    assert "geojson" not in str(frames["dates"])
    # residents 2022: 500, 1000, 1500, 2000 -> classes 1, 4, 3, 0 (as in the test above)
    assert frames["dates"]["2022-12-31"]["data"][0]["z"] == [1, 4, 3, 0]
    for date, frame in frames["dates"].items():
        drawn, *_ = _map(app, "population", date, "district", "quantile", [])
        assert frame["data"][0]["z"] == list(drawn.data[0].z)
        assert frame["layout"]["title"] == drawn.to_plotly_json()["layout"]["title"]
        assert frame["layout"]["meta"] == drawn.layout.meta
    assert sorted(frames["dates"]) == ["2022-12-31", "2023-12-31", "2024-12-31"]


def test_date_outside_the_indicator_falls_back_to_its_latest(app):
    figure, *_ = _map(app, "population", "1999-12-31", "district", "quantile", [])
    assert "31.12.2024" in figure.layout.annotations[0].text + str(figure.layout.title.text)


@pytest.mark.parametrize(
    "wanted",
    [
        None,
        {},
        {"key": ["population"], "geometry": "g"},
        {"key": ["no_such_indicator", "district", "quantile", False], "geometry": "g"},
        {"key": ["population", "district", "bogus", False], "geometry": "g"},
        {"key": ["population", "district", "quantile", False], "geometry": ["g"]},
    ],
)
def test_frames_ignore_requests_this_page_does_not_send(app, wanted):
    with app.server.test_request_context("/"), pytest.raises(dash.exceptions.PreventUpdate):
        sys.modules["pages.map"].update_frames(wanted)


# --- a phone's screen (cookie imon_narrow from assets/phone.js; dashboards/figures/common) --
def test_on_a_phone_the_map_wraps_its_texts_and_puts_the_colour_bar_above(app):
    def drawn(cookie: str | None):
        headers = {"Cookie": f"imon_narrow={cookie}"} if cookie else {}
        with app.server.test_request_context("/", headers=headers):
            update = sys.modules["pages.map"].update_map
            figure, *_ = update(
                "foreigner_share", "district", "quantile", [], None, "2022-12-31", None
            )
            with figures.printing():  # an export in the same request: the print layout
                printed, *_ = update(
                    "foreigner_share", "district", "quantile", [], None, "2022-12-31", None
                )
        return figure, printed

    desk, _ = drawn(None)
    phone, printed = drawn("1")
    title = desk.layout.title.text  # "<b>Ausländeranteil</b>": short, stays one line
    assert drawn("0")[0].layout.title.text == title == phone.layout.title.text
    caption = next(a.text for a in phone.layout.annotations if a.name == "caption")
    assert "<br>" in caption and all(len(x) <= 54 for x in caption.split("<br>"))
    bar = phone.data[0].colorbar
    assert len(bar.tickvals) == 4  # 4 districts: 4 classes of 22 px and 44 px of title
    assert (bar.x, bar.y, bar.yanchor, bar.lenmode, bar.len) == (0, 1, "bottom", "pixels", 132)
    assert phone.layout.margin.t == desk.layout.margin.t + 132 + 12
    assert desk.data[0].colorbar.y is None  # beside the map, as before
    assert printed.layout.title.text == title and printed.data[0].colorbar.y is None


def test_words_wrap_between_words():
    text = "Anteil der unter 18-Jährigen an den Einwohnern mit Migrationshintergrund"
    assert figures.wrap_words(text, 30) == (
        "Anteil der unter 18-Jährigen<br>an den Einwohnern mit<br>Migrationshintergrund"
    )
    assert (
        figures.wrap_words("Quelle: A<br>Stand: 31.12.2024", 30) == "Quelle: A<br>Stand: 31.12.2024"
    )
