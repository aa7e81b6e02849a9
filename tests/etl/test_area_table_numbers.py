"""Numbers in area tables (#20): a count must be a whole number, and a thousands separator
(``1.480`` in German notation) is read only when the profile declares it — never as 1.48
(which changed published values) nor silently as 1480.

The tables are the district-table fixture's 2024 table (see test_area_table.py), written
again with the separator, decimal sign and cells each test needs.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from etl.errors import ConfigError, InputError
from etl.profile import load_profile
from etl.sources import area_table
from tests.etl.test_area_table import (
    FIXTURE,
    TABLE_2024,
    edit_lines,
    expect_failure,
    good_curated,  # noqa: F401 (fixture)
    raw,  # noqa: F401 (fixture)
    set_cell,
    write_profile,
)

COLUMNS = ["total", "germans", "foreigners", "under_18", "foreigners_under_18"]
NAME = "bevoelkerung_2024-12-31.csv"


def spec(tmp_path: Path, **options):
    """The fixture's table entry with ``options`` (decimal, thousands, separator …)."""

    def edit(data: dict) -> None:
        data["tables"][0].update(options)

    return load_profile(write_profile(tmp_path, FIXTURE / "raw", edit)).tables[0]


def write_table(tmp_path: Path, rows: list[list[str]], separator: str = ";") -> Path:
    header = ["gebiet", "name", *COLUMNS]
    path = tmp_path / NAME
    path.write_text("\n".join(separator.join(r) for r in [header, *rows]) + "\n", "utf-8")
    return path


# quarter, name, total, germans, foreigners, under_18, foreigners_under_18 (German notation)
GERMAN = [
    ["0101", "Am Markt", "1.480", "1.400", "80", "300", "5"],
    ["0102", "Mühlenviertel", "200", "140", "60", "50", "20"],
    ["0201", "Am Hafen", "12.345.678", "12.345.000", "678", "40", "6"],
    ["0202", "Neubau", "400", "240", "160", "90", "45"],
]


def totals(cells) -> list[float]:
    return cells.loc[cells["variable"] == "total", "value"].tolist()


def test_declared_thousands_are_read(tmp_path):
    table = spec(tmp_path, separator=";", decimal=",", thousands=".")
    cells = area_table.read(write_table(tmp_path, GERMAN), table, COLUMNS)
    assert totals(cells) == [1480, 200, 12345678, 400]
    assert cells.loc[cells["variable"] == "germans", "value"].tolist() == [
        1400,
        140,
        12345000,
        240,
    ]


def test_undeclared_thousands_point_with_decimal_comma_is_an_error(tmp_path):
    """Before: the '.' was dropped silently (1480) although the profile declared none."""
    table = spec(tmp_path, separator=";", decimal=",")
    with pytest.raises(InputError) as info:
        area_table.read(write_table(tmp_path, GERMAN), table, COLUMNS)
    assert (info.value.line, info.value.column) == (2, "total")
    message = str(info.value)
    assert "found '1.480', expected a count" in message
    assert "thousands separators are read only where the profile declares them" in message


def test_thousands_point_read_as_decimal_stops_the_build(tmp_path, raw, good_curated, capsys):  # noqa: F811
    """The #20 case: '1.480' with the default decimal '.' was read as the count 1.48.
    Quarter 0201 (line 4) gets total 1.480 = germans 1.450 + foreigners 30 (sums hold)."""
    edit_lines(raw, set_cell(4, "germans", "1.450"))
    edit_lines(raw, set_cell(4, "total", "1.480"))
    err = expect_failure(tmp_path, raw, good_curated, capsys)
    assert (Path(err.file), err.line, err.column) == (raw / TABLE_2024, 4, "total")
    message = str(err)
    assert "found '1.480', expected a count, a whole number" in message
    assert "declare decimal: ',' and thousands: '.'" in message


def test_count_with_decimals_is_an_error(tmp_path):
    rows = [list(r) for r in GERMAN]
    rows[3][5] = "90,5"  # line 5, under_18
    table = spec(tmp_path, separator=";", decimal=",", thousands=".")
    with pytest.raises(InputError) as info:
        area_table.read(write_table(tmp_path, rows), table, COLUMNS)
    assert (info.value.line, info.value.column) == (5, "under_18")
    assert "found '90,5', expected a count, a whole number" in str(info.value)


def test_rate_columns_keep_their_decimals(tmp_path):
    rows = [[*r, q] for r, q in zip(GERMAN, ["5,4", "30", "0,005", "40,0"], strict=True)]
    header = ["gebiet", "name", *COLUMNS, "quote"]
    path = tmp_path / NAME
    path.write_text("\n".join(";".join(r) for r in [header, *rows]) + "\n", "utf-8")
    table = spec(tmp_path, separator=";", decimal=",", thousands=".", rate_columns=["quote"])
    cells = area_table.read(path, table, [*COLUMNS, "quote"])
    assert cells.loc[cells["variable"] == "quote", "value"].tolist() == [5.4, 30, 0.005, 40]


@pytest.mark.parametrize(
    ("cell", "options"),
    [
        ("1.48", {"decimal": ",", "thousands": "."}),  # groups of three only
        ("1.4800", {"decimal": ",", "thousands": "."}),
        ("1,480", {"decimal": "."}),  # a comma with decimal '.' and no thousands
        ("1e3", {}),  # read as 1000 by pandas before
        ("inf", {}),
        ("0x10", {}),
        ("1 480", {}),
    ],
)
def test_malformed_numbers(tmp_path, cell, options):
    rows = [list(r) for r in GERMAN]
    rows[1][6] = cell  # line 3, foreigners_under_18
    rows = [
        [c.replace(".", "") if i > 1 and c != cell else c for i, c in enumerate(r)] for r in rows
    ]
    table = spec(tmp_path, separator=";", **options)
    with pytest.raises(InputError) as info:
        area_table.read(write_table(tmp_path, rows), table, COLUMNS)
    assert (info.value.line, info.value.column) == (3, "foreigners_under_18")
    assert f"found '{cell}', expected a count" in str(info.value)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"decimal": ",", "thousands": ","}, "thousands ',' is also the decimal sign"),
        ({"separator": ";", "thousands": ";"}, "thousands"),
        ({"separator": ";", "decimal": ",", "thousands": ";"}, "thousands"),
        ({"decimal": ";"}, "decimal"),
    ],
)
def test_profile_refuses_ambiguous_separators(tmp_path, options, words):
    with pytest.raises(ConfigError, match=words):
        spec(tmp_path, **options)


def test_xlsx_numbers_follow_the_declared_decimal_sign(tmp_path):
    """Number cells are numbers whatever the profile's notation: 1480.0 stays 1480 with
    decimal ',' (not 14800), and 2.5 in a count column is not whole."""
    book = openpyxl.Workbook()
    book.active.append(["gebiet", "name", *COLUMNS])
    book.active.append(["0101", "Am Markt", 1480.0, 1400, 80.0, 300, 5])
    book.active.append(["0102", "Mühlenviertel", 200, 140, 60, 50, 20])
    path = tmp_path / "bevoelkerung_2024-12-31.xlsx"
    book.save(path)
    table = spec(tmp_path, decimal=",", thousands=".")
    assert totals(area_table.read(path, table, COLUMNS)) == [1480, 200]
    book.active["F3"] = 2.5  # under_18 of 0102, sheet row 3
    book.save(path)
    with pytest.raises(InputError) as info:
        area_table.read(path, table, COLUMNS)
    assert (info.value.line, info.value.column) == (3, "under_18")
    assert "found '2,5', expected a count, a whole number" in str(info.value)
