"""Segregation and concentration indices as set-based SQL (one statement for all of them).

One statement (:data:`OBSERVED_SQL`, run by :func:`evaluate`) computes every indicator of
every index function for every reference date, every level of units and every top-level
area at once; the random-allocation draws (:mod:`etl.indicators.random_allocation`) go
through the same index CTEs (:data:`SIMULATED_SQL`). The units come from the engine's
TEMP tables (``unit_counts``: every unit below its top-level area, numbered, with its
``term_counts`` in one list, built once per build; ``indicator_terms``); the units of every
allocation problem (the same group, reference population, comparison group, residents term
and minimum unit size serve several indices) are read from those lists in one pass, and
every index is an aggregate over them (see :mod:`etl.indicators.functions`).

Notation (Massey & Denton 1988): units i of one level inside their top-level area (the
city); x_i = the group, t_i = the reference population (``total``, all residents unless
configured), y_i = the comparison group: a named ``other`` group or the rest t_i − x_i;
X = Σ x_i, Y = Σ y_i, T = Σ t_i, P = X / T, p_i = x_i / t_i.

Units used: every unit with t_i > 0 (zero-population units are excluded; they carry no
weight in any formula) and, when ``min_unit_population`` is set, at least that many
residents (term ``total``; Berlin's social monitoring uses 300). ``n_units`` = number of
units used; X, Y and T are sums over them. A group absent from a unit is x_i = 0. Every
index is 'undefined' (value NULL) when X = 0 or Y = 0 (for "the rest": X = T) — there is
then no second group to be segregated from, also when no unit is left — and 'incomplete'
(NULL) when a used unit has no published number (source symbol). The value describes the
top-level area (``area_id`` = root) over the units of ``level``; numerator X, denominator T.

Sources: Duncan & Duncan (1955), A methodological analysis of segregation indexes, ASR 20;
Massey & Denton (1988), The dimensions of residential segregation, Social Forces 67;
Theil (1972), Statistical decomposition analysis; PySAL ``segregation`` 2.5.4
(singlegroup.Dissim, Isolation, Interaction, Entropy, Gini),
whose definitions the tests reproduce to 1e-9.
"""

from __future__ import annotations

import duckdb

# Units, once per build (the engine runs UNIT_COUNTS_SQL after ``unit_roots``): every unit
# with its part (numbered) and its counts of every term in one list (``unit_terms`` numbers
# the terms), so that OBSERVED_SQL reads the x, t, y and residents of each allocation
# problem from the unit's list (no pivot or join of the units per problem).

UNIT_COUNTS_SQL = [
    """
-- the terms, numbered k: the position of a term's count in unit_counts.ns
CREATE OR REPLACE TEMP TABLE unit_terms AS
SELECT term, row_number() OVER (ORDER BY term) AS k FROM (SELECT DISTINCT term FROM term_counts)
""",
    """
-- one row per unit below its top-level area: a unit is one area on one date at one level
-- (all levels but the top one); a part is the units of one top-level area, date and level,
-- which an index is computed over. ns[k] = the unit's count of term k (NULL: no published
-- number, or no row for it); flagged = the terms k without a published number
CREATE OR REPLACE TEMP TABLE unit_counts AS
SELECT part, ref_date, level, root_id, area_id, flagged,
       list_transform(range(1, (SELECT count(*) FROM unit_terms) + 1),
                      lambda k: ns[list_position(ks, k)]) AS ns
FROM (
    SELECT dense_rank() OVER (ORDER BY k.ref_date, k.level, r.root_id) AS part,
           k.ref_date, k.level, r.root_id, k.area_id, list(t.k) AS ks, list(k.n) AS ns,
           list(t.k) FILTER (WHERE k.flag IS NOT NULL) AS flagged
    FROM term_counts AS k
    INNER JOIN unit_roots AS r ON r.unit_id = k.area_id AND r.vintage = k.vintage
    INNER JOIN unit_terms AS t USING (term)
    WHERE k.area_id <> r.root_id
    GROUP BY k.ref_date, k.level, r.root_id, k.area_id
)
""",
    """
CREATE OR REPLACE TEMP TABLE unit_parts AS
SELECT DISTINCT part, ref_date, level, root_id FROM unit_counts
""",
]

