"""Parquet and Arrow register extracts (#17): read by the register adapter like a CSV.

A vendor's export pipeline writes the tiny city's 2024 extract as Parquet or as an
Arrow IPC file (Feather v2), with typed columns (years as integers, empty cells as
nulls). It must stage and build exactly as its CSV twin, be recognised by its magic
bytes whatever its name, and a bad cell must give the CSV's message with the line a
CSV would have (row n of the file, from 1, is line n + 1).
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from etl import warehouse
from etl.build import build
from etl.errors import InputError
from etl.profile import Register
from etl.sources import register_persons
from tests.conftest import TINY_PROFILE, tiny_profile

TINY_RAW = TINY_PROFILE.parent / "raw"
CSV = TINY_RAW / "melderegister" / "2024-12-31" / "melderegister_2024-12-31.csv"
REF_DATE = date(2024, 12, 31)
YEARS = ("geburtsjahr", "zuzugsjahr")


def vendor_table(csv: Path = CSV) -> pa.Table:
    """A CSV as a vendor's pipeline types it: years int64, every other column text."""
    types = {name: pa.int64() if name in YEARS else pa.string() for name, _ in CANONICAL}
    return pacsv.read_csv(
        csv,
        parse_options=pacsv.ParseOptions(delimiter=";"),
        convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True),
    )


CANONICAL = register_persons.canonical()


def staged(con, path: Path) -> pd.DataFrame:
    register_persons.stage(con, path, REF_DATE)
    return con.execute("SELECT * FROM stg_persons ORDER BY person_id").df()


WRITERS = {"parquet": pq.write_table, "arrow": feather.write_feather}


@pytest.mark.parametrize("kind", WRITERS)
def test_stages_like_its_csv_twin_whatever_its_name(con, tmp_path, kind):
    table = vendor_table()
    assert table.schema.field("geburtsjahr").type == pa.int64()
    misnamed = tmp_path / "melderegister.csv"  # Parquet or Arrow bytes, a CSV's name
    WRITERS[kind](table, misnamed)
    expected = staged(con, CSV)
    assert len(expected) == CSV.read_text(encoding="utf-8").count("\n") - 1
    pd.testing.assert_frame_equal(staged(con, misnamed), expected)


def test_parquet_builds_the_same_values_as_its_csv_twin(tmp_path, tiny_warehouse):
    """The tiny city with both extracts as Parquet: the same counts and values as the
    session's build from the CSVs."""
    raw = tmp_path / "raw"
    shutil.copytree(TINY_RAW / "gebiete", raw / "gebiete")
    for csv in sorted(TINY_RAW.glob("melderegister/*/*.csv")):
        target = raw / "melderegister" / csv.parent.name / f"{csv.stem}.parquet"
        target.parent.mkdir(parents=True)
        pq.write_table(vendor_table(csv), target)
    register = Register(files="melderegister/*/*.parquet", attribution="Test")
    result = build(tiny_profile(tmp_path / "curated", raw_dir=raw, register_source=register))
    queries = (
        "SELECT * FROM population ORDER BY ALL",
        "SELECT * FROM indicator_values ORDER BY ALL",
    )
    tables = []
    for database in (tiny_warehouse, result.snapshot / warehouse.DATABASE):
        with duckdb.connect(str(database), read_only=True) as db:
            tables.append([db.execute(q).fetchall() for q in queries])
    assert len(tables[0][0]) > 20 and len(tables[0][1]) > 100
    assert tables[1] == tables[0]


