"""Indicator engine: ``area_counts`` -> ``indicator_values``.

1. ``area_counts`` holds every "term" (a group, a measure or their intersection, e.g.
   ``foreigners&under_18``) per finest area and date. Register instances fill it from
   ``population`` in one pass (:func:`register_counts`); table instances from their
   statistics-office tables (:mod:`etl.transform.counts`).
2. ``term_counts`` sums the additive terms over the area closure for every level at once;
   non-additive measures (published rates) are taken where published.
3. Each function in :mod:`etl.indicators.functions` is one set-based statement over all
   indicators that use it. Indicators whose terms the instance lacks are skipped (and
   reported), not filled with zeros.
"""

from __future__ import annotations

import re

import duckdb

from etl.indicators import segregation
from etl.indicators.functions import REGISTRY
from etl.indicators.spec import Catalogue, Indicator, term_key, term_name
from etl.profile import Profile

FILTERABLE = re.compile(r"^[a-z_]+$")

REGISTER_COUNTS_SQL = """
INSERT INTO area_counts
WITH dates AS (
    SELECT DISTINCT ref_date FROM population
),

units AS (
    -- every finest area valid on each date: an area without residents counts 0
    SELECT d.ref_date, v.area_id
    FROM dates AS d
    INNER JOIN areas AS v
        ON v.level = $finest
       AND d.ref_date BETWEEN v.valid_from AND coalesce(v.valid_to, DATE '9999-12-31')
),

wide AS (
    SELECT u.ref_date, u.area_id, {sums}
    FROM units AS u
    LEFT JOIN population AS p ON p.ref_date = u.ref_date AND p.area_id = u.area_id
    GROUP BY ALL
)

SELECT ref_date, area_id, term, n, NULL, 'register', key_sum
FROM (UNPIVOT wide ON {columns} INTO NAME term VALUE n, key_sum)
"""

TERM_COUNTS_SQL = """
CREATE OR REPLACE TEMP TABLE term_counts AS
WITH members AS (
    -- finest areas valid on each date, with themselves and all their ancestors
    SELECT d.ref_date, c.member_id, c.area_id, c.level, c.vintage
    FROM (SELECT DISTINCT ref_date FROM area_counts) AS d
    INNER JOIN areas AS v
        ON v.level = $finest
       AND d.ref_date BETWEEN v.valid_from AND coalesce(v.valid_to, DATE '9999-12-31')
    INNER JOIN area_closure AS c ON c.member_id = v.area_id AND c.vintage = v.vintage
),

present AS (
    SELECT DISTINCT k.ref_date, k.term
    FROM area_counts AS k INNER JOIN terms AS t ON t.term = k.term AND t.additive
),

additive AS (
    -- sums over the finest areas; a flagged member makes the sum unknown (flag kept);
    -- key_sum (cell-key method) only where every member row has one (register data)
    SELECT m.ref_date, m.area_id, m.level, m.vintage, p.term,
           CASE WHEN count(k.flag) = 0 THEN coalesce(sum(k.value), 0) END AS n,
           min(k.flag) AS flag,
           CAST(CASE WHEN count(k.key_sum) IN (count(k.term), 0) THEN sum(k.key_sum) END
                AS UBIGINT) AS key_sum
    FROM members AS m
    INNER JOIN present AS p ON p.ref_date = m.ref_date
    LEFT JOIN area_counts AS k
        ON k.ref_date = m.ref_date AND k.area_id = m.member_id AND k.term = p.term
    GROUP BY ALL
),

published AS (
    -- non-additive measures (rates): only where the source publishes them
    SELECT k.ref_date, k.area_id, a.level, a.vintage, k.term, k.value AS n, k.flag, k.key_sum
    FROM area_counts AS k
    INNER JOIN terms AS t ON t.term = k.term AND NOT t.additive
    INNER JOIN areas AS a
        ON a.area_id = k.area_id
       AND k.ref_date BETWEEN a.valid_from AND coalesce(a.valid_to, DATE '9999-12-31')
)

SELECT * FROM additive
UNION ALL
SELECT * FROM published
"""

UNIT_ROOTS_SQL = """
CREATE OR REPLACE TEMP TABLE unit_roots AS
SELECT DISTINCT c1.area_id AS unit_id, c2.area_id AS root_id, c1.vintage
FROM area_closure AS c1
INNER JOIN area_closure AS c2
    ON c2.member_id = c1.member_id AND c2.vintage = c1.vintage AND c2.level = $root
"""


