"""Print-ready export of the Stadtteilprofil: the dot plot of shares and the small multiples
as PNG/SVG/PDF (real Kaleido renders, one Chromium for the module), their tables as
CSV/XLSX compared with the warehouse file, and the export buttons in headless Chromium.

Known answers from the synthetic warehouse (conftest.py): Südviertel (21) in Süd (2),
foreigners/residents 460/1490 on 31.12.2023 (rank 1 of 4), Süd 512/1995, the city
932/5025; Weststadt's (22) foreigner share and location quotient are suppressed on
31.12.2024, its other values are published (migration background 90/510).
"""

from __future__ import annotations

import io

import openpyxl
import page_calls
import pandas as pd
import pytest
import test_export
from dash_tree import find
from test_dash_browser import browser, open_page, wait_count  # noqa: F401
from test_export import png_chunks, read_csv
from test_profile_page import url  # noqa: F401
from test_segregation_page import _download

from dashboards import ids
from dashboards.app import create_app
from dashboards.components import common as components
from dashboards.data import queries
from dashboards.export import downloads
from dashboards.export import profile as profile_export
from dashboards.export import render as export
from dashboards.figures import common as figures

D2023, D2024 = "2023-12-31", "2024-12-31"
SOURCE = "Quelle: Einwohnermelderegister Teststadt · Stand: 31.12.2024"
LEVELS = {"Stadt": "city", "Stadtbezirk": "borough", "Stadtteil": "district"}
pypdf = pytest.importorskip("pypdf")
# the synthetic warehouse, its rows and one Chromium for the renders of this module
wh, warehouse_rows = test_export.wh, test_export.warehouse_rows
_one_chromium = test_export._one_chromium


def footer_text(chart: export.Chart) -> str:
    """Footnotes and source line of a print-ready chart, on one line."""
    notes = [a.text for a in chart.figure.layout.annotations if a.name == figures.CAPTION_NAME]
    return " ".join(notes[0].split("<br>"))


def _records(workbook_bytes: bytes) -> list[dict]:
    rows = list(openpyxl.load_workbook(io.BytesIO(workbook_bytes))["Daten"].values)
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def _key(record: dict) -> tuple:
    day = record["Stichtag"].date().isoformat()
    return record["Indikator-ID"], day, record["Gebietsschlüssel"], LEVELS[record["Gebietsebene"]]


# --- the dot plot of shares ---------------------------------------------------------------
def test_dots_chart_svg_png_pdf_of_weststadt(wh):
    chart = profile_export.dots_chart(wh, "22", D2024, "de")
    assert chart.filename("svg") == "profil_22_2024-12-31_anteile.svg"
    by_name = {trace.name: list(trace.x) for trace in chart.figure.data}
    # percent indicators only: foreigner share (suppressed for 22), migration background
    assert by_name["Weststadt"][0] is None
    assert by_name["Weststadt"][1] == pytest.approx(100 * 90 / 510)
    assert by_name["Süd"] == pytest.approx([100 * 500 / 1990, 100 * 810 / 1990])
    assert by_name["Teststadt"] == pytest.approx([100 * 950 / 5050, 100 * 1740 / 5050])
    svg = export.chart_bytes(chart, "svg").decode("utf-8")
    assert 'width="605"' in svg and ">Anteile im Vergleich: Weststadt<" in svg
    assert "Weststadt (Stadtteil), Süd, Teststadt · Stand 31.12.2024 · Einheit: %" in svg
    assert f">{SOURCE}<" in svg
    assert "Fehlender Punkt: kein ausgewiesener Wert" in svg
    assert "Hinweise: geheim gehalten: zu kleine Fallzahl" in svg  # why the dot is missing
    assert "Dargestellt sind die Anteile (in %)" in svg  # population, LQ: table only
    assert ">Migrationshintergrund<" in svg  # the long name wrapped for the narrow page
    assert ">40 %<" in svg and ">Süd<" in svg and ">Teststadt<" in svg
    width, height, dpi = export.png_info(export.chart_bytes(chart, "png"))
    assert width == 1890 and dpi == pytest.approx(300, abs=0.01)
    assert height == pytest.approx(chart.figure.layout.height * 300 / 96, abs=1)
    page = pypdf.PdfReader(io.BytesIO(export.chart_bytes(chart, "pdf"))).pages[0]
    text = " ".join(page.extract_text().split())
    assert "Anteile im Vergleich: Weststadt" in text and SOURCE in text


