"""Tests of the Musterstadt demo generator (``etl.demo.write_demo``).

The default run (110,000 persons, 2010-2024) is generated once per module; calibration
targets are checked on it with an independent pandas implementation of the migration
status rules of ``docs/DATA_MODEL.md``.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from shapely.geometry import shape

from etl.demo import write_demo

YEARS = range(2010, 2025)
HEADER = (
    "personen_id;stadtteil;geburtsjahr;geschlecht;staatsangehoerigkeit_1;"
    "staatsangehoerigkeit_2;geburtsland;zuzugsjahr;eingebuergert;spaetaussiedler;"
    "haushalt_id;stellung_im_haushalt"
)
REGIONS = {
    "eu": "PL RO IT GR HR BG ES PT FR NL HU AT CZ",
    "europa_sonstige": "TR RU UA XK RS BA AL MK",
    "asien": "SY AF IQ IR KZ VN IN CN PK LB",
    "afrika": "ER MA NG GH TN SO",
    "amerika": "US BR CO",
    "ozeanien": "AU",
}
REGION_OF = {code: region for region, codes in REGIONS.items() for code in codes.split()}
STATUSES = {
    "auslaender",
    "spaetaussiedler",
    "eingebuergert",
    "doppelte_staatsangehoerigkeit",
    "zugewandert",
    "abgeleitet",
    "keiner",
}
COUNTRIES_CSV = Path(__file__).resolve().parents[2] / "etl" / "transform" / "countries.csv"


# --------------------------------------------------------------------------- helpers


def register_path(raw: Path, year: int) -> Path:
    return raw / "melderegister" / f"{year}-12-31" / f"melderegister_{year}-12-31.csv"


def read_register(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    for col in ("geburtsjahr", "eingebuergert", "spaetaussiedler"):
        df[col] = df[col].astype(int)
    df["zuzugsjahr"] = pd.to_numeric(df["zuzugsjahr"].replace("", np.nan))
    return df


def migration_status(df: pd.DataFrame, year: int) -> pd.Series:
    """The seven rules of DATA_MODEL.md; later assignments override earlier ones, so rules
    are applied from last to first and the first matching rule wins."""
    c1, c2 = df["staatsangehoerigkeit_1"], df["staatsangehoerigkeit_2"]
    german = (c1 == "DE") | (c2 == "DE")
    foreign_second = german & (((c1 != "DE") & (c1 != "")) | ((c2 != "DE") & (c2 != "")))
    born_abroad = ~df["geburtsland"].isin(["", "DE"]) & df["zuzugsjahr"].notna()
    status = pd.Series("keiner", index=df.index)
    status[german & born_abroad] = "zugewandert"
    status[foreign_second] = "doppelte_staatsangehoerigkeit"
    status[german & (df["eingebuergert"] == 1)] = "eingebuergert"
    status[german & (df["spaetaussiedler"] == 1)] = "spaetaussiedler"
    status[~german] = "auslaender"
    parent = df["stellung_im_haushalt"].isin(["HV", "EP"]) & (status != "keiner")
    households = set(df.loc[parent, "haushalt_id"])
    derived = (
        (status == "keiner")
        & (df["stellung_im_haushalt"] == "K")
        & (year - df["geburtsjahr"] < 18)
        & df["haushalt_id"].isin(households)
    )
    status[derived] = "abgeleitet"
    return status


def origin_country(df: pd.DataFrame) -> pd.Series:
    """Bezugsland per DATA_MODEL.md (empty string = unknown, NaN = no background)."""
    s, born = df["status"], df["geburtsland"]
    c1, c2 = df["staatsangehoerigkeit_1"], df["staatsangehoerigkeit_2"]
    foreign_cit = c1.where(c1 != "DE", c2)
    abroad = ~born.isin(["", "DE"])
    origin = pd.Series(np.nan, index=df.index, dtype=object)
    origin[s == "auslaender"] = c1
    origin[s.isin(["spaetaussiedler", "zugewandert"])] = born
    origin[s == "eingebuergert"] = born.where(abroad, foreign_cit)
    origin[s == "doppelte_staatsangehoerigkeit"] = foreign_cit
    heads = df[df["stellung_im_haushalt"].isin(["HV", "EP"])].assign(o=origin)
    heads = heads.dropna(subset=["o"]).query("o != ''")
    rank = heads["stellung_im_haushalt"].map({"HV": 0, "EP": 1})
    heads = heads.assign(rank=rank).sort_values("rank").drop_duplicates("haushalt_id")
    derived = s == "abgeleitet"
    origin[derived] = df.loc[derived, "haushalt_id"].map(heads.set_index("haushalt_id")["o"])
    return origin.fillna("").where(s != "keiner")


def dissimilarity(group: pd.Series, district: pd.Series) -> float:
    """IS = 1/2 sum_i |x_i/X - (t_i - x_i)/(T - X)|."""
    x = group.groupby(district).sum()
    rest = (~group).groupby(district).sum()
    return 0.5 * float(np.abs(x / x.sum() - rest / rest.sum()).sum())


def geojson(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["features"]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    raw = tmp_path_factory.mktemp("musterstadt")
    start = time.perf_counter()
    paths = write_demo(raw, progress=lambda _m: None)
    return raw, paths, time.perf_counter() - start


@pytest.fixture(scope="module")
def raw(default_run) -> Path:
    return default_run[0]


@pytest.fixture(scope="module")
def registers(raw) -> dict[int, pd.DataFrame]:
    out = {}
    for year in YEARS:
        df = read_register(register_path(raw, year))
        df["status"] = migration_status(df, year)
        df["mb"] = df["status"] != "keiner"
        df["foreign"] = df["status"] == "auslaender"
        df["age"] = year - df["geburtsjahr"]
        out[year] = df
    return out


@pytest.fixture(scope="module")
def city(registers) -> pd.DataFrame:
    rows = {
        year: {
            "persons": len(df),
            "mb": df["mb"].mean(),
            "foreign": df["foreign"].mean(),
            "german_mb": (df["mb"] & ~df["foreign"]).mean(),
            "is_mb": dissimilarity(df["mb"], df["stadtteil"]),
            "is_foreign": dissimilarity(df["foreign"], df["stadtteil"]),
        }
        for year, df in registers.items()
    }
    return pd.DataFrame.from_dict(rows, orient="index")


@pytest.fixture(scope="module")
def district_shares(registers) -> pd.DataFrame:
    return pd.DataFrame({y: df.groupby("stadtteil")["mb"].mean() for y, df in registers.items()})


@pytest.fixture(scope="module")
def areas(raw) -> pd.DataFrame:
    return pd.read_csv(
        raw / "gebiete" / "2010-01-01" / "gebiete.csv", sep=";", dtype=str, keep_default_na=False
    )


@pytest.fixture(scope="module")
def districts(raw) -> dict[str, shapely.Geometry]:
    features = geojson(raw / "gebiete" / "2010-01-01" / "stadtteile.geojson")
    return {f["properties"]["gebiet_id"]: shape(f["geometry"]) for f in features}


@pytest.fixture(scope="module")
def river(raw) -> shapely.Geometry:
    (feature,) = geojson(raw / "gebiete" / "2010-01-01" / "fluss.geojson")
    return shape(feature["geometry"])


# --------------------------------------------------------------------------- files


def test_default_run_is_fast_enough(default_run):
    assert default_run[2] < 60


def test_all_files_written_with_sidecars(raw, default_run):
    paths = set(default_run[1])
    data = [p for p in paths if not p.name.endswith(".meta.yml")]
    expected = {
        raw / "gebiete" / "2010-01-01" / n
        for n in ("gebiete.csv", "stadtteile.geojson", "fluss.geojson")
    }
    expected |= {register_path(raw, y) for y in YEARS}
    assert set(data) == expected
    assert len(paths) == 2 * len(expected)
    for path in data:
        meta = yaml.safe_load(path.with_name(path.name + ".meta.yml").read_text(encoding="utf-8"))
        assert meta["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert meta["source"].startswith("Demo-Daten Musterstadt")
        assert meta["licence"] == "CC0 1.0 (synthetische Daten)"
        assert meta["generator"] == {"seed": 20241231, "persons": 110_000}
        assert meta["description"]
    meta = yaml.safe_load(register_path(raw, 2017).with_suffix(".csv.meta.yml").read_text())
    assert str(meta["received"]) == "2017-12-31"


def test_register_layout(raw):
    text = register_path(raw, 2024).read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == HEADER
    assert '"' not in text
    assert all(line.count(";") == 11 for line in lines[:2000])


def test_area_list(areas):
    city = areas[areas["ebene"] == "Stadt"]
    assert city.values.tolist() == [["0", "Stadt", "Musterstadt", ""]]
    boroughs = areas[areas["ebene"] == "Stadtbezirk"]
    assert boroughs["gebiet_id"].tolist() == ["1", "2", "3", "4", "5"]
    assert (boroughs["uebergeordnet"] == "0").all()
    assert {"Innenstadt", "Rechtsrheinisch"} <= set(boroughs["name"])
    districts = areas[areas["ebene"] == "Stadtteil"]
    assert 28 <= len(districts) <= 32
    assert districts["gebiet_id"].str.fullmatch(r"[1-5]\d").all()
    assert (districts["gebiet_id"].str[0] == districts["uebergeordnet"]).all()
    assert districts["gebiet_id"].is_unique and areas["name"].is_unique
    assert districts.groupby("uebergeordnet").size().between(5, 7).all()


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    def run(folder: Path, seed: int) -> dict[str, bytes]:
        paths = write_demo(folder, persons=3000, first_year=2010, last_year=2012, seed=seed)
        return {str(p.relative_to(folder)): p.read_bytes() for p in paths}

    first, second = run(tmp_path / "a", 7), run(tmp_path / "b", 7)
    assert first == second
    other = run(tmp_path / "c", 8)
    assert other.keys() == first.keys()
    changed = [k for k in first if k.endswith((".csv", ".geojson")) and other[k] != first[k]]
    assert len(changed) == len(first) // 2 - 1  # all data files but the area list


def test_persons_parameter_sets_first_year_size(tmp_path):
    write_demo(tmp_path, persons=5000, first_year=2024, last_year=2024)
    df = read_register(register_path(tmp_path, 2024))
    assert 4900 <= len(df) <= 5100
    assert 0.28 <= migration_status(df, 2024).ne("keiner").mean() <= 0.34


def test_register_written_in_slices_has_the_bytes_of_one_write(tmp_path):
    """The extract is written 1,000 persons at a time (a Germany-size register exceeds
    Arrow's 2 GiB per string column in one piece); pyarrow's one-shot write of the whole
    table, as before, gives the same bytes."""
    import pyarrow.csv as pa_csv

    from etl.demo.config import load_config
    from etl.demo.register_writer import register_table, write_register
    from etl.demo.simulation import simulate

    cfg = load_config()
    _, table = next(simulate(11, 2500, 2024, 2024))
    sliced = write_register(cfg, table, tmp_path / "sliced.csv", rows=1000)
    whole = tmp_path / "whole.csv"
    options = pa_csv.WriteOptions(delimiter=";", quoting_style="none", quoting_header="none")
    pa_csv.write_csv(register_table(cfg, table), whole, options)
    text = sliced.read_text(encoding="utf-8")
    assert text.count("\n") == len(table["pid"]) + 1 and len(table["pid"]) % 1000
    assert text.splitlines()[0] == HEADER
    assert sliced.read_bytes() == whole.read_bytes()


def test_large_city_simulated_in_blocks(tmp_path, monkeypatch):
    """Above BLOCK_PERSONS the city is simulated block by block (memory of one block);
    each block's rows are appended to the extracts, the first block's are those of a city
    of its size alone, and pseudonyms stay unique."""
    from etl.demo import generator

    monkeypatch.setattr(generator, "BLOCK_PERSONS", 2000)
    assert generator.blocks(7, 5000) == [(7, 1667), (7001, 1667), (7002, 1666)]
    write_demo(tmp_path / "blocks", persons=5000, first_year=2023, last_year=2024, seed=7)
    write_demo(tmp_path / "alone", persons=1667, first_year=2023, last_year=2024, seed=7)
    for year in (2023, 2024):
        text = register_path(tmp_path / "blocks", year).read_text(encoding="utf-8")
        alone = register_path(tmp_path / "alone", year).read_text(encoding="utf-8")
        assert text.startswith(alone) and text.count(HEADER) == 1
        df = read_register(register_path(tmp_path / "blocks", year))
        assert df["personen_id"].is_unique
        households = df.groupby("haushalt_id")["stadtteil"].nunique()
        assert (households == 1).all()  # no household spans two blocks' districts
    assert 4900 <= len(read_register(register_path(tmp_path / "blocks", 2023))) <= 5100


# --------------------------------------------------------------------------- geometry


def test_geometry_valid_wgs84_ccw_rounded(raw, districts, areas):
    assert set(districts) == set(areas.loc[areas["ebene"] == "Stadtteil", "gebiet_id"])
    for geom in districts.values():
        assert geom.geom_type in ("Polygon", "MultiPolygon") and geom.is_valid
        lon_min, lat_min, lon_max, lat_max = geom.bounds
        assert lon_min >= 7.55 and lon_max <= 7.70
        assert lat_min >= 50.30 and lat_max <= 50.40
        for polygon in getattr(geom, "geoms", [geom]):
            assert polygon.exterior.is_ccw
            assert not any(ring.is_ccw for ring in polygon.interiors)
    text = (raw / "gebiete" / "2010-01-01" / "stadtteile.geojson").read_text(encoding="utf-8")
    assert not re.search(r"\d\.\d{7,}", text)


def test_river_file(river, districts):
    assert river.geom_type == "Polygon" and river.is_valid and river.exterior.is_ccw
    lon_min, lat_min, lon_max, lat_max = river.bounds
    assert lon_min >= 7.55 and lon_max <= 7.70 and lat_min >= 50.30 and lat_max <= 50.40
    land = shapely.union_all(list(districts.values()))
    assert river.intersection(land.convex_hull).area > 0.02 * land.area  # runs through


def test_districts_do_not_overlap(districts):
    for (a, ga), (b, gb) in combinations(districts.items(), 2):
        assert ga.intersection(gb).area < 1e-9, (a, b)


def test_districts_tile_city_without_gaps_and_avoid_river(districts, river):
    land = shapely.union_all(list(districts.values()))
    assert land.intersection(river).area < 1e-8
    whole = shapely.union_all([land.buffer(1e-7), river.buffer(1e-7)])
    assert whole.geom_type == "Polygon"
    holes = [shapely.Polygon(ring) for ring in whole.interiors]
    assert sum(h.area for h in holes) < 1e-8
    assert len(getattr(land, "geoms", [land])) == 2  # the two river banks


def test_city_outline_is_irregular(districts):
    land = shapely.union_all(list(districts.values()))
    assert land.area / land.envelope.area < 0.85
    assert land.area / land.convex_hull.area < 0.97


def test_boroughs_are_contiguous(districts, areas):
    parent = areas.set_index("gebiet_id")["uebergeordnet"]
    for borough in ("1", "2", "3", "4", "5"):
        members = [g.buffer(1e-7) for d, g in districts.items() if parent[d] == borough]
        assert shapely.union_all(members).geom_type == "Polygon", borough


# --------------------------------------------------------------------------- codes


def test_codes_and_value_rules(registers, areas):
    district_ids = set(areas.loc[areas["ebene"] == "Stadtteil", "gebiet_id"])
    known = set(REGION_OF) | {"DE"}
    if COUNTRIES_CSV.exists():
        known &= set(pd.read_csv(COUNTRIES_CSV, sep=";", keep_default_na=False)["code"])
    for year, df in registers.items():
        assert df["personen_id"].is_unique
        assert set(df["stadtteil"].unique()) <= district_ids
        assert set(df["geschlecht"].unique()) <= {"m", "w", "d", "x"}
        assert set(df["stellung_im_haushalt"].unique()) <= {"HV", "EP", "K", "S"}
        assert set(df["eingebuergert"].unique()) <= {0, 1}
        assert set(df["spaetaussiedler"].unique()) <= {0, 1}
        for col in ("staatsangehoerigkeit_1", "staatsangehoerigkeit_2", "geburtsland"):
            assert set(df[col].unique()) - {""} <= known, col
        assert (df["staatsangehoerigkeit_1"] != "").all()
        assert (df["staatsangehoerigkeit_1"] != df["staatsangehoerigkeit_2"]).all()
        assert df["age"].between(0, 100).all()
        arrived = df.dropna(subset=["zuzugsjahr"])
        assert (arrived["zuzugsjahr"] <= year).all()
        assert (arrived["zuzugsjahr"] >= arrived["geburtsjahr"]).all()


def test_households(registers):
    for df in (registers[2010], registers[2024]):
        household = df["haushalt_id"]
        position = df["stellung_im_haushalt"]
        assert (position.eq("HV").groupby(household).sum() == 1).all()
        assert (position.eq("EP").groupby(household).sum() <= 1).all()
        assert (df.groupby("haushalt_id")["stadtteil"].nunique() == 1).all()
        sizes = household.value_counts()
        assert sizes.between(1, 6).all()
        assert (sizes == 1).mean() == pytest.approx(0.40, abs=0.08)
        assert 1.8 <= sizes.mean() <= 2.3
        assert (sizes >= 5).mean() > 0.02
        children = df[position == "K"]
        assert (children["age"] < 25).mean() > 0.9
        assert (position == "S").mean() < 0.03
        assert (df.loc[position == "HV", "age"] >= 18).all()


def test_pseudonyms_are_stable_across_years(registers):
    before, after = set(registers[2015]["personen_id"]), set(registers[2016]["personen_id"])
    assert 0.8 < len(before & after) / len(before) < 0.95


# --------------------------------------------------------------------------- calibration


def test_population_size_stable(city):
    assert city["persons"].between(99_000, 121_000).all()
    assert city.loc[2024, "persons"] > city.loc[2010, "persons"]


def test_city_shares_follow_targets(city):
    assert city.loc[2010, "mb"] == pytest.approx(0.24, abs=0.015)
    assert city.loc[2024, "mb"] == pytest.approx(0.31, abs=0.015)
    assert city.loc[2010, "foreign"] == pytest.approx(0.09, abs=0.01)
    assert city.loc[2024, "foreign"] == pytest.approx(0.14, abs=0.01)
    assert city["german_mb"].between(0.14, 0.19).all()
    steps = city["mb"].diff().dropna()
    assert steps.between(-0.003, 0.015).all()  # smooth, mostly rising
    assert (steps > 0).mean() > 0.8


def test_refugee_arrivals_spike(city, registers):
    jumps = city["foreign"].diff()
    quiet = jumps.loc[2017:2021].mean()
    assert jumps.loc[2015] > quiet + 0.005
    assert jumps.loc[2022] > quiet + 0.003
    df = registers[2016]
    asylum = df[df["staatsangehoerigkeit_1"].isin(["SY", "AF", "IQ"])]
    per_year = asylum["zuzugsjahr"].value_counts()
    assert per_year.get(2015, 0) > 4 * per_year.get(2012, 0)
    ukraine = registers[2022]
    ua = ukraine[ukraine["staatsangehoerigkeit_1"] == "UA"]["zuzugsjahr"].value_counts()
    assert ua.get(2022, 0) > 4 * ua.get(2020, 0)


def test_district_shares_spread(district_shares):
    assert (district_shares.min() < 0.10).all()
    assert (district_shares.max() > 0.50).all()


def test_district_trends_smooth(district_shares):
    steps = district_shares.diff(axis=1).iloc[:, 1:].abs().stack()
    assert (steps < 0.02).mean() > 0.9
    assert steps.max() < 0.05
    rising = district_shares[2024] - district_shares[2010]
    assert (rising > 0).mean() > 0.8


def test_segregation_index(city):
    assert 0.36 <= city.loc[2010, "is_mb"] <= 0.41
    assert 0.33 <= city.loc[2024, "is_mb"] <= 0.37
    assert city.loc[2024, "is_mb"] < city.loc[2010, "is_mb"] - 0.01
    assert (city["is_foreign"] > city["is_mb"]).all()
    assert city["is_foreign"].between(0.38, 0.48).all()


def test_all_migration_statuses_occur(registers):
    for year, df in registers.items():
        counts = df["status"].value_counts()
        assert set(counts.index) == STATUSES, year
        assert counts["abgeleitet"] > 0.01 * len(df)
        assert counts["zugewandert"] > 0.003 * len(df)
    derived = registers[2024][registers[2024]["status"] == "abgeleitet"]
    assert (derived["geburtsland"] == "DE").mean() > 0.8


def test_origin_regions(registers):
    expected = {
        "eu": (0.25, 0.36),
        "europa_sonstige": (0.22, 0.34),
        "asien": (0.21, 0.32),
        "afrika": (0.04, 0.08),
        "amerika": (0.015, 0.04),
    }
    for year in (2017, 2024):
        df = registers[year]
        origin = origin_country(df)[df["mb"]]
        region = origin.map(REGION_OF).fillna("unbekannt")
        shares = region.value_counts(normalize=True)
        for name, (lo, hi) in expected.items():
            assert lo <= shares[name] <= hi, (year, name, shares[name])
        assert shares.get("ozeanien", 0) + shares.get("unbekannt", 0) < 0.08


def test_repatriates(registers):
    df = registers[2010]
    repatriates = df[df["status"] == "spaetaussiedler"]
    assert len(repatriates) > 0.005 * len(df)
    assert repatriates["geburtsland"].isin(["KZ", "RU", "PL", "RO"]).mean() > 0.9
    assert repatriates["zuzugsjahr"].notna().all()
    citizenships = repatriates[["staatsangehoerigkeit_1", "staatsangehoerigkeit_2"]]
    assert (citizenships == "DE").any(axis=1).all()


def test_age_structure(registers):
    for year, df in registers.items():
        old = df["age"] >= 65
        assert 0.19 <= old.mean() <= 0.24, year
        assert old[df["mb"]].mean() < old.mean() - 0.06
        assert df.loc[df["foreign"], "age"].mean() < df.loc[~df["mb"], "age"].mean() - 8
        assert (df["age"] < 18).mean() == pytest.approx(0.165, abs=0.03)


def test_sex(registers):
    for df in registers.values():
        male = df["geschlecht"] == "m"
        assert 0.46 <= male.mean() <= 0.52
        assert male[df["foreign"]].mean() > male.mean() + 0.01
        assert 0 < (df["geschlecht"] == "d").sum() < 0.001 * len(df)


def test_germans_without_background_born_in_germany(registers):
    for df in registers.values():
        natives = df[df["status"] == "keiner"]
        assert (natives["geburtsland"] == "DE").mean() > 0.95


def test_register_quirks_exercise_every_rule(registers):
    df = registers[2024]
    swapped = (df["staatsangehoerigkeit_2"] == "DE") & (df["staatsangehoerigkeit_1"] != "DE")
    assert swapped.sum() > 100
    assert (df.loc[swapped, "status"] != "auslaender").all()
    abroad_no_arrival = ~df["geburtsland"].isin(["", "DE"]) & df["zuzugsjahr"].isna()
    assert (df.loc[abroad_no_arrival & (df["status"] == "keiner")]).shape[0] > 50
    assert 0 < (df["geburtsland"] == "").sum() < 0.01 * len(df)
