"""Protect and publish: the unprotected warehouse -> the publication (protected values only).

A snapshot holds two files (:mod:`etl.warehouse`):

* ``internal/warehouse.duckdb`` — the statistics office's warehouse: person
  cross-classification (``population``), ``area_counts``, unprotected ``indicator_values``.
  Folder mode 0700, file mode 0600; never opened by the dashboard, ``imon values`` or
  ``imon export``.
* ``publication.duckdb`` — what may leave the system: areas, geometry, the catalogue and
  the *protected* indicator values. Everything public reads this file only.

Protection works on the counts, not on the values: every count the indicators publish
(count indicators, numerators, denominators, at every level) is one cell of the engine's
``term_counts``. The profile's method (:class:`etl.profile.Disclosure`) turns them into
``protected_counts`` — cell suppression with secondary suppression over the linked tables
(:mod:`etl.protect.suppression`) or the cell-key method (:mod:`etl.protect.cellkey`) — and
the same indicator functions then compute the published values from the protected counts,
so a cell is withheld (or perturbed) identically wherever it appears.

The unit indices (segregation, dissimilarity, …) and the random-allocation draws are
non-linear in the counts. They are computed from the *published* counts only, so they cannot
reveal more than those do (:func:`public_units`):

* ``cell_key``: from the perturbed counts.
* ``suppression``: a unit with a withheld count would make an index 'incomplete', so the
  units with a withheld count of a term the indices use are pooled into one remainder unit
  per top-level area, date and level, whose counts are the area's published count minus the
  units kept — what anyone can work out by subtraction. Such an index can differ slightly
  from the index over all units (the internal warehouse keeps that one); ``n_units`` counts
  the remainder as one unit.

Indices are published rounded to :data:`INDEX_DECIMALS` decimals (as German city statistics
publish them, e.g. 0.37), the draws likewise. The attack audit recomputes every published
index from the published counts alone (:mod:`etl.audit.indices`): a value it cannot
reproduce would carry information beyond them, and stops the build.

Afterwards the attack audit, independent of the protection code, computes the feasible
interval of every protected cell from everything published; one interval narrower than
its protection interval stops the build (:class:`AuditError`) and nothing is published.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from etl import audit as attack
from etl import crosswalk, warehouse
from etl.errors import ImonError
from etl.indicators import engine, random_allocation, segregation
from etl.indicators.spec import Catalogue, load_catalogue, term_key, term_name
from etl.profile import Profile
from etl.protect import cellkey, relations, suppression

INDEX_DECIMALS = 3
# tables of the warehouse that are public as they are (no counts of persons in them)
PUBLIC_TABLES = ("meta", "levels", "areas", "area_closure", "area_geometry", "indicators", "loads")
INDEX_FUNCTIONS = tuple(segregation.INDEX_VALUES)


class AuditError(ImonError):
    """The attack audit found a protected cell whose feasible interval is too narrow."""


@dataclass
class Protection:
    """What the protect stage did, for the build's output and ``BENCHMARKS.md``."""

    method: str
    cells: int = 0
    withheld: int = 0  # suppressed (suppression) or changed (cell key)


