"""Segregation and concentration indices as set-based SQL (one statement per function).

Each statement computes every indicator of its function for every reference date, every
level of units and every top-level area at once. The units come from the engine's TEMP
tables (``unit_counts``: ``term_counts`` of every unit below its top-level area, numbered;
``indicator_terms``), gathered once per evaluation for all index indicators
(:func:`prepare`; see :mod:`etl.indicators.functions`).

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

# Units, once per build and once per evaluation. UNIT_COUNTS_SQL numbers the units (the
# engine runs it after ``unit_roots``); PREPARE_SQL then puts the units of every index
# indicator into ``index_units``, once per allocation problem (the same group, reference
# population, comparison group, residents term and minimum unit size serve several
# indices), with their totals in ``index_totals``. Each index statement only aggregates
# those tables, by integer keys (``ind`` = the indicator, ``part`` = the units of one
# top-level area, date and level).

UNIT_COUNTS_SQL = ["""
-- the counts of every unit below its top-level area, numbered: a unit is one area on one
-- date at one level (all levels but the top one); a part is the units of one top-level
-- area, date and level, which an index is computed over
CREATE OR REPLACE TEMP TABLE unit_counts AS
SELECT dense_rank() OVER (ORDER BY k.ref_date, k.level, r.root_id, k.area_id) AS unit,
       dense_rank() OVER (ORDER BY k.ref_date, k.level, r.root_id) AS part,
       k.ref_date, k.level, r.root_id, k.area_id, k.term, k.n, k.flag
FROM term_counts AS k
INNER JOIN unit_roots AS r ON r.unit_id = k.area_id AND r.vintage = k.vintage
WHERE k.area_id <> r.root_id
""", """
CREATE OR REPLACE TEMP TABLE unit_parts AS
SELECT DISTINCT part, ref_date, level, root_id FROM unit_counts
"""]

FLAGGED = """
flagged AS (
    -- used: every unit not known to be empty (t = 0) or known to be too small (fewer
    -- residents than min_units); a used unit without a published number (source flag)
    -- makes the index incomplete
    SELECT *,
           coalesce(t > 0, true) AND coalesce(residents >= min_units, true) AS used
    FROM pairs
)"""

TOTALS = """
totals AS (
    -- one row per {keys}, even when no unit is used
    SELECT {keys},
           coalesce(sum(x) FILTER (WHERE used), 0) AS big_x,
           coalesce(sum(y) FILTER (WHERE used), 0) AS big_y,
           coalesce(sum(t) FILTER (WHERE used), 0) AS big_t,
           count(*) FILTER (WHERE used) AS n_units,
           coalesce(bool_or(source_flag IS NOT NULL) FILTER (WHERE used), false) AS incomplete
    FROM flagged
    GROUP BY ALL
)"""

# the units of the index indicators among indicator_terms ($functions), once per problem
PREPARE_SQL = ["""
CREATE OR REPLACE TEMP TABLE index_indicators AS
SELECT row_number() OVER (ORDER BY indicator_id) AS ind,
       dense_rank() OVER (ORDER BY num_term, den_term, other_term, res_term, min_units)
           AS problem,
       *
FROM indicator_terms
WHERE list_contains($functions, function)
""", f"""
CREATE OR REPLACE TEMP TABLE index_units AS
WITH problems AS (
    SELECT DISTINCT problem, num_term, den_term, other_term, res_term, min_units
    FROM index_indicators
),

pairs AS (
    SELECT d.problem, num.part, num.n AS x, den.n AS t,
           CASE WHEN d.other_term IS NULL THEN den.n - num.n ELSE oth.n END AS y,
           res.n AS residents, d.min_units,
           coalesce(num.flag, den.flag, oth.flag, res.flag) AS source_flag
    FROM problems AS d
    INNER JOIN unit_counts AS num ON num.term = d.num_term
    INNER JOIN unit_counts AS den ON den.term = d.den_term AND den.unit = num.unit
    LEFT JOIN unit_counts AS oth ON oth.term = d.other_term AND oth.unit = num.unit
    LEFT JOIN unit_counts AS res ON res.term = d.res_term AND res.unit = num.unit
),
{FLAGGED}

SELECT problem, part, x, y, t, used, source_flag FROM flagged
""", f"""
CREATE OR REPLACE TEMP TABLE index_totals AS
WITH flagged AS (SELECT * FROM index_units),
{TOTALS.replace("{keys}", "problem, part")}

