"""Segregation and concentration indices (etl/indicators/segregation.py, location quotient
in etl/indicators/functions.py).

(a) Known answers on tiny unit tables (tests/fixtures/segregation/units.csv), run through
    the engine's SQL; the arithmetic is in the comments.
(b) Equality (1e-9) with PySAL ``segregation`` 2.5.4 on the real Berlin planning-area data
    (all 20 reference dates, every level) and on the demo city: every index, every level,
    every date that has the groups. Unit counts for PySAL are summed here from
    ``area_counts`` over ``area_closure``, independently of the engine.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from pydantic import TypeAdapter
from segregation.local import MultiLocationQuotient
from segregation.singlegroup import Dissim, Entropy, Gini, Interaction, Isolation

from etl import warehouse
from etl.errors import ConfigError
from etl.indicators.engine import evaluate
from etl.indicators.segregation import UNIT_COUNTS_SQL
from etl.indicators.spec import Indicator, load_catalogue, term_key, term_name

REPO = Path(__file__).resolve().parents[2]
UNITS_CSV = REPO / "tests" / "fixtures" / "segregation" / "units.csv"
INDEX_FUNCTIONS = (
    "segregation_is",
    "dissimilarity",
    "isolation",
    "exposure",
    "entropy",
    "gini",
    "concentration_share",
)
TOLERANCE = 1e-9


def spec(indicator_id: str, function: str, **fields):
    text = {"de": indicator_id, "en": indicator_id}
    return TypeAdapter(Indicator).validate_python(
        {
            "id": indicator_id,
            "function": function,
            "topic": "segregation",
            "title": text,
            "definition": text,
            "definition_id": "test",
            "group": "g",
            **fields,
        }
    )


SPECS = [
    spec("is", "segregation_is"),
    spec("is_min300", "segregation_is", min_unit_population=300),
    spec("d", "dissimilarity", other="o"),
    spec("isolation", "isolation"),
    spec("exposure", "exposure"),
    spec("exposure_o", "exposure", other="o"),
    spec("entropy", "entropy"),
    spec("gini", "gini"),
    spec("c10", "concentration_share", top_share=0.1),
    spec("c40", "concentration_share", top_share=0.4),
    spec("lq", "location_quotient"),
]

FIXTURE_SQL = [
    """
CREATE TEMP TABLE units AS
SELECT "case", "case" || '.' || unit AS area_id, x, y, t
FROM read_csv($path, delim = ';', header = true,
              columns = {'case': 'VARCHAR', 'unit': 'VARCHAR', 'x': 'DOUBLE', 'y': 'DOUBLE',
                         't': 'DOUBLE'})
""",
    """
CREATE TEMP TABLE term_counts AS
WITH long AS (
    SELECT "case", area_id, 'g' AS term, x AS n FROM units
    UNION ALL SELECT "case", area_id, 'o', y FROM units
    UNION ALL SELECT "case", area_id, 'total', t FROM units
)
SELECT DATE '2024-12-31' AS ref_date, area_id, 'unit' AS level, 'v' AS vintage, term, n,
       CASE WHEN n IS NULL THEN 'secret' END AS flag
FROM long
UNION ALL
SELECT DATE '2024-12-31', "case", 'city', 'v', term,
       CASE WHEN count(*) = count(n) THEN sum(n) END,
       CASE WHEN count(*) > count(n) THEN 'secret' END
FROM long GROUP BY ALL
""",
    """
