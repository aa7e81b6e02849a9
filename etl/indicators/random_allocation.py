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
SQL statement as the observed one (:mod:`etl.indicators.segregation`), so observed and
simulated values share one definition.

Published in ``random_allocation`` (one row per draw). Summaries (:data:`BASELINE_SQL`):
expected value = mean over the draws, 95 % range = 2.5 / 97.5 % quantiles.

Change between two dates (:data:`CHANGE_SQL`): the observed change Δ = v(b) − v(a) is said
to exceed random allocation when |Δ| is larger than the 95 % quantile of |v*_k(b) − v*_k(a)|
over the draws k (independent draws on both dates): the change that chance placement alone
produces with these group sizes and units. A change within that range is not evidence of
a change in segregation. The statement is a screening rule, not a formal test of the
observed index's sampling error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

# expected value and 95 % range per indicator, date, area and level (params: $indicator;
# $level / $area may be NULL = all)
BASELINE_SQL = """
SELECT indicator_id, ref_date, area_id, level,
       avg(value) AS expected,
       quantile_cont(value, 0.025) AS lower,
       quantile_cont(value, 0.975) AS upper,
       count(value) AS draws
FROM random_allocation
WHERE indicator_id = $indicator
  AND ($level IS NULL OR level = $level)
  AND ($area IS NULL OR area_id = $area)
GROUP BY ALL
ORDER BY ref_date, level, area_id
"""

# observed change between $date_a and $date_b and the 95 % quantile of the changes under
# random allocation (params: $indicator, $level, $area, $date_a, $date_b)
CHANGE_SQL = """
WITH observed AS (
    SELECT max(value) FILTER (WHERE ref_date = $date_a) AS value_a,
           max(value) FILTER (WHERE ref_date = $date_b) AS value_b
    FROM indicator_values
    WHERE indicator_id = $indicator AND level = $level AND area_id = $area
      AND ref_date IN ($date_a, $date_b)
),

simulated AS (
    SELECT quantile_cont(abs(b.value - a.value), 0.95) AS random_q95, count(*) AS draws
    FROM random_allocation AS a
    INNER JOIN random_allocation AS b
        ON b.indicator_id = a.indicator_id AND b.level = a.level AND b.area_id = a.area_id
       AND b.draw = a.draw AND b.ref_date = $date_b
    WHERE a.indicator_id = $indicator AND a.level = $level AND a.area_id = $area
      AND a.ref_date = $date_a AND a.value IS NOT NULL AND b.value IS NOT NULL
)

SELECT o.value_a, o.value_b, o.value_b - o.value_a AS change, s.random_q95, s.draws
FROM observed AS o, simulated AS s
"""


@dataclass(frozen=True)
class Change:
    """Observed change of an index between two dates against random allocation."""

    value_a: float | None
    value_b: float | None
    change: float | None
    random_q95: float | None   # 95 % quantile of |change| under random allocation
    draws: int

    @property
    def exceeds(self) -> bool | None:
        """True: the change is larger than random allocation produces (95 %); False: it is
        within that range; None: not decidable (a value or the simulation is missing)."""
        if self.change is None or self.random_q95 is None or not self.draws:
            return None
        return abs(self.change) > self.random_q95


def change(con: duckdb.DuckDBPyConnection, indicator: str, level: str, area: str,
           date_a: date, date_b: date) -> Change:
    """The change of ``indicator`` (over the units of ``level``, for ``area``) from
    ``date_a`` to ``date_b``, with the random-allocation range of changes."""
    row = con.execute(CHANGE_SQL, {"indicator": indicator, "level": level, "area": area,
                                   "date_a": date_a, "date_b": date_b}).fetchone()
    return Change(*row)
