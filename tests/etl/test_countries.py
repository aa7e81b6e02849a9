"""Tests for the country code list etl/transform/countries.csv and its helpers."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from etl.transform.countries import (
    COLUMNS,
    DEFAULT_PATH,
    REGIONS,
    RESULT_REGIONS,
    eu_codes_at,
    load_countries,
    region_at,
)

# Codes with EU dates that are not member states themselves (French DOMs).
EU_OVERSEAS = {"GF", "GP", "MQ", "RE", "YT"}
NOT_COUNTED = {"DE", "DD"} | EU_OVERSEAS
HISTORICAL_AND_SPECIAL = {"XK", "SU", "YU", "CS", "DD", "XX"}


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return load_countries()


def member_states_at(df: pd.DataFrame, date: str) -> set[str]:
    return set(eu_codes_at(df, date)) - NOT_COUNTED


# --- file format -----------------------------------------------------------


def test_header_and_encoding():
    first = DEFAULT_PATH.read_text(encoding="utf-8").splitlines()[0]
    assert first == ";".join(COLUMNS)


def test_every_line_has_six_fields():
    lines = DEFAULT_PATH.read_text(encoding="utf-8").splitlines()
    assert all(line.count(";") == 5 for line in lines)


def test_row_count(df):
    assert len(df) == 249 + len(HISTORICAL_AND_SPECIAL)


def test_codes_unique_and_two_uppercase_letters(df):
    assert df["code"].is_unique
    assert df["code"].map(lambda c: re.fullmatch(r"[A-Z]{2}", c) is not None).all()


def test_namibia_not_read_as_missing(df):
    row = df[df["code"] == "NA"]
    assert len(row) == 1
    assert row["name_de"].iloc[0] == "Namibia"


def test_names_present(df):
    assert (df["name_de"].str.strip() != "").all()
    assert (df["name_en"].str.strip() != "").all()
    assert not df["name_de"].str.contains(";").any()


def test_regions_valid(df):
    assert set(df["region"]) <= REGIONS
    assert "eu" not in set(df["region"])


def test_dates_parse_and_are_ordered(df):
    raw = pd.read_csv(DEFAULT_PATH, sep=";", dtype=str, keep_default_na=False)
    for col in ("eu_from", "eu_to"):
        filled = raw.loc[raw[col] != "", col]
        assert filled.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
        # NaT only where the CSV field is empty
        assert (df[col].isna() == (raw[col] == "")).all()
    # no end without a start, and start strictly before end
    assert not (df["eu_to"].notna() & df["eu_from"].isna()).any()
    both = df.dropna(subset=["eu_from", "eu_to"])
    assert (both["eu_from"] < both["eu_to"]).all()


def test_eu_rows_have_european_region_except_overseas(df):
    eu_rows = df[df["eu_from"].notna()]
    non_overseas = eu_rows[~eu_rows["code"].isin(EU_OVERSEAS)]
    assert set(non_overseas["region"]) == {"europa_sonstige"}


# --- known answers ---------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "expected"),
    [("2012-12-31", 26), ("2015-12-31", 27), ("2024-12-31", 26)],
)
def test_number_of_eu_members(df, date, expected):
    members = member_states_at(df, date)
    assert len(members) == expected
    # incl. Germany
    assert len(members | {"DE"}) == expected + 1


def test_member_composition(df):
    assert {"GB", "HR"} <= member_states_at(df, "2015-12-31")
    assert "HR" not in member_states_at(df, "2012-12-31")
    assert "GB" in member_states_at(df, "2012-12-31")
    assert "GB" not in member_states_at(df, "2024-12-31")
    assert member_states_at(df, "1958-01-01") == {"BE", "FR", "IT", "LU", "NL"}
    assert member_states_at(df, "1957-12-31") == set()


def test_all_current_members_listed(df):
    eu27 = {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    }  # fmt: skip
    assert member_states_at(df, "2024-12-31") | {"DE"} == eu27


@pytest.mark.parametrize(
    ("code", "region"),
    [
        ("TR", "europa_sonstige"),
        ("RU", "europa_sonstige"),
        ("UA", "europa_sonstige"),
        ("CH", "europa_sonstige"),
        ("XK", "europa_sonstige"),
        ("SU", "europa_sonstige"),
        ("YU", "europa_sonstige"),
        ("CS", "europa_sonstige"),
        ("GB", "europa_sonstige"),
        ("HR", "europa_sonstige"),
        ("CY", "europa_sonstige"),
        ("KZ", "asien"),
        ("AM", "asien"),
        ("AZ", "asien"),
        ("GE", "asien"),
        ("SY", "asien"),
        ("US", "amerika"),
        ("GL", "amerika"),
        ("AU", "ozeanien"),
        ("NC", "ozeanien"),
        ("NG", "afrika"),
        ("EG", "afrika"),
        ("DE", "inland"),
        ("DD", "inland"),
        ("XX", "unbekannt"),
        ("AQ", "unbekannt"),
    ],
)
def test_specific_regions(df, code, region):
    row = df.set_index("code").loc[code]
    assert row["region"] == region


def test_specific_rows(df):
    by_code = df.set_index("code")
    assert by_code.loc["TR", "name_de"] == "Türkei"
    assert by_code.loc["TR", "name_en"] == "Türkiye"
    assert by_code.loc["GB", "eu_from"] == pd.Timestamp("1973-01-01")
    assert by_code.loc["GB", "eu_to"] == pd.Timestamp("2020-01-31")
    assert by_code.loc["HR", "eu_from"] == pd.Timestamp("2013-07-01")
    assert pd.isna(by_code.loc["HR", "eu_to"])
    for code in ("DE", "DD", "TR", "CH", "NO", "XK"):
        assert pd.isna(by_code.loc[code, "eu_from"]), code
    for code in ("GF", "GP", "MQ", "RE"):
        assert by_code.loc[code, "eu_from"] == by_code.loc["FR", "eu_from"]
    assert by_code.loc["CS", "name_de"] == "Serbien und Montenegro"


# --- region_at -------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "date", "expected"),
    [
        ("HR", "2013-06-30", "europa_sonstige"),
        ("HR", "2013-07-01", "eu"),
        ("GB", "1972-12-31", "europa_sonstige"),
        ("GB", "1973-01-01", "eu"),
        ("GB", "2020-01-31", "eu"),
        ("GB", "2020-02-01", "europa_sonstige"),
        ("PL", "2004-04-30", "europa_sonstige"),
        ("PL", "2004-05-01", "eu"),
        ("FR", "2024-12-31", "eu"),
        ("RE", "2024-12-31", "eu"),
        ("RE", "1957-12-31", "afrika"),
        ("DE", "2024-12-31", "inland"),
        ("DD", "1980-01-01", "inland"),
        ("TR", "2024-12-31", "europa_sonstige"),
        ("KZ", "2024-12-31", "asien"),
        ("NA", "2024-12-31", "afrika"),
        ("XX", "2024-12-31", "unbekannt"),
    ],
)
def test_region_at(df, code, date, expected):
    assert region_at(df, code, date) == expected


def test_region_at_accepts_date_types_and_lowercase(df):
    import datetime as dt

    assert region_at(df, "hr", dt.date(2015, 12, 31)) == "eu"
    assert region_at(df, " gb ", pd.Timestamp("2020-01-31 23:59")) == "eu"
    assert region_at(df, "GB", dt.datetime(2020, 2, 1, 0, 0)) == "europa_sonstige"


def test_region_at_unknown_code(df):
    with pytest.raises(KeyError):
        region_at(df, "QQ", "2024-12-31")


def test_region_at_results_always_valid(df):
    for date in ("1950-01-01", "2012-12-31", "2024-12-31"):
        assert {region_at(df, c, date) for c in df["code"]} <= RESULT_REGIONS


def test_load_countries_custom_path(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text(
        "code;name_de;name_en;region;eu_from;eu_to\n"
        "NA;Namibia;Namibia;afrika;;\n"
        "AA;Testland;Testland;europa_sonstige;2000-01-01;2000-12-31\n",
        encoding="utf-8",
    )
    small = load_countries(p)
    assert list(small["code"]) == ["NA", "AA"]
    assert region_at(small, "AA", "2000-06-30") == "eu"
    assert region_at(small, "AA", "2001-01-01") == "europa_sonstige"


def test_load_countries_missing_column(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("code;name_de\nDE;Deutschland\n", encoding="utf-8")
    with pytest.raises(ValueError, match="lacks columns"):
        load_countries(p)


# --- completeness against pycountry (optional dependency) -----------------


def test_all_iso_codes_present(df):
    import pycountry  # test dependency (pyproject [test])

    iso = {c.alpha_2 for c in pycountry.countries}
    assert iso <= set(df["code"])
    assert set(df["code"]) - iso == HISTORICAL_AND_SPECIAL
