"""Random-allocation benchmark (etl/indicators/random_allocation.py).

(a) The simulated statements are the observed ones: fed the observed counts as "draw 1"
    they reproduce every index of the known-answer fixture exactly.
(b) The allocation model is hypergeometric, checked on a case small enough to enumerate by
    hand, and keeps the group and unit sizes.
(c) On real Berlin data the simulated mean of IS agrees with an independent analytic
    approximation (normal approximation of the hypergeometric counts).
(d) The change statement, on hand-made draws.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from dashboards.data import segregation as segregation_data
from etl import warehouse
from etl.audit.indices import public_units
from etl.audit.publication import read_publication
from etl.indicators import random_allocation as ra
from etl.indicators.engine import evaluate, term_row
from etl.indicators.segregation import INDEX_VALUES
from etl.indicators.spec import RandomAllocation, load_catalogue
from tests.indicators.test_segregation import FIXTURE_SQL, REPO, SPECS, UNITS_CSV

INDEX_SPECS = [s for s in SPECS if s.function in INDEX_VALUES]


def fixture_connection(units_csv: Path) -> duckdb.DuckDBPyConnection:
    """A warehouse schema with the engine's TEMP tables for a unit table (see
    test_segregation.FIXTURE_SQL) and the observed indices evaluated."""
    con = duckdb.connect()
    con.execute((REPO / "etl" / "schema.sql").read_text(encoding="utf-8"))
    for statement in FIXTURE_SQL:
        con.execute(statement, {"path": str(units_csv)} if "$path" in statement else {})
    evaluate(con, SPECS, 0, 0)
    return con


def problems(specs) -> dict[tuple, list[tuple]]:
    rows = [term_row(s) for s in specs]
    return {p: [r for r in rows if (r[2], r[3], r[4]) == p] for p in {r[2:5] for r in rows}}


def test_simulated_statements_reproduce_the_observed_indices():
    con = fixture_connection(UNITS_CSV)
    for (num, den, other), rows in problems(INDEX_SPECS).items():
        units = con.sql(
            ra.UNITS_SQL, params={"num": num, "den": den, "other": other}
        ).to_arrow_table()
        observed = pa.table(
            {
                "unit": units["unit"],
                "draw": pa.array([1] * units.num_rows, pa.int32()),
                "x": units["x"],
                "y": units["y"],
            }
        )
        ra.evaluate_allocations(con, rows, units, observed)
    compared = con.execute("""
        SELECT v.indicator_id, v.area_id, v.value, r.value
        FROM indicator_values AS v
        INNER JOIN random_allocation AS r USING (indicator_id, ref_date, area_id, level)
        """).fetchall()
    # every case whose counts are all published (the 'secret' cases have no allocation)
    cases = {r[1] for r in compared}
    assert cases == {
        "worked",
        "empty_unit",
        "absent",
        "single",
        "one_unit",
        "no_group",
        "everyone",
        "small",
    }
    assert len(compared) == len(INDEX_SPECS) * len(cases)
    for indicator, case, value, simulated in compared:
        if value is None:
            assert simulated is None, (indicator, case)
        else:
            assert simulated == pytest.approx(value, abs=1e-12), (indicator, case)


def test_two_units_by_hand(tmp_path):
    # Two units of 2 residents each, the group's 2 members both in unit 1. Placed at random
    # among the 4 residents (hypergeometric), the members land as (2,0), (1,1) or (0,2)
    # with probabilities 1/6, 4/6, 1/6. IS is 1 for (2,0) and (0,2) and 0 for (1,1):
    # E[IS] = 1/3. Isolation is 1 or 2·(1/2·1/2) = 1/2: E = 1/3 + 2/3 · 1/2 = 2/3.
    # (Independent placement of each member, i.e. binomial, would give E[IS] = 1/2.)
    csv = tmp_path / "units.csv"
    csv.write_text("case;unit;x;y;t\npair;1;2;0;2\npair;2;0;2;2\n", encoding="utf-8")
    con = fixture_connection(csv)
    draws = 3000
    ra.simulate(con, INDEX_SPECS, RandomAllocation(draws=draws, seed=7))
    values = dict(
        con.execute("""
        SELECT indicator_id, list(value ORDER BY draw) FROM random_allocation
        GROUP BY ALL""").fetchall()
    )
    assert set(values["is"]) == {0.0, 1.0} and len(values["is"]) == draws
    se = math.sqrt(1 / 3 * 2 / 3 / draws)
    assert np.mean(values["is"]) == pytest.approx(1 / 3, abs=4 * se)
    assert np.mean(values["isolation"]) == pytest.approx(2 / 3, abs=4 * se / 2)
    # D with the named group y: x and y placed together; the draws hold both kinds
    assert {0.0, 1.0} <= set(values["d"])


def test_allocations_keep_group_and_unit_sizes():
    con = fixture_connection(UNITS_CSV)
    units = (
        con.sql(ra.UNITS_SQL, params={"num": "g", "den": "total", "other": "o"})
        .to_arrow_table()
        .to_pandas()
    )
    drawn = ra._draw(
        pa.Table.from_pandas(units), ("g", "total", "o"), RandomAllocation(draws=50, seed=1)
    ).to_pandas()
    merged = drawn.merge(units, on="unit", suffixes=("", "_observed"))
    assert len(drawn) == 50 * len(units)
    assert (merged["x"] >= 0).all() and (merged["y"] >= 0).all()
    assert (merged["x"] + merged["y"] <= merged["t"]).all()
    sums = merged.groupby(["part", "draw"])[["x", "y", "x_observed", "y_observed"]].sum()
    assert (sums["x"] == sums["x_observed"]).all()
    assert (sums["y"] == sums["y_observed"]).all()
    # the draws differ (the 'worked' case has more than one possible allocation)
    worked = merged[merged["area_id"] == "worked.1"]
    assert worked["x"].nunique() > 5


def test_seeded():
    def run(seed):
        con = fixture_connection(UNITS_CSV)
        ra.simulate(con, INDEX_SPECS, RandomAllocation(draws=20, seed=seed))
        return con.execute("SELECT * FROM random_allocation ORDER BY ALL").fetchall()

    first = run(3)
    assert first == run(3)
    assert first != run(4)


CHANGE_ROWS = [
    # indicator, date, draw, value: |b − a| = .02 .01 .03 0 .03 -> 95 % quantile .03
    *[("is", date(2020, 12, 31), k, v) for k, v in enumerate([0.10, 0.11, 0.12, 0.13, 0.14], 1)],
    *[("is", date(2024, 12, 31), k, v) for k, v in enumerate([0.12, 0.10, 0.15, 0.13, 0.11], 1)],
]


@pytest.mark.parametrize(
    "observed_b, change, exceeds",
    [
        (0.30, 0.05, True),  # 0.25 -> 0.30: |0.05| > 0.03
        (0.27, 0.02, False),  # 0.25 -> 0.27: within what random allocation produces
    ],
)
def test_change_against_random_allocation(observed_b, change, exceeds):
    con = duckdb.connect()
    con.execute((REPO / "etl" / "schema.sql").read_text(encoding="utf-8"))
    con.executemany("INSERT INTO random_allocation VALUES (?, ?, 'c', 'unit', ?, ?)", CHANGE_ROWS)
    con.executemany(
        "INSERT INTO indicator_values VALUES (?, ?, 'c', 'unit', ?, 1, 2, NULL, 'x', 5)",
        [("is", date(2020, 12, 31), 0.25), ("is", date(2024, 12, 31), observed_b)],
    )
    result = segregation_data.change(con, "is", "unit", "c", date(2020, 12, 31), date(2024, 12, 31))
    assert result.change == pytest.approx(change)
    assert result.random_q95 == pytest.approx(0.03)
    assert result.draws == 5
    assert result.exceeds is exceeds
    missing = segregation_data.change(
        con, "is", "unit", "c", date(2020, 12, 31), date(2022, 12, 31)
    )
    assert missing.exceeds is None


@pytest.mark.parametrize("level", ["planning_area", "district_region", "district"])
def test_berlin_expected_index_matches_normal_approximation(berlin_build, level):
    # Under random allocation x_i is hypergeometric with mean t_i·P and variance
    # s_i² = t_i·P·(1−P)·(T−t_i)/(T−1). Since x_i/X − (t_i−x_i)/Y = (x_i − t_i·P)(1/X + 1/Y),
    # IS = ½ (1/X + 1/Y) Σ |x_i − t_i P|, and for large counts E|x_i − t_i P| ≈ s_i·√(2/π):
    #   E[IS] ≈ ½ (1/X + 1/Y) √(2/π) Σ_i s_i.
    # The draws are over the units anyone can derive from the publication (units with a
    # withheld count pooled into one remainder unit: etl/publication.py), which the attack
    # audit reconstructs independently of the build (etl/audit/indices.py).
    snapshot = berlin_build.snapshot
    catalogue = load_catalogue(REPO / "indicators.yaml")
    pub = read_publication(snapshot / warehouse.PUBLICATION, catalogue)
    with duckdb.connect(str(snapshot / warehouse.DATABASE), read_only=True) as con:
        simulated = {  # the draws before rounding
            (r[0], r[1]): r[2:]
            for r in con.execute("""
            SELECT ref_date, level, avg(value), stddev_samp(value), count(*)
            FROM random_allocation
            WHERE indicator_id = 'segregation_is_migration_background'
            GROUP BY ALL""").fetchall()
        }
    checked = 0
    for row, units in public_units(catalogue, pub.values, pub.indices, pub.areas):
        if row.indicator_id != "segregation_is_migration_background" or row.level != level:
            continue
        x, _, t = units
        big_t, big_x = t.sum(), x.sum()
        p = big_x / big_t
        s = np.sqrt(t * p * (1 - p) * (big_t - t) / (big_t - 1))
        expected = 0.5 * (1 / big_x + 1 / (big_t - big_x)) * math.sqrt(2 / math.pi) * s.sum()
        mean, sd, draws = simulated[(row.ref_date.date(), level)]
        assert draws == 100
        assert mean == pytest.approx(expected, rel=0.02, abs=4 * sd / math.sqrt(draws)), (
            row.ref_date,
            level,
        )
        checked += 1
    assert checked == 20
