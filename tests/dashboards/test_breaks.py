"""Series breaks (issue #18): a change of boundary vintage or of definition is a break —
detected per level from the areas of two vintages, marked on series rows, drawn in time
charts, and no change statement is made across it.

Known answers from hand-made frames; the Berlin tests use the real build (LOR redrawn on
1 Jan 2021: forecast areas, district regions and planning areas break, districts do not).
"""

from __future__ import annotations

import json
import sys

import pandas as pd
import pytest
from conftest import rectangle, square
from dash_tree import texts

from dashboards import labels
from dashboards.app import create_app
from dashboards.components import segregation as segregation_parts
from dashboards.data import breaks, catalogue, queries
from dashboards.data.segregation import Change
from dashboards.figures import trends as trends_figures

SPLIT = "2021-01-01"


def _vintage(shapes: dict[str, dict | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "area_id": list(shapes),
            "geojson": [None if g is None else json.dumps(g) for g in shapes.values()],
        }
    )


# --- detection ---------------------------------------------------------------------------
def test_same_ids_and_boundaries_are_no_break():
    old = _vintage({"1": square(0, 0), "2": square(1, 0)})
    new = _vintage({"1": square(0, 0), "2": square(1, 0)})
    assert not breaks.division_changed(old, new)


def test_a_split_a_new_id_or_a_moved_boundary_is_a_break():
    old = _vintage({"1": rectangle(2, 1), "2": square(0, 1)})
    split = _vintage({"1": square(0, 0), "3": square(1, 0), "2": square(0, 1)})
    assert breaks.division_changed(old, split)  # 1 split into 1 and 3: other ids
    moved = _vintage({"1": square(0, 0), "2": rectangle(1, 2)})  # same ids, other shapes
    assert breaks.division_changed(_vintage({"1": rectangle(2, 1), "2": square(0, 1)}), moved)


def test_same_ids_without_boundaries_count_as_a_break():
    old = _vintage({"1": square(0, 0)})
    assert breaks.division_changed(old, _vintage({"1": None}))


def _series(dates, definitions=None, level="forecast_area", area="0101"):
    return pd.DataFrame(
        {
            "area_id": area,
            "level": level,
            "ref_date": dates,
            "definition_id": definitions or ["d1"] * len(dates),
            "value": range(len(dates)),
        }
    )


def test_mark_boundaries_and_definitions():
    frame = _series(
        ["2020-06-30", "2020-12-31", "2021-06-30", "2021-12-31", "2022-12-31"],
        ["d1", "d1", "d1", "d1", "d2"],
    )
    marked = breaks.mark(frame, {"forecast_area": (SPLIT,)})
    assert marked["break_before"].tolist() == [None, None, "boundaries", None, "definition"]
    districts = breaks.mark(frame.assign(level="district"), {"forecast_area": (SPLIT,)})
    assert districts["break_before"].tolist() == [None, None, None, None, "definition"]


def test_chart_breaks_also_where_a_series_only_starts_after_the_break():
    frame = pd.concat(
        [
            _series(["2020-12-31", "2021-06-30"], level="city", area="BE"),
            _series(["2021-06-30"], level="planning_area", area="01100101"),
        ]
    )
    found = breaks.chart_breaks(frame, {"planning_area": (SPLIT,)})
    assert found == [breaks.Break("boundaries", "planning_area", "2020-12-31", "2021-06-30", SPLIT)]
    assert breaks.chart_breaks(frame, {"district": (SPLIT,)}) == []


def test_between_only_when_the_break_lies_inside_the_period():
    divisions = {"forecast_area": (SPLIT,)}
    assert breaks.between(divisions, "forecast_area", "2015-06-30", "2024-12-31") == "boundaries"
    assert breaks.between(divisions, "forecast_area", "2024-12-31", "2015-06-30") == "boundaries"
    assert breaks.between(divisions, "forecast_area", "2021-06-30", "2024-12-31") is None
    assert breaks.between(divisions, "district", "2015-06-30", "2024-12-31") is None
    assert breaks.between(divisions, "district", "2015-06-30", "2024-12-31", ["a", "b"]) == (
        "definition"
    )
    levels = ["district", "forecast_area", "planning_area"]
    assert breaks.comparable_levels(divisions, levels, "2015-06-30", "2024-12-31") == [
        "district",
        "planning_area",
    ]


def test_level_units_across_a_break():
    frame = _series(["2020-12-31", "2021-06-30", "2021-12-31"]).assign(n_units=[60, 58, 58])
    marked = breaks.mark(frame, {"forecast_area": (SPLIT,)})
    assert labels.level_units(marked, "Prognoseraum", "de") == (
        "Prognoseraum (n = 60, ab 30.06.2021: 58)"
    )
    assert labels.level_units(frame, "Prognoseraum", "de") == "Prognoseraum (n = 58)"