SELECT * FROM totals
"""]

OBSERVED_UNITS = """
units AS (
    SELECT d.ind, d.scale, d.top_share, u.part, u.x, u.y, u.t,
           tt.big_x, tt.big_y, tt.big_t
    FROM index_indicators AS d
    INNER JOIN index_units AS u USING (problem)
    INNER JOIN index_totals AS tt USING (problem, part)
    WHERE d.function = $function AND u.used
      AND NOT tt.incomplete AND tt.big_x > 0 AND tt.big_y > 0
)"""

FINAL = """
final AS (
    SELECT d.indicator_id, p.ref_date, p.root_id AS area_id, p.level,
           a.value,
           tt.big_x AS numerator, tt.big_t AS denominator,
           CASE WHEN tt.incomplete THEN 'incomplete'
                WHEN NOT (tt.big_x > 0 AND tt.big_y > 0) THEN 'undefined' END AS flag,
           d.definition_id, tt.n_units
    FROM index_indicators AS d
    INNER JOIN index_totals AS tt USING (problem)
    INNER JOIN unit_parts AS p USING (part)
    LEFT JOIN agg AS a USING (ind, part)
    WHERE d.function = $function
)

SELECT * FROM final
"""

# simulated groups (random_allocation): TEMP tables simulated(unit, draw, x, y) and
# simulation_frame (one row per indicator and unit: its observed t, residents and
# parameters); the units and totals are those of each draw
SIMULATED_UNITS = f"""
pairs AS (
    SELECT f.ind, f.part, s.draw, s.x, f.t,
           CASE WHEN f.named_other THEN s.y ELSE f.t - s.x END AS y,
           f.residents, f.min_units, f.scale, f.top_share, CAST(NULL AS VARCHAR) AS source_flag
    FROM simulated AS s
    INNER JOIN simulation_frame AS f ON f.unit = s.unit
    WHERE f.function = $function
),
{FLAGGED},
{TOTALS},

units AS (
    SELECT u.*, tt.big_x, tt.big_y, tt.big_t
    FROM flagged AS u
    INNER JOIN totals AS tt USING ({{keys}})
    WHERE u.used AND NOT tt.incomplete AND tt.big_x > 0 AND tt.big_y > 0
)"""

# one row per draw: ind, part, draw, value
SIMULATED_FINAL = """
SELECT tt.ind, tt.part, tt.draw, a.value
FROM totals AS tt
LEFT JOIN agg AS a USING ({keys})
"""

KEYS = "ind, part"


def prepare(con, functions: list[str]) -> None:
    """``index_indicators``, ``index_units`` and ``index_totals`` for the indicators of
    ``functions`` in ``indicator_terms`` (after UNIT_COUNTS_SQL)."""
    for statement in PREPARE_SQL:
        con.execute(statement, {"functions": functions} if "$functions" in statement else {})


class IndexStatement(str):
    """The statement of one index: its ``agg`` CTE (one ``value`` per {keys} over the
    ``units`` used, each with x, y, t, big_x, big_y, big_t, scale and top_share) between
    the shared unit selection and the shared output with flags and n_units. The ``str``
    itself runs over the observed units (the engine, with $function, after
    :func:`prepare`); ``simulated`` is the same index over simulated units."""

    simulated: str

    def __new__(cls, comment: str, agg: str) -> IndexStatement:
        agg = agg.strip()
        statement = str.__new__(cls, (f"{comment.strip()}\nWITH{OBSERVED_UNITS},\n{agg},\n"
                                      f"{FINAL}").replace("{keys}", KEYS))
        statement.simulated = (f"WITH{SIMULATED_UNITS},\n{agg}\n{SIMULATED_FINAL}"
                               .replace("{keys}", KEYS + ", draw"))
        return statement


def _summed(comment: str, expression: str) -> IndexStatement:
    """An index that is one aggregate ``expression`` over the units used."""
    return IndexStatement(comment, f"""
