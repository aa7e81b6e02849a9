"""Vergleich (/vergleich): change between two dates with hand-computed answers on
Teststadt, boundary changes on a redrawn copy of it, the page in headless Chromium, and a
smoke render on the Berlin build.

Foreigner share (foreigners / residents, COUNTS in conftest.py) and its change in
percentage points:

=========  ==========  ==========  ==========  ================  ================
district   2022        2023        2024        2022 → 2024       2023 → 2024
=========  ==========  ==========  ==========  ================  ================
11         10,000 %    10,891 %    11,765 %    +1,765 (+1,8)     +0,874 (+0,9)
12         15,000 %    15,347 %    16,176 %    +1,176 (+1,2)     +0,830 (+0,8)
21         30,000 %    30,872 %    31,757 %    +1,757 (+1,8)     +0,885 (+0,9)
22         10,000 %    10,297 %    suppressed  no value          no value
city       18,000 %    18,547 %    18,812 %    +0,812 (+0,8)     +0,265 (+0,3)
=========  ==========  ==========  ==========  ================  ================
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
from pathlib import Path

import duckdb
import page_calls
import pytest
from dash_tree import find, texts
from plotly.utils import PlotlyJSONEncoder
from test_dash_browser import (  # noqa: F401
    browser,
    open_page,
    select,
    serve,
    wait_count,
    wait_text,
    wait_url,
)

from dashboards.app import create_app
from dashboards.components import compare as compare_parts
from dashboards.data import catalogue, queries
from dashboards.data import compare as compare_data
from dashboards.figures import compare as compare_figures
from etl.warehouse import PUBLICATION

D2022, D2023, D2024 = "2022-12-31", "2023-12-31", "2024-12-31"


def rectangle(cols: int, rows: int, col: int = 0, row: int = 0, size: float = 0.01) -> dict:
    """A clockwise rectangle of grid cells, on Teststadt's grid (as in conftest.py)."""
    x0, y0 = 7.58 + col * size, 50.34 + row * size
    x1, y1 = x0 + cols * size, y0 + rows * size
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x0, y1], [x1, y1], [x1, y0], [x0, y0]]]}


def square(col: int, row: int) -> dict:
    return rectangle(1, 1, col, row)


@pytest.fixture(scope="module")
def wh(synthetic_curated_dir):
    return queries.open_warehouse(synthetic_curated_dir)


def _change(wh, indicator: str, level: str, a: str, b: str):
    values = [queries.area_values(wh, (indicator,), d, level) for d in (a, b)]
    versions = [queries.area_versions(wh, level, d) for d in (a, b)]
    return compare_data.change_frame(*values, *versions).set_index("area_id")


# --- data ---------------------------------------------------------------------------------
def test_change_in_percentage_points_per_district(wh):
    frame = _change(wh, "foreigner_share", "district", D2022, D2024)
    assert frame.loc["11", "change"] == pytest.approx(100 * 120 / 1020 - 10.0)
    assert frame.loc["12", "change"] == pytest.approx(100 * 330 / 2040 - 15.0)
    assert frame.loc["21", "change"] == pytest.approx(100 * 470 / 1480 - 30.0)
    assert frame["status"].to_dict() == {"11": "ok", "12": "ok", "21": "ok", "22": "no_value"}
    assert frame.loc["22", "flag"] == "suppressed" and frame["change"].isna()["22"]
    earlier = _change(wh, "foreigner_share", "district", D2022, D2023)
    assert earlier.loc["22", "change"] == pytest.approx(100 * 52 / 505 - 10.0)  # +0,297


def test_change_of_counts_is_in_persons(wh):
    frame = _change(wh, "population", "district", D2022, D2024)
    assert frame["change"].to_dict() == {"11": 20.0, "12": 40.0, "21": -20.0, "22": 10.0}
    population = catalogue.indicators(wh, "de")["population"]
    assert compare_data.change_unit(population, "de") == "Personen"
    share = catalogue.indicators(wh, "de")["foreigner_share"]
    assert compare_data.change_unit(share, "de") == "Prozentpunkte"