def register_counts(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, profile: Profile) -> None:
    """Count every term the indicators need from ``population`` into ``area_counts``
    (finest areas, every reference date of the register), in one pass; with each count
    the sum of its persons' record keys (``key_sum``, the cell-key method)."""
    keys = sorted({term_key(ref) for ind in catalogue.indicators for ref in ind.terms().values()})
    keys = [key for key in keys if catalogue.from_population(key)]
    if not keys or not con.execute("SELECT count(*) FROM population").fetchall()[0][0]:
        return
    params: dict[str, object] = {"finest": profile.level_ids()[-1]}
    sums, pairs = [], []
    for key in keys:
        condition, name = _condition(catalogue, key, params), term_name(key)
        sums.append(f'coalesce(sum(count) FILTER (WHERE {condition}), 0) AS "{name}"')
        sums.append(f'coalesce(sum(key_sum) FILTER (WHERE {condition}), 0) AS "{name}#key"')
        pairs.append(f'("{name}", "{name}#key") AS "{name}"')
    con.execute(REGISTER_COUNTS_SQL.format(sums=", ".join(sums), columns=", ".join(pairs)), params)


def compute(
    con: duckdb.DuckDBPyConnection, catalogue: Catalogue, profile: Profile
) -> tuple[list[str], list[str]]:
    """Fill ``indicator_values`` for every indicator whose terms are all in ``area_counts``.

    Returns (computed indicator ids, messages on the indicators skipped for lack of data).
    """
    present = {r[0] for r in con.execute("SELECT DISTINCT term FROM area_counts").fetchall()}
    present |= {t for t, parts in catalogue.balances().items() if set(parts) <= present}
    computed, skipped = [], []
    for ind in catalogue.indicators:
        missing = [
            term_name(term_key(ref))
            for ref in ind.terms().values()
            if term_name(term_key(ref)) not in present
        ]
        if missing:
            skipped.append(f"{ind.id}: no data for {', '.join(sorted(set(missing)))}")
        else:
            computed.append(ind)
    _terms(con, catalogue, computed)
    con.execute(TERM_COUNTS_SQL, {"finest": profile.level_ids()[-1]})
    add_balances(con)
    con.execute(UNIT_ROOTS_SQL, {"root": profile.level_ids()[0]})
    number_units(con)
    # the internal values are unprotected (min denominator and min count 1); the published
    # ones are computed from protected counts with the profile's rules (etl/publication.py)
    evaluate(con, computed, 1, 1)
    return [ind.id for ind in computed], skipped


def evaluate(
    con: duckdb.DuckDBPyConnection, indicators: list, min_denominator: int, min_count: int
) -> None:
    """Insert the values of ``indicators`` into ``indicator_values`` from the TEMP tables
    ``term_counts``, ``unit_roots`` and ``unit_counts`` (:func:`number_units`): one
    statement per function (table in, table out)."""
    write_indicator_terms(con, [term_row(ind) for ind in indicators])
    run_functions(
        con,
        {ind.function for ind in indicators},
        "indicator_values",
        {"min_denominator": min_denominator, "min_count": min_count},
    )


def run_functions(
    con: duckdb.DuckDBPyConnection,
    functions: set[str],
    target: str,
    params: dict[str, object] | None = None,
) -> None:
    """Run the statement of each function over the rows of ``indicator_terms`` into the
    table ``target`` (the columns of ``indicator_values``). The index functions are one
    statement, over units gathered once (:func:`segregation.evaluate`)."""
    con.execute(BALANCE_TERMS)  # none unless the engine wrote them (tests call this alone)
    indices = sorted(set(functions) & set(segregation.INDEX_VALUES))
    if indices:
        segregation.evaluate(con, indices, target)
    for function in sorted(set(functions) - set(indices)):
        sql = REGISTRY[function]
        given = {**(params or {}), "function": function}
        con.execute(
            f"INSERT INTO {target} {sql}", {k: v for k, v in given.items() if f"${k}" in sql}
        )


def number_units(con: duckdb.DuckDBPyConnection) -> None:
    """``unit_terms``, ``unit_counts`` and ``unit_parts`` from ``term_counts`` and
    ``unit_roots``: the units below each top-level area, numbered, each with its counts of
    every term in one list, for the index functions."""
    for statement in segregation.UNIT_COUNTS_SQL:
        con.execute(statement)


