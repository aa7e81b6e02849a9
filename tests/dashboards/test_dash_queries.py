"""Queries against the synthetic warehouse (known answers from conftest's counts)."""

import os
from pathlib import Path

import duckdb
import pytest

from dashboards.data import catalogue, queries
from etl.warehouse import PUBLICATION


@pytest.fixture()
def wh(synthetic_curated_dir):
    return queries.open_warehouse(synthetic_curated_dir)


def test_open_warehouse_resolves_the_current_link(synthetic_curated_dir, wh):
    assert wh.path == str(synthetic_curated_dir / "snapshots" / "s1" / PUBLICATION)


def test_missing_warehouse_gives_a_clear_error(tmp_path):
    with pytest.raises(queries.WarehouseNotFoundError, match=f"current/{PUBLICATION}"):
        queries.open_warehouse(tmp_path)


def test_catalogues(wh):
    assert catalogue.ref_dates(wh) == ["2022-12-31", "2023-12-31", "2024-12-31"]
    levels = catalogue.levels(wh, "de")
    assert list(levels) == ["city", "borough", "district"]
    assert [lvl.level for lvl in catalogue.map_levels(wh, "de")] == ["borough", "district"]
    indicators = catalogue.indicators(wh, "de")
    assert list(indicators)[:2] == ["population", "foreigner_share"]
    share = indicators["foreigner_share"]
    assert (share.unit, share.unit_label, share.decimals) == ("percent", "%", 1)
    assert indicators["segregation_is_migration_background"].is_segregation
    assert catalogue.indicators(wh, "en")["foreigner_share"].title == "Ausländeranteil (en)"
    assert catalogue.city(wh).area_id == "00"
    assert catalogue.meta(wh)["title"] == "Teststadt"


def test_area_values_with_suppressed_value(wh):
    frame = queries.area_values(wh, ("foreigner_share",), "2024-12-31", "district")
    assert frame["area_id"].tolist() == ["11", "12", "21", "22"]
    assert frame["name"].tolist() == ["Altstadt", "Nordstadt", "Südviertel", "Weststadt"]
    altstadt = frame.iloc[0]
    assert altstadt["value"] == pytest.approx(100 * 120 / 1020)
    assert (altstadt["numerator"], altstadt["denominator"]) == (120, 1020)
    weststadt = frame.iloc[3]
    assert weststadt["flag"] == "suppressed" and frame["value"].isna().tolist()[3]


def test_area_values_several_indicators_city_level(wh):
    frame = queries.area_values(wh, ("population", "foreigner_share"), "2023-12-31", "city")
    assert sorted(frame["indicator_id"]) == ["foreigner_share", "population"]
    population = frame.set_index("indicator_id").loc["population", "value"]
    assert population == 1010 + 2020 + 1490 + 505


def test_geometries_and_areas(wh):
    shapes = queries.geometries(wh, "district", "2024-12-31")
    assert shapes["area_id"].tolist() == ["11", "12", "21", "22"]
    assert '"Polygon"' in shapes["geojson"].iloc[0]
    boroughs = queries.areas(wh, "borough", "2024-12-31")
    assert boroughs["name"].tolist() == ["Nord", "Süd"]
    assert queries.areas(wh, "district", "2005-12-31").empty  # before valid_from


def test_series_of_areas_and_segregation(wh):
    frame = queries.series(wh, "foreigner_share", ("00", "11"))
    assert frame["area_id"].tolist() == ["00"] * 3 + ["11"] * 3  # city (rank 0) first
    assert frame["ref_date"].tolist()[:3] == ["2022-12-31", "2023-12-31", "2024-12-31"]
    seg = queries.series(wh, "segregation_is_migration_background", ("00",))
    assert seg["level"].tolist() == ["borough"] * 3 + ["district"] * 3
    assert seg["n_units"].tolist() == [2, 2, 2, 4, 4, 4]
    assert seg["value"].tolist()[-1] == pytest.approx(0.23)


def test_cached_results_are_copies(wh):
    first = queries.area_values(wh, ("population",), "2024-12-31", "borough")
    first.loc[0, "value"] = -1
    again = queries.area_values(wh, ("population",), "2024-12-31", "borough")
    assert again.loc[0, "value"] == 3060


def test_swapping_current_serves_the_new_snapshot(tmp_path, warehouse_builder):
    curated = tmp_path / "curated"
    for name in ("s1", "s2"):
        (curated / "snapshots" / name).mkdir(parents=True)
        warehouse_builder(curated / "snapshots" / name / PUBLICATION)
    with duckdb.connect(str(curated / "snapshots" / "s2" / PUBLICATION)) as con:
        con.execute("UPDATE meta SET value = 'Neu' WHERE key = 'title'")
    (curated / "current").symlink_to(Path("snapshots") / "s1")
    old = queries.open_warehouse(curated)
    assert catalogue.meta(old)["title"] == "Teststadt"
    # the build swaps the link atomically (rename a new link over the old one)
    (curated / "next").symlink_to(Path("snapshots") / "s2")
    os.replace(curated / "next", curated / "current")
    new = queries.open_warehouse(curated)
    assert new.path.endswith(f"s2/{PUBLICATION}")
    assert catalogue.meta(new)["title"] == "Neu"