def test_boundaries_differ_with_tolerance():
    a = json.dumps(square(0, 0))
    nudged = square(0, 0)
    nudged["coordinates"][0][2][0] += 0.00001  # a corner moved by 0,1 % of the side
    other = json.dumps(rectangle(2, 1))
    assert not compare_data.boundaries_differ(a, a)
    assert not compare_data.boundaries_differ(a, json.dumps(nudged))
    assert compare_data.boundaries_differ(a, other)
    assert compare_data.boundaries_differ(a, None)


@pytest.fixture(scope="module")
def redrawn_dir(synthetic_curated_dir, tmp_path_factory) -> Path:
    """Teststadt with a second vintage from 2024: district 11 nudged (same boundary),
    12 unchanged, 22 redrawn over both southern cells, 21 dissolved, 23 new."""
    curated = tmp_path_factory.mktemp("redrawn") / "curated"
    shutil.copytree(synthetic_curated_dir, curated, symlinks=True)
    nudged = square(0, 1)
    nudged["coordinates"][0][2][0] += 0.00001
    areas = {
        "00": ("city", "Teststadt", None, rectangle(2, 2)),
        "1": ("borough", "Nord", "00", rectangle(2, 1, row=1)),
        "2": ("borough", "Süd", "00", rectangle(2, 1)),
        "11": ("district", "Altstadt", "1", nudged),
        "12": ("district", "Nordstadt", "1", square(1, 1)),
        "22": ("district", "Weststadt", "2", rectangle(2, 1, row=0, col=0)),
        "23": ("district", "Neustadt", "2", square(5, 5)),
    }
    path = curated / "current" / PUBLICATION
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE areas SET valid_to = DATE '2023-12-31'")
        for area_id, (level, name, parent, geometry) in areas.items():
            con.execute(
                "INSERT INTO areas VALUES (?, ?, ?, ?, '2024', DATE '2024-01-01', NULL)",
                [area_id, level, name, parent],
            )
            con.execute(
                "INSERT INTO area_geometry VALUES (?, ?, '2024', ?)",
                [area_id, level, json.dumps(geometry)],
            )
    return curated


def test_redrawn_areas_are_not_compared(redrawn_dir):
    wh = queries.open_warehouse(redrawn_dir)
    frame = _change(wh, "foreigner_share", "district", D2023, D2024)
    assert frame["status"].to_dict() == {
        "11": "ok",  # nudged within the tolerance
        "12": "ok",  # the same geometry in both vintages
        "22": "boundary",  # redrawn (and suppressed: the boundary comes first)
        "23": "boundary",  # new
    }
    assert frame.loc["11", "change"] == pytest.approx(100 * 120 / 1020 - 100 * 110 / 1010)
    assert frame.loc[["22", "23"], "change"].isna().all()
    versions = [queries.area_versions(wh, "district", d) for d in (D2023, D2024)]
    assert compare_data.dissolved(*versions) == 1  # 21
    legend = " ".join(texts(compare_parts.legend(frame.reset_index(), "de")))
    assert "Grenzen geändert (2)" in legend and "anders abgegrenzt" in legend


def test_change_map_and_slope_chart(wh):
    indicator = catalogue.indicators(wh, "de")["foreigner_share"]
    frame = _change(wh, "foreigner_share", "district", D2022, D2024).reset_index()
    shapes = queries.geometries(wh, "district", D2024)
    fig = compare_figures.change_map(frame, shapes, indicator, "Stadtteil", (D2022, D2024), "de")
    values = fig.data[0]
    assert list(values.locations) == ["11", "12", "21"]
    assert values.zmid == 0 and values.zmin == -values.zmax
    assert values.zmax == pytest.approx(100 * 120 / 1020 - 10.0)  # the largest |change|
    assert values.colorbar.title.text == "Prozentpunkte"
    assert values.customdata[0][3] == "Veränderung: +1,8 Pp."
    assert fig.data[1].locations == ("22",) and fig.data[2].type == "scattergeo"
    assert fig.data[2].marker.symbol == "x" and fig.data[2].name == "geheim gehalten"
    assert fig.layout.title.text == "<b>Veränderung: Ausländeranteil</b>"
    assert "31.12.2022 bis 31.12.2024 · Einheit: Prozentpunkte" in fig.layout.title.subtitle.text
    assert "Stand: 31.12.2022 / 31.12.2024" in fig.layout.annotations[0].text
    city = _change(wh, "foreigner_share", "city", D2022, D2024).reset_index()
    slope = compare_figures.slope_chart(frame, city, indicator, "Stadtteil", (D2022, D2024), "de")
    assert [t.name for t in slope.data] == ["Zunahme", "Teststadt"]
    assert [round(y, 3) for y in slope.data[1].y[:2]] == [18.0, round(100 * 950 / 5050, 3)]


