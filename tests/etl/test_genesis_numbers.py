"""Numbers in GENESIS exports (#20): a cell whose unit row says it is a count ("Anzahl")
must be a whole number, and a thousands point is not read. tiny_ok.csv line 8:
``31.12.2020;DG;Deutschland;unter 18 Jahre;100;120;5,5;6,25`` — fields 5 and 6 are counts
(unit Anzahl), 7 and 8 percentages."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.errors import InputError
from etl.sources import genesis_csv
from tests.conftest import REPO

TINY = REPO / "tests" / "fixtures" / "genesis" / "tiny_ok.csv"
LINE_8 = "31.12.2020;DG;Deutschland;unter 18 Jahre;100;120;5,5;6,25"


def with_line_8(tmp_path: Path, line: str) -> Path:
    text = TINY.read_text(encoding="utf-8")
    assert text.count(LINE_8) == 1
    path = tmp_path / "edited.csv"
    path.write_text(text.replace(LINE_8, line), encoding="utf-8")
    return path


def test_fractional_count_is_an_error(tmp_path):
    path = with_line_8(tmp_path, LINE_8.replace(";120;", ";120,5;"))
    with pytest.raises(InputError) as info:
        genesis_csv.read_table(path)
    assert (info.value.line, info.value.column) == (8, "6")
    assert "found '120,5' in 'Deutsche | weiblich' (unit Anzahl), expected a count" in str(
        info.value
    )


def test_thousands_point_is_not_read(tmp_path):
    path = with_line_8(tmp_path, LINE_8.replace(";100;", ";1.480;"))
    with pytest.raises(InputError) as info:
        genesis_csv.read_table(path)
    assert (info.value.line, info.value.column) == (8, "5")
    assert "found '1.480'" in str(info.value)


def test_percentages_keep_their_decimals():
    rows = genesis_csv.read_table(TINY).rows.set_index(["line", "column"])
    assert rows.loc[(8, 5), "value"] == 100
    assert rows.loc[(8, 7), ["unit", "value"]].tolist() == ["Prozent", 5.5]
    assert rows.loc[(8, 8), "value"] == 6.25