CREATE TEMP TABLE unit_roots AS
SELECT area_id AS unit_id, "case" AS root_id, 'v' AS vintage FROM units
UNION ALL SELECT DISTINCT "case", "case", 'v' FROM units
""",
    *UNIT_COUNTS_SQL,
]  # the engine numbers the units (engine.number_units)


def known_values(
    min_denominator: int = 0, min_count: int = 0, missing: tuple[tuple[str, str], ...] = ()
) -> dict:
    """indicator_id, area_id -> (value, n_units, flag) for the fixture's unit tables;
    ``missing``: (area_id, term) counts to leave out (no row, not a flag)."""
    with duckdb.connect() as con:
        con.execute((REPO / "etl" / "schema.sql").read_text(encoding="utf-8"))
        for statement in FIXTURE_SQL:
            if statement is FIXTURE_SQL[2]:
                for area_id, term in missing:
                    con.execute(
                        "DELETE FROM term_counts WHERE area_id = ? AND term = ?", [area_id, term]
                    )
            con.execute(statement, {"path": str(UNITS_CSV)} if "$path" in statement else {})
        evaluate(con, SPECS, min_denominator, min_count)
        rows = con.execute(
            "SELECT indicator_id, area_id, value, n_units, flag FROM indicator_values"
        ).fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


@pytest.fixture(scope="module")
def known():
    return known_values()


def h(p: float) -> float:
    """Two-group entropy −p ln p − (1−p) ln(1−p), 0 at p = 0 and p = 1."""
    return -sum(q * math.log(q) for q in (p, 1 - p) if q > 0)


# (indicator, case, value, n_units); flag None. Cases (units.csv):
#   worked     x = (500, 100, 400), t = (2000, 3000, 1000); X = 1000, T = 6000, P = 1/6;
#              named other y = (1000, 2500, 500), Y = 4000
#   empty_unit the same plus a unit with t = 0 (excluded: same values, 3 units)
#   absent     x = (0, 10, 30), t = (50, 50, 100); X = 40, T = 200, P = 0.2; y = t − x
#   single     x = 30, t = 100 (one unit); y = 70
#   one_unit   x = (0, 0, 40), t = (100, 60, 40): all of the group in one unit, alone there
#   small      x = (200, 60, 100), t = (250, 300, 1000)
KNOWN = [
    # IS = ½ Σ |x_i/X − (t_i − x_i)/(T − X)|, worked: ½ (|.5 − .3| + |.1 − .58| + |.4 − .12|)
    # = ½ (.2 + .48 + .28) = .48 (research/anchors.md, section D)
    ("is", "worked", 0.48, 3),
    ("is", "empty_unit", 0.48, 3),
    # absent: ½ (|0 − 50/160| + |10/40 − 40/160| + |30/40 − 70/160|) = ½ (.3125 + 0 + .3125)
    ("is", "absent", 0.3125, 3),
    ("is", "single", 0.0, 1),  # ½ |30/30 − 70/70| = 0
    ("is", "one_unit", 1.0, 3),  # ½ (100/160 + 60/160 + 1) = 1
    # small: X = 360, T − X = 1190: ½ (|200/360 − 50/1190| + |60/360 − 240/1190|
    #        + |100/360 − 900/1190|) = 550/1071 (exact fractions)
    ("is", "small", 550 / 1071, 3),
    # min 300 residents: unit 1 (250) dropped; X = 160, T − X = 1140:
    # ½ (|60/160 − 240/1140| + |100/160 − 900/1140|) = ½ (25/152 + 25/152) = 25/152
    ("is_min300", "small", 25 / 152, 2),
    ("is_min300", "worked", 0.48, 3),  # every unit has 1000+ residents
    # secret_small: unit 1 has no number for x but only 100 residents: dropped, so the
    # index is not incomplete and equals small's
    ("is_min300", "secret_small", 25 / 152, 2),
    # D = ½ Σ |x_i/X − y_i/Y|, worked: ½ (|.5 − .25| + |.1 − .625| + |.4 − .125|) = .525
    ("d", "worked", 0.525, 3),
    ("d", "absent", 0.3125, 3),  # y = t − x there: D = IS
    ("d", "single", 0.0, 1),
    ("d", "one_unit", 1.0, 3),
    # xPx = Σ (x_i/X)(x_i/t_i), worked: .5·.25 + .1·(1/30) + .4·.4 = (75 + 2 + 96)/600
    ("isolation", "worked", 173 / 600, 3),
    ("isolation", "absent", 0.275, 3),  # 0 + .25·.2 + .75·.3
    ("isolation", "single", 0.3, 1),  # = P
    ("isolation", "one_unit", 1.0, 3),  # 1 · 40/40
    # xPy (rest) = 1 − xPx
    ("exposure", "worked", 427 / 600, 3),
    ("exposure", "absent", 0.725, 3),
    ("exposure", "single", 0.7, 1),
    ("exposure", "one_unit", 0.0, 3),
    # xPy (named), worked: .5·1000/2000 + .1·2500/3000 + .4·500/1000 = .25 + 1/12 + .2 = 8/15
    ("exposure_o", "worked", 8 / 15, 3),
    ("exposure_o", "one_unit", 0.0, 3),  # y = (100, 60, 0): none where x lives
    # H = 1 − Σ t_i h(p_i) / (T h(P)), h(p) = −p ln p − (1−p) ln(1−p)
    (
        "entropy",
        "worked",
        1 - (2000 * h(1 / 4) + 3000 * h(1 / 30) + 1000 * h(2 / 5)) / (6000 * h(1 / 6)),
        3,
    ),
    ("entropy", "absent", 1 - (50 * h(0.2) + 100 * h(0.3)) / (200 * h(0.2)), 3),  # h(0) = 0
    ("entropy", "single", 0.0, 1),
    ("entropy", "one_unit", 1.0, 3),  # every h(p_i) = 0
    # G = Σ_{i<j} t_i t_j |p_i − p_j| / (T² P (1 − P)) = Σ_{i<j} |x_j t_i − t_j x_i| / (X (T − X))
    # worked: (|100·2000 − 3000·500| + |400·2000 − 1000·500| + |400·3000 − 1000·100|) / 5e6
    #       = (1.3e6 + 0.3e6 + 1.1e6) / 5e6 = .54
    ("gini", "worked", 0.54, 3),
    # absent: p = (0, .2, .3): (50·50·.2 + 50·100·.3 + 50·100·.1) / (40·160) = 2500/6400
    ("gini", "absent", 0.390625, 3),
    ("gini", "single", 0.0, 1),
    ("gini", "one_unit", 1.0, 3),  # (100·40 + 60·40) / (40·160)
    # C_q: units by decreasing p filled up to q·T residents, the last one pro rata.
    # worked q = .1: 600 residents of unit 3 (p .4): 600/1000 · 400 = 240 of X = 1000: 24 %
    ("c10", "worked", 24.0, 3),
    # q = .4: 2400 residents: unit 3 whole (400) + 1400/2000 of unit 1 (350) = 750: 75 %
    ("c40", "worked", 75.0, 3),
    ("c10", "absent", 15.0, 3),  # 20 of unit 3 (p .3): 6 of 40
    ("c40", "absent", 60.0, 3),  # 80 of unit 3: 24 of 40
    ("c10", "single", 10.0, 1),  # the even value 100·q
    ("c10", "one_unit", 50.0, 3),  # 20 of unit 3 (p 1): 20 of 40 = q/P
    ("c40", "one_unit", 100.0, 3),  # 80 residents: unit 3 whole + 40 others
]


@pytest.mark.parametrize("indicator, case, expected, units", KNOWN)
def test_known_answer(known, indicator, case, expected, units):
    value, n_units, flag = known[(indicator, case)]
    assert value == pytest.approx(expected, abs=1e-12)
    assert (n_units, flag) == (units, None)


@pytest.mark.parametrize("indicator", [s.id for s in SPECS if s.function != "location_quotient"])
@pytest.mark.parametrize(
    "case, flag, units",
    [
        ("no_group", "undefined", 2),  # X = 0
        ("everyone", "undefined", 2),  # X = T: no one else (Y = 0)
        ("secret", "incomplete", 2),  # a unit without a published number
    ],
)
def test_edge_cases_have_no_value(known, indicator, case, flag, units):
    if indicator == "is_min300":  # both units have fewer than 300 residents
        flag, units = "undefined", 0
    assert known[(indicator, case)] == (None, units, flag)


def test_minimum_size_with_no_unit_left_is_undefined(known):
    assert known[("is_min300", "single")] == (None, 0, "undefined")
    assert known[("is", "single")] == (0.0, 1, None)


def test_a_unit_without_a_count_is_left_out():
    # worked.2 has no row for the group (no count at all, not a secret one): the index is
    # over units 1 and 3, x = (500, 400), t = (2000, 1000), X = 900, T − X = 2100:
    # ½ (|5/9 − 5/7| + |4/9 − 2/7|) = 10/63. No unit of "absent" has a row: no value.
    values = known_values(
        missing=(("worked.2", "g"), ("absent.1", "g"), ("absent.2", "g"), ("absent.3", "g"))
    )
    value, n_units, flag = values[("is", "worked")]
    assert value == pytest.approx(10 / 63, abs=1e-12)
    assert (n_units, flag) == (2, None)
    assert ("is", "absent") not in values and ("gini", "absent") not in values


@pytest.mark.parametrize(
    "area, expected",
    [
        # LQ_i = (x_i/t_i) / (X/T), worked P = 1/6: .25·6, (1/30)·6, .4·6; the city itself 1
        ("worked.1", 1.5),
        ("worked.2", 0.2),
        ("worked.3", 2.4),
        ("worked", 1.0),
        ("absent.1", 0.0),
        ("absent.2", 1.0),
        ("absent.3", 1.5),  # P = .2
        ("single.1", 1.0),
    ],
)
def test_location_quotient(known, area, expected):
    value, n_units, flag = known[("lq", area)]
    assert value == pytest.approx(expected, abs=1e-12)
    assert (n_units, flag) == (None, None)


@pytest.mark.parametrize(
    "area, flag",
    [
        ("empty_unit.4", "undefined"),  # t_i = 0
        ("no_group.1", "undefined"),  # X = 0 in the city
        ("everyone.1", "undefined"),  # X = T
        ("secret.1", "secret"),  # the unit's own count is secret
        ("secret.2", "secret"),  # the city's X is unknown
    ],
)
def test_location_quotient_without_value(known, area, flag):
    assert known[("lq", area)] == (None, None, flag)


def test_location_quotient_is_suppressed_like_a_share():
    values = known_values(min_denominator=100, min_count=3)
    assert values[("lq", "absent.2")] == (None, None, "suppressed")  # t = 50 < 100
    assert values[("lq", "absent.3")][0] == pytest.approx(1.5)  # t = 100


# --- (b) PySAL on real and demo data ------------------------------------------------------

UNIT_COUNTS_SQL = """
WITH finest AS (
    SELECT k.ref_date, k.area_id, v.vintage, k.term, k.value, k.flag
    FROM area_counts AS k
    INNER JOIN areas AS v
        ON v.area_id = k.area_id AND v.level = $finest
       AND k.ref_date BETWEEN v.valid_from AND coalesce(v.valid_to, DATE '9999-12-31')
)
SELECT f.ref_date, c.level, c.area_id, f.term, sum(f.value) AS n, count(f.flag) AS flags
FROM finest AS f
INNER JOIN area_closure AS c ON c.member_id = f.area_id AND c.vintage = f.vintage
GROUP BY ALL
"""


class Instance:
    """Unit counts (summed here from area_counts) and the engine's values of one warehouse."""

    def __init__(self, database: Path):
        with duckdb.connect(str(database), read_only=True) as con:
            levels = [
                r[0] for r in con.execute("SELECT level FROM levels ORDER BY rank").fetchall()
            ]
            long = con.execute(UNIT_COUNTS_SQL, {"finest": levels[-1]}).df()
            self.values = con.execute(
                "SELECT v.*, i.function FROM indicator_values AS v "
                "INNER JOIN indicators AS i USING (indicator_id)"
            ).df()
        assert long["flags"].sum() == 0, "flagged cells: compare only complete data"
        self.root_level, self.unit_levels = levels[0], levels[1:]
        self.counts = long.pivot_table(
            index=["ref_date", "level", "area_id"], columns="term", values="n", aggfunc="sum"
        ).fillna(0.0)
        catalogue = load_catalogue(REPO / "indicators.yaml")
        computed = set(self.values["indicator_id"])
        self.indicators = [i for i in catalogue.indicators if i.id in computed]

    def frames(self, ind):
        """(ref_date, level, units frame with columns x, t[, y, residents]) for every date
        and level of units (one top-level area)."""
        x, t = (term_name(term_key(getattr(ind, r))) for r in ("group", "total"))
        for (ref_date, level), frame in self.counts.groupby(level=["ref_date", "level"]):
            frame = frame.droplevel([0, 1])
            if level == self.root_level:
                assert len(frame) == 1
                continue
            columns = {"x": frame[x], "t": frame[t]}
            if getattr(ind, "other", None) is not None:
                columns["y"] = frame[term_name(term_key(ind.other))]
            if getattr(ind, "min_unit_population", None) is not None:
                columns["residents"] = frame["total"]
            yield ref_date, level, pd.DataFrame(columns)


