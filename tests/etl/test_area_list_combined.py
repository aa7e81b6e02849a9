"""Areas published together with the area-list geography (#14): the optional column
``bestandteile`` of the area list (etl/sources/area_list.py). The tiny city's list with
Altstadt (11) and Hafen (12) published as one unit 1X "Altstadt und Hafen"; its shape is
the union of their two squares (7.60-7.61 and 7.61-7.62 °E x 50.30-50.31 °N in
tests/fixtures/tiny), so its bounds are 7.60-7.62 x 50.30-50.31 and its area twice one
square's."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from etl.errors import InputError
from etl.sources.area_list import read_vintage
from tests.conftest import REPO

FOLDER = REPO / "tests" / "fixtures" / "tiny" / "raw" / "gebiete" / "2010-01-01"
LEVELS = {"Stadt": "city", "Stadtbezirk": "district", "Stadtteil": "quarter"}
HEADER = "gebiet_id;ebene;name;uebergeordnet;bestandteile"
ROWS = [
    "0;Stadt;Kleinstadt;;",
    "1;Stadtbezirk;Nord;0;",
    "2;Stadtbezirk;Süd;0;",
    "1X;Stadtteil;Altstadt und Hafen;1;11,12",
    "21;Stadtteil;Bergdorf;2;",
]


def vintage(tmp_path: Path, rows: list[str]):
    folder = tmp_path / "2010-01-01"
    folder.mkdir()
    shutil.copy(FOLDER / "stadtteile.geojson", folder)
    (folder / "gebiete.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return read_vintage(
        folder / "gebiete.csv", folder / "stadtteile.geojson", LEVELS, list(LEVELS.values())
    )


def test_a_combined_unit_is_the_union_of_its_features(tmp_path):
    read = vintage(tmp_path, ROWS)
    assert set(read.shapes) == {"1X", "21"}
    assert read.shapes["1X"].bounds == pytest.approx((7.60, 50.30, 7.62, 50.31))
    assert read.shapes["1X"].area == pytest.approx(2 * 0.01 * 0.01)
    assert read.warnings == []  # 11 and 12 are parts, not unknown areas
    names = dict(zip(read.areas["area_id"], read.areas["name"], strict=True))
    assert names["1X"] == "Altstadt und Hafen"
    assert list(read.areas.columns) == ["area_id", "level", "name", "parent_id"]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("1X;Stadtteil;Altstadt und Hafen;1;11,13", "'13' (a part of unit 1X) is no feature"),
        ("1X;Stadtteil;Altstadt und Hafen;1;11", "found one id; expected the ids of two or more"),
        ("1X;Stadtteil;Altstadt und Hafen;1;11,21", "found '21', an area of the list itself"),
    ],
)
def test_a_wrong_unit_names_the_area_list_line(tmp_path, row, message):
    with pytest.raises(InputError) as caught:
        vintage(tmp_path, [*ROWS[:3], row, ROWS[4]])
    assert caught.value.line == 5 and caught.value.column == "bestandteile"
    assert message in str(caught.value)
