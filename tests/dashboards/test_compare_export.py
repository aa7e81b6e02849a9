"""Print-ready export of the Vergleich page: change map, slope chart and the areas side by
side as PNG/SVG/PDF (real Kaleido renders, one Chromium for the module), their tables as
CSV/XLSX compared with the warehouse file, and the export buttons in headless Chromium.

Known answers (test_compare_page.py): foreigner share 2022 → 2024 in percentage points
11: +1,765, 12: +1,176, 21: +1,757, 22: suppressed on 31.12.2024 (no value), the city
18,000 → 18,812 (+0,812).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import duckdb
import openpyxl
import page_calls
import pandas as pd
import pytest
import test_export
from test_compare_page import redrawn_dir, url  # noqa: F401
from test_dash_browser import browser, open_page, wait_count  # noqa: F401
from test_export import read_csv
from test_profile_export import export_buttons, footer_text
from test_segregation_page import _download

from dashboards import ids
from dashboards.app import create_app
from dashboards.data import queries
from dashboards.export import compare as compare_export
from dashboards.export import downloads
from dashboards.export import render as export
from dashboards.figures import compare as compare_figures
from etl.warehouse import PUBLICATION

SHARE = "foreigner_share"
D2022, D2023, D2024 = "2022-12-31", "2023-12-31", "2024-12-31"
DATES = (D2022, D2024)
STEM = "foreigner_share_vergleich_district_2022-12-31_2024-12-31"
SOURCE = "Quelle: Einwohnermelderegister Teststadt · Stand: 31.12.2022 / 31.12.2024"
LEVELS = {"Stadt": "city", "Stadtbezirk": "borough", "Stadtteil": "district"}
pypdf = pytest.importorskip("pypdf")
# the synthetic warehouse, its rows and one Chromium for the renders of this module
wh, warehouse_rows = test_export.wh, test_export.warehouse_rows
_one_chromium = test_export._one_chromium


@pytest.fixture(scope="module")
def stored(warehouse_rows):
    """The foreigner share in the warehouse file: (date, area, level) -> value, numerator,
    denominator, flag, n_units."""
    return {key[1:]: row for key, row in warehouse_rows.items() if key[0] == SHARE}


def _copy(tmp_path: Path, builder, *statements: str) -> queries.Warehouse:
    """The synthetic warehouse after ``statements``."""
    path = tmp_path / "curated" / "snapshots" / "s1" / PUBLICATION
    path.parent.mkdir(parents=True)
    builder(path)
    with duckdb.connect(str(path)) as con:
        for statement in statements:
            con.execute(statement)
    (tmp_path / "curated" / "current").symlink_to(Path("snapshots") / "s1")
    return queries.open_warehouse(tmp_path / "curated")


# --- change map ------------------------------------------------------------------------------
def test_change_map_has_the_colours_and_range_of_the_page(wh):
    chart = compare_export.map_chart(wh, SHARE, "district", DATES, "de")
    assert chart.filename("png") == f"{STEM}_karte.png"
    change = compare_export.change_selection(wh, SHARE, "district", DATES, "de")
    page = change.map_figure(queries.geometries(wh, "district", D2024)).data[0]
    printed = chart.figure.data[0]
    assert printed.colorscale == page.colorscale  # PuOr, centred at 0
    assert (printed.zmid, printed.zmin, printed.zmax) == (page.zmid, page.zmin, page.zmax)
    assert printed.zmax == pytest.approx(100 * 120 / 1020 - 10.0)  # the largest |change|
    assert list(printed.locations) == ["11", "12", "21"]
    assert list(printed.z) == pytest.approx(
        [100 * 120 / 1020 - 10.0, 100 * 330 / 2040 - 15.0, 100 * 470 / 1480 - 30.0]
    )
    symbol = next(trace for trace in chart.figure.data if trace.type == "scattergeo")
    assert symbol.name == "geheim gehalten (1)" and symbol.showlegend is True


def test_change_map_svg_and_png(wh):
    chart = compare_export.map_chart(wh, SHARE, "district", DATES, "de")
    svg = export.chart_bytes(chart, "svg").decode("utf-8")
    assert 'width="605"' in svg and ">Veränderung: Ausländeranteil<" in svg
    assert "Stadtteil · 31.12.2022 bis 31.12.2024 · Einheit: Prozentpunkte" in svg
    assert f">{SOURCE}<" in svg and ">geheim gehalten (1)<" in svg
    assert "Gebiete ohne vergleichbare Veränderung (graue Fläche mit Zeichen): geheim" in svg
    assert ">1,5<" in svg and ">−1,5<" in svg  # colour bar, German decimal comma
    assert svg.count('class="choroplethlocation"') == 4
    width, height, dpi = export.png_info(export.chart_bytes(chart, "png"))
    assert width == 1890 and dpi == pytest.approx(300, abs=0.01)
    assert height == pytest.approx(chart.figure.layout.height * 300 / 96, abs=1)


def test_no_change_map_without_boundaries_but_its_table(tmp_path, warehouse_builder):
    wh = _copy(tmp_path, warehouse_builder, "DELETE FROM area_geometry WHERE level = 'district'")
    with pytest.raises(export.ExportError, match="keine Gebietsgrenzen"):
        downloads.compare_map_download(wh, SHARE, "district", DATES, "svg", "de")
    table = downloads.compare_map_download(wh, SHARE, "district", DATES, "csv", "de")
    assert table.filename == f"{STEM}_karte.csv" and len(read_csv(table.content)) == 1 + 10


def test_redrawn_areas_in_the_notes(redrawn_dir):  # noqa: F811
    wh = queries.open_warehouse(redrawn_dir)
    footer = footer_text(compare_export.map_chart(wh, SHARE, "district", (D2023, D2024), "de"))
    assert "Grenzen geändert (2): das Gebiet war am Stichtag A anders abgegrenzt" in footer
    assert "1 Gebiete des Stichtags 31.12.2023 bestehen am späteren Stichtag nicht mehr" in footer
    table = compare_export.change_table(wh, SHARE, "district", (D2023, D2024), "de")
    assert "Grenzen geändert: Weststadt (22), Neustadt (23); das Gebiet war" in table.notes[1]
    rows = table.rows.set_index(["area_id", "ref_date"])
    assert rows["change"].isna()[[("22", D2024), ("23", D2024)]].all()
    assert float(rows.loc[("11", D2024), "change"]) == pytest.approx(
        100 * 120 / 1020 - 100 * 110 / 1010
    )


# --- slope chart -----------------------------------------------------------------------------
def test_slope_chart_pdf(wh):
    chart = compare_export.slope_chart(wh, SHARE, "district", DATES, "de")
    assert chart.filename("pdf") == f"{STEM}_steigung.pdf"
    assert [t.name for t in chart.figure.data] == ["Zunahme", "Teststadt"]
    assert list(chart.figure.data[1].y[:2]) == pytest.approx([18.0, 100 * 950 / 5050])
    footer = footer_text(chart)
    assert "(ohne Wert: keine Linie; Grenzen geändert: graue gepunktete Linie): geheim" in footer
    content = export.chart_bytes(chart, "pdf")
    assert content.startswith(b"%PDF")
    page = pypdf.PdfReader(io.BytesIO(content)).pages[0]
    assert float(page.mediabox.width) == pytest.approx(16 / 2.54 * 72, abs=1)
    text = " ".join(page.extract_text().split())
    assert "Ausländeranteil: 31.12.2022 und 31.12.2024" in text and SOURCE in text
    assert "Südviertel" in text and "30 %" in text
    # the names keep their own anchors in print (not those of the source line before them)
    names = [
        a for a in chart.figure.layout.annotations if a.name == compare_figures.SLOPE_LABEL_NAME
    ]
    assert len(names) == 4 and all(a.yref in (None, "y") and a.yshift is None for a in names)


def test_change_of_definition_between_the_dates_is_noted(tmp_path, warehouse_builder):
    wh = _copy(
        tmp_path,
        warehouse_builder,
        "UPDATE indicator_values SET definition_id = 'v2' "
        f"WHERE indicator_id = '{SHARE}' AND ref_date = DATE '{D2024}'",
    )
    break_note = "am 31.12.2022 und am 31.12.2024 nicht dieselbe (Reihenbruch)"
    assert break_note in footer_text(compare_export.slope_chart(wh, SHARE, "district", DATES, "de"))
    assert break_note not in footer_text(
        compare_export.slope_chart(wh, SHARE, "district", (D2022, D2023), "de")
    )
    bars = compare_export.bars_chart(wh, SHARE, "district", ["11"], DATES, "de")
    assert "wechselt innerhalb des Zeitraums (Reihenbruch)" in footer_text(bars)


# --- the change table ------------------------------------------------------------------------
def test_change_table_equals_the_warehouse(wh, stored):
    file = downloads.compare_slope_download(wh, SHARE, "district", DATES, "csv", "de")
    assert file.filename == f"{STEM}_steigung.csv"
    rows = read_csv(file.content)
    assert rows[0][-2:] == ["Veränderung (Prozentpunkte)", "Hinweis"]
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [(r["Gebietsschlüssel"], r["Stichtag"]) for r in records[:2]] == [
        ("11", "31.12.2022"),
        ("11", "31.12.2024"),
    ]
    assert [r["Gebietsschlüssel"] for r in records[::2]] == ["11", "12", "21", "22", "00"]
    for record in records:
        day, month, year = record["Stichtag"].split(".")
        key = (f"{year}-{month}-{day}", record["Gebietsschlüssel"], LEVELS[record["Gebietsebene"]])
        value, numerator, denominator, flag, _ = stored[key]
        if flag == "suppressed":
            assert (record["Wert"], record["Zähler"], record["Hinweis"]) == (
                "",
                "",
                "geheim gehalten",
            )
            continue
        assert record["Wert"] == f"{value:.1f}".replace(".", ",")
        assert (record["Zähler"], record["Nenner"]) == (f"{numerator:.0f}", f"{denominator:.0f}")
    changes = {r["Gebietsschlüssel"]: r["Veränderung (Prozentpunkte)"] for r in records[1::2]}
    assert changes == {"11": "1,8", "12": "1,2", "21": "1,8", "22": "", "00": "0,8"}
    assert all(r["Veränderung (Prozentpunkte)"] == "" for r in records[::2])  # date A rows
    xlsx = downloads.compare_map_download(wh, SHARE, "district", DATES, "xlsx", "de").content
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx))
    data = list(workbook["Daten"].values)
    city = dict(zip(data[0], data[-1], strict=True))
    assert city["Gebiet"] == "Teststadt"
    assert city["Veränderung (Prozentpunkte)"] == pytest.approx(100 * 950 / 5050 - 18.0)
    notes = [r[1] for r in workbook["Metadaten"].values if r[0] == "Hinweis"]
    assert notes[0].startswith("Veränderung (Prozentpunkte) in der Zeile des späteren Stichtags")


# --- areas side by side ----------------------------------------------------------------------
def test_bars_chart_and_table(wh, stored):
    chart = compare_export.bars_chart(wh, SHARE, "district", ["11", "22"], (D2023, D2024), "de")
    assert chart.filename("svg") == (
        "foreigner_share_vergleich_district_2023-12-31_2024-12-31_gebiete_11-22.svg"
    )
    svg = export.chart_bytes(chart, "svg").decode("utf-8")
    assert ">Ausländeranteil: Gebiete im Vergleich<" in svg
    assert "Stichtage 31.12.2023 bis 31.12.2024 · Einheit: %" in svg
    assert ">Quelle: Einwohnermelderegister Teststadt · Stand: 31.12.2024<" in svg
    assert ">Teststadt<" in svg and ">Altstadt<" in svg and ">Weststadt<" in svg  # legend
    assert "×: kein ausgewiesener Wert zu diesem Stichtag" in svg
    assert "Hinweise: geheim gehalten: zu kleine Fallzahl" in svg
    table = compare_export.bars_table(wh, SHARE, "district", ["11", "22"], (D2023, D2024), "de")
    got = {(r["ref_date"], r["area_id"]): r["value"] for r in table.rows.to_dict("records")}
    assert len(got) == 3 * 2  # city, Altstadt, Weststadt on two dates
    assert pd.isna(got[(D2024, "22")]) and stored[(D2024, "22", "district")][0] is None
    for (day, area_id), value in got.items():
        expected = stored[(day, area_id, "city" if area_id == "00" else "district")][0]
        assert expected is None or value == pytest.approx(expected)


def test_at_most_six_areas_side_by_side(wh):
    chosen = ["1", "2", "11", "12", "21", "22", "1"]
    chart = compare_export.bars_chart(wh, SHARE, "district", chosen, DATES, "de")
    assert chart.stem.endswith("_gebiete_1-2-11-12-21-22")
    assert "höchstens 6 Gebiete" in footer_text(chart)
    assert len(chart.figure.data) == 1 + compare_figures.MAX_AREAS


# --- the page -------------------------------------------------------------------------------
def test_every_chart_has_an_export_menu(synthetic_curated_dir):
    app = create_app(synthetic_curated_dir)
    layout = page_calls.run(app, page_calls.page("compare").layout)
    for chart in (ids.COMPARE_MAP, ids.COMPARE_SLOPE, ids.COMPARE_BARS):
        assert export_buttons(layout, chart) == ["PNG", "SVG", "PDF", "CSV", "XLSX"], chart


def test_browser_compare_downloads(browser, url, stored, tmp_path):  # noqa: F811
    with open_page(browser, url) as page:
        # dates in the wrong order: the files compare them in time order, as the page does
        page.goto(
            f"{url}/vergleich?indicator={SHARE}&level=district"
            f"&date_a={D2024}&date_b={D2022}&areas=11,22"
        )
        wait_count(page, "#compare-map path.choroplethlocation", 4)
        files = {fmt: _download(page, ids.COMPARE_MAP, fmt, tmp_path) for fmt in downloads.FORMATS}
        slope = _download(page, ids.COMPARE_SLOPE, "svg", tmp_path)
        wait_count(page, "#compare-bars g.legend g.traces", 3)
        bars = _download(page, ids.COMPARE_BARS, "xlsx", tmp_path)
        assert page.problems == []
    assert {fmt: f.name for fmt, f in files.items()} == {
        fmt: f"{STEM}_karte.{fmt}" for fmt in downloads.FORMATS
    }
    assert export.png_info(files["png"].read_bytes())[0] == 1890
    assert export.png_info(files["png"].read_bytes())[2] == pytest.approx(300, abs=0.01)
    svg = files["svg"].read_text(encoding="utf-8")
    assert ">Veränderung: Ausländeranteil<" in svg and f">{SOURCE}<" in svg
    assert files["pdf"].read_bytes().startswith(b"%PDF")
    text = " ".join(pypdf.PdfReader(files["pdf"]).pages[0].extract_text().split())
    assert "Veränderung: Ausländeranteil" in text and "geheim gehalten (1)" in text
    rows = read_csv(files["csv"].read_bytes())
    altstadt = dict(zip(rows[0], rows[2], strict=True))
    value = stored[(D2024, "11", "district")][0]
    assert (altstadt["Gebiet"], altstadt["Wert"]) == ("Altstadt", f"{value:.1f}".replace(".", ","))
    assert altstadt["Veränderung (Prozentpunkte)"] == "1,8"
    data = list(openpyxl.load_workbook(files["xlsx"])["Daten"].values)
    assert len(data) == 1 + 10 and data[1][0] == SHARE
    assert slope.name == f"{STEM}_steigung.svg"
    assert ">Ausländeranteil: 31.12.2022 und 31.12.2024<" in slope.read_text(encoding="utf-8")
    assert bars.name == f"{STEM}_gebiete_11-22.xlsx"
    records = list(openpyxl.load_workbook(bars)["Daten"].values)
    assert len(records) == 1 + 3 * 3  # city, Altstadt, Weststadt on three dates
    assert {r[5] for r in records[1:]} == {"Teststadt", "Altstadt", "Weststadt"}


def test_berlin_change_table_on_todays_boundaries(berlin_curated_dir):
    """The change table download of forecast areas 2015 → 2024 on today's boundaries
    (#18): every 2015 value is the publication's recomputed one (read here directly), the
    estimated ones carry 'estimated', and the notes say so and name the list behind them."""
    berlin = queries.open_warehouse(berlin_curated_dir)
    dates = ("2015-06-30", "2024-12-31")
    table = compare_export.change_table(
        berlin, SHARE, "forecast_area", dates, "de", boundaries="today"
    )
    path = berlin_curated_dir / "current" / PUBLICATION
    with duckdb.connect(str(path), read_only=True) as con:
        expected = con.execute(
            "SELECT area_id, value, estimated FROM boundary_values WHERE indicator_id = ?"
            " AND level = 'forecast_area' AND ref_date = DATE '2015-06-30'",
            [SHARE],
        ).df()
        digest = con.execute("SELECT value FROM meta WHERE key = 'crosswalk_lists'").fetchall()
    rows = table.rows[table.rows["ref_date"] == dates[0]].merge(expected, on="area_id")
    assert len(rows) == 58
    both = rows["value_x"].notna() | rows["value_y"].notna()
    assert (rows.loc[both, "value_x"] - rows.loc[both, "value_y"]).abs().max() < 1e-9
    estimated = rows[rows["estimated"] & rows["value_y"].notna()]
    assert set(estimated["flag"]) <= {"estimated"}
    assert rows["change"].isna().all()  # the change sits on the later date's row
    later = table.rows[(table.rows["ref_date"] == dates[1]) & (table.rows["level"] != "city")]
    assert later["change"].notna().sum() >= 50
    notes = " ".join(table.notes)
    assert "Auf heutigem Gebietsstand" in notes
    assert table.stem.endswith("_karte_gebietsstand-heute")
    sha256 = json.loads(digest[0][0])[0]["sha256"]
    assert f"berlin-lor-matches.json (SHA-256 {sha256[:12]}…)" in notes
    # as published, 57 of 58 forecast areas have no comparable change (boundaries changed)
    published = compare_export.change_table(berlin, SHARE, "forecast_area", dates, "de")
    rows = published.rows
    later = rows[(rows["ref_date"] == dates[1]) & (rows["level"] != "city")]
    assert later["change"].notna().sum() <= 1
