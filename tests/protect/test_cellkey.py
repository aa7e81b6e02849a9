"""The cell-key method (etl/protect/cellkey.py), checked by hand.

Record keys are recomputed here from the md5 digest (Python's hashlib), cell keys as sums of
them, and perturbed counts by looking the cell keys up in a small perturbation table
written below; the ptable built by the module is checked against its constraints and
against a primal maximum-entropy solution from another solver (SLSQP).
"""

from __future__ import annotations

import csv
import hashlib
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from etl.profile import CellKey, load_profile
from etl.protect import cellkey
from etl.transform.population import aggregate_persons, load_code_lists
from tests.conftest import TINY_PROFILE

M = 2**32
Q = M // 4
SECRET = "test-secret"
DEFAULT = CellKey()  # D = 3, V = 1.5

# a tiny register: person id, district, foreign citizen
PERSONS = [
    ("T01", "A", True),
    ("T02", "A", False),
    ("T03", "A", False),
    ("T04", "A", True),
    ("T05", "B", False),
    ("T06", "B", False),
    ("T07", "B", True),
    ("T08", "B", False),
    ("T09", "B", False),
    ("T10", "C", False),
]

# a fixed ptable in units of 2^-32 (quarters Q = 2^30): rows 0..4, row 4 for all counts >= 4
FIXED = pd.DataFrame(
    [
        # i, v, lower, upper
        (0, 0, 0, M),
        (1, 2, 0, Q),  # 1 -> 3 for cell keys in [0, 1/4)
        (1, -1, Q, M),  # 1 -> 0 otherwise
        (2, -2, 0, Q),
        (2, 1, Q, M),
        (3, 0, 0, 2 * Q),
        (3, 1, 2 * Q, M),
        (4, -1, 0, Q),
        (4, 0, Q, 3 * Q),
        (4, 1, 3 * Q, M),
    ],
    columns=["i", "v", "lower", "upper"],
).assign(j=lambda t: t.i + t.v, p=lambda t: (t.upper - t.lower) / M)


def record_key(secret: str, person_id: str) -> int:
    """By hand: DuckDB's md5_number_lower is the digest's bytes 8..15 read little-endian;
    mod 2^32 leaves bytes 8..11, i.e. hex digits 16..23 with the byte order reversed."""
    digest = hashlib.md5((secret + person_id).encode("utf-8")).hexdigest()
    return int("".join(reversed([digest[k : k + 2] for k in range(16, 24, 2)])), 16)


def lookup(table: pd.DataFrame, n: int, cell_key: int) -> int:
    """The perturbed count by hand: the interval of row min(n, top) holding the key."""
    row = table[table.i == min(n, table.i.max())]
    hit = row[(row.lower <= cell_key) & (cell_key < row.upper)]
    assert len(hit) == 1
    return n + int(hit.v.iloc[0])


# --- record keys ----------------------------------------------------------------------------


def test_record_key_by_hand():
    # md5("test-secretT01") = 3700a287f3fecdaa 63337ef0 3951d699; bytes 8..11 = 63 33 7e f0
    assert hashlib.md5(b"test-secretT01").hexdigest() == "3700a287f3fecdaa63337ef03951d699"
    assert record_key(SECRET, "T01") == 0xF07E3363 == 4034802531


def test_record_key_sql_equals_hashlib():
    con = duckdb.connect()
    con.execute("CREATE TABLE persons (person_id VARCHAR)")
    con.executemany("INSERT INTO persons VALUES (?)", [[p] for p, _, _ in PERSONS])
    rows = con.execute(
        f"SELECT person_id, {cellkey.RECORD_KEY_SQL} FROM persons ORDER BY 1",
        {"cell_key_secret": SECRET},
    ).fetchall()
    assert rows == [(p, record_key(SECRET, p)) for p, _, _ in PERSONS]
    assert all(0 <= key < M for _, key in rows)


