"""Stadtteilprofil (/profil): data functions with hand-computed answers on Teststadt,
the page in headless Chromium, and a smoke render on the Berlin build.

Hand computations from ``COUNTS`` in conftest.py (foreigners / residents):

=========  =======================  =======================  ======================
district   31.12.2022               31.12.2023               31.12.2024
=========  =======================  =======================  ======================
11         100/1000 = 10,000 %      110/1010 = 10,891 %      120/1020 = 11,765 %
12         300/2000 = 15,000 %      310/2020 = 15,347 %      330/2040 = 16,176 %
21         450/1500 = 30,000 %      460/1490 = 30,872 %      470/1480 = 31,757 %
22          50/500  = 10,000 %       52/505  = 10,297 %      suppressed
=========  =======================  =======================  ======================

Nord (11 + 12) on 31.12.2023: 420/3030 = 13,861 %; Süd (21 + 22): 512/1995 = 25,664 %;
the city: 932/5025 = 18,547 %.
"""

from __future__ import annotations

import re

import flask
import page_calls
import pandas as pd
import pytest
from dash_tree import find, texts
from test_dash_browser import (  # noqa: F401
    browser,
    open_page,
    select,
    serve,
    wait_text,
    wait_url,
)

from dashboards.app import create_app
from dashboards.components import profile as profile_parts
from dashboards.data import catalogue, queries
from dashboards.data import profile as profile_data
from dashboards.figures import profile as profile_figures

D2023, D2024 = "2023-12-31", "2024-12-31"


@pytest.fixture(scope="module")
def wh(synthetic_curated_dir):
    return queries.open_warehouse(synthetic_curated_dir)


def _area(wh, area_id: str, date: str) -> profile_data.ProfileArea:
    return profile_data.resolve_area(wh, profile_data.area_choices(wh, date, "de"), area_id)


def _frame(wh, area_id: str, date: str) -> pd.DataFrame:
    indicators = profile_data.profile_indicators(wh, "de")
    frame = profile_data.profile_frame(wh, _area(wh, area_id, date), indicators, date)
    return frame.set_index("indicator_id")


# --- data ---------------------------------------------------------------------------------
def test_area_choices_cover_every_level_below_the_city(wh):
    choices = profile_data.area_choices(wh, D2024, "de")
    assert choices["area_id"].tolist() == ["1", "2", "11", "12", "21", "22"]
    options = profile_data.area_options(choices)
    assert options[0] == {"label": "Nord (1) · Stadtbezirk", "value": "1"}
    assert options[4] == {"label": "Südviertel (21) · Stadtteil", "value": "21"}


def test_parent_is_the_borough_and_none_for_a_borough(wh):
    district = _area(wh, "21", D2024)
    assert (district.name, district.level, district.level_label) == (
        "Südviertel",
        "district",
        "Stadtteil",
    )
    assert (district.parent.area_id, district.parent.name) == ("2", "Süd")
    assert _area(wh, "2", D2024).parent is None  # its parent is the whole city


def test_ranks_ties_and_flagged_values():
    values = pd.DataFrame(
        {
            "indicator_id": ["x"] * 6 + ["y"],
            "area_id": ["a", "b", "c", "d", "e", "f", "a"],
            "value": [30.0, 20.0, 20.0, 10.0, None, 40.0, 5.0],
            "flag": ["unreliable", None, None, None, "suppressed", None, None],
        }
    )
    ranked = profile_data.rank_among_peers(values).set_index(["indicator_id", "area_id"])
    x = ranked.loc["x"]
    # f 40 → 1; b, c 20 → both 2 (tied); d 10 → 4; a (flag) and e (suppressed) unranked
    assert x["rank"].tolist()[1:4] == [2, 2, 4] and x.loc["f", "rank"] == 1
    assert pd.isna(x.loc["a", "rank"]) and pd.isna(x.loc["e", "rank"])
    assert x["n_ranked"].unique().tolist() == [4]
    assert x["tied"].tolist() == [False, True, True, False, False, False]
    assert ranked.loc[("y", "a"), "rank"] == 1 and ranked.loc[("y", "a"), "n_ranked"] == 1


def test_district_21_by_foreigner_share_2023(wh):
    row = _frame(wh, "21", D2023).loc["foreigner_share"]
    assert row["value"] == pytest.approx(100 * 460 / 1490)
    assert (row["rank"], row["n_ranked"], row["tied"]) == (1, 4, False)
    assert row["parent_value"] == pytest.approx(100 * 512 / 1995)
    assert row["city_value"] == pytest.approx(100 * 932 / 5025)