# the index indicators among indicator_terms ($functions) with k_x, k_t, k_y, k_residents =
# the numbers of their terms in unit_terms (group, reference population, comparison group,
# unit size); a TEMP table: the small integer keys ind and problem let DuckDB aggregate by
# problem and part in a perfect hash table
INDICATORS_SQL = """
CREATE OR REPLACE TEMP TABLE index_indicators AS
SELECT d.*,
       list_position(u.terms, d.num_term) AS k_x, list_position(u.terms, d.den_term) AS k_t,
       list_position(u.terms, d.other_term) AS k_y,
       list_position(u.terms, d.res_term) AS k_residents
FROM indicator_terms AS d, (SELECT list(term ORDER BY k) AS terms FROM unit_terms) AS u
WHERE list_contains($functions, d.function)
"""

# used: every unit not known to be empty (t = 0) or known to be too small (fewer residents
# than min_units); a used unit without a published number (source flag) makes the index
# incomplete
USED = "coalesce(t > 0, true) AND coalesce(residents >= min_units, true)"

# the functions that are sums over the units (CTE sums); the others rank the units
SUMMED = "function NOT IN ('gini', 'concentration_share')"

# The units of every allocation problem of ``index_indicators``: each problem takes its x,
# t, y and residents from the unit's list of counts (positions k_x, k_t, ...; no join of
# the units with themselves).
OBSERVED_UNITS = f"""
problems AS (
    -- the numbers k of a problem's terms (y: the named comparison group, if any); which
    -- indices it serves: sums, entropy, Gini
    SELECT problem, any_value(min_units) AS min_units, any_value(k_x) AS k_x,
           any_value(k_t) AS k_t, any_value(k_y) AS k_y,
           any_value(k_residents) AS k_residents,
           bool_or({SUMMED}) AS needs_sums, bool_or(function = 'entropy') AS needs_entropy,
           bool_or(function = 'gini') AS needs_gini
    FROM index_indicators
    GROUP BY problem
),

pairs AS MATERIALIZED (
    -- every unit with a row for the group and the reference population, per problem
    SELECT problem, part, x, y, t, {USED} AS used, source_flag, needs_sums, needs_entropy,
           needs_gini
    FROM (
        SELECT p.problem, p.min_units, p.needs_sums, p.needs_entropy, p.needs_gini, c.part,
               c.ns[p.k_x] AS x, c.ns[p.k_t] AS t,
               CASE WHEN p.k_y IS NULL THEN c.ns[p.k_t] - c.ns[p.k_x] ELSE c.ns[p.k_y] END
                   AS y,
               c.ns[p.k_residents] AS residents,
               c.flagged IS NOT NULL
                   AND list_has_any(c.flagged, [p.k_x, p.k_t, p.k_y, p.k_residents])
                   AS source_flag
        FROM problems AS p
        CROSS JOIN unit_counts AS c
        WHERE (c.ns[p.k_x] IS NOT NULL OR list_contains(c.flagged, p.k_x))
          AND (c.ns[p.k_t] IS NOT NULL OR list_contains(c.flagged, p.k_t))
    )
)"""

# simulated groups (random_allocation): TEMP tables simulated(unit, draw, x, y) and
# simulation_frame (one row per indicator and unit: its observed t, residents and
# parameters); the units and totals are those of each draw
SIMULATED_UNITS = f"""
pairs AS MATERIALIZED (
    SELECT *, {USED} AS used, {SUMMED} AS needs_sums, function = 'entropy' AS needs_entropy,
           function = 'gini' AS needs_gini
    FROM (
        SELECT f.ind, f.function, f.part, s.draw, s.x, f.t,
               CASE WHEN f.named_other THEN s.y ELSE f.t - s.x END AS y,
               f.residents, f.min_units, f.scale, f.top_share, false AS source_flag
        FROM simulated AS s
        INNER JOIN simulation_frame AS f ON f.unit = s.unit
    )
)"""

