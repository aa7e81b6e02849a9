"""``imon init`` on the real Berlin LOR files of ../shared/data (#14): population tables of
two boundary vintages (448 planning areas in 2019, 542 from 2021) with the boundary files
of both. The draft finds the four code levels, two vintages from the years in the
boundary files' names, and the id that Berlin's planning-area file gives two features
(06010102, one of them in Charlottenburg's 040304 where the tables list 04030417); its
one question (the half-year in the file names) is answered as drafted, and it builds.
The values are checked against the delivered CSV, read here with the csv module."""

from __future__ import annotations

import csv
import json
import shutil

import duckdb
import pytest
import yaml

from etl import warehouse
from etl.build import build
from etl.onboarding.draft import init
from etl.profile import load_profile
from tests.conftest import SHARED_DATA
from tests.etl.test_corpus import _catalogue

LOR = SHARED_DATA / "berlin-lor"
TABLES = [f"berlin-lor-population-{y}-02-t1-planning-areas.csv" for y in (2019, 2021)]
BOUNDARIES = [
    "berlin-lor-districts.geojson",
    "berlin-lor-forecast-areas-until-2020.geojson",
    "berlin-lor-forecast-areas-from-2021.geojson",
    "berlin-lor-district-regions-until-2020.geojson",
    "berlin-lor-planning-areas-until-2020.geojson",
    "berlin-lor-city.geojson",  # one feature, the outline: no level
]
MATCHES = "berlin-lor-matches.json"


@pytest.fixture(scope="module")
def drafted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("init-berlin")
    (folder / "lieferung" / "tabellen").mkdir(parents=True)
    (folder / "lieferung" / "geometrie").mkdir()
    for name in TABLES:
        shutil.copy(LOR / "population" / name, folder / "lieferung" / "tabellen")
    for name in [*BOUNDARIES, MATCHES]:  # the list lies beside the boundaries, not given
        shutil.copy(LOR / "geometry" / name, folder / "lieferung" / "geometrie")
    out = folder / "berlin.yaml"
    draft = init(
        out,
        sorted((folder / "lieferung" / "tabellen").glob("*.csv")),
        [folder / "lieferung" / "geometrie" / name for name in BOUNDARIES],
    )
    return folder, out, draft


def test_the_draft_finds_levels_vintages_and_the_doubled_id(drafted):
    _, out, draft = drafted
    assert draft.questions == [
        "tabellen/berlin-lor-population-*-t1-planning-areas.csv: the year is followed by 02 "
        "— read as half-years (02 = 12-31); check ref_date.parts"
    ]
    profile = yaml.safe_load(out.read_text(encoding="utf-8"))
    geography = profile["geography"]
    # the levels are named as the files name them (file names, GeoJSON layer names)
    assert geography["code_lengths"] == {
        "bezirk": 2, "prognoseraum": 4, "bezirksregion": 6, "planungsraum": 8
    }  # fmt: skip
    assert [level["label_de"] for level in profile["levels"]] == [
        "Stadt", "Bezirk", "Prognoseraum", "Bezirksregion", "Planungsraum"
    ]  # fmt: skip
    [old, new] = geography["vintages"]
    assert (old["valid_from"].isoformat(), new["valid_from"].isoformat()) == (
        "1990-01-01",
        "2021-01-01",
    )
    assert "correspondence" not in old
    assert any(n.startswith("berlin-lor-city.geojson: one feature only") for n in draft.notes)
    assert new["correspondence"] == {"file": f"geometrie/{MATCHES}", "level": "planungsraum"}
    assert [b["file"].split("/")[-1] for b in new["boundaries"]] == [
        "berlin-lor-districts.geojson",
        "berlin-lor-forecast-areas-from-2021.geojson",
    ]
    assert all(b["name"] == "name" for b in old["boundaries"] + new["boundaries"])
    [planning] = [b for b in old["boundaries"] if "planning" in b["file"]]
    [fix] = planning["corrections"]
    assert (fix["feature"], fix["found"], fix["id"]) == (124, "06010102", "04030417")


def test_the_draft_builds_with_the_delivered_values(drafted):
    """Built as drafted (only the catalogue cut to two indicators, for time)."""
    folder, out, _ = drafted
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    data["indicators"] = str(_catalogue(folder, ["population", "foreigner_share"]))
    out.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    build(load_profile(out))
    expected, foreign = {}, {}
    for name, day in zip(TABLES, ("2019-12-31", "2021-12-31"), strict=True):
        with (LOR / "population" / name).open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        expected[day] = sum(int(r["inhabitants"]) for r in rows)
        foreign[day] = {
            r["id"]: (int(r["inhabitants_foreigners"]), int(r["inhabitants"])) for r in rows
        }
    publication = warehouse.published(folder / "curated") / warehouse.PUBLICATION
    with duckdb.connect(str(publication), read_only=True) as con:
        city = con.execute(
            "SELECT CAST(ref_date AS VARCHAR), value FROM indicator_values "
            "WHERE indicator_id = 'population' AND level = 'city' ORDER BY 1"
        ).fetchall()
        share = con.execute(
            "SELECT numerator, denominator FROM indicator_values WHERE indicator_id = "
            "'foreigner_share' AND area_id = '01011101' AND ref_date = DATE '2019-12-31'"
        ).fetchone()
        shapes = dict(
            con.execute(
                "SELECT vintage || ' ' || level, count(*) FROM area_geometry GROUP BY ALL"
            ).fetchall()
        )
        corrected = con.execute(
            "SELECT count(*) FROM area_geometry WHERE area_id IN ('04030417', '06010102')"
        ).fetchone()[0]
    assert city == [(day, float(n)) for day, n in expected.items()]
    assert share == pytest.approx(foreign["2019-12-31"]["01011101"])
    forecast_2021 = json.loads((LOR / "geometry" / BOUNDARIES[2]).read_text(encoding="utf-8"))
    assert shapes["v2021 prognoseraum"] == len(forecast_2021["features"])
    assert corrected == 2  # both features kept, each with its own id
