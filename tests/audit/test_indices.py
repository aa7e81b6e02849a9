"""Known answers of the index recomputation (etl/audit/indices.py), by hand.

City C with districts A, B, D; true (total, foreigners): A (10, 8), B (20, 5), D (15, 1),
C (45, 14). Published: B and C; A and D withheld. Anyone can pool A and D into one
remainder unit: total 45 − 20 = 25, foreigners 14 − 5 = 9, the rest 16.

* From published numbers (B, remainder): X = 14, Y = 31,
  D = ½(|5/14 − 15/31| + |9/14 − 16/31|) = 0.126728 → 0.127.
* From the true counts (A, B, D): D = ½(|8/14 − 2/31| + |5/14 − 15/31| + |1/14 − 14/31|)
  = 0.506912 → 0.507 — which would say something about A and D.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from etl.audit.allocation import check_allocations
from etl.audit.indices import check_indices
from etl.indicators.random_allocation import simulate
from etl.indicators.spec import load_catalogue

CATALOGUE = """
version: 1
defaults: {source: register, definition_id: test}
units:
  persons: {de: Personen, en: persons}
  percent: {de: "%", en: "%"}
  index: {de: I, en: I}
groups:
  total: {}
  germans: {citizenship: deutsch}
  foreigners: {citizenship: auslaendisch}
indicators:
  - {id: foreigner_share, function: share, numerator: foreigners, denominator: total,
     topic: t, title: {de: AA, en: FS}, definition: {de: d, en: d},
     numerator_label: {de: A, en: F}, denominator_label: {de: E, en: R}}
  - {id: seg, function: segregation_is, group: foreigners, topic: t,
     title: {de: IS, en: IS}, definition: {de: d, en: d}}
  - {id: dis, function: dissimilarity, group: foreigners, other: germans, topic: t,
     title: {de: D, en: D}, definition: {de: d, en: d}}
  - {id: iso, function: isolation, group: foreigners, topic: t,
     title: {de: I, en: I}, definition: {de: d, en: d}}
  - {id: gini, function: gini, group: foreigners, topic: t,
     title: {de: G, en: G}, definition: {de: d, en: d}}