def protect(
    con: duckdb.DuckDBPyConnection, catalogue: Catalogue, profile: Profile, indicators: list
) -> Protection:
    """Turn the engine's ``term_counts`` into protected counts and compute the published
    values from them into the TEMP table ``published_values`` (columns of
    indicator_values; the internal warehouse keeps only the unprotected values).

    Runs after :func:`etl.indicators.engine.compute` (which leaves ``term_counts``,
    ``terms``, ``indicator_terms`` and ``unit_roots`` as TEMP tables)."""
    rules = profile.disclosure
    engine.write_indicator_terms(con, [engine.term_row(ind) for ind in indicators])
    # a balance is no cell: its components are protected, and it is their difference
    con.execute("DELETE FROM term_counts WHERE term IN (SELECT term FROM balance_terms)")
    _protected_counts(con, catalogue, profile)
    summary = _summary(con, rules.method)
    if rules.rounding:
        con.execute(ROUNDING_SQL, {"base": rules.rounding})
    con.execute("ALTER TABLE term_counts RENAME TO true_term_counts")
    con.execute("ALTER TABLE protected_counts RENAME TO term_counts")
    engine.add_balances(con)
    con.execute("CREATE OR REPLACE TEMP TABLE published_values AS FROM indicator_values LIMIT 0")
    con.execute(f"CREATE OR REPLACE TEMP TABLE index_terms AS {INDEX_TERMS_SQL}")
    linear = [i for i in indicators if i.function not in INDEX_FUNCTIONS]
    engine.write_indicator_terms(con, [engine.term_row(ind) for ind in linear])
    engine.run_functions(
        con,
        {ind.function for ind in linear},
        "published_values",
        {"min_denominator": rules.min_denominator, "min_count": rules.min_count},
    )
    indices = [i for i in indicators if i.function in INDEX_FUNCTIONS]
    with public_units(con, catalogue):
        engine.number_units(con)
        engine.write_indicator_terms(con, [engine.term_row(ind) for ind in indices])
        engine.run_functions(con, {ind.function for ind in indices}, "published_values")
        random_allocation.simulate(con, indices, catalogue.random_allocation)
        if rules.method == "cell_key":
            con.execute(POOLED_MARGINS_SQL)
    if rules.method == "suppression":
        con.execute(INDEX_MARGINS_SQL)
    con.execute(
        f"UPDATE published_values SET value = round(value, {INDEX_DECIMALS}) "
        "WHERE indicator_id IN (SELECT indicator_id FROM index_terms)"
    )
    return summary


@contextmanager
def public_units(con: duckdb.DuckDBPyConnection, catalogue: Catalogue) -> Iterator[None]:
    """Within the block, ``term_counts`` and ``unit_roots`` hold the units the indices and
    the random allocation may use: the published counts (a term of the indices that no
    value publishes, e.g. germans, as the sum or difference of published terms, the way
    anyone can derive it), with every unit that has a withheld count of a term of the
    indices pooled into one remainder unit per top-level area, date and level (module
    doc). Afterwards the tables are as before. Runs while ``indicator_terms`` holds the
    linear indicators (whose terms are the published ones)."""
    con.execute("ALTER TABLE term_counts RENAME TO published_counts")
    con.execute("ALTER TABLE unit_roots RENAME TO published_roots")
    try:
        con.execute(SHOWN_COUNTS_SQL)
        _public_counts(con, catalogue)
        for statement in POOLED_UNITS_SQL:
            con.execute(statement)
        yield
    finally:
        tables = ("term_counts", "unit_roots", "pooled_units", "public_counts", "shown_counts")
        for table in tables:
            con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute("ALTER TABLE published_counts RENAME TO term_counts")
        con.execute("ALTER TABLE published_roots RENAME TO unit_roots")


def _public_counts(con: duckdb.DuckDBPyConnection, catalogue: Catalogue) -> None:
    """``public_counts``: the published counts; an index term no value publishes replaced
    by a partition of the catalogue (``total = germans + foreigners``) whose other terms
    are published — withheld where one of them is. A term with no such partition stays
    as it is (the audit then reports the indices using it)."""
    published = {r[0] for r in con.execute(PUBLISHED_TERMS_SQL).fetchall()}
    needed = {r[0] for r in con.execute(INDEX_INPUTS_SQL).fetchall()}
    combos = {}
    for term in sorted(needed - published):
        found = relations.term_relations(catalogue, sorted(published | {term})).partitions
        candidates = [
            {part: 1 for part in parts}
            if outer == term
            else {outer: 1, **{part: -1 for part in parts if part != term}}
            for outer, parts in found
            if (outer == term and set(parts) <= published)
            or (term in parts and outer in published and set(parts) - {term} <= published)
        ]
        if candidates:  # the simplest (fewest terms, then by name), as the audit derives it
            combos[term] = min(candidates, key=lambda c: (len(c), sorted(c.items())))
    derived = []
    for term, combo in combos.items():
        signs = " ".join(f"WHEN '{t}' THEN {sign}" for t, sign in combo.items())
        listed = ", ".join(f"'{t}'" for t in combo)
        derived.append(
            f"""
            SELECT ref_date, area_id, level, vintage, '{term}' AS term,
                   CASE WHEN count(n) = {len(combo)} THEN sum(n * CASE term {signs} END) END
                       AS n,
                   CASE WHEN count(n) < {len(combo)} THEN 'suppressed' END AS flag
            FROM shown_counts WHERE term IN ({listed})
            GROUP BY ALL
            """
        )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE public_counts AS "
        "SELECT * FROM shown_counts WHERE NOT list_contains($replaced, term)"
        + "".join(f" UNION ALL BY NAME ({sql})" for sql in derived),
        {"replaced": list(combos)},
    )


