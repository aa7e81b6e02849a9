"""Known answers for German number/date formatting (shares are stored as 0–100)."""

import math

import pytest

from dashboards import formatting as f


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (1234.5, 1, "1.234,5"),
        (1234567, 0, "1.234.567"),
        (0.25, 2, "0,25"),
        (999.96, 1, "1.000,0"),
        (-1234.5, 1, "−1.234,5"),
        (-0.04, 1, "0,0"),  # rounds to zero: no minus sign
        (None, 1, "–"),
        (math.nan, 1, "–"),
    ],
)
def test_format_number(value, decimals, expected):
    assert f.format_number(value, decimals) == expected


def test_share_stored_as_percent_value_is_not_multiplied():
    assert f.format_value(30.0, "percent", 1) == "30,0 %"
    assert f.format_value(18.811881, "percent", 1) == "18,8 %"


def test_format_value_other_units_are_bare_numbers():
    assert f.format_value(5050.0, "persons", 0) == "5.050"
    assert f.format_value(0.234, "index", 2) == "0,23"
    assert f.format_value(None, "percent", 1) == "–"


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [(0.265, 1, "+0,3"), (-1.25, 2, "−1,25"), (0.001, 1, "±0,0"), (None, 1, "–")],
)
def test_format_signed(value, decimals, expected):
    assert f.format_signed(value, decimals) == expected


def test_change_kinds_and_values():
    assert f.change_kind("count", "persons") == "relative"
    assert f.change_kind("share", "percent") == "points"
    assert f.change_kind("segregation_is", "index") == "absolute"
    assert f.change_kind("ratio", "per_100") == "absolute"
    # 5025 -> 5050 persons: +0.4975 %
    assert f.change(5050, 5025, "relative") == pytest.approx(100 * 25 / 5025)
    assert f.change(18.8, 18.5, "points") == pytest.approx(0.3)
    assert f.change(1, 0, "relative") is None
    assert f.change(None, 3, "absolute") is None


def test_format_date():
    assert f.format_date("2024-12-31") == "31.12.2024"
    assert f.format_date("2025-03-01T12:00:00") == "01.03.2025"
    assert f.format_date(None) == "–"


def test_net_migration_changes_are_absolute_and_negative_numbers_german():
    assert f.change_kind("count", "moves") == "absolute"
    assert f.change_kind("observed", "percent") == "points"
    assert f.change(-50, 100, "absolute") == -150
    assert f.format_value(-1234.0, "moves", 0) == "−1.234"
    assert f.format_value(13.549, "per_1000", 1) == "13,5"
