"""CSV and XLSX exports are safe to open in a spreadsheet (#20, formula injection).

The synthetic Teststadt of ``conftest.py`` with hostile area names (as a boundary file or
an area list could bring them) and a hostile attribution: every text cell that begins
with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading ``'`` (OWASP), in
the dashboard's downloads and in ``imon export``; numbers, also negative ones, stay
numbers; no XLSX cell is a formula.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import openpyxl
import pytest
from conftest import build_warehouse

from dashboards.data import queries
from dashboards.export import downloads
from dashboards.export.cells import neutralise
from dashboards.export.report import ExportRequest, run_export
from etl.warehouse import PUBLICATION

HYPERLINK = '=HYPERLINK("http://x","a")'
HOSTILE_NAMES = {"11": HYPERLINK, "12": "-Nord", "21": "+1", "22": "@SUM(A1)"}
ESCAPED_NAMES = {
    "11": "'" + HYPERLINK,
    "12": "'-Nord",
    "21": "'+1",
    "22": "'@SUM(A1)",
}
ATTRIBUTION = "=cmd|' /C calc'!A0"
SHARE = "foreigner_share"
MIGRATION = "migration_background_share"
LAST = "2024-12-31"
DATES = ("2022-12-31", LAST)


@pytest.fixture(scope="module")
def hostile_curated(tmp_path_factory) -> Path:
    """Teststadt published in a tmp folder, its districts renamed to formulas."""
    curated = tmp_path_factory.mktemp("hostile") / "curated"
    snapshot = curated / "snapshots" / "s1"
    snapshot.mkdir(parents=True)
    build_warehouse(snapshot / PUBLICATION)
    with duckdb.connect(str(snapshot / PUBLICATION)) as con:
        for area_id, name in HOSTILE_NAMES.items():
            con.execute("UPDATE areas SET name = ? WHERE area_id = ?", [name, area_id])
        con.execute("UPDATE meta SET value = ? WHERE key = 'attribution'", [ATTRIBUTION])
    (curated / "current").symlink_to(Path("snapshots") / "s1", target_is_directory=True)
    return curated


@pytest.fixture(scope="module")
def wh(hostile_curated):
    return queries.open_warehouse(hostile_curated)


def read_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def records(rows: list[list[str]]) -> list[dict[str, str]]:
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def assert_no_formula(content: bytes) -> list[list[object]]:
    """Every sheet's cells: none a formula, no text beginning with a formula character."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    values = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r"))
            values.append([cell.value for cell in row])
    return values


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        (HYPERLINK, "'" + HYPERLINK),
        ("-Nord", "'-Nord"),
        ("+1", "'+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\r=1", "'\r=1"),
        ("Nord-Ost", "Nord-Ost"),
        ("a=b", "a=b"),
        ("", ""),
        (-3.5, -3.5),
        (-2, -2),
        (None, None),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_dashboard_csv_download_escapes_area_names(wh):
    file = downloads.map_download(wh, SHARE, LAST, "district", "csv", "de")
    rows = records(read_csv(file.content))
    names = {r["Gebietsschlüssel"]: r["Gebiet"] for r in rows}
    assert names == ESCAPED_NAMES
    # numbers unchanged: district 12 has 330 foreigners of 2040 residents = 16,2 %
    district = next(r for r in rows if r["Gebietsschlüssel"] == "12")
    assert (district["Wert"], district["Zähler"], district["Nenner"]) == ("16,2", "330", "2040")


def test_dashboard_xlsx_download_has_no_formula(wh):
    file = downloads.map_download(wh, SHARE, LAST, "district", "xlsx", "de")
    book = openpyxl.load_workbook(io.BytesIO(file.content))
    data = list(book["Daten"].iter_rows(values_only=True))
    rows = [dict(zip(data[0], row, strict=True)) for row in data[1:]]
    names = {row["Gebietsschlüssel"]: row["Gebiet"] for row in rows}
    assert names == ESCAPED_NAMES
    rows = assert_no_formula(file.content)
    assert ["Datenquellen", "'" + ATTRIBUTION] in [row[:2] for row in rows]


def test_negative_numbers_stay_numbers(wh):
    """Change of the migration-background share of district 22 (``@SUM(A1)``) from
    31.12.2022 to 31.12.2024: 90/510 − 100/500 = 17,647 % − 20 % = −2,353 points."""
    kwargs = dict(indicator_id=MIGRATION, level="district", dates=DATES, lang="de")
    csv_file = downloads.compare_map_download(wh, fmt="csv", **kwargs)
    csv_rows = records(read_csv(csv_file.content))
    row = next(
        r for r in csv_rows if (r["Gebietsschlüssel"], r["Stichtag"]) == ("22", "31.12.2024")
    )
    change = next(v for k, v in row.items() if k.startswith("Veränderung"))
    assert change == "-2,4" and row["Gebiet"] == "'@SUM(A1)"
    xlsx_file = downloads.compare_map_download(wh, fmt="xlsx", **kwargs)
    book = openpyxl.load_workbook(io.BytesIO(xlsx_file.content))
    data = list(book["Daten"].iter_rows())
    header = [cell.value for cell in data[0]]
    cells = [dict(zip(header, r, strict=True)) for r in data[1:]]
    cells = next(c for c in cells if c["Gebietsschlüssel"].value == "22" and c["Wert"].value < 18)
    change_cell = next(v for k, v in cells.items() if k.startswith("Veränderung"))
    assert change_cell.data_type == "n"
    assert change_cell.value == pytest.approx(100 * 90 / 510 - 20)
    assert_no_formula(xlsx_file.content)


def test_imon_export_writes_escaped_csv_and_xlsx(hostile_curated, tmp_path):
    request = ExportRequest(
        indicator_ids=[SHARE], formats=["csv", "xlsx"], out_dir=tmp_path, level="district"
    )
    written = run_export(hostile_curated, request, progress=lambda _: None)
    map_stem = f"{SHARE}_karte_district_{LAST}"
    assert {p.name for p in written} >= {f"{map_stem}.csv", f"{map_stem}.xlsx", "metadaten.csv"}
    rows = records(read_csv((tmp_path / f"{map_stem}.csv").read_bytes()))
    assert {r["Gebietsschlüssel"]: r["Gebiet"] for r in rows} == ESCAPED_NAMES
    meta = read_csv((tmp_path / "metadaten.csv").read_bytes())
    assert ["Datenquellen", "'" + ATTRIBUTION] in meta
    for path in written:
        if path.suffix == ".xlsx":
            assert_no_formula(path.read_bytes())
        for row in read_csv(path.read_bytes()) if path.suffix == ".csv" else []:
            assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in row)