PUBLISHED_TERMS_SQL = """
SELECT num_term FROM indicator_terms UNION SELECT den_term FROM indicator_terms
WHERE den_term IS NOT NULL
"""
INDEX_INPUTS_SQL = """
SELECT DISTINCT t FROM (SELECT unnest([num_term, total_term, other_term, res_term]) AS t
FROM index_terms) WHERE t IS NOT NULL
"""


# The protected counts as the published values show them: a count of a published term that
# no published value shows (e.g. numerator and denominator of a share withheld under the
# min_denominator rule) is withheld as a suppressed one is, so the indices pool its unit
# instead of using it; the numerator of a share whose published denominator is 0 is 0. As
# the audit reads the publication (etl/audit/indices.py: _public_cells).
SHOWN_COUNTS_SQL = f"""
CREATE OR REPLACE TEMP TABLE shown_counts AS
WITH pairs AS (
    SELECT v.ref_date, v.area_id, t.function, t.num_term, t.den_term, v.numerator,
           v.denominator
    FROM published_values AS v INNER JOIN indicator_terms AS t USING (indicator_id)
),
shown AS (
    SELECT ref_date, area_id, num_term AS term FROM pairs WHERE numerator IS NOT NULL
    UNION
    SELECT ref_date, area_id, den_term FROM pairs
    WHERE den_term IS NOT NULL AND denominator IS NOT NULL
),
empty AS (
    SELECT DISTINCT ref_date, area_id, num_term AS term FROM pairs
    WHERE function = 'share' AND denominator = 0 AND numerator IS NULL
),
marked AS (
    SELECT k.*, s.term IS NOT NULL AS is_shown, e.term IS NOT NULL AS is_empty,
           k.term IN ({PUBLISHED_TERMS_SQL}) AS is_published
    FROM published_counts AS k
    LEFT JOIN shown AS s ON s.ref_date = k.ref_date AND s.area_id = k.area_id
        AND s.term = k.term
    LEFT JOIN empty AS e ON e.ref_date = k.ref_date AND e.area_id = k.area_id
        AND e.term = k.term
)
SELECT * EXCLUDE (is_shown, is_empty, is_published) REPLACE (
    CASE WHEN is_shown OR NOT is_published THEN n WHEN is_empty THEN 0 END AS n,
    CASE WHEN is_shown OR NOT is_published THEN flag WHEN is_empty THEN NULL
         ELSE coalesce(flag, 'suppressed') END AS flag
)
FROM marked
"""


