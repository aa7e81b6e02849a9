"""Broken project workbooks (#15): ``imon refresh`` refuses each with one error naming
file, sheet, row and column, exits non-zero and writes nothing (raw folder, snapshots)."""

from __future__ import annotations

from datetime import date, datetime

import openpyxl
import pytest

from etl import deliveries, warehouse
from etl.errors import InputError
from imon.cli import main
from tests.etl.test_goals_intake import D23, D24, FIRST, filled, make_goal_city
from tests.etl.test_refresh import tree


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    root = tmp_path_factory.mktemp("goal_city")
    return make_goal_city(root), root / "inbox"


def broken(city, change) -> tuple:
    """A filled workbook changed by ``change(book)``; the refresh's error and exit code."""
    profile, inbox = city
    path = filled(profile, inbox, FIRST, "projektindikatoren_2024.xlsx")
    book = openpyxl.load_workbook(path)
    change(book)
    book.save(path)
    raw_before = tree(profile.raw_dir)
    snapshots_before = sorted(p.name for p in (profile.curated_dir / "snapshots").iterdir())
    with pytest.raises(InputError) as info:
        deliveries.refresh(profile, [path])
    code = main(["refresh", "--profile", str(profile.path), str(path)])
    assert tree(profile.raw_dir) == raw_before
    assert sorted(p.name for p in (profile.curated_dir / "snapshots").iterdir()) == (
        snapshots_before
    )
    assert warehouse.staged(profile.curated_dir) is None
    return str(info.value), code, path


def row_of(sheet, indicator: str, day: date) -> int:
    return next(
        r
        for r in range(2, sheet.max_row + 1)
        if sheet.cell(r, 1).value == indicator
        and sheet.cell(r, 4).value == datetime(*day.timetuple()[:3])
    )


def test_a_sheet_no_action_field_has(city):
    def rename(book):
        book["Ehrenamt"].title = "Ehrenamt 2024"

    message, code, path = broken(city, rename)
    assert code == 2
    assert message == (
        f"{path}: sheet 'Ehrenamt 2024' is no action field of the goals (expected sheets: "
        "'Ehrenamt', and 'Hinweise')"
    )


def test_text_in_a_number_cell(city):
    def text(book):
        sheet = book["Ehrenamt"]
        sheet.cell(row_of(sheet, "lotsen", D24), 5).value = "sechs"

    message, code, path = broken(city, text)
    row = row_of(openpyxl.load_workbook(path)["Ehrenamt"], "lotsen", D24)
    assert code == 2
    assert message == (
        f"{path}, line {row}, column 'Wert': sheet 'Ehrenamt': expected a number, found "
        "text 'sechs'"
    )


def test_a_date_before_the_baseline(city):
    def early(book):
        sheet = book["Ehrenamt"]
        sheet.cell(row_of(sheet, "mentoren", D23), 4).value = datetime(2021, 12, 31)

    message, code, path = broken(city, early)
    assert code == 2
    assert ", column 'Stichtag': sheet 'Ehrenamt': date 31.12.2021 outside the range from " in (
        message
    )
    assert "the baseline (31.12.2022) to today (" in message


def test_the_same_indicator_and_date_twice(city):
    def twice(book):
        sheet = book["Ehrenamt"]
        sheet.append(["teilnehmende", "", "", datetime(2024, 12, 31), 25, "Nachmeldung"])

    message, code, path = broken(city, twice)
    last = openpyxl.load_workbook(path)["Ehrenamt"].max_row
    first = row_of(openpyxl.load_workbook(path)["Ehrenamt"], "teilnehmende", D24)
    assert code == 2
    assert message == (
        f"{path}, line {last}, column 'Indikator-ID': sheet 'Ehrenamt': 'teilnehmende' on "
        f"31.12.2024 a second time (first in sheet 'Ehrenamt', row {first})"
    )


def test_a_person_count_must_be_whole_and_a_milestone_zero_or_one(city):
    def half(book):
        sheet = book["Ehrenamt"]
        sheet.cell(row_of(sheet, "mentoren", D24), 5).value = 0.5

    message, code, _ = broken(city, half)
    assert code == 2
    assert message.endswith(
        "column 'Wert': sheet 'Ehrenamt': expected 1 (realised) or 0 (not yet), found 0.5"
    )


def test_an_unknown_indicator_and_a_changed_header(city):
    def unknown(book):
        sheet = book["Ehrenamt"]
        sheet.cell(row_of(sheet, "lotsen", D23), 1).value = "lotzen"

    message, _, _ = broken(city, unknown)
    assert "column 'Indikator-ID': sheet 'Ehrenamt': 'lotzen' is no project indicator of this " in (
        message
    )

    def header(book):
        book["Ehrenamt"]["E1"].value = "Anzahl"

    message, _, path = broken(city, header)
    assert message == (
        f"{path}, line 1, column 'Wert': sheet 'Ehrenamt': header 'Anzahl' where 'Wert' is "
        "expected (use the template of 'imon goals template')"
    )