def pysal_index(ind, units: pd.DataFrame) -> float:
    """The index as PySAL computes it (concentration: numpy, PySAL has no equivalent)."""
    x, t = units["x"].to_numpy(), units["t"].to_numpy()
    if ind.function == "segregation_is":
        return Dissim(units, "x", "t").statistic
    if ind.function == "dissimilarity":  # D of x and y = Dissim with total x + y
        return Dissim(units.assign(xy=units["x"] + units["y"]), "x", "xy").statistic
    if ind.function == "isolation":
        return Isolation(units, "x", "t").statistic
    if ind.function == "exposure":
        if "y" in units and not np.array_equal(units["x"] + units["y"], units["t"]):
            return float(np.sum(x / x.sum() * units["y"].to_numpy() / t))
        return Interaction(units, "x", "t").statistic  # y = the rest of t
    if ind.function == "entropy":
        return Entropy(units, "x", "t").statistic
    if ind.function == "gini":
        return Gini(units, "x", "t").statistic
    order = np.argsort(-x / t, kind="stable")
    curve_t = np.concatenate([[0.0], np.cumsum(t[order])]) / t.sum()
    curve_x = np.concatenate([[0.0], np.cumsum(x[order])]) / x.sum()
    return 100 * float(np.interp(ind.top_share, curve_t, curve_x))


