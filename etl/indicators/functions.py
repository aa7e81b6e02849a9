"""Indicator functions as set-based SQL: one statement computes a function for every
indicator that uses it, every area, level and reference date.

Inputs (TEMP tables made by the engine):
- ``term_counts(ref_date, area_id, level, vintage, term, n, flag)``: persons in each group
  intersection ("term") for every area of every level; ``flag`` is a source symbol flag
  (etl/sources/value_flags.csv, ``n`` NULL) passed on to the indicator value;
- ``indicator_terms(indicator_id, function, num_term, den_term, scale, definition_id)``;
- ``unit_roots(unit_id, root_id, vintage)``: the top-level area each unit belongs to.
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
           c.n > 0 AND c.n < $min_count AS hidden
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

RATE_SQL = """
-- share (scale 100, percent) and ratio (scale as configured):
-- value = scale · x / t with x = n(numerator), t = n(denominator).
-- t = 0: undefined; t < min_denominator or 0 < x < min_count: suppressed;
-- a source flag on x or t (no number published) is passed on with no value.
WITH""" + PAIRS + """,

final AS (
    SELECT indicator_id, ref_date, area_id, level,
           CASE WHEN NOT hidden THEN scale * x / t END AS value,
           CASE WHEN NOT hidden THEN x END AS numerator,
           t AS denominator,
           CASE WHEN source_flag IS NOT NULL THEN source_flag
                WHEN t = 0 THEN 'undefined' WHEN hidden THEN 'suppressed' END AS flag,
           definition_id, NULL AS n_units
    FROM (SELECT *, coalesce(t = 0 OR t < $min_denominator OR (x > 0 AND x < $min_count),
                             true) AS hidden
          FROM pairs)
)

SELECT * FROM final
"""

SEGREGATION_IS_SQL = """
-- Segregation index IS (Duncan & Duncan 1955; German municipal statistics convention):
--   IS = ½ · Σ_i | x_i / X − (t_i − x_i) / (T − X) |
-- over the units i of one level (all inhabited units, t_i > 0) within their top-level area;
-- x_i = group, t_i = all residents, X = Σ x_i, T = Σ t_i. Range 0 (even) .. 1 (separated).
-- Undefined (NULL, flag 'undefined') when X = 0 or X = T. One unit only: IS = 0.
-- A unit without a published number (source flag) makes the index 'incomplete' (NULL).
-- Reported for the top-level area (area_id = root, level = the units' level) with n_units.
WITH""" + PAIRS + """,

units AS (
    SELECT p.*, r.root_id
    FROM pairs AS p
    INNER JOIN unit_roots AS r ON r.unit_id = p.area_id AND r.vintage = p.vintage
    WHERE (p.t > 0 OR p.source_flag IS NOT NULL) AND p.area_id <> r.root_id
),

totals AS (
    SELECT indicator_id, ref_date, level, root_id,
           sum(x) AS big_x, sum(t) AS big_t, count(*) AS n_units,
           bool_or(source_flag IS NOT NULL) AS incomplete
    FROM units
    GROUP BY ALL
),

final AS (
    SELECT u.indicator_id, u.ref_date, u.root_id AS area_id, u.level,
           CASE WHEN tt.big_x > 0 AND tt.big_x < tt.big_t AND NOT tt.incomplete THEN
               0.5 * sum(abs(u.x / tt.big_x - (u.t - u.x) / (tt.big_t - tt.big_x)))
           END AS value,
           tt.big_x AS numerator, tt.big_t AS denominator,
           CASE WHEN tt.incomplete THEN 'incomplete'
                WHEN NOT (tt.big_x > 0 AND tt.big_x < tt.big_t) THEN 'undefined' END AS flag,
           any_value(u.definition_id) AS definition_id, tt.n_units
    FROM units AS u
    INNER JOIN totals AS tt USING (indicator_id, ref_date, level, root_id)
    GROUP BY u.indicator_id, u.ref_date, u.root_id, u.level, tt.big_x, tt.big_t, tt.n_units,
             tt.incomplete
)

SELECT * FROM final
"""

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

# function name -> SQL statement
REGISTRY: dict[str, str] = {
    "count": COUNT_SQL,
    "share": RATE_SQL,
    "ratio": RATE_SQL,
    "segregation_is": SEGREGATION_IS_SQL,
    "observed": OBSERVED_SQL,
}
