"""Encodings (#20): a UTF-8 byte-order mark is handled in every path (``imon build`` and
``imon refresh`` recognise the same files), and a file that is not valid in its declared
or detected encoding is an error naming the first bad line — never decoded wholesale as
ISO-8859-1 unless it is ISO-8859-1 throughout (or declared so)."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from etl import deliveries
from etl.errors import InputError
from etl.profile import load_profile
from etl.sources import area_table, genesis_csv, register_persons
from etl.sources.area_list import read_vintage
from etl.sources.geometry import read_features
from etl.text import decode_detected
from tests.conftest import REPO, TINY_PROFILE
from tests.etl.test_area_table import FIXTURE, TABLE_2024, write_profile
from tests.etl.test_genesis_csv import real_path
from tests.etl.test_refresh import GENESIS_PROFILE

BOM = b"\xef\xbb\xbf"
GENESIS_DIR = REPO / "tests" / "fixtures" / "genesis"
TINY_GENESIS = GENESIS_DIR / "tiny_ok.csv"
LATIN1_GENESIS = GENESIS_DIR / "latin1.csv"
REGISTER = REPO / "tests" / "fixtures" / "vendor" / "melderegister_default.csv"
TINY_AREAS = TINY_PROFILE.parent / "raw" / "gebiete" / "2010-01-01"
COLUMNS = ["total", "germans", "foreigners", "under_18", "foreigners_under_18"]


def with_line(path: Path, number: int, encode) -> bytes:
    """The bytes of UTF-8 ``path`` with line ``number`` (1-based) encoded by ``encode``."""
    lines = path.read_text(encoding="utf-8").split("\n")
    parts = [encode(line) if i == number else line.encode() for i, line in enumerate(lines, 1)]
    return b"\n".join(parts)


# --- GENESIS: detection --------------------------------------------------------------


def test_genesis_with_bom_reads_as_without(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(BOM + TINY_GENESIS.read_bytes())
    table, plain = genesis_csv.read_table(path), genesis_csv.read_table(TINY_GENESIS)
    assert (table.table_id, table.encoding) == ("99999-01-01-4", "utf-8")
    assert table.rows.equals(plain.rows)


def test_refresh_recognises_a_genesis_export_with_bom(tmp_path):
    """`imon build` read it; `imon refresh` said "matches no source" (#20)."""
    profile_path = tmp_path / "profile.yaml"
    profile_path.write_text(GENESIS_PROFILE.format(indicators=REPO / "indicators.yaml"))
    profile = load_profile(profile_path)
    download = tmp_path / "download" / "99999-01-01-4.csv"  # named as downloaded
    download.parent.mkdir()
    download.write_bytes(BOM + TINY_GENESIS.read_bytes())
    [delivery] = deliveries.plan(profile, [download])
    assert delivery.source.id == "testtabelle"
    assert delivery.ref_dates == [date(2019, 12, 31), date(2020, 12, 31)]
    assert delivery.target.name == "genesis_99999-01-01-4_2019-2020.csv"


def test_mixed_encoding_genesis_is_refused_naming_the_bad_line(tmp_path):
    """UTF-8 file (umlauts on lines 2, 5, 6) with line 6 saved as Latin-1: 'männlich' —
    ';;;;m' is 5 bytes, so the ä (0xe4) is byte column 6."""
    path = tmp_path / "mixed.csv"
    path.write_bytes(with_line(TINY_GENESIS, 6, lambda line: line.encode("latin-1")))
    with pytest.raises(InputError) as info:
        genesis_csv.read_table(path)
    assert info.value.line == 6
    message = str(info.value)
    assert "byte 0xe4 at byte column 6 is not valid UTF-8" in message
    assert "UTF-8 text in line 2" in message and "mixed encodings" in message


def test_latin1_genesis_with_one_utf8_line_is_refused(tmp_path):
    """The Latin-1 fixture with a Latin-1 'über' on line 2 and its header line 4
    ('Ausländer(innen)') saved as UTF-8: the first byte that is not UTF-8 is on line 2."""
    lines = LATIN1_GENESIS.read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b"Personen", "Personen über".encode("latin-1"))
    lines[3] = lines[3].decode("latin-1").encode("utf-8")
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(InputError) as info:
        genesis_csv.read_table(path)
    assert info.value.line == 2
    assert "UTF-8 text in line 4" in str(info.value)


def test_latin1_throughout_is_detected():
    assert genesis_csv.read_table(LATIN1_GENESIS).encoding == "iso-8859-1"
    text, encoding = decode_detected(Path("x.csv"), "Größe;Fläche\n".encode("latin-1"))
    assert (text, encoding) == ("Größe;Fläche\n", "iso-8859-1")


def test_windows_1252_quote_is_not_latin1(tmp_path):
    """„ is 0x84 in Windows-1252, a control code in ISO-8859-1: line 3, byte column 24."""
    lines = LATIN1_GENESIS.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b"Testdaten", b"Testdaten \x84x\x93", 1)
    path = tmp_path / "cp1252.csv"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(InputError) as info:
        genesis_csv.read_table(path)
    assert info.value.line == 3
    assert "byte 0x84 at byte column 24 is a control code in ISO-8859-1" in str(info.value)
    assert "cp1252" in str(info.value)


