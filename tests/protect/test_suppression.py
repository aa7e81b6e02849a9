"""Cell suppression (etl/protect/suppression.py) on tiny hand-made tables.

Known answers: the relations derived from a catalogue; each primary rule; secondary
suppression in a hierarchy, a group with its complement and two tables sharing a margin
(costs w = (1 + ln(1 + n)) · (1 + finest rank − rank), worked out in the comments).
Property: on random small hierarchies an attacker who knows every person-level cell
(citizenship × age) is non-negative and sums up the hierarchy, and sees every published
cell, can still move every sensitive cell by the protection interval (min and max of the
cell by LP, written here independently of the module).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re

import duckdb
import numpy as np
import pytest
from scipy.optimize import linprog

from etl.indicators.engine import write_indicator_terms
from etl.indicators.spec import Catalogue
from etl.profile import Disclosure
from etl.protect.relations import (
    derivable_groups,
    empty_regions,
    term_regions,
    term_relations,
    verified_partitions,
)
from etl.protect.suppression import suppress

DATE = dt.date(2024, 12, 31)
UNDER_18 = ["00-05", "06-14", "15-17"]
ADULTS = ["18-24", "25-44", "45-64", "65-79", "80+"]
GROUPS = {
    "total": {},
    "germans": {"citizenship": "deutsch"},
    "foreigners": {"citizenship": "auslaendisch"},
    "under_18": {"age_group": UNDER_18},
    "adults": {"age_group": ADULTS},
    "age_65_plus": {"age_group": ["65-79", "80+"]},
    "male": {"sex": "m"},
    "migration_background": {"migration_background": "mit"},
    "germans_with_migration_background": {
        "citizenship": "deutsch",
        "migration_background": "mit",
    },
}
# no primary rule except the one a test switches on
QUIET = {"min_count": 1, "min_denominator": 1, "group_disclosure_below": 0}


def catalogue(groups: dict | None = None) -> Catalogue:
    return Catalogue(
        version=1,
        defaults={"source": "test", "definition_id": "test"},
        units={},
        groups=groups or GROUPS,
        indicators=[],
    )


def tables(
    con: duckdb.DuckDBPyConnection,
    counts: dict[tuple[str, str], float],
    parents: dict[str, str | None],
    shares: tuple[tuple[str, str], ...] = (),
    date: dt.date = DATE,
) -> None:
    """term_counts (level = depth in ``parents``), terms, indicator_terms, areas, levels."""
    depth = {}
    for area in parents:
        up, depth[area] = parents[area], 0
        while up is not None:
            up, depth[area] = parents[up], depth[area] + 1
    names = ["city", "district", "quarter", "block"]
    con.execute("CREATE OR REPLACE TABLE levels (level VARCHAR, rank INTEGER)")
    con.executemany("INSERT INTO levels VALUES (?, ?)", list(zip(names, range(4), strict=True)))
    con.execute(
        "CREATE OR REPLACE TABLE areas (area_id VARCHAR, level VARCHAR, name VARCHAR, "
        "parent_id VARCHAR, vintage VARCHAR, valid_from DATE, valid_to DATE)"
    )
    con.executemany(
        "INSERT INTO areas VALUES (?, ?, ?, ?, 'v1', DATE '2000-01-01', NULL)",
        [(a, names[depth[a]], a, p) for a, p in parents.items()],
    )
    con.execute(
        "CREATE TEMP TABLE IF NOT EXISTS term_counts (ref_date DATE, area_id VARCHAR, "
        "level VARCHAR, vintage VARCHAR, term VARCHAR, n DOUBLE, flag VARCHAR)"
    )
    rows = [(date, a, names[depth[a]], t, n) for (a, t), n in counts.items()]
    if rows:
        con.executemany("INSERT INTO term_counts VALUES (?, ?, ?, 'v1', ?, ?, NULL)", rows)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE terms AS "
        "SELECT DISTINCT term, true AS additive FROM term_counts"
    )
    rows = [
        (f"s{i}", "share", num, den, None, None, None, None, 100.0, "d")
        for i, (num, den) in enumerate(shares)
    ]
    write_indicator_terms(con, rows)


def protection(con: duckdb.DuckDBPyConnection) -> set[tuple]:
    return set(con.execute("SELECT area_id, term, status, rule FROM protection").fetchall())


def run(counts, parents=None, shares=(), groups=None, **rules) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    tables(con, counts, parents or {"A": None}, shares)
    suppress(con, catalogue(groups), Disclosure(**{**QUIET, **rules}))
    return con


# --- relations ---------------------------------------------------------------------------


def test_term_relations_known_answer():
    terms = ["adults", "foreigners", "germans", "male", "total", "under_18"]
    terms += ["germans_with_migration_background", "migration_background"]
    relations = term_relations(catalogue(), sorted(terms))
    assert set(relations.partitions) == {
        ("total", ("foreigners", "germans")),
        ("total", ("adults", "under_18")),
    }
    assert set(relations.nested) == {
        ("germans", "germans_with_migration_background"),
        ("migration_background", "germans_with_migration_background"),
        *[("total", t) for t in terms if t != "total"],
    }


def test_intersections_partition_their_group():
    terms = ["foreigners", "foreigners&under_18", "adults&foreigners", "total"]
    partitions = set(term_relations(catalogue(), sorted(terms)).partitions)
    assert ("foreigners", ("adults&foreigners", "foreigners&under_18")) in partitions


def test_verified_partition_found_in_data_only_where_it_holds():
    # every foreigner has a migration background (register logic, not in the filters)
    counts = {("A", "migration_background"): 7.0, ("A", "foreigners"): 4.0}
    counts |= {("A", "germans_with_migration_background"): 3.0, ("A", "total"): 20.0}
    con = duckdb.connect()
    tables(con, counts, {"A": None})
    terms = sorted({t for _, t in counts})
    found = verified_partitions(con, catalogue(), terms)
    assert found == [("migration_background", ("foreigners", "germans_with_migration_background"))]
    con.execute("UPDATE term_counts SET n = 8 WHERE term = 'migration_background'")
    assert verified_partitions(con, catalogue(), terms) == []


def test_regions_are_the_venn_cells_of_the_terms():
    terms = ["foreigners", "total", "under_18"]
    assert set(term_regions(catalogue(), terms)) == {
        ("foreigners", "total", "under_18"),
        ("foreigners", "total"),
        ("total", "under_18"),
        ("total",),
    }


def test_identity_of_the_data_empties_regions():
    terms = ["foreigners", "germans_with_migration_background", "migration_background"]
    regions = term_regions(catalogue(), terms)
    identity = [("migration_background", ("foreigners", "germans_with_migration_background"))]
    # foreigners without migration background: in 'foreigners' only
    assert empty_regions(regions, identity) == {("foreigners",)}


def test_derivable_groups_beyond_pairs():
    terms = ["age_65_plus", "total", "under_18"]
    regions = term_regions(catalogue(), terms)
    nested = term_relations(catalogue(), terms).nested
    # the 18-64 year olds, and those under 18 or 65 and over (a sum of two cells)
    assert derivable_groups(terms, regions, nested) == [
        ("age_65_plus+under_18", {"age_65_plus": 1.0, "under_18": 1.0}),
        ("total-age_65_plus-under_18", {"age_65_plus": -1.0, "total": 1.0, "under_18": -1.0}),
    ]
    # without the pairs, their differences are listed too
    assert len(derivable_groups(terms, regions)) == 4


def test_signed_sums_find_what_the_row_space_finds(monkeypatch):
    terms = ["age_65_plus", "migration_background", "migration_background&under_18"]
    terms += ["total", "under_18"]
    regions = term_regions(catalogue(), terms)
    nested = term_relations(catalogue(), terms).nested
    exact = {name for name, _ in derivable_groups(terms, regions, nested)}
    monkeypatch.setattr("etl.protect.relations.MAX_REGIONS", 0)
    sums = {name for name, _ in derivable_groups(terms, regions, nested)}
    assert "total-age_65_plus-under_18" in sums
    assert "migration_background&under_18+total-migration_background-under_18" in sums
    # all but the two unions that need a coefficient 2, e.g. children with and adults
    # without migration background: 2*migration_background&under_18+total-...
    assert len(sums) == len(exact) - 2


def test_person_level_bound_is_respected():
    # total 53 = under_18 2 + age_65_plus 50 + (18-64: 1, not published). Pairwise, moving
    # under_18 up by 3 needs nothing (total - under_18 is not published), but a person
    # count cannot go negative: under_18 <= total - age_65_plus = 3. So age_65_plus
    # (w = 1 + ln 51) or total (1 + ln 54) must go: age_65_plus. The 18-64 year olds
    # (total - age_65_plus - under_18 = 1) are a derivable small group themselves.
    counts = {("A", "total"): 53.0, ("A", "under_18"): 2.0, ("A", "age_65_plus"): 50.0}
    con = run(counts, min_count=3)
    assert protection(con) == {
        ("A", "under_18", "primary", "min_count"),
        ("A", "total-age_65_plus-under_18", "primary", "complement"),
        ("A", "age_65_plus", "secondary", "secondary"),
    }


def test_empty_input():
    con = duckdb.connect()
    tables(con, {}, {"A": None})
    summary = suppress(con, catalogue(), Disclosure(min_count=3))
    assert summary.cells == summary.primary == summary.secondary == 0
    assert con.execute("SELECT count(*) FROM protected_counts").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM protection").fetchone()[0] == 0


# --- primary rules -----------------------------------------------------------------------


def test_min_count():
    con = run({("A", "total"): 2.0}, min_count=3)
    assert protection(con) == {("A", "total", "primary", "min_count")}
    assert con.execute("SELECT n, flag FROM protected_counts").fetchall() == [(None, "suppressed")]
    work = con.execute("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'sc_%'")
    assert work.fetchall() == []


def test_zero_and_k_are_not_sensitive():
    con = run({("A", "total"): 3.0, ("B", "total"): 0.0}, {"A": None, "B": None}, min_count=3)
    assert protection(con) == set()


def test_complement_is_a_virtual_cell():
    # total − foreigners = 2 is derivable. Protect it up by 3: total +3 (w = 1 + ln 11) or
    # foreigners −3 (w = 1 + ln 9, cheaper); down by 2: foreigners +2 (then free)
    con = run({("A", "total"): 10.0, ("A", "foreigners"): 8.0}, min_count=3)
    assert protection(con) == {
        ("A", "total-foreigners", "primary", "complement"),
        ("A", "foreigners", "secondary", "secondary"),
    }
    rows = con.execute("SELECT term, n, flag FROM protected_counts ORDER BY 1").fetchall()
    assert rows == [("foreigners", None, "suppressed"), ("total", 10.0, None)]


def test_min_denominator():
    # foreigners/total with total 20 < 30: foreigners sensitive; its difference to total is
    # not published, so moving it needs no other published cell
    counts = {("A", "total"): 20.0, ("A", "foreigners"): 10.0}
    con = run(counts, shares=(("foreigners", "total"),), min_denominator=30)
    assert protection(con) == {("A", "foreigners", "primary", "min_denominator")}
    con = run(counts, shares=(("foreigners", "total"),), min_denominator=20)
    assert protection(con) == set()


def test_group_disclosure_zero_share():
    counts = {("A", "total"): 50.0, ("A", "foreigners"): 0.0}
    con = run(counts, shares=(("foreigners", "total"),), group_disclosure_below=100)
    assert protection(con) == {("A", "foreigners", "primary", "group_disclosure")}


def test_group_disclosure_full_share_protects_the_complement():
    # all 50 are foreigners: the complement total − foreigners = 0 must reach 3, so total
    # or foreigners (equal cost) is suppressed
    counts = {("A", "total"): 50.0, ("A", "foreigners"): 50.0}
    con = run(counts, shares=(("foreigners", "total"),), group_disclosure_below=100)
    found = protection(con)
    assert ("A", "total-foreigners", "primary", "group_disclosure") in found
    secondary = {t for _, t, status, _ in found if status == "secondary"}
    assert len(secondary) == 1 and secondary <= {"total", "foreigners"}
    con = run(counts, shares=(("foreigners", "total"),), group_disclosure_below=50)
    assert protection(con) == set()


def test_min_area_population():
    # A has 5 < 10 residents: all its cells; A + 3 is balanced by B − 3 (w = 1 + ln 101)
    # rather than the city (w = 2 · (1 + ln 106))
    counts = {("C", "total"): 105.0, ("A", "total"): 5.0, ("B", "total"): 100.0}
    counts |= {("C", "male"): 50.0, ("A", "male"): 4.0, ("B", "male"): 46.0}
    con = run(counts, {"C": None, "A": "C", "B": "C"}, min_area_population=10)
    assert protection(con) == {
        ("A", "total", "primary", "min_area_population"),
        ("A", "male", "primary", "min_area_population"),
        ("B", "total", "secondary", "secondary"),
        ("B", "male", "secondary", "secondary"),
    }


# --- secondary suppression ---------------------------------------------------------------


def test_hierarchy_suppresses_the_cheapest_sibling():
    # d1 = 1: up by 3 needs d2, d3 or the city to move; d2 (w = 1 + ln 51) is cheapest
    counts = {("C", "total"): 251.0, ("d1", "total"): 1.0}
    counts |= {("d2", "total"): 50.0, ("d3", "total"): 200.0}
    parents = {"C": None, "d1": "C", "d2": "C", "d3": "C"}
    con = run(counts, parents, min_count=3)
    assert protection(con) == {
        ("d1", "total", "primary", "min_count"),
        ("d2", "total", "secondary", "secondary"),
    }


def test_group_and_complement():
    # total = germans + foreigners; foreigners = 2: germans (w = 1 + ln 41) moves
    counts = {("A", "total"): 42.0, ("A", "germans"): 40.0, ("A", "foreigners"): 2.0}
    con = run(counts, min_count=3)
    assert protection(con) == {
        ("A", "foreigners", "primary", "min_count"),
        ("A", "germans", "secondary", "secondary"),
    }


def test_two_tables_sharing_the_total():
    # total = germans + foreigners = under_18 + adults. foreigners = 2 and adults = 1 are
    # sensitive; foreigners up: germans −3 (1 + ln 9 = 3.20) beats total +3 (3.40, adults
    # free); adults up: under_18 −3 (1 + ln 10 = 3.30) beats total +3 (3.40)
    counts = {("A", "total"): 10.0, ("A", "germans"): 8.0, ("A", "foreigners"): 2.0}
    counts |= {("A", "under_18"): 9.0, ("A", "adults"): 1.0}
    con = run(counts, min_count=3)
    assert {(t, s) for _, t, s, _ in protection(con)} == {
        ("foreigners", "primary"),
        ("adults", "primary"),
        ("germans", "secondary"),
        ("under_18", "secondary"),
    }


def test_small_city_cells_are_protected_by_each_other():
    # every cell is sensitive (1, 1, 2): suppressing them protects them all, nothing else
    counts = {("C", "total"): 2.0, ("d1", "total"): 1.0, ("d2", "total"): 1.0}
    con = duckdb.connect()
    tables(con, counts, {"C": None, "d1": "C", "d2": "C"})
    summary = suppress(con, catalogue(), Disclosure(**{**QUIET, "min_count": 3}))
    assert (summary.primary, summary.secondary, summary.unprotected) == (3, 0, 0)
    assert summary.by_level == {
        "city": {"primary": 1, "secondary": 0},
        "district": {"primary": 2, "secondary": 0},
    }


def test_empty_area_is_not_small():
    # min_area_population concerns inhabited areas: 0 residents disclose nobody
    counts = {("C", "total"): 50.0, ("A", "total"): 0.0, ("B", "total"): 50.0}
    con = run(counts, {"C": None, "A": "C", "B": "C"}, min_area_population=10)
    assert protection(con) == set()


def test_relations_do_not_cross_dates():
    counts = {("C", "total"): 51.0, ("d1", "total"): 1.0, ("d2", "total"): 50.0}
    parents = {"C": None, "d1": "C", "d2": "C"}
    con = duckdb.connect()
    tables(con, counts, parents)
    tables(con, {k: v + 10 for k, v in counts.items()}, parents, date=dt.date(2025, 6, 30))
    suppress(con, catalogue(), Disclosure(**{**QUIET, "min_count": 3}))
    rows = con.execute("SELECT ref_date, area_id, status FROM protection ORDER BY 1, 2")
    assert rows.fetchall() == [(DATE, "d1", "primary"), (DATE, "d2", "secondary")]


def test_unknown_cells_pass_through():
    con = duckdb.connect()
    tables(con, {("A", "total"): 2.0, ("B", "total"): 7.0}, {"A": None, "B": None})
    con.execute("UPDATE term_counts SET n = NULL, flag = '.' WHERE area_id = 'B'")
    con.execute("INSERT INTO terms VALUES ('rate', false)")
    con.execute("INSERT INTO term_counts VALUES (?, 'A', 'city', 'v1', 'rate', 1.5, NULL)", [DATE])
    suppress(con, catalogue(), Disclosure(**{**QUIET, "min_count": 3}))
    rows = con.execute("SELECT area_id, term, n, flag FROM protected_counts ORDER BY 1, 2")
    assert rows.fetchall() == [
        ("A", "rate", 1.5, None),
        ("A", "total", None, "suppressed"),
        ("B", "total", None, "."),
    ]


# --- property: every sensitive cell keeps its protection interval -------------------------

ATOMS = list(itertools.product(("deutsch", "auslaendisch"), ("young", "adult")))
PUBLISHED = {  # term -> atoms it counts
    "total": ATOMS,
    "germans": [a for a in ATOMS if a[0] == "deutsch"],
    "foreigners": [a for a in ATOMS if a[0] == "auslaendisch"],
    "under_18": [a for a in ATOMS if a[1] == "young"],
    "foreigners&under_18": [("auslaendisch", "young")],
}


def random_city(rng: np.random.Generator, depth: int) -> tuple[dict, dict, dict]:
    """A city with ``depth`` levels (area 'C', children 'C.0', 'C.0.1', ...; 2-3 children
    at the top, 1-3 below); person counts per finest area and atom."""
    parents, atoms, frontier = {"C": None}, {}, ["C"]
    for level in range(1, depth):
        children = []
        for area in frontier:
            for i in range(rng.integers(2, 4) if level == 1 else rng.integers(1, 4)):
                children.append(f"{area}.{i}")
                parents[children[-1]] = area
        frontier = children
    for area in frontier:
        for atom in ATOMS:
            atoms[(area, atom)] = float(rng.choice([0, 1, 2, 3, 4, 6, 15, 40]))
    counts = {
        (area, term): sum(atoms[(b, atom)] for b in frontier if within(b, area) for atom in members)
        for area in parents
        for term, members in PUBLISHED.items()
    }
    return parents, atoms, counts


def within(block: str, area: str) -> bool:
    return block == area or block.startswith(area + ".")


def attacker_range(con, parents, atoms, term: str, area: str) -> tuple[float, float]:
    """min and max of a cell (or a combination 'a-b+2*c') over all non-negative person-level tables
    that agree with every published cell."""
    blocks = sorted({b for b, _ in atoms})
    index = {(b, atom): i for i, (b, atom) in enumerate(itertools.product(blocks, ATOMS))}

    def row(area_id: str, name: str) -> np.ndarray:
        vector = np.zeros(len(index))
        for b in blocks:
            if within(b, area_id):
                for atom in PUBLISHED[name]:
                    vector[index[(b, atom)]] = 1.0
        return vector

    published = con.execute(
        "SELECT area_id, term, n FROM protected_counts WHERE n IS NOT NULL"
    ).fetchall()
    a_eq = np.array([row(a, t) for a, t, _ in published])
    b_eq = np.array([n for _, _, n in published])
    target = np.zeros(len(index))
    for sign, size, name in re.findall(r"([+-]?)(?:([0-9.]+)\*)?([^+*-]+)", term):
        target += (-1.0 if sign == "-" else 1.0) * float(size or 1) * row(area, name)
    low = linprog(target, A_eq=a_eq, b_eq=b_eq, method="highs")
    high = linprog(-target, A_eq=a_eq, b_eq=b_eq, method="highs")
    assert low.status == 0 and high.status == 0
    return low.fun, -high.fun


@pytest.mark.parametrize(
    ("seed", "depth", "min_area_population"),
    [(seed, 3, 0) for seed in range(8)] + [(seed, 4, 8) for seed in range(8, 12)],
)
def test_random_hierarchy_is_protected(seed, depth, min_area_population):
    rng = np.random.default_rng(seed)
    parents, atoms, counts = random_city(rng, depth)
    con = duckdb.connect()
    tables(con, counts, parents, shares=(("foreigners", "total"),))
    rules = Disclosure(
        min_count=3,
        min_denominator=12,
        group_disclosure_below=20,
        min_area_population=min_area_population,
    )
    summary = suppress(con, catalogue(), rules)
    assert summary.unprotected == 0
    sensitive = con.execute(
        "SELECT area_id, term, n FROM protection WHERE status = 'primary'"
    ).fetchall()
    assert sensitive, "the random table should have sensitive cells"
    p = rules.protection_interval
    for area, term, value in sensitive:
        low, high = attacker_range(con, parents, atoms, term, area)
        assert high >= value + p - 1e-6, (area, term, value, high)
        assert low <= max(0.0, value - p) + 1e-6, (area, term, value, low)
    suppressed = con.execute("SELECT count(*) FROM protected_counts WHERE n IS NULL")
    assert suppressed.fetchone()[0] == summary.primary + summary.secondary