def test_district_11_ranks_third_and_the_suppressed_one_is_not_counted(wh):
    assert _frame(wh, "11", D2023).loc["foreigner_share", "rank"] == 3  # 30,9 15,3 10,9 10,3
    frame = _frame(wh, "11", D2024)
    assert (frame.loc["foreigner_share", "rank"], frame.loc["foreigner_share", "n_ranked"]) == (
        3,
        3,
    )
    weststadt = _frame(wh, "22", D2024).loc["foreigner_share"]
    assert weststadt["flag"] == "suppressed" and pd.isna(weststadt["rank"])
    population = _frame(wh, "21", D2024).loc["population"]  # a count: no rank at all
    assert pd.isna(population["rank"]) and population["n_ranked"] == 0


def test_empty_areas_are_neither_ranked_nor_counted():
    values = pd.DataFrame(
        {
            "indicator_id": ["x"] * 4,
            "area_id": ["a", "b", "c", "d"],
            "value": [30.0, 0.0, 10.0, 0.0],
            "flag": [None] * 4,
            "denominator": [100.0, 0.0, 50.0, 20.0],  # b has no residents of the base
        }
    )
    ranked = profile_data.rank_among_peers(values).set_index("area_id")
    assert pd.isna(ranked.loc["b", "rank"])
    assert ranked["rank"].dropna().tolist() == [1, 2, 3]  # a 30, c 10, d 0 (inhabited)
    assert ranked["n_ranked"].unique().tolist() == [3]


def test_counts_get_no_distance_and_no_rank_in_the_table(wh):
    indicators = {i.indicator_id: i for i in profile_data.profile_indicators(wh, "de")}
    area = _area(wh, "11", D2023)
    frame = profile_data.profile_frame(wh, area, list(indicators.values()), D2023)
    table = texts(
        profile_parts.profile_table("t", frame, indicators, area, "Teststadt", "c", None, "de")
    )
    row = table.index("Einwohnerinnen und Einwohner")
    # title, unit, value, numerator, denominator, parent, city, distance, rank
    assert table[row + 1 : row + 9] == [
        "Personen",
        "1.010",
        "–",
        "–",
        "3.030",
        "5.025",
        "–",
        "entfällt (Anzahl)",
    ]


def test_profile_table_texts(wh):
    indicators = {i.indicator_id: i for i in profile_data.profile_indicators(wh, "de")}
    area = _area(wh, "11", D2023)
    frame = profile_data.profile_frame(wh, area, list(indicators.values()), D2023)
    table = texts(
        profile_parts.profile_table("t", frame, indicators, area, "Teststadt", "c", None, "de")
    )
    share = table.index("Ausländeranteil")
    # title, unit, value, numerator, denominator, parent, city, distance, rank, note
    assert table[share + 1 : share + 10] == [
        "%",
        "10,9 %",
        "110",
        "1.010",
        "13,9 %",
        "18,5 %",
        "−7,7 Pp.",
        "3 von 4",
    ] + [""]
    assert "Stand" not in table  # every indicator on the chosen date


def test_suppressed_value_shows_no_counts_and_no_rank(wh):
    indicators = {i.indicator_id: i for i in profile_data.profile_indicators(wh, "de")}
    area = _area(wh, "22", D2024)
    frame = profile_data.profile_frame(wh, area, list(indicators.values()), D2024)
    table = texts(
        profile_parts.profile_table("t", frame, indicators, area, "Teststadt", "c", None, "de")
    )
    share = table.index("Ausländeranteil")
    assert table[share + 2 : share + 5] == ["geheim gehalten", "–", "–"]  # 30 / 510 hidden
    assert "nicht eingestuft (geheim gehalten)" in table[share:]
    assert any(w.startswith("geheim gehalten: zu kleine Fallzahl") for w in table)


def test_effective_date_is_the_latest_up_to_the_chosen_one(wh):
    assert profile_data.effective_date(wh, "foreigner_share", "2023-06-30") == "2022-12-31"
    assert profile_data.effective_date(wh, "foreigner_share", "2021-12-31") is None


def test_series_of_area_parent_and_city(wh):
    indicators = profile_data.profile_indicators(wh, "de")
    series = profile_data.profile_series(wh, _area(wh, "21", D2024), indicators)
    share = series[series["indicator_id"] == "foreigner_share"]
    by_role = {role: part["value"].round(3).tolist() for role, part in share.groupby("role")}
    assert by_role == {
        "area": [30.0, 30.872, 31.757],
        "parent": [25.0, 25.664, 25.126],  # 500/2000, 512/1995, 500/1990
        "city": [18.0, 18.547, 18.812],  # 900/5000, 932/5025, 950/5050
    }
    assert set(share.loc[share["role"] == "parent", "label"]) == {"Süd"}


