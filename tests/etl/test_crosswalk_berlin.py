"""Berlin (#18): forecast areas of 30 June 2015 on the 2021 boundaries, by ``imon values
--boundaries 2021``, against an independent computation from the raw planning-area data.

The independent side reads only the raw files (pandas, json, shapely — none of our code):
the 2015 planning-area table t1, the office's correspondence list (both directions in one
object) and the raw boundaries, and applies the rule of etl/crosswalk.py written again: an
old planning area the list links to one 2021 forecast area lies wholly in it; one linked
to several is split by its area in each (a listed area it does not reach dropped); one of
the 11 the list does not name lies wholly where ≥ 97 % of its area lies, else is split
likewise. A forecast area made only of whole planning areas is exact, its share
Σ foreigners / Σ residents of them.
"""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest
import shapely
from shapely.geometry import shape

from imon.cli import main
from tests.conftest import REPO, SHARED_DATA

LOR = SHARED_DATA / "berlin-lor"
DAY = "2015-06-30"


RAW: dict = {}  # the raw files as independent_forecast_areas read them


def independent_forecast_areas() -> tuple[pd.DataFrame, dict[tuple[str, str], float]]:
    """(the 2015 planning areas' foreigners and residents, {(old planning area, 2021
    forecast area): part of it lying there}) from the raw files, by the documented rule:
    the list's links (lifted to the forecast area by the code's first four digits); a
    listed forecast area the old boundary does not reach (< 0.5 %) dropped; an old planning
    area in several forecast areas split by its area there; one the list does not name
    whole where ≥ 97 % of its area lies, else split likewise."""
    t1 = pd.read_csv(
        LOR / "population" / "berlin-lor-population-2015-01-t1-planning-areas.csv",
        dtype={"id": str},
    ).set_index("id")[["inhabitants_foreigners", "inhabitants"]]
    new = set(
        pd.read_csv(
            LOR / "population" / "berlin-lor-population-2021-01-t1-planning-areas.csv",
            dtype={"id": str},
        ).id
    )
    matches = json.loads((LOR / "geometry" / "berlin-lor-matches.json").read_text())
    listed: dict[str, set[str]] = {plr: set() for plr in t1.index}
    for key, codes in matches.items():
        for code in codes:
            if key in listed and code in new:
                listed[key].add(code[:4])
            elif key in new and code in listed:
                listed[code].add(key[:4])
    old_shapes = json.loads(
        (LOR / "geometry" / "berlin-lor-planning-areas-until-2020.geojson").read_text()
    )["features"]
    # the file names feature 124 06010102 by mistake; it is 04030417 (profiles/berlin.yaml)
    by_id = {f["properties"]["id"]: shape(f["geometry"]) for f in old_shapes[:123]}
    by_id.update({f["properties"]["id"]: shape(f["geometry"]) for f in old_shapes[124:]})
    by_id["04030417"] = shape(old_shapes[123]["geometry"])
    new_fa = {
        f["properties"]["id"]: shape(f["geometry"])
        for f in json.loads(
            (LOR / "geometry" / "berlin-lor-forecast-areas-from-2021.geojson").read_text()
        )["features"]
    }
    assert sum(not found for found in listed.values()) == 11  # the list names the rest
    RAW.update(t1=t1, new=new, matches=matches, by_id=by_id, new_fa=new_fa)
    weights: dict[tuple[str, str], float] = {}
    for plr, found in listed.items():
        if len(found) == 1:
            weights[(plr, found.pop())] = 1.0
            continue
        area = by_id[plr].area
        candidates = found or set(new_fa)
        shares = {fa: shapely.intersection(by_id[plr], new_fa[fa]).area / area for fa in candidates}
        shares = {fa: share for fa, share in shares.items() if share >= 0.005}
        if not found and max(shares.values()) >= 0.97:
            shares = {max(shares, key=shares.get): 1.0}
        total = sum(shares.values())
        weights.update({(plr, fa): share / total for fa, share in shares.items()})
    return t1, weights


@pytest.fixture(scope="module")
def berlin_profile(berlin_build, tmp_path_factory):
    """profiles/berlin.yaml pointing at the session's test build."""
    curated = berlin_build.snapshot.parents[1]
    text = (REPO / "profiles" / "berlin.yaml").read_text(encoding="utf-8")
    for old, new in (
        ("curated_dir: ../data/curated/berlin", f"curated_dir: {curated}"),
        ("indicators: ../indicators.yaml", f"indicators: {REPO / 'indicators.yaml'}"),
        ("${IMON_SHARED_DATA:-../../shared/data}", str(SHARED_DATA.resolve())),
    ):
        assert text.count(old) == 1
        text = text.replace(old, new)
    path = tmp_path_factory.mktemp("berlin-profile") / "berlin.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _values(profile, capsys, *args: str) -> list[dict]:
    capsys.readouterr()
    assert main(["values", "--profile", str(profile), *args]) == 0
    return list(csv.DictReader(io.StringIO(capsys.readouterr().out)))