POOLED_UNITS_SQL = (
    f"""
    -- the units (below their top-level area) with a withheld count of a term of the indices
    CREATE OR REPLACE TEMP TABLE pooled_units AS
    SELECT DISTINCT k.ref_date, k.area_id, k.level, k.vintage, r.root_id,
           r.root_id || '~' || k.level AS pool_id
    FROM public_counts AS k
    INNER JOIN published_roots AS r ON r.unit_id = k.area_id AND r.vintage = k.vintage
    WHERE k.flag = 'suppressed' AND k.area_id <> r.root_id
      AND k.term IN ({INDEX_INPUTS_SQL})
    """,
    """
    CREATE OR REPLACE TEMP TABLE unit_roots AS
    FROM published_roots
    UNION ALL BY NAME
    SELECT DISTINCT pool_id AS unit_id, root_id, vintage FROM pooled_units
    """,
    """
    -- the counts of the units kept, and per remainder unit the top-level area's published
    -- count minus the units kept (withheld when the area's count is)
    CREATE OR REPLACE TEMP TABLE term_counts AS
    WITH kept AS (
        SELECT k.* FROM public_counts AS k
        ANTI JOIN pooled_units AS p USING (ref_date, area_id, level, vintage)
    ),
    pools AS (SELECT DISTINCT ref_date, level, vintage, root_id, pool_id FROM pooled_units),
    kept_sums AS (
        SELECT k.ref_date, k.level, r.root_id, k.term, sum(k.n) AS n
        FROM kept AS k
        INNER JOIN published_roots AS r ON r.unit_id = k.area_id AND r.vintage = k.vintage
        WHERE k.area_id <> r.root_id
        GROUP BY ALL
    )
    FROM kept
    UNION ALL BY NAME
    SELECT p.ref_date, p.pool_id AS area_id, p.level, p.vintage, a.term,
           a.n - coalesce(s.n, 0) AS n,
           CASE WHEN a.n IS NULL THEN coalesce(a.flag, 'suppressed') END AS flag
    FROM pools AS p
    INNER JOIN public_counts AS a ON a.ref_date = p.ref_date AND a.area_id = p.root_id
    LEFT JOIN kept_sums AS s
        ON s.ref_date = p.ref_date AND s.level = p.level AND s.root_id = p.root_id
       AND s.term = a.term
    """,
)


# rounding to a base (half up): every count left after suppression, not the rates a source
# publishes as they are (non-additive terms)
ROUNDING_SQL = """
UPDATE protected_counts SET n = floor(n / $base + 0.5) * $base
WHERE n IS NOT NULL AND term IN (SELECT term FROM terms WHERE additive)
"""


INDEX_TERMS_SQL = f"""
SELECT indicator_id, num_term, coalesce(res_term, den_term, 'total') AS den_term, min_units,
       coalesce(den_term, 'total') AS total_term, other_term, res_term
FROM indicator_terms WHERE function IN ({", ".join(f"'{f}'" for f in INDEX_FUNCTIONS)})
"""

# Suppression: an index's numerator and denominator are the group and the reference
# population of the whole area, the same protected cells every other indicator publishes for
# that area. With a minimum unit size they are sums over the units used, which would publish
# the sum of the small units left out: none then. (Cell key: the sums of the perturbed unit
# counts, as the index functions computed them; they say nothing the perturbed counts do not.)
INDEX_MARGINS_SQL = """
UPDATE published_values AS v
SET numerator = CASE WHEN d.min_units IS NULL THEN x.n END,
    denominator = CASE WHEN d.min_units IS NULL THEN t.n END
FROM index_terms AS d, term_counts AS x, term_counts AS t
WHERE d.indicator_id = v.indicator_id
  AND x.term = d.num_term AND x.ref_date = v.ref_date AND x.area_id = v.area_id
  AND t.term = d.den_term AND t.ref_date = v.ref_date AND t.area_id = v.area_id
"""


# Cell key: an index's numerator and denominator are the sums of the perturbed unit counts
# (nothing the perturbed counts do not say) — but where units were pooled, the remainder
# makes them the top-level area's published count, which the sums over the units do not
# explain; none then (the area's counts are published with the other indicators).
POOLED_MARGINS_SQL = """
UPDATE published_values AS v SET numerator = NULL, denominator = NULL
FROM (SELECT DISTINCT ref_date, level, root_id FROM pooled_units) AS p
WHERE v.indicator_id IN (SELECT indicator_id FROM index_terms)
  AND v.ref_date = p.ref_date AND v.level = p.level AND v.area_id = p.root_id
"""

