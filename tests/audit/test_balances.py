"""The audit of balances (etl/audit/balances.py): a published balance must be its published
components' difference, checked from the publication alone; numbers by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from etl.audit.balances import check_balances
from etl.indicators.spec import load_catalogue
from tests.conftest import REPO

NET, IN, OUT = (
    "foreigners&net_migration_abroad",
    "arrivals_abroad&foreigners",
    "departures_abroad&foreigners",
)
DATE = pd.Timestamp("2015-12-31")


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(REPO / "indicators.yaml")


def values(rows):
    """Published linear values: (indicator, function, num_term, den_term, area, value,
    numerator, denominator, scale)."""
    columns = ["indicator_id", "function", "num_term", "den_term", "area_id", "value"]
    frame = pd.DataFrame(rows, columns=[*columns, "numerator", "denominator", "scale"])
    return frame.assign(ref_date=DATE, level="kreis", flag=None)


def table(arrivals=120.0, departures=45.0, net=75.0, rate=75.0 / 1500 * 1000, total=1500.0):
    nan = math.nan
    return values(
        [
            ("arrivals", "count", IN, None, "A", arrivals, arrivals, nan, 1.0),
            ("departures", "count", OUT, None, "A", departures, departures, nan, 1.0),
            ("net", "count", NET, None, "A", net, net, nan, 1.0),
            ("net_rate", "ratio", NET, "total", "A", rate, net, total, 1000.0),
            ("population", "count", "total", None, "A", total, total, nan, 1.0),
        ]
    )


def test_balance_equal_to_its_published_components_passes(catalogue):
    # 120 − 45 = 75; 1000 · 75 / 1500 = 50 per 1,000
    assert check_balances(table(), catalogue) == (2, [])


def test_balance_that_is_not_the_difference_fails(catalogue):
    checked, failures = check_balances(table(net=76.0, rate=76.0 / 1500 * 1000), catalogue)
    assert checked == 2 and len(failures) == 2
    assert (
        "Saldo 76 ≠ arrivals_abroad&foreigners 120 − departures_abroad&foreigners 45" in failures[0]
    )


def test_balance_beside_a_withheld_component_fails(catalogue):
    # the arrivals are withheld (e.g. 2): a published balance would give them as 45 + net
    _, failures = check_balances(table(arrivals=math.nan, net=-43.0, rate=-43 / 1.5), catalogue)
    assert len(failures) == 2 and "ohne veröffentlichte Komponenten" in failures[0]


def test_withheld_balance_is_safe(catalogue):
    checked, failures = check_balances(
        table(arrivals=math.nan, net=math.nan, rate=math.nan), catalogue
    )
    assert (checked, failures) == (0, [])


def test_rate_of_a_balance_must_match_its_published_denominator(catalogue):
    _, failures = check_balances(table(rate=51.0), catalogue)
    assert len(failures) == 1 and "Quote 51 ≠ Saldo / Nenner" in failures[0]
    frame = table()
    frame = frame[frame.indicator_id != "population"]  # the total published nowhere else
    _, failures = check_balances(frame, catalogue)
    assert len(failures) == 1 and "Nenner 1500 sonst nicht veröffentlicht" in failures[0]