def test_dots_notes_name_the_earlier_date_of_every_indicator(wh):
    chart = profile_export.dots_chart(wh, "21", "2023-06-30", "de")  # no values on that date
    footer = footer_text(chart)
    assert "der letzte Wert bis zum 30.06.2023" in footer
    assert "Stand 31.12.2022" in chart.figure.layout.title.subtitle.text
    assert "Hinweise" not in footer and "Fehlender Punkt" not in footer  # all published
    assert "letzte Wert" not in footer_text(profile_export.dots_chart(wh, "21", D2023, "de"))


def test_profile_table_equals_the_warehouse_with_distance_and_rank(wh, warehouse_rows):
    table = profile_export.dots_table(wh, "21", D2023, "de")
    assert table.filename("csv") == "profil_21_2023-12-31_indikatoren.csv"
    records = _records(downloads.profile_dots_download(wh, "21", D2023, "xlsx", "de").content)
    # four indicators (catalogue order), each for Südviertel, Süd and the city
    assert [(r["Indikator-ID"], r["Gebietsschlüssel"]) for r in records[:4]] == [
        ("population", "21"),
        ("population", "2"),
        ("population", "00"),
        ("foreigner_share", "21"),
    ]
    assert len(records) == 4 * 3
    for record in records:
        value, numerator, denominator, *_ = warehouse_rows[_key(record)]
        assert record["Wert"] == pytest.approx(value, rel=1e-14)
        assert (record["Zähler"], record["Nenner"]) == (numerator, denominator)
    share = {r["Gebietsschlüssel"]: r for r in records if r["Indikator-ID"] == "foreigner_share"}
    assert share["21"]["Abstand zur Stadt"] == pytest.approx(100 * 460 / 1490 - 100 * 932 / 5025)
    assert (share["21"]["Rang (Stadtteil)"], share["21"]["Zahl der eingestuften Gebiete"]) == (1, 4)
    assert share["2"]["Rang (Stadtteil)"] is None and share["00"]["Abstand zur Stadt"] is None
    population = next(r for r in records if r["Indikator-ID"] == "population")
    assert population["Abstand zur Stadt"] is None  # a count: no distance, no rank
    assert population["Rang (Stadtteil)"] is None
    rows = read_csv(downloads.profile_dots_download(wh, "21", D2023, "csv", "de").content)
    line = next(r for r in rows if r[0] == "foreigner_share" and r[4] == "21")
    assert line[6:] == ["30,9", "%", "460", "1490", "12,3", "1", "4", ""]


def test_profile_table_hides_the_counts_of_a_suppressed_value(wh):
    rows = read_csv(downloads.profile_dots_download(wh, "22", D2024, "csv", "de").content)
    record = dict(zip(rows[0], next(r for r in rows if r[:1] == ["foreigner_share"]), strict=True))
    assert record["Gebietsschlüssel"] == "22" and record["Hinweis"] == "geheim gehalten"
    assert (record["Wert"], record["Zähler"], record["Nenner"], record["Rang (Stadtteil)"]) == (
        "",
        "",
        "",
        "",
    )
    assert record["Zahl der eingestuften Gebiete"] == "3"  # 11, 12, 21


# --- the small multiples ------------------------------------------------------------------
def test_multiples_chart_two_panels_per_row(wh):
    chart = profile_export.multiples_chart(wh, "21", D2024, "de")
    assert chart.filename("pdf") == "profil_21_2024-12-31_entwicklung.pdf"
    layout = chart.figure.layout
    x = [layout[f"xaxis{s}"].domain for s in ("", "2", "3", "4")]
    y = [layout[f"yaxis{s}"].domain for s in ("", "2", "3", "4")]
    assert x[0] == x[2] and x[1] == x[3] and x[0][1] < x[1][0]  # two columns
    assert y[0] == y[1] and y[2] == y[3] and y[2][1] < y[0][0]  # two rows
    assert layout.xaxis5.visible is False and layout.xaxis6.visible is False  # empty cells
    assert all(len(layout[f"xaxis{s}"].tickvals) <= 3 for s in ("", "2", "3", "4"))
    titles = [a for a in layout.annotations if a.name != figures.CAPTION_NAME]
    assert [a.text for a in titles][1] == "Ausländeranteil (%)"
    assert all(a.x == pytest.approx(sum(d) / 2) for a, d in zip(titles, x, strict=True))
    svg = export.chart_bytes(chart, "svg").decode("utf-8")
    assert ">Entwicklung: Südviertel<" in svg and f">{SOURCE}<" in svg
    assert ">31.12.2022<" in svg and ">30 %<" in svg and ">4.000<" in svg  # German numbers
    assert "Hinweise" not in svg  # every value of 21, Süd and the city is published
    page = pypdf.PdfReader(io.BytesIO(export.chart_bytes(chart, "pdf"))).pages[0]
    assert "Entwicklung: Südviertel" in " ".join(page.extract_text().split())