SIMULATED_SHARES = """
shares AS (
    -- the units of the concentration indicators
    SELECT * FROM units WHERE function = 'concentration_share'
)"""

OBSERVED_SHARES = """
shares AS (
    -- the units of the concentration indicators, per indicator (its top_share and scale)
    SELECT d.ind, u.part, u.x, u.t, u.big_x, u.big_t, d.top_share, d.scale
    FROM units AS u
    INNER JOIN index_indicators AS d USING (problem)
    WHERE d.function = 'concentration_share'
)"""

# From ``pairs`` (per {keys}: x, y, t, used, source_flag, needs_sums, needs_entropy,
# needs_gini) to the totals of every {keys} and the units an index is computed over (with
# the totals)
UNITS = """
totals AS MATERIALIZED (
    -- one row per {keys}, even when no unit is used
    SELECT {keys},
           coalesce(sum(x) FILTER (WHERE used), 0) AS big_x,
           coalesce(sum(y) FILTER (WHERE used), 0) AS big_y,
           coalesce(sum(t) FILTER (WHERE used), 0) AS big_t,
           count(*) FILTER (WHERE used) AS n_units,
           coalesce(bool_or(source_flag) FILTER (WHERE used), false) AS incomplete
    FROM pairs
    GROUP BY ALL
),

units AS NOT MATERIALIZED (
    -- the units an index is computed over (used; both groups present, no flag)
    SELECT u.*, tt.big_x, tt.big_y, tt.big_t
    FROM pairs AS u
    INNER JOIN totals AS tt USING ({keys})
    WHERE u.used AND NOT tt.incomplete AND tt.big_x > 0 AND tt.big_y > 0
)"""

SUMS = """
sums AS (
    -- the indices that are sums over the units, in one pass
    SELECT {keys},
           -- Dissimilarity D (Duncan & Duncan 1955) between the group and a comparison
           -- group:  D = ½ · Σ_i | x_i / X − y_i / Y |,  range 0 (same distribution) .. 1
           -- (no shared unit). y_i = the named `other` group (function dissimilarity) or
           -- the rest t_i − x_i: then D is the Segregationsindex IS of German municipal
           -- statistics (function segregation_is). Share of either group that would have
           -- to move for both to be distributed alike. A single unit: D = 0; all of the
           -- group in one unit holding no one else: D = 1.
           -- PySAL: singlegroup.Dissim(group = x, total = x + y).
           0.5 * sum(abs(x / big_x - y / big_y)) AS dissimilarity,
           -- Isolation xPx (Massey & Denton 1988, after Bell 1954): the group's share in
           -- the unit of the average member of the group (probability that a person met
           -- in one's own unit belongs to the group):  xPx = Σ_i (x_i / X) · (x_i / t_i),
           -- range P .. 1 (P = X / T, the value for an even distribution). A single unit:
           -- xPx = P. PySAL: singlegroup.Isolation.
           sum((x / big_x) * (x / t)) AS isolation,
           -- Exposure / interaction xPy (Massey & Denton 1988): the share of the
           -- comparison group in the unit of the average member of the group:
           -- xPy = Σ_i (x_i / X) · (y_i / t_i), y_i = the named `other` group or the rest
           -- t_i − x_i (then xPy = 1 − xPx, range 0 .. Y / T). Y / T is the value for an
           -- even distribution; 0: no unit shared. A single unit: Y / T. Asymmetric:
           -- xPy · X = yPx · Y. PySAL: singlegroup.Interaction (y = the rest).
           sum((x / big_x) * (y / t)) AS exposure,
           -- Theil's entropy index H (Theil 1972; two groups: the group and the rest;
           -- Massey & Denton 1988): H = Σ_i t_i · (E − E_i) / (E · T) with the entropy
           -- E = P·ln(1/P) + (1−P)·ln(1/(1−P)) of the whole area and E_i the same for p_i
           -- (0 · ln(1/0) = 0, so a unit holding only one group has E_i = 0). Range 0
           -- (every unit has the mix P) .. 1 (every unit holds one group only). A single
           -- unit: H = 0. PySAL: singlegroup.Entropy. (Only for the problems it serves.)
           sum(t * (e - e_i)) / (any_value(e) * any_value(big_t)) AS entropy
    FROM (
        SELECT *,
               CASE WHEN needs_entropy THEN -(big_p * ln(big_p) + (1 - big_p) * ln(1 - big_p))
               END AS e,
               CASE WHEN NOT needs_entropy THEN NULL
                    WHEN x > 0 AND x < t THEN -(p * ln(p) + (1 - p) * ln(1 - p))
                    ELSE 0 END AS e_i
        FROM (SELECT *, x / t AS p, big_x / big_t AS big_p FROM units WHERE needs_sums)
    )
    GROUP BY ALL
)"""