def test_spread_keeps_labels_apart_and_close_to_their_lines():
    # by hand: z_i = t_i − i·gap; violators pooled at the mean of their z
    assert compare_figures.spread([0.0, 0.0, 0.0], 1.0) == pytest.approx([-1.0, 0.0, 1.0])
    # z = (0, −0.5, 3): the first two pooled at −0.25 → −0.25, 0.75; the third stays
    assert compare_figures.spread([0.0, 0.5, 5.0], 1.0) == pytest.approx([-0.25, 0.75, 5.0])
    assert compare_figures.spread([0.0, 2.0, 4.0], 1.0) == [0.0, 2.0, 4.0]
    assert compare_figures.spread([], 1.0) == []


def test_slope_names_do_not_overlap(wh):
    indicator = catalogue.indicators(wh, "de")["foreigner_share"]
    frame = _change(wh, "foreigner_share", "district", D2022, D2024).reset_index()
    city = _change(wh, "foreigner_share", "city", D2022, D2024).reset_index()
    plot_px = 90  # so low that the names of Altstadt, Nordstadt, Teststadt and
    slope = compare_figures.slope_chart(  # Südviertel (11,8 / 16,2 / 18,8 / 31,8 %) collide
        frame, city, indicator, "Stadtteil", (D2022, D2024), "de", plot_px
    )
    names = [a for a in slope.layout.annotations if a.name == compare_figures.SLOPE_LABEL_NAME]
    assert [a.text for a in names] == ["Altstadt", "Nordstadt", "<b>Teststadt</b>", "Südviertel"]
    low, high = slope.layout.yaxis.range
    px = [a.y * plot_px / (high - low) for a in names]
    assert min(b - a for a, b in itertools.pairwise(px)) >= compare_figures.SLOPE_LABEL_PX - 1e-9
    assert low <= names[0].y and names[-1].y <= high  # the axis was widened to hold them
    assert all(a.x == 1 and a.xref in (None, "x") and a.yref in (None, "y") for a in names)


def test_change_table_with_city_footer(wh):
    indicator = catalogue.indicators(wh, "de")["foreigner_share"]
    frame = _change(wh, "foreigner_share", "district", D2022, D2024).reset_index()
    city = _change(wh, "foreigner_share", "city", D2022, D2024).reset_index()
    words = texts(
        compare_parts.change_table("t", frame, city, indicator, (D2022, D2024), "c", None, "de")
    )
    rows = {
        name: words[words.index(name) + 1 : words.index(name) + 5]
        for name in ("Altstadt", "Nordstadt", "Südviertel", "Weststadt", "Teststadt")
    }
    assert rows["Altstadt"] == ["10,0 %", "11,8 %", "+1,8 Pp.", ""]
    assert rows["Nordstadt"] == ["15,0 %", "16,2 %", "+1,2 Pp.", ""]
    assert rows["Südviertel"] == ["30,0 %", "31,8 %", "+1,8 Pp.", ""]
    assert rows["Weststadt"] == ["10,0 %", "geheim gehalten", "–", "geheim gehalten"]
    assert rows["Teststadt"] == ["18,0 %", "18,8 %", "+0,8 Pp.", ""]
    assert "Veränderung (Prozentpunkte)" in words


# --- page (server side) -------------------------------------------------------------------
@pytest.fixture(scope="module")
def app(synthetic_curated_dir):
    return create_app(synthetic_curated_dir)


def _page():
    return page_calls.page("compare")


def test_change_table_links_area_names_to_their_page(app):
    """#19: each area's name opens its area page on the later date; the city row has none."""
    table = page_calls.run(
        app, _page().update_change_table, "foreigner_share", "district", D2022, D2024, None
    )
    markup = json.dumps(table, cls=PlotlyJSONEncoder, ensure_ascii=False)
    links = dict(re.findall(r'<a href=\\"([^"\\]+)\\">([^<]+)</a>', markup))
    expected = {
        f"/gebiet?area={a}&amp;date={D2024}": n
        for a, n in (("11", "Altstadt"), ("12", "Nordstadt"), ("21", "Südviertel"))
    }
    assert expected.items() <= links.items()
    assert "Teststadt" not in links.values()


