"""Cell suppression of the linked count tables (primary rules, then secondary suppression).

Input (TEMP tables on the connection): ``term_counts`` (every term of every area of every
level and date), ``terms`` (additive or not), ``indicator_terms`` (the published share
pairs); persistent ``areas`` (hierarchy by ``parent_id`` per vintage) and ``levels``.
Output: TEMP ``protected_counts`` (the rows of ``term_counts``, same columns; a suppressed
cell has ``n`` NULL and flag 'suppressed'; non-additive terms and flagged cells unchanged)
and TEMP ``protection(ref_date, area_id, level, term, n, status, rule)``, one row per
protected cell: 'primary' with its rule, or 'secondary'. A sensitive difference of two
nested terms (rule complement, or group_disclosure of a 100 % share) is not published
itself; its row names it ``outer-inner`` (e.g. ``total-foreigners``) and it has no row in
``protected_counts``.

1. Primary rules (set-based SQL, :data:`PRIMARY_SQL`): min_count, complement (the
   difference of a nested pair of terms is an unpublished *virtual* cell), min_denominator,
   group_disclosure, min_area_population (etl/profile.py ``Disclosure``).
2. Linear relations per date (:data:`RELATIONS_SQL`): parent = sum of children for every
   term; within an area the partitions and nested pairs of :mod:`etl.protect.relations`
   (from the group filters, plus two-part identities that hold throughout the data); and
   in every finest area each term = sum of its non-negative *regions* (the cells of the
   terms' Venn diagram, :mod:`etl.protect.regions`): what an attacker who reasons about
   persons knows (e.g. total ≥ under_18 + age_65_plus), which pairwise relations miss.
3. Secondary suppression by the attacker LP of Kelly, Golden & Assad (1992, "Cell
   suppression: disclosure protection for sensitive tabular data", Networks 22:397-417)
   in the per-cell form of Fischetti & Salazar-González (1999, Math. Programming 84:
   283-312): for each sensitive cell and direction a feasible *deviation* of the table
   (every relation keeps holding, no cell or region turns negative) moves the cell by
   exactly the protection interval p (down: by min(p, v)); the LP minimises the cost of
   the cells it moves, and every moved published cell is suppressed. The deviated table
   agrees with every published cell, so the attacker cannot exclude it: the cell's
   feasible range reaches v + p and max(0, v - p). Later suppressions only widen ranges,
   so cells protected earlier stay protected. Cells are taken finest level first; each LP
   is solved on the sub-table below the ancestor two levels up (:mod:`etl.protect.lp`),
   then higher, then on the whole date. Solved with HiGHS (Huangfu & Hall 2018).

Cost of moving a published, not yet suppressed cell c (per unit of deviation):
``w_c = (1 + ln(1 + n_c)) * (1 + finest_rank - rank_c)``: small cells are cheap (the
loss of information grows with the logarithm of the value, Cox 1995), a city cell costs
five times a planning-area cell with the same count (fine levels preferred), and the
constant 1 charges every extra cell (few cells preferred). Suppressed, virtual and unknown
(flagged) cells cost 0.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import duckdb

from etl.indicators.spec import RESIDENTS, Catalogue
from etl.profile import Disclosure
from etl.protect import lp
from etl.protect.regions import region_values
from etl.protect.relations import (
    derivable_groups,
    empty_regions,
    term_regions,
    term_relations,
    verified_partitions,
)

LOG = logging.getLogger(__name__)
WORK_TABLES = (
    "sc_levels", "sc_complement", "sc_derived", "sc_parts", "sc_region_terms",
    "sc_leaf_counts", "sc_region_values", "sc_cells", "sc_rel", "sc_sens", "sc_marks",
)  # fmt: skip


@dataclass
class SuppressionSummary:
    """Counts of the run: published count cells, sensitive cells (published and virtual),
    primary / secondary suppressions per level, LPs solved, cells left unprotected."""

    cells: int = 0
    sensitive: int = 0
    primary: int = 0
    secondary: int = 0
    by_level: dict[str, dict[str, int]] = field(default_factory=dict)
    lps: int = 0
    unprotected: int = 0
    seconds: float = 0.0


def suppress(
    con: duckdb.DuckDBPyConnection,
    catalogue: Catalogue,
    rules: Disclosure,
    levels: list[str] | None = None,
) -> SuppressionSummary:
    """Protect ``term_counts`` by cell suppression.

    Reads the TEMP tables ``term_counts``, ``terms``, ``indicator_terms`` and the tables
    ``areas`` and (unless ``levels``, the level ids coarse to fine, is given) ``levels``;
    writes the TEMP tables ``protected_counts`` and ``protection`` (module docstring).
    Its working tables (``sc_*``) are dropped at the end."""
    start = time.perf_counter()
    _levels(con, levels)
    _derive(con, catalogue)
    con.execute(CELLS_SQL, {"k": rules.min_count})
    con.execute(RELATIONS_SQL)
    con.execute(PRIMARY_SQL, _primary_params(con, rules))
    summary = SuppressionSummary()
    secondary = []
    for (ref_date,) in con.execute("SELECT DISTINCT ref_date FROM sc_cells ORDER BY 1").fetchall():
        found, lps, unprotected = lp.protect_date(con, ref_date)
        secondary.extend(found)
        summary.lps += lps
        summary.unprotected += unprotected
    _write_outputs(con, secondary)
    _summarise(con, summary)
    for table in WORK_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {table}")
    summary.seconds = time.perf_counter() - start
    LOG.info("cell suppression: %s", summary)
    if summary.unprotected:
        LOG.warning("%d sensitive cells could not be protected", summary.unprotected)
    return summary


# additive terms: counts (of persons, moves, employees); a balance such as net migration is
# no cell — it is computed from its protected components (engine.add_balances)
ADDITIVE_SQL = """
SELECT DISTINCT c.term FROM term_counts AS c
INNER JOIN terms AS t ON t.term = c.term AND t.additive
ORDER BY 1
"""


def _levels(con: duckdb.DuckDBPyConnection, levels: list[str] | None) -> None:
    if levels is None:
        con.execute("CREATE OR REPLACE TEMP TABLE sc_levels AS SELECT level, rank FROM levels")
    else:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE sc_levels AS "
            "SELECT unnest($levels) AS level, generate_subscripts($levels, 1) - 1 AS rank",
            {"levels": levels},
        )


def _derive(con: duckdb.DuckDBPyConnection, catalogue: Catalogue) -> None:
    """The relations among the terms (:mod:`etl.protect.relations`) as tables, and the
    region counts of the finest areas (:mod:`etl.protect.regions`)."""
    terms = [r[0] for r in con.execute(ADDITIVE_SQL).fetchall()]
    relations = term_relations(catalogue, terms)
    partitions = sorted(set(relations.partitions) | set(verified_partitions(con, catalogue, terms)))
    regions = term_regions(catalogue, terms)
    empty = empty_regions(regions, partitions)
    regions = tuple(r for r in regions if r not in empty)
    derived = derivable_groups(terms, regions, relations.nested)
    _write_relations(con, partitions, relations.nested, derived)
    region_values(con, terms, regions)


def _write_relations(
    con: duckdb.DuckDBPyConnection,
    partitions: list[tuple[str, tuple[str, ...]]],
    nested: tuple[tuple[str, str], ...],
    derived: list[tuple[str, dict[str, float]]],
) -> None:
    """``sc_complement(outer_term, inner_term, comp, virtual)``: the cell holding
    outer - inner (a published term if a two-part partition gives it, else a virtual term
    'outer-inner'); ``sc_derived(name, term, coef, size)``: the other derivable groups;
    ``sc_parts(rel_no, term, coef, size, anchor)``: outer = sum of parts, outer = inner +
    virtual for every virtual complement, derived group = its combination of terms; the
    anchor (the outer term, the virtual cell) is the cell that must exist for the
    equation to hold in an area."""
    complements = {}
    for outer, parts in partitions:
        if len(parts) == 2:
            complements[(outer, parts[0])] = (parts[1], False)
            complements[(outer, parts[1])] = (parts[0], False)
    for outer, inner in nested:
        complements.setdefault((outer, inner), (f"{outer}-{inner}", True))
    rows = [(o, i, c, v) for (o, i), (c, v) in sorted(complements.items())]
    columns = {"outer_term": "VARCHAR", "inner_term": "VARCHAR", "comp": "VARCHAR"}
    _table(con, "sc_complement", {**columns, "virtual": "BOOLEAN"}, rows)
    combos = [(name, term, c, len(terms)) for name, terms in derived for term, c in terms.items()]
    columns = {"name": "VARCHAR", "term": "VARCHAR", "coef": "DOUBLE", "size": "BIGINT"}
    _table(con, "sc_derived", columns, combos)
    equations = [{outer: -1.0, **dict.fromkeys(parts, 1.0)} for outer, parts in partitions]
    equations += [{c: 1.0, o: -1.0, i: 1.0} for o, i, c, v in rows if v]
    equations += [{name: -1.0, **terms} for name, terms in derived]
    parts = [
        (number, term, coef, len(equation), place == 0)
        for number, equation in enumerate(equations)
        for place, (term, coef) in enumerate(equation.items())
    ]
    columns = {"rel_no": "BIGINT", "term": "VARCHAR", "coef": "DOUBLE", "size": "BIGINT"}
    _table(con, "sc_parts", {**columns, "anchor": "BOOLEAN"}, parts)


def _table(con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, str], rows: list) -> None:
    """A TEMP table from rows (column name -> SQL type), one list parameter per column."""
    lists = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in columns]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT "
        + ", ".join(
            f"unnest(${i}::{kind}[]) AS {col}"
            for i, (col, kind) in enumerate(columns.items(), start=1)
        ),
        lists,
    )


CELLS_SQL = """
CREATE OR REPLACE TEMP TABLE sc_cells AS
WITH base AS (
    SELECT c.ref_date, c.area_id, c.level, c.vintage, c.term, c.n, 'published' AS kind
    FROM term_counts AS c
    WHERE c.term IN (SELECT term FROM terms WHERE additive)
),

