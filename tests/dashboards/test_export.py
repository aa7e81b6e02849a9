"""Print-ready export: real Kaleido output (PNG/SVG/PDF) and CSV/XLSX tables.

Renders use the system Chromium and are kept few (a Chromium is started once for the
module). Expectations are read from the synthetic warehouse of ``conftest.py`` (Teststadt:
four districts, district 22's foreigner share suppressed on 31.12.2024).
"""

from __future__ import annotations

import csv
import io
import json
import re
import struct
import threading
import zlib
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import openpyxl
import plotly.graph_objects as go
import pytest
from conftest import square
from werkzeug.serving import make_server

from dashboards.app import create_app
from dashboards.data import queries
from dashboards.export import downloads
from dashboards.export import map as map_export
from dashboards.export import render as export
from dashboards.export import tables as export_tables
from dashboards.export import trends as trends_export
from dashboards.figures import common as figures
from etl.warehouse import PUBLICATION

pypdf = pytest.importorskip("pypdf")

SHARE = "foreigner_share"
SEGREGATION = "segregation_is_migration_background"
LAST = "2024-12-31"
SOURCE = "Einwohnermelderegister Teststadt"


@pytest.fixture(scope="module")
def wh(synthetic_curated_dir):
    return queries.open_warehouse(synthetic_curated_dir)


@pytest.fixture(scope="module", autouse=True)
def _one_chromium():
    yield
    export.close_renderer()


@pytest.fixture(scope="module")
def map_chart(wh):
    return map_export.map_chart(wh, SHARE, LAST, "district", "de")


@pytest.fixture(scope="module")
def warehouse_rows(synthetic_curated_dir):
    """indicator_values of the synthetic warehouse, keyed by (indicator, date, area, level)."""
    path = synthetic_curated_dir / "current" / PUBLICATION
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "SELECT indicator_id, CAST(ref_date AS VARCHAR), area_id, level, value, numerator, "
            "denominator, flag, n_units FROM indicator_values"
        ).fetchall()
    return {r[:4]: r[4:] for r in rows}