def test_real_latin1_genesis_export_keeps_loading():
    table = genesis_csv.read_table(real_path("21111-02-06-4"))
    assert table.encoding == "iso-8859-1"
    assert "Koblenz, Kreisfreie Stadt" in set(table.rows["region_name"])


# --- area tables, area lists, boundaries, register ------------------------------------


def table_spec(tmp_path: Path, encoding: str | None = None):
    def edit(data: dict) -> None:
        if encoding:
            data["tables"][0]["encoding"] = encoding

    return load_profile(write_profile(tmp_path, FIXTURE / "raw", edit)).tables[0]


def test_area_table_with_bom(tmp_path):
    """The BOM sits before 'gebiet', the area column: it must not become part of its name."""
    path = tmp_path / "bevoelkerung_2024-12-31.csv"
    path.write_bytes(BOM + (FIXTURE / "raw" / TABLE_2024).read_bytes())
    rows = area_table.read(path, table_spec(tmp_path), COLUMNS)
    assert rows.loc[rows["variable"] == "total", "area_id"].tolist() == [
        "0101",
        "0102",
        "0201",
        "0202",
    ]


def test_area_table_bom_but_declared_latin1(tmp_path):
    path = tmp_path / "bevoelkerung_2024-12-31.csv"
    path.write_bytes(BOM + (FIXTURE / "raw" / TABLE_2024).read_bytes())
    with pytest.raises(InputError) as info:
        area_table.read(path, table_spec(tmp_path, "latin-1"), COLUMNS)
    assert info.value.line == 1
    assert "UTF-8 byte-order mark, but the profile declares latin-1" in str(info.value)


def test_area_list_with_latin1_byte_names_the_line(tmp_path):
    shutil.copytree(TINY_AREAS, tmp_path / "2010-01-01")
    path = tmp_path / "2010-01-01" / "gebiete.csv"
    path.write_bytes(path.read_bytes().replace("Süd".encode(), "Süd".encode("latin-1")))
    profile = load_profile(TINY_PROFILE)
    names = {lvl.label_de: lvl.id for lvl in profile.levels}
    with pytest.raises(InputError) as info:
        read_vintage(path, path.parent / "stadtteile.geojson", names, profile.level_ids())
    assert info.value.line == 4  # '2;Stadtbezirk;Süd;0'
    assert "byte 0xfc at byte column 16 is not valid utf-8" in str(info.value)


def test_geojson_with_bom_and_with_a_bad_byte(tmp_path):
    source = FIXTURE / "raw" / "geometrie" / "bezirke.geojson"
    path = tmp_path / "bezirke.geojson"
    path.write_bytes(BOM + source.read_bytes())
    assert [f.name for f in read_features(path, "code", name_property="name")] == [
        "Altstadt",
        "Neustadt",
    ]
    data = json.loads(source.read_text(encoding="utf-8"))
    data["features"][1]["properties"]["name"] = "Neustädt"
    text = json.dumps(data, ensure_ascii=False, indent=1)
    path.write_bytes(text.encode("latin-1"))
    line = text[: text.index("Neustädt")].count("\n") + 1
    with pytest.raises(InputError) as info:
        read_features(path, "code", name_property="name")
    assert info.value.line == line
    assert "byte 0xe4" in str(info.value) and "not valid utf-8" in str(info.value)


def test_register_with_bom_stages_like_without(tmp_path, con):  # noqa: F811
    path = tmp_path / "melderegister.csv"
    path.write_bytes(BOM + REGISTER.read_bytes())
    counts = [register_persons.stage(con, p, date(2024, 12, 31)) for p in (REGISTER, path)]
    first = con.execute("SELECT person_id FROM stg_persons ORDER BY rowid LIMIT 1")
    assert first.fetchall() == [("P01",)]
    assert counts[0] == counts[1] == 25


def test_genesis_declared_encoding_and_bom(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(BOM + TINY_GENESIS.read_bytes())
    assert genesis_csv.read_table(path, encoding="utf-8").table_id == "99999-01-01-4"
    with pytest.raises(InputError) as info:
        genesis_csv.read_table(path, encoding="iso-8859-1")
    assert info.value.line == 1
    assert "UTF-8 byte-order mark, but the profile declares iso-8859-1" in str(info.value)


def test_genesis_declared_latin1_refuses_windows_1252_bytes(tmp_path):
    lines = LATIN1_GENESIS.read_bytes().split(b"\n")
    lines[6] += b"\x80"  # € in Windows-1252, line 7
    path = tmp_path / "cp1252.csv"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(InputError) as info:
        genesis_csv.read_table(path, encoding="latin-1")
    assert info.value.line == 7
    assert "byte 0x80" in str(info.value) and "declared latin-1" in str(info.value)


def test_register_layout_in_cp1252_refuses_a_utf8_bom(tmp_path, con):  # noqa: F811
    vendor = REPO / "tests" / "fixtures" / "vendor"
    path = tmp_path / "melderegister.csv"
    path.write_bytes(BOM + (vendor / "melderegister_vendor.csv").read_bytes())
    with pytest.raises(InputError) as info:
        register_persons.stage(con, path, date(2024, 12, 31), vendor / "vendor-csv.yaml")
    assert (Path(info.value.file), info.value.line) == (path, 1)
    assert "UTF-8 byte-order mark, but the layout declares cp1252" in str(info.value)