virtual AS (
    -- the difference of a nested pair: derivable, never published
    SELECT o.ref_date, o.area_id, o.level, o.vintage, x.comp AS term, o.n - i.n AS n,
           'complement' AS kind
    FROM sc_complement AS x
    INNER JOIN base AS o ON o.term = x.outer_term
    INNER JOIN base AS i
        ON i.term = x.inner_term AND i.ref_date = o.ref_date
       AND i.area_id = o.area_id AND i.vintage = o.vintage
    WHERE x.virtual
),

derived AS (
    -- other derivable groups: a cell only where the count is small (rule complement)
    SELECT b.ref_date, b.area_id, b.level, b.vintage, d.name AS term,
           round(sum(d.coef * b.n), 6) AS n, 'complement' AS kind
    FROM sc_derived AS d INNER JOIN base AS b ON b.term = d.term
    GROUP BY b.ref_date, b.area_id, b.level, b.vintage, d.name
    HAVING count(b.n) = max(d.size) AND round(sum(d.coef * b.n), 6) > 0
       AND round(sum(d.coef * b.n), 6) < $k
)

SELECT row_number() OVER (ORDER BY a.ref_date, a.area_id, a.term) - 1 AS cell, a.*, l.rank,
       a.kind <> 'published' AS virtual
FROM (
    SELECT * FROM base
    UNION ALL SELECT * FROM virtual
    UNION ALL SELECT * FROM derived
    UNION ALL SELECT *, 'region' FROM sc_region_values
) AS a
INNER JOIN sc_levels AS l ON l.level = a.level
"""

RELATIONS_SQL = """
CREATE OR REPLACE TEMP TABLE sc_rel AS
WITH hierarchy AS (
    -- parent = sum of its children, per term, date and vintage
    SELECT p.ref_date, p.cell AS head, c.cell
    FROM sc_cells AS c
    INNER JOIN areas AS a ON a.area_id = c.area_id AND a.vintage = c.vintage
    INNER JOIN sc_cells AS p
        ON p.area_id = a.parent_id AND p.vintage = c.vintage
       AND p.ref_date = c.ref_date AND p.term = c.term
    WHERE NOT c.virtual AND NOT p.virtual
),