def test_two_secrets_give_different_keys():
    con = duckdb.connect()
    sql = f"SELECT {cellkey.RECORD_KEY_SQL} FROM (SELECT 'T01' AS person_id)"
    first = con.execute(sql, {"cell_key_secret": "one"}).fetchall()[0][0]
    second = con.execute(sql, {"cell_key_secret": "two"}).fetchall()[0][0]
    assert first != second
    assert (first, second) == (record_key("one", "T01"), record_key("two", "T01"))


def test_secret_from_environment(monkeypatch):
    monkeypatch.delenv(cellkey.SECRET_ENV, raising=False)
    assert cellkey.resolve_secret(CellKey(secret="profile")) == "profile"
    monkeypatch.setenv(cellkey.SECRET_ENV, "from-env")
    assert cellkey.resolve_secret(CellKey(secret="profile")) == "from-env"
    monkeypatch.setenv(cellkey.SECRET_ENV, "")
    assert cellkey.resolve_secret(CellKey(secret="profile")) == "profile"


def test_same_person_same_key_on_every_reference_date():
    """aggregate_persons on two dates: an area's key sum is the sum of its persons' keys."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE population (ref_date DATE, area_id VARCHAR, sex VARCHAR, age_group "
        "VARCHAR, citizenship VARCHAR, migration_status VARCHAR, migration_background "
        "VARCHAR, origin_region VARCHAR, definition_id VARCHAR, count BIGINT, key_sum UBIGINT)"
    )
    load_code_lists(con)
    for ref_date in (date(2023, 12, 31), date(2024, 12, 31)):
        _stage(con, PERSONS)
        assert aggregate_persons(con, ref_date, SECRET) == len(PERSONS)
    sums = con.execute(
        "SELECT ref_date, area_id, sum(key_sum) FROM population GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    expected = {
        area: sum(record_key(SECRET, p) for p, a, _ in PERSONS if a == area) for area in "ABC"
    }
    assert [(area, total) for _, area, total in sums] == sorted(expected.items()) * 2


def _stage(con: duckdb.DuckDBPyConnection, persons: list[tuple]) -> None:
    """A stg_persons as register_persons.stage writes it (German or Turkish adults)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE stg_persons (person_id VARCHAR, area_id VARCHAR, "
        "birth_year INTEGER, sex VARCHAR, citizenship_1 VARCHAR, citizenship_2 VARCHAR, "
        "country_of_birth VARCHAR, arrival_year INTEGER, naturalised BOOLEAN, "
        "repatriate BOOLEAN, household_id VARCHAR, household_position VARCHAR)"
    )
    con.executemany(
        "INSERT INTO stg_persons VALUES (?, ?, 1980, 'w', ?, NULL, ?, ?, false, false, ?, 'HV')",
        [
            [p, a, "TR" if f else "DE", "TR" if f else "DE", 2000 if f else None, p]
            for p, a, f in persons
        ],
    )


# --- perturbation with the fixed table ------------------------------------------------------


def _cells() -> dict[tuple[str, str, str], list[str]]:
    """(level, area, term) -> persons: districts A, B, C and the city X."""
    cells = {}
    for area in "ABC":
        cells["district", area, "total"] = [p for p, a, _ in PERSONS if a == area]
        cells["district", area, "foreigners"] = [p for p, a, f in PERSONS if a == area and f]
    cells["city", "X", "total"] = [p for p, _, _ in PERSONS]
    cells["city", "X", "foreigners"] = [p for p, _, f in PERSONS if f]
    return cells


