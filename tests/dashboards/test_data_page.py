"""Daten page (``/daten``): filtered rows, the table a person sees, CSV and XLSX downloads.

Expectations are computed by hand from ``COUNTS`` of ``conftest.py`` (Teststadt: four
districts, two boroughs; district 22's foreigner share suppressed on 31.12.2024) and read
from the warehouse file itself for the downloads.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

import dash
import duckdb
import openpyxl
import pytest
from conftest import COUNTS, DATES, SEGREGATION
from dash_tree import find, texts
from page_calls import page, run

from dashboards.app import create_app
from dashboards.data import queries
from dashboards.export import data as data_export
from dashboards.export import downloads
from dashboards.export import render as export
from dashboards.export import tables as export_tables
from etl.warehouse import PUBLICATION

SHARE = "foreigner_share"
MIGRATION = "migration_background_share"
SEG = "segregation_is_migration_background"
TWO_DATES = ["2023-12-31", "2024-12-31"]
DISTRICTS = ["11", "12", "21", "22"]
KEY = {SHARE: "for", MIGRATION: "mig"}


@pytest.fixture(scope="module")
def wh(synthetic_curated_dir):
    return queries.open_warehouse(synthetic_curated_dir)


@pytest.fixture(scope="module")
def app(synthetic_curated_dir):
    return create_app(synthetic_curated_dir)


@pytest.fixture(scope="module")
def warehouse(synthetic_curated_dir):
    """indicator_values keyed by (indicator, date, area, level) and the indicators table."""
    path = synthetic_curated_dir / "current" / PUBLICATION
    with duckdb.connect(str(path), read_only=True) as con:
        values = con.execute(
            "SELECT indicator_id, CAST(ref_date AS VARCHAR), area_id, level, value, numerator, "
            "denominator, flag, n_units FROM indicator_values"
        ).fetchall()
        definitions = dict(
            con.execute("SELECT indicator_id, definition_de FROM indicators").fetchall()
        )
    return {r[:4]: r[4:] for r in values}, definitions


def expected_share(indicator: str, ref_date: str, district: str) -> tuple:
    """(value, numerator, denominator) of a district share, from COUNTS."""
    i = DATES.index(ref_date)
    num, pop = COUNTS[district][KEY[indicator]][i], COUNTS[district]["pop"][i]
    return 100.0 * num / pop, num, pop


# --- the selection -----------------------------------------------------------------------
def test_two_indicators_two_dates_districts(wh):
    table = data_export.data_table(wh, [SHARE, MIGRATION], "district", TWO_DATES, [], "de")
    rows = table.rows
    assert len(rows) == 2 * 2 * 4
    keys = list(zip(rows["indicator_id"], rows["ref_date"], rows["area_id"], strict=True))
    assert keys == [(i, d, a) for i in (SHARE, MIGRATION) for d in TWO_DATES for a in DISTRICTS]
    for row in rows.to_dict("records"):
        assert row["level"] == "district"
        value, num, pop = expected_share(row["indicator_id"], row["ref_date"], row["area_id"])
        if (row["indicator_id"], row["ref_date"], row["area_id"]) == (SHARE, DATES[-1], "22"):
            assert pd_missing(row["value"]) and row["flag"] == "suppressed"
            continue
        assert row["value"] == pytest.approx(value)
        assert (row["numerator"], row["denominator"]) == (num, pop)
    # by hand: 120 / 1020 foreigners in Altstadt on 31.12.2024
    altstadt = rows[(rows["indicator_id"] == SHARE) & (rows["ref_date"] == DATES[-1])].iloc[0]
    assert altstadt["value"] == pytest.approx(11.7647058823, rel=1e-9)
    assert table.stem == f"{SHARE}-{MIGRATION}_daten_district_2023-12-31_2024-12-31"


def pd_missing(value: object) -> bool:
    return value is None or value != value


def test_area_filter_keeps_city_wide_segregation_rows(wh):
    table = data_export.data_table(wh, [SHARE, SEG], "district", DATES, ["12", "21"], "de")
    rows = table.rows
    shares = rows[rows["indicator_id"] == SHARE]
    assert sorted(set(shares["area_id"])) == ["12", "21"] and len(shares) == 2 * 3
    seg = rows[rows["indicator_id"] == SEG]
    assert list(seg["area_id"]) == ["00"] * 3 and list(seg["name"]) == ["Teststadt"] * 3
    assert list(seg["value"]) == pytest.approx([v for v, _ in SEGREGATION["district"]])
    assert list(seg["n_units"]) == [4, 4, 4]
    assert table.stem.endswith("_auswahl")
    borough = data_export.data_table(wh, [SEG], "borough", [DATES[0]], [], "de").rows
    assert list(borough["value"]) == [0.10] and list(borough["n_units"]) == [2]


def test_no_rows_for_a_level_without_values(wh):
    table = data_export.data_table(wh, [SEG], "city", DATES, [], "de")
    assert table.rows.empty and list(table.rows.columns) == export_tables.ROW_COLUMNS


# --- the page ----------------------------------------------------------------------------
def test_layout_defaults(app):
    layout = run(app, page("data").layout)
    assert find(layout, "data-indicators").value == [SHARE]  # first percent indicator
    assert find(layout, "data-level").value == "district"  # finest level
    assert find(layout, "data-dates").value == [DATES[-1]]
    assert find(layout, "data-areas").value == []
    assert [o["value"] for o in find(layout, "data-areas").options] == DISTRICTS


def test_layout_takes_state_from_url_and_reports_unknown_values(app):
    layout = run(
        app,
        page("data").layout,
        indicators=f"{SEG},nonsense,{SHARE}",
        level="borough",
        dates="2022-12-31,1999-12-31",
        areas="2,99",
    )
    assert find(layout, "data-indicators").value == [SEG, SHARE]
    assert find(layout, "data-level").value == "borough"
    assert find(layout, "data-dates").value == ["2022-12-31"]
    assert find(layout, "data-areas").value == ["2"]
    notice = " ".join(texts(layout))
    assert "„nonsense“" in notice and "„1999-12-31“" in notice and "„99“" in notice


def test_page_is_listed_after_the_others(app):
    public = [p for p in dash.page_registry.values() if not p.get("login_only")]  # not /intern
    pages = sorted(public, key=lambda p: p.get("order") or 0)
    data = next(p for p in pages if p["path"] == "/daten")
    assert data["nav_key"] == "nav.data" and pages[-1]["path"] in ("/daten", "/404")
    html = app.server.test_client().get("/daten").get_data(as_text=True)
    assert "Daten – Integrationsmonitoring" in html


def test_table_in_german_notation_without_suppressed_counts(app):
    table, count = run(
        app, page("data").update_table, [SHARE, MIGRATION], "district", TWO_DATES, [], None
    )
    assert count == "Zeilen: 16"
    body = list(find(table, "data-table-table").find("tbody"))
    assert len(body) == 16
    cells = [texts(row) for row in body]
    altstadt = cells[4]  # foreigner share, 31.12.2024, district 11: 120 / 1020
    assert altstadt == [
        "Ausländeranteil",
        "31.12.2024",
        "11",
        "Altstadt",
        "11,8",
        "%",
        "120",
        "1.020",
        "",
    ]
    weststadt = cells[7]  # suppressed: no value and no counts
    assert weststadt == [
        "Ausländeranteil",
        "31.12.2024",
        "22",
        "Weststadt",
        "–",
        "%",
        "–",
        "–",
        "geheim gehalten",
    ]
    assert any("statistische Geheimhaltung" in s for s in texts(table))  # flag_notes


def test_table_shows_units_of_segregation_indices_and_sorts(app):
    table, count = run(
        app, page("data").update_table, [SEG], "district", DATES, [], {"col": "value", "desc": True}
    )
    assert count == "Zeilen: 3"
    header = texts(find(table, "data-table-table").find("thead"))
    assert "Zahl der Gebiete" in header and "Zähler" not in header
    body = [texts(r) for r in find(table, "data-table-table").find("tbody")]
    assert [r[4] for r in body] == ["0,23", "0,21", "0,20"]  # sorted by value, descending
    assert {r[-2] for r in body} == {"4"}
    assert any("Segregationsindizes beschreiben" in s for s in texts(table))


def test_empty_filters_ask_for_a_choice(app):
    table, count = run(app, page("data").update_table, [], "district", DATES, [], None)
    assert count is None and "mindestens einen Indikator" in texts(table)[0]


def test_dates_and_areas_follow_the_filters(app):
    data = page("data")
    options, value = run(app, data.update_dates, [SEG], ["2023-12-31", "1999-12-31"])
    assert [o["value"] for o in options] == DATES[::-1] and value == ["2023-12-31"]
    _, value = run(app, data.update_dates, [SHARE], None)
    assert value == [DATES[-1]]
    options, value = run(app, data.update_areas, "borough", [DATES[-1]], ["1", "11"])
    assert [o["label"] for o in options] == ["Nord", "Süd"] and value == ["1"]


# --- downloads ---------------------------------------------------------------------------
def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def test_csv_download_is_the_filtered_rows_in_german_notation(wh, warehouse):
    values, _ = warehouse
    file = downloads.data_download(
        wh, [SHARE, MIGRATION], "district", TWO_DATES, ["22"], "csv", "de"
    )
    assert file.filename == f"{SHARE}-{MIGRATION}_daten_district_2023-12-31_2024-12-31_auswahl.csv"
    rows = read_csv(file.content)
    header, body = rows[0], rows[1:]
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
    assert len(body) == 2 * 2
    records = [dict(zip(header, row, strict=True)) for row in body]
    # by hand from COUNTS: Weststadt 52/505 foreigners, 104/505 and 90/510 migration bg.
    assert [
        (r["Stichtag"], r["Wert"], r["Zähler"], r["Nenner"], r["Hinweis"]) for r in records
    ] == [
        ("31.12.2023", "10,3", "52", "505", ""),
        ("31.12.2024", "", "", "", "geheim gehalten"),
        ("31.12.2023", "20,6", "104", "505", ""),
        ("31.12.2024", "17,6", "90", "510", ""),
    ]
    for record in records:
        day, month, year = record["Stichtag"].split(".")
        value = values[(record["Indikator-ID"], f"{year}-{month}-{day}", "22", "district")][0]
        if value is not None:
            assert record["Wert"] == f"{value:.1f}".replace(".", ",")


def test_xlsx_download_data_and_metadata_sheets(wh, warehouse):
    values, definitions = warehouse
    chosen = [SHARE, SEG]
    file = downloads.data_download(wh, chosen, "district", TWO_DATES, [], "xlsx", "de")
    assert file.filename == f"{SHARE}-{SEG}_daten_district_2023-12-31_2024-12-31.xlsx"
    workbook = openpyxl.load_workbook(io.BytesIO(file.content))
    assert workbook.sheetnames == ["Daten", "Metadaten"]
    data = list(workbook["Daten"].iter_rows(values_only=True))
    header, body = data[0], data[1:]
    assert len(body) == 4 * 2 + 2
    for row in body:
        record = dict(zip(header, row, strict=True))
        date = record["Stichtag"].date().isoformat()
        value, numerator, denominator, flag, n_units = values[
            (record["Indikator-ID"], date, record["Gebietsschlüssel"], "district")
        ]
        assert record["Wert"] == (None if value is None else pytest.approx(value, rel=1e-14))
        if flag == "suppressed":
            assert record["Zähler"] is record["Nenner"] is None
        else:
            assert (record["Zähler"], record["Nenner"]) == (numerator, denominator)
        assert record["Zahl der Gebiete"] == n_units
    _check_metadata(list(workbook["Metadaten"].iter_rows(values_only=True)), chosen, definitions)


def _check_metadata(meta: list[tuple], chosen: list[str], definitions: dict) -> None:
    heading = next(i for i, row in enumerate(meta) if row[0] == "Indikator-ID")
    records = [
        dict(zip(meta[heading], row, strict=False))
        for row in meta[heading + 1 : heading + 1 + len(chosen)]
    ]
    assert [r["Indikator-ID"] for r in records] == chosen
    assert [r["Definition"] for r in records] == [definitions[i] for i in chosen]
    assert {r["Stand"] for r in records} == {"31.12.2024"}
    assert {r["Quelle"] for r in records} == {"Einwohnermelderegister Teststadt"}


def test_download_refuses_image_formats(wh):
    with pytest.raises(export.ExportError, match="unknown table format 'png'"):
        downloads.data_download(wh, [SHARE], "district", TWO_DATES, [], "png", "de")


# --- in the browser ----------------------------------------------------------------------
def test_filter_reload_and_download_in_the_browser(synthetic_curated_dir, tmp_path):
    from test_dash_browser import (
        BROWSER_ARGS,
        CHROMIUM,
        open_page,
        select,
        serve,
        wait_count,
        wait_text,
    )

    playwright_api = pytest.importorskip("playwright.sync_api")
    query = f"indicators={SHARE},{MIGRATION}&level=district&dates=2023-12-31,2024-12-31"
    with serve(synthetic_curated_dir) as url, playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        with open_page(browser, url) as tab:
            tab.goto(f"{url}/daten?{query}")
            wait_text(tab, "#data-count", "Zeilen: 16")
            select(tab, "data-level", "Stadtbezirk")
            wait_text(tab, "#data-count", "Zeilen: 8")  # 2 indicators x 2 dates x 2 boroughs
            tab.wait_for_function("() => location.search.includes('level=borough')")
            shared = tab.url
            tab.goto(shared)
            wait_text(tab, "#data-count", "Zeilen: 8")
            assert "Stadtbezirk" in tab.locator("#data-level").inner_text()
            wait_count(tab, "#data-table-table tbody tr", 8)
            with tab.expect_download() as info:
                tab.get_by_role("button", name="XLSX", exact=True).click()
            xlsx = tmp_path / info.value.suggested_filename
            info.value.save_as(xlsx)
            problems = list(tab.problems)
        browser.close()
    assert problems == []
    assert "indicators=" in shared and "dates=2023-12-31,2024-12-31" in shared
    assert xlsx.name == f"{SHARE}-{MIGRATION}_daten_borough_2023-12-31_2024-12-31.xlsx"
    workbook = openpyxl.load_workbook(xlsx)
    rows = list(workbook["Daten"].iter_rows(values_only=True))
    assert len(rows) == 1 + 8
    nord = dict(zip(rows[0], rows[1], strict=True))  # foreigner share, Nord, 31.12.2023
    assert (nord["Gebietsschlüssel"], nord["Stichtag"]) == ("1", datetime(2023, 12, 31))
    assert nord["Wert"] == pytest.approx(100.0 * (110 + 310) / (1010 + 2020))
    assert "Metadaten" in workbook.sheetnames
