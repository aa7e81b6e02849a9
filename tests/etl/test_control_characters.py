"""Control characters in input text (#20): NUL and the other C0 characters except tab in
any text field are an error naming file, line and column, in every adapter (register
CSV/XLSX, area tables CSV/XLSX, GENESIS CSV, area lists, boundary ids and names)."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from etl.errors import InputError
from etl.profile import load_profile
from etl.sources import area_table, genesis_csv, register_persons
from etl.sources.area_list import read_vintage
from etl.sources.geometry import read_features
from etl.text import check_text, control_problem
from tests.conftest import REPO, TINY_PROFILE
from tests.etl.test_area_table import (
    FIXTURE,
    TABLE_2024,
    expect_failure,
    good_curated,  # noqa: F401 (fixture)
    raw,  # noqa: F401 (fixture)
    write_profile,
)
from tests.etl.test_register_layouts import (
    VENDOR,
    sheet_row,
    vendor_rows,
    write_xlsx,
)

GENESIS = REPO / "tests" / "fixtures" / "genesis" / "tiny_ok.csv"
REGISTER = REPO / "tests" / "fixtures" / "vendor" / "melderegister_default.csv"
TINY_AREAS = TINY_PROFILE.parent / "raw" / "gebiete" / "2010-01-01"
REF_DATE = date(2024, 12, 31)
COLUMNS = ["total", "germans", "foreigners", "under_18", "foreigners_under_18"]


def replace_bytes(path: Path, old: str, new: str) -> None:
    data = path.read_bytes()
    assert data.count(old.encode()) == 1
    path.write_bytes(data.replace(old.encode(), new.encode()))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\x00b", "control character NUL (U+0000) at character 2"),
        ("\x1f", "control character US (U+001F) at character 1"),
        ("x\ny", "control character LF (U+000A) at character 2"),
        ("x\r", "control character CR (U+000D) at character 2"),
        ("Am\x0bMarkt", "control character VT (U+000B) at character 3"),
    ],
)
def test_control_problem_names_the_character(text, expected):
    assert control_problem(text).startswith(expected)


@pytest.mark.parametrize("text", ["Am\tMarkt", "Mühlenviertel", "", "a\x7fb", "€"])
def test_tab_and_printable_text_pass(text):
    assert control_problem(text) is None
    check_text(Path("x.csv"), text, line=1, column="name")


def test_area_table_nul_stops_the_build(tmp_path, raw, good_curated, capsys):  # noqa: F811
    # line 3: 0102,Mühlenviertel — 'Mühlen' is 6 characters, the NUL the 7th
    replace_bytes(raw / TABLE_2024, "Mühlenviertel", "Mühlen\x00viertel")
    err = expect_failure(tmp_path, raw, good_curated, capsys)
    assert (Path(err.file), err.line, err.column) == (raw / TABLE_2024, 3, "name")
    assert "control character NUL (U+0000) at character 7 of the field" in str(err)


def table_spec(tmp_path: Path, edit=None):
    return load_profile(write_profile(tmp_path, FIXTURE / "raw", edit)).tables[0]


def test_area_table_control_at_the_end_of_a_code_is_not_stripped(tmp_path):
    # '0201' + US on line 4: str.strip() would remove U+001F silently
    path = tmp_path / "bevoelkerung_2024-12-31.csv"
    shutil.copy(FIXTURE / "raw" / TABLE_2024, path)
    replace_bytes(path, "\n0201,", "\n0201\x1f,")
    with pytest.raises(InputError) as info:
        area_table.read(path, table_spec(tmp_path), COLUMNS)
    assert (info.value.line, info.value.column) == (4, "gebiet")
    assert "US (U+001F) at character 5" in str(info.value)


def test_area_table_xlsx_line_break_in_a_name(tmp_path):
    lines = (FIXTURE / "raw" / TABLE_2024).read_text(encoding="utf-8").splitlines()
    book = openpyxl.Workbook()
    for number, line in enumerate(lines):
        cells = line.split(",")
        book.active.append(cells if number == 0 else cells[:2] + [int(c) for c in cells[2:]])
    book.active["B2"] = "Am\nMarkt"  # row 2: quarter 0101
    path = tmp_path / "bevoelkerung_2024-12-31.xlsx"
    book.save(path)
    with pytest.raises(InputError) as info:
        area_table.read(path, table_spec(tmp_path), COLUMNS)
    assert (Path(info.value.file), info.value.line, info.value.column) == (path, 2, "name")
    assert "LF (U+000A) at character 3" in str(info.value)


def test_area_table_tab_in_a_name_is_read(tmp_path):
    path = tmp_path / "bevoelkerung_2024-12-31.csv"
    shutil.copy(FIXTURE / "raw" / TABLE_2024, path)
    replace_bytes(path, "Mühlenviertel", "Mühlen\tviertel")
    rows = area_table.read(path, table_spec(tmp_path), COLUMNS)
    assert rows.loc[rows["variable"] == "total", "value"].tolist() == [100, 200, 300, 400]


def test_genesis_nul_in_a_region_name(tmp_path):
    path = tmp_path / "tiny.csv"
    shutil.copy(GENESIS, path)
    replace_bytes(
        path, "      Musterstadt;unter 18 Jahre;...", "      Muster\x00stadt;unter 18 Jahre;..."
    )
    with pytest.raises(InputError) as info:
        genesis_csv.read_table(path)
    assert (info.value.line, info.value.column) == (11, "3")  # field 3: the region name
    assert "NUL (U+0000) at character 13" in str(info.value)  # 6 spaces + 'Muster'


def test_genesis_control_in_a_header_label(tmp_path):
    path = tmp_path / "tiny.csv"
    shutil.copy(GENESIS, path)
    replace_bytes(path, ";;;;männlich;weiblich;", ";;;;männlich;weib\x0clich;")
    with pytest.raises(InputError) as info:
        genesis_csv.read_table(path, encoding="utf-8")
    assert (info.value.line, info.value.column) == (6, "6")
    assert "FF (U+000C) at character 5" in str(info.value)


def test_register_nul_in_a_household_id(tmp_path, con):  # noqa: F811
    """The NUL that split a household (#20): line 3 (P09), column haushalt_id."""
    path = tmp_path / "melderegister.csv"
    lines = REGISTER.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b"Am B\xc3\xbchl 1", b"Am B\xc3\xbchl\x00 1")
    path.write_bytes(b"\n".join(lines))
    assert register_persons.stage(con, REGISTER, REF_DATE) > 0
    with pytest.raises(InputError) as info:
        register_persons.stage(con, path, REF_DATE)
    assert (Path(info.value.file), info.value.line, info.value.column) == (path, 3, "haushalt_id")
    assert "NUL (U+0000) at character 8" in str(info.value)  # 'Am Bühl' is 7 characters


