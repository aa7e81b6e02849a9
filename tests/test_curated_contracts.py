"""Contracts of the warehouse built from the demo city (dbt-style data tests)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pandas as pd
import pytest

from dashboards.export.values import write_values
from etl import warehouse


def scalar(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()[0][0]


@pytest.mark.parametrize(
    "table, key",
    [
        ("indicator_values", "indicator_id, ref_date, area_id, level"),
        (
            "population",
            "ref_date, area_id, sex, age_group, citizenship, migration_status, origin_region",
        ),
        ("areas", "area_id, vintage"),
    ],
)
def test_keys_are_unique(demo_con, table, key):
    assert (
        scalar(
            demo_con,
            f"SELECT count(*) FROM (SELECT {key} FROM {table} GROUP BY ALL HAVING count(*) > 1)",
        )
        == 0
    )


def test_levels_and_areas(demo_con):
    counts = dict(demo_con.execute("SELECT level, count(*) FROM areas GROUP BY 1").fetchall())
    assert counts["city"] == 1 and 4 <= counts["borough"] <= 6
    assert 25 <= counts["district"] <= 35
    assert scalar(demo_con, "SELECT count(*) FROM area_geometry") == sum(counts.values())


def test_sums_across_levels_are_equal(demo_con):
    by_level = demo_con.execute("""
        SELECT v.ref_date, v.level, sum(v.value) FROM indicator_values v
        WHERE indicator_id = 'population' GROUP BY ALL ORDER BY 1, 2""").df()
    wide = by_level.pivot(index="ref_date", columns="level", values='sum(v."value")')
    assert len(wide) == 15
    assert (wide["city"] == wide["borough"]).all() and (wide["city"] == wide["district"]).all()
    persons = (
        demo_con.execute("SELECT ref_date, sum(count) FROM population GROUP BY 1 ORDER BY 1")
        .df()
        .set_index("ref_date")
        .iloc[:, 0]
    )
    assert (wide["city"].to_numpy() == persons.to_numpy()).all()


def test_numerators_sum_across_levels(demo_con):
    # counts behind shares add up too: the city's foreigners = sum over districts
    diff = demo_con.execute("""
        SELECT ref_date, sum(numerator) FILTER (WHERE level = 'district')
                       - sum(numerator) FILTER (WHERE level = 'city')
        FROM indicator_values WHERE indicator_id = 'foreigner_share' GROUP BY 1""").fetchall()
    assert all(d == 0 for _, d in diff)


def test_shares_and_indices_in_range(demo_con):
    assert (
        scalar(
            demo_con,
            """
        SELECT count(*) FROM indicator_values v JOIN indicators i USING (indicator_id)
        WHERE i.function = 'share' AND NOT (value BETWEEN 0 AND 100)""",
        )
        == 0
    )
    assert (
        scalar(
            demo_con,
            """
        SELECT count(*) FROM indicator_values v JOIN indicators i USING (indicator_id)
        WHERE i.function = 'segregation_is' AND NOT (value BETWEEN 0 AND 1)""",
        )
        == 0
    )


def test_parquet_layer_matches_database(demo_con, demo_curated_dir):
    parquet = demo_curated_dir / warehouse.CURRENT / warehouse.INTERNAL / "parquet"
    for table in ("indicator_values", "population"):
        rows = scalar(
            demo_con,
            "SELECT count(*) FROM read_parquet(?, hive_partitioning = true)",
            [str(parquet / table / "*" / "*.parquet")],
        )
        assert rows == scalar(demo_con, f"SELECT count(*) FROM {table}")
    assert len(pd.read_parquet(parquet / "areas.parquet")) == scalar(
        demo_con, "SELECT count(*) FROM areas"
    )


def test_lineage_lists_every_raw_file_with_its_sha256(demo_con, demo_curated_dir):
    raw = demo_curated_dir.parents[1] / "raw" / "musterstadt"
    loads = demo_con.execute("SELECT file, sha256, rows FROM loads").fetchall()
    extracts = [row for row in loads if row[0].startswith("melderegister/")]
    assert len(extracts) == 15
    for file, sha, _rows in loads:
        assert hashlib.sha256((raw / file).read_bytes()).hexdigest() == sha
    total = scalar(demo_con, "SELECT sum(count) FROM population")
    assert sum(rows for _, _, rows in extracts) == total


def test_internal_warehouse_holds_aggregates_only(demo_con):
    tables = {r[0] for r in demo_con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert tables == {
        "meta",
        "levels",
        "areas",
        "area_closure",
        "area_geometry",
        "population",
        "observations",
        "area_counts",
        "indicators",
        "indicator_values",
        "loads",
        "random_allocation",
    }
    # area_counts holds aggregates only: no term of a finest area below the person level
    assert (
        scalar(
            demo_con,
            "SELECT count(*) FROM area_counts AS k LEFT JOIN areas AS a "
            "USING (area_id) WHERE a.level IS DISTINCT FROM 'district'",
        )
        == 0
    )


def migration_background_by_hand(csv: Path, year: int) -> pd.Series:
    """An independent pandas reading of the MigraPro rules (docs/DATA_MODEL.md)."""
    p = pd.read_csv(csv, sep=";", dtype=str, keep_default_na=False)
    german = (p.staatsangehoerigkeit_1 == "DE") | (p.staatsangehoerigkeit_2 == "DE")
    second = p.staatsangehoerigkeit_2.ne("") & p.staatsangehoerigkeit_2.ne("DE")
    second |= p.staatsangehoerigkeit_1.ne("DE") & german
    abroad = ~p.geburtsland.isin(["", "DE", "DD", "XX"])
    own = (
        ~german
        | (p.spaetaussiedler == "1")
        | (p.eingebuergert == "1")
        | second
        | (abroad & p.zuzugsjahr.ne(""))
    )
    parent_households = set(p.haushalt_id[own & p.stellung_im_haushalt.isin(["HV", "EP"])])
    minor = year - p.geburtsjahr.astype(int) < 18
    derived = ~own & minor & (p.stellung_im_haushalt == "K") & p.haushalt_id.isin(parent_households)
    return (own | derived).groupby(p.stadtteil).agg(["sum", "size"])


@pytest.mark.parametrize("year", [2010, 2024])
def test_migration_background_matches_independent_derivation(demo_con, demo_curated_dir, year):
    raw = demo_curated_dir.parents[1] / "raw" / "musterstadt"
    csv = raw / f"melderegister/{year}-12-31/melderegister_{year}-12-31.csv"
    expected = migration_background_by_hand(csv, year)
    got = (
        demo_con.execute(
            """
        SELECT area_id, numerator, denominator FROM indicator_values
        WHERE indicator_id = 'migration_background_share' AND level = 'district'
          AND ref_date = ?""",
            [f"{year}-12-31"],
        )
        .df()
        .set_index("area_id")
    )
    assert len(got) == len(expected)
    assert (got.loc[expected.index, "numerator"].to_numpy() == expected["sum"].to_numpy()).all()
    assert (got.loc[expected.index, "denominator"].to_numpy() == expected["size"].to_numpy()).all()


def test_values_cli_segregation_one_row_per_date(demo_curated_dir):
    out = io.StringIO()
    n = write_values(demo_curated_dir, out, "segregation_is_migration_background", "district")
    frame = pd.read_csv(io.StringIO(out.getvalue()))
    assert n == 15 and frame.ref_date.is_unique
    assert list(frame.columns) == [
        "indicator",
        "ref_date",
        "level",
        "area_id",
        "area_name",
        "value",
        "numerator",
        "denominator",
        "flag",
        "n_units",
        "random_expected",
        "random_lower",
        "random_upper",
    ]
    assert frame.value.between(0.30, 0.45).all()
    # 30 districts; a district with a count no published value shows (a small group's
    # count withheld under min_denominator, #15) is pooled into one remainder unit per date
    # for all indices alike (etl/publication.py), so 26–30 units
    assert frame.n_units.between(26, 30).all() and (frame.n_units < 30).any()
    # 30 districts of ~3,700 residents: chance alone gives IS ≈ 0.01, far below the value
    assert (frame.random_lower < frame.random_expected).all()
    assert (frame.random_expected < frame.random_upper).all()
    assert frame.random_upper.between(0.005, 0.03).all()


def test_values_cli_writes_nothing_of_a_suppressed_value(demo_curated_dir):
    out = io.StringIO()
    write_values(demo_curated_dir, out, "age_65_plus_share_foreigners", "district")
    frame = pd.read_csv(io.StringIO(out.getvalue()), dtype={"area_id": str})
    suppressed = frame[frame.flag == "suppressed"]
    assert len(suppressed) > 0
    assert suppressed[["value", "numerator", "denominator"]].isna().all().all()
    shown = frame[frame.flag.isna()]
    assert shown[["value", "numerator", "denominator"]].notna().all().all()


def test_meta_records_the_disclosure_thresholds(demo_con):
    # profiles/musterstadt.yaml: shares need 30 residents in the denominator, counts ≥ 3
    meta = dict(demo_con.execute("SELECT key, value FROM meta").fetchall())
    assert (meta["disclosure_min_denominator"], meta["disclosure_min_count"]) == ("30", "3")
