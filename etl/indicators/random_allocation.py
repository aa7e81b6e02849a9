"""Random-allocation benchmark of the city-wide segregation indices (issue #4).

Any index computed over small units is above its "even" value even when people chose
their unit at random: with x_i drawn by chance, |x_i/X − y_i/Y| is rarely 0. How much of an
index is such noise depends on the group size and the number and size of the units, so a
value means little without it (Carrington & Troske 1997, "On measuring segregation in
samples with small units", JBES 15; Allen et al. 2015, "More reliable inference for the
dissimilarity index of segregation", Econometrics Journal 18).

Simulation, for every indicator, reference date and level (``draws`` times, seeded):
keep every unit's reference population t_i (the indicator's ``total``) and place the
group's X members at random among the T residents, i.e. x* ~ multivariate
hypergeometric(t, X): each resident is equally likely to be a member and unit totals are
fixed. With a named comparison group (``other``), its Y members are then placed at random
among the remaining t_i − x*_i. The units used, ``min_unit_population`` and the residents
term are those of the observed index; the index of the draw is computed by the very same
SQL as the observed one (the index CTEs of :mod:`etl.indicators.segregation`, fed the
drawn units instead of the counted ones), so observed and simulated values share one
definition.

Published in ``random_allocation`` (one row per draw). Reading it is the dashboard's job
(:mod:`dashboards.data.segregation`): summaries (``BASELINE_SQL``): expected value = mean
over the draws, 95 % range = 2.5 / 97.5 % quantiles.

Change between two dates (``CHANGE_SQL`` there): the observed change Δ = v(b) − v(a) is said
to exceed random allocation when |Δ| is larger than the 95 % quantile of |v*_k(b) − v*_k(a)|
over the draws k (independent draws on both dates): the change that chance placement alone
produces with these group sizes and units. A change within that range is not evidence of
a change in segregation. The statement is a screening rule, not a formal test of the
observed index's sampling error.
"""

from __future__ import annotations

import hashlib

import duckdb
import numpy as np
import pyarrow as pa

from etl.indicators import segregation
from etl.indicators.engine import term_row, write_indicator_terms
from etl.indicators.spec import RandomAllocation

# the units of one allocation problem (group x, reference population t, comparison group y)
# per date, level and top-level area, in a fixed order; a group with a flagged count is
# left out (its observed index is 'incomplete')
UNITS_SQL = """
WITH units AS (
    SELECT den.ref_date, den.level, r.root_id, den.area_id,
           num.n AS x, den.n AS t, oth.n AS y,
           num.n IS NULL OR den.n IS NULL OR ($other IS NOT NULL AND oth.n IS NULL)
               AS unknown
    FROM term_counts AS den
    INNER JOIN unit_roots AS r ON r.unit_id = den.area_id AND r.vintage = den.vintage
    INNER JOIN term_counts AS num
        ON num.term = $num AND num.ref_date = den.ref_date
       AND num.area_id = den.area_id AND num.level = den.level
    LEFT JOIN term_counts AS oth
        ON oth.term = $other AND oth.ref_date = den.ref_date
       AND oth.area_id = den.area_id AND oth.level = den.level
    WHERE den.term = $den AND den.area_id <> r.root_id
)

SELECT row_number() OVER (ORDER BY ref_date, level, root_id, area_id) - 1 AS unit,
       dense_rank() OVER (ORDER BY ref_date, level, root_id) - 1 AS part,
       ref_date, level, root_id, area_id,
       CAST(x AS BIGINT) AS x, CAST(t AS BIGINT) AS t, CAST(coalesce(y, 0) AS BIGINT) AS y
FROM units
QUALIFY NOT bool_or(unknown) OVER (PARTITION BY ref_date, level, root_id)
ORDER BY unit
"""

# one row per indicator of the problem and unit: what the index needs besides x and y
# (ind = the indicator's row in indicator_terms, part = the unit's date, level and area).
# SIMULATED_SQL restores the names.
FRAME_SQL = """
CREATE OR REPLACE TEMP TABLE simulation_frame AS
SELECT u.unit, u.part, d.function, d.ind, d.scale, d.top_share, d.min_units,
       d.other_term IS NOT NULL AS named_other, u.t, res.n AS residents
FROM simulation_units AS u
CROSS JOIN indicator_terms AS d
LEFT JOIN term_counts AS res
    ON res.term = d.res_term AND res.ref_date = u.ref_date
   AND res.area_id = u.area_id AND res.level = u.level
"""

SIMULATED_SQL = f"""
INSERT INTO random_allocation
WITH draws AS ({segregation.SIMULATED_SQL}),
parts AS (SELECT DISTINCT part, ref_date, level, root_id FROM simulation_units)
SELECT d.indicator_id, p.ref_date, p.root_id, p.level, s.draw, s.value
FROM draws AS s
INNER JOIN parts AS p USING (part)
INNER JOIN indicator_terms AS d USING (ind)
"""


