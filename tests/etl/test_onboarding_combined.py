"""Areas published together: one row "Nord und Mitte" in a profile table keyed by names
(tests/fixtures/onboarding/together), boundaries of Nord (02) and Mitte (03) apart.

Fixture: Altstadt 01 1200 residents / 200 foreigners, "Nord und Mitte" 1000/150,
Süd 04 800/100, the city row "Gesamtstadt" 3000/450 (= 1200 + 1000 + 800, 200 + 150 +
100). Each boundary is a 0.01° x 0.01° square side by side from 8.00° east; Nord is
8.01–8.02, Mitte 8.02–8.03, so their union is the rectangle 8.01–8.03 x 50.00–50.01.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
import shapely
import yaml

from etl import warehouse
from etl.build import build
from etl.errors import ConfigError, InputError
from etl.onboarding.draft import init
from etl.profile import load_profile
from tests.conftest import REPO
from tests.etl.test_long_table import values

FIXTURE = REPO / "tests" / "fixtures" / "onboarding" / "together"


def drafted(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "lieferung")
    out = tmp_path / "zusammen.yaml"
    draft = init(
        out,
        [tmp_path / "lieferung" / "stadtteilprofil_2023.csv"],
        [tmp_path / "lieferung" / "stadtteile.geojson"],
    )
    assert draft.questions == []
    assert any("published together" in note for note in draft.notes)
    return out


def test_init_proposes_the_combined_unit_and_the_draft_builds(tmp_path):
    out = drafted(tmp_path)
    geography = yaml.safe_load(out.read_text(encoding="utf-8"))["geography"]
    assert geography["combined"] == [
        {"id": "02", "members": ["02", "03"], "name": "Nord und Mitte"}
    ]
    id_map = (tmp_path / "zusammen-gebiete.csv").read_text(encoding="utf-8").splitlines()
    assert "Nord und Mitte;02" in id_map
    result = build(load_profile(out))
    population = values(result.snapshot, "population", "2023-12-31")
    assert population == {"STADT": 3000, "01": 1200, "02": 1000, "04": 800}
    assert values(result.snapshot, "foreigner_share", "2023-12-31")["02"] == 15
    with duckdb.connect(str(result.snapshot / warehouse.DATABASE), read_only=True) as con:
        names = dict(con.execute("SELECT area_id, name FROM areas").fetchall())
        shapes = dict(con.execute("SELECT area_id, geojson FROM area_geometry").fetchall())
    assert names["02"] == "Nord und Mitte" and "03" not in names
    union = shapely.from_geojson(shapes["02"])
    assert union.area == pytest.approx(0.02 * 0.01, rel=1e-3)
    assert union.bounds == pytest.approx((8.01, 50.0, 8.03, 50.01), abs=1e-6)
    assert "03" not in shapes


def test_a_member_with_a_row_of_its_own_is_an_error(tmp_path):
    out = drafted(tmp_path)
    table = tmp_path / "lieferung" / "stadtteilprofil_2023.csv"
    table.write_text(
        table.read_text(encoding="utf-8").replace("Süd;800;100", "Süd;800;100\nMitte;10;1"),
        encoding="utf-8",
    )
    id_map = tmp_path / "zusammen-gebiete.csv"
    id_map.write_text(id_map.read_text(encoding="utf-8") + "Mitte;03\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        build(load_profile(out))
    message = str(caught.value)
    assert "stadtteilprofil_2023.csv, line 6" in message
    assert "area '03' has a row of its own" in message and "unit '02'" in message


@pytest.mark.parametrize(
    ("combined", "expected"),
    [
        ({"id": "02", "members": ["02", "0301"]}, "must have the same length"),
        ({"id": "02", "members": ["02"]}, "at least 2 items"),
    ],
)
def test_combined_declarations_are_checked(tmp_path, combined, expected):
    out = drafted(tmp_path)
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    data["geography"]["combined"] = [combined]
    out.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=expected):
        load_profile(out)


def test_members_of_different_parents_are_refused(tmp_path):
    out = drafted(tmp_path)
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    data["levels"].insert(1, {"id": "bezirk", "label_de": "Bezirk", "label_en": "Borough"})
    data["geography"]["code_lengths"] = {"bezirk": 1, data["levels"][2]["id"]: 2}
    data["geography"]["combined"] = [{"id": "02", "members": ["02", "13"]}]
    out.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match="must share the parent code"):
        load_profile(out)