def test_small_multiples_one_panel_per_indicator_same_time_axis(wh):
    indicators = profile_data.profile_indicators(wh, "de")
    area = _area(wh, "21", D2024)
    series = profile_data.profile_series(wh, area, indicators)
    fig = profile_figures.small_multiples(series, indicators, area, "Teststadt", "de")
    titles = [a.text for a in fig.layout.annotations if a.name != "caption"]
    assert titles[1] == "Ausländeranteil (%)" and len(titles) == len(indicators)
    axes = [name for name in fig.layout.to_plotly_json() if name.startswith("xaxis")]
    ranges = {tuple(fig.layout[name].range) for name in axes}
    assert len(ranges) == 1  # every panel has the same dates
    caption = [a.text for a in fig.layout.annotations if a.name == "caption"]
    assert caption == ["Quelle: Einwohnermelderegister Teststadt · Stand: 31.12.2024"]
    assert "Entwicklung: Südviertel" in fig.layout.title.text
    names = [t.name for t in fig.data if t.showlegend]
    assert names == ["Teststadt", "Süd", "Südviertel"]


def test_share_dots_and_table_hold_the_same_numbers(wh):
    indicators = profile_data.profile_indicators(wh, "de")
    by_id = {i.indicator_id: i for i in indicators}
    area = _area(wh, "21", D2023)
    frame = profile_data.profile_frame(wh, area, indicators, D2023)
    fig = profile_figures.share_dots(frame, by_id, area, "Teststadt", D2023, "de")
    shown = {t.name: [round(v, 3) for v in t.x] for t in fig.data}
    assert shown["Südviertel"][0] == round(100 * 460 / 1490, 3)
    assert shown["Süd"][0] == round(100 * 512 / 1995, 3)
    assert list(fig.data[0].y)[0] == "Ausländeranteil"  # percent indicators only
    assert "Stand 31.12.2023" in fig.layout.title.subtitle.text
    assert fig.layout.separators == ",."


def test_on_a_phone_names_stand_above_the_dots_and_panels_stack(wh):
    """390 px (cookie imon_narrow, dashboards/figures/common.narrow): long indicator names
    beside the dots left them no room (#19); the small multiples get one panel per row."""
    indicators = profile_data.profile_indicators(wh, "de")
    by_id = {i.indicator_id: i for i in indicators}
    area = _area(wh, "21", D2023)
    frame = profile_data.profile_frame(wh, area, indicators, D2023)
    series = profile_data.profile_series(wh, area, indicators)
    with flask.Flask(__name__).test_request_context("/", headers={"Cookie": "imon_narrow=1"}):
        dots = profile_figures.share_dots(frame, by_id, area, "Teststadt", D2023, "de")
        multiples = profile_figures.small_multiples(series, indicators, area, "Teststadt", "de")
    desk = profile_figures.share_dots(frame, by_id, area, "Teststadt", D2023, "de")
    names = [a.text for a in dots.layout.annotations if a.name != "caption"]
    assert names == list(desk.data[0].y)  # one name per row of dots, above it
    assert dots.layout.yaxis.showticklabels is False and desk.layout.yaxis.showticklabels is None
    assert all(len(line) <= 44 for name in names for line in name.split("<br>"))
    axes = [name for name in multiples.layout.to_plotly_json() if name.startswith("xaxis")]
    assert len(axes) == len({t.xaxis for t in multiples.data})  # one panel per indicator
    assert {tuple(multiples.layout[name].domain) for name in axes} == {(0.0, 1.0)}  # one column
    legend_top = (1 - multiples.layout.legend.y) * multiples.layout.height
    title_lines = multiples.layout.title.text.count("<br>") + 1
    assert legend_top >= 66 + 22 * (title_lines - 1)  # below the wrapped title


def test_difference_texts(wh):
    indicators = catalogue.indicators(wh, "de")
    assert profile_data.difference_text(-7.6563, indicators["foreigner_share"], "de") == (
        "−7,7 Pp."
    )
    assert profile_data.difference_text(12.0, indicators["population"], "de") == "+12 Personen"
    assert profile_data.difference_text(0.0, indicators["population"], "de") == "±0 Personen"


# --- page (server side) -------------------------------------------------------------------
@pytest.fixture(scope="module")
def app(synthetic_curated_dir):
    return create_app(synthetic_curated_dir)


def _page():
    return page_calls.page("profile")


def test_layout_reads_the_url_and_explains_unknown_values(app):
    layout = page_calls.run(app, _page().layout, area="12", date=D2023)
    assert find(layout, "profile-area").value == "12"
    assert find(layout, "profile-date").value == D2023
    wrong = page_calls.run(app, _page().layout, area="99", date="1999-12-31")
    assert find(wrong, "profile-area").value == "1" and find(wrong, "profile-date").value == D2024
    assert "„99“" in str(wrong) and "„1999-12-31“" in str(wrong)


