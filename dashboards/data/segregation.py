"""Reads of the segregation page: the random-allocation benchmark of the city-wide
indices (simulated by :mod:`etl.indicators.random_allocation` into ``random_allocation``).

Summaries (:data:`BASELINE_SQL`): expected value = mean over the draws, 95 % range =
2.5 / 97.5 % quantiles. Change between two dates (:data:`CHANGE_SQL`): the observed change
Δ = v(b) − v(a) is said to exceed random allocation when |Δ| is larger than the 95 %
quantile of |v*_k(b) − v*_k(a)| over the draws k — a screening rule, not a formal test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from dashboards import formatting
from dashboards.data.snapshot import Warehouse, cached_frame, fetch, memoised, query, tables
from dashboards.i18n import t

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
    random_q95: float | None  # 95 % quantile of |change| under random allocation
    draws: int

    @property
    def exceeds(self) -> bool | None:
        """True: the change is larger than random allocation produces (95 %); False: it is
        within that range; None: not decidable (a value or the simulation is missing)."""
        if self.change is None or self.random_q95 is None or not self.draws:
            return None
        return abs(self.change) > self.random_q95


def change(
    con: duckdb.DuckDBPyConnection,
    indicator: str,
    level: str,
    area: str,
    date_a: date,
    date_b: date,
) -> Change:
    """The change of ``indicator`` (over the units of ``level``, for ``area``) from
    ``date_a`` to ``date_b``, with the random-allocation range of changes."""
    row = con.execute(
        CHANGE_SQL,
        {"indicator": indicator, "level": level, "area": area, "date_a": date_a, "date_b": date_b},
    ).fetchall()[0]
    return Change(*row)


BASELINE_COLUMNS = ["ref_date", "level", "expected", "lower", "upper", "draws"]


@cached_frame
def random_baseline(warehouse: Warehouse, indicator_id: str, area_id: str) -> pd.DataFrame:
    """Expected value and 95 % range of a city-wide index under random allocation, per
    level and reference date (:data:`BASELINE_SQL`).

    Empty when the warehouse holds no simulations for the index (or predates the table).
    """
    if "random_allocation" not in tables(warehouse):
        return pd.DataFrame(columns=BASELINE_COLUMNS)
    sql = f"""
        SELECT CAST(ref_date AS VARCHAR) AS ref_date, level, expected, lower, upper, draws
        FROM ({BASELINE_SQL})
        ORDER BY ref_date, level
    """
    params = {"indicator": indicator_id, "level": None, "area": area_id}
    return query(warehouse, sql, params)


@memoised(512)
def index_change(
    warehouse: Warehouse, indicator_id: str, level: str, area_id: str, date_a: str, date_b: str
) -> Change:
    """Observed change of a city-wide index from ``date_a`` to ``date_b`` over the units of
    ``level``, with the 95 % quantile of the changes random allocation produces
    (:func:`change`; without simulations: draws = 0)."""
    params = {
        "indicator": indicator_id,
        "level": level,
        "area": area_id,
        "date_a": date.fromisoformat(date_a),
        "date_b": date.fromisoformat(date_b),
    }
    if "random_allocation" in tables(warehouse):
        return Change(*fetch(warehouse, CHANGE_SQL, params)[0])
    sql = """
        SELECT max(value) FILTER (WHERE ref_date = $date_a) AS value_a,
               max(value) FILTER (WHERE ref_date = $date_b) AS value_b
        FROM indicator_values
        WHERE indicator_id = $indicator AND level = $level AND area_id = $area
    """
    row = query(warehouse, sql, params)
    a, b = (None if pd.isna(v) else float(v) for v in row.iloc[0])
    return Change(a, b, None if None in (a, b) else b - a, None, 0)


# --- notes and metadata ------------------------------------------------------------------
def benchmark_text(baseline: pd.DataFrame, lang: str) -> str:
    """What the dashed line and band mean (with the number of simulations), or that there
    is no benchmark; ``baseline``: the rows with a benchmark."""
    if baseline.empty:
        return t("seg.no_benchmark", lang)
    draws = formatting.format_count(int(baseline["draws"].max()))
    return t("seg.benchmark_note", lang, draws=draws)