@pytest.mark.parametrize(
    ("kind", "row", "column", "value", "message"),
    [
        ("parquet", 2, "geburtsjahr", "neunzehn", "found 'neunzehn', expected a whole number"),
        ("parquet", 4, "geschlecht", "q", "found 'q', expected one of m, w, d, x"),
        ("arrow", 0, "personen_id", "", "found an empty cell, expected a value (the column is "),
    ],
)
def test_a_bad_cell_is_named_as_in_a_csv(con, tmp_path, kind, row, column, value, message):
    """Years stored as text (a pipeline that did not type them) with one bad cell; the
    line is row + 2 (header line 1, first row line 2), as the same CSV's would be."""
    table = vendor_table().cast(pa.schema([pa.field(name, pa.string()) for name, _ in CANONICAL]))
    cells = table.column(column).to_pylist()
    cells[row] = value
    table = table.set_column(table.schema.get_field_index(column), column, pa.array(cells))
    path = tmp_path / f"export.{kind}"
    WRITERS[kind](table, path)
    with pytest.raises(InputError) as info:
        register_persons.stage(con, path, REF_DATE)
    assert (Path(info.value.file), info.value.line, info.value.column) == (path, row + 2, column)
    assert message in str(info.value)
    csv_twin = tmp_path / "export.csv"
    lines = CSV.read_text(encoding="utf-8").splitlines()
    cells = lines[row + 1].split(";")
    cells[[name for name, _ in CANONICAL].index(column)] = value
    lines[row + 1] = ";".join(cells)
    csv_twin.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as twin:
        register_persons.stage(con, csv_twin, REF_DATE)
    assert str(twin.value).replace(str(csv_twin), "F") == str(info.value).replace(str(path), "F")


def test_a_parquet_without_a_required_column(con, tmp_path):
    path = tmp_path / "export.parquet"
    pq.write_table(vendor_table().drop_columns(["geschlecht"]), path)
    with pytest.raises(InputError) as info:
        register_persons.stage(con, path, REF_DATE)
    assert (info.value.line, info.value.column) == (1, "geschlecht")
    assert "missing column(s) geschlecht" in str(info.value)


def damaged(path: Path) -> None:
    """Overwrite every byte between the leading magic and the footer (the column chunks
    and their page headers): the footer still describes the columns."""
    data = bytearray(path.read_bytes())
    footer = int.from_bytes(data[-8:-4], "little")
    data[4 : len(data) - 8 - footer] = b"\xff" * (len(data) - 12 - footer)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("name", "spoil", "expected"),
    [
        ("cut.parquet", lambda b: b[: len(b) // 2], "starts as a Parquet file ('PAR1') but does"),
        ("cut.csv", lambda b: b[:-1], "is truncated or damaged; expected a complete Parquet"),
        ("csv.parquet", lambda b: CSV.read_bytes(), "named like a Parquet file but it does not"),
    ],
)
def test_a_truncated_or_misnamed_parquet_is_one_clear_error(con, tmp_path, name, spoil, expected):
    """A Parquet extract cut off while copied (whatever its name), or a CSV named .parquet:
    one error naming the file and what was expected, not a CSV with unreadable lines."""
    whole = tmp_path / "whole.parquet"
    pq.write_table(vendor_table(), whole)
    path = tmp_path / name
    path.write_bytes(spoil(whole.read_bytes()))
    with pytest.raises(InputError) as info:
        register_persons.stage(con, path, REF_DATE)
    assert Path(info.value.file) == path and info.value.line is None
    assert expected in str(info.value)


def test_a_parquet_with_damaged_data_is_one_clear_error(con, tmp_path):
    """The footer reads (the columns are checked), the data pages do not: an InputError
    naming the file, not DuckDB's exception."""
    path = tmp_path / "export.parquet"
    pq.write_table(vendor_table(), path)
    damaged(path)
    assert [r[0] for r in duckdb.sql(f"DESCRIBE FROM '{path}'").fetchall()] == [
        name for name, _ in CANONICAL
    ]
    with pytest.raises(InputError) as info:
        register_persons.stage(con, path, REF_DATE)
    assert Path(info.value.file) == path
    assert "cannot be read as a Parquet file: " in str(info.value)
    assert "expected a complete, undamaged Parquet file" in str(info.value)