# --- change statements ---------------------------------------------------------------------
def _indicator():
    return catalogue.Indicator(
        "seg", "segregation_is", "segregation", "IS", "", "index", "Index (0–1)", 3, "Q", None,
        None, "d1",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (None, "exceeds"),
        ("boundaries", "break"),
        ("definition", "break"),
    ],
)
def test_no_change_statement_across_a_break(kind, expected):
    change = Change(0.30, 0.20, -0.10, 0.01, 100)
    item = segregation_parts.LevelChange("forecast_area", "Prognoseraum", 58, change, kind, 60)
    found, text = segregation_parts.change_text(
        item, _indicator(), "2015-06-30", "2024-12-31", "de"
    )
    assert found == expected
    if kind is None:
        assert "deutet auf eine tatsächliche Veränderung" in text
        return
    assert "tatsächliche Veränderung" not in text and "−0,100" not in text  # no change
    assert "Reihenbruch" in text
    if kind == "boundaries":
        assert "30.06.2015 (60 Gebiete)" in text and "31.12.2024 (58 Gebiete)" in text


def test_trend_draws_a_gap_and_a_line_at_the_break():
    frame = _series(["2020-06-30", "2020-12-31", "2021-06-30", "2021-12-31"])
    marked = breaks.mark(frame, {"forecast_area": (SPLIT,)}).assign(series="0101", label="Z")
    marked = marked.assign(flag=None, numerator=None, denominator=None, n_units=None)
    found = breaks.chart_breaks(marked, {"forecast_area": (SPLIT,)})
    indicator = catalogue.Indicator(
        "x", "share", "t", "X", "", "percent", "%", 1, "Q", None, None, "d1"
    )
    fig = trends_figures.trend(marked, indicator, "de", breaks=found)
    lines = [tr for tr in fig.data if tr.mode == "lines+markers"]
    assert [list(tr.x) for tr in lines] == [
        ["2020-06-30", "2020-12-31"],
        ["2021-06-30", "2021-12-31"],
    ]
    assert [s.x0 for s in fig.layout.shapes] == [SPLIT]
    assert [a.text for a in fig.layout.annotations if a.name == "series_break"] == ["Reihenbruch"]


# --- Berlin --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def berlin_wh(berlin_curated_dir):
    return queries.open_warehouse(berlin_curated_dir)


def test_berlin_breaks_in_2021_except_the_districts(berlin_wh):
    assert breaks.level_breaks(berlin_wh) == {
        "forecast_area": (SPLIT,),
        "district_region": (SPLIT,),
        "planning_area": (SPLIT,),
    }


def test_berlin_segregation_states_no_change_across_the_break(berlin_curated_dir):
    app = create_app(berlin_curated_dir)
    page = sys.modules["pages.segregation"]
    with app.server.test_request_context("/"):
        statements = page.update_change("segregation_is_foreigners", "2015-06-30", "2024-12-31")
        after = page.update_change("segregation_is_foreigners", "2021-06-30", "2024-12-31")
    kinds = [i.className.split("change-")[-1] for i in statements.children[0].children]
    assert kinds[0] in {"exceeds", "within"}  # districts: same boundaries
    assert kinds[1:] == ["break", "break", "break"]
    text = " ".join(texts(statements))
    assert text.count("tatsächliche Veränderung") <= 1 and "Prognoseraum: Zwischen" in text
    assert "break" not in {i.className.split("change-")[-1] for i in after.children[0].children}


def test_berlin_trends_open_on_named_districts_and_mark_the_break(berlin_curated_dir):
    from dash_tree import find

    app = create_app(berlin_curated_dir)
    page = sys.modules["pages.trends"]
    with app.server.test_request_context("/"):
        layout = page.layout()
        assert find(layout, "trends-level").value == "district"
        assert find(layout, "trends-areas").value == ["01", "02", "03"]
        figure, below = page.update_chart("foreigner_share", ["01100101"])
        table = page.update_table("foreigner_share", ["01100101"], None)
        district, _ = page.update_chart("foreigner_share", ["01"])
    assert [s.x0 for s in figure.layout.shapes] == [SPLIT]  # the planning area starts 2021
    assert "Reihenbruch am 01.01.2021: neue Gebietsgliederung" in " ".join(texts(below))
    assert "Reihenbruch am 01.01.2021" in " ".join(texts(table))
    assert not district.layout.shapes  # districts kept their boundaries


def test_key_figure_gives_no_change_across_a_break():
    from dashboards.data import overview

    frame = _series(["2020-12-31", "2021-06-30", "2021-12-31"], level="planning_area")
    frame = breaks.mark(
        frame.assign(flag=None, n_units=[425, 531, 531]), {"planning_area": (SPLIT,)}
    )
    across = overview.key_figure(frame, _indicator(), "planning_area", "2021-06-30")
    assert across.change is None and across.series_break == "boundaries"
    assert overview.change_text(across, "de") == (
        "Reihenbruch seit 31.12.2020: keine Veränderung angegeben"
    )
    later = overview.key_figure(frame, _indicator(), "planning_area", "2021-12-31")
    assert later.change == pytest.approx(1.0) and later.series_break is None  # 1 -> 2
