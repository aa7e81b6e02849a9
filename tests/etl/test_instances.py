"""The two real instances, built from the shared data (profiles/berlin.yaml,
profiles/rlp-kreise.yaml), against answers computed independently from the raw files with
plain pandas / csv / json (never through etl.*). Runs in CI (CI=true: missing data fails),
skips elsewhere when ../shared/data is absent.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import shapely

from etl import publication, warehouse
from etl.indicators.spec import load_catalogue
from etl.profile import load_profile
from imon.cli import main
from tests.conftest import REPO, SHARED_DATA

BERLIN = SHARED_DATA / "berlin-lor"
GENESIS = SHARED_DATA / "genesis"
KREISE_GEOJSON = SHARED_DATA / "geometry-de" / "bkg_vg5000_2021-01-01_kreise_ars.geojson"
BERLIN_DATES = [
    date(year, month, day) for year in range(2015, 2025) for month, day in ((6, 30), (12, 31))
]


# --- Berlin: independent reading of the raw LOR tables ---------------------------------


def lor_path(ref_date: date, table: str) -> Path:
    part = "01" if ref_date.month == 6 else "02"
    return (
        BERLIN
        / "population"
        / (f"berlin-lor-population-{ref_date.year}-{part}-{table}-planning-areas.csv")
    )


@cache
def lor(ref_date: date, table: str = "t1") -> pd.DataFrame:
    """One raw LOR table (ids kept as 8-digit text)."""
    return pd.read_csv(lor_path(ref_date, table), dtype={"id": str})


def raw_shares(ref_date: date) -> pd.DataFrame:
    """Population, migration background and foreigners of the city ('BE') and of each
    district (first two digits of the planning-area id), summed from t1."""
    t1 = lor(ref_date)
    columns = {
        "inhabitants": "total",
        "inhabitants_with_migration_background": "mb",
        "inhabitants_foreigners": "foreigners",
    }
    districts = t1.groupby(t1["id"].str[:2])[list(columns)].sum().rename(columns=columns)
    city = t1[list(columns)].sum().rename(columns).to_frame("BE").T
    return pd.concat([city, districts])


def indicator(
    con, indicator_id: str, ref_date: date | None = None, level: str | None = None
) -> pd.DataFrame:
    return con.execute(
        "SELECT ref_date, area_id, level, value, numerator, denominator, flag, n_units "
        "FROM indicator_values WHERE indicator_id = ? AND (? IS NULL OR ref_date = ?) "
        "AND (? IS NULL OR level = ?) ORDER BY ref_date, area_id",
        [indicator_id, ref_date, ref_date, level, level],
    ).df()


def test_berlin_levels_and_dates(berlin_con):
    levels = [r[0] for r in berlin_con.execute("SELECT level FROM levels ORDER BY rank").fetchall()]
    assert levels == ["city", "district", "forecast_area", "district_region", "planning_area"]
    dates = [
        r[0]
        for r in berlin_con.execute(
            "SELECT DISTINCT ref_date FROM indicator_values ORDER BY 1"
        ).fetchall()
    ]
    assert dates == BERLIN_DATES


@pytest.mark.parametrize("ref_date", BERLIN_DATES, ids=str)
def test_berlin_city_and_districts(berlin_con, ref_date):
    expected = raw_shares(ref_date)
    assert len(expected) == 13  # the city and 12 districts
    population = indicator(berlin_con, "population", ref_date, "city")
    assert population["value"].tolist() == [expected.loc["BE", "total"]]
    for indicator_id, numerator in (
        ("migration_background_share", "mb"),
        ("foreigner_share", "foreigners"),
    ):
        found = pd.concat(
            [
                indicator(berlin_con, indicator_id, ref_date, "city"),
                indicator(berlin_con, indicator_id, ref_date, "district"),
            ]
        ).set_index("area_id")
        assert sorted(found.index) == sorted(expected.index)
        found = found.loc[expected.index]
        share = 100 * expected[numerator] / expected["total"]
        assert found["flag"].isna().all()
        assert (found["numerator"] == expected[numerator]).all()
        assert (found["denominator"] == expected["total"]).all()
        assert (found["value"] - share).abs().max() <= 1e-9


def test_berlin_values_command(berlin_build, tmp_path, monkeypatch, capsys):
    """``imon values`` on a copy of profiles/berlin.yaml pointing at the test build."""
    curated = berlin_build.snapshot.parents[1]
    text = (REPO / "profiles" / "berlin.yaml").read_text(encoding="utf-8")
    for old, new in (
        ("curated_dir: ../data/curated/berlin", f"curated_dir: {curated}"),
        ("indicators: ../indicators.yaml", f"indicators: {REPO / 'indicators.yaml'}"),
    ):
        assert text.count(old) == 1
        text = text.replace(old, new)
    profile = tmp_path / "berlin.yaml"
    profile.write_text(text, encoding="utf-8")
    monkeypatch.setenv("IMON_SHARED_DATA", str(SHARED_DATA.resolve()))
    capsys.readouterr()
    assert (
        main(
            [
                "values",
                "--profile",
                str(profile),
                "--indicator",
                "migration_background_share",
                "--level",
                "district",
                "--date",
                "2024-12-31",
            ]
        )
        == 0
    )
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    expected = raw_shares(date(2024, 12, 31)).drop(index="BE")
    assert len(rows) == 12
    assert sorted(r["area_id"] for r in rows) == sorted(expected.index)
    for row in rows:
        assert (row["indicator"], row["ref_date"], row["level"], row["flag"]) == (
            "migration_background_share",
            "2024-12-31",
            "district",
            "",
        )
        raw = expected.loc[row["area_id"]]
        assert float(row["value"]) == pytest.approx(100 * raw["mb"] / raw["total"], abs=1e-9)
        assert (int(row["numerator"]), int(row["denominator"])) == (raw["mb"], raw["total"])


@pytest.mark.parametrize("ref_date", BERLIN_DATES, ids=str)
def test_berlin_planning_areas_per_date(berlin_con, ref_date):
    ids = set(lor(ref_date)["id"])
    assert len(ids) == (447 if ref_date.year <= 2018 else 448 if ref_date.year <= 2020 else 542)
    found = {
        r[0]
        for r in berlin_con.execute(
            "SELECT DISTINCT area_id FROM observations WHERE source_id = 'lor_t1' AND ref_date = ?",
            [ref_date],
        ).fetchall()
    }
    assert found == ids


def test_berlin_areas_without_a_row_count_zero_and_are_reported(berlin_build, berlin_con):
    """A planning area of the 2006 vintage missing from a date's tables counts 0 there
    (documented behaviour), and the build says so for every such date."""
    geometry = BERLIN / "geometry" / "berlin-lor-planning-areas-until-2020.geojson"
    old = [d for d in BERLIN_DATES if d.year <= 2020]
    vintage = {f["properties"]["id"] for f in features(geometry)} | {"04030417"}
    vintage |= {code for d in old for code in lor(d)["id"]}
    gaps = {d: sorted(vintage - set(lor(d)["id"])) for d in old}
    gaps = {d: codes for d, codes in gaps.items() if codes}
    assert gaps == {d: ["09041403"] for d in old if d.year <= 2018}  # Allende II
    listed = "; ".join(f"{d}: {', '.join(codes)}" for d, codes in gaps.items())
    assert (
        f"lor-2006: areas without a row in the data count as 0 on these dates — {listed}"
        in berlin_build.warnings
    )
    found = indicator(berlin_con, "population", level="planning_area")
    for ref_date in BERLIN_DATES:
        on_date = found[found["ref_date"].dt.date == ref_date].set_index("area_id")
        expected = set(lor(ref_date)["id"]) | set(gaps.get(ref_date, []))
        assert set(on_date.index) == expected
        assert (on_date.loc[gaps.get(ref_date, []), "value"] == 0).all()


def segregation_index(t: pd.Series, x: pd.Series) -> tuple[float, int]:
    """IS = ½ Σ |x_i/X − (t_i − x_i)/(T − X)| over the units with t_i > 0; (IS, units)."""
    inhabited = t > 0
    t, x = t[inhabited].astype(float), x[inhabited].astype(float)
    big_x, big_t = x.sum(), t.sum()
    return 0.5 * (x / big_x - (t - x) / (big_t - big_x)).abs().sum(), int(inhabited.sum())


@pytest.mark.parametrize("ref_date", BERLIN_DATES, ids=str)
@pytest.mark.parametrize(
    ("indicator_id", "column"),
    [
        ("segregation_is_migration_background", "inhabitants_with_migration_background"),
        ("segregation_is_foreigners", "inhabitants_foreigners"),
    ],
)
def test_berlin_segregation_over_planning_areas(berlin_con, ref_date, indicator_id, column):
    t1 = lor(ref_date)
    expected, units = segregation_index(t1["inhabitants"], t1[column])
    found = indicator(berlin_con, indicator_id, ref_date, "planning_area")
    assert found[["area_id", "n_units"]].values.tolist() == [["BE", units]]
    assert found["flag"].isna().all()
    assert abs(found["value"].iloc[0] - expected) <= 1e-12


def features(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["features"]


def test_berlin_geometry_by_vintage(berlin_con):
    geometry = SHARED_DATA / "berlin-lor" / "geometry"
    rows = berlin_con.execute(
        "SELECT g.level, g.vintage, count(*), min(a.valid_from), max(a.valid_to) "
        "FROM area_geometry AS g INNER JOIN areas AS a USING (area_id, vintage) "
        "WHERE g.level <> 'city' GROUP BY ALL ORDER BY 2, 1"
    ).fetchall()
    until, since = (date(2006, 1, 1), date(2020, 12, 31)), (date(2021, 1, 1), None)
    planning = features(geometry / "berlin-lor-planning-areas-until-2020.geojson")
    assert rows == [
        ("district", "lor-2006", 12, *until),
        (
            "district_region",
            "lor-2006",
            len(features(geometry / "berlin-lor-district-regions-until-2020.geojson")),
            *until,
        ),
        (
            "forecast_area",
            "lor-2006",
            len(features(geometry / "berlin-lor-forecast-areas-until-2020.geojson")),
            *until,
        ),
        ("planning_area", "lor-2006", len(planning), *until),
        ("district", "lor-2021", 12, *since),
        (
            "forecast_area",
            "lor-2021",
            len(features(geometry / "berlin-lor-forecast-areas-from-2021.geojson")),
            *since,
        ),
    ]
    assert len(planning) == 448


@pytest.mark.parametrize("ref_date", [date(2020, 12, 31), date(2021, 6, 30)], ids=str)
def test_berlin_planning_area_maps_end_with_2020(berlin_con, ref_date):
    shaped = berlin_con.execute(
        "SELECT count(*) FROM area_geometry AS g INNER JOIN areas AS a USING (area_id, vintage) "
        "WHERE g.level = 'planning_area' AND ? BETWEEN a.valid_from "
        "AND coalesce(a.valid_to, DATE '9999-12-31')",
        [ref_date],
    ).fetchone()[0]
    assert shaped == (448 if ref_date.year <= 2020 else 0)


def test_berlin_duplicate_id_corrected(berlin_con):
    """Features 124 and 205 of the raw file both say 06010102; the profile makes 124
    (in Charlottenburg) 04030417."""
    raw = features(BERLIN / "geometry" / "berlin-lor-planning-areas-until-2020.geojson")
    assert raw[123]["properties"]["id"] == raw[204]["properties"]["id"] == "06010102"
    shapes = {
        r[0]: shapely.from_geojson(r[1])
        for r in berlin_con.execute(
            "SELECT area_id, geojson FROM area_geometry WHERE vintage = 'lor-2006' "
            "AND area_id IN ('04030417', '06010102')"
        ).fetchall()
    }
    feature_124 = shapely.from_geojson(json.dumps(raw[123]["geometry"])).buffer(0.001)
    feature_205 = shapely.from_geojson(json.dumps(raw[204]["geometry"])).buffer(0.001)
    assert feature_124.contains(shapes["04030417"]) and not feature_205.intersects(
        shapes["04030417"]
    )
    assert feature_205.contains(shapes["06010102"])


def test_berlin_build_warnings(berlin_build):
    # t4's base ('inhabitants') against t1's count with migration background, every date
    differences = []
    for ref_date in BERLIN_DATES:
        t1, t4 = lor(ref_date, "t1").set_index("id"), lor(ref_date, "t4")
        delta = (
            t4["inhabitants"] - t1.loc[t4["id"], "inhabitants_with_migration_background"].to_numpy()
        )
        differences += [(ref_date, line + 2, abs(d)) for line, d in enumerate(delta) if d]
    assert len(differences) == 53
    assert {d[0] for d in differences} == {date(2024, 6, 30)}
    largest, first_line = max(d[2] for d in differences), differences[0][1]
    warnings = berlin_build.warnings
    assert any(
        w.startswith(
            f"table 'lor_t4' disagrees with 'lor_t1' on 53 count(s), by up to {largest} (first: "
            f"berlin-lor-population-2024-01-t4-planning-areas.csv line {first_line},"
        )
        for w in warnings
    ), warnings
    assert (
        "lor-2021: no boundary file for level 'planning_area' (542 areas); its map is "
        "built from finer boundaries where they exist" in warnings
    )


# --- Rhineland-Palatinate: a minimal GENESIS reader of our own -------------------------

KEY_FIELDS = {"12411": 4, "12711": 4, "13111": 3, "13211": 3}  # read off the files


def genesis_path(table: str) -> Path:
    (path,) = GENESIS.glob(f"genesis_{table}-*.csv")
    return path


@cache
def rlp_rows(table: str) -> list[list[str]]:
    """';'-split data lines of the Land (07) and its Kreise (07xxx), up to the footer."""
    lines = genesis_path(table).read_text(encoding="utf-8").split("\n")
    body = lines[: lines.index("__________")]
    return [
        f
        for f in (line.split(";") for line in body)
        if len(f) > 2 and re.fullmatch(r"07(\d{3})?", f[1])
    ]


def number(text: str) -> float:
    return float(text.replace(",", "."))


def kreise_geojson() -> dict[str, dict]:
    return {
        f["properties"]["ARS"]: f["properties"]
        for f in features(KREISE_GEOJSON)
        if f["properties"]["ARS"].startswith("07")
    }


def test_rlp_areas(rlp_con):
    boundaries = kreise_geojson()
    areas = {
        r[0]: r[1:]
        for r in rlp_con.execute("SELECT area_id, level, name, parent_id FROM areas").fetchall()
    }
    assert len(boundaries) == 36
    assert areas.pop("07") == ("land", "Rheinland-Pfalz", None)
    assert sorted(areas) == sorted(boundaries)
    assert {f[1] for f in rlp_rows("12411") if len(f[1]) == 5} == set(boundaries)
    for code, name in (
        ("07111", "Koblenz, Kreisfreie Stadt"),
        ("07137", "Mayen-Koblenz, Landkreis"),
        ("07335", "Kaiserslautern, Landkreis"),
    ):
        raw = boundaries[code]
        assert (
            areas[code] == ("kreis", f"{raw['GEN']}, {raw['BEZ']}", "07") == ("kreis", name, "07")
        )


def test_rlp_foreigner_share(rlp_con):
    # 12411: period;code;name;age;Insgesamt(I,m,w);Deutsche(I,m,w);Ausländer(innen)(I,m,w)
    rows = {f[1]: (int(f[4]), int(f[10])) for f in rlp_rows("12411") if f[3] == "Insgesamt"}
    assert len(rows) == 37
    found = indicator(rlp_con, "foreigner_share", date(2015, 12, 31)).set_index("area_id")
    assert sorted(found.index) == sorted(rows)
    for code, (total, foreigners) in rows.items():
        got = found.loc[code]
        assert (got["numerator"], got["denominator"], got["flag"]) == (foreigners, total, None)
        assert abs(got["value"] - 100 * foreigners / total) <= 1e-9
    land = found.loc["07"]
    kreise_total = sum(t for c, (t, _) in rows.items() if c != "07")
    kreise_foreigners = sum(f for c, (_, f) in rows.items() if c != "07")
    assert (kreise_total, kreise_foreigners) == rows["07"]  # the office's own sum
    assert (land["level"], land["numerator"], land["denominator"]) == (
        "land",
        kreise_foreigners,
        kreise_total,
    )
    assert abs(land["value"] - 100 * rows["07"][1] / rows["07"][0]) <= 1e-9


@pytest.mark.parametrize("code", ["07111", "07"])
def test_rlp_unemployment_rate_foreigners_as_published(rlp_con, code):
    # 13211: year;code;name;7 x Arbeitslose;rate (dependent);rate all, men, women,
    # foreigners (field 14), 15-25
    raw = {int(f[0]): f[14] for f in rlp_rows("13211") if f[1] == code}
    assert sorted(raw) == list(range(2001, 2017))
    found = indicator(rlp_con, "unemployment_rate_foreigners")
    found = found[found["area_id"] == code]
    found = found.set_index(found["ref_date"].dt.year)
    assert sorted(found.index) == sorted(raw)
    for year, cell in raw.items():
        got = found.loc[year]
        if cell == "-":  # 2001-2008: no rate of foreigners published -> flag, never 0
            assert pd.isna(got["value"]) and got["flag"] == "nil"
        else:
            assert got["value"] == number(cell) and pd.isna(got["flag"])
    assert (raw[2016], found.loc[2016, "value"]) == (
        ("16,7", 16.7) if code == "07111" else ("13,4", 13.4)
    )
    assert sum(cell == "-" for cell in raw.values()) == 8


def test_rlp_net_migration_abroad_of_foreigners(rlp_con):
    # 12711: year;code;name;nationality;arrivals (I,m,w);arrivals from abroad (I: field 7);
    # departures (I,m,w);departures abroad (I: field 13, m, w)
    found = indicator(rlp_con, "net_migration_abroad_foreigners")
    for code in ("07335", "07"):
        raw = {
            int(f[0]): int(f[7]) - int(f[13])
            for f in rlp_rows("12711")
            if f[1] == code and f[3] == "Ausländer(innen)"
        }
        assert sorted(raw) == list(range(1995, 2016))
        got = found[found["area_id"] == code]
        assert dict(zip(got["ref_date"].dt.year, got["value"], strict=True)) == raw
        assert got["flag"].isna().all()
    assert raw[2015] == 91899 - 36986  # Land, line 506 of the file


def test_rlp_published_balance_is_the_difference_of_its_published_components(rlp_build):
    """The balance is computed from the protected arrivals and departures, never delivered
    as such: every published balance equals the published arrivals minus the published
    departures (file fields 7 and 13), and the audit recomputes every one of them."""
    with duckdb.connect(str(rlp_build.snapshot / warehouse.PUBLICATION), read_only=True) as con:
        published = con.execute(
            "SELECT indicator_id, year(ref_date), area_id, value FROM indicator_values "
            "WHERE indicator_id IN ('arrivals_abroad_foreigners', "
            "'departures_abroad_foreigners', 'net_migration_abroad_foreigners')"
        ).fetchall()
    got = {(i, y, a): v for i, y, a, v in published}
    rows = [f for f in rlp_rows("12711") if f[3] == "Ausländer(innen)" and f[1] == "07335"]
    assert len(rows) == 21
    for f in rows:
        year = int(f[0])
        assert got[("arrivals_abroad_foreigners", year, "07335")] == int(f[7])
        assert got[("departures_abroad_foreigners", year, "07335")] == int(f[13])
        assert got[("net_migration_abroad_foreigners", year, "07335")] == int(f[7]) - int(f[13])
    balances = [k for k in got if k[0] == "net_migration_abroad_foreigners"]
    for _, year, area in balances:
        arrivals = got[("arrivals_abroad_foreigners", year, area)]
        departures = got[("departures_abroad_foreigners", year, area)]
        if arrivals is None or departures is None:
            assert got[("net_migration_abroad_foreigners", year, area)] is None
        else:
            assert got[("net_migration_abroad_foreigners", year, area)] == arrivals - departures
    profile = load_profile(REPO / "profiles" / "rlp-kreise.yaml")
    report = publication.audit_report(
        rlp_build.snapshot, load_catalogue(profile.indicators), profile
    )
    assert report.balances_checked >= len(rows) and not report.balance_failures
    assert "net_migration_abroad_foreigners" not in report.not_covered


def test_rlp_observations_keep_every_cell(rlp_con):
    found = dict(
        rlp_con.execute(
            "SELECT regexp_extract(source_id, '\\d+$'), count(*) FROM observations GROUP BY 1"
        ).fetchall()
    )
    expected = {
        table: sum(len(f) - keys for f in rlp_rows(table)) for table, keys in KEY_FIELDS.items()
    }
    assert (
        found
        == expected
        == {
            "12411": 37 * 22 * 9,
            "12711": 37 * 21 * 3 * 12,
            "13111": 37 * 4 * 6,
            "13211": 37 * 16 * 13,
        }
    )


def test_rlp_symbols_stay_flags(rlp_con):
    found = {
        (r[0], r[1]): (r[2], r[3])
        for r in rlp_con.execute(
            "SELECT regexp_extract(source_id, '\\d+$'), flag, count(*), count(value) "
            "FROM observations WHERE flag IS NOT NULL GROUP BY 1, 2"
        ).fetchall()
    }
    expected = {}
    for table, keys in KEY_FIELDS.items():
        cells = [c for f in rlp_rows(table) for c in f[keys:]]
        for symbol, flag in ((".", "secret"), ("-", "nil")):
            if symbol in cells:
                expected[(table, flag)] = (cells.count(symbol), 0)
    assert (
        found
        == expected
        == {
            ("12711", "secret"): (6216, 0),
            ("13211", "secret"): (12, 0),
            ("13211", "nil"): (1184, 0),
        }
    )
    # the Land's 2006 row of 13211 has '.' for 15-20-year-olds and the long-term unemployed
    land_2006 = rlp_con.execute(
        "SELECT count(*) FROM observations WHERE source_id = 'genesis_13211' AND area_id = '07' "
        "AND ref_date = '2006-12-31' AND flag = 'secret' AND value IS NULL"
    ).fetchone()[0]
    assert land_2006 == 2
