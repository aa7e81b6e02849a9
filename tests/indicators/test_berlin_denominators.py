"""Shares with the base in their title (issue #18): on Berlin, the share with migration
background among all under-18s (and 65+) is a separate indicator from the share of
under-18s among residents with migration background. Both are checked against the raw LOR
tables read with plain pandas (never through etl.*)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from tests.etl.test_instances import indicator, lor

DATES = [date(2015, 12, 31), date(2024, 12, 31)]
UNDER_18 = ("age_below_6", "age_6_15", "age_15_18")


def _district_sums(ref_date: date, table: str, columns: list[str]) -> pd.DataFrame:
    raw = lor(ref_date, table)
    return raw.groupby(raw["id"].str[:2])[columns].sum()


def _expected(ref_date: date, ages: tuple[str, ...]) -> pd.DataFrame:
    """Per district: residents of the ages (t2), of whom with migration background (t3),
    and all residents with migration background (t3 'inhabitants')."""
    t2 = _district_sums(ref_date, "t2", [f"inhabitants_{a}" for a in ages]).sum(axis=1)
    mb_cols = [f"inhabitants_with_migration_background_{a}" for a in ages]
    t3 = _district_sums(ref_date, "t3", [*mb_cols, "inhabitants"])
    return pd.DataFrame({"ages": t2, "mb_ages": t3[mb_cols].sum(axis=1), "mb": t3["inhabitants"]})


@pytest.mark.parametrize("ref_date", DATES, ids=str)
@pytest.mark.parametrize(
    ("ages", "share_of_ages", "ages_among_mb"),
    [
        (
            UNDER_18,
            "migration_background_share_under_18",
            "age_under_18_share_migration_background",
        ),
        (
            ("age_above_65",),
            "migration_background_share_65_plus",
            "age_65_plus_share_migration_background",
        ),
    ],
    ids=["under_18", "65_plus"],
)
def test_both_shares_have_their_own_base(berlin_con, ref_date, ages, share_of_ages, ages_among_mb):
    expected = _expected(ref_date, ages)
    assert len(expected) == 12
    among_ages = indicator(berlin_con, share_of_ages, ref_date, "district").set_index("area_id")
    among_mb = indicator(berlin_con, ages_among_mb, ref_date, "district").set_index("area_id")
    among_ages, among_mb = among_ages.loc[expected.index], among_mb.loc[expected.index]
    assert (among_ages["numerator"] == expected["mb_ages"]).all()
    assert (among_ages["denominator"] == expected["ages"]).all()  # all residents of the ages
    assert (among_mb["denominator"] == expected["mb"]).all()  # residents with MH
    share = 100 * expected["mb_ages"] / expected["ages"]
    assert (among_ages["value"] - share).abs().max() <= 1e-9
    assert (among_mb["value"] - 100 * expected["mb_ages"] / expected["mb"]).abs().max() <= 1e-9


def test_titles_name_the_base(berlin_con):
    titles = dict(berlin_con.execute("SELECT indicator_id, title_de FROM indicators").fetchall())
    assert titles["age_under_18_share_migration_background"] == (
        "Anteil der unter 18-Jährigen an den Einwohnern mit Migrationshintergrund"
    )
    assert titles["migration_background_share_under_18"] == (
        "Anteil mit Migrationshintergrund an den unter 18-Jährigen"
    )
    assert titles["origin_share_eu"].endswith("an den Einwohnern mit Migrationshintergrund")