def _term_counts(con: duckdb.DuckDBPyConnection) -> None:
    """TEMP term_counts and terms as the engine leaves them, with key sums computed here,
    plus rows that must stay unchanged: flagged, office data (no key sum), a rate."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE term_counts (ref_date DATE, area_id VARCHAR, level "
        "VARCHAR, vintage VARCHAR, term VARCHAR, n DOUBLE, flag VARCHAR, key_sum UBIGINT)"
    )
    rows = [
        (level, area, term, len(ps), None, sum(record_key(SECRET, p) for p in ps))
        for (level, area, term), ps in _cells().items()
    ]
    rows += [
        ("district", "F", "total", None, "secret", None),
        ("district", "A", "office_count", 1, None, None),
        ("district", "A", "rate", 1, None, 123),
    ]
    con.executemany(
        "INSERT INTO term_counts VALUES (DATE '2024-12-31', ?, ?, 'v1', ?, ?, ?, ?)",
        [(a, lv, t, n, f, k) for lv, a, t, n, f, k in rows],
    )
    con.execute("CREATE OR REPLACE TEMP TABLE terms (term VARCHAR, additive BOOLEAN)")
    con.executemany(
        "INSERT INTO terms VALUES (?, ?)",
        [("total", True), ("foreigners", True), ("office_count", True), ("rate", False)],
    )


def _protected(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], float | None]:
    rows = con.execute("SELECT area_id, term, n FROM protected_counts").fetchall()
    return {(area, term): n for area, term, n in rows}


def test_cell_keys_by_hand():
    cells = _cells()
    keys = {cell: sum(record_key(SECRET, p) for p in ps) % M for cell, ps in cells.items()}
    # cell key = (sum of the record keys mod 2^32) / 2^32
    assert keys["district", "A", "foreigners"] == (4034802531 + 927611826) % M == 667447061
    assert keys["district", "B", "foreigners"] == 817016132  # T07 alone
    assert keys["district", "C", "foreigners"] == 0  # nobody
    assert keys["district", "B", "total"] == 1083384203  # just above 1/4 = 1073741824
    assert keys["city", "X", "total"] == 4165050196  # 0.9698 of 2^32


def test_perturbed_counts_by_hand():
    con = duckdb.connect()
    _term_counts(con)
    cellkey.perturb(con, CellKey(secret=SECRET), ptable=FIXED)
    got = _protected(con)
    expected = {
        ("A", "total"): 4,  # key 0.378 -> row 4, [1/4, 3/4): 0
        ("A", "foreigners"): 0,  # 2, key 0.155 -> row 2, [0, 1/4): -2
        ("B", "total"): 5,  # 5, key 0.2522 -> row 4 (all >= 4), [1/4, 3/4): 0
        ("B", "foreigners"): 3,  # 1, key 0.190 -> row 1, [0, 1/4): +2
        ("C", "total"): 0,  # 1, key 0.339 -> row 1, [1/4, 1): -1
        ("C", "foreigners"): 0,  # zero stays zero
        ("X", "total"): 11,  # 10, key 0.9698 -> row 4, [3/4, 1): +1
        ("X", "foreigners"): 3,  # 3, key 0.346 -> row 3, [0, 1/2): 0
        ("F", "total"): None,  # flagged: unchanged
        ("A", "office_count"): 1,  # no key sum (office data): unchanged
        ("A", "rate"): 1,  # not additive: unchanged
    }
    assert got == expected
    for (_, area, term), persons in _cells().items():  # the same by the lookup above
        key = sum(record_key(SECRET, p) for p in persons) % M
        assert got[area, term] == lookup(FIXED, len(persons), key)


def test_protected_counts_columns_and_summary():
    con = duckdb.connect()
    _term_counts(con)
    cellkey.perturb(con, CellKey(secret=SECRET), ptable=FIXED)
    columns = [r[0] for r in con.execute("DESCRIBE protected_counts").fetchall()]
    assert columns == ["ref_date", "area_id", "level", "vintage", "term", "n", "flag"]
    assert con.execute("SELECT count(*) FROM protected_counts").fetchall()[0][0] == 11
    summary = con.execute("FROM cellkey_summary ORDER BY level").fetchall()
    # level, cells, changed, share changed, max |deviation|
    assert summary == [
        ("all", 8, 4, 0.5, 2),
        ("city", 2, 1, 0.5, 1),
        ("district", 6, 3, 0.5, 2),
    ]


def test_same_cell_same_value_on_two_calls():
    con = duckdb.connect()
    _term_counts(con)
    cellkey.perturb(con, DEFAULT)
    first = con.execute("FROM protected_counts ORDER BY ALL").fetchall()
    cellkey.perturb(con, DEFAULT)
    assert con.execute("FROM protected_counts ORDER BY ALL").fetchall() == first


def test_broken_ptable_is_refused():
    gap = FIXED[~((FIXED.i == 4) & (FIXED.v == 0))]
    with pytest.raises(ValueError, match="row i=4"):
        cellkey.check_ptable(gap)


# --- the ptable built -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def ptable() -> pd.DataFrame:
    return cellkey.build_ptable(DEFAULT)


def _moments(table: pd.DataFrame) -> pd.DataFrame:
    return table.groupby("i").apply(
        lambda r: pd.Series(
            {
                "width": int((r.upper - r.lower).sum()),
                "p": r.p.sum(),
                "mean": (r.p * r.v).sum(),
                "var": (r.p * r.v**2).sum(),
            }
        )
    )


def test_ptable_constraints(ptable):
    assert ptable.attrs == {"max_deviation": 3, "variance": 1.5, "blocked": 2, "top_row": 6}
    assert sorted(ptable.i.unique()) == list(range(7))
    moments = _moments(ptable)
    assert (moments.width == M).all()  # each row splits [0, 1) exactly
    assert np.allclose(moments.p, 1.0, rtol=0, atol=1e-12)
    assert (moments["mean"].abs() < 1e-9).all()
    assert np.allclose(moments["var"].loc[3:], 1.5, rtol=0, atol=1e-8)  # V where feasible
    # a 1 or a 2 must become 0 or >= 3: the smallest variance with mean 0 is 2
    # (1 -> 0 with 2/3, -> 3 with 1/3; 2 -> 0 with 1/3, -> 3 with 2/3)
    assert np.allclose(moments["var"].loc[1:2], 2.0, rtol=0, atol=1e-8)
    assert ptable[ptable.i == 1][["j", "v"]].values.tolist() == [[0, -1], [3, 2]]
    assert ptable[ptable.i == 2][["j", "v"]].values.tolist() == [[0, -2], [3, 1]]
    assert ptable.v.abs().max() == 3
    assert (ptable.j >= 0).all() and not ptable.j.isin([1, 2]).any()
    zero = ptable[ptable.i == 0]
    assert zero[["j", "v", "p"]].values.tolist() == [[0, 0, 1.0]]
    top = ptable[ptable.i == 6]
    assert top.v.tolist() == [-3, -2, -1, 0, 1, 2, 3]
    assert np.allclose(top.p.to_numpy(), top.p.to_numpy()[::-1], rtol=0, atol=1e-9)


@pytest.mark.parametrize("d, v", [(2, 1.0), (4, 0.5), (5, 3.0)])
def test_ptable_constraints_other_parameters(d, v):
    table = cellkey.build_ptable(CellKey(max_deviation=d, variance=v))
    moments = _moments(table)
    assert (moments.width == M).all()
    assert (moments["mean"].abs() <= 2 * d / 2**33).all()  # rounding to 2^-32 only
    assert abs(moments["var"].iloc[-1] - v) < 1e-8
    assert table.v.abs().max() <= d and (table.j >= 0).all()
    assert not table.j.isin([1, 2]).any()


def test_ptable_needs_deviation_two():
    with pytest.raises(ValueError, match="mean 0"):  # a 1 could only become 0
        cellkey.build_ptable(CellKey(max_deviation=1, variance=1.0))


def test_ptable_is_the_maximum_entropy_solution(ptable):
    """The primal problem solved by SLSQP gives the same probabilities (rows 3..6)."""
    for i in range(3, 7):
        row = ptable[ptable.i == i]
        v = row.v.to_numpy().astype(float)
        constraints = [
            {"type": "eq", "fun": lambda p: p.sum() - 1},
            {"type": "eq", "fun": lambda p, v=v: p @ v},
            {"type": "eq", "fun": lambda p, v=v: p @ v**2 - 1.5},
        ]
        result = optimize.minimize(
            lambda p: float(np.sum(p * np.log(np.maximum(p, 1e-300)))),
            np.full(len(v), 1 / len(v)),
            method="SLSQP",
            bounds=[(0, 1)] * len(v),
            constraints=constraints,
            options={"ftol": 1e-14, "maxiter": 500},
        )
        assert result.success, (i, result.message)
        assert np.abs(result.x - row.p.to_numpy()).max() < 1e-5, i


def test_perturbation_follows_the_ptable(ptable):
    """Cell keys spread evenly over [0, 1): every deviation occurs with its probability;
    no count becomes negative, 1 or 2, and none moves by more than D."""
    con = duckdb.connect()
    con.execute(
        "CREATE TEMP TABLE term_counts AS SELECT DATE '2024-12-31' AS ref_date, "
        "n || '/' || k AS area_id, 'district' AS level, 'v1' AS vintage, 'total' AS term, "
        "CAST(n AS DOUBLE) AS n, NULL::VARCHAR AS flag, "
        "CAST(k * 4294967296 // 1000 + 7 AS UBIGINT) AS key_sum "
        "FROM range(0, 9) AS t(n), range(0, 1000) AS s(k)"
    )
    con.execute("CREATE TEMP TABLE terms AS SELECT 'total' AS term, true AS additive")
    cellkey.perturb(con, DEFAULT)
    shares = con.execute(
        "SELECT CAST(t.n AS INTEGER), CAST(p.n - t.n AS INTEGER), count(*) / 1000 "
        "FROM term_counts AS t INNER JOIN protected_counts AS p USING (area_id, term, level) "
        "GROUP BY ALL"
    ).fetchall()
    for n, deviation, share in shares:
        assert n + deviation >= 0 and n + deviation not in (1, 2) and abs(deviation) <= 3
        p = ptable[(ptable.i == min(n, 6)) & (ptable.v == deviation)].p.iloc[0]
        assert abs(share - p) <= 0.0011, (n, deviation)


# --- integration: the tiny city -------------------------------------------------------------


def test_population_key_sum_of_the_tiny_city(tiny_con):
    """population.key_sum by hand from the raw CSV: district 11 on 2024-12-31, persons
    without migration background (P11, P12, P20, P21, P22), and one single person (P07)."""
    secret = cellkey.resolve_secret(load_profile(TINY_PROFILE).disclosure.cell_key)
    path = TINY_PROFILE.parent / "raw/melderegister/2024-12-31/melderegister_2024-12-31.csv"
    with path.open(encoding="utf-8") as f:
        ids = {row["personen_id"] for row in csv.DictReader(f, delimiter=";")}
    assert {"P11", "P12", "P20", "P21", "P22", "P07"} <= ids
    sql = (
        "SELECT sum(key_sum), sum(count) FROM population WHERE ref_date = '2024-12-31' "
        "AND area_id = ? AND migration_status = ?"
    )
    expected = sum(record_key(secret, p) for p in ["P11", "P12", "P20", "P21", "P22"])
    assert tiny_con.execute(sql, ["11", "keiner"]).fetchall()[0] == (expected, 5)
    assert tiny_con.execute(sql, ["21", "zugewandert"]).fetchall()[0] == (
        record_key(secret, "P07"),
        1,
    )
    total = tiny_con.execute(
        "SELECT key_sum, value FROM area_counts WHERE ref_date = '2024-12-31' "
        "AND area_id = '21' AND term = 'total'"
    ).fetchall()
    persons_21 = ["P06", "P07", "P08", "P14", "P15", "P16", "P27", "P28"]
    assert total == [(sum(record_key(secret, p) for p in persons_21), 8.0)]