# Cell key with min_denominator: the numerator of a share or ratio whose *true* denominator
# lies in 1 … min_denominator − 1 is withheld as a count, so wherever it appears (as cell
# suppression withholds it, etl/protect/suppression.py) — withholding only the rate would
# still publish the count perturbed through another indicator, within ±D of a value that
# may need more protection, and the rate functions see only the perturbed denominator.
CELL_KEY_MIN_DENOMINATOR_SQL = """
UPDATE protected_counts AS p SET n = NULL, flag = 'suppressed'
FROM (
    SELECT DISTINCT x.ref_date, x.area_id, x.term
    FROM indicator_terms AS i
    INNER JOIN term_counts AS x ON x.term = i.num_term
    INNER JOIN term_counts AS t
        ON t.term = i.den_term AND t.ref_date = x.ref_date AND t.area_id = x.area_id
    WHERE i.function IN ('share', 'ratio') AND t.n > 0 AND t.n < $min
) AS s
WHERE p.ref_date = s.ref_date AND p.area_id = s.area_id AND p.term = s.term
  AND p.n IS NOT NULL
"""


def _protected_counts(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, profile: Profile):
    rules = profile.disclosure
    if rules.method == "cell_key":
        cellkey.perturb(con, rules.cell_key)
        if rules.min_denominator:
            con.execute(CELL_KEY_MIN_DENOMINATOR_SQL, {"min": rules.min_denominator})
    else:
        suppression.suppress(con, catalogue, rules, profile.level_ids())


def _summary(con: duckdb.DuckDBPyConnection, method: str) -> Protection:
    """Count cells and how many of them the method withheld or changed (the share per
    level is the audit's information loss)."""
    cells, changed = con.execute(
        """
        SELECT count(*), count(*) FILTER (WHERE p.n IS DISTINCT FROM t.n)
        FROM protected_counts AS p
        INNER JOIN term_counts AS t USING (ref_date, area_id, level, term)
        INNER JOIN terms AS k ON k.term = p.term AND k.additive
        WHERE t.flag IS NULL
        """
    ).fetchall()[0]
    return Protection(method, cells, changed)


def write_publication(
    con: duckdb.DuckDBPyConnection, path: Path, protection: Protection, profile: Profile
) -> None:
    """Write the publication file from the internal warehouse ``con``: the public tables,
    the protected values and the random-allocation draws rounded like the indices."""
    con.execute(f"ATTACH '{_sql_path(path)}' AS pub")
    try:
        for table in PUBLIC_TABLES:
            con.execute(f"CREATE TABLE pub.{table} AS FROM main.{table}")
        con.execute("CREATE TABLE pub.indicator_values AS FROM published_values ORDER BY ALL")
        write_boundary_values(con, profile)
        con.execute(
            f"""
            CREATE TABLE pub.random_allocation AS
            SELECT indicator_id, ref_date, area_id, level, draw,
                   round(value, {INDEX_DECIMALS}) AS value
            FROM main.random_allocation ORDER BY ALL
            """
        )
        con.executemany(
            "INSERT INTO pub.meta VALUES (?, ?)",
            [
                ("disclosure_method", protection.method),
                ("disclosure_cells", str(protection.cells)),
                ("disclosure_withheld", str(protection.withheld)),
                ("disclosure_max_deviation", str(profile.disclosure.max_deviation or 0)),
                ("disclosure_rounding", str(profile.disclosure.rounding or 0)),
            ],
        )
    finally:
        con.execute("DETACH pub")