agg AS (
    SELECT {{keys}}, {expression} AS value
    FROM units
    GROUP BY ALL
)""")


DISSIMILARITY_SQL = _summed("""
-- Dissimilarity D (Duncan & Duncan 1955) between the group and a comparison group:
--   D = ½ · Σ_i | x_i / X − y_i / Y |,  range 0 (same distribution) .. 1 (no shared unit).
-- y_i = the named `other` group (function dissimilarity) or the rest t_i − x_i: then D is
-- the Segregationsindex IS of German municipal statistics (function segregation_is).
-- Share of either group that would have to move for both to be distributed alike.
-- A single unit: D = 0; all of the group in one unit holding no one else: D = 1.
-- PySAL: singlegroup.Dissim(group = x, total = x + y).
""", "0.5 * sum(abs(x / big_x - y / big_y))")

ISOLATION_SQL = _summed("""
-- Isolation xPx (Massey & Denton 1988, after Bell 1954): the group's share in the unit of
-- the average member of the group (probability that a person met in one's own unit
-- belongs to the group):  xPx = Σ_i (x_i / X) · (x_i / t_i),  range P .. 1 (P = X / T,
-- the value for an even distribution). A single unit: xPx = P.
-- PySAL: singlegroup.Isolation.
""", "sum((x / big_x) * (x / t))")

EXPOSURE_SQL = _summed("""
-- Exposure / interaction xPy (Massey & Denton 1988): the share of the comparison group in
-- the unit of the average member of the group:  xPy = Σ_i (x_i / X) · (y_i / t_i),
-- y_i = the named `other` group or the rest t_i − x_i (then xPy = 1 − xPx, range
-- 0 .. Y / T). Y / T is the value for an even distribution; 0: no unit shared. A single
-- unit: Y / T. Asymmetric: xPy · X = yPx · Y.
-- PySAL: singlegroup.Interaction (y = the rest).
""", "sum((x / big_x) * (y / t))")

ENTROPY_SQL = IndexStatement("""
-- Theil's entropy index H (Theil 1972; two groups: the group and the rest; Massey & Denton
-- 1988): H = Σ_i t_i · (E − E_i) / (E · T) with the entropy E = P·ln(1/P) + (1−P)·ln(1/(1−P))
-- of the whole area and E_i the same for p_i (0 · ln(1/0) = 0, so a unit holding only one
-- group has E_i = 0). Range 0 (every unit has the mix P) .. 1 (every unit holds one group
-- only). A single unit: H = 0. PySAL: singlegroup.Entropy.
""", """
agg AS (
    SELECT {keys},
           sum(t * (e - e_i)) / (any_value(e) * any_value(big_t)) AS value
    FROM (
        SELECT *,
               -(big_p * ln(big_p) + (1 - big_p) * ln(1 - big_p)) AS e,
               CASE WHEN x > 0 AND x < t THEN -(p * ln(p) + (1 - p) * ln(1 - p)) ELSE 0 END
                   AS e_i
        FROM (SELECT *, x / t AS p, big_x / big_t AS big_p FROM units)
    )
    GROUP BY ALL
)""")

GINI_SQL = IndexStatement("""
-- Gini segregation index (Massey & Denton 1988; two groups: the group and the rest):
--   G = Σ_i Σ_j t_i · t_j · | p_i − p_j | / (2 · T² · P · (1 − P)),  range 0 .. 1;
-- the mean absolute difference of the units' group shares over all pairs of residents,
-- relative to its maximum (twice the area between the Duncan & Duncan 1955 segregation
-- curve and the diagonal). Computed in O(n log n) with units ordered by p: since
-- t_i t_j (p_j − p_i) = x_j t_i − t_j x_i for p_i ≤ p_j and T² P (1 − P) = X (T − X),
--   G = Σ_j (x_j · Σ_{i<j} t_i − t_j · Σ_{i<j} x_i) / (X · (T − X))   (exact integers;
-- ties in p contribute 0 in any order). A single unit: G = 0. PySAL: singlegroup.Gini.
""", """
ranked AS (
    SELECT *,
           coalesce(sum(t) OVER below, 0) AS t_below,
           coalesce(sum(x) OVER below, 0) AS x_below
    FROM units
    WINDOW below AS (PARTITION BY {keys} ORDER BY x / t
                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
),

agg AS (
    SELECT {keys},
           sum(x * t_below - t * x_below) / (any_value(big_x) * any_value(big_t - big_x))
               AS value
    FROM ranked
    GROUP BY ALL
)""")

CONCENTRATION_SQL = IndexStatement("""
-- Concentration share C_q: the share (in %) of the group living in the most concentrated
-- q of the population (q = top_share, e.g. 0.1 = the top decile): units are ordered by
-- decreasing group share p_i and filled until they hold q · T residents, the unit at the
-- boundary counted pro rata (linear interpolation, as in an empirical Lorenz curve):
--   C_q = 100 · Σ_i x_i · clamp((q·T − Σ_{j before i} t_j) / t_i, 0, 1) / X.
-- It is the ordinate at q of the group's concentration curve (units ordered by p_i, the
-- curve of Duncan & Duncan 1955 drawn against the total population), so it does not
-- depend on how the units are numbered or on ties in p_i. Range 100·q (even distribution)
-- .. 100 · min(1, q / P). A single unit: 100·q. No PySAL equivalent; the tests check it
-- against numpy interpolation of the cumulated curve.
""", """
ranked AS (
    SELECT *,
           coalesce(sum(t) OVER above, 0) AS t_above
    FROM units
    WINDOW above AS (PARTITION BY {keys} ORDER BY x / t DESC
                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
),

agg AS (
    SELECT {keys},
           any_value(scale) * sum(x * greatest(0, least(1, (top_share * big_t - t_above) / t)))
               / any_value(big_x) AS value
    FROM ranked
    GROUP BY ALL
)""")

# function name -> SQL statement (run with $function = the name)
INDEX_SQL: dict[str, IndexStatement] = {
    "segregation_is": DISSIMILARITY_SQL,
    "dissimilarity": DISSIMILARITY_SQL,
    "isolation": ISOLATION_SQL,
    "exposure": EXPOSURE_SQL,
    "entropy": ENTROPY_SQL,
    "gini": GINI_SQL,
    "concentration_share": CONCENTRATION_SQL,
}
