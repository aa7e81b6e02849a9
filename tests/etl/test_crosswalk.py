"""Crosswalk known answers (#18) on a tiny hand-made redivision, and the values on today's
boundaries with their audit.

Five unit squares in a row, A B C D E (x from 0 to 5, each 1 wide, 1 high), in districts
W = A, X = B + C, Y = D + E. In the new vintage:

* split:  A → A1 (x 0 … 0.5) and A2 (x 0.5 … 1);
* merge:  B and C → BC (x 1 … 3);
* shift:  the border between D and E moves from x = 4 to 4.25: D' = D + a quarter of E,
          E' = the other three quarters of E;
* districts keep their outline (W' = A1 + A2, X' = BC, Y' = D' + E').
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from etl import crosswalk
from etl.audit.boundaries import recompute
from etl.errors import ImonError
from etl.indicators.spec import load_catalogue
from etl.publication import boundary_tables

REPO = Path(__file__).resolve().parents[2]
LEVELS = ["city", "district", "unit"]
OLD = {"A": (0, 1), "B": (1, 2), "C": (2, 3), "D": (3, 4), "E": (4, 5)}
NEW = {"A1": (0, 0.5), "A2": (0.5, 1), "BC": (1, 3), "D'": (3, 4.25), "E'": (4.25, 5)}
OLD_DISTRICTS = {"W": ["A"], "X": ["B", "C"], "Y": ["D", "E"]}
NEW_DISTRICTS = {"W'": ["A1", "A2"], "X'": ["BC"], "Y'": ["D'", "E'"]}
# (foreigners, total) on 30 June 2020, on the old units
COUNTS = {"A": (10, 100), "B": (50, 200), "C": (30, 100), "D": (5, 50), "E": (60, 300)}


def _geometry(x0: float, x1: float) -> str:
    return shapely.to_geojson(box(x0, 0, x1, 1))


def _vintage(name, start, end, units, districts, with_geometry):
    areas, closure, geometry = [("S", "city", name, "S", None, start, end)], [], []
    for district, members in districts.items():
        areas.append((district, "district", district, "S", name, start, end))
        for unit in members:
            areas.append((unit, "unit", unit, district, name, start, end))
            closure += [(unit, unit, "unit"), (unit, district, "district"), (unit, "S", "city")]
            if with_geometry:
                geometry.append((unit, "unit", name, _geometry(*units[unit])))
        if with_geometry:
            x0 = min(units[u][0] for u in members)
            x1 = max(units[u][1] for u in members)
            geometry.append((district, "district", name, _geometry(x0, x1)))
    areas = [(a, lv, n, p if lv != "city" else None, name, s, e) for a, lv, n, p, _, s, e in areas]
    closure = [(m, a, lv, name) for m, a, lv in closure]
    return areas, closure, geometry


def tiny_warehouse(new_geometry: bool = True) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE areas (area_id VARCHAR, level VARCHAR, name VARCHAR, parent_id VARCHAR,"
        " vintage VARCHAR, valid_from DATE, valid_to DATE)"
    )
    con.execute(
        "CREATE TABLE area_closure (member_id VARCHAR, area_id VARCHAR, level VARCHAR,"
        " vintage VARCHAR)"
    )
    con.execute(
        "CREATE TABLE area_geometry (area_id VARCHAR, level VARCHAR, vintage VARCHAR,"
        " geojson VARCHAR)"
    )
    for args in (
        ("v1", date(2010, 1, 1), date(2020, 12, 31), OLD, OLD_DISTRICTS, True),
        ("v2", date(2021, 1, 1), None, NEW, NEW_DISTRICTS, new_geometry),
    ):
        areas, closure, geometry = _vintage(*args)
        con.executemany("INSERT INTO areas VALUES (?, ?, ?, ?, ?, ?, ?)", areas)
        con.executemany("INSERT INTO area_closure VALUES (?, ?, ?, ?)", closure)
        if geometry:
            con.executemany("INSERT INTO area_geometry VALUES (?, ?, ?, ?)", geometry)
    return con


def _links(frame: pd.DataFrame, level: str) -> dict[tuple[str, str], tuple[float, bool]]:
    rows = frame[frame.level == level]
    return {
        (r.from_area, r.to_area): (round(r.weight, 9), bool(r.exact)) for r in rows.itertuples()
    }


def test_overlap_split_merge_shift():
    con = tiny_warehouse()
    links = crosswalk.crosswalk_links(con, "v1", "v2", LEVELS, None)
    assert _links(links, "unit") == {
        ("A", "A1"): (0.5, False),
        ("A", "A2"): (0.5, False),
        ("B", "BC"): (1.0, True),
        ("C", "BC"): (1.0, True),
        ("D", "D'"): (1.0, False),  # D' also holds a quarter of E
        ("E", "D'"): (0.25, False),
        ("E", "E'"): (0.75, False),
    }
    whole = {(u, d + "'"): (1.0, True) for d, us in OLD_DISTRICTS.items() for u in us}
    assert _links(links, "district") == whole
    assert _links(links, "city") == {(u, "S"): (1.0, True) for u in OLD}
    assert set(links.from_level) == {"unit"}
    assert set(links.method[links.level != "city"]) == {"overlap"}


def test_list_links_weighted_by_overlap_else_equal_parts(tmp_path):
    path = tmp_path / "matches.json"
    # both directions in one object, as Berlin's file; E is named by the new units only
    path.write_text(
        json.dumps(
            {"A": ["A1", "A2"], "B": ["BC"], "C": ["BC"], "D": ["D'"], "D'": ["E"], "E'": ["E"]}
        )
    )
    for geometry, e_weights in ((True, (0.25, 0.75)), (False, (0.5, 0.5))):
        con = tiny_warehouse(new_geometry=geometry)
        pairs = crosswalk.read_correspondence(path, "unit", "v1", "v2", con)
        assert len(pairs) == 7
        links = crosswalk.crosswalk_links(con, "v1", "v2", LEVELS, pairs)
        got = _links(links, "unit")
        assert got[("E", "D'")] == (e_weights[0], False)
        assert got[("E", "E'")] == (e_weights[1], False)
        assert got[("B", "BC")] == (1.0, True)
        assert set(links.method[links.level == "unit"]) == {"list"}
        # the districts: lifted through the new hierarchy, all whole
        assert set(_links(links, "district").values()) == {(1.0, True)}


def test_a_listed_target_the_boundary_does_not_reach_is_dropped(tmp_path):
    path = tmp_path / "matches.json"
    # the list also links A to BC, which A only touches: geometry says it errs there
    path.write_text(
        json.dumps({"A": ["A1", "A2", "BC"], "B": ["BC"], "C": ["BC"], "D": ["D'"], "E": ["E'"]})
    )
    con = tiny_warehouse()
    pairs = crosswalk.read_correspondence(path, "unit", "v1", "v2", con)
    got = _links(crosswalk.crosswalk_links(con, "v1", "v2", LEVELS, pairs), "unit")
    assert {k: v for k, v in got.items() if k[0] == "A"} == {
        ("A", "A1"): (0.5, False),
        ("A", "A2"): (0.5, False),
    }
    assert got[("B", "BC")] == (1.0, True)
    # E listed to E' alone lies wholly in it by the list (D' is then D alone)
    assert got[("E", "E'")] == (1.0, True) and got[("D", "D'")] == (1.0, True)


def test_level_left_out_when_a_unit_is_unlinked(tmp_path):
    path = tmp_path / "matches.json"
    path.write_text(json.dumps({"A": ["A1", "A2"], "B": ["BC"], "C": ["BC"], "D": ["D'"]}))
    con = tiny_warehouse(new_geometry=False)
    pairs = crosswalk.read_correspondence(path, "unit", "v1", "v2", con)
    links = crosswalk.crosswalk_links(con, "v1", "v2", LEVELS, pairs)
    # E is neither listed nor placeable (no new boundaries): its residents would be missed
    # on units and districts, so only the city is left
    assert set(links.level) == {"city"}


def test_correspondence_errors_name_file_and_entry(tmp_path):
    con = tiny_warehouse()
    path = tmp_path / "matches.json"
    path.write_text(json.dumps({"A": ["Z9"]}))
    with pytest.raises(ImonError, match=r"matches.json: entry 'A': 'Z9' — expected a unit"):
        crosswalk.read_correspondence(path, "unit", "v1", "v2", con)
    path.write_text(json.dumps({"Q": ["A1"]}))
    with pytest.raises(ImonError, match=r"matches.json: entry 'Q'"):
        crosswalk.read_correspondence(path, "unit", "v1", "v2", con)
    path.write_text("[1, 2]")
    with pytest.raises(ImonError, match="expected a JSON object code -> list of codes"):
        crosswalk.read_correspondence(path, "unit", "v1", "v2", con)
    # a key of another level is skipped (one list may cover several)
    path.write_text(json.dumps({"X": ["X'"], "A": ["A1", "A2"]}))
    assert len(crosswalk.read_correspondence(path, "unit", "v1", "v2", con)) == 2


def districts_only_warehouse() -> duckdb.DuckDBPyConnection:
    """The new vintage with boundaries for its districts only (Berlin 2021: forecast areas
    but no district regions)."""
    con = tiny_warehouse()
    con.execute("DELETE FROM area_geometry WHERE vintage = 'v2' AND level = 'unit'")
    return con


def test_unlisted_unit_inferred_inside_the_coarser_boundary(tmp_path):
    path = tmp_path / "matches.json"
    # E unlisted; the list wrongly links D to A1 too (D's boundary lies in Y' only)
    path.write_text(json.dumps({"A": ["A1", "A2"], "B": ["BC"], "C": ["BC"], "D": ["D'", "A1"]}))
    con = districts_only_warehouse()
    pairs = crosswalk.read_correspondence(path, "unit", "v1", "v2", con)
    links = crosswalk.crosswalk_links(con, "v1", "v2", LEVELS, pairs)
    # E lies in Y' (district overlap); of Y's units only E' has no list link: E goes there,
    # inferred, so an estimate although whole; D' holds D alone (as the list says)
    assert _links(links, "unit") == {
        ("A", "A1"): (0.5, False),
        ("A", "A2"): (0.5, False),
        ("B", "BC"): (1.0, True),
        ("C", "BC"): (1.0, True),
        ("D", "D'"): (1.0, True),
        ("E", "E'"): (1.0, False),
    }
    method = links[links.level == "unit"].set_index("from_area").method
    assert method["E"] == "inferred" and method["D"] == "list"
    # values: E' an estimate (a share only, E's 60 / 300), D' exact (D's 5 / 50), audited
    pub = tiny_publication(set(), con=con, links=links)
    got = _values(pub)
    assert got[("foreigner_share", "E'")] == (20.0, None, None, None, True)
    assert got[("population", "E'")] == (None, None, None, "suppressed", True)
    assert got[("foreigner_share", "D'")] == (10.0, 5, 50, None, False)
    assert _audit(pub)[1] == []
    # the audit refuses an inferred part called exact
    pub.execute("UPDATE pub.boundary_values SET estimated = false WHERE area_id = 'E' || ''''")
    wrong = "2020-06-30 foreigner_share E' (unit, v2): als exakt bezeichnet, aber geteilte"
    assert any(f.startswith(wrong) for f in _audit(pub)[1])


def test_inferred_units_split_by_published_residents(tmp_path):
    path = tmp_path / "matches.json"
    # D and E unlisted, so neither D' nor E' has a list link: D and E each go to both, in
    # proportion to their published residents (100 and 300)
    path.write_text(json.dumps({"A": ["A1", "A2"], "B": ["BC"], "C": ["BC"]}))
    con = districts_only_warehouse()
    pairs = crosswalk.read_correspondence(path, "unit", "v1", "v2", con)
    residents = pd.DataFrame({"area_id": ["D'", "E'", "BC"], "n": [100.0, 300.0, 900.0]})
    got = _links(crosswalk.crosswalk_links(con, "v1", "v2", LEVELS, pairs, residents), "unit")
    assert {k: v for k, v in got.items() if k[0] in "DE"} == {
        ("D", "D'"): (0.25, False),
        ("D", "E'"): (0.75, False),
        ("E", "D'"): (0.25, False),
        ("E", "E'"): (0.75, False),
    }
    # without published residents: equal parts
    got = _links(crosswalk.crosswalk_links(con, "v1", "v2", LEVELS, pairs), "unit")
    assert got[("D", "D'")] == (0.5, False) and got[("E", "E'")] == (0.5, False)


# --- values on today's boundaries ----------------------------------------------------------

CATALOGUE = load_catalogue(REPO / "indicators.yaml")
DAY = date(2020, 6, 30)


# (foreign men, foreign women) on the old units: the ratio sex_ratio_foreigners (scale 100)
MEN_WOMEN = {"A": (60, 80), "B": (250, 250), "C": (160, 140), "D": (70, 60), "E": (90, 120)}


def _sums(counts: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    """The counts of the old units, districts and city."""
    sums = dict(counts)
    for district, units in OLD_DISTRICTS.items():
        sums[district] = tuple(sum(counts[u][i] for u in units) for i in (0, 1))
    sums["S"] = tuple(sum(c[i] for c in counts.values()) for i in (0, 1))
    return sums


def _published(suppressed: set[str], more: bool = False) -> list[tuple]:
    """Old-vintage values of 30 June 2020 as the publication holds them: foreigner_share
    (numerator foreigners, denominator total) and population (count of total); ``more``:
    also the location quotient of foreigners and the ratio of foreign men to women."""
    sums = _sums(COUNTS)
    city_x, city_t = sums["S"]
    level = {**{u: "unit" for u in OLD}, **{d: "district" for d in OLD_DISTRICTS}, "S": "city"}
    rows = []
    for area, (x, t) in sums.items():
        hidden = area in suppressed
        rates = [("foreigner_share", 100 * x / t)]
        if more:
            rates.append(("location_quotient_foreigners", (x / t) / (city_x / city_t)))
        for indicator, value in rates:
            rows.append(
                (
                    indicator,
                    DAY,
                    area,
                    level[area],
                    None if hidden else value,
                    None if hidden else x,
                    t,
                    "suppressed" if hidden else None,
                )
            )
        rows.append(("population", DAY, area, level[area], t, t, None, None))
    for area, (men, women) in _sums(MEN_WOMEN).items() if more else ():
        ratio = ("sex_ratio_foreigners", DAY, area, level[area], 100 * men / women, men, women)
        rows.append((*ratio, None))
    return rows


def tiny_publication(
    suppressed: set[str], con=None, links=None, more: bool = False, min_denominator: int = 0
) -> duckdb.DuckDBPyConnection:
    con = con or tiny_warehouse()
    if links is None:
        links = crosswalk.crosswalk_links(con, "v1", "v2", LEVELS, None)
    crosswalk.build_links_table(con, links)
    con.execute("ATTACH ':memory:' AS pub")
    con.execute(
        "CREATE TABLE pub.indicator_values (indicator_id VARCHAR, ref_date DATE,"
        " area_id VARCHAR, level VARCHAR, value DOUBLE, numerator DOUBLE, denominator DOUBLE,"
        " flag VARCHAR)"
    )
    con.executemany(
        "INSERT INTO pub.indicator_values VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        _published(suppressed, more),
    )
    con.execute(
        "CREATE TABLE pub.indicators AS SELECT * FROM (VALUES ('foreigner_share', 'share',"
        " 'd'), ('population', 'count', 'd'), ('location_quotient_foreigners',"
        " 'location_quotient', 'd'), ('sex_ratio_foreigners', 'ratio', 'd'))"
        " AS t(indicator_id, function, definition_id)"
    )
    boundary_tables(con, CATALOGUE, min_denominator)
    return con


def _values(con) -> dict[tuple[str, str], tuple]:
    rows = con.execute(
        "SELECT indicator_id, area_id, value, numerator, denominator, flag, estimated"
        " FROM pub.boundary_values WHERE ref_date = ?",
        [DAY],
    ).fetchall()
    return {
        (r[0], r[1]): tuple(round(v, 9) if isinstance(v, float) else v for v in r[2:]) for r in rows
    }


def test_values_on_todays_boundaries_from_published_values_only():
    # C's share withheld, D's share withheld; district X (= B + C) published
    con = tiny_publication(suppressed={"C", "D"})
    got = _values(con)
    share = {a: v for (i, a), v in got.items() if i == "foreigner_share"}
    count = {a: v for (i, a), v in got.items() if i == "population"}
    # merge: BC is old district X as a whole, so its published 80 / 300 (C alone is withheld)
    assert share["BC"] == (round(100 * 80 / 300, 9), 80, 300, None, False)
    assert count["BC"] == (300, 300, None, None, False)
    # split: A1 and A2 estimated from A (10 / 100): a share only, no counts
    assert share["A1"] == (10.0, None, None, None, True)
    assert count["A1"] == (None, None, None, "suppressed", True)
    # shift: E' = three quarters of E (60 / 300); D' holds D, whose share is withheld
    assert share["E'"] == (20.0, None, None, None, True)
    assert share["D'"] == (None, None, None, "suppressed", True)
    # districts and city: unions of whole old units (the old districts' published values)
    assert share["Y'"] == (round(100 * 65 / 350, 9), 65, 350, None, False)
    assert share["S"] == (round(100 * 155 / 750, 9), 155, 750, None, False)
    parts = con.execute(
        "SELECT to_area, from_area, from_level, weight FROM pub.boundary_parts"
        " WHERE to_area IN ('BC', 'E''', 'W''') ORDER BY ALL"
    ).fetchall()
    assert parts == [
        ("BC", "X", "district", 1.0),
        ("E'", "E", "unit", 0.75),
        ("W'", "W", "district", 1.0),
    ]
    # the audit recomputes every published one from the publication alone: no failures
    checked, failures = _audit(con)
    assert failures == []
    assert checked == 8 + 5  # 9 targets: 8 shares (not D'), 5 counts (the exact ones)


def test_ratios_and_quotients_on_todays_boundaries_from_recomputed_counts():
    # C withheld (share and quotient); rates with a denominator below 60 withheld
    con = tiny_publication(suppressed={"C"}, more=True, min_denominator=60)
    got = _values(con)
    lq = {a: v for (i, a), v in got.items() if i == "location_quotient_foreigners"}
    ratio = {a: v for (i, a), v in got.items() if i == "sex_ratio_foreigners"}
    city = 155 / 750  # the city's share of foreigners X / T, the same on both vintages
    # merge: BC = old district X as a whole: (80 / 300) / (155 / 750), with its counts
    assert lq["BC"] == (round((80 / 300) / city, 9), 80, 300, None, False)
    # shift: E' = three quarters of E: (0.75·60 / 0.75·300) / city, estimated, no counts
    assert lq["E'"] == (round(0.2 / city, 9), None, None, None, True)
    # split: A1 = half of A, denominator 0.5·100 = 50 < 60: withheld like any small rate
    assert lq["A1"] == (None, None, None, "suppressed", True)
    assert lq["S"] == (1.0, 155, 750, None, False)
    # a ratio keeps the catalogue's scale (100): BC = 100 · (250 + 160) / (250 + 140)
    assert ratio["BC"] == (round(100 * 410 / 390, 9), 410, 390, None, False)
    assert ratio["E'"] == (round(100 * 90 / 120, 9), None, None, None, True)
    assert ratio["A1"] == (None, None, None, "suppressed", True)  # 0.5·80 women < 60
    assert ratio["Y'"] == (round(100 * 160 / 180, 9), 160, 180, None, False)
    # the audit recomputes the quotients and ratios from the publication alone
    checked, failures = _audit(con)
    assert failures == []
    assert checked == sum(v[0] is not None or v[1] is not None for v in got.values())
    # a quotient not divided by the city's share is found
    con.execute(
        "UPDATE pub.boundary_values SET value = 0.2 WHERE area_id = ? AND indicator_id = ?",
        ["E'", "location_quotient_foreigners"],
    )
    assert "E' (unit, v2): Wert ≠ aus den Bestandteilen berechnet" in " ".join(_audit(con)[1])


def _audit(con) -> tuple[int, list[str]]:
    def frame(table):
        return con.execute(f"SELECT * FROM {table}").df()

    return recompute(
        CATALOGUE,
        boundary_values=frame("pub.boundary_values"),
        boundary_parts=frame("pub.boundary_parts"),
        indicator_values=frame("pub.indicator_values"),
        areas=frame("areas"),
        area_closure=frame("area_closure"),
    )


SHARE = "indicator_id = 'foreigner_share'"


@pytest.mark.parametrize(
    ("change", "found"),
    [
        # a count one more than the sum of its parts
        (f"SET numerator = 81 WHERE area_id = 'BC' AND {SHARE}",
         "BC (unit, v2): Zähler ≠ Summe der Bestandteile"),
        # an estimated unit with its (estimated) count published
        (f"SET numerator = 5 WHERE area_id = 'A1' AND {SHARE}",
         "A1 (unit, v2): geschätzt, aber mit Zählung"),
        # D' published although its part D is withheld
        (f"SET value = 16.0, flag = NULL WHERE area_id = 'D''' AND {SHARE}",
         "D' (unit, v2): aus nicht veröffentlichten Zahlen"),
        # a split unit called exact
        (f"SET estimated = false WHERE area_id = 'E''' AND {SHARE}",
         "E' (unit, v2): als exakt bezeichnet, aber geteilte Bestandteile"),
        # a share not computed from its parts
        (f"SET value = 21.0 WHERE area_id = 'E''' AND {SHARE}",
         "E' (unit, v2): Wert ≠ aus den Bestandteilen berechnet"),
    ],
)  # fmt: skip
def test_audit_finds_values_not_derivable_from_the_publication(change, found):
    con = tiny_publication(suppressed={"C", "D"})
    con.execute(f"UPDATE pub.boundary_values {change}")
    _, failures = _audit(con)
    assert any(f.endswith(found) for f in failures), failures


def test_audit_finds_overlapping_parts():
    con = tiny_publication(suppressed=set())
    # B counted twice in BC: as itself and within district X
    con.execute(
        "INSERT INTO pub.boundary_parts VALUES ('v1', 'v2', 'unit', 'BC', 'B', 'unit', 1.0, true)"
    )
    _, failures = _audit(con)
    assert "BC (unit, v2): B in zwei Bestandteilen" in failures