def test_forecast_areas_2015_on_2021_boundaries(berlin_profile, capsys):
    rows = _values(
        berlin_profile,
        capsys,
        "--indicator",
        "foreigner_share",
        "--level",
        "forecast_area",
        "--date",
        DAY,
        "--boundaries",
        "2021",
    )
    plr, weights = independent_forecast_areas()
    members: dict[str, dict[str, float]] = {}
    for (old, fa), w in weights.items():
        members.setdefault(fa, {})[old] = w
    assert len(rows) == 58
    assert {r["area_id"] for r in rows} == set(members)
    assert {r["boundaries"] for r in rows} == {"lor-2021"}
    exact = {fa for fa, parts in members.items() if set(parts.values()) == {1.0}}
    flags = {r["area_id"]: r["boundary_flag"] for r in rows}
    assert {fa for fa, f in flags.items() if f == "exakt"} == exact
    assert {fa for fa, f in flags.items() if f == "geschätzt"} == set(members) - exact
    assert len(exact) >= 50
    checked = 0
    for row in rows:
        fa = row["area_id"]
        if row["boundary_flag"] != "exakt" or row["value"] == "":
            continue
        part = plr.loc[sorted(members[fa])]
        x, t = part.inhabitants_foreigners.sum(), part.inhabitants.sum()
        assert (int(row["numerator"]), int(row["denominator"])) == (x, t), fa
        assert float(row["value"]) == pytest.approx(100 * x / t, abs=1e-9), fa
        checked += 1
    assert checked >= 45  # most exact areas are published (the rest withheld, never wrong)
    # estimated: a share only, the split planning areas weighted by their area in the target
    estimated = [r for r in rows if r["boundary_flag"] == "geschätzt"]
    assert estimated
    for row in estimated:
        assert (row["numerator"], row["denominator"]) == ("", "")
        fa = row["area_id"]
        part = plr.loc[sorted(members[fa])]
        if row["value"] == "":
            # withheld only because a split part is: Berlin withholds every value of a
            # planning area below 300 residents (04061757: 75, split 86 % / 14 %)
            split = [p for p, w in members[fa].items() if w < 1]
            assert (plr.loc[split].inhabitants < 300).any(), fa
            continue
        w = pd.Series([members[fa][p] for p in part.index], index=part.index)
        x, t = (w * part.inhabitants_foreigners).sum(), (w * part.inhabitants).sum()
        # the build weighs by the published (simplified) boundaries, this by the raw ones
        assert float(row["value"]) == pytest.approx(100 * x / t, abs=0.05), fa


