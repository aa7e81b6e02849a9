"""Known answers of the attack audit, computed by hand on tiny publications.

The table of every test is the hierarchy city C = A + B crossed with groups (total,
germans, foreigners); the audit must find the relations itself from the catalogue's filters
and the areas, and recover (or not) what a careful attacker can.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from etl.audit import format_report, run_audit
from etl.indicators.spec import load_catalogue

REPO = Path(__file__).resolve().parents[2]

SCHEMA = Path(__file__).resolve().parents[2] / "etl" / "schema.sql"
DATE = "2024-12-31"

CATALOGUE = """
version: 1
defaults: {source: register, definition_id: test}
units:
  persons: {de: Personen, en: persons}
  percent: {de: "%", en: "%"}
  quotient: {de: Q, en: Q}
  index: {de: I, en: I}
groups:
  total: {}
  germans: {citizenship: deutsch}
  foreigners: {citizenship: auslaendisch}
  migration_background: {migration_background: mit}
  germans_with_migration_background: {citizenship: deutsch, migration_background: mit}
indicators:
  - {id: residents, function: count, of: total, topic: t, title: {de: E, en: R},
     definition: {de: d, en: d}}
  - {id: germans, function: count, of: germans, topic: t, title: {de: D, en: G},
     definition: {de: d, en: d}}
  - {id: foreigners, function: count, of: foreigners, topic: t, title: {de: A, en: F},
     definition: {de: d, en: d}}
  - {id: migrants, function: count, of: migration_background, topic: t,
     title: {de: M, en: M}, definition: {de: d, en: d}}
  - {id: german_migrants, function: count, of: germans_with_migration_background, topic: t,
     title: {de: DM, en: GM}, definition: {de: d, en: d}}
  - {id: foreigners_lq, function: location_quotient, group: foreigners, topic: t,
     title: {de: LQ, en: LQ}, definition: {de: d, en: d}}
  - {id: foreigners_seg, function: segregation_is, group: foreigners, min_unit_population: 12,
     topic: t, title: {de: IS, en: IS}, definition: {de: d, en: d}}
  - {id: foreigner_share, function: share, numerator: foreigners, denominator: total,
     topic: t, title: {de: AA, en: FS}, definition: {de: d, en: d},
     numerator_label: {de: A, en: F}, denominator_label: {de: E, en: R}}
