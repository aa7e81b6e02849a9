"""Indicator engine: indicators.yaml -> ``indicators`` catalogue + ``indicator_values``.

1. Every distinct group intersection ("term") used by an indicator becomes one filtered
   sum, computed for all areas, levels and dates in a single pass over ``population``.
2. Each function in :mod:`etl.indicators.functions` is one set-based statement over all
   indicators that use it.
"""

from __future__ import annotations

import re

import duckdb

from etl.indicators.functions import REGISTRY
from etl.indicators.spec import Catalogue, GroupRef, term_key
from etl.profile import Profile

FILTERABLE = re.compile(r"^[a-z_]+$")

TERM_COUNTS_SQL = """
CREATE OR REPLACE TEMP TABLE term_counts AS
WITH dates AS (
    SELECT DISTINCT ref_date FROM population
),

members AS (
    -- finest areas valid on each date, with themselves and all their ancestors
    SELECT d.ref_date, c.member_id, c.area_id, c.level, c.vintage
    FROM dates AS d
    INNER JOIN areas AS v
        ON v.level = $finest
       AND d.ref_date BETWEEN v.valid_from AND coalesce(v.valid_to, DATE '9999-12-31')
    INNER JOIN area_closure AS c ON c.member_id = v.area_id AND c.vintage = v.vintage
),

pop AS (
    SELECT m.ref_date, m.area_id AS agg_area, m.level AS agg_level, m.vintage,
           p.* EXCLUDE (ref_date, area_id)
    FROM members AS m
    LEFT JOIN population AS p ON p.ref_date = m.ref_date AND p.area_id = m.member_id
),

wide AS (
    SELECT ref_date, agg_area AS area_id, agg_level AS level, vintage, {sums}
    FROM pop
    GROUP BY ALL
)

UNPIVOT wide ON {terms} INTO NAME term VALUE n
"""

UNIT_ROOTS_SQL = """
CREATE OR REPLACE TEMP TABLE unit_roots AS
SELECT DISTINCT c1.area_id AS unit_id, c2.area_id AS root_id, c1.vintage
FROM area_closure AS c1
INNER JOIN area_closure AS c2
    ON c2.member_id = c1.member_id AND c2.vintage = c1.vintage AND c2.level = $root
"""


def compute(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, profile: Profile) -> int:
    """Fill ``indicators`` and ``indicator_values``; return the number of values written."""
    terms = _term_ids(catalogue)
    _term_counts(con, catalogue, terms, profile.level_ids()[-1])
    con.execute(UNIT_ROOTS_SQL, {"root": profile.level_ids()[0]})
    _indicator_terms(con, catalogue, terms)
    params = {"min_denominator": profile.disclosure.min_denominator,
              "min_count": profile.disclosure.min_count}
    for function in sorted({ind.function for ind in catalogue.indicators}):
        sql = REGISTRY[function]
        used = {k: v for k, v in {**params, "function": function}.items() if f"${k}" in sql}
        con.execute(f"INSERT INTO indicator_values {sql}", used)
    return con.execute("SELECT count(*) FROM indicator_values").fetchall()[0][0]


def _term_ids(catalogue: Catalogue) -> dict[tuple[str, ...], str]:
    keys = sorted({term_key(ref) for ind in catalogue.indicators for ref in ind.terms().values()})
    return {key: f"t{i}" for i, key in enumerate(keys)}


def _term_counts(con: duckdb.DuckDBPyConnection, catalogue: Catalogue,
                 terms: dict[tuple[str, ...], str], finest: str) -> None:
    sums, params = [], {"finest": finest}
    for key, term in terms.items():
        condition = _condition(catalogue, key, params)
        sums.append(f"coalesce(sum(count) FILTER (WHERE {condition}), 0) AS {term}")
    sql = TERM_COUNTS_SQL.format(sums=", ".join(sums), terms=", ".join(terms.values()))
    con.execute(sql, params)


def _condition(catalogue: Catalogue, key: tuple[str, ...], params: dict[str, object]) -> str:
    """SQL condition selecting the intersection of groups; values are added to ``params``."""
    parts = ["count IS NOT NULL"]
    for group in key:
        for column, values in catalogue.groups[group].items():
            if not FILTERABLE.match(column):  # validated already; belt and braces for SQL
                raise ValueError(f"invalid column name {column!r}")
            names = []
            for value in [values] if isinstance(values, str) else values:
                names.append(f"$v{len(params)}")
                params[names[-1][1:]] = value
            parts.append(f"{column} IN ({', '.join(names)})")
    return " AND ".join(parts)


def _indicator_terms(con: duckdb.DuckDBPyConnection, catalogue: Catalogue,
                     terms: dict[tuple[str, ...], str]) -> None:
    rows = [_term_row(ind, terms) for ind in catalogue.indicators]
    con.execute("CREATE OR REPLACE TEMP TABLE indicator_terms (indicator_id VARCHAR, "
                "function VARCHAR, num_term VARCHAR, den_term VARCHAR, scale DOUBLE, "
                "definition_id VARCHAR)")
    con.executemany("INSERT INTO indicator_terms VALUES (?, ?, ?, ?, ?, ?)", rows)


def _term_row(ind, terms: dict[tuple[str, ...], str]) -> tuple:
    refs: list[GroupRef] = list(ind.terms().values())
    numerator = terms[term_key(refs[0])]
    denominator = terms[term_key(refs[1])] if len(refs) > 1 else None
    return (ind.id, ind.function, numerator, denominator, ind.scale, ind.definition_id)
