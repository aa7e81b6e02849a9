"""Vendor column layouts (docs/REGISTER_LAYOUTS.md).

The same 25 persons (the tiny city's 2024 extract, household ids with umlauts) are
written in the default layout (``melderegister_default.csv``), as a cp1252 vendor CSV
with other names, codes and ``,`` decimals (``melderegister_vendor.csv`` with
``vendor-csv.yaml``) and as an XLSX workbook written here (``vendor-xlsx.yaml``). All
three must stage to the same ``stg_persons``; broken inputs give one clear error.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from datetime import date
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest
import yaml

from etl import warehouse
from etl.build import build
from etl.errors import InputError
from etl.profile import Register
from etl.sources import register_persons
from etl.sources.register_layout import load_layout
from tests.conftest import REPO, TINY_PROFILE, tiny_profile

VENDOR = REPO / "tests" / "fixtures" / "vendor"
DEFAULT_CSV = VENDOR / "melderegister_default.csv"
VENDOR_CSV = VENDOR / "melderegister_vendor.csv"
EXAMPLE_LAYOUT = REPO / "profiles" / "layouts" / "example-vendor.yaml"
REF_DATE = date(2024, 12, 31)
HEADER_ROW = 3  # of the XLSX sheet 'Einwohner' (vendor-xlsx.yaml)
BLANK_AFTER = 10  # the XLSX has an empty row after this many persons


@pytest.fixture
def vendor(tmp_path) -> Path:
    """A private copy of the vendor fixtures (layouts, code file, extracts) to break."""
    return Path(shutil.copytree(VENDOR, tmp_path / "vendor"))


def staged(con, path: Path, layout: Path | None = None) -> pd.DataFrame:
    register_persons.stage(con, path, REF_DATE, layout)
    return con.execute("SELECT * FROM stg_persons ORDER BY person_id").df()


def vendor_rows() -> list[list[str]]:
    lines = VENDOR_CSV.read_bytes().decode("cp1252").splitlines()
    return [line.split(";") for line in lines]


def write_vendor_csv(path: Path, edit) -> Path:
    lines = VENDOR_CSV.read_bytes().decode("cp1252").splitlines()
    path.write_bytes(("\r\n".join(edit(lines)) + "\r\n").encode("cp1252"))
    return path


def replace_cell(line: str, column: int, value: str) -> str:
    cells = line.split(";")
    cells[column] = value
    return ";".join(cells)


def sheet_row(person: int) -> int:
    """Sheet row of the person at 0-based position ``person`` of the vendor rows."""
    return HEADER_ROW + 1 + person + (person >= BLANK_AFTER)


def excel_value(column: str, text: str, row: int) -> object:
    """Typed like a spreadsheet export: sex as numbers, years as numbers in odd rows and
    as German-formatted text ('1.985,00') in even rows, everything else as text."""
    if text == "":
        return None
    if column == "Geschlecht":
        return int(text)
    if column in ("Geburtsjahr", "Zuzugsjahr") and row % 2:
        return float(text.replace(".", "").replace(",", "."))
    return text


def write_xlsx(path: Path, rows: list[list[str]] | None = None, merge: str | None = None) -> Path:
    """The vendor rows as a workbook: an info sheet first, then 'Einwohner' with a merged
    title in row 1, the header in row 3 and one empty row among the persons."""
    header, *persons = rows or vendor_rows()
    workbook = openpyxl.Workbook()
    workbook.active.title = "Hinweise"
    workbook.active["A1"] = "Export aus dem Einwohnerverfahren"
    sheet = workbook.create_sheet("Einwohner")
    sheet["A1"] = "Einwohnerinnen und Einwohner am 31.12.2024"
    sheet.merge_cells("A1:D1")
    for col, name in enumerate(header, start=1):
        sheet.cell(HEADER_ROW, col, name)
    for i, person in enumerate(persons):
        for col, (name, text) in enumerate(zip(header, person, strict=True), start=1):
            sheet.cell(sheet_row(i), col, excel_value(name, text, sheet_row(i)))
    if merge:
        sheet.merge_cells(merge)
    workbook.save(path)
    return path


# --- the same persons in every layout ------------------------------------------------


def test_vendor_csv_stages_like_the_default_layout(con):
    expected = staged(con, DEFAULT_CSV)
    got = staged(con, VENDOR_CSV, VENDOR / "vendor-csv.yaml")
    pd.testing.assert_frame_equal(got, expected)
    assert "Fährweg 3" in set(got["household_id"])  # cp1252 umlauts decoded
    assert got.loc[got.person_id == "P12", "birth_year"].item() == 2019  # from '2.019,00'


def test_vendor_xlsx_stages_like_the_default_layout(con, tmp_path):
    workbook = write_xlsx(tmp_path / "melderegister.xlsx")
    pd.testing.assert_frame_equal(
        staged(con, workbook, VENDOR / "vendor-xlsx.yaml"), staged(con, DEFAULT_CSV)
    )


def test_build_with_a_layout_publishes_the_same_population(tmp_path):
    def population(extract: Path, layout: Path | None, name: str):
        raw = tmp_path / name / "raw"
        shutil.copytree(TINY_PROFILE.parent / "raw" / "gebiete", raw / "gebiete")
        target = raw / "melderegister" / "2024-12-31" / f"melderegister_2024-12-31{extract.suffix}"
        target.parent.mkdir(parents=True)
        shutil.copy(extract, target)
        register = Register(
            files=f"melderegister/*/*{extract.suffix}", attribution="Test", layout=layout
        )
        result = build(
            tiny_profile(tmp_path / name / "curated", raw_dir=raw, register_source=register)
        )
        with duckdb.connect(str(result.snapshot / warehouse.DATABASE), read_only=True) as db:
            return db.execute("SELECT * FROM population ORDER BY ALL").fetchall()

    expected = population(DEFAULT_CSV, None, "default")
    assert expected
    assert population(VENDOR_CSV, VENDOR / "vendor-csv.yaml", "csv") == expected
    workbook = write_xlsx(tmp_path / "export.xlsx")
    assert population(workbook, VENDOR / "vendor-xlsx.yaml", "xlsx") == expected


def test_keep_unmapped_passes_canonical_codes_through(con, vendor):
    layout = vendor / "vendor-csv.yaml"
    layout.write_text(
        layout.read_text(encoding="utf-8").replace(
            "staatsangehoerigkeit_1: {file: staaten.csv}",
            "staatsangehoerigkeit_1: {file: staaten.csv, keep_unmapped: true}",
        ),
        encoding="utf-8",
    )
    extract = write_vendor_csv(
        vendor / "extract.csv", lambda ls: [*ls[:1], replace_cell(ls[1], 4, "TR"), *ls[2:]]
    )
    pd.testing.assert_frame_equal(staged(con, extract, layout), staged(con, DEFAULT_CSV))


def test_transcoded_copy_is_removed(con, vendor):
    def leftovers() -> set[Path]:
        return set(Path(tempfile.gettempdir()).glob("imon-register-*"))

    before = leftovers()
    staged(con, VENDOR_CSV, VENDOR / "vendor-csv.yaml")
    broken = write_vendor_csv(vendor / "extract.csv", lambda ls: [*ls, ls[1]])
    with pytest.raises(InputError):
        staged(con, broken, vendor / "vendor-csv.yaml")
    assert leftovers() == before


def test_example_layout_is_valid_and_documented():
    layout = load_layout(EXAMPLE_LAYOUT, register_persons.canonical())
    assert set(layout.column_map) == {name for name, _ in register_persons.canonical()}
    assert layout.recodes["staatsangehoerigkeit_1"].values["000"] == "DE"
    docs = (REPO / "docs" / "REGISTER_LAYOUTS.md").read_text(encoding="utf-8")
    shown = re.findall(r"```yaml\n(.*?)```", docs.split("## Complete example")[1], re.S)[0]
    assert yaml.safe_load(shown) == yaml.safe_load(EXAMPLE_LAYOUT.read_text(encoding="utf-8"))


# --- broken inputs: one error naming file, line/row and column -----------------------

CSV_CASES = {
    "renamed column": (
        lambda ls: [ls[0].replace("Geburtsjahr", "GebJahr"), *ls[1:]],
        1,
        "Geburtsjahr",
        "missing column",
    ),
    "unexpected column": (
        lambda ls: [ls[0].replace("Familienstand", "Vorname"), *ls[1:]],
        1,
        "Vorname",
        "unexpected column",
    ),
    "unmapped code": (
        lambda ls: [*ls[:4], replace_cell(ls[4], 3, "7"), *ls[5:]],
        5,
        "Geschlecht",
        "codes.geschlecht.values of vendor-csv.yaml",
    ),
    "unmapped country": (
        lambda ls: [*ls[:2], replace_cell(ls[2], 6, "XYZ"), *ls[3:]],
        3,
        "Geburtsstaat",
        "a code listed in staaten.csv",
    ),
    "duplicate person id": (
        lambda ls: [*ls, ls[3].replace("Am Bühl 1", "Am Bühl 9")],
        27,
        "PersNr",
        "not used in an earlier row",
    ),
    "not a whole number": (
        lambda ls: [*ls[:6], replace_cell(ls[6], 2, "1.950,5"), *ls[7:]],
        7,
        "Geburtsjahr",
        "found '1.950,5', expected a whole number",
    ),
    "truncated row": (
        lambda ls: [*ls[:-1], ls[-1][:12]],
        26,
        "Staatsangehörigkeit",
        "cannot be read",
    ),
}


@pytest.mark.parametrize("case", CSV_CASES)
def test_bad_vendor_csv(con, vendor, case):
    edit, line, column, words = CSV_CASES[case]
    extract = write_vendor_csv(vendor / "extract.csv", edit)
    with pytest.raises(InputError) as info:
        staged(con, extract, vendor / "vendor-csv.yaml")
    err = info.value
    assert (Path(err.file), err.line, err.column) == (extract, line, column)
    assert words in str(err)


def test_cp1252_file_declared_utf8(con, vendor):
    layout = vendor / "vendor-csv.yaml"
    layout.write_text(
        layout.read_text(encoding="utf-8").replace("encoding: cp1252", "encoding: utf-8"),
        encoding="utf-8",
    )
    with pytest.raises(
        InputError, match="not valid utf-8 text: byte 0xf6 at byte column 51"
    ) as info:  # ö of 'Staatsangehörigkeit' in the header
        staged(con, VENDOR_CSV, layout)
    assert (Path(info.value.file), info.value.line) == (VENDOR_CSV, 1)


def test_cp1252_data_in_the_default_utf8_layout(con, tmp_path):
    extract = tmp_path / "melderegister.csv"
    extract.write_bytes(DEFAULT_CSV.read_text(encoding="utf-8").encode("cp1252"))
    with pytest.raises(InputError, match="not valid utf-8 text") as info:
        staged(con, extract)
    assert (info.value.line, info.value.column) == (2, "haushalt_id")  # 'Am Bühl 1'


def test_byte_undefined_in_the_declared_encoding(con, vendor):
    extract = vendor / "extract.csv"
    data = VENDOR_CSV.read_bytes().replace("Fährweg 3".encode("cp1252"), b"F\x81hrweg 3", 1)
    extract.write_bytes(data)
    with pytest.raises(InputError, match="byte 0x81 at byte column 44") as info:
        staged(con, extract, vendor / "vendor-csv.yaml")
    assert (Path(info.value.file), info.value.line) == (extract, 7)


def test_empty_vendor_file(con, vendor):
    extract = vendor / "extract.csv"
    extract.write_bytes(b"")
    with pytest.raises(InputError, match="file is empty") as info:
        staged(con, extract, vendor / "vendor-csv.yaml")
    assert info.value.line == 1


def test_header_only(con, vendor):
    extract = write_vendor_csv(vendor / "extract.csv", lambda ls: ls[:1])
    with pytest.raises(InputError, match="no data rows") as info:
        staged(con, extract, vendor / "vendor-csv.yaml")
    assert info.value.line == 2


def test_xlsx_unmapped_code_names_the_sheet_row(con, tmp_path):
    rows = vendor_rows()
    rows[1 + 12][3] = "7"  # person 12, below the empty row
    workbook = write_xlsx(tmp_path / "export.xlsx", rows)
    with pytest.raises(InputError, match="found '7'") as info:
        staged(con, workbook, VENDOR / "vendor-xlsx.yaml")
    assert (Path(info.value.file), info.value.line, info.value.column) == (
        workbook,
        sheet_row(12),
        "Geschlecht",
    )
    assert sheet_row(12) == 17


def test_xlsx_merged_header_cells(con, tmp_path):
    workbook = write_xlsx(tmp_path / "export.xlsx", merge="A3:B3")
    with pytest.raises(
        InputError,
        match=r"sheet 'Einwohner': merged header cells A3:B3; "
        "expected one column name per cell",
    ) as info:
        staged(con, workbook, VENDOR / "vendor-xlsx.yaml")
    assert (Path(info.value.file), info.value.line) == (workbook, HEADER_ROW)


def test_xlsx_missing_column(con, tmp_path):
    rows = vendor_rows()
    rows[0][6] = "Geburtsland"
    workbook = write_xlsx(tmp_path / "export.xlsx", rows)
    with pytest.raises(InputError, match="missing column") as info:
        staged(con, workbook, VENDOR / "vendor-xlsx.yaml")
    assert (info.value.line, info.value.column) == (HEADER_ROW, "Geburtsstaat")


def test_xlsx_empty_file(con, tmp_path):
    workbook = tmp_path / "export.xlsx"
    workbook.write_bytes(b"")
    with pytest.raises(InputError, match="file is empty"):
        staged(con, workbook, VENDOR / "vendor-xlsx.yaml")


# --- invalid layout files: the error names the layout file, field and line -----------

LAYOUT_CASES = {
    "unknown canonical column": (
        ("  haushalt_id: Haushalt\n", "  haushalt_id: Haushalt\n  vorname: Vorname\n"),
        20,
        "field 'columns.vorname': 'vorname' is not a canonical",
    ),
    "required column not mapped": (
        ("  personen_id: PersNr\n", ""),
        8,
        "field 'columns.personen_id': required canonical column",
    ),
    "unknown encoding": (
        ("encoding: cp1252", "encoding: ansi-deutsch"),
        4,
        "field 'encoding': unknown encoding 'ansi-deutsch'",
    ),
    "multi-byte encoding": (
        ("encoding: cp1252", "encoding: utf-16"),
        4,
        "field 'encoding': 'utf-16' writes line breaks",
    ),
    "values and file": (
        (
            "{file: staaten.csv}\n  staatsangehoerigkeit_2",
            "{file: staaten.csv, values: {A: DE}}\n  staatsangehoerigkeit_2",
        ),
        24,
        "field 'codes.staatsangehoerigkeit_1': give exactly one of",
    ),
    "unknown setting": (("decimal:", "dezimal:"), 6, "field 'dezimal': unknown setting"),
    "xlsx setting in a csv layout": (
        ("ignore:", "sheet: Daten\nignore:"),
        None,
        "'sheet' does not apply to format csv",
    ),
    "not YAML": (("ignore: [Familienstand]", "ignore: [Familienstand"), 22, "not valid YAML"),
}


@pytest.mark.parametrize("case", LAYOUT_CASES)
def test_invalid_layout(con, vendor, case):
    (old, new), line, words = LAYOUT_CASES[case]
    layout = vendor / "vendor-csv.yaml"
    text = layout.read_text(encoding="utf-8")
    assert old in text
    layout.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(InputError) as info:
        staged(con, VENDOR_CSV, layout)
    assert (Path(info.value.file), info.value.line) == (layout, line)
    assert words in str(info.value)


def test_recoded_to_an_invalid_code(con, vendor):
    codes = vendor / "staaten.csv"
    codes.write_text(
        codes.read_text(encoding="utf-8").replace("TUR,TR", "TUR,TQ"), encoding="utf-8"
    )
    with pytest.raises(
        InputError,
        match="found 'TQ', expected an ISO 3166-1 alpha-2 country "
        r"code .* \(the file has 'TUR', recoded by staaten.csv\)",
    ) as info:
        staged(con, VENDOR_CSV, vendor / "vendor-csv.yaml")
    assert (info.value.line, info.value.column) == (2, "Staatsangehörigkeit")


def test_code_file_with_a_code_twice(con, vendor):
    codes = vendor / "staaten.csv"
    codes.write_text(codes.read_text(encoding="utf-8") + "TUR,CY,Zypern\n", encoding="utf-8")
    with pytest.raises(InputError, match="code 'TUR' is listed twice") as info:
        staged(con, VENDOR_CSV, vendor / "vendor-csv.yaml")
    assert (Path(info.value.file), info.value.line, info.value.column) == (codes, 15, "from")


def test_documented_example_stages_as_documented(con, tmp_path):
    """The export, layout and result shown in docs/REGISTER_LAYOUTS.md agree."""
    docs = (REPO / "docs" / "REGISTER_LAYOUTS.md").read_text(encoding="utf-8")
    export, _, result = re.findall(
        r"```text\n(.*?)```", docs.split("## Complete example")[1], re.S
    )[:3]
    extract = tmp_path / "einwohner.csv"
    extract.write_bytes(export.replace("\n", "\r\n").encode("cp1252"))
    default = tmp_path / "melderegister.csv"
    default.write_text(
        DEFAULT_CSV.read_text(encoding="utf-8").splitlines()[0] + "\n" + result, encoding="utf-8"
    )
    pd.testing.assert_frame_equal(staged(con, extract, EXAMPLE_LAYOUT), staged(con, default))


def test_layout_saved_in_windows_encoding(con, vendor):
    layout = vendor / "vendor-csv.yaml"
    layout.write_bytes(layout.read_text(encoding="utf-8").encode("cp1252"))
    with pytest.raises(InputError, match="save the layout file as UTF-8") as info:
        staged(con, VENDOR_CSV, layout)
    assert Path(info.value.file) == layout
