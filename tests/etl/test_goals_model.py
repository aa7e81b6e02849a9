"""goals.yaml validation (etl/goals/model.py): every error names goal, indicator and field."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from etl.errors import ConfigError
from etl.goals.model import read_goals

IDS = {"migration_background_share", "segregation_is_foreigners"}
LEVELS = ["city", "borough", "district"]


def goals_text() -> dict:
    text = {"de": "Text", "en": "text"}
    return {
        "action_fields": [
            {
                "id": "ehrenamt",
                "title": {"de": "Ehrenamt", "en": "Volunteering"},
                "goals": [
                    {
                        "id": "vereine",
                        "title": {"de": "Vereine öffnen", "en": "Open clubs"},
                        "indicators": [
                            {
                                "id": "vereine_interesse",
                                "title": text,
                                "project": {"measure": "number", "unit": text},
                                "definition": text,
                                "source": text,
                                "baseline": {"date": "2019-12-31", "value": 4},
                                "target": {"value": 20, "date": "2025-12-31"},
                                "direction": "increase",
                            },
                            {
                                "id": "segregation",
                                "title": text,
                                "monitor": {
                                    "indicator": "segregation_is_foreigners",
                                    "area": "0",
                                    "level": "city",
                                },
                                "definition": text,
                                "source": text,
                                "baseline": {"date": "2019-12-31", "value": 0.3},
                                "direction": "decrease",
                                "decimals": 3,
                            },
                        ],
                    }
                ],
            }
        ]
    }


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "goals.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def read(tmp_path: Path, data: dict):
    return read_goals(write(tmp_path, data), IDS, LEVELS)


def indicator(data: dict, number: int = 0) -> dict:
    return data["action_fields"][0]["goals"][0]["indicators"][number]


def test_a_valid_file(tmp_path):
    goals = read(tmp_path, goals_text())
    (field, goal, first), (_, _, second) = goals.indicators()
    assert (field.id, field.sheet_name, goal.id) == ("ehrenamt", "Ehrenamt", "vereine")
    assert first.kind == "project" and first.target.date == date(2025, 12, 31)
    assert second.kind == "monitor" and second.sign == -1 and second.target is None
    assert goals.project_indicators() == [first]


def broken(tmp_path, change) -> str:
    data = goals_text()
    change(data)
    with pytest.raises(ConfigError) as info:
        read(tmp_path, data)
    return str(info.value)


def test_missing_baseline_names_goal_indicator_and_field(tmp_path):
    message = broken(tmp_path, lambda d: indicator(d).pop("baseline"))
    assert message.endswith(
        "goals.yaml: goal 'vereine', indicator 'vereine_interesse', "
        "field 'baseline': Field required"
    )


def test_a_date_that_is_none(tmp_path):
    message = broken(tmp_path, lambda d: indicator(d)["baseline"].update(date="2019-13-31"))
    assert "goal 'vereine', indicator 'vereine_interesse', field 'baseline.date'" in message


def test_a_target_against_the_direction(tmp_path):
    message = broken(tmp_path, lambda d: indicator(d).update(direction="decrease"))
    assert message.endswith(
        "goal 'vereine', indicator 'vereine_interesse', field 'target.value': 20 does not "
        "lie in the direction 'decrease' from baseline.value 4"
    )


def test_a_target_before_the_baseline(tmp_path):
    message = broken(tmp_path, lambda d: indicator(d)["target"].update(date="2019-01-01"))
    assert "indicator 'vereine_interesse', field 'target.date': 2019-01-01 is not after" in message


def test_an_unknown_monitor_indicator_and_level(tmp_path):
    message = broken(tmp_path, lambda d: indicator(d, 1)["monitor"].update(indicator="nope"))
    assert message.endswith(
        "goal 'vereine', indicator 'segregation', field 'monitor.indicator': 'nope' is no "
        "indicator of indicators.yaml"
    )
    message = broken(tmp_path, lambda d: indicator(d, 1)["monitor"].update(level="kiez"))
    assert "indicator 'segregation', field 'monitor.level': unknown level 'kiez'" in message


def test_neither_or_both_kinds(tmp_path):
    message = broken(tmp_path, lambda d: indicator(d).pop("project"))
    assert "indicator 'vereine_interesse', field 'monitor': give either" in message


def test_unknown_key_and_duplicate_id(tmp_path):
    message = broken(tmp_path, lambda d: indicator(d).update(tagret=3))
    assert message.endswith("indicator 'vereine_interesse', field 'tagret': unknown field")
    message = broken(tmp_path, lambda d: indicator(d, 1).update(id="vereine_interesse"))
    assert message.endswith("indicator 'vereine_interesse' used twice (ids must be unique)")


def test_a_milestone_is_zero_or_one(tmp_path):
    def milestone(data):
        indicator(data)["project"]["measure"] = "milestone"

    message = broken(tmp_path, milestone)
    assert "indicator 'vereine_interesse', field 'baseline.value': a milestone" in message


def test_a_project_series_break_lies_after_the_baseline(tmp_path):
    def breaks(*days):
        def change(data):
            reason = {"de": "neu gezählt", "en": "counted anew"}
            indicator(data)["project"]["breaks"] = [{"date": d, "reason": reason} for d in days]

        return change

    data = goals_text()
    breaks("2022-01-01")(data)
    first = read(tmp_path, data).indicators()[0][2]
    assert [(b.date, b.reason.de) for b in first.project.breaks] == [
        (date(2022, 1, 1), "neu gezählt")
    ]
    for days in (("2019-12-31",), ("2023-01-01", "2022-01-01")):
        message = broken(tmp_path, breaks(*days))
        assert "goal 'vereine', indicator 'vereine_interesse', field 'project.breaks'" in message
        assert "after baseline.date 2019-12-31" in message
    message = broken(tmp_path, lambda d: indicator(d)["project"].update(breaks=[{"date": "x"}]))
    assert "indicator 'vereine_interesse', field 'project.breaks.0.date'" in message


def test_a_goal_supports_other_goals_of_the_file(tmp_path):
    def second_goal(data, supports):
        goals = data["action_fields"][0]["goals"]
        other = {**goals[0], "id": "sprache", "indicators": [dict(indicator(data), id="kurse")]}
        goals.append(other)
        goals[1]["supports"] = supports

    data = goals_text()
    second_goal(data, ["vereine"])
    goals = read(tmp_path, data)
    assert [g.supports for g in goals.action_fields[0].goals] == [[], ["vereine"]]
    for wrong in (["nirgends"], ["sprache"]):  # unknown; itself
        message = broken(tmp_path, lambda d, w=wrong: second_goal(d, w))
        assert message.endswith(
            f"goal 'sprache', field 'supports': '{wrong[0]}' is no other goal of this file"
        )