GINI = """
ginis AS (
    -- Gini segregation index (Massey & Denton 1988; two groups: the group and the rest):
    --   G = Σ_i Σ_j t_i · t_j · | p_i − p_j | / (2 · T² · P · (1 − P)),  range 0 .. 1;
    -- the mean absolute difference of the units' group shares over all pairs of residents,
    -- relative to its maximum (twice the area between the Duncan & Duncan 1955
    -- segregation curve and the diagonal). Computed in O(n log n) with the units ordered
    -- by p: since t_i t_j (p_j − p_i) = x_j t_i − t_j x_i for p_i ≤ p_j,
    -- T² P (1 − P) = X (T − X) and Σ_j t_j · Σ_{i<j} x_i = Σ_j x_j · Σ_{i>j} t_i,
    --   G = (Σ_j x_j · (2 · Σ_{i<j} t_i + t_j) − X · T) / (X · (T − X)),
    -- one running sum of t over the ordered units (list_reduce; exact integers, ties in
    -- p contribute 0 in any order). A single unit: G = 0. PySAL: singlegroup.Gini.
    SELECT {keys},
           (list_reduce(list({'x': x, 't': t} ORDER BY x / t),
                        lambda acc, u: {'below': acc.below + u.t,
                                        'sum': acc.sum + u.x * (2 * acc.below + u.t)},
                        {'below': 0::DOUBLE, 'sum': 0::DOUBLE}).sum
            - any_value(big_x) * any_value(big_t))
           / (any_value(big_x) * any_value(big_t - big_x)) AS gini
    FROM units
    WHERE needs_gini
    GROUP BY ALL
)"""

CONCENTRATION = """
concentrations AS (
    -- Concentration share C_q: the share (in %) of the group living in the most
    -- concentrated q of the population (q = top_share, e.g. 0.1 = the top decile): units
    -- are ordered by decreasing group share p_i and filled until they hold q · T
    -- residents, the unit at the boundary counted pro rata (linear interpolation, as in an
    -- empirical Lorenz curve):
    --   C_q = 100 · Σ_i x_i · clamp((q·T − Σ_{j before i} t_j) / t_i, 0, 1) / X.
    -- It is the ordinate at q of the group's concentration curve (units ordered by p_i,
    -- the curve of Duncan & Duncan 1955 drawn against the total population), so it does
    -- not depend on how the units are numbered or on ties in p_i. Range 100·q (even
    -- distribution) .. 100 · min(1, q / P). A single unit: 100·q. No PySAL equivalent;
    -- the tests check it against numpy interpolation of the cumulated curve.
    SELECT {ckeys},
           any_value(scale)
               * sum(x * greatest(0, least(1, (top_share * big_t - t_above) / t)))
               / any_value(big_x) AS concentration
    FROM (
        SELECT *,
               coalesce(sum(t) OVER (PARTITION BY {ckeys} ORDER BY x / t DESC
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                        0) AS t_above
        FROM shares
    )
    GROUP BY ALL
)"""

# function name -> its value from the aggregates (a: sums, g: ginis, c: concentrations)
INDEX_VALUES: dict[str, str] = {
    "segregation_is": "a.dissimilarity",
    "dissimilarity": "a.dissimilarity",
    "isolation": "a.isolation",
    "exposure": "a.exposure",
    "entropy": "a.entropy",
    "gini": "g.gini",
    "concentration_share": "c.concentration",
}

