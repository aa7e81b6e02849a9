"""Reading what the audit may see: the publication file, and the true counts of the internal
file. Nothing here knows how the publication was protected."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from etl import warehouse
from etl.indicators.spec import UNIT_INDICES, Catalogue, term_key, term_name

# function → (role of the numerator column, role of the denominator column)
ROLES: dict[str, tuple[str, str | None]] = {
    "count": ("of", None),
    "share": ("numerator", "denominator"),
    "ratio": ("numerator", "denominator"),
    "location_quotient": ("group", "total"),
}


@dataclass(frozen=True)
class Publication:
    """The published tables the attacker model is built from."""

    values: pd.DataFrame  # indicator_values of linear indicators + num_term, den_term, scale
    units: pd.DataFrame  # unit-index rows: their numerator/denominator are sums over units
    indices: pd.DataFrame  # every published unit-index row (recomputed: etl.audit.indices)
    draws: pd.DataFrame  # random-allocation draws (drawn again: etl.audit.allocation)
    areas: pd.DataFrame  # areas joined with levels.rank
    uncovered: dict[str, str]  # indicator id → function, not covered by the LP
    raw_tables: dict[str, int]  # tables of unprotected counts in the file → rows


def indicator_terms(catalogue: Catalogue) -> pd.DataFrame:
    """Per linear indicator of additive terms: function, numerator/denominator term, scale."""
    rows = []
    for ind in catalogue.indicators:
        if ind.function not in ROLES:
            continue
        num_role, den_role = ROLES[ind.function]
        terms = ind.terms()
        num = term_key(terms[num_role])
        den = term_key(terms[den_role]) if den_role else None
        if not catalogue.additive(num) or (den and not catalogue.additive(den)):
            continue
        rows.append(
            {
                "indicator_id": ind.id,
                "function": ind.function,
                "num_term": term_name(num),
                "den_term": term_name(den) if den else None,
                "scale": float(ind.scale),
                "decimals": ind.decimals,
            }
        )
    columns = ["indicator_id", "function", "num_term", "den_term", "scale", "decimals"]
    return pd.DataFrame(rows, columns=columns)  # the columns also without any (rates only)


def unit_index_terms(catalogue: Catalogue) -> pd.DataFrame:
    """Per unit index: group term (numerator = its sum over the units used), total term
    (denominator), and the minimum unit population (units with fewer residents dropped)."""
    rows = [
        {
            "indicator_id": ind.id,
            "num_term": term_name(term_key(ind.group)),
            "den_term": term_name(term_key(ind.total)),
            "min_units": ind.min_unit_population,
        }
        for ind in catalogue.indicators
        if ind.function in UNIT_INDICES
        and catalogue.additive(term_key(ind.group))
        and catalogue.additive(term_key(ind.total))
    ]
    columns = ["indicator_id", "num_term", "den_term", "min_units"]
    return pd.DataFrame(rows, columns=columns)


def read_publication(path: Path, catalogue: Catalogue) -> Publication:
    """indicator_values, areas and levels of the publication file (read only)."""
    terms = indicator_terms(catalogue)
    with warehouse.connect(path, read_only=True) as con:
        values = con.sql(
            "SELECT indicator_id, ref_date, area_id, level, value, numerator, denominator, flag "
            "FROM indicator_values"
        ).df()
        functions = con.sql("SELECT indicator_id, function FROM indicators").df()
        areas = con.sql(
            "SELECT a.area_id, a.level, a.parent_id, a.vintage, a.valid_from, a.valid_to, l.rank "
            "FROM areas a JOIN levels l USING (level)"
        ).df()
        raw = _raw_tables(con)
        draws = con.sql(
            "SELECT indicator_id, ref_date, area_id, level, draw, value FROM random_allocation"
        ).df()
    published = dict(zip(functions.indicator_id, functions.function, strict=True))
    linear, shown = set(terms.indicator_id), set(values.indicator_id.unique())
    recomputed = {i for i, f in published.items() if f in UNIT_INDICES}
    uncovered = {i: f for i, f in published.items() if i not in linear | recomputed and i in shown}
    values["ref_date"] = pd.to_datetime(values["ref_date"])
    indices = values[values.indicator_id.isin(recomputed)]
    units = values.merge(unit_index_terms(catalogue), on="indicator_id", how="inner")
    units = units[units.numerator.notna() | units.denominator.notna()]
    values = values.merge(terms, on="indicator_id", how="inner")
    return Publication(values, units, indices, draws, areas, uncovered, raw)


RAW_TABLES = ("population", "area_counts", "observations")  # counts without protection


def _raw_tables(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Non-empty tables of raw counts in the publication (the audit does not model them:
    whatever they hold is published unprotected)."""
    present = {r[0] for r in con.sql("SHOW TABLES").fetchall()}
    rows = {
        t: con.sql(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in RAW_TABLES if t in present
    }
    return {t: n for t, n in rows.items() if n}


def read_truth(path: Path, catalogue: Catalogue) -> dict[tuple, float]:
    """True counts {(ref_date, term, area_id): value} of the internal file: numerators and
    denominators of its indicator_values; where a cell is missing there (e.g. an internal
    file that still withholds cells) and the file has ``area_counts``, the finest-level
    counts summed over ``area_closure`` for the vintage valid at the date."""
    terms = indicator_terms(catalogue)
    with warehouse.connect(path, read_only=True) as con:
        con.register("terms", terms)
        cells = con.sql(
            "SELECT ref_date, num_term AS term, area_id, numerator AS v FROM indicator_values "
            "JOIN terms USING (indicator_id) WHERE numerator IS NOT NULL "
            "UNION SELECT ref_date, den_term, area_id, denominator FROM indicator_values "
            "JOIN terms USING (indicator_id) WHERE denominator IS NOT NULL "
            "AND den_term IS NOT NULL"
        ).df()
        tables = {r[0] for r in con.sql("SHOW TABLES").fetchall()}
        summed = con.sql(_SUMMED_COUNTS).df() if "area_counts" in tables else cells.iloc[:0]
    truth: dict[tuple, float] = {}
    for frame in (summed, cells):  # indicator_values win
        dates = pd.to_datetime(frame.ref_date).tolist()
        keys = zip(dates, frame.term.tolist(), frame.area_id.tolist(), strict=True)
        truth.update(zip(keys, frame.v.astype(float).tolist(), strict=True))
    return truth


_SUMMED_COUNTS = """
SELECT c.ref_date, c.term, cl.area_id, sum(c.value) AS v
FROM area_counts c
JOIN area_closure cl ON cl.member_id = c.area_id
JOIN areas a ON a.area_id = cl.area_id AND a.vintage = cl.vintage
 AND a.valid_from <= c.ref_date AND (a.valid_to IS NULL OR c.ref_date <= a.valid_to)
WHERE c.value IS NOT NULL
GROUP BY ALL
"""


def unit_index_functions() -> tuple[str, ...]:
    """Functions whose published values are non-linear in the counts."""
    return UNIT_INDICES