def write_boundary_values(con: duckdb.DuckDBPyConnection, profile: Profile) -> None:
    """Values on today's boundaries for the dates of earlier vintages (``pub.area_crosswalk``,
    ``pub.boundary_parts``, ``pub.boundary_values``), computed from the *published* values
    only — the rule in the module doc of this section and in the README:

    * The parts of a target unit are the coarsest units of the earlier vintage lying wholly
      in it (a district, forecast area, … of 2020 whose every planning area the crosswalk
      puts wholly in the target), plus, weighted, the finest units split between targets.
    * **Exact** target (a union of whole units): counts, numerators and denominators are
      the sums of the parts' *published* counts, the share is computed from those sums.
      Where one part's count is withheld, the target's value is withheld ('suppressed').
    * **Estimated** target ('geschätzt', a part split by weight): only the rate is
      published, Σ w·numerator / Σ w·denominator of the published parts; no count.
    * Counts, shares, ratios (the catalogue's scale) and location quotients are recomputed
      (:data:`RECOMPUTED_FUNCTIONS`): a rate as scale · x / t from the recomputed numerator x
      and denominator t, a quotient as (x / t) / (X / T) with the city's published X, T on
      the same date (the city is the same on every boundary vintage). Disclosure as for any
      rate: withheld ('suppressed') when the recomputed denominator is below the profile's
      ``min_denominator``, 'undefined' when it is 0 (a quotient also when X = 0 or X = T).

    Every published number here is a function of numbers the publication already holds, so
    it adds no relation an attacker could use (no geographic differencing: the difference
    of an old and a new unit is a difference of published numbers). The audit checks this
    from the publication alone (:mod:`etl.audit.boundaries`)."""
    crosswalk.build(con, profile, _residents(con, profile))
    catalogue = load_catalogue(profile.indicators)
    boundary_tables(con, catalogue, profile.disclosure.min_denominator or 0)
    lists = crosswalk.lineage(profile)
    if lists:
        con.execute(
            "INSERT INTO pub.meta VALUES ('crosswalk_lists', ?)",
            [json.dumps(lists, ensure_ascii=False)],
        )


def _residents(con: duckdb.DuckDBPyConnection, profile: Profile):
    """(area_id, n): the *published* residents (the catalogue's count of ``total``) of
    the newest vintage's units on its first published date — the weights of the
    crosswalk's inferred placements (:func:`etl.crosswalk._coarse_links`); None without
    such an indicator."""
    catalogue = load_catalogue(profile.indicators)
    ids = [
        i.id
        for i in catalogue.indicators
        if i.function == "count" and term_name(term_key(i.of)) == "total"
    ]
    if not ids:
        return None
    return con.execute(
        """
        WITH newest AS (
            SELECT vintage, valid_from FROM main.areas GROUP BY ALL
            ORDER BY valid_from DESC LIMIT 1
        ),
        first AS (
            SELECT min(v.ref_date) AS ref_date FROM pub.indicator_values AS v, newest AS w
            WHERE v.indicator_id = $id AND v.ref_date >= w.valid_from
        )
        SELECT v.area_id, v.value AS n
        FROM pub.indicator_values AS v, first AS f
        WHERE v.indicator_id = $id AND v.ref_date = f.ref_date AND v.value IS NOT NULL
          AND v.flag IS DISTINCT FROM 'suppressed'
        """,
        {"id": ids[0]},
    ).df()


RECOMPUTED_FUNCTIONS = ("count", "share", "ratio", "location_quotient")


def boundary_tables(
    con: duckdb.DuckDBPyConnection, catalogue: Catalogue, min_denominator: int = 0
) -> None:
    """The three public tables of :func:`write_boundary_values` from ``temp.area_crosswalk``,
    ``main.areas``, ``main.area_closure``, the published ``pub.indicator_values`` and the
    catalogue's functions and scales (of the indicators the publication has)."""
    kinds = [
        (i.id, i.function, float(i.scale))
        for i in catalogue.indicators
        if i.function in RECOMPUTED_FUNCTIONS
    ]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE boundary_kinds "
        "(indicator_id VARCHAR, function VARCHAR, scale DOUBLE)"
    )
    if kinds:
        con.executemany("INSERT INTO temp.boundary_kinds VALUES (?, ?, ?)", kinds)
    con.execute("CREATE TABLE pub.area_crosswalk AS FROM temp.area_crosswalk ORDER BY ALL")
    con.execute(f"CREATE TABLE pub.boundary_parts AS {BOUNDARY_PARTS_SQL}")
    con.execute(
        f"CREATE TABLE pub.boundary_values AS {BOUNDARY_VALUES_SQL}",
        {"min_denominator": min_denominator},
    )
    con.execute("DROP TABLE temp.boundary_kinds")


