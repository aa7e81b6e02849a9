"""GENESIS table CSV adapter: real exports, a tiny known-answer file, broken fixtures."""

from __future__ import annotations

import math
import os
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from etl.errors import InputError
from etl.sources.genesis_csv import COLUMNS, read_table
from etl.sources.value_flags import symbols
from tests.conftest import REPO, SHARED_DATA

GENESIS = SHARED_DATA / "genesis"
FIXTURES = REPO / "tests" / "fixtures" / "genesis"
# Real files: table id -> (file name, data cells, flagged cells per flag id).
REAL = {
    "12411-03-03-4": (
        "genesis_12411-03-03-4_bevoelkerung_nationalitaet_altersgruppen_kreise_2015.csv",
        104148,
        {"nil": 15251},
    ),
    "12711-03-02-4": (
        "genesis_12711-03-02-4_wanderungen_nationalitaet_kreise_1995-2015.csv",
        397656,
        {"secret": 82368, "nil": 26820},
    ),
    "13111-02-02-4": (
        "genesis_13111-02-02-4_svb-beschaeftigte_wohnort_nationalitaet_kreise_2012-2015.csv",
        12624,
        {"nil": 1848},
    ),
    "13211-02-05-4": (
        "genesis_13211-02-05-4_arbeitslose_inkl_auslaender_kreise_2001-2016.csv",
        109408,
        {"nil": 25807, "secret": 4190},
    ),
    "21111-02-06-4": (
        "genesis_21111-02-06-4_schulabgaenger_abschluss_kreise_1995-2015_ISO-8859-1.csv",
        154644,
        {"nil": 33861, "secret": 2216, "not_applicable": 165},
    ),
}
# An independent notion of a value cell: German number or GENESIS symbol.
CELL = re.compile(r"-?\d+(,\d+)?|[-.x/]|\.\.\.")


def real_path(table_id: str) -> Path:
    path = GENESIS / REAL[table_id][0]
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared data missing in CI: {path}")
        pytest.skip(f"shared data not available: {path}")
    return path


@pytest.fixture(scope="module")
def tables() -> dict:
    """Each real table, read once per module (on first use)."""
    cache: dict = {}

    def get(table_id: str):
        if table_id not in cache:
            cache[table_id] = read_table(real_path(table_id))
        return cache[table_id]

    return get


def cell(table, line: int, column: int) -> pd.Series:
    """The tidy row of the value at file ``line`` and field ``column``."""
    rows = table.rows
    found = rows[(rows["line"] == line) & (rows["column"] == column)]
    assert len(found) == 1
    return found.iloc[0]


def count_value_cells(path: Path, encoding: str) -> int:
    """Count value cells by a separate simple method: data lines split on ';'."""
    lines = path.read_text(encoding=encoding).split("\n")
    end = lines.index("__________")
    last_header = max(i for i in range(end) if lines[i].startswith(";"))
    return sum(
        sum(1 for f in line.split(";")[3:] if CELL.fullmatch(f))
        for line in lines[last_header + 1 : end]
    )


# --- real exports ----------------------------------------------------------


@pytest.mark.parametrize("table_id", REAL)
def test_real_file_conserves_every_cell(tables, table_id):
    table = tables(table_id)
    _, cells, flag_counts = REAL[table_id]
    rows = table.rows
    encoding = "iso-8859-1" if table_id.startswith("21111") else "utf-8"
    assert table.table_id == table_id
    assert table.encoding == encoding
    assert list(rows.columns) == COLUMNS
    assert table.data_cells == cells == count_value_cells(real_path(table_id), encoding)
    assert rows["value"].notna().sum() + rows["flag"].notna().sum() == table.data_cells
    assert not (rows["value"].notna() & rows["flag"].notna()).any()
    assert rows["flag"].value_counts().to_dict() == flag_counts
    assert not rows.duplicated(["period", "region_code", "dims", "variable"]).any()
    assert table.footer.startswith('zu "gesamte Tabelle":')
    assert table.footer.splitlines()[-1].startswith("Stand: ")


@pytest.mark.parametrize("table_id", REAL)
def test_region_codes_are_normalised(tables, table_id):
    codes = set(tables(table_id).rows["region_code"])
    assert {"DG", "07", "071", "07111", "07137", "07335", "03241001"} <= codes
    assert all(c == "DG" or (c.isdigit() and len(c) in (2, 3, 5, 8)) for c in codes)


