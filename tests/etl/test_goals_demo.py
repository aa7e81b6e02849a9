"""The demo city's goals (#15): profiles/musterstadt-ziele.yaml is valid, marked as demo,
and its filled workbook (written as ``imon demo-data`` writes it) reads back cleanly and
gives every progress status, so the Ziele page of ``make demo`` shows them all."""

from __future__ import annotations

import yaml

from etl.demo.projects import demo_values, write_project_workbook
from etl.goals import goal_status, load, status
from etl.goals.progress import STATUSES
from etl.goals.workbook import read
from etl.profile import load_profile


def test_demo_goals_and_workbook(tmp_path):
    profile = load_profile().model_copy(update={"raw_dir": tmp_path / "raw"})
    goals = load(profile)
    assert goals.demo
    assert [f.id for f in goals.action_fields] == [
        "sprache_bildung",
        "ehrenamt",
        "asyl_fluechtlinge",
        "ausbildung_beschaeftigung",
        "zusammenleben",
    ]
    book, sidecar = write_project_workbook(profile)
    assert book == tmp_path / "raw" / "ziele" / "projektindikatoren_2024.xlsx"
    meta = yaml.safe_load(sidecar.read_text(encoding="utf-8"))
    assert meta["source"].startswith("Demo-Daten Musterstadt")
    assert write_project_workbook(profile) == []  # not again without force
    rows = read(book, goals)
    assert {(r.indicator_id, r.ref_date): r.value for r in rows} == demo_values()
    # project goals by hand from projektindikatoren.csv (the monitor goal, the
    # segregation index, is moderate on the built demo: 0.364 -> 0.352, R = 0.75)
    by_goal: dict[str, list] = {}
    for _, goal, ind in goals.indicators():
        if ind.project:
            values = [(r.ref_date, r.value) for r in rows if r.indicator_id == ind.id]
            by_goal.setdefault(goal.id, []).append(status(ind, values))
    found = {goal: goal_status(progress) for goal, progress in by_goal.items()}
    assert found == {
        "sprachkurse": "substantial",  # 240 -> 380 (2024), target 400 (2026): R = 1.27
        "vereine_oeffnen": "achieved",  # programme realised 2022; 13 of 12 organisations
        "ehrenamtliche": "deterioration",  # 120 -> 96
        "ankommen_begleiten": "substantial",  # no target: 4 -> 11, 22 % a year
        "ausbildung_gefluechtete": "moderate",  # 10 -> 26, target 40 (2025): R = 0.81
        "verwaltung_oeffnen": "limited",  # 40 -> 75, target 250 (2026): R = 0.45
        "politische_teilhabe": "not_assessable",  # no value delivered
    }
    assert set(found.values()) == set(STATUSES)