BOUNDARY_PARTS_SQL = """
WITH whole AS (  -- placed wholly and for certain (not inferred: etl/crosswalk.py)
    SELECT from_vintage, to_vintage, level, to_area, from_area
    FROM temp.area_crosswalk WHERE weight = 1 AND method <> 'inferred'
),
sizes AS (
    SELECT vintage, area_id, count(*) AS n FROM main.area_closure GROUP BY ALL
),
-- units of the earlier vintage (any level) all of whose finest members lie wholly in the target
complete AS (
    SELECT w.from_vintage, w.to_vintage, w.level, w.to_area, m.area_id, m.level AS from_level,
           count(*) AS n
    FROM whole AS w
    INNER JOIN main.area_closure AS m ON m.vintage = w.from_vintage AND m.member_id = w.from_area
    GROUP BY ALL
),
complete_units AS (
    SELECT c.* FROM complete AS c
    INNER JOIN sizes AS s ON s.vintage = c.from_vintage AND s.area_id = c.area_id AND s.n = c.n
),
-- the coarsest of them: whose parent is not complete in the same target
maximal AS (
    SELECT c.from_vintage, c.to_vintage, c.level, c.to_area, c.area_id AS from_area,
           c.from_level, 1.0 AS weight, true AS exact
    FROM complete_units AS c
    INNER JOIN main.areas AS a ON a.area_id = c.area_id AND a.vintage = c.from_vintage
    WHERE NOT EXISTS (
        SELECT 1 FROM complete_units AS p
        WHERE p.from_vintage = c.from_vintage AND p.to_vintage = c.to_vintage
          AND p.level = c.level AND p.to_area = c.to_area AND p.area_id = a.parent_id
    )
)
SELECT * FROM maximal
UNION ALL
-- split between targets, or inferred (an estimate even at weight 1)
SELECT from_vintage, to_vintage, level, to_area, from_area, from_level, weight, false AS exact
FROM temp.area_crosswalk WHERE weight < 1 OR method = 'inferred'
ORDER BY ALL
"""

