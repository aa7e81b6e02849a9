"""District tables delivered as JSON (long_table with json_keys; etl/sources/json_table.py),
on tests/fixtures/json (values in its README)."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from etl.build import build
from etl.errors import InputError
from etl.onboarding.draft import init
from etl.profile import load_profile
from etl.sources import long_table
from tests.conftest import REPO
from tests.etl.test_long_table import long_profile, values

FIXTURE = REPO / "tests" / "fixtures" / "json"
FILE = "bevoelkerung_stadtteile.json"

NESTED = {
    "files": FILE,
    "json_keys": ["Jahr", "Merkmal", "Gebiet"],
    "value_column": "Anzahl",
    "counts": [
        {"term": "total", "add": "Einwohner insgesamt"},
        {"term": "foreigners", "add": "Ausländer/-innen"},
    ],
}


def profile(tmp_path: Path, edit=None, **table: object) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "raw")
    if edit:
        path = tmp_path / "raw" / FILE
        path.write_text(json.dumps(edit(json.loads(path.read_text(encoding="utf-8")))))
    data = long_profile(tmp_path, **table)
    for key in ("separator", "decimal", "thousands"):
        data["tables"][0].pop(key)
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_json_nested_by_year_and_variable_builds(tmp_path):
    result = build(load_profile(profile(tmp_path, **NESTED)))
    assert values(result.snapshot, "population", "2023-12-31") == {
        "STADT": 4000, "1": 2000, "2": 2000, "101": 1200, "102": 800, "201": 1500, "202": 500
    }  # fmt: skip
    assert values(result.snapshot, "population", "2022-12-31")["STADT"] == 3970
    share = values(result.snapshot, "foreigner_share", "2022-12-31")
    assert share["101"] == pytest.approx(100 * 180 / 1150)
    assert share["STADT"] == pytest.approx(100 * 720 / 3970)
    assert not [w for w in result.warnings if "office total" in w]  # totals = sums


def test_json_records_with_a_root_member_and_one_column_per_variable(tmp_path):
    def records(_: dict) -> dict:
        rows = [("101", 1200, 200), ("102", 800, 200), ("201", 1500, 300), ("202", 500, 50)]
        return {
            "meta": {"quelle": "Statistikstelle"},
            "daten": {
                "stadtteile": [
                    {
                        "Jahr": 2023,
                        "Gebiet": code,
                        "Einwohner insgesamt": total,
                        "Ausländer/-innen": foreign,
                    }
                    for code, total, foreign in rows
                ]
            },
        }

    table = {**NESTED, "json_keys": [], "json_root": "daten.stadtteile", "variable_column": None}
    table |= {"value_column": None, "value_columns": ["Einwohner insgesamt", "Ausländer/-innen"]}
    result = build(load_profile(profile(tmp_path, records, **table)))
    population = values(result.snapshot, "population", "2023-12-31")
    assert population == {
        "STADT": 4000,
        "1": 2000,
        "2": 2000,
        "101": 1200,
        "102": 800,
        "201": 1500,
        "202": 500,
    }
    assert values(result.snapshot, "foreigner_share", "2023-12-31")["2"] == pytest.approx(
        100 * 350 / 2000
    )


def broken_value(data: dict) -> dict:
    data["2023"]["Einwohner insgesamt"]["102"] = "zwölf"
    return data


def list_instead_of_object(data: dict) -> dict:
    data["2023"]["Ausländer/-innen"] = [200, 200]
    return data


def boolean_leaf(data: dict) -> dict:
    data["2022"]["Ausländer/-innen"]["202"] = True
    return data


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (broken_value, 'at $["2023"]["Einwohner insgesamt"]["102"]: found \'zwölf\''),
        (
            list_instead_of_object,
            'at $["2023"]["Ausländer/-innen"]: found a list, expected an object whose '
            "keys are the values of 'Gebiet'",
        ),
        (boolean_leaf, 'at $["2022"]["Ausländer/-innen"]["202"]: found true (a boolean)'),
    ],
)
def test_errors_name_the_json_path(tmp_path, edit, expected):
    with pytest.raises(InputError) as caught:
        build(load_profile(profile(tmp_path, edit, **NESTED)))
    message = str(caught.value)
    assert FILE in message and expected in message


def test_a_missing_root_member_lists_what_is_there(tmp_path):
    with pytest.raises(
        InputError, match=r"no member 'daten' at \$ \(json_root 'daten'\); found: 2022, 2023"
    ):
        build(load_profile(profile(tmp_path, json_root="daten", **NESTED)))


def test_init_drafts_the_nested_json_and_the_draft_builds(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "lieferung")
    out = tmp_path / "jsonstadt.yaml"
    draft = init(out, [tmp_path / "lieferung" / FILE], [])
    assert draft.questions == []
    [table] = yaml.safe_load(out.read_text(encoding="utf-8"))["tables"]
    assert table["json_keys"] == ["Jahr", "Merkmal", "Gebiet"]
    assert (table["date_column"], table["variable_column"], table["value_column"]) == (
        "Jahr",
        "Merkmal",
        "Wert",
    )
    result = build(load_profile(out))
    assert values(result.snapshot, "population", "2023-12-31") == {
        "STADT": 4000, "1": 2000, "2": 2000, "101": 1200, "102": 800, "201": 1500, "202": 500
    }  # fmt: skip
    share = values(result.snapshot, "foreigner_share", "2022-12-31")
    assert share["202"] == pytest.approx(100 * 60 / 520)


def test_refresh_reads_the_dates_of_a_json_table(tmp_path):
    [table] = load_profile(profile(tmp_path, **NESTED)).tables
    assert long_table.ref_dates(tmp_path / "raw" / FILE, table) == [
        date(2022, 12, 31),
        date(2023, 12, 31),
    ]


def test_later_checks_name_the_json_path(tmp_path):
    """Messages of the checks after reading name the value's JSON path, not the record's
    position: a negative count from ``subtract`` (Germans = total - foreigners, with
    foreigners of 202 in 2023 raised to 600 > 500) and an office total that differs from
    the sum of its parts (district 1 in 2023: 2100 against 1200 + 800 = 2000)."""

    def more_foreigners(data: dict) -> dict:
        data["2023"]["Ausländer/-innen"]["202"] = 600
        data["2023"]["Ausländer/-innen"]["2"] = 900
        data["2023"]["Ausländer/-innen"]["0"] = 1300
        return data

    counts = [{"term": "germans", "add": "Einwohner insgesamt", "subtract": "Ausländer/-innen"}]
    path = profile(tmp_path / "a", more_foreigners, **{**NESTED, "counts": counts})
    with pytest.raises(InputError) as caught:
        build(load_profile(path))
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'a' / 'raw' / FILE}, at ")
    assert '$["2023"]["Ausländer/-innen"]["202"] + $["2023"]["Einwohner insgesamt"]["202"]' in (
        message
    )
    assert "count 'germans' for area 202 on 2023-12-31 is -100" in message
    assert "line" not in message.split(": count")[0]

    def district_off(data: dict) -> dict:
        data["2023"]["Einwohner insgesamt"]["1"] = 2100
        return data

    result = build(load_profile(profile(tmp_path / "b", district_off, **NESTED)))
    [warning] = [w for w in result.warnings if "office total" in w]
    assert (
        "2023-12-31 borough Stadtbezirk 1 (1) 'Einwohner insgesamt': office 2100, sum of 2 part(s) "
        f'2000, difference +100 ({FILE} at $["2023"]["Einwohner insgesamt"]["1"])'
    ) in warning