def test_layout_defaults_and_url_state(app):
    layout = page_calls.run(app, _page().layout)
    assert find(layout, "compare-indicator").value == "foreigner_share"
    assert find(layout, "compare-date-a").value == D2022
    assert find(layout, "compare-date-b").value == D2024
    assert find(layout, "compare-level").value == "district"
    assert find(layout, "compare-areas").value == ["11", "12", "21"]
    options = [o["value"] for o in find(layout, "compare-indicator").options]
    assert "segregation_is_migration_background" not in options
    chosen = page_calls.run(
        app,
        _page().layout,
        indicator="population",
        level="borough",
        date_a=D2023,
        date_b=D2024,
        areas="2,nope",
    )
    assert find(chosen, "compare-level").value == "borough"
    assert find(chosen, "compare-areas").value == ["2"]
    assert "„nope“" in str(chosen)


def test_dates_in_the_wrong_order_are_swapped_with_a_hint(app):
    _, style, note, legend, slope, _ = page_calls.run(
        app, _page().update_change, "foreigner_share", "district", D2024, D2022
    )
    assert style is None and "vom früheren zum späteren" in " ".join(texts(note))
    assert slope.data[0].x[:2] == ("31.12.2022", "31.12.2024")
    assert "geheim gehalten (1)" in " ".join(texts(legend))


def test_bars_and_their_table(app):
    figure, note = page_calls.run(
        app, _page().update_bars, "foreigner_share", ["11", "22"], D2023, D2024
    )
    assert [t.name for t in figure.data] == ["Teststadt", "Altstadt", "Weststadt"]
    assert list(figure.data[1].x) == ["31.12.2023", "31.12.2024"]
    assert figure.data[2].text == ("", "×")  # suppressed on the last date
    assert figure.data[2].customdata[1][2] == "geheim gehalten"
    assert note is None
    table = texts(
        page_calls.run(
            app, _page().update_bars_table, "foreigner_share", ["11", "22"], D2023, D2024, None
        )
    )
    assert table[table.index("Altstadt") + 1 : table.index("Altstadt") + 3] == [
        "31.12.2023",
        "10,9 %",
    ]
    too_many = ["1", "2", "11", "12", "21", "22", "1"]
    _, note = page_calls.run(app, _page().update_bars, "foreigner_share", too_many, D2022, D2024)
    assert "höchstens 6" in " ".join(texts(note))


# --- browser ------------------------------------------------------------------------------
ROWS = "#compare-change-table-table tbody tr"
PATHS = "#compare-map path.choroplethlocation"


@pytest.fixture(scope="module")
def url(synthetic_curated_dir):
    with serve(synthetic_curated_dir) as base:
        yield base


def _cells(page, name: str) -> list[str]:
    row = page.locator(ROWS, has_text=name).first
    return [c.strip() for c in row.locator("td").all_inner_texts()]


def test_compare_in_the_browser(browser, url):  # noqa: F811
    start = f"{url}/vergleich?indicator=foreigner_share&level=district"
    with open_page(browser, url) as page:
        page.goto(f"{start}&date_a={D2022}&date_b={D2024}&areas=11,21")
        wait_count(page, PATHS, 4)
        wait_count(page, ROWS, 4)
        assert _cells(page, "Altstadt") == ["10,0 %", "11,8 %", "+1,8 Pp.", ""]
        assert _cells(page, "Weststadt")[1:] == ["geheim gehalten", "–", "geheim gehalten"]
        foot = page.locator("#compare-change-table-table tfoot td").all_inner_texts()
        assert [c.strip() for c in foot][:3] == ["18,0 %", "18,8 %", "+0,8 Pp."]
        wait_text(page, "#compare-map-legend", "geheim gehalten (1)")
        wait_text(page, "#compare-map .cbaxis text", "1,5")  # German decimal comma
        wait_count(page, "#compare-bars g.legend g.traces", 3)
        select(page, "compare-date-a", "31.12.2023")
        wait_text(page, ROWS, "+0,9 Pp.")
        assert _cells(page, "Nordstadt")[2] == "+0,8 Pp."
        wait_url(page, f"date_a={D2023}")
        select(page, "compare-level", "Stadtbezirk")
        wait_count(page, ROWS, 2)
        wait_count(page, PATHS, 2)
        wait_count(page, "#compare-bars g.legend g.traces", 3)  # city, Nord, Süd
        copied = page.url
        assert "level=borough" in copied and "areas=1,2" in copied
        assert page.problems == []
    with open_page(browser, url) as page:
        page.goto(copied)
        wait_count(page, ROWS, 2)
        assert page.locator("#compare-date-a").inner_text().strip() == "31.12.2023"
        assert page.locator("#compare-level").inner_text().strip() == "Stadtbezirk"
        nord = _cells(page, "Nord")  # 420/3030 = 13,861 → 450/3060 = 14,706: +0,845
        assert nord == ["13,9 %", "14,7 %", "+0,8 Pp.", ""]
        text = page.locator("#compare-change-table").inner_text()
        assert not re.search(r"\d\.\d %", text)
        wait_count(page, "#compare-bars-table-table tbody tr", 6)
        assert page.problems == []