def test_a_date_without_the_area_picks_another_with_a_notice(app):
    options, value, note = page_calls.run(app, _page().update_areas, D2023, "21")
    assert value == "21" and note is None
    options, value, note = page_calls.run(app, _page().update_areas, D2023, "gone")
    assert value == "1" and "„gone“" in " ".join(texts(note))


# --- browser ------------------------------------------------------------------------------
ROWS = "#profile-table-table tbody tr"


@pytest.fixture(scope="module")
def url(synthetic_curated_dir):
    with serve(synthetic_curated_dir) as base:
        yield base


def _row(page, title: str) -> list[str]:
    row = page.locator(ROWS, has_text=title).first
    return [c.strip() for c in row.locator("td").all_inner_texts()]


def test_profile_in_the_browser(browser, url):  # noqa: F811
    with open_page(browser, url) as page:
        page.goto(f"{url}/profil?area=21&date={D2023}")
        wait_text(page, ROWS, "Ausländeranteil")
        assert _row(page, "Ausländeranteil")[:2] == ["30,9 %", "460"]
        assert "1 von 4" in _row(page, "Ausländeranteil")
        page.wait_for_selector("#profile-multiples g.scatterlayer g.trace")
        page.wait_for_selector("#profile-dots g.scatterlayer g.trace")
        # keyboard: focus the area selector, open it, move to the next area (22), choose it
        page.focus("#profile-area")
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.activeElement.value === '21'")  # its option
        page.keyboard.press("ArrowDown")
        page.wait_for_function("() => document.activeElement.value === '22'")
        page.keyboard.press("Enter")
        wait_text(page, "#profile-summary", "Weststadt")
        # search by code
        page.click("#profile-area")
        page.fill(".dash-dropdown-search", "11")
        page.get_by_role("option", name="Altstadt (11) · Stadtteil", exact=True).click()
        wait_text(page, "#profile-summary", "Altstadt (Schlüssel 11)")
        wait_text(page, ROWS, "3 von 4")
        select(page, "profile-date", "31.12.2024")
        wait_text(page, ROWS, "3 von 3")
        assert _row(page, "Ausländeranteil")[:3] == ["11,8 %", "120", "1.020"]
        wait_url(page, "area=11", f"date={D2024}")  # the URL sync runs after the view
        copied = page.url
        assert page.problems == []
    with open_page(browser, url) as page:
        page.goto(copied)
        wait_text(page, ROWS, "3 von 3")
        assert page.locator("#profile-area").inner_text().strip() == "Altstadt (11) · Stadtteil"
        assert page.locator("#profile-date").inner_text().strip() == "31.12.2024"
        assert _row(page, "Ausländeranteil")[:3] == ["11,8 %", "120", "1.020"]
        body = page.locator("#profile-table").inner_text()
        assert not re.search(r"\d\.\d %", body)  # no English decimal point
        page.wait_for_selector("#profile-series-table-table tbody tr")
        panels = "#profile-multiples .g-gtitle, #profile-multiples .annotation"
        page.wait_for_function("s => document.querySelectorAll(s).length >= 2", arg=panels)
        assert page.problems == []


# --- Berlin -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def berlin(berlin_curated_dir):
    return create_app(berlin_curated_dir)


def test_berlin_profile_renders(berlin, berlin_curated_dir):
    wh = queries.open_warehouse(berlin_curated_dir)
    layout = page_calls.run(berlin, _page().layout, area="01", date=D2024)
    assert "„" not in str(layout)  # no notice
    summary, dots, multiples, _ = page_calls.run(berlin, _page().update_charts, "01", D2024)
    assert "Mitte (Schlüssel 01) · Bezirk · gehört zu Berlin" in texts(summary)
    n = len(profile_data.profile_indicators(wh, "de"))
    assert len([a for a in multiples.layout.annotations if a.name != "caption"]) == n
    assert "Amt für Statistik Berlin-Brandenburg" in multiples.layout.annotations[-1].text
    table = texts(page_calls.run(berlin, _page().update_table, "01", D2024, None))
    share = table.index("Ausländeranteil an allen Einwohnern")
    assert table[share + 2] == "37,3 %" and "1 von 12" in table[share:]  # Mitte: highest
    planning = texts(page_calls.run(berlin, _page().update_table, "01100101", D2024, None))
    assert any(re.fullmatch(r"\d+ von 5\d\d", w) for w in planning)  # among 542 areas
    assert "Planungsraum 01100101 (Schlüssel 01100101)" in " ".join(
        texts(page_calls.run(berlin, _page().update_charts, "01100101", D2024)[0])
    )