parts AS (
    -- each equation where its anchor (first) cell exists, with all its terms present
    SELECT q.rel_no, a.cell AS anchor, a.ref_date, c.cell, p.coef, p.size,
           count(*) OVER (PARTITION BY q.rel_no, a.cell) AS found
    FROM sc_parts AS q
    INNER JOIN sc_cells AS a ON a.term = q.term AND q.anchor
    INNER JOIN sc_parts AS p ON p.rel_no = q.rel_no
    INNER JOIN sc_cells AS c
        ON c.term = p.term AND c.ref_date = a.ref_date
       AND c.area_id = a.area_id AND c.vintage = a.vintage
),

regions AS (
    -- a term of a finest area = sum of its regions
    SELECT c.ref_date, c.cell AS head, r.cell
    FROM sc_cells AS r
    INNER JOIN sc_region_terms AS m ON m.region = r.term
    INNER JOIN sc_cells AS c
        ON c.term = m.term AND c.kind = 'published' AND c.ref_date = r.ref_date
       AND c.area_id = r.area_id AND c.vintage = r.vintage
    WHERE r.kind = 'region'
),

entries AS (
    SELECT ref_date, 0 AS kind, head AS k1, 0 AS k2, cell, 1.0 AS coef FROM hierarchy
    UNION ALL
    SELECT DISTINCT ref_date, 0, head, 0, head, -1.0 FROM hierarchy
    UNION ALL
    SELECT ref_date, 1, head, 0, cell, 1.0 FROM regions
    UNION ALL
    SELECT DISTINCT ref_date, 1, head, 0, head, -1.0 FROM regions
    UNION ALL
    SELECT ref_date, 2, rel_no, anchor, cell, coef FROM parts WHERE found = size
)