def test_multiples_notes_explain_flags_and_breaks_per_line():
    series = pd.DataFrame(
        {
            "indicator_id": ["a", "a", "b", "b"],
            "role": ["area", "area", "city", "city"],
            "definition_id": ["a1", "a1", "b1", "b1"],  # each indicator its own definition
            "flag": [None, "suppressed", None, None],
        }
    )
    notes = profile_export.multiples_notes(series, "de")
    assert len(notes) == 1 and notes[0].startswith("Hinweise: geheim gehalten: zu kleine")
    series.loc[3, "definition_id"] = "b2"  # the city's line of b changes its definition
    assert profile_export.multiples_notes(series, "de")[1].startswith("Lücke in einer Linie")


def test_multiples_table_equals_the_warehouse(wh, warehouse_rows):
    table = profile_export.multiples_table(wh, "22", D2024, "de")
    assert table.filename("xlsx") == "profil_22_2024-12-31_entwicklung.xlsx"
    assert "statistische Geheimhaltung" in " ".join(table.notes)
    records = _records(downloads.profile_multiples_download(wh, "22", D2024, "xlsx", "de").content)
    assert len(records) == 4 * 3 * 3  # indicators × dates × (Weststadt, Süd, city)
    assert [r["Gebiet"] for r in records[:3]] == ["Weststadt", "Süd", "Teststadt"]
    assert [r["Stichtag"].year for r in records[:4]] == [2022, 2022, 2022, 2023]
    for record in records:
        value, numerator, denominator, flag, _ = warehouse_rows[_key(record)]
        if flag == "suppressed":
            assert record["Wert"] is record["Zähler"] is record["Nenner"] is None
            continue
        assert record["Wert"] == pytest.approx(value, rel=1e-14)
        assert (record["Zähler"], record["Nenner"]) == (numerator, denominator)


def test_unknown_area_is_an_export_error(wh):
    with pytest.raises(export.ExportError):
        downloads.profile_dots_download(wh, "99", D2024, "png", "de")
    with pytest.raises(export.ExportError):
        downloads.profile_multiples_download(wh, "21", "1999-12-31", "csv", "de")


# --- the page -------------------------------------------------------------------------------
def test_both_charts_have_an_export_menu(synthetic_curated_dir):
    app = create_app(synthetic_curated_dir)
    layout = page_calls.run(app, page_calls.page("profile").layout, area="21", date=D2024)
    for chart in (ids.PROFILE_DOTS, ids.PROFILE_MULTIPLES):
        assert export_buttons(layout, chart) == ["PNG", "SVG", "PDF", "CSV", "XLSX"], chart


def export_buttons(layout, chart: str) -> list[str]:
    """The texts of the buttons in the export menu of ``chart``."""
    menu = find(layout, components.export_menu_id(chart))
    return [b.children for b in menu.children if getattr(b, "id", None)]


