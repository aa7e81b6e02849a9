"""indicators.yaml: the real catalogue loads; each kind of mistake is a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from etl.errors import ConfigError
from etl.indicators.spec import load_catalogue

REPO = Path(__file__).resolve().parents[2]
REAL = REPO / "indicators.yaml"
STABLE_IDS = {
    "population",
    "foreigner_share",
    "migration_background_share",
    "germans_with_migration_background_share",
    "segregation_is_foreigners",
    "segregation_is_migration_background",
}


def test_real_catalogue_loads_with_stable_ids():
    catalogue = load_catalogue(REAL)
    ids = {ind.id for ind in catalogue.indicators}
    assert ids >= STABLE_IDS
    assert {
        "origin_share_eu",
        "origin_share_europe_other",
        "origin_share_asia",
        "origin_share_africa",
        "origin_share_americas",
        "sex_ratio_foreigners",
        "age_under_18_share_foreigners",
        "age_65_plus_share_migration_background",
    } <= ids
    for ind in catalogue.indicators:
        assert ind.title.de and ind.title.en and ind.definition.de and ind.definition.en
        assert ind.unit in catalogue.units and ind.source == "register"


def broken(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load(REAL.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "indicators.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def first(data, indicator_id):
    return next(i for i in data["indicators"] if i["id"] == indicator_id)


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda d: first(d, "foreigner_share").update(colour="red"),
            "indicator 'foreigner_share', field 'colour': unknown field",
        ),
        (
            lambda d: first(d, "foreigner_share").update(function="median"),
            "indicator 'foreigner_share', field 'function': unknown function 'median'",
        ),
        (
            lambda d: first(d, "foreigner_share").update(numerator="foreignrs"),
            "indicator 'foreigner_share', field 'numerator': unknown group or measure 'foreignrs'",
        ),
        (
            lambda d: first(d, "foreigner_share").pop("denominator"),
            "indicator 'foreigner_share', field 'denominator': Field required",
        ),
        (
            lambda d: first(d, "population").update(unit="metres"),
            "indicator 'population', field 'unit': unknown unit 'metres'",
        ),
        (
            lambda d: d["groups"].update(young={"age": ["00-05"]}),
            "group 'young': unknown column 'age'",
        ),
        (
            lambda d: d["groups"].update(young={"age_group": ["0-5"]}),
            "group 'young', column 'age_group': unknown value '0-5'",
        ),
        (
            lambda d: d["indicators"].append(dict(first(d, "population"))),
            "indicator 'population', field 'id': used twice",
        ),
        (
            lambda d: first(d, "foreigner_share").pop("numerator_label"),
            "indicator 'foreigner_share', field 'numerator_label': required",
        ),
        (
            lambda d: first(d, "population").update(id="Population-Total"),
            "field 'id': String should match pattern",
        ),
        (
            lambda d: d["measures"]["net_migration_abroad"].update(balance=["arrivals", "x"]),
            "measure 'net_migration_abroad', field 'balance': 'arrivals' is not an additive",
        ),
        (
            lambda d: d["indicators"].remove(first(d, "departures_abroad_foreigners")),
            "indicator 'net_migration_abroad_foreigners' uses the balance "
            "'foreigners&net_migration_abroad': add a count indicator of its component "
            "['departures_abroad', 'foreigners']",
        ),
        (
            lambda d: first(d, "foreigner_share").update(
                numerator=["net_migration_abroad", "foreigners"]
            ),
            "indicator 'foreigner_share', field 'numerator': the balance "
            "'foreigners&net_migration_abroad' can only be counted or be a ratio's numerator",
        ),
    ],
)
def test_mistakes_name_indicator_and_field(tmp_path, edit, message):
    with pytest.raises(ConfigError) as info:
        load_catalogue(broken(tmp_path, edit))
    assert message in str(info.value)
    assert "indicators.yaml" in str(info.value)