# Every index value is rounded to SIGNIFICANT_DIGITS significant digits: the sums over
# the units are DOUBLE sums whose order DuckDB's parallel aggregates do not fix, so two
# builds of the same raw files could differ in the last bits (Berlin: 189 values).
# Rounding makes ``imon values`` byte-reproducible (a value within 1e-16 of a rounding
# boundary could still round apart, never observed); published indices are rounded to 3
# decimals anyway. 0, NULL and non-finite values pass unchanged.
SIGNIFICANT_DIGITS = 12


def rounded(value: str, digits: int = SIGNIFICANT_DIGITS) -> str:
    """SQL of ``value`` rounded to ``digits`` significant digits."""
    v = f"({value})::DOUBLE"
    return (
        f"CASE WHEN {v} IS NULL OR {v} = 0 OR NOT isfinite({v}) THEN {v} "
        f"ELSE round({v}, {digits - 1} - floor(log10(abs({v})))::INTEGER) END"
    )


VALUE = rounded(
    "CASE {function} "
    + " ".join(f"WHEN '{name}' THEN {value}" for name, value in INDEX_VALUES.items())
    + " END"
)

OBSERVED_FINAL = f"""
final AS (
    SELECT d.indicator_id, p.ref_date, p.root_id AS area_id, p.level,
           {VALUE.format(function="d.function")} AS value,
           tt.big_x AS numerator, tt.big_t AS denominator,
           CASE WHEN tt.incomplete THEN 'incomplete'
                WHEN NOT (tt.big_x > 0 AND tt.big_y > 0) THEN 'undefined' END AS flag,
           d.definition_id, tt.n_units
    FROM index_indicators AS d
    INNER JOIN totals AS tt USING (problem)
    INNER JOIN unit_parts AS p USING (part)
    LEFT JOIN sums AS a USING (problem, part)
    LEFT JOIN ginis AS g USING (problem, part)
    LEFT JOIN concentrations AS c USING (ind, part)
)

SELECT * FROM final
"""

# one row per indicator and draw: ind, part, draw, value
SIMULATED_FINAL = f"""
SELECT tt.ind, tt.part, tt.draw, {VALUE.format(function="tt.function")} AS value
FROM totals AS tt
LEFT JOIN sums AS a USING (ind, function, part, draw)
LEFT JOIN ginis AS g USING (ind, function, part, draw)
LEFT JOIN concentrations AS c USING (ind, function, part, draw)
"""


def _statement(units: str, shares: str, final: str) -> str:
    """The indices over ``units`` (the CTE ``pairs``), ``shares`` and ``final``."""
    return f"WITH{units},\n{UNITS},\n{SUMS},\n{GINI},\n{shares},\n{CONCENTRATION},\n{final}"


# every indicator of index_indicators (INDICATORS_SQL); the columns of indicator_values
OBSERVED_SQL = (
    _statement(OBSERVED_UNITS, OBSERVED_SHARES, OBSERVED_FINAL)
    .replace("{ckeys}", "ind, part")
    .replace("{keys}", "problem, part")
)

# the same indices of the draws in ``simulated`` (random_allocation), every indicator of
# ``simulation_frame``: ind, part, draw, value
SIMULATED_SQL = (
    _statement(SIMULATED_UNITS, SIMULATED_SHARES, SIMULATED_FINAL)
    .replace("{ckeys}", "{keys}")
    .replace("{keys}", "ind, function, part, draw")
)


def evaluate(con: duckdb.DuckDBPyConnection, functions: list[str], target: str) -> None:
    """Insert into the table ``target`` (the columns of ``indicator_values``) the values of
    every indicator of the index ``functions`` in ``indicator_terms``, from ``unit_counts``
    and ``unit_parts`` (UNIT_COUNTS_SQL): the indicators numbered with their terms, then one
    statement for all values."""
    con.execute(INDICATORS_SQL, {"functions": functions})
    con.execute(f"INSERT INTO {target} {OBSERVED_SQL}")
