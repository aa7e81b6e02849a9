"""Known answers on the hand-made tiny city (tests/fixtures/tiny).

Every expected value below was computed by hand from the fixture rows; the comments
show the arithmetic. 2024-12-31: districts 11 (8 residents), 12 (9), 21 (8); boroughs
1 = {11, 12}, 2 = {21}; city 0.
"""

from __future__ import annotations

import pytest


def value(con, indicator, area, level=None, ref_date="2024-12-31"):
    rows = con.execute(
        "SELECT value, numerator, denominator, flag, n_units FROM indicator_values "
        "WHERE indicator_id = ? AND area_id = ? AND ref_date = ? AND (? IS NULL OR level = ?)",
        [indicator, area, ref_date, level, level],
    ).fetchall()
    assert len(rows) == 1, (indicator, area, level, rows)
    return rows[0]


def status_of(con, ref_date="2024-12-31"):
    """Persons by district and migration status (aggregated counts, as published)."""
    return dict(
        con.execute(
            "SELECT area_id || ':' || migration_status || ':' || origin_region, sum(count) "
            "FROM population WHERE ref_date = ? GROUP BY ALL",
            [ref_date],
        ).fetchall()
    )


def test_migration_status_rules(tiny_con):
    # one row of the fixture per rule; see docs/DATA_MODEL.md
    counts = status_of(tiny_con)
    assert counts == {
        "11:auslaender:europa_sonstige": 1,  # P01 TR
        "11:abgeleitet:europa_sonstige": 1,  # P09 child of P01 (TR)
        "11:spaetaussiedler:asien": 1,  # P02 born KZ
        "11:keiner:keine": 5,  # P11 (18: adult), P12 (S), P20, P21, P22
        "12:eingebuergert:unbekannt": 1,  # P03 naturalised, born DE, no 2nd cit.
        "12:eingebuergert:asien": 1,  # P04 born SY
        "12:eingebuergert:eu": 1,  # P24 born RO
        "12:doppelte_staatsangehoerigkeit:eu": 1,  # P05 DE + PL
        "12:abgeleitet:eu": 1,  # P10, via partner EP P24 (RO)
        "12:keiner:keine": 4,  # P13 (parents none), P23, P25, P26
        "21:doppelte_staatsangehoerigkeit:eu": 1,  # P06 IT + DE (German)
        "21:zugewandert:amerika": 1,  # P07 born US, arrived 2000
        "21:auslaender:eu": 1,  # P14 HR (EU since 2013-07-01)
        "21:auslaender:europa_sonstige": 1,  # P15 GB (left the EU 2020-01-31)
        "21:auslaender:afrika": 1,  # P16 NG
        "21:keiner:keine": 3,  # P08 born AT, no arrival; P27; P28 born DD
    }


def test_eu_membership_at_reference_date(tiny_con):
    counts = status_of(tiny_con, "2012-12-31")
    assert counts["11:auslaender:europa_sonstige"] == 1  # Q01 HR, before accession
    assert counts["11:auslaender:eu"] == 1  # Q02 GB, still a member


@pytest.mark.parametrize(
    "indicator, area, expected",
    [
        ("population", "0", 25),
        ("population", "1", 17),  # 8 + 9
        ("foreigner_share", "0", 100 * 4 / 25),  # P01, P14, P15, P16
        ("foreigner_share", "2", 100 * 3 / 8),
        ("migration_background_share", "0", 100 * 13 / 25),
        ("migration_background_share", "11", 100 * 3 / 8),
        ("migration_background_share", "1", 100 * 8 / 17),
        ("germans_with_migration_background_share", "0", 100 * 9 / 25),
        ("age_under_18_share", "0", 100 * 4 / 25),  # P09 10, P12 5, P10 17, P13 8
        ("age_under_18_share_migration_background", "0", 100 * 2 / 13),  # P09, P10
        ("age_65_plus_share", "0", 100 * 4 / 25),  # P20 74, P21 72, P27 84, P28 79
        ("age_65_plus_share_no_migration_background", "0", 100 * 4 / 12),
        ("sex_ratio_foreigners", "0", 100 * 2 / 1),  # men P01, P14; woman P15; P16 'd'
        ("origin_share_eu", "0", 100 * 5 / 13),  # P05, P10, P24, P06, P14
        ("origin_share_europe_other", "0", 100 * 3 / 13),  # P01, P09, P15
        ("origin_share_asia", "0", 100 * 2 / 13),  # P02, P04
        ("origin_share_africa", "0", 100 * 1 / 13),  # P16
        ("origin_share_americas", "0", 100 * 1 / 13),  # P07
    ],
)
def test_share_and_count_values(tiny_con, indicator, area, expected):
    assert value(tiny_con, indicator, area)[0] == pytest.approx(expected, abs=1e-9)


def test_numerator_and_denominator_are_published(tiny_con):
    assert value(tiny_con, "migration_background_share", "1")[1:4] == (8, 17, None)


@pytest.mark.parametrize(
    "indicator, level, expected, units",
    [
        # x = (3, 5, 5), t = (8, 9, 8), X = 13, T - X = 12:
        # ½ (|3/13 − 5/12| + |5/13 − 4/12| + |5/13 − 3/12|) = ½ (29 + 8 + 21)/156 = 29/156
        ("segregation_is_migration_background", "district", 29 / 156, 3),
        # boroughs x = (8, 5), t = (17, 8): ½ (|8/13 − 9/12| + |5/13 − 3/12|) = 21/156
        ("segregation_is_migration_background", "borough", 21 / 156, 2),
        # foreigners f = (1, 0, 3), X = 4, T − X = 21: ½ (7 + 36 + 43)/84 = 43/84
        ("segregation_is_foreigners", "district", 43 / 84, 3),
        # 2012: x = (2, 0, 1), t = (3, 2, 2): ½ (|2/3 − 1/4| + |0 − 2/4| + |1/3 − 1/4|) = ½
    ],
)
def test_segregation_index(tiny_con, indicator, level, expected, units):
    got, numerator, denominator, flag, n_units = value(tiny_con, indicator, "0", level)
    assert got == pytest.approx(expected, abs=1e-12)
    assert (n_units, flag) == (units, None)
    assert denominator == 25


def test_segregation_index_2012(tiny_con):
    got = value(tiny_con, "segregation_is_migration_background", "0", "district", "2012-12-31")[0]
    assert got == pytest.approx(0.5, abs=1e-12)


def test_empty_denominator_is_undefined(tiny_con):
    # borough 1 has no foreign women: men per 100 women is undefined, not 0 or infinite
    assert value(tiny_con, "sex_ratio_foreigners", "1")[3] == "undefined"
    assert value(tiny_con, "sex_ratio_foreigners", "1")[0] is None
