"""The segregation page: index per level with the random-allocation benchmark, change
statements, location-quotient map, segregation curve, tables and metadata.

Known answers come from the synthetic warehouse (conftest.py): foreigners ``for`` among
residents ``pop`` of districts 11, 12, 21, 22 and the hand-made ``RANDOM_DRAWS``. Browser
tests run the page in headless Chromium; the Berlin tests use the real build.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import duckdb
import numpy as np
import openpyxl
import pytest
from conftest import RANDOM_DRAWS
from dash_tree import find, texts
from test_dash_browser import (
    BROWSER_ARGS,
    CHROMIUM,
    finish,
    open_page,
    screenshot,
    select,
    serve,
    wait_count,
    wait_text,
    wait_url,
)
from test_export import png_chunks, read_csv

from dashboards.app import create_app
from dashboards.components import common as components
from dashboards.data import catalogue, queries
from dashboards.data import segregation as segregation_data
from dashboards.export import downloads
from dashboards.export import render as export
from dashboards.export import segregation as segregation_export
from dashboards.figures import segregation as segregation_figures
from etl.warehouse import PUBLICATION

INDEX = "segregation_is_foreigners_min300"
BERLIN_INDEX = "segregation_is_foreigners"
LQ = "location_quotient_foreigners"
DATES = ("2022-12-31", "2023-12-31", "2024-12-31")


def _page():
    return sys.modules["pages.segregation"]


def _run(app, func, *args, **kwargs):
    """Call a layout or callback inside a request of ``app`` (as Dash does)."""
    with app.server.test_request_context("/"):
        return func(*args, **kwargs)


@pytest.fixture(scope="module")
def app(synthetic_curated_dir):
    return create_app(synthetic_curated_dir)


@pytest.fixture(scope="module")
def wh(synthetic_curated_dir):
    return queries.open_warehouse(synthetic_curated_dir)


@pytest.fixture(scope="module", autouse=True)
def _one_chromium():
    """The exports of this module share one Chromium (closed at the end)."""
    yield
    export.close_renderer()


def _units(wh, level="district", date="2024-12-31"):
    return queries.area_values(wh, (LQ,), date, level)


# --- the segregation curve, by hand ------------------------------------------------------
def test_curve_points_of_the_districts_by_hand(wh):
    # 31.12.2024, foreigners x / residents t: 11: 120/1020, 12: 330/2040, 21: 470/1480;
    # 22 is suppressed (30/510 in the warehouse) and left out. Ordered by p = x/t:
    # 11 (11,8 %), 12 (16,2 %), 21 (31,8 %). X = 920, rest Y = 900 + 1710 + 1010 = 3620.
    units = _units(wh)
    points = segregation_figures.curve_points(units)
    assert points["area_id"].tolist() == [None, "11", "12", "21"]
    assert points["rest_cum"].tolist() == pytest.approx([0, 900 / 3620, 2610 / 3620, 1])
    assert points["group_cum"].tolist() == pytest.approx([0, 120 / 920, 450 / 920, 1])
    assert points["share"].iloc[1:].tolist() == pytest.approx(
        [100 * 120 / 1020, 100 * 330 / 2040, 100 * 470 / 1480]
    )
    # Gini = Σ_i Σ_j |x_i t_j − x_j t_i| / (2 X (T − X)) over ordered pairs:
    # 2 · (|120·2040 − 330·1020| + |120·1480 − 470·1020| + |330·1480 − 470·2040|)
    # = 2 · (91.800 + 301.800 + 470.400) = 1.728.000; 2 · 920 · 3620 = 6.660.800
    assert segregation_figures.curve_gini(points) == pytest.approx(1_728_000 / 6_660_800)
    # IS = ½ Σ |x_i/X − y_i/Y| = largest gap, reached after unit 12: 2610/3620 − 450/920
    assert segregation_figures.curve_dissimilarity(points) == pytest.approx(2610 / 3620 - 450 / 920)
    assert segregation_figures.left_out(units, points) == 1


def test_curve_of_the_boroughs_gives_the_published_index(wh):
    points = segregation_figures.curve_points(_units(wh, "borough"))
    published = queries.series(wh, INDEX, ("00",))
    value = published.query("level == 'borough' and ref_date == '2024-12-31'")["value"].item()
    assert segregation_figures.curve_dissimilarity(points) == pytest.approx(value)
    assert segregation_figures.curve_gini(points) == pytest.approx(value)  # two units: G = IS


def test_curve_never_uses_a_suppressed_count(wh):
    units = _units(wh).copy()
    units.loc[units["area_id"] == "21", "flag"] = "suppressed"  # count still present
    points = segregation_figures.curve_points(units)
    assert points["area_id"].tolist() == [None, "11", "12"]
    assert segregation_figures.curve_points(units.iloc[0:0]).empty


# --- server side: layout and callbacks ---------------------------------------------------
def test_layout_defaults_follow_the_index_and_url(app):
    layout = _run(app, _page().layout, indicator=INDEX)
    values = {k: find(layout, f"seg-{k}").value for k in ("start", "end", "group", "level")}
    assert values == {"start": DATES[0], "end": DATES[2], "group": LQ, "level": "district"}
    options = [o["value"] for o in find(layout, "seg-indicator").options]
    assert options == ["segregation_is_migration_background", INDEX]
    assert LQ not in options and "foreigner_share" not in options
    shared = _run(
        app, _page().layout, indicator=INDEX, start=DATES[1], level="borough", date=DATES[0]
    )
    assert find(shared, "seg-start").value == DATES[1]
    assert find(shared, "seg-level").value == "borough"
    assert find(shared, "seg-date").value == DATES[0]
    wrong = _run(app, _page().layout, indicator="nonsense", end="1999-12-31")
    assert find(wrong, "seg-indicator").value == "segregation_is_migration_background"
    assert "„nonsense“" in str(wrong) and "„1999-12-31“" in str(wrong)


def test_choosing_an_index_selects_its_group(app):
    assert _run(app, _page().follow_group, INDEX, None) == LQ
    # no location quotient with the group count of this index: the choice stays
    assert _run(app, _page().follow_group, "segregation_is_migration_background", LQ) == LQ


def test_levels_side_by_side_with_the_random_benchmark(app):
    figure, note = _run(app, _page().update_levels, INDEX)
    titles = [a.text for a in figure.layout.annotations]
    assert titles[:2] == ["Stadtbezirk (n = 2)", "Stadtteil (n = 4)"]
    assert titles[2] == "Quelle: Einwohnermelderegister Teststadt · Stand: 31.12.2024"
    assert figure.layout.title.text == "<b>Segregationsindex Ausländer (Gebiete ab 300 Einw.)</b>"
    expected = [tr for tr in figure.data if tr.name == "Erwartung bei zufälliger Verteilung"]
    district = expected[1]
    assert district.xaxis == "x2" and list(district.y) == pytest.approx([0.031] * 3)
    assert district.customdata[2][0] == (
        "Zufällige Verteilung: 0,031 (95 %: 0,029–0,033; 4 Simulationen)"
    )
    band = [tr for tr in figure.data if tr.fill == "tonexty"][1]
    assert list(band.y) == pytest.approx([0.02815, 0.030075, 0.029075])
    observed = [tr for tr in figure.data if tr.mode == "lines+markers"]
    assert list(observed[1].y) == pytest.approx(
        [0.24390243902439027, 0.24191307466217313, 0.248395378690629]
    )
    assert list(observed[1].customdata[2]) == ["Stadtteil", "31.12.2024", "0,248", "4 Gebiete"]
    assert figure.layout.yaxis.matches is None and figure.layout.yaxis2.matches == "y"
    assert "4 Simulationen" in " ".join(texts(note))


def test_change_statement_exceeds_or_lies_within_random_allocation(app):
    statements = _run(app, _page().update_change, INDEX, DATES[0], DATES[2])
    borough, district = statements.children[0].children
    # district: 0,2439 -> 0,2484 (+0,0045); |changes| of the draws 0,001 0,001 0,002 0,002
    assert district.className == "change change-exceeds"
    assert district.children == (
        "Stadtteil (4 Gebiete): Die Veränderung vom 31.12.2022 bis zum 31.12.2024 (+0,004) "
        "übersteigt, was zufällige Verteilung erzeugt (±0,002); sie deutet auf eine "
        "tatsächliche Veränderung der Segregation hin."
    )
    # borough: 0,1897 -> 0,1629 (−0,0268); 95 % quantile of |changes| 0,044
    assert borough.className == "change change-within"
    assert "(−0,027) liegt innerhalb dessen, was zufällige Verteilung erzeugt (±0,044)" in (
        borough.children
    )
    same = _run(app, _page().update_change, INDEX, DATES[1], DATES[1])
    assert texts(same) == ["Bitte zwei verschiedene Stichtage wählen."]


def test_index_without_simulations_says_so(app):
    figure, note = _run(app, _page().update_levels, "segregation_is_migration_background")
    assert "Kein Zufallsvergleich verfügbar" in " ".join(texts(note))
    assert all(tr.fill is None for tr in figure.data)
    statements = _run(
        app, _page().update_change, "segregation_is_migration_background", DATES[0], DATES[2]
    )
    items = statements.children[0].children
    assert [i.className for i in items] == ["change change-no_benchmark"] * 2
    assert items[1].children.endswith("+0,03. Kein Zufallsvergleich verfügbar.")
    assert len(statements.children) == 1  # no yardstick explained without a benchmark


def test_index_table_shows_units_and_benchmark(app):
    table = texts(_run(app, _page().update_index_table, INDEX, None))
    row = table.index("Stadtteil", table.index("Stadtbezirk"))
    district_2022 = table[row : row + 8]
    assert district_2022 == [
        "Stadtteil",
        "31.12.2022",
        "4",
        "0,244",
        "0,031",
        "0,028–0,035",
        "4",
        "",
    ]
    assert table[-8:] == ["Stadtteil", "31.12.2024", "4", "0,248", "0,031", "0,029–0,033", "4", ""]


def test_location_quotient_map_diverges_at_one_and_hides_suppressed(app):
    figure, style, note = _run(app, _page().update_map, LQ, "district", DATES[2])
    shown, grey = figure.data
    assert style is None and list(shown.locations) == ["11", "12", "21"]
    # LQ = (120/1020)/(950/5050), (330/2040)/(950/5050), (470/1480)/(950/5050)
    assert [c[1].split()[0] for c in shown.customdata] == ["0,63", "0,86", "1,69"]
    # quantile classes; below 1 orange, above 1 purple (PuOr centred at 1)
    colour = dict(shown.colorscale[::2])
    low, high = (colour[shown.z[0] / 5], colour[shown.z[2] / 5])
    red, _, blue = (int(v) for v in low.removeprefix("rgb(").rstrip(")").split(","))
    assert red > blue
    red, _, blue = (int(v) for v in high.removeprefix("rgb(").rstrip(")").split(","))
    assert blue > red
    assert list(grey.locations) == ["22"] and "geheim gehalten (1)" in " ".join(texts(note))
    table = texts(_run(app, _page().update_lq_table, LQ, "district", DATES[2], None))
    weststadt = table.index("Weststadt")
    assert table[weststadt + 1 : weststadt + 5] == ["–", "–", "–", "geheim gehalten"]
    assert table[table.index("Südviertel") + 1] == "1,69"


def test_curve_figure_and_table(app):
    figure = _run(app, _page().update_curve, LQ, "district", DATES[2])
    caption = figure.layout.annotations[0].text.replace("<br>", " ")
    assert caption.startswith("Gini = 0,259 · IS (größter Abstand zur Diagonale) = 0,232")
    assert "3 Gebiete" in caption and "nicht enthalten: 1" in caption
    assert "Quelle: Einwohnermelderegister Teststadt" in caption and "31.12.2024" in caption
    assert figure.layout.title.text == "<b>Segregationskurve</b>"
    assert figure.layout.title.subtitle.text == (
        "Gruppe: Lokalisationsquotient Ausländer · Stadtteil · Stichtag 31.12.2024"
    )
    assert list(figure.data[1].x) == pytest.approx([0, 90000 / 3620, 261000 / 3620, 100])
    assert "Anteil der Gruppe im Gebiet: 11,8 %" in figure.data[1].customdata[1][1]
    table = texts(_run(app, _page().update_curve_table, LQ, "district", DATES[2], None))
    body = table[table.index("1") :]
    assert body == [
        "1",
        "Altstadt",
        "11,8 %",
        "24,9 %",
        "13,0 %",
        "2",
        "Nordstadt",
        "16,2 %",
        "72,1 %",
        "48,9 %",
        "3",
        "Südviertel",
        "31,8 %",
        "100,0 %",
        "100,0 %",
    ]
    assert "Weststadt" not in table


def test_metadata_box(app):
    box = " | ".join(texts(_run(app, _page().update_metadata, INDEX, LQ, DATES[2])))
    assert "Definition Segregationsindex Ausländer (Gebiete ab 300 Einw.)." in box
    assert "Lokalisationsquotient Ausländer" in box
    assert "Stadtbezirk (n = 2); Stadtteil (n = 4)" in box
    assert "Quelle: Einwohnermelderegister Teststadt · Stand: 31.12.2024" in box
    assert "Kleine Gebiete erhöhen die Indexwerte" in box and "derselben Gebietsebene" in box


def test_warehouse_without_the_random_allocation_table(tmp_path, warehouse_builder):
    """A snapshot built before the table existed: observed values only, no error."""
    curated = tmp_path / "curated"
    (curated / "snapshots" / "s1").mkdir(parents=True)
    path = curated / "snapshots" / "s1" / PUBLICATION
    warehouse_builder(path)
    with duckdb.connect(str(path)) as con:
        con.execute("DROP TABLE random_allocation")
    (curated / "current").symlink_to(Path("snapshots") / "s1", target_is_directory=True)
    wh = queries.open_warehouse(curated)
    assert segregation_data.random_baseline(wh, INDEX, "00").empty
    change = segregation_data.index_change(wh, INDEX, "district", "00", DATES[0], DATES[2])
    assert change.change == pytest.approx(0.248395378690629 - 0.24390243902439027)
    assert change.exceeds is None
    old = create_app(curated)
    _, note = _run(old, _page().update_levels, INDEX)
    assert "Kein Zufallsvergleich verfügbar" in " ".join(texts(note))


def test_random_draws_fixture_matches_the_table(wh):
    baseline = segregation_data.random_baseline(wh, INDEX, "00")
    district = baseline[baseline["level"] == "district"]
    means = [sum(d) / len(d) for d in RANDOM_DRAWS["district"]]
    assert district["expected"].tolist() == pytest.approx(means)
    assert district["draws"].tolist() == [4, 4, 4]


# --- exports -----------------------------------------------------------------------------
CHARTS = ("seg-levels-graph", "seg-map-graph", "seg-curve-graph")


def test_every_chart_has_its_export_menu(app):
    layout = _run(app, _page().layout, indicator=INDEX)
    for chart in CHARTS:
        menu = find(layout, components.export_menu_id(chart))
        buttons = [b.children for b in menu.children if getattr(b, "id", None)]
        assert buttons == ["PNG", "SVG", "PDF", "CSV", "XLSX"], chart


def test_curve_downloads_are_the_curve_of_the_page(wh):
    file = downloads.segregation_curve_download(wh, LQ, "district", DATES[2], "csv", "de")
    assert file.filename == f"{LQ}_segregationskurve_district_2024-12-31.csv"
    rows = read_csv(file.content)
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    columns = (
        "Gebiet",
        "Zähler",
        "Nenner",
        "Rang",
        "Anteil der Gruppe im Gebiet (%)",
        "Übrige Bevölkerung, kumuliert (%)",
        "Gruppe, kumuliert (%)",
        "Wert",
    )
    # by hand (31.12.2024, see test_curve_points_of_the_districts_by_hand): x/t 120/1020,
    # 330/2040, 470/1480; rest Y = 3620, group X = 920; LQ = (x/t) / (950/5050)
    assert [tuple(r[c] for c in columns) for r in records] == [
        ("Altstadt", "120", "1020", "1", "11,8", "24,9", "13,0", "0,63"),
        ("Nordstadt", "330", "2040", "2", "16,2", "72,1", "48,9", "0,86"),
        ("Südviertel", "470", "1480", "3", "31,8", "100,0", "100,0", "1,69"),
    ]
    svg = downloads.segregation_curve_download(wh, LQ, "district", DATES[2], "svg", "de")
    text = svg.content.decode("utf-8")
    assert "Segregationskurve" in text and "Gleichmäßige Verteilung" in text  # legend
    assert "Gini = 0,259 · IS (größter Abstand zur Diagonale) = 0,232 · 3 Gebiete" in text
    assert ">Quelle: Einwohnermelderegister Teststadt · Stand: 31.12.2024<" in text


def test_location_quotient_table_download_equals_the_warehouse(wh, synthetic_curated_dir):
    file = downloads.map_download(wh, LQ, DATES[2], "district", "csv", "de")
    rows = read_csv(file.content)
    path = synthetic_curated_dir / "current" / PUBLICATION
    with duckdb.connect(str(path), read_only=True) as con:
        stored = dict(
            con.execute(
                "SELECT area_id, value FROM indicator_values WHERE indicator_id = ? "
                "AND level = 'district' AND ref_date = DATE '2024-12-31'",
                [LQ],
            ).fetchall()
        )
    values = {
        row[rows[0].index("Gebietsschlüssel")]: row[rows[0].index("Wert")] for row in rows[1:]
    }
    assert values == {
        area: "" if value is None else f"{value:.2f}".replace(".", ",")
        for area, value in stored.items()
    }


# --- Berlin ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def berlin(berlin_curated_dir):
    return create_app(berlin_curated_dir)


@pytest.fixture(scope="module")
def berlin_wh(berlin_curated_dir):
    return queries.open_warehouse(berlin_curated_dir)


def test_berlin_segregation_page(berlin, berlin_wh):
    layout = _run(berlin, _page().layout)
    index = find(layout, "seg-indicator").value
    assert index == BERLIN_INDEX and find(layout, "seg-group").value == LQ
    assert catalogue.indicators(berlin_wh, "de")[index].function == "segregation_is"
    # the finest level with the same boundaries since the index's first date (LOR 2021)
    assert find(layout, "seg-level").value == "district"
    figure, _ = _run(berlin, _page().update_levels, index)
    panels = [a.text for a in figure.layout.annotations[:4]]
    assert [p.split(" (")[0].split("<br>")[0] for p in panels] == [
        "Bezirk",
        "Prognoseraum",
        "Bezirksregion",
        "Planungsraum",
    ]
    # the number of units per period: the LOR were redrawn on 1 Jan 2021
    assert panels[0] == "Bezirk (n = 12)" and panels[1].endswith("ab 30.06.2021: 58)")
    statements = _run(berlin, _page().update_change, index, "2015-06-30", "2024-12-31")
    items = statements.children[0].children
    assert len(items) == 4  # districts compared; the three levels redrawn in 2021: a break
    assert items[0].className.split("-")[-1] in {"exceeds", "within", "no_benchmark"}
    assert [i.className.split("-")[-1] for i in items[1:]] == ["break"] * 3
    _, style, notice = _run(berlin, _page().update_map, LQ, "planning_area", "2024-12-31")
    assert style == {"display": "none"} and "31.12.2024" in " ".join(texts(notice))


def test_berlin_curve_reproduces_the_published_indices(berlin, berlin_wh):
    units = queries.area_values(berlin_wh, (LQ,), "2024-12-31", "district")
    points = segregation_figures.curve_points(units)
    assert len(points) == 13
    city = catalogue.city(berlin_wh).area_id
    published = queries.series(berlin_wh, "gini_foreigners", (city,))
    gini = published.query("level == 'district' and ref_date == '2024-12-31'")["value"].item()
    # Berlin is protected by cell suppression: its indices are published rounded to 3
    # decimals (etl/publication.py), the curve is drawn from the published district counts
    assert segregation_figures.curve_gini(points) == pytest.approx(gini, abs=5e-4 + 1e-12)
    index = queries.series(berlin_wh, BERLIN_INDEX, (city,))
    value = index.query("level == 'district' and ref_date == '2024-12-31'")["value"].item()
    assert segregation_figures.curve_dissimilarity(points) == pytest.approx(value, abs=5e-4 + 1e-12)


# --- in the browser ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    api = pytest.importorskip("playwright.sync_api")
    with api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def synthetic_url(synthetic_curated_dir):
    with serve(synthetic_curated_dir) as url:
        yield url


CHANGES = "#seg-change li.change"
MAP_PATHS = "#seg-map-graph path.choroplethlocation"
CURVE_ROWS = "#seg-curve-table-table tbody tr"


def _statement(page, level: str) -> str:
    return page.locator(f"{CHANGES}[data-level='{level}']").inner_text()


def test_browser_segregation_page_state_survives_a_reload(browser, synthetic_url):
    with open_page(browser, synthetic_url) as page:
        page.goto(f"{synthetic_url}/segregation?indicator={INDEX}")
        wait_count(page, CHANGES, 2)
        assert "(+0,004) übersteigt" in _statement(page, "district")
        assert "(−0,027) liegt innerhalb" in _statement(page, "borough")
        wait_text(page, "#seg-levels-graph .annotation-text", "Stadtteil (n = 4)")
        wait_text(page, "#seg-index-table td", "0,029–0,033")
        wait_count(page, MAP_PATHS, 4)
        wait_count(page, CURVE_ROWS, 3)
        wait_text(page, "#seg-curve-graph .annotation-text", "Gini = 0,259")
        screenshot(page, "segregation-synthetic")
        select(page, "seg-start", "31.12.2023")
        wait_text(page, CHANGES, "vom 31.12.2023")
        assert "(+0,006) übersteigt" in _statement(page, "district")
        assert "(−0,024) liegt innerhalb" in _statement(page, "borough")
        select(page, "seg-level", "Stadtbezirk")
        wait_count(page, MAP_PATHS, 2)
        wait_count(page, CURVE_ROWS, 2)
        wait_url(page, "start=2023-12-31", "level=borough")
        wait_url(page, f"group={LQ}")
        page.reload()
        wait_count(page, CHANGES, 2)
        assert page.locator("#seg-start").inner_text().strip() == "31.12.2023"
        assert page.locator("#seg-level").inner_text().strip() == "Stadtbezirk"
        assert "(+0,006) übersteigt" in _statement(page, "district")
        wait_count(page, MAP_PATHS, 2)
        wait_count(page, CURVE_ROWS, 2)
        finish(page, "segregation-synthetic-reloaded")


def test_browser_index_without_benchmark(browser, synthetic_url):
    with open_page(browser, synthetic_url) as page:
        page.goto(f"{synthetic_url}/segregation")
        page.get_by_role("link", name="Segregation", exact=True).wait_for()
        wait_text(page, "#seg-benchmark-note", "Kein Zufallsvergleich verfügbar")
        wait_text(page, CHANGES, "Kein Zufallsvergleich verfügbar.")
        select(page, "seg-indicator", "Segregationsindex Ausländer (Gebiete ab 300 Einw.)")
        wait_text(page, "#seg-benchmark-note", "4 Simulationen")
        wait_text(page, CHANGES, "übersteigt")
        wait_url(page, f"indicator={INDEX}", f"group={LQ}")
        finish(page, "segregation-synthetic-no-benchmark")


def _download(page, chart: str, fmt: str, folder: Path) -> Path:
    """Click ``fmt`` in the export menu of ``chart``; the saved file."""
    menu = page.locator(f"#{components.export_menu_id(chart)}")
    with page.expect_download() as info:
        menu.get_by_role("button", name=fmt.upper(), exact=True).click()
    path = folder / info.value.suggested_filename
    info.value.save_as(path)
    return path


def _index_rows(curated_dir: Path) -> dict[tuple[str, str], tuple[float, int]]:
    """(level, date) -> (value, n_units) of INDEX for the city, from the warehouse file."""
    with duckdb.connect(str(curated_dir / "current" / PUBLICATION), read_only=True) as con:
        rows = con.execute(
            "SELECT level, CAST(ref_date AS VARCHAR), value, n_units FROM indicator_values "
            "WHERE indicator_id = ? AND area_id = '00'",
            [INDEX],
        ).fetchall()
    return {(level, day): (value, n) for level, day, value, n in rows}


def _comma(value: float, decimals: int = 3) -> str:
    return f"{value:.{decimals}f}".replace(".", ",")


def test_browser_index_chart_downloads(browser, synthetic_url, synthetic_curated_dir, wh, tmp_path):
    with open_page(browser, synthetic_url) as page:
        page.goto(f"{synthetic_url}/segregation?indicator={INDEX}")
        wait_text(page, "#seg-levels-graph .annotation-text", "Stadtteil (n = 4)")
        files = {
            fmt: _download(page, "seg-levels-graph", fmt, tmp_path) for fmt in downloads.FORMATS
        }
        assert page.problems == []
    stem = f"{INDEX}_zeitreihe_ebenen_zufallsverteilung"
    assert {fmt: f.name for fmt, f in files.items()} == {
        fmt: f"{stem}.{fmt}" for fmt in downloads.FORMATS
    }

    chunks = png_chunks(files["png"].read_bytes())
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    layout_height = segregation_export.index_chart(wh, INDEX, "de").figure.layout.height
    assert width == 1890 and height == pytest.approx(layout_height * 300 / 96, abs=1)
    assert struct.unpack(">IIB", chunks[b"pHYs"]) == (11811, 11811, 1)  # 300 dpi

    title = "Segregationsindex Ausländer (Gebiete ab 300 Einw.)"
    source = "Quelle: Einwohnermelderegister Teststadt · Stand: 31.12.2024"
    svg = files["svg"].read_text(encoding="utf-8")
    assert 'width="605"' in svg and f">{title}<" in svg and f">{source}<" in svg
    assert "Stadtbezirk (n = 2)" in svg and "Stadtteil (n = 4)" in svg
    assert ">95-%-Bereich bei zufälliger Verteilung<" in svg  # legend
    assert "Mittelwert und 95-%-Bereich aus 4 Simulationen" in svg  # the band, explained

    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(files["pdf"])
    assert len(reader.pages) == 1
    assert float(reader.pages[0].mediabox.width) == pytest.approx(16 / 2.54 * 72, abs=1)
    pdf_text = " ".join(reader.pages[0].extract_text().split())
    assert title in pdf_text and source in pdf_text

    # CSV: the warehouse's values and units; the benchmark from the draws (mean, 2,5 and
    # 97,5 % quantiles, linear interpolation), all with the index's 3 decimals
    stored = _index_rows(synthetic_curated_dir)
    rows = read_csv(files["csv"].read_bytes())
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert len(records) == len(stored) == 6
    for record in records:
        level = {"Stadtbezirk": "borough", "Stadtteil": "district"}[record["Gebietsebene"]]
        day, month, year = record["Stichtag"].split(".")
        ref_date = f"{year}-{month}-{day}"
        value, n_units = stored[(level, ref_date)]
        draws = RANDOM_DRAWS[level][DATES.index(ref_date)]
        lower, upper = np.quantile(draws, [0.025, 0.975])
        assert (record["Wert"], record["Zahl der Gebiete"]) == (_comma(value), str(n_units))
        assert record["Erwartung bei Zufall"] == _comma(np.mean(draws))
        assert record["95-%-Bereich bei Zufall, untere Grenze"] == _comma(lower)
        assert record["95-%-Bereich bei Zufall, obere Grenze"] == _comma(upper)
        assert record["Simulationen"] == "4"

    workbook = openpyxl.load_workbook(files["xlsx"])
    assert workbook.sheetnames == ["Daten", "Metadaten"]
    data = list(workbook["Daten"].iter_rows(values_only=True))
    for row in data[1:]:
        record = dict(zip(data[0], row, strict=True))
        level = {"Stadtbezirk": "borough", "Stadtteil": "district"}[record["Gebietsebene"]]
        ref_date = record["Stichtag"].date().isoformat()
        assert record["Wert"] == pytest.approx(stored[(level, ref_date)][0], rel=1e-14)
        draws = RANDOM_DRAWS[level][DATES.index(ref_date)]
        assert record["Erwartung bei Zufall"] == pytest.approx(np.mean(draws), rel=1e-12)
    notes = [
        row[1] for row in workbook["Metadaten"].iter_rows(values_only=True) if row[0] == "Hinweis"
    ]
    assert any("4 Simulationen" in note for note in notes)


@pytest.fixture(scope="module")
def berlin_url(berlin_curated_dir):
    with serve(berlin_curated_dir) as url:
        yield url


def test_browser_berlin(browser, berlin_url):
    with open_page(browser, berlin_url) as page:
        page.goto(f"{berlin_url}/segregation?indicator={BERLIN_INDEX}&level=district")
        wait_count(page, CHANGES, 4)
        # the planning areas' panel: units before and after the 2021 LOR (two lines)
        wait_text(page, "#seg-levels-graph .annotation-text", "(n = 425, ab 30.06.2021: 531)")
        wait_count(page, MAP_PATHS, 12)
        wait_count(page, CURVE_ROWS, 12)
        wait_text(page, "#seg-metadata", "Bezirk (n = 12)")
        screenshot(page, "segregation-berlin")
        select(page, "seg-level", "Planungsraum")
        page.wait_for_selector("#map-no-geometry")
        assert not page.locator("#seg-map-panel").is_visible()
        wait_text(page, "#seg-curve-table .page-info", "Zeilen 1–100")
        finish(page, "segregation-berlin-planning-areas")