def test_register_control_in_a_coded_column(tmp_path, con):  # noqa: F811
    """Line 5 (P12) ends in household position 'S'; with a SOH after it."""
    path = tmp_path / "melderegister.csv"
    lines = REGISTER.read_bytes().split(b"\n")
    assert lines[4].endswith(b";S")
    lines[4] += b"\x01"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(InputError) as info:
        register_persons.stage(con, path, REF_DATE)
    assert (info.value.line, info.value.column) == (5, "stellung_im_haushalt")
    assert "SOH (U+0001) at character 2" in str(info.value)


def test_area_list_nul_in_a_name(tmp_path):
    shutil.copytree(TINY_AREAS, tmp_path / "2010-01-01")
    path = tmp_path / "2010-01-01" / "gebiete.csv"
    replace_bytes(path, ";Süd;", ";S\x00üd;")  # line 4
    profile = load_profile(TINY_PROFILE)
    names = {lvl.label_de: lvl.id for lvl in profile.levels}
    with pytest.raises(InputError) as info:
        read_vintage(path, path.parent / "stadtteile.geojson", names, profile.level_ids())
    assert (Path(info.value.file), info.value.line, info.value.column) == (path, 4, "name")
    assert "NUL (U+0000) at character 2" in str(info.value)


def test_area_list_with_bom_is_read(tmp_path):
    shutil.copytree(TINY_AREAS, tmp_path / "2010-01-01")
    path = tmp_path / "2010-01-01" / "gebiete.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    profile = load_profile(TINY_PROFILE)
    names = {lvl.label_de: lvl.id for lvl in profile.levels}
    vintage = read_vintage(path, path.parent / "stadtteile.geojson", names, profile.level_ids())
    assert vintage.areas.loc[vintage.areas["area_id"] == "2", "name"].tolist() == ["Süd"]


@pytest.mark.parametrize(("key", "value"), [("name", "Alt\u0000stadt"), ("code", "0\u001b1")])
def test_boundary_id_or_name_with_control(tmp_path, key, value):
    data = json.loads((FIXTURE / "raw" / "geometrie" / "bezirke.geojson").read_text("utf-8"))
    data["features"][0]["properties"][key] = value
    path = tmp_path / "bezirke.geojson"
    path.write_text(json.dumps(data), encoding="utf-8")  # json escapes it as \u0000
    with pytest.raises(InputError) as info:
        read_features(path, "code", name_property="name")
    assert info.value.column == key
    assert str(info.value).startswith(f"{path}, column '{key}': feature 1: control character")


def test_boundary_name_template_with_control(tmp_path):
    data = json.loads((FIXTURE / "raw" / "geometrie" / "bezirke.geojson").read_text("utf-8"))
    data["features"][1]["properties"]["name"] = "Neu\u0007stadt"
    path = tmp_path / "bezirke.geojson"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_features(path, "code", name_template="{name} ({code})")
    assert "feature 2: control character BEL (U+0007) at character 4" in str(info.value)


def test_register_xlsx_line_break_in_a_household(tmp_path, con):  # noqa: F811
    """Vendor workbook (vendor-xlsx.yaml, header in sheet row 3): person P09, the second
    data row (sheet row 5), gets 'Am\\nBühl 1' as household; the vendor names it 'Haushalt'."""
    rows = vendor_rows()
    column = rows[0].index("Haushalt")
    rows[2][column] = "Am\nBühl 1"
    path = write_xlsx(tmp_path / "melderegister.xlsx", rows)
    with pytest.raises(InputError) as info:
        register_persons.stage(con, path, REF_DATE, VENDOR / "vendor-xlsx.yaml")
    assert (info.value.line, info.value.column) == (sheet_row(1), "Haushalt")
    assert "LF (U+000A) at character 3" in str(info.value)
