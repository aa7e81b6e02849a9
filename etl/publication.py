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

The unit indices (segregation, dissimilarity, …) are non-linear in the counts:

* ``cell_key``: computed from the perturbed counts (they reveal nothing the perturbed counts
  do not).
* ``suppression``: a unit with a withheld count would make every index 'incomplete', so the
  index is computed from the true counts and published rounded to
  :data:`INDEX_DECIMALS` decimals (as German city statistics publish it, e.g. 0.37); the
  random-allocation draws likewise. One person moves an index over n units by about
  1/X + 1/(T − X) (X group size, T population), far below the rounding step in every
  instance we serve; the attack audit (:mod:`etl.audit`) covers the linear relations and
  lists these indices as not covered by its LP.

Afterwards the attack audit, independent of the protection code, computes the feasible
interval of every protected cell from everything published; one interval narrower than
its protection interval stops the build (:class:`AuditError`) and nothing is published.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from etl import audit as attack
from etl import warehouse
from etl.errors import ImonError
from etl.indicators import engine, segregation
from etl.indicators.spec import Catalogue
from etl.profile import Profile
from etl.protect import cellkey, suppression

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
    # the random allocation leaves only the index rows in indicator_terms; the protection
    # reads the share pairs of every indicator from it
    engine.write_indicator_terms(con, [engine.term_row(ind) for ind in indicators])
    _protected_counts(con, catalogue, profile)
    summary = _summary(con, rules.method)
    con.execute("ALTER TABLE term_counts RENAME TO true_term_counts")
    con.execute("ALTER TABLE protected_counts RENAME TO term_counts")
    con.execute("CREATE OR REPLACE TEMP TABLE published_values AS FROM indicator_values LIMIT 0")
    con.execute(f"CREATE OR REPLACE TEMP TABLE index_terms AS {INDEX_TERMS_SQL}")
    engine.number_units(con)
    published = indicators
    if rules.method == "suppression":
        published = [i for i in indicators if i.function not in INDEX_FUNCTIONS]
        _rounded_indices(con)
    engine.write_indicator_terms(con, [engine.term_row(ind) for ind in published])
    engine.run_functions(
        con,
        {ind.function for ind in published},
        "published_values",
        {"min_denominator": rules.min_denominator, "min_count": rules.min_count},
    )
    if rules.method == "suppression":
        con.execute(INDEX_MARGINS_SQL)
    return summary


INDEX_TERMS_SQL = f"""
SELECT indicator_id, num_term, coalesce(res_term, den_term, 'total') AS den_term, min_units
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


def _protected_counts(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, profile: Profile):
    rules = profile.disclosure
    if rules.method == "cell_key":
        cellkey.perturb(con, rules.cell_key)
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


def _rounded_indices(con: duckdb.DuckDBPyConnection) -> None:
    """Suppression: the unit indices from the true counts, rounded (module doc)."""
    con.execute(
        f"""
        INSERT INTO published_values
        SELECT v.indicator_id, v.ref_date, v.area_id, v.level,
               round(v.value, {INDEX_DECIMALS}), NULL, NULL, v.flag, v.definition_id, v.n_units
        FROM indicator_values AS v
        INNER JOIN index_terms USING (indicator_id)
        """
    )


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
            ],
        )
    finally:
        con.execute("DETACH pub")


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
    if report.failures:
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
        exact=exact,
    )