# --- Berlin -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def berlin(berlin_curated_dir):
    return create_app(berlin_curated_dir)


def test_berlin_compare_opens_on_districts_first_year_vs_latest(berlin):
    """Forecast areas were redrawn in 2021: the default is the finest level with the same
    boundaries on both dates, so the change map is filled (12 districts, none grey)."""
    layout = page_calls.run(berlin, _page().layout)
    assert find(layout, "compare-level").value == "district"
    assert (find(layout, "compare-date-a").value, find(layout, "compare-date-b").value) == (
        "2015-06-30",
        D2024,
    )
    assert find(layout, "compare-areas").value == ["01", "02", "03"]  # named districts
    figure, _, note, legend, _, _ = page_calls.run(
        berlin, _page().update_change, "foreigner_share", "district", "2015-06-30", D2024
    )
    assert len(figure.data[0].locations) == 12 and legend is None and note is None


def test_berlin_compare_renders(berlin):
    page = _page()
    layout = page_calls.run(berlin, page.layout, indicator="foreigner_share", level="district")
    assert "„" not in str(layout)
    figure, style, _, legend, slope, _ = page_calls.run(
        berlin, page.update_change, "foreigner_share", "district", "2015-12-31", D2024
    )
    assert style is None and len(figure.data[0].locations) == 12 and legend is None
    assert "Amt für Statistik Berlin-Brandenburg" in figure.layout.annotations[0].text
    assert sum(len(t.y) // 3 for t in slope.data[:-1]) == 12  # one segment per district
    # forecast areas were redrawn in 2021: only an id kept with (nearly) the same boundary
    figure, _, note, legend, _, _ = page_calls.run(
        berlin, page.update_change, "foreigner_share", "forecast_area", "2015-12-31", D2024
    )
    assert len(figure.data[0].locations) <= 2
    assert "Grenzen geändert" in " ".join(texts(legend))
    assert "bestehen am späteren Stichtag nicht mehr" in " ".join(texts(note))
    assert "Reihenbruch: Die Gebietsgliederung der Ebene Prognoseraum" in " ".join(texts(note))
    assert "Mit gleichen Grenzen an beiden Stichtagen: Bezirk." in " ".join(texts(note))
    # planning areas have no boundaries after 2020: no map, the table as always
    figure, style, note, _, _, _ = page_calls.run(
        berlin, page.update_change, "foreigner_share", "planning_area", "2021-12-31", D2024
    )
    assert style == {"display": "none"} and "keine Gebietsgrenzen" in " ".join(texts(note))
    table = texts(
        page_calls.run(
            berlin,
            page.update_change_table,
            "foreigner_share",
            "planning_area",
            "2021-12-31",
            D2024,
            None,
        )
    )
    assert "Zeilen 1–100 von 542" in table
    bars, _ = page_calls.run(
        berlin, page.update_bars, "foreigner_share", ["01", "02"], "2015-12-31", D2024
    )
    assert [t.name for t in bars.data] == ["Berlin", "Mitte", "Friedrichshain-Kreuzberg"]
    assert len(bars.data[0].x) == 19  # half-yearly from 31.12.2015 to 31.12.2024