BOUNDARY_VALUES_SQL = """
WITH periods AS (SELECT DISTINCT vintage, valid_from, valid_to FROM main.areas),
dated AS (  -- (indicator, date) published, with the vintage valid at the date
    SELECT DISTINCT v.indicator_id, v.ref_date, p.vintage
    FROM pub.indicator_values AS v
    INNER JOIN periods AS p
        ON v.ref_date >= p.valid_from AND (p.valid_to IS NULL OR v.ref_date <= p.valid_to)
),
kinds AS (  -- the catalogue's function and scale (boundary_tables)
    SELECT k.indicator_id, k.function, i.definition_id, k.scale
    FROM temp.boundary_kinds AS k INNER JOIN pub.indicators AS i USING (indicator_id)
),
cities AS (  -- a quotient's reference: the city's published X and T on the date
    SELECT v.indicator_id, v.ref_date, v.numerator AS big_x, v.denominator AS big_t
    FROM pub.indicator_values AS v
    INNER JOIN main.areas AS a ON a.area_id = v.area_id AND a.parent_id IS NULL
       AND v.ref_date BETWEEN a.valid_from AND coalesce(a.valid_to, DATE '9999-12-31')
    WHERE v.indicator_id IN (SELECT indicator_id FROM kinds WHERE function = 'location_quotient')
),
targets AS (
    SELECT from_vintage, to_vintage, level, to_area, bool_and(exact) AS exact
    FROM temp.area_crosswalk GROUP BY ALL
),
joined AS (
    SELECT k.indicator_id, k.function, k.scale, k.definition_id, d.ref_date, b.to_vintage,
           b.level, b.to_area, b.weight, v.numerator, v.denominator,
           v.numerator IS NOT NULL AND v.flag IS DISTINCT FROM 'suppressed'
               AND (k.function = 'count' OR v.denominator IS NOT NULL) AS available
    FROM pub.boundary_parts AS b
    INNER JOIN dated AS d ON d.vintage = b.from_vintage
    INNER JOIN kinds AS k ON k.indicator_id = d.indicator_id
    LEFT JOIN pub.indicator_values AS v
        ON v.indicator_id = k.indicator_id AND v.ref_date = d.ref_date
       AND v.area_id = b.from_area AND v.level = b.from_level
),
sums AS (
    SELECT j.indicator_id, j.function, j.scale, j.definition_id, j.ref_date, j.to_vintage,
           j.level, j.to_area, t.exact, bool_and(j.available) AS complete,
           sum(j.weight * j.numerator) AS x, sum(j.weight * j.denominator) AS t
    FROM joined AS j
    INNER JOIN targets AS t
        ON t.to_vintage = j.to_vintage AND t.level = j.level AND t.to_area = j.to_area
    GROUP BY ALL
),
rated AS (
    SELECT s.*, function <> 'count' AS is_rate,
           -- a rate's denominator under the disclosure rule: withheld as any other rate
           function <> 'count' AND t > 0 AND t < $min_denominator AS too_small,
           CASE WHEN function = 'location_quotient' THEN c.big_t / c.big_x ELSE scale END
               AS factor,
           function = 'location_quotient'
               AND NOT coalesce(c.big_x > 0 AND c.big_x < c.big_t, false) AS no_reference
    FROM sums AS s
    LEFT JOIN cities AS c ON c.indicator_id = s.indicator_id AND c.ref_date = s.ref_date
)
SELECT indicator_id, ref_date, to_area AS area_id, level, to_vintage AS vintage,
       CASE WHEN NOT complete OR too_small OR no_reference THEN NULL
            WHEN NOT is_rate AND exact THEN x
            WHEN is_rate AND t > 0 THEN factor * x / t END AS value,
       CASE WHEN complete AND exact AND NOT too_small THEN x END AS numerator,
       CASE WHEN complete AND exact AND is_rate THEN t END AS denominator,
       CASE WHEN NOT complete OR (NOT is_rate AND NOT exact) OR too_small THEN 'suppressed'
            WHEN is_rate AND (t = 0 OR no_reference) THEN 'undefined' END AS flag,
       definition_id, NOT exact AS estimated
FROM rated
ORDER BY ALL
"""


def make_internal(folder: Path) -> None:
    """The internal folder of a snapshot: readable by the office's account only."""
    folder.mkdir(mode=0o700)
    os.chmod(folder, 0o700)


def restrict(path: Path) -> None:
    """Internal files: owner read/write only."""
    if path.exists():
        os.chmod(path, 0o600)


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def audit(snapshot: Path, catalogue: Catalogue, profile: Profile) -> attack.AuditReport:
    """Run the attack audit on a finished snapshot; raise :class:`AuditError` when a
    protected cell's feasible interval is narrower than its protection interval."""
    report = audit_report(snapshot, catalogue, profile)
    if not report.passed:
        raise AuditError(attack.format_report(report))
    return report


def audit_report(
    snapshot: Path, catalogue: Catalogue, profile: Profile, exact: bool = False
) -> attack.AuditReport:
    """The attack audit of a snapshot (:func:`etl.audit.run_audit`) under the profile's
    rules: its publication attacked, judged against its internal warehouse."""
    rules = profile.disclosure
    return attack.run_audit(
        snapshot / warehouse.PUBLICATION,
        snapshot / warehouse.DATABASE,
        catalogue,
        protection=rules.protection_interval,
        min_count=rules.min_count,
        method=rules.method,
        max_deviation=rules.max_deviation,
        min_denominator=rules.min_denominator,
        rounding=rules.rounding,
        exact=exact,
    )