def test_population_known_value(tables):
    table = tables("12411-03-03-4")
    koblenz = cell(table, 3683, 11)
    assert (koblenz["period"], koblenz["ref_date"]) == ("31.12.2015", date(2015, 12, 31))
    assert (koblenz["region_code"], koblenz["region_name"]) == (
        "07111",
        "Koblenz, Kreisfreie Stadt",
    )
    assert koblenz["dims"] == "unter 3 Jahre"
    assert koblenz["variable"] == "Ausländer(innen) | Insgesamt"
    assert (koblenz["value"], koblenz["flag"], koblenz["unit"]) == (
        286.0,
        None,
        "Anzahl",
    )  # unit from title line 6
    assert table.title.startswith(
        "Bevölkerungsstand: Bevölkerung nach Geschlecht, Nationalität und Altersgruppen (21)"
    )


def test_nil_flag_is_nan_not_zero(tables):
    northeim = cell(tables("12411-03-03-4"), 623, 12)  # 90+, foreigners, male: '-'
    assert (northeim["region_code"], northeim["flag"]) == ("03155", "nil")
    assert math.isnan(northeim["value"])


def test_migration_row_dimension_and_unit_row(tables):
    koblenz = cell(tables("12711-03-02-4"), 512, 5)
    assert (koblenz["period"], koblenz["ref_date"]) == ("2015", date(2015, 12, 31))
    assert koblenz["dims"] == "Ausländer(innen)"
    assert koblenz["variable"] == "Zuzüge über die Gemeindegrenzen | Geschlecht | Insgesamt"
    assert (koblenz["unit"], koblenz["value"]) == ("Anzahl", 3217.0)


def test_employees_mid_year_reference_date(tables):
    koblenz = cell(tables("13111-02-02-4"), 178, 7)
    assert (koblenz["region_code"], koblenz["ref_date"]) == ("07111", date(2015, 6, 30))
    assert koblenz["variable"] == "Nationalität | Ausländer(innen) | Geschlecht | Insgesamt"
    assert koblenz["value"] == 3647.0


def test_unemployment_rate_decimal_comma_and_secret_flag(tables):
    table = tables("13211-02-05-4")
    rlp = cell(table, 174, 15)
    assert (rlp["period"], rlp["region_code"], rlp["dims"]) == ("2016", "07", "")
    assert rlp["variable"] == "Arbeitslosenquote bez. auf alle zivile Erwerbsp. | Ausländer"
    assert (rlp["unit"], rlp["value"]) == ("Prozent", 13.4)
    assert cell(table, 174, 4)["variable"] == "Arbeitslose"  # empty label in 2nd header row
    braunschweig = cell(table, 28, 11)
    assert (braunschweig["region_code"], braunschweig["flag"]) == ("031", "secret")
    assert math.isnan(braunschweig["value"])


def test_school_leavers_latin1_and_not_applicable_flag(tables):
    table = tables("21111-02-06-4")
    luebeck = cell(table, 14, 4)
    assert (luebeck["region_code"], luebeck["region_name"]) == (
        "01003",
        "Lübeck, Hansestadt, Kreisfreie Stadt",
    )
    assert luebeck["value"] == 1989.0
    sachsen = cell(table, 421, 12)
    assert sachsen["variable"] == (
        "Schulabschluss | dar. schulischer Teil der Fachhochschulreife | Insgesamt"
    )
    assert (sachsen["region_name"], sachsen["flag"]) == ("Sachsen", "not_applicable")
    assert math.isnan(sachsen["value"])


# --- tiny hand-made file ---------------------------------------------------