def test_browser_profile_downloads(browser, url, wh, warehouse_rows, tmp_path):  # noqa: F811
    with open_page(browser, url) as page:
        page.goto(f"{url}/profil?area=22&date={D2024}")
        wait_count(page, "#profile-dots g.scatterlayer g.trace", 3)
        files = {fmt: _download(page, ids.PROFILE_DOTS, fmt, tmp_path) for fmt in downloads.FORMATS}
        multiples = _download(page, ids.PROFILE_MULTIPLES, "csv", tmp_path)
        assert page.problems == []
    assert {fmt: f.name for fmt, f in files.items()} == {
        "png": "profil_22_2024-12-31_anteile.png",
        "svg": "profil_22_2024-12-31_anteile.svg",
        "pdf": "profil_22_2024-12-31_anteile.pdf",
        "csv": "profil_22_2024-12-31_indikatoren.csv",
        "xlsx": "profil_22_2024-12-31_indikatoren.xlsx",
    }
    chunks = png_chunks(files["png"].read_bytes())
    assert int.from_bytes(chunks[b"IHDR"][:4], "big") == 1890
    assert export.png_info(files["png"].read_bytes())[2] == pytest.approx(300, abs=0.01)
    svg = files["svg"].read_text(encoding="utf-8")
    assert ">Anteile im Vergleich: Weststadt<" in svg and f">{SOURCE}<" in svg
    assert files["pdf"].read_bytes().startswith(b"%PDF")
    text = " ".join(pypdf.PdfReader(files["pdf"]).pages[0].extract_text().split())
    assert "Anteile im Vergleich: Weststadt" in text and SOURCE in text
    rows = read_csv(files["csv"].read_bytes())
    record = dict(zip(rows[0], rows[1 + 3 * 2], strict=True))  # migration background of 22
    assert record["Indikator-ID"] == "migration_background_share"
    assert record["Gebietsschlüssel"] == "22"
    assert record["Wert"] == "17,6" and record["Abstand zur Stadt"] == "-16,8"  # 17,6 − 34,5
    workbook = openpyxl.load_workbook(files["xlsx"])
    assert workbook.sheetnames == ["Daten", "Metadaten"]
    notes = [r[1] for r in workbook["Metadaten"].iter_rows(values_only=True) if r[0] == "Hinweis"]
    assert any(note.startswith("Rang unter den Gebieten der Ebene Stadtteil") for note in notes)
    assert multiples.name == "profil_22_2024-12-31_entwicklung.csv"
    series = read_csv(multiples.read_bytes())
    assert len(series) == 1 + 36 and series[1][:6] == [
        "population",
        "Einwohnerinnen und Einwohner",
        "31.12.2022",
        "Stadtteil",
        "22",
        "Weststadt",
    ]
    value, *_ = warehouse_rows[("population", "2022-12-31", "22", "district")]
    assert series[1][6] == f"{value:.0f}"


def test_panel_rows_keep_room_for_their_own_titles():
    # two rows of two: titles of 1 and 3 lines, then 2 and 2; plots 100 px, dates 28 px
    columns = profile_export.COLUMNS[0]
    domains, height = profile_export._panel_domains([1, 3, 2, 2], columns, 100)
    rows = [6 + 15 * 3, 6 + 15 * 2]  # room above each row: its longest title
    assert height == sum(rows) + 2 * (100 + profile_export.PANEL_AXIS_PX)  # 51 + 36 + 256 = 343
    assert domains[0][1] == domains[1][1] == pytest.approx([1 - 151 / 343, 1 - 51 / 343])
    assert domains[2][1] == pytest.approx([1 - (179 + 36 + 100) / 343, 1 - 215 / 343])
    assert domains[0][0][0] == 0 and domains[1][0][1] == 1  # two columns fill the width


def test_berlin_multiples_as_compact_as_readable(berlin_curated_dir):
    """Berlin's 14 area indicators, whose titles name their base (#18): three panels per
    row with titles wrapped narrower and the lowest readable plots. That is 30 cm, more
    than the A4 text height (24,7 cm; a known gap since the titles grew); four panels per
    row would let titles and dates run into each other."""
    berlin = queries.open_warehouse(berlin_curated_dir)
    chart = profile_export.multiples_chart(berlin, "01", "2024-12-31", "de")
    layout = chart.figure.layout
    assert profile_export.PAGE_HEIGHT_PX == 934 < layout.height <= 1140
    titles = [a for a in layout.annotations if a.name != figures.CAPTION_NAME]
    columns = {tuple(layout[f"xaxis{'' if k == 0 else k + 1}"].domain) for k in range(3)}
    assert len(titles) == 14 and len(columns) == 3  # three panels side by side
    assert all(max(map(len, a.text.split("<br>"))) <= 22 for a in titles)
    assert layout.yaxis.domain[1] - layout.yaxis.domain[0] >= 90 / (
        layout.height - layout.margin.t - layout.margin.b
    )