def test_boundaries_flag_errors(berlin_profile, capsys):
    args = ["values", "--profile", str(berlin_profile), "--indicator", "foreigner_share"]
    capsys.readouterr()
    assert main([*args, "--boundaries", "1999"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "unknown boundaries '1999'" in err and "lor-2021 (ab 01.01.2021)" in err
    assert main([*args, "--boundaries", "lor-2006"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "recomputed onto today's boundaries only (lor-2021)" in err


def test_dates_on_todays_boundaries_are_the_published_values(berlin_profile, capsys):
    args = ["--indicator", "foreigner_share", "--level", "forecast_area", "--date", "2024-12-31"]
    plain = _values(berlin_profile, capsys, *args)
    today = _values(berlin_profile, capsys, *args, "--boundaries", "lor-2021")
    assert len(today) == len(plain) == 58
    assert [(r["area_id"], r["value"]) for r in today] == [
        (r["area_id"], r["value"]) for r in plain
    ]
    assert {r["boundary_flag"] for r in today} == {"exakt"}


def test_trends_page_on_todays_boundaries(berlin_build, berlin_profile, capsys):
    """Zeitreihen "auf heutigem Gebietsstand": forecast areas from 2015 on, no boundary
    break, the values of ``imon values --boundaries`` (the same publication), estimated
    areas named."""
    import sys

    from dashboards.app import create_app
    from tests.dashboards.dash_tree import find, texts

    rows = _values(
        berlin_profile,
        capsys,
        *("--indicator", "foreigner_share", "--level", "forecast_area", "--date", DAY),
        *("--boundaries", "2021"),
    )
    exact = next(r for r in rows if r["boundary_flag"] == "exakt" and r["value"])
    estimated = next(r for r in rows if r["boundary_flag"] == "geschätzt")
    app = create_app(berlin_build.snapshot.parents[1])
    page = sys.modules["pages.trends"]
    areas = [exact["area_id"], estimated["area_id"]]
    with app.server.test_request_context("/"):
        layout = page.layout(level="forecast_area", boundaries="today")
        assert find(layout, "trends-boundaries").value == "today"
        figure, below = page.update_chart("foreigner_share", areas, "today")
        published, _ = page.update_chart("foreigner_share", areas, "published")
        table = page.update_table("foreigner_share", areas, None, "today")
    lines = {tr.name: tr for tr in figure.data if tr.x is not None and len(tr.x)}
    line = lines[exact["area_name"]]
    assert min(line.x) == DAY  # on today's boundaries the series starts in 2015
    assert list(line.y)[list(line.x).index(DAY)] == pytest.approx(float(exact["value"]))
    assert not figure.layout.shapes  # no boundary break left
    assert [s.x0 for s in published.layout.shapes] == ["2021-01-01"]
    note = " ".join(texts(below))
    assert "Auf heutigem Gebietsstand (lor-2021)" in note
    assert f"Geschätzt vor der Neugliederung: {estimated['area_name']}" in note
    assert "Reihenbruch" not in " ".join(texts(table))


def test_district_regions_2015_on_2021_boundaries(berlin_profile, capsys):
    """District regions (no 2021 boundaries): an exact one is Σ foreigners / Σ residents of
    the 2015 planning areas the list links to it alone (a listed region outside the forecast
    area the old boundary lies in dropped) — so no unlisted planning area was put into an
    exact region; the 11 unlisted ones only ever make regions estimates."""
    rows = _values(
        berlin_profile,
        capsys,
        "--indicator",
        "foreigner_share",
        "--level",
        "district_region",
        "--date",
        DAY,
        "--boundaries",
        "2021",
    )
    independent_forecast_areas()
    plr, new, matches, by_id, new_fa = (RAW[k] for k in ("t1", "new", "matches", "by_id", "new_fa"))
    regions: dict[str, set[str]] = {p: set() for p in plr.index}
    for key, codes in matches.items():
        for code in codes:
            if key in regions and code in new:
                regions[key].add(code[:6])
            elif key in new and code in regions:
                regions[code].add(key[:6])
    for old, found in regions.items():
        reached = {
            d
            for d in found
            if shapely.intersection(by_id[old], new_fa[d[:4]]).area >= 0.005 * by_id[old].area
        }
        regions[old] = reached or found
    sole: dict[str, list[str]] = {}
    for old, found in regions.items():
        if len(found) == 1:
            sole.setdefault(next(iter(found)), []).append(old)
    assert len(rows) == 143 and {r["boundaries"] for r in rows} == {"lor-2021"}
    flags = [r["boundary_flag"] for r in rows]
    assert flags.count("exakt") >= 125 and flags.count("geschätzt") >= 1
    checked = 0
    for row in rows:
        if row["boundary_flag"] != "exakt" or row["value"] == "":
            continue
        part = plr.loc[sorted(sole[row["area_id"]])]
        x, t = part.inhabitants_foreigners.sum(), part.inhabitants.sum()
        assert (int(row["numerator"]), int(row["denominator"])) == (x, t), row["area_id"]
        checked += 1
    assert checked >= 110
    for row in rows:
        if row["boundary_flag"] == "geschätzt":
            assert (row["numerator"], row["denominator"]) == ("", "")


def test_lineage_names_the_list_by_its_hash_and_places_every_old_planning_area(berlin_build):
    """The lineage the plausibility report and the page Intern show (#18): per level, the
    links of the office's list carry its file and the sha256 of its bytes (hashed here),
    and every one of the 447 old planning areas is placed on every level."""
    import hashlib

    from dashboards.data import boundaries_choice, queries

    matches = LOR / "geometry" / "berlin-lor-matches.json"
    digest = hashlib.sha256(matches.read_bytes()).hexdigest()
    rows = boundaries_choice.lineage(queries.open_warehouse(berlin_build.snapshot.parents[1]))
    listed = [r for r in rows if r[3] == "Korrespondenzliste"]
    shown = f"geometry/berlin-lor-matches.json (sha256 {digest})"
    assert listed and all(r[6] == shown for r in listed)
    old = LOR / "population" / "berlin-lor-population-2015-01-t1-planning-areas.csv"
    n_old = pd.read_csv(old, dtype={"id": str})["id"].nunique()
    assert n_old == 447
    for level in ("forecast_area", "district_region", "district"):
        links = sum(r[4] for r in rows if r[2] == level)
        assert links >= n_old, level  # a split planning area has a link to each part


def test_location_quotients_2015_on_2021_boundaries_are_shares_over_the_city(
    berlin_profile, capsys
):
    """A location quotient on today's boundaries is the recomputed share of foreigners
    divided by the city's share of the date: checked against the shares of ``imon values
    --boundaries`` (another indicator, another path) for all 58 forecast areas."""
    args = ["--level", "forecast_area", "--date", DAY, "--boundaries", "2021"]
    lq = _values(berlin_profile, capsys, "--indicator", "location_quotient_foreigners", *args)
    share = _values(berlin_profile, capsys, "--indicator", "foreigner_share", *args)
    city = _values(berlin_profile, capsys, "--indicator", "foreigner_share", "--date", DAY)
    city_share = float(next(r["value"] for r in city if r["level"] == "city"))
    by_area = {r["area_id"]: r for r in share}
    assert len(lq) == len(share) == 58
    with_value = [r for r in lq if r["value"]]
    assert len(with_value) >= 50
    for row in with_value:
        other = by_area[row["area_id"]]
        assert row["boundary_flag"] == other["boundary_flag"]
        assert float(row["value"]) == pytest.approx(float(other["value"]) / city_share, rel=1e-9)