def simulate(con: duckdb.DuckDBPyConnection, indicators: list, settings: RandomAllocation) -> int:
    """Fill ``random_allocation`` for the city-wide indices among ``indicators`` from the
    engine's TEMP tables ``term_counts`` and ``unit_roots`` (the build runs it on the
    published counts: :func:`etl.publication.public_units`).

    One allocation problem per (group, reference population, comparison group) serves all
    indices and unit-size limits that share it. Each draw of each date, level and area is
    seeded from ``settings.seed`` and the problem's names, so a value does not depend on
    which other indicators are built. Returns the number of rows written.
    """
    rows = [term_row(ind) for ind in indicators if ind.function in segregation.INDEX_VALUES]
    if not rows or settings.draws == 0:
        return 0
    before = con.execute("SELECT count(*) FROM random_allocation").fetchall()[0][0]
    for problem in sorted({(r[2], r[3], r[4]) for r in rows}, key=str):
        units = con.sql(
            UNITS_SQL, params=dict(zip(("num", "den", "other"), problem, strict=True))
        ).to_arrow_table()
        if units.num_rows == 0:
            continue
        evaluate_allocations(
            con,
            [r for r in rows if (r[2], r[3], r[4]) == problem],
            units,
            _draw(units, problem, settings),
        )
    for table in ("simulation_frame", "simulated", "simulation_units"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return con.execute("SELECT count(*) FROM random_allocation").fetchall()[0][0] - before


def evaluate_allocations(
    con: duckdb.DuckDBPyConnection, rows: list[tuple], units: pa.Table, allocations: pa.Table
) -> None:
    """Insert into ``random_allocation`` the indices of ``rows`` (indicator_terms rows of one
    allocation problem) for the ``allocations`` (unit, draw, x, y) of its ``units`` (from
    UNITS_SQL), in one statement with the index CTEs of the observed values
    (:data:`segregation.SIMULATED_SQL`)."""
    con.register("simulation_units_arrow", units)
    con.register("simulated_arrow", allocations)
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE simulation_units AS "
            "SELECT * EXCLUDE (x, y) FROM simulation_units_arrow"
        )
        con.execute("CREATE OR REPLACE TEMP TABLE simulated AS SELECT * FROM simulated_arrow")
    finally:
        con.unregister("simulated_arrow")
        con.unregister("simulation_units_arrow")
    write_indicator_terms(con, rows)
    con.execute(FRAME_SQL)
    con.execute(SIMULATED_SQL)


def _draw(units: pa.Table, problem: tuple, settings: RandomAllocation) -> pa.Table:
    """For each part (date, level and area): ``draws`` random allocations of the group's X
    members (and then the comparison group's Y members among the rest) over the units'
    populations t_i — multivariate hypergeometric draws. Columns: unit, draw, x, y (0
    without a comparison group). ``units`` is ordered by part."""
    unit, part, t, x, y = (units[name].to_numpy() for name in ("unit", "part", "t", "x", "y"))
    starts = np.flatnonzero(np.r_[True, part[1:] != part[:-1]])
    keys = units.select(["ref_date", "level", "root_id"]).take(starts).to_pylist()
    parts = []
    for start, end, key in zip(starts, np.r_[starts[1:], len(part)], keys, strict=True):
        big_x, big_y = int(x[start:end].sum()), int(y[start:end].sum())
        if big_x + big_y > t[start:end].sum():  # not disjoint parts of t: no model
            continue
        rng = np.random.default_rng(_seed(settings.seed, problem, key))
        xs = rng.multivariate_hypergeometric(t[start:end], big_x, size=settings.draws)
        ys = (
            np.stack([rng.multivariate_hypergeometric(t[start:end] - row, big_y) for row in xs])
            if problem[2] is not None
            else np.zeros_like(xs)
        )
        parts.append(
            (
                np.tile(unit[start:end], settings.draws),
                np.repeat(np.arange(1, settings.draws + 1, dtype=np.int32), end - start),
                xs.ravel(),
                ys.ravel(),
            )
        )
    empty = (
        np.zeros(0, np.int64),
        np.zeros(0, np.int32),
        np.zeros(0, np.int64),
        np.zeros(0, np.int64),
    )
    columns = [np.concatenate(c) for c in zip(*parts, strict=True)] if parts else empty
    return pa.table(dict(zip(("unit", "draw", "x", "y"), columns, strict=True)))


def _seed(seed: int, problem: tuple, key: tuple) -> np.random.SeedSequence:
    """A seed stream per allocation problem, date, level and area, from stable names."""
    text = "|".join(
        str(part) for part in (*problem, key["ref_date"].isoformat(), key["level"], key["root_id"])
    )
    return np.random.SeedSequence(
        [seed, int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")]
    )