"""

# true counts: area → (total, germans, foreigners)
TRUE = {"C": (30, 20, 10), "A": (11, 10, 1), "B": (19, 10, 9)}
TERM = {"residents": 0, "germans": 1, "foreigners": 2}


@pytest.fixture
def catalogue(tmp_path):
    path = tmp_path / "indicators.yaml"
    path.write_text(CATALOGUE, encoding="utf-8")
    return load_catalogue(path)


def write_db(path: Path, rows: list[tuple], areas: tuple[str, ...] = ("C", "A", "B")) -> Path:
    """A publication file: areas C (city) ⊃ A, B and the given indicator_values rows
    (indicator_id, area_id, value, numerator, denominator, flag[, level of the units])."""
    with duckdb.connect(str(path)) as con:
        con.execute(SCHEMA.read_text(encoding="utf-8"))
        con.execute("INSERT INTO levels VALUES ('city', 0, 'Stadt', 'City'), "
                    "('district', 1, 'Bezirk', 'District')")  # fmt: skip
        for area in areas:
            level, parent = ("city", None) if area == "C" else ("district", "C")
            con.execute(
                "INSERT INTO areas VALUES (?, ?, ?, ?, 'v1', DATE '2000-01-01', NULL)",
                [area, level, area, parent],
            )
        for ind in sorted({row[0] for row in rows}):
            function = {"share": "share", "lq": "location_quotient"}.get(
                ind.split("_")[-1], "count"
            )
            con.execute(
                "INSERT INTO indicators VALUES (?, ?, 't', 'x', 'x', 'x', 'x', NULL, NULL, NULL,"
                " NULL, 'persons', 'P', 'p', 0, 'register', 'test', 0)",
                [ind, function],
            )
        for ind, area, value, num, den, flag, *units in rows:
            level = units[0] if units else "city" if area == "C" else "district"
            con.execute(
                "INSERT INTO indicator_values VALUES (?, DATE '2024-12-31', ?, ?, ?, ?, ?, ?, "
                "'test', NULL)",
                [ind, area, level, value, num, den, flag],
            )
    return path


def counts(withheld: set[tuple[str, str]], table: dict = TRUE) -> list[tuple]:
    """Count rows of ``table`` (the true one), with the (indicator, area) pairs in
    ``withheld`` NULL."""
    rows = []
    for area, values in table.items():
        for ind, position in TERM.items():
            v = None if (ind, area) in withheld else float(values[position])
            rows.append((ind, area, v, v, None, "suppressed" if v is None else None))
    return rows


def internal(tmp_path: Path) -> Path:
    """The unprotected file of the C = A + B table (written once per test)."""
    path = tmp_path / "internal.duckdb"
    return path if path.exists() else write_db(path, counts(set()))


def result(report, term: str, area: str):
    return next(r for r in report.results if r.term == term and r.area_id == area)


def test_primary_alone_in_its_row_is_recovered(tmp_path, catalogue):
    pub = write_db(tmp_path / "pub.duckdb", counts({("foreigners", "A")}))
    report = run_audit(pub, internal(tmp_path), catalogue, protection=3, min_count=3,
                       method="suppression", max_deviation=None)  # fmt: skip
    cell = result(report, "foreigners", "A")
    assert (cell.low, cell.high, cell.truth) == (1, 1, 1)
    assert not cell.passed
    assert report.failures[0] == cell
    assert report.narrowest == cell


def test_published_small_cell_fails(tmp_path, catalogue):
    pub = write_db(tmp_path / "pub.duckdb", counts(set()))
    cell = result(run_audit(pub, pub, catalogue), "foreigners", "A")
    assert (cell.low, cell.high, cell.published, cell.passed) == (1, 1, True, False)


def test_complementary_rectangle_passes(tmp_path, catalogue):
    hidden = {("foreigners", "A"), ("foreigners", "B"), ("germans", "A"), ("germans", "B")}
    pub = write_db(tmp_path / "pub.duckdb", counts(hidden))
    report = run_audit(pub, internal(tmp_path), catalogue, 3, 3, "suppression", None, exact=True)
    # f_A = t, g_A = 11 − t, f_B = 10 − t, g_B = 9 + t, all ≥ 0  →  t ∈ [0, 10]
    expected = {("foreigners", "A"): (0, 10), ("germans", "A"): (1, 11),
                ("foreigners", "B"): (0, 10), ("germans", "B"): (9, 19)}  # fmt: skip
    assert {(r.term, r.area_id): (r.low, r.high) for r in report.results} == expected
    assert report.passed
    assert result(report, "foreigners", "A").kind == "sensitive"
    assert report.loss["district"].withheld == 4


def test_group_and_complement_recovered(tmp_path, catalogue):
    # city only: total 30, germans 28 published, foreigners (true 2) withheld
    true = [("residents", "C", 30.0, 30.0, None, None), ("germans", "C", 28.0, 28.0, None, None),
            ("foreigners", "C", 2.0, 2.0, None, None)]  # fmt: skip
    inside = write_db(tmp_path / "internal.duckdb", true, areas=("C",))
    shown = [*true[:2], ("foreigners", "C", None, None, None, "suppressed")]
    pub = write_db(tmp_path / "pub.duckdb", shown, areas=("C",))
    report = run_audit(pub, inside, catalogue, 3, 3, "suppression", None)
    cell = result(report, "foreigners", "C")
    assert (cell.low, cell.high, cell.passed) == (2, 2, False)


def test_small_complement_of_published_pair_is_a_failure(tmp_path, catalogue):
    # only total and foreigners exist in the publication: the complement cell
    # 'total - foreigners' (true 2) is derived by the audit and is an immediate failure
    true = [("residents", "C", 30.0, 30.0, None, None),
            ("foreigners", "C", 28.0, 28.0, None, None)]  # fmt: skip
    path = write_db(tmp_path / "pub.duckdb", true, areas=("C",))
    report = run_audit(path, path, catalogue, 3, 3, "suppression", None)
    cell = result(report, "total - foreigners", "C")
    assert (cell.truth, cell.low, cell.high, cell.passed) == (2, 2, 2, False)


def test_venn_region_bounds_a_withheld_group(tmp_path, catalogue):
    # total 30, migration background 12, Germans with migration background 10 published;
    # foreigners (true 2) withheld. No term relation bounds them below, but the persons
    # with migration background who are not German (12 − 10 = 2) are foreigners:
    # foreigners ∈ [2, 30 − 10] = [2, 20]; 0 cannot be excluded → protection fails.
    true = [("residents", "C", 30.0, 30.0, None, None), ("migrants", "C", 12.0, 12.0, None, None),
            ("german_migrants", "C", 10.0, 10.0, None, None),
            ("foreigners", "C", 2.0, 2.0, None, None)]  # fmt: skip
    inside = write_db(tmp_path / "internal.duckdb", true, areas=("C",))
    shown = [*true[:3], ("foreigners", "C", None, None, None, "suppressed")]
    pub = write_db(tmp_path / "pub.duckdb", shown, areas=("C",))
    report = run_audit(pub, inside, catalogue, 3, 3, "suppression", None, exact=True)
    cell = result(report, "foreigners", "C")
    assert (cell.low, cell.high, cell.passed) == (2, 20, False)


@pytest.mark.parametrize("value", [100 * 2 / 30, 6.7])  # exact, and rounded to 1 decimal
def test_share_value_reveals_withheld_numerator(tmp_path, catalogue, value):
    true = [("residents", "C", 30.0, 30.0, None, None),
            ("foreigner_share", "C", 100 * 2 / 30, 2.0, 30.0, None)]  # fmt: skip
    inside = write_db(tmp_path / "internal.duckdb", true, areas=("C",))
    shown = [true[0], ("foreigner_share", "C", value, None, 30.0, "suppressed")]
    pub = write_db(tmp_path / "pub.duckdb", shown, areas=("C",))
    report = run_audit(pub, inside, catalogue, 3, 3, "suppression", None)
    cell = result(report, "foreigners", "C")
    assert (cell.low, cell.high, cell.passed) == (2, 2, False)


def test_location_quotient_reveals_withheld_group(tmp_path, catalogue):
    # city: 30 residents, 10 foreigners published; in A the quotient (1/11)/(10/30) is
    # published with its numerator withheld: x = LQ · (X/T) · t = 1
    # (the counts alone are the protected rectangle of test_complementary_rectangle_passes)
    lq = (1 / 11) / (10 / 30)
    hidden = {("foreigners", "A"), ("foreigners", "B"), ("germans", "A"), ("germans", "B")}
    rows = [*counts(hidden), ("foreigners_lq", "A", lq, None, 11.0, "suppressed")]
    pub = write_db(tmp_path / "pub.duckdb", rows)
    report = run_audit(pub, internal(tmp_path), catalogue, 3, 3, "suppression", None)
    cell = result(report, "foreigners", "A")
    assert (cell.low, cell.high, cell.passed) == (1, 1, False)


def test_unit_index_sum_over_large_units_reveals_small_one(tmp_path, catalogue):
    # residents published everywhere, foreigners only for C (10). The segregation index
    # over districts with ≥ 12 residents publishes its numerator: the foreigners of B (9),
    # the only such unit. So foreigners in A = 10 − 9 = 1 (without it: [0, 10]).
    rows = [
        *[r for r in counts({("foreigners", "A"), ("foreigners", "B")}) if r[0] != "germans"],
        ("foreigners_seg", "C", 0.3, 9.0, 19.0, None, "district"),
    ]
    pub = write_db(tmp_path / "pub.duckdb", rows)
    report = run_audit(pub, internal(tmp_path), catalogue, 3, 3, "suppression", None)
    cell = result(report, "foreigners", "A")
    assert (cell.low, cell.high, cell.passed) == (1, 1, False)
    assert "foreigners_seg" in report.not_covered
    without = write_db(tmp_path / "without.duckdb", rows[:-1])
    cell = result(run_audit(without, internal(tmp_path), catalogue, exact=True), "foreigners", "A")
    assert (cell.low, cell.high, cell.passed) == (0, 10, True)


@pytest.mark.parametrize(
    ("published", "deviation", "interval", "passed"),
    [
        # |x − p| ≤ 1: x_A ∈ [1, 3], x_B ∈ [5, 7], x_C ∈ [4, 6], x_A = x_C − x_B ≤ 6 − 5 = 1
        ({"C": 5, "A": 2, "B": 6}, 1, (1, 1), False),
        # |x − p| ≤ 2: x_A ∈ [0, 4]; x_C − x_B ∈ [5 − 6, 9 − 2] does not cut it
        ({"C": 7, "A": 2, "B": 4}, 2, (0, 4), True),
    ],
)
def test_cell_key_interval(tmp_path, catalogue, published, deviation, interval, passed):
    truth = {"C": 6.0, "A": 1.0, "B": 5.0}
    inside = write_db(
        tmp_path / "internal.duckdb", [("residents", a, v, v, None, None) for a, v in truth.items()]
    )
    rows = [("residents", a, float(v), float(v), None, None) for a, v in published.items()]
    pub = write_db(tmp_path / "pub.duckdb", rows)
    report = run_audit(pub, inside, catalogue, 3, 3, "cell_key", deviation, exact=True)
    cell = result(report, "total", "A")
    assert ((cell.low, cell.high), cell.passed) == (interval, passed)
    assert report.loss["district"].perturbed == 2


def test_disagreeing_appearances_are_reported(tmp_path, catalogue):
    rows = [("residents", "C", 30.0, 30.0, None, None),
            ("foreigner_share", "C", 100 * 2 / 31, 2.0, 31.0, None)]  # fmt: skip
    pub = write_db(tmp_path / "pub.duckdb", rows, areas=("C",))
    report = run_audit(pub, pub, catalogue, 3, 3, "suppression", None)
    assert any("total in C mit verschiedenen" in f for f in report.findings)


def test_format_report(tmp_path, catalogue):
    pub = write_db(tmp_path / "pub.duckdb", counts({("foreigners", "A")}))
    report = run_audit(pub, internal(tmp_path), catalogue, 3, 3, "suppression", None)
    text = format_report(report)
    assert "Zellen geprüft" in text and "Engstes Intervall: [1, 1]" in text
    assert "Narrowest interval" in format_report(report, lang="en")


def test_min_denominator_makes_numerator_sensitive(tmp_path, catalogue):
    true = [("residents", "C", 30.0, 30.0, None, None), ("germans", "C", 20.0, 20.0, None, None),
            ("foreigner_share", "C", 100 / 3, 10.0, 30.0, None)]  # fmt: skip
    inside = write_db(tmp_path / "internal.duckdb", true, areas=("C",))
    shown = [true[0], ("foreigner_share", "C", None, None, 30.0, "suppressed")]
    pub = write_db(tmp_path / "pub.duckdb", shown, areas=("C",))
    report = run_audit(pub, inside, catalogue, min_denominator=31, exact=True)
    cell = result(report, "foreigners", "C")
    assert (cell.kind, cell.low, cell.high, cell.passed) == ("sensitive", 0, 30, True)
    assert (cell.required_low, cell.required_high) == (7, 13)
    leaky = write_db(tmp_path / "leaky.duckdb", [*shown, true[1]], areas=("C",))
    cell = result(run_audit(leaky, inside, catalogue, min_denominator=31), "foreigners", "C")
    assert (cell.low, cell.high, cell.passed) == (10, 10, False)


def test_raw_count_tables_in_the_publication_are_reported(tmp_path, catalogue):
    pub = write_db(tmp_path / "pub.duckdb", counts({("foreigners", "A")}))
    with duckdb.connect(str(pub)) as con:
        con.execute(
            "INSERT INTO area_counts (ref_date, area_id, term, value, source_id) "
            "VALUES (DATE '2024-12-31', 'A', 'foreigners', 1, 'r')"
        )
    report = run_audit(pub, internal(tmp_path), catalogue)
    assert report.raw_tables == {"area_counts": 1}
    assert "ungeschützte Zählungen: area_counts (1)" in format_report(report)


ROUNDED = {"C": (30, 20, 10), "A": (10, 10, 0), "B": (20, 10, 10)}  # TRUE rounded to 5


def test_rounded_counts_are_ranges(tmp_path, catalogue):
    # Rounded to 5 (half up), a published p stands for p − 2 … p + 2. Foreigners of A and
    # B withheld: A = total − germans ∈ [8 − 12, 12 − 8] → [0, 4], which reaches [1 − 3, 1 + 3]
    # (exact counts would give 11 − 10 = 1).
    hidden = {("foreigners", "A"), ("foreigners", "B")}
    pub = write_db(tmp_path / "pub.duckdb", counts(hidden, ROUNDED))
    report = run_audit(pub, internal(tmp_path), catalogue, 3, 3, rounding=5, exact=True)
    cell = result(report, "foreigners", "A")
    assert (cell.low, cell.high, cell.passed) == (0, 4, True)
    assert "gerundet auf 5" in format_report(report)
    # the primary cell published (1 rounds to 0): 0 … 2 does not reach 4
    shown = write_db(tmp_path / "shown.duckdb", counts({("foreigners", "B")}, ROUNDED))
    report = run_audit(shown, internal(tmp_path), catalogue, rounding=5, exact=True)
    cell = result(report, "foreigners", "A")
    assert (cell.low, cell.high, cell.passed) == (0, 2, False)


def test_an_instance_of_published_rates_only_has_no_terms_to_audit(tmp_path):
    """An instance whose catalogue holds only ``observed`` rates (published as delivered,
    #14) has no additive terms: the audit's table of terms is empty but keeps its columns,
    so its joins find nothing instead of failing (AttributeError/binder error before)."""
    import yaml

    from etl.audit.publication import indicator_terms

    spec = yaml.safe_load((REPO / "indicators.yaml").read_text(encoding="utf-8"))
    spec["indicators"] = [i for i in spec["indicators"] if i.get("function") == "observed"]
    assert len(spec["indicators"]) == 2
    path = tmp_path / "indicators.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    terms = indicator_terms(load_catalogue(path))
    assert terms.empty and {"indicator_id", "num_term", "den_term"} <= set(terms.columns)
    con = duckdb.connect()
    con.register("terms", terms)
    joined = con.sql("SELECT count(*) FROM terms JOIN terms t2 USING (indicator_id)")
    assert joined.fetchall() == [(0,)]