SELECT ref_date, dense_rank() OVER (ORDER BY ref_date, kind, k1, k2) - 1 AS rel, cell, coef
FROM entries
"""

PRIMARY_SQL = """
CREATE OR REPLACE TEMP TABLE sc_sens AS
WITH pairs AS (
    SELECT DISTINCT num_term, den_term FROM indicator_terms
    WHERE function IN ('share', 'ratio', 'location_quotient')
      AND num_term IS NOT NULL AND den_term IS NOT NULL
),

share AS (
    SELECT p.num_term, p.den_term, u.cell AS num_cell, u.n AS num_n, d.n AS den_n,
           u.ref_date, u.area_id, u.vintage
    FROM pairs AS p
    INNER JOIN sc_cells AS u ON u.term = p.num_term AND NOT u.virtual
    INNER JOIN sc_cells AS d
        ON d.term = p.den_term AND NOT d.virtual AND d.ref_date = u.ref_date
       AND d.area_id = u.area_id AND d.vintage = u.vintage
    WHERE u.n IS NOT NULL AND d.n >= 1
),

small_areas AS (
    SELECT ref_date, area_id, vintage FROM sc_cells
    WHERE term = $residents AND NOT virtual AND n >= 1 AND n < $min_population
),

hits AS (
    SELECT cell, 1 AS prio, 'min_count' AS rule, $p AS up, least($p, n) AS down
    FROM sc_cells WHERE NOT virtual AND n > 0 AND n < $k
    UNION ALL
    SELECT cell, 2, 'complement', $p, least($p, n)
    FROM sc_cells WHERE kind = 'complement' AND n > 0 AND n < $k
    UNION ALL
    SELECT num_cell, 3, 'min_denominator', $p, least($p, num_n)
    FROM share WHERE den_n < $min_denominator
    UNION ALL
    SELECT num_cell, 4, 'group_disclosure', $p, 0.0
    FROM share WHERE den_n < $group_below AND num_n = 0
    UNION ALL
    SELECT c.cell, 4, 'group_disclosure', $p, 0.0
    FROM share AS s
    INNER JOIN sc_complement AS x ON x.outer_term = s.den_term AND x.inner_term = s.num_term
    INNER JOIN sc_cells AS c
        ON c.term = x.comp AND c.ref_date = s.ref_date
       AND c.area_id = s.area_id AND c.vintage = s.vintage
    WHERE s.den_n < $group_below AND s.num_n = s.den_n
    UNION ALL
    SELECT c.cell, 5, 'min_area_population', $p, least($p, c.n)
    FROM sc_cells AS c INNER JOIN small_areas USING (ref_date, area_id, vintage)
    WHERE NOT c.virtual AND c.n IS NOT NULL
)

