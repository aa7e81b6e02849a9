"""``imon init`` with boundaries as WKT text in metres (EPSG:25832, not declared) and as
GeoJSON with latitude before longitude: the draft declares ``crs`` / ``swap_xy`` and
builds unedited (boundaries: tests/fixtures/geometry/README.md)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
import shapely
import yaml

from etl import warehouse
from etl.build import build
from etl.onboarding.draft import init
from etl.profile import load_profile
from tests.conftest import REPO
from tests.etl.test_long_table import values

WKT = REPO / "tests" / "fixtures" / "geometry" / "bezirke_wkt.csv"
TABLE = "Bezirk;Einwohner;Ausländer\nGesamtstadt;300;45\nSüdstadt;100;20\nNordstadt;200;25\n"


def delivery(tmp_path: Path) -> Path:
    folder = tmp_path / "lieferung"
    folder.mkdir()
    (folder / "bezirke_2023.csv").write_text(TABLE, encoding="utf-8")
    return folder


def shapes(snapshot: Path) -> dict[str, shapely.Geometry]:
    with duckdb.connect(str(snapshot / warehouse.DATABASE), read_only=True) as con:
        rows = con.execute("SELECT area_id, geojson FROM area_geometry").fetchall()
    return {area: shapely.from_geojson(text) for area, text in rows}


def test_wkt_in_metres_draft_declares_utm32_and_builds(tmp_path):
    folder = delivery(tmp_path)
    shutil.copy(WKT, folder / "bezirke_wkt.csv")
    out = tmp_path / "wkt.yaml"
    draft = init(out, [folder / "bezirke_2023.csv"], [folder / "bezirke_wkt.csv"])
    assert draft.questions == []
    [boundary] = yaml.safe_load(out.read_text(encoding="utf-8"))["geography"]["vintages"][0][
        "boundaries"
    ]
    assert boundary["crs"] == "EPSG:25832" and boundary["id"] == "Bezirk"
    # "bezirke_*.csv" would also take the boundaries bezirke_wkt.csv as a table
    [table] = yaml.safe_load(out.read_text(encoding="utf-8"))["tables"]
    assert table["files"] == "bezirke_[0-9][0-9][0-9][0-9].csv"
    result = build(load_profile(out))
    assert values(result.snapshot, "population", "2023-12-31") == {
        "STADT": 300, "01": 100, "02": 200
    }  # fmt: skip
    assert values(result.snapshot, "foreigner_share", "2023-12-31")["01"] == 20
    sued = shapes(result.snapshot)["01"]
    assert sued.bounds[:2] == pytest.approx((9.0, 50.0), abs=1e-6)  # see the fixture README


def test_swapped_geojson_draft_declares_swap_xy_and_builds(tmp_path):
    folder = delivery(tmp_path)
    features = [
        {
            "type": "Feature",
            "properties": {"nr": code, "name": name},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[50.0, x], [50.01, x], [50.01, x + 0.01], [50.0, x + 0.01], [50.0, x]]
                ],
            },
        }
        for code, name, x in (("01", "Südstadt", 8.0), ("02", "Nordstadt", 8.01))
    ]
    (folder / "bezirke.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )
    out = tmp_path / "vertauscht.yaml"
    draft = init(out, [folder / "bezirke_2023.csv"], [folder / "bezirke.geojson"])
    assert any("latitude before longitude" in note for note in draft.notes)
    assert "swap_xy: true" in out.read_text(encoding="utf-8")
    result = build(load_profile(out))
    assert shapes(result.snapshot)["02"].bounds == pytest.approx((8.01, 50.0, 8.02, 50.01))