def check_index(instance: Instance, ind) -> tuple[int, float]:
    """Compare every date and level; return (values compared, max abs difference)."""
    ours = instance.values[instance.values["indicator_id"] == ind.id].set_index(
        ["ref_date", "level"]
    )
    compared, worst = 0, 0.0
    for ref_date, level, units in instance.frames(ind):
        units = units[units["t"] > 0]
        if "residents" in units:
            units = units[units["residents"] >= ind.min_unit_population]
        row = ours.loc[(ref_date, level)]
        assert row["n_units"] == len(units), (ind.id, ref_date, level)
        rest = units["y"].sum() if "y" in units else (units["t"] - units["x"]).sum()
        if not (units["x"].sum() > 0 and rest > 0):
            assert pd.isna(row["value"]) and row["flag"] == "undefined", (ind.id, ref_date)
            continue
        assert pd.isna(row["flag"]), (ind.id, ref_date, level, row["flag"])
        difference = abs(row["value"] - pysal_index(ind, units))
        assert difference <= TOLERANCE, (ind.id, ref_date, level, difference)
        compared, worst = compared + 1, max(worst, difference)
    return compared, worst


def check_location_quotient(instance: Instance, ind) -> tuple[int, float]:
    ours = instance.values[instance.values["indicator_id"] == ind.id].set_index(
        ["ref_date", "level", "area_id"]
    )
    compared, worst = 0, 0.0
    for ref_date, level, units in instance.frames(ind):
        lq = MultiLocationQuotient(
            units.assign(rest=units["t"] - units["x"]), ["x", "rest"]
        ).statistics[:, 0]
        for area_id, expected in zip(units.index, lq, strict=True):
            row = ours.loc[(ref_date, level, area_id)]
            if row["flag"] == "suppressed" or units.loc[area_id, "t"] == 0:
                assert pd.isna(row["value"])
                continue
            difference = abs(row["value"] - expected)
            assert difference <= TOLERANCE, (ind.id, ref_date, area_id, difference)
            compared, worst = compared + 1, max(worst, difference)
    return compared, worst