def _terms(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, indicators: list) -> None:
    """``terms(term, additive)``: the terms to count (a balance's components in its place);
    ``balance_terms(term, plus_term, minus_term)``: the balances among them."""
    keys = {term_key(ref) for ind in indicators for ref in ind.terms().values()}
    balances = {key: catalogue.balance(key) for key in keys if catalogue.balance(key)}
    counted = (keys - set(balances)) | {part for parts in balances.values() for part in parts}
    con.execute("CREATE OR REPLACE TEMP TABLE terms (term VARCHAR, additive BOOLEAN)")
    con.executemany(
        "INSERT INTO terms VALUES (?, ?)",
        [(term_name(key), catalogue.additive(key)) for key in sorted(counted)],
    )
    con.execute("DROP TABLE IF EXISTS balance_terms")
    con.execute(BALANCE_TERMS)
    rows = [(term_name(k), term_name(p), term_name(m)) for k, (p, m) in sorted(balances.items())]
    if rows:
        con.executemany("INSERT INTO balance_terms VALUES (?, ?, ?)", rows)


BALANCE_TERMS = (
    "CREATE TEMP TABLE IF NOT EXISTS balance_terms "
    "(term VARCHAR, plus_term VARCHAR, minus_term VARCHAR)"
)
BALANCES_SQL = """
-- a balance = plus - minus of its components' counts in ``term_counts`` (as they stand:
-- true counts in the warehouse, protected ones in the publication); withheld (flag kept)
-- where either component is
INSERT INTO term_counts BY NAME
SELECT p.ref_date, p.area_id, p.level, p.vintage, b.term, p.n - m.n AS n,
       coalesce(p.flag, m.flag) AS flag
FROM balance_terms AS b
INNER JOIN term_counts AS p ON p.term = b.plus_term
INNER JOIN term_counts AS m
    ON m.term = b.minus_term AND m.ref_date = p.ref_date AND m.area_id = p.area_id
   AND m.level = p.level
"""


def add_balances(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)compute the rows of the balance terms in ``term_counts`` from their components."""
    con.execute("DELETE FROM term_counts WHERE term IN (SELECT term FROM balance_terms)")
    con.execute(BALANCES_SQL)


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


INDICATOR_TERMS = (
    ("ind", "BIGINT"),
    ("problem", "BIGINT"),
    ("indicator_id", "VARCHAR"),
    ("function", "VARCHAR"),
    ("num_term", "VARCHAR"),
    ("den_term", "VARCHAR"),
    ("other_term", "VARCHAR"),
    ("res_term", "VARCHAR"),
    ("min_units", "DOUBLE"),
    ("top_share", "DOUBLE"),
    ("scale", "DOUBLE"),
    ("definition_id", "VARCHAR"),
)
PROBLEM = slice(2, 7)  # of a term_row: num_term, den_term, other_term, res_term, min_units


def write_indicator_terms(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    """(Re)create the TEMP table ``indicator_terms`` from rows of :func:`term_row`, in one
    statement from a list per column (``executemany`` takes about a millisecond per row);
    ``ind`` numbers the indicators 1, 2, ... in the order of their ids; ``problem`` numbers
    their allocation problems (indicators with the same terms and minimum unit size share
    one: the index functions gather its units once)."""
    by_id = sorted(rows, key=lambda row: row[0])
    problems: dict[tuple, int] = {}
    numbered = [
        (ind, problems.setdefault(row[PROBLEM], len(problems) + 1), *row)
        for ind, row in enumerate(by_id, start=1)
    ]
    columns = list(zip(*numbered, strict=True)) or [()] * len(INDICATOR_TERMS)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE indicator_terms AS SELECT "
        + ", ".join(
            f"unnest(${i}::{kind}[]) AS {name}"
            for i, (name, kind) in enumerate(INDICATOR_TERMS, start=1)
        ),
        [list(column) for column in columns],
    )


def term_row(ind: Indicator) -> tuple:
    """Terms by role: numerator (``of``, ``numerator``, ``group``), denominator
    (``denominator``, ``total``), comparison group (``other``), unit size (``residents``)."""
    names = {role: term_name(term_key(ref)) for role, ref in ind.terms().items()}
    numerator = names.get("of") or names.get("numerator") or names["group"]
    denominator = names.get("denominator") or names.get("total")
    return (
        ind.id,
        ind.function,
        numerator,
        denominator,
        names.get("other"),
        names.get("residents"),
        getattr(ind, "min_unit_population", None),
        getattr(ind, "top_share", None),
        ind.scale,
        ind.definition_id,
    )