SELECT cell, arg_min(rule, prio) AS rule, max(up) AS up, max(down) AS down
FROM hits GROUP BY cell
"""


def _primary_params(con: duckdb.DuckDBPyConnection, rules: Disclosure) -> dict[str, object]:
    return {
        "p": float(rules.protection_interval),
        "k": rules.min_count,
        "min_denominator": rules.min_denominator,
        "group_below": rules.group_disclosure_below,
        "min_population": rules.min_area_population,
        "residents": RESIDENTS,
    }


OUTPUTS_SQL = (
    """
    CREATE OR REPLACE TEMP TABLE sc_marks AS
    SELECT cell, 'primary' AS status, rule FROM sc_sens
    UNION ALL
    SELECT unnest($secondary::BIGINT[]), 'secondary', 'secondary'
    """,
    """
    CREATE OR REPLACE TEMP TABLE protection AS
    SELECT c.ref_date, c.area_id, c.level, c.term, c.n, m.status, m.rule
    FROM sc_marks AS m INNER JOIN sc_cells AS c USING (cell)
    ORDER BY c.ref_date, c.level, c.area_id, c.term
    """,
    """
    CREATE OR REPLACE TEMP TABLE protected_counts AS
    SELECT t.* REPLACE (
        CASE WHEN h.cell IS NULL THEN t.n END AS n,
        CASE WHEN h.cell IS NULL THEN t.flag ELSE 'suppressed' END AS flag)
    FROM term_counts AS t
    LEFT JOIN (
        SELECT c.* FROM sc_cells AS c SEMI JOIN sc_marks USING (cell) WHERE NOT c.virtual
    ) AS h
        ON h.ref_date = t.ref_date AND h.area_id = t.area_id
       AND h.vintage = t.vintage AND h.term = t.term
    """,
)


def _write_outputs(con: duckdb.DuckDBPyConnection, secondary: list[int]) -> None:
    for statement in OUTPUTS_SQL:
        params = {"secondary": secondary} if "$secondary" in statement else None
        con.execute(statement, params)


def _summarise(con: duckdb.DuckDBPyConnection, summary: SuppressionSummary) -> None:
    summary.cells = con.execute("SELECT count(*) FROM sc_cells WHERE NOT virtual").fetchone()[0]
    summary.sensitive = con.execute("SELECT count(*) FROM sc_sens").fetchone()[0]
    rows = con.execute(
        """
        SELECT c.level, m.status, count(*) FROM sc_marks AS m
        INNER JOIN sc_cells AS c USING (cell) WHERE NOT c.virtual GROUP BY ALL
        """
    ).fetchall()
    for level, status, count in rows:
        summary.by_level.setdefault(level, {"primary": 0, "secondary": 0})[status] = count
        setattr(summary, status, getattr(summary, status) + count)