@pytest.fixture(scope="module")
def berlin(berlin_build) -> Instance:
    return Instance(berlin_build.snapshot / warehouse.DATABASE)


@pytest.fixture(scope="module")
def demo(demo_curated_dir) -> Instance:
    return Instance(demo_curated_dir / warehouse.CURRENT / warehouse.DATABASE)


@pytest.mark.parametrize("function", [*INDEX_FUNCTIONS, "location_quotient"])
@pytest.mark.parametrize("name", ["berlin", "demo"])
def test_equal_to_pysal(request, name, function):
    instance: Instance = request.getfixturevalue(name)
    chosen = [ind for ind in instance.indicators if ind.function == function]
    assert chosen, f"no {function} indicator computed for {name}"
    check = check_location_quotient if function == "location_quotient" else check_index
    for ind in chosen:
        compared, _ = check(instance, ind)
        assert compared > 0, ind.id


def test_berlin_has_every_date_and_level(berlin):
    found = berlin.values[berlin.values["indicator_id"] == "segregation_is_migration_background"]
    assert found["ref_date"].nunique() == 20
    assert set(found["level"]) == set(berlin.unit_levels)
    assert (found["area_id"] == "BE").all() and found["flag"].isna().all()


# --- catalogue checks of the index fields ---------------------------------------------------


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            {"other": "migration_background"},
            "field 'other': 'migration_background' overlaps the group 'foreigners'",
        ),
        ({"total": "under_18"}, "field 'group': 'foreigners' is not part of the total 'under_18'"),
        ({"min_unit_population": 0}, "field 'min_unit_population': Input should be greater"),
        ({"function": "location_quotient", "other": None}, "field 'other': unknown field"),
    ],
)
def test_index_fields_are_checked(tmp_path, edit, message):
    data = yaml.safe_load((REPO / "indicators.yaml").read_text(encoding="utf-8"))
    entry = next(i for i in data["indicators"] if i["id"] == "exposure_foreigners_to_germans")
    entry.update(edit)
    path = tmp_path / "indicators.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(
        ConfigError, match=re.escape(f"indicator 'exposure_foreigners_to_germans', {message}")
    ):
        load_catalogue(path)
