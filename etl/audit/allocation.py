"""Can anyone repeat the published random-allocation draws? Draw them again.

The draws of the random-allocation benchmark (:mod:`etl.indicators.random_allocation`)
depend on the data only through the units' populations and the group totals. The
publication states how it draws them: from the units anyone can derive from the published
counts (:func:`etl.audit.indices.unit_tables`: units with a withheld count pooled into one
remainder unit ``<area>~<level>``) with the seed published in ``indicators.yaml``. The audit
builds those units itself, from the publication alone, and runs the simulation on them; a
published draw it does not obtain (at the published rounding) would rest on something
unpublished and fails the audit. The simulation code is the indicator engine's (it defines
the benchmark); what is checked is its input, which is where a leak would enter.
"""

from __future__ import annotations

import pandas as pd

from etl import warehouse
from etl.audit.indices import TOLERANCE, unit_tables
from etl.indicators.random_allocation import simulate
from etl.indicators.spec import Catalogue


def check_allocations(
    catalogue: Catalogue,
    values: pd.DataFrame,
    published: pd.DataFrame,
    areas: pd.DataFrame,
    draws: pd.DataFrame,
) -> tuple[int, list[str]]:
    """(published draws checked, one line per published index whose draws differ)."""
    if draws.empty:
        return 0, []
    frames = [
        frame.rename_axis("area_id")
        .reset_index()
        .melt(id_vars="area_id", var_name="term", value_name="n")
        .assign(
            ref_date=part.ref_date.iloc[0], level=part.level.iloc[0], root_id=part.area_id.iloc[0]
        )
        for part, frame in unit_tables(catalogue, values, published, areas)
    ]
    if not frames:
        return len(draws), ["Zufallsverteilung ohne nachrechenbare Einheiten veröffentlicht"]
    units = pd.concat(frames, ignore_index=True)
    shown = set(published.indicator_id)
    indicators = [ind for ind in catalogue.indicators if ind.id in shown]
    with warehouse.connect() as con:
        con.register("units", units)
        con.execute(
            "CREATE TEMP TABLE term_counts AS SELECT CAST(ref_date AS DATE) AS ref_date, "
            "area_id, level, 'v' AS vintage, term, n, "
            "CASE WHEN n IS NULL THEN 'unpublished' END AS flag FROM units"
        )
        con.execute(
            "CREATE TEMP TABLE unit_roots AS SELECT DISTINCT area_id AS unit_id, root_id, "
            "'v' AS vintage FROM units"
        )
        con.execute(
            "CREATE TABLE random_allocation (indicator_id VARCHAR, ref_date DATE, "
            "area_id VARCHAR, level VARCHAR, draw INTEGER, value DOUBLE)"
        )
        simulate(con, indicators, catalogue.random_allocation)
        con.register("published_draws", draws)
        differ = con.execute(
            f"""
            SELECT DISTINCT p.indicator_id, CAST(p.ref_date AS DATE), p.area_id, p.level
            FROM published_draws AS p
            LEFT JOIN random_allocation AS r
              ON r.indicator_id = p.indicator_id AND r.ref_date = CAST(p.ref_date AS DATE)
             AND r.area_id = p.area_id AND r.level = p.level AND r.draw = p.draw
            WHERE p.value IS NOT NULL AND NOT coalesce(abs(p.value - r.value) <= {TOLERANCE}, false)
            ORDER BY ALL
            """
        ).fetchall()
    return len(draws), [
        f"{i} {pd.Timestamp(d).date()} {a} ({lv}): Zufallsverteilung nicht aus "
        "veröffentlichten Zahlen wiederholbar"
        for i, d, a, lv in differ
    ]
