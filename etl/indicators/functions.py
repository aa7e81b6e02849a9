"""Indicator functions as set-based SQL: one statement computes a function for every
indicator that uses it, every area, level and reference date.

Inputs (TEMP tables made by the engine):
- ``term_counts(ref_date, area_id, level, vintage, term, n, flag)``: persons in each group
  intersection ("term") for every area of every level; ``flag`` is a source symbol flag
  (etl/sources/value_flags.csv, ``n`` NULL) passed on to the indicator value;
- ``indicator_terms(ind, problem, indicator_id, function, num_term, den_term, other_term,
  res_term, min_units, top_share, scale, definition_id)``: the terms of each indicator by
  role (numerator/group, denominator/total, comparison group, unit size) and its
  parameters, numbered (``problem``: the same terms and minimum unit size);
- ``balance_terms(term, plus_term, minus_term)``: the balances (net migration) among the
  terms, computed from their components (engine.add_balances); no minimum count applies;
- ``unit_roots(unit_id, root_id, vintage)``: the top-level area each unit belongs to;
- ``unit_terms`` / ``unit_counts`` / ``unit_parts``: the units below each top-level area,
  numbered, each with its ``term_counts`` in one list (engine.number_units; used by the
  segregation indices).
Parameters ``$min_denominator`` and ``$min_count`` implement disclosure control:
a value is suppressed (value and numerator NULL, flag 'suppressed') when its denominator
is below ``min_denominator`` or its numerator is between 1 and ``min_count - 1``; a share
of an empty denominator is NULL with flag 'undefined'.
Every statement yields the columns of ``indicator_values``.
"""

from __future__ import annotations

PAIRS = """
pairs AS (
    SELECT d.indicator_id, d.definition_id, d.scale, num.ref_date, num.area_id, num.level,
           num.vintage, num.n AS x, den.n AS t, coalesce(num.flag, den.flag) AS source_flag
    FROM indicator_terms AS d
    INNER JOIN term_counts AS num ON num.term = d.num_term
    INNER JOIN term_counts AS den
        ON den.term = d.den_term AND den.ref_date = num.ref_date
       AND den.area_id = num.area_id AND den.level = num.level
    WHERE d.function = $function
)"""

COUNT_SQL = """
-- count: value = n(of). Suppressed when 0 < n < min_count; a source flag is passed on.
WITH counts AS (
    SELECT d.indicator_id, d.definition_id, c.ref_date, c.area_id, c.level, c.n, c.flag,
           c.n > 0 AND c.n < $min_count
           -- a balance is no count of persons: its components are protected instead
           AND c.term NOT IN (SELECT term FROM balance_terms) AS hidden
    FROM indicator_terms AS d
    INNER JOIN term_counts AS c ON c.term = d.num_term
    WHERE d.function = 'count'
),

final AS (
    SELECT indicator_id, ref_date, area_id, level,
           CASE WHEN NOT hidden THEN n END AS value,
           CASE WHEN NOT hidden THEN n END AS numerator,
           NULL AS denominator,
           CASE WHEN flag IS NOT NULL THEN flag WHEN hidden THEN 'suppressed' END AS flag,
           definition_id, NULL AS n_units
    FROM counts
)

SELECT * FROM final
"""

RATE_SQL = (
    """
-- share (scale 100, percent) and ratio (scale as configured):
-- value = scale · x / t with x = n(numerator), t = n(denominator).
-- t = 0: undefined; t < min_denominator or 0 < x < min_count: suppressed;
-- a source flag on x or t (no number published) is passed on with no value.
WITH"""
    + PAIRS
    + """,

final AS (
    SELECT indicator_id, ref_date, area_id, level,
           CASE WHEN NOT hidden THEN scale * x / t END AS value,
           CASE WHEN NOT hidden THEN x END AS numerator,
           t AS denominator,
           CASE WHEN source_flag IS NOT NULL THEN source_flag
                WHEN t = 0 THEN 'undefined' WHEN hidden THEN 'suppressed' END AS flag,
           definition_id, NULL AS n_units
    FROM (SELECT *, coalesce(t = 0 OR t < $min_denominator
                             OR (x > 0 AND x < $min_count AND indicator_id NOT IN (
                                 SELECT indicator_id FROM indicator_terms WHERE num_term IN (
                                     SELECT term FROM balance_terms))),
                             true) AS hidden
          FROM pairs)
)

SELECT * FROM final
"""
)

LOCATION_QUOTIENT_SQL = (
    """
-- Location quotient per area (Isard 1960; PySAL local.MultiLocationQuotient):
--   LQ_i = (x_i / t_i) / (X / T)
-- with X, T the counts of the area's top-level area (the city) on the same date; reported
-- for every area of every level (the city itself: 1). LQ > 1: the group is over-represented.
-- Undefined (NULL, 'undefined') when t_i = 0 or when the city's X = 0 or X = T. Disclosure
-- control as for shares (it reveals the share x_i / t_i): suppressed when
-- t_i < min_denominator or 0 < x_i < min_count; a source flag is passed on.
WITH"""
    + PAIRS
    + """,

located AS (
    SELECT a.*, c.x AS big_x, c.t AS big_t,
           coalesce(a.source_flag, c.source_flag) AS flag_in,
           coalesce(a.t < $min_denominator OR (a.x > 0 AND a.x < $min_count), true) AS hidden,
           c.x > 0 AND c.x < c.t AS defined
    FROM pairs AS a
    INNER JOIN unit_roots AS r ON r.unit_id = a.area_id AND r.vintage = a.vintage
    INNER JOIN pairs AS c
        ON c.indicator_id = a.indicator_id AND c.ref_date = a.ref_date
       AND c.area_id = r.root_id
),

final AS (
    SELECT indicator_id, ref_date, area_id, level,
           CASE WHEN flag_in IS NULL AND t > 0 AND defined AND NOT hidden
                THEN (x / t) / (big_x / big_t) END AS value,
           CASE WHEN NOT hidden THEN x END AS numerator,
           t AS denominator,
           CASE WHEN flag_in IS NOT NULL THEN flag_in
                WHEN t = 0 OR NOT defined THEN 'undefined'
                WHEN hidden THEN 'suppressed' END AS flag,
           definition_id, NULL AS n_units
    FROM located
)

SELECT * FROM final
"""
)

OBSERVED_SQL = """
-- observed: value = the published value of the term, for the areas it is published for
-- (a rate such as an unemployment rate is never summed or recomputed); flags passed on.
WITH final AS (
    SELECT d.indicator_id, c.ref_date, c.area_id, c.level,
           c.n AS value, NULL AS numerator, NULL AS denominator, c.flag,
           d.definition_id, NULL AS n_units
    FROM indicator_terms AS d
    INNER JOIN term_counts AS c ON c.term = d.num_term
    WHERE d.function = 'observed'
)

SELECT * FROM final
"""

# function name -> SQL statement; the index functions (segregation_is, dissimilarity,
# isolation, exposure, entropy, gini, concentration_share) are one statement together:
# etl/indicators/segregation.py
REGISTRY: dict[str, str] = {
    "count": COUNT_SQL,
    "share": RATE_SQL,
    "ratio": RATE_SQL,
    "location_quotient": LOCATION_QUOTIENT_SQL,
    "observed": OBSERVED_SQL,
}