def test_tiny_file_known_answers():
    table = read_table(FIXTURES / "tiny_ok.csv")
    rows = table.rows.set_index(["line", "column"])
    assert (table.table_id, table.data_cells, len(table.rows)) == ("99999-01-01-4", 20, 20)
    assert table.title == (
        "Testtabelle: Personen nach Nationalität und Geschlecht - "
        "Stichtag 31.12. - Handgemachte Testdaten, keine echten Zahlen"
    )
    assert table.footer.splitlines() == [
        'zu "gesamte Tabelle":',
        "handgemachte Testdaten; ohne Bedeutung",
        "Stand: 01.01.2021 / 00:00:00",
    ]
    assert rows.loc[(8, 7), ["variable", "unit", "value"]].tolist() == [
        "Ausländer(innen) | Anteil männlich",
        "Prozent",
        5.5,
    ]
    assert rows.loc[(9, 8), "value"] == -1.5
    assert rows.loc[(11, 6), ["value", "flag"]].tolist() == [0.0, None]
    flags = rows.loc[[(10, 5), (10, 6), (10, 7), (10, 8), (11, 5)], "flag"].tolist()
    assert flags == list(symbols().values())
    assert rows.loc[(11, 5), "region_code"] == "07111000"  # 12-digit ARS -> AGS
    assert rows.loc[(12, 5), "ref_date"] == date(2019, 12, 31)


def test_explicit_encoding_reads_latin1():
    table = read_table(FIXTURES / "latin1.csv", encoding="iso-8859-1")
    assert table.rows["variable"].unique().tolist() == ["Deutsche", "Ausländer(innen)"]
    assert read_table(FIXTURES / "latin1.csv").encoding == "iso-8859-1"


# --- broken fixtures -------------------------------------------------------

BROKEN = {  # fixture -> (encoding, line, column, words in the message)
    "empty.csv": (None, None, None, "file is empty"),
    "wrong_first_line.csv": (None, 1, None, "expected 'GENESIS-Tabelle: <table id>'"),
    "truncated.csv": (None, 8, "3", "looks truncated"),
    "bad_value.csv": (None, 7, "5", "found '12a' in 'Ausländer(innen)', expected a number"),
    "latin1.csv": ("utf-8", 4, "5", "byte 0xe4 (byte 17 of the line) is not valid utf-8"),
    "duplicate_key.csv": (None, 8, None, "region 07 was already given in line 7"),
    "bad_period.csv": (None, 7, "1", "period '2020-12-31' is not a date DD.MM.YYYY or a year"),
}


@pytest.mark.parametrize("name", BROKEN)
def test_broken_fixture_names_file_line_and_column(name):
    encoding, line, column, words = BROKEN[name]
    path = FIXTURES / name
    with pytest.raises(InputError) as info:
        read_table(path, encoding=encoding)
    err = info.value
    assert (Path(err.file), err.line, err.column) == (path, line, column)
    assert words in str(err)


def edited(tmp_path: Path, edit) -> Path:
    """A copy of the tiny file with its lines changed by ``edit``."""
    lines = (FIXTURES / "tiny_ok.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "edited.csv"
    path.write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")
    return path


EDITS = {  # what -> (edit, line, column, words)
    "no footer": (lambda ls: ls[:12], 12, None, "no footer line '__________'"),
    "no header": (lambda ls: ls[:4], None, None, "no column-header lines"),
    "no data": (lambda ls: [*ls[:7], *ls[12:]], 8, None, "no data lines"),
    "extra field": (lambda ls: [*ls[:9], ls[9] + ";1", *ls[10:]], 10, "9", "9 fields, expected 8"),
    "bad region": (
        lambda ls: [*ls[:9], ls[9].replace(";07;", ";7;"), *ls[10:]],
        10,
        "2",
        "region code '7'",
    ),
    "empty cell": (
        lambda ls: [*ls[:8], ls[8].replace(";300;", ";;"), *ls[9:]],
        9,
        "5",
        "found an empty cell in 'Deutsche | männlich'",
    ),
    "unlabelled column": (
        lambda ls: [
            ls[0],
            *ls[1:4],
            ";;;;Deutsche;Deutsche;;Ausländer",
            ";;;;männlich;weiblich;;weiblich",
            *ls[6:],
        ],
        5,
        "7",
        "no header label",
    ),
    "same header twice": (
        lambda ls: [*ls[:5], ls[5].replace(";weiblich;", ";männlich;"), *ls[6:]],
        5,
        "6",
        "fields 5 and 6",
    ),
}


@pytest.mark.parametrize("what", EDITS)
def test_edited_file_names_line_and_column(tmp_path, what):
    edit, line, column, words = EDITS[what]
    with pytest.raises(InputError) as info:
        read_table(edited(tmp_path, edit))
    assert (info.value.line, info.value.column) == (line, column)
    assert words in str(info.value)