"""
DATE = pd.Timestamp("2024-12-31")
PUBLISHED = {"C": (45, 14), "B": (20, 5), "A": (None, None), "D": (None, None)}


@pytest.fixture
def catalogue(tmp_path):
    path = tmp_path / "indicators.yaml"
    path.write_text(CATALOGUE, encoding="utf-8")
    return load_catalogue(path)


def areas() -> pd.DataFrame:
    rows = [("C", "city", None, 0)] + [(a, "district", "C", 1) for a in "ABD"]
    frame = pd.DataFrame(rows, columns=["area_id", "level", "parent_id", "rank"])
    return frame.assign(vintage="v1", valid_from=pd.Timestamp("2000-01-01"), valid_to=pd.NaT)


def shares(published: dict) -> pd.DataFrame:
    rows = [
        ("foreigner_share", DATE, area, "city" if area == "C" else "district", None, x, t,
         "foreigners", "total", "suppressed" if x is None or t is None else None)
        for area, (t, x) in published.items()
    ]  # fmt: skip
    columns = ["indicator_id", "ref_date", "area_id", "level", "value", "numerator",
               "denominator", "num_term", "den_term", "flag"]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns).assign(function="share")
    return frame.astype({"numerator": float, "denominator": float})


def index(values: dict[str, float | None]) -> pd.DataFrame:
    rows = [(ind, DATE, "C", "district", v) for ind, v in values.items()]
    return pd.DataFrame(rows, columns=["indicator_id", "ref_date", "area_id", "level", "value"])


def test_value_from_published_counts_passes(catalogue):
    # dis: germans are published nowhere; total = germans + foreigners derives them
    # isolation: Σ (x/X)(x/t) = (5/14)(5/20) + (9/14)(9/25) = 0.320714 → 0.321
    # Gini over B (p = 0.25) and the remainder (p = 0.36): 20·25·0.11·2 / (2·45²·P(1−P)),
    # P = 14/45: 55 / (2025 · 0.214321) = 0.126728 → 0.127 (two units: Gini = D)
    result = check_indices(
        catalogue,
        shares(PUBLISHED),
        index({"seg": 0.127, "dis": 0.127, "iso": 0.321, "gini": 0.127}),
        areas(),
    )
    assert (result.checked, result.failures) == (4, [])


def test_value_from_true_counts_fails(catalogue):
    result = check_indices(catalogue, shares(PUBLISHED), index({"seg": 0.507}), areas())
    assert result.checked == 1
    assert result.failures == [
        "seg 2024-12-31 C (district): veröffentlicht 0.507, aus veröffentlichten Zahlen 0.126728"
    ]


def test_withheld_index_is_safe(catalogue):
    result = check_indices(catalogue, shares(PUBLISHED), index({"seg": None}), areas())
    assert (result.checked, result.failures) == (0, [])


def test_index_needing_a_withheld_area_count_fails(catalogue):
    # foreigners of C withheld too: the remainder cannot be worked out, so a published index
    # must rest on something unpublished
    hidden = {**PUBLISHED, "C": (45, None)}
    result = check_indices(catalogue, shares(hidden), index({"seg": 0.127}), areas())
    assert len(result.failures) == 1
    assert "nicht aus veröffentlichten Zahlen berechenbar" in result.failures[0]


def test_unit_the_source_did_not_publish_is_no_remainder(catalogue):
    # A has no published count at all ('.' from the source, not withheld): A stays a unit,
    # so an index over the units used including A is incomplete and must not be published
    hidden = shares(PUBLISHED)
    hidden.loc[hidden.area_id == "A", "flag"] = "."
    result = check_indices(catalogue, hidden, index({"seg": 0.127}), areas())
    assert "nicht aus veröffentlichten Zahlen berechenbar" in result.failures[0]


def test_all_units_published_needs_no_remainder(catalogue):
    # A and D published too: the index over A, B, D is the true one, 0.507
    shown = {**PUBLISHED, "A": (10, 8), "D": (15, 1)}
    result = check_indices(catalogue, shares(shown), index({"seg": 0.507}), areas())
    assert result.failures == []


def draws_over(units: dict[str, tuple[int, int]], catalogue) -> pd.DataFrame:
    """The random-allocation draws of ``seg`` over the given units (area → (total,
    foreigners)) of city C on DATE, drawn by the engine with the catalogue's seed."""
    rows = [
        (DATE.date(), area, "district", "v", term, float(n))
        for area, (t, x) in units.items()
        for term, n in (("total", t), ("foreigners", x))
    ]
    with duckdb.connect() as con:
        con.execute(
            "CREATE TEMP TABLE term_counts (ref_date DATE, area_id VARCHAR, level VARCHAR, "
            "vintage VARCHAR, term VARCHAR, n DOUBLE, flag VARCHAR)"
        )
        con.executemany("INSERT INTO term_counts VALUES (?, ?, ?, ?, ?, ?, NULL)", rows)
        con.execute(
            "CREATE TEMP TABLE unit_roots AS SELECT DISTINCT area_id AS unit_id, 'C' AS root_id, "
            "'v' AS vintage FROM term_counts"
        )
        con.execute(
            "CREATE TABLE random_allocation (indicator_id VARCHAR, ref_date DATE, "
            "area_id VARCHAR, level VARCHAR, draw INTEGER, value DOUBLE)"
        )
        seg = [ind for ind in catalogue.indicators if ind.id == "seg"]
        simulate(con, seg, catalogue.random_allocation)
        frame = con.sql("SELECT * FROM random_allocation").df()
    return frame.assign(value=frame.value.round(3), ref_date=pd.to_datetime(frame.ref_date))


def test_draws_from_the_published_units_can_be_repeated(catalogue):
    # by hand: the units anyone can derive are B (20, 5) and the remainder C~district
    # (45 − 20, 14 − 5) = (25, 9)
    published = draws_over({"B": (20, 5), "C~district": (25, 9)}, catalogue)
    checked, failures = check_allocations(
        catalogue, shares(PUBLISHED), index({"seg": 0.127}), areas(), published
    )
    assert checked == len(published) > 0 and failures == []


def test_draws_from_the_true_units_fail(catalogue):
    published = draws_over({"A": (10, 8), "B": (20, 5), "D": (15, 1)}, catalogue)
    _, failures = check_allocations(
        catalogue, shares(PUBLISHED), index({"seg": 0.127}), areas(), published
    )
    assert failures == [
        "seg 2024-12-31 C (district): Zufallsverteilung nicht aus veröffentlichten Zahlen "
        "wiederholbar"
    ]