def png_chunks(data: bytes) -> dict[bytes, bytes]:
    """Chunk type -> data of a PNG file (CRCs checked)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = {}, 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        chunks[kind] = body
        pos += 12 + length
    return chunks


# --- charts: real renders ----------------------------------------------------------------
def test_map_png_is_300_dpi_at_a4_text_width(map_chart):
    png = export.chart_bytes(map_chart, "png")
    chunks = png_chunks(png)
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    assert width >= 1890  # 16 cm at 300 dpi
    assert height == pytest.approx(map_chart.figure.layout.height * export.PNG_SCALE, abs=1)
    x_ppm, y_ppm, unit = struct.unpack(">IIB", chunks[b"pHYs"])
    assert (x_ppm, y_ppm, unit) == (11811, 11811, 1)  # 300 dpi in pixels per metre
    assert width / x_ppm * 100 == pytest.approx(16.0, abs=0.05)  # printed width in cm
    assert map_chart.filename("png") == "foreigner_share_karte_district_2024-12-31.png"


def test_map_svg_carries_title_subtitle_notes_legend_and_source(map_chart):
    svg = export.chart_bytes(map_chart, "svg").decode("utf-8")
    assert svg.startswith("<svg") and 'width="605"' in svg
    assert "Ausländeranteil" in svg
    assert "Stadtteil · Stichtag 31.12.2024 · Einheit: %" in svg
    assert f"Quelle: {SOURCE} · Stand: 31.12.2024" in svg
    assert "geheim gehalten (1)" in svg  # legend entry of the suppressed district
    assert "statistische Geheimhaltung" in svg  # footnote explaining the flag
    assert svg.count('class="choroplethlocation"') >= 4
    assert "cdn" not in svg.lower()


def test_map_svg_has_the_karte_s_outlines_and_labels(wh):
    """As on the Karte (#19): the two boroughs' outlines over the districts, and with
    labels the district names that fit at print size, in black or white."""
    chart = map_export.map_chart(wh, SHARE, LAST, "district", "de", area_labels=True)
    svg = export.chart_bytes(chart, "svg").decode("utf-8")
    lines = re.findall(r'<g class="trace scattergeo"[^>]*><path class="js-line" d="([^"]+)"', svg)
    assert len(lines) == 1 and lines[0].count("M") == 2  # one ring per borough
    names = set(queries.area_values(wh, (SHARE,), LAST, "district")["name"])
    drawn = re.findall(r'<text[^>]*style="[^"]*font-size: 10px; fill: ([^;]+);[^>]*>([^<]+)<', svg)
    assert drawn and {name for _, name in drawn} <= names
    # black or white on a class colour, the text colour on the tint of an area without one
    assert {fill for fill, _ in drawn} <= {"rgb(0, 0, 0)", "rgb(255, 255, 255)", "rgb(31, 41, 51)"}
    unlabelled = map_export.map_chart(wh, SHARE, LAST, "district", "de")
    assert "labels" not in [trace.name for trace in unlabelled.figure.data]


def test_trend_pdf_has_title_and_source_text_and_16_cm_page(wh):
    chart = trends_export.trend_chart(wh, SHARE, ["22"], "de")
    reader = pypdf.PdfReader(io.BytesIO(export.chart_bytes(chart, "pdf")))
    assert len(reader.pages) == 1
    page = reader.pages[0]
    assert float(page.mediabox.width) == pytest.approx(16 / 2.54 * 72, abs=1)  # 453,5 pt
    text = page.extract_text()
    assert "Ausländeranteil" in text
    assert "Quelle:" in text and "Stand: 31.12.2024" in text
    assert "Teststadt" in text and "Weststadt" in text  # legend: city and the chosen area
    assert chart.filename("pdf") == "foreigner_share_zeitreihe_00-22.pdf"


def test_segregation_trend_svg_names_levels_units_and_note(wh):
    chart = trends_export.trend_chart(wh, SEGREGATION, ["11"], "de")
    svg = export.chart_bytes(chart, "svg").decode("utf-8")
    assert "Stadtteil (n = 4)" in svg and "Stadtbezirk (n = 2)" in svg
    assert "Zahl der Gebiete" in svg  # the note on units per level
    assert re.search(r">0,\d+<", svg) and not re.search(r">0\.\d+<", svg)  # tick labels
    assert chart.filename("svg") == f"{SEGREGATION}_zeitreihe_ebenen.svg"


def test_english_export(wh):
    chart = trends_export.trend_chart(wh, SHARE, [], "en")
    svg = export.chart_bytes(chart, "svg").decode("utf-8")
    assert "Source: " in svg and "As of: 31.12.2024" in svg
    assert "Quelle" not in svg


# Residents on 31.12.2022 of ten districts (the six new ones added to the synthetic city):
# five pairs far apart. Natural breaks (least within-class sum of squares over 5 runs of the
# sorted values) are the pairs: any class joining two pairs costs at least
# (400 − 110)² / 2 = 42.050 > 7.750 = 10²/2 + 20²/2 + 50²/2 + 50²/2 + 100²/2 of the pairs.
# Quantiles (type 7, position 9p): 1,8 -> 110 + 0,8·290 = 342; 3,6 -> 420 + 0,6·480 = 708;
# 5,4 -> 950 + 0,4·650 = 1.210; 7,2 -> 1.650 + 0,2·850 = 1.820.
TEN_DISTRICTS = {
    "11": 100,
    "12": 110,
    "21": 400,
    "22": 420,
    "13": 900,
    "14": 950,
    "23": 1600,
    "24": 1650,
    "15": 2500,
    "25": 2600,
}
NEW_SQUARES = {"13": (2, 1), "14": (3, 1), "15": (4, 1), "23": (2, 0), "24": (3, 0), "25": (4, 0)}
JENKS_LEGEND = ["100 – 110", "110 – 420", "420 – 950", "950 – 1.650", "1.650 – 2.600"]
QUANTILE_LEGEND = ["100 – 342", "342 – 708", "708 – 1.210", "1.210 – 1.820", "1.820 – 2.600"]


def ten_district_warehouse(root: Path, builder) -> queries.Warehouse:
    """The synthetic city with six more districts and TEN_DISTRICTS residents in 2022."""
    path = root / "curated" / "snapshots" / "s1" / PUBLICATION
    path.parent.mkdir(parents=True)
    builder(path)
    with duckdb.connect(str(path)) as con:
        for area_id, (col, row) in NEW_SQUARES.items():
            con.execute(
                "INSERT INTO areas VALUES (?, 'district', ?, ?, '2010', DATE '2010-01-01', NULL)",
                [area_id, f"Neu {area_id}", area_id[0]],
            )
            con.execute(
                "INSERT INTO area_geometry VALUES (?, 'district', '2010', ?)",
                [area_id, json.dumps(square(col, row))],
            )
        con.execute(
            "DELETE FROM indicator_values WHERE indicator_id = 'population' "
            "AND level = 'district' AND ref_date = DATE '2022-12-31'"
        )
        con.executemany(
            "INSERT INTO indicator_values VALUES ('population', DATE '2022-12-31', ?, "
            "'district', ?, ?, NULL, NULL, 'register_migrapro', NULL)",
            [(area_id, float(n), float(n)) for area_id, n in TEN_DISTRICTS.items()],
        )
    (root / "curated" / "current").symlink_to(Path("snapshots") / "s1")
    return queries.open_warehouse(root / "curated")


def test_map_export_in_the_chosen_classes(tmp_path, warehouse_builder):
    wh = ten_district_warehouse(tmp_path, warehouse_builder)
    svgs = {
        method: export.chart_bytes(
            map_export.map_chart(wh, "population", "2022-12-31", "district", "de", method=method),
            "svg",
        ).decode("utf-8")
        for method in ("jenks", "quantile")
    }
    assert svgs["jenks"].count('class="choroplethlocation"') == 10
    assert "(Natürliche Brüche, 5 Klassen)" in svgs["jenks"]
    assert "(Quantile, 5 Klassen)" in svgs["quantile"]
    for entry in JENKS_LEGEND:
        assert f">{entry}<" in svgs["jenks"] and f">{entry}<" not in svgs["quantile"]
    for entry in QUANTILE_LEGEND:
        assert f">{entry}<" in svgs["quantile"] and f">{entry}<" not in svgs["jenks"]
    with pytest.raises(export.ExportError, match="unknown classification 'natural'"):
        map_export.map_chart(wh, "population", "2022-12-31", "district", "de", method="natural")


# --- print layout without rendering ------------------------------------------------------
def test_print_layout_is_16_cm_white_and_readable(map_chart):
    layout = map_chart.figure.layout
    assert layout.width == export.PRINT_WIDTH_PX == 605
    assert layout.paper_bgcolor == layout.plot_bgcolor == "white"
    assert layout.font.size >= 11 and layout.title.font.size >= 15
    footer = [a for a in layout.annotations if a.name == figures.CAPTION_NAME]
    assert len(footer) == 1 and footer[0].font.size >= 10
    lines = footer[0].text.split("<br>")
    assert all(len(line) <= export.NOTE_CHARS for line in lines)
    assert lines[-1] == f"Quelle: {SOURCE} · Stand: 31.12.2024"


def test_long_titles_wrap_and_enlarge_the_top_margin(wh):
    fig = trends_export.trend_chart(wh, SHARE, [], "de").figure
    long = go.Figure(fig)
    long.update_layout(title_text="<b>" + "Sehr langer Titel eines Indikators " * 4 + "</b>")
    wrapped = export.print_ready(long)
    assert wrapped.layout.title.text.count("<br>") >= 2
    assert wrapped.layout.margin.t > fig.layout.margin.t


def test_figure_without_source_line_is_refused():
    with pytest.raises(export.ExportError, match="source line"):
        export.print_ready(go.Figure(go.Scatter(x=[1], y=[1])))


def test_print_ticks_are_thinned_keeping_the_latest():
    axis = go.layout.XAxis(tickvals=list(range(12)), ticktext=[str(i) for i in range(12)])
    export._thin_ticks(axis)
    assert len(axis.tickvals) <= export.MAX_PRINT_TICKS and axis.tickvals[-1] == 11
    assert list(axis.ticktext) == [str(v) for v in axis.tickvals]


def test_with_dpi_replaces_an_existing_phys_chunk():
    ihdr = struct.pack(">IIBBBBB", 2, 1, 8, 2, 0, 0, 0)
    png = export.PNG_SIGNATURE + export._chunk(b"IHDR", ihdr)
    png += export._chunk(b"pHYs", struct.pack(">IIB", 2835, 2835, 1))  # 72 dpi
    png += export._chunk(b"IEND", b"")
    out = export.with_dpi(png, 300)
    assert out.count(b"pHYs") == 1
    assert export.png_info(out) == (2, 1, pytest.approx(300, abs=0.01))
    assert list(png_chunks(out)) == [b"IHDR", b"pHYs", b"IEND"]


def test_no_map_without_boundaries(tmp_path, warehouse_builder):
    snapshot = tmp_path / "curated" / "snapshots" / "s1"
    snapshot.mkdir(parents=True)
    warehouse_builder(snapshot / PUBLICATION)
    with duckdb.connect(str(snapshot / PUBLICATION)) as con:
        con.execute("DELETE FROM area_geometry WHERE level = 'district'")
    (tmp_path / "curated" / "current").symlink_to(Path("snapshots") / "s1")
    wh = queries.open_warehouse(tmp_path / "curated")
    with pytest.raises(export.ExportError, match="keine Gebietsgrenzen"):
        map_export.map_chart(wh, SHARE, LAST, "district", "de")
    csv_file = downloads.map_download(wh, SHARE, LAST, "district", "csv", "de")
    assert csv_file.filename == "foreigner_share_karte_district_2024-12-31.csv"


def test_unknown_download_format(wh):
    with pytest.raises(export.ExportError, match="unknown format 'gif'"):
        downloads.map_download(wh, SHARE, LAST, "district", "gif", "de")


# --- tables ------------------------------------------------------------------------------
def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    text = content.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_map_csv_equals_warehouse_values_in_german_notation(wh, warehouse_rows):
    table = map_export.map_table(wh, [SHARE], LAST, "district", "de")
    rows = read_csv(export_tables.csv_bytes(table, wh, "de"))
    header = rows[0]
    assert header == [
        "Indikator-ID",
        "Indikator",
        "Stichtag",
        "Gebietsebene",
        "Gebietsschlüssel",
        "Gebiet",
        "Wert",
        "Einheit",
        "Zähler",
        "Nenner",
        "Hinweis",
    ]
    assert len(rows) == 1 + 4
    for row in rows[1:]:
        record = dict(zip(header, row, strict=True))
        value, numerator, denominator, flag, _ = warehouse_rows[
            (SHARE, LAST, record["Gebietsschlüssel"], "district")
        ]
        assert record["Stichtag"] == "31.12.2024"
        if flag == "suppressed":  # no value and never its counts
            assert (record["Wert"], record["Zähler"], record["Nenner"]) == ("", "", "")
            assert record["Hinweis"] == "geheim gehalten"
            continue
        assert record["Wert"] == f"{value:.1f}".replace(".", ",")
        assert record["Zähler"] == f"{numerator:.0f}" and record["Nenner"] == f"{denominator:.0f}"
        assert record["Hinweis"] == ""


def test_segregation_csv_has_units_per_level(wh, warehouse_rows):
    table = trends_export.trend_table(wh, SEGREGATION, ["11"], "de")
    rows = read_csv(export_tables.csv_bytes(table, wh, "de"))
    header = rows[0]
    assert "Zahl der Gebiete" in header and "Zähler" not in header
    for row in rows[1:]:
        record = dict(zip(header, row, strict=True))
        level = {"Stadtbezirk": "borough", "Stadtteil": "district"}[record["Gebietsebene"]]
        day, month, year = record["Stichtag"].split(".")
        value, *_, n_units = warehouse_rows[(SEGREGATION, f"{year}-{month}-{day}", "00", level)]
        assert record["Wert"] == f"{value:.2f}".replace(".", ",")
        assert record["Zahl der Gebiete"] == str(n_units)
    assert len(rows) == 1 + 6


def test_xlsx_data_and_metadata_sheets(wh, warehouse_rows, synthetic_curated_dir):
    table = map_export.map_table(wh, [SHARE], LAST, "district", "de")
    exported = datetime(2025, 4, 1, 9, 30, tzinfo=UTC)
    workbook = openpyxl.load_workbook(
        io.BytesIO(export_tables.xlsx_bytes(table, wh, "de", exported_at=exported))
    )
    assert workbook.sheetnames == ["Daten", "Metadaten"]
    data = list(workbook["Daten"].iter_rows(values_only=True))
    header = data[0]
    for row in data[1:]:
        record = dict(zip(header, row, strict=True))
        value, numerator, denominator, flag, _ = warehouse_rows[
            (SHARE, LAST, record["Gebietsschlüssel"], "district")
        ]
        assert record["Stichtag"] == datetime(2024, 12, 31)
        assert isinstance(record["Gebietsschlüssel"], str)
        if flag == "suppressed":
            assert record["Wert"] is record["Zähler"] is record["Nenner"] is None
        else:
            assert record["Wert"] == pytest.approx(value, rel=1e-14)  # Excel: 15 digits
            assert (record["Zähler"], record["Nenner"]) == (numerator, denominator)
    assert workbook["Daten"]["G2"].number_format == "#,##0.0"
    meta = list(workbook["Metadaten"].iter_rows(values_only=True))
    pairs = {row[0]: row[1] for row in meta if row[0] and row[1] and row[2] is None}
    assert pairs["Datenbestand (Snapshot)"] == "s1"
    assert pairs["Exportiert am"] == "01.04.2025 09:30 UTC"
    assert pairs["Veröffentlicht am"] == "01.03.2025 12:00"
    heading = next(i for i, row in enumerate(meta) if row[0] == "Indikator-ID")
    record = dict(zip(meta[heading], meta[heading + 1], strict=False))
    with duckdb.connect(
        str(synthetic_curated_dir / "current" / PUBLICATION), read_only=True
    ) as con:
        expected = con.execute(
            "SELECT title_de, definition_de, numerator_de, denominator_de, unit_de, source "
            "FROM indicators WHERE indicator_id = ?",
            [SHARE],
        ).fetchall()[0]
    assert record["Indikator-ID"] == SHARE
    assert (
        record["Titel"],
        record["Definition"],
        record["Zähler"],
        record["Nenner"],
        record["Einheit"],
        record["Quelle"],
    ) == expected
    assert record["Stand"] == "31.12.2024"
    assert record["Hinweise in den Daten"] == "geheim gehalten"
    legend = meta[meta.index(next(r for r in meta if r[0] == "Zeichenerklärung")) + 1]
    assert legend[0] == "geheim gehalten" and "Geheimhaltung" in legend[1]


def test_metadata_csv_lists_every_indicator(wh):
    tables = [
        map_export.map_table(wh, [SHARE], LAST, "district", "de"),
        trends_export.trend_table(wh, SEGREGATION, [], "de"),
    ]
    rows = read_csv(export_tables.metadata_csv_bytes(tables, wh, "de"))
    ids = [row[0] for row in rows if row]
    assert SHARE in ids and SEGREGATION in ids
    assert ids.count("Tabelle") == 2


# --- in-page export (browser) ------------------------------------------------------------
def test_map_page_export_buttons_download_files(synthetic_curated_dir, tmp_path):
    playwright_api = pytest.importorskip("playwright.sync_api")
    from test_dash_browser import BROWSER_ARGS, CHROMIUM

    app = create_app(synthetic_curated_dir)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
            page = browser.new_page(accept_downloads=True)
            page.set_default_timeout(60_000)
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{url}/karte?indicator={SHARE}&level=district&date={LAST}&classes=jenks")
            page.wait_for_selector("#map-graph path.choroplethlocation")
            with page.expect_download() as info:
                page.get_by_role("button", name="XLSX", exact=True).click()
            xlsx = tmp_path / info.value.suggested_filename
            info.value.save_as(xlsx)
            with page.expect_download() as info:
                page.get_by_role("button", name="PNG", exact=True).click()
            png = tmp_path / info.value.suggested_filename
            info.value.save_as(png)
            with page.expect_download() as info:
                page.get_by_role("button", name="SVG", exact=True).click()
            svg = info.value.path().read_text(encoding="utf-8")
            browser.close()
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert errors == []
    assert xlsx.name == "foreigner_share_karte_district_2024-12-31.xlsx"
    rows = list(openpyxl.load_workbook(xlsx)["Daten"].iter_rows(values_only=True))
    assert len(rows) == 1 + 4 and rows[1][0] == SHARE
    assert png.name == "foreigner_share_karte_district_2024-12-31.png"
    width, _, dpi = export.png_info(png.read_bytes())
    assert width >= 1890 and dpi == pytest.approx(300, abs=0.01)
    # the page's natural breaks: 3 published shares (11,8, 16,2, 31,8 %; 22 is suppressed),
    # fewer than 5 classes, so each share is a class bound
    assert "(Natürliche Brüche, 2 Klassen)" in svg
    assert ">11,8 % – 16,2 %<" in svg and ">16,2 % – 31,8 %<" in svg


def test_cell_key_exports_say_totals_need_not_add_up(demo_curated_dir, wh):
    """The demo publishes cell-key perturbed counts: every chart's source line (and so every
    export) says that totals need not equal the sum of their parts; a publication protected
    by suppression does not."""
    demo = queries.open_warehouse(demo_curated_dir)
    chart = map_export.map_chart(demo, SHARE, "2024-12-31", "district", "de")
    svg = export.chart_bytes(chart, "svg").decode("utf-8")
    assert "Cell-Key-Verfahren" in svg and "Summe ihrer Teile" in svg
    assert "bis ±3" in svg
    english = map_export.map_chart(demo, SHARE, "2024-12-31", "district", "en")
    assert "totals need not equal the sum of their parts" in export.chart_bytes(
        english, "svg"
    ).decode("utf-8")
    plain = export.chart_bytes(map_export.map_chart(wh, SHARE, LAST, "district", "de"), "svg")
    assert "Cell-Key" not in plain.decode("utf-8")
