"""Project-indicator deliveries (#15): ``imon goals template`` → filled workbook →
``imon refresh`` → protected ``project_values`` in the publication and the progress on
the published snapshot; a revised workbook replaces the first, which is kept.

The small refresh city (tests/etl/refresh_city.py) with goals of its own; disclosure
with a minimum count of 3 (person counts 1 and 2 are withheld).
"""

from __future__ import annotations

import copy
import hashlib
from datetime import date
from pathlib import Path

import duckdb
import openpyxl
import pytest
import yaml

from dashboards.data import goals as goal_data
from dashboards.data import queries
from etl import audit_summary, deliveries, warehouse
from etl.build import build
from etl.errors import ConfigError
from etl.goals import load
from etl.goals.workbook import fill, write_template
from etl.profile import Profile, load_profile
from imon.cli import main
from tests.etl.refresh_city import make_city

D22, D23, D24 = date(2022, 12, 31), date(2023, 12, 31), date(2024, 12, 31)
BASE = {"11": (10, 1), "12": (25, 5), "21": (10, 3)}
TEXT = {"de": "Text", "en": "text"}
SOURCE = {"de": "Integrationsbüro Kleinstadt (Testdaten)", "en": "integration office (test)"}


def _indicator(ident: str, measure: str, baseline: float, target=None, **extra) -> dict:
    project = {"measure": measure, "unit": {"de": "Personen", "en": "persons"}}
    if extra.pop("independent", False):
        project["independent"] = True
    entry = {
        "id": ident,
        "title": {"de": ident.capitalize(), "en": ident},
        "project": project,
        "definition": TEXT,
        "source": SOURCE,
        "baseline": {"date": "2022-12-31", "value": baseline},
        "direction": "increase",
        **extra,
    }
    if target:
        entry["target"] = {"value": target[0], "date": target[1]}
    return entry


GOALS = {
    "action_fields": [
        {
            "id": "ehrenamt",
            "title": {"de": "Ehrenamt", "en": "Volunteering"},
            "goals": [
                {
                    "id": "schulungen",
                    "title": {"de": "Mehr Menschen schulen", "en": "Train more people"},
                    "indicators": [
                        _indicator("teilnehmende", "persons", 10, (30, "2026-12-31")),
                        _indicator("lotsen", "persons", 4, independent=True),
                    ],
                },
                {
                    "id": "mentoren",
                    "title": {"de": "Mentorenprogramm", "en": "Mentoring"},
                    "indicators": [_indicator("mentoren", "milestone", 0, (1, "2025-12-31"))],
                    "supports": ["einwohner"],  # a relation between goals (no effect on status)
                },
            ],
        },
        {
            "id": "zusammenleben",
            "title": {"de": "Zusammenleben", "en": "Living together"},
            "goals": [
                {
                    "id": "einwohner",
                    "title": {"de": "Wachsende Stadt", "en": "Growing city"},
                    "indicators": [
                        {
                            "id": "einwohner",
                            "title": {"de": "Einwohner", "en": "Residents"},
                            "monitor": {"indicator": "population", "area": "0", "level": "city"},
                            "definition": TEXT,
                            "source": TEXT,
                            "baseline": {"date": "2023-12-31", "value": 45},
                            "direction": "increase",
                        }
                    ],
                }
            ],
        },
    ]
}
FIRST = {
    ("teilnehmende", D23): 14,
    ("teilnehmende", D24): 22,
    ("lotsen", D23): 2,  # withheld: below the minimum count 3
    ("lotsen", D24): 6,
    ("mentoren", D23): 0,
    ("mentoren", D24): 1,
}


def make_goal_city(root: Path, definition: dict = GOALS) -> Profile:
    """The refresh city with GOALS, 2023 built and published; nothing delivered yet."""
    goals = root / "ziele.yaml"
    goals.write_text(yaml.safe_dump(definition, allow_unicode=True), encoding="utf-8")
    path = make_city(
        root,
        {"2023-12-31": BASE},
        goals={"file": str(goals), "attribution": "Integrationsbüro Kleinstadt (Testdaten)"},
        disclosure={"min_denominator": 1, "min_count": 3, "group_disclosure_below": 0},
    )
    profile = load_profile(path)
    build(profile)
    return profile


def filled(profile: Profile, folder: Path, values: dict, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = write_template(load(profile), folder / name, profile.title, until=2024)
    fill(path, values)
    return path


def published(profile: Profile) -> list[tuple]:
    snapshot = warehouse.published(profile.curated_dir)
    with duckdb.connect(str(snapshot / warehouse.PUBLICATION), read_only=True) as con:
        return con.execute("SELECT * FROM project_values ORDER BY ALL").fetchall()


def statuses(profile: Profile) -> dict[str, str]:
    queries.clear_cache()
    wh = queries.open_warehouse(profile.curated_dir)
    items = goal_data.assess(wh, goal_data.published_goals(wh))
    return {item.indicator.id: item.progress.status for item in items}


@pytest.fixture
def goal_city(tmp_path):
    return make_goal_city(tmp_path), tmp_path / "inbox"


def test_a_build_without_workbook_publishes_the_goals_but_no_values(goal_city):
    profile, _ = goal_city
    wh = queries.open_warehouse(profile.curated_dir)
    assert [f.id for f in goal_data.published_goals(wh).action_fields] == [
        "ehrenamt",
        "zusammenleben",
    ]
    assert set(statuses(profile).values()) == {"not_assessable"}


def test_template_fill_refresh_publish(goal_city):
    profile, inbox = goal_city
    delivered = filled(profile, inbox, FIRST, "projektindikatoren_2024.xlsx")
    result = deliveries.refresh(profile, [delivered], publish=True)
    target = profile.raw_dir / "ziele" / "projektindikatoren_2024.xlsx"
    assert [(d.status, d.source.id, d.ref_dates, d.target) for d in result.deliveries] == [
        ("new", "goals", [D23, D24], target)
    ]
    meta = yaml.safe_load(target.with_name(target.name + ".meta.yml").read_text("utf-8"))
    assert meta["sha256"] == hashlib.sha256(delivered.read_bytes()).hexdigest()
    assert result.published
    # published: person count 2 withheld, the milestone and larger counts as delivered
    assert published(profile) == [
        ("lotsen", D23, None, "suppressed"),
        ("lotsen", D24, 6.0, None),
        ("mentoren", D23, 0.0, None),
        ("mentoren", D24, 1.0, None),
        ("teilnehmende", D23, 14.0, None),
        ("teilnehmende", D24, 22.0, None),
    ]
    snapshot = warehouse.published(profile.curated_dir)
    with duckdb.connect(str(snapshot / warehouse.DATABASE), read_only=True) as con:
        internal = con.execute(
            "SELECT value FROM project_values WHERE indicator_id = 'lotsen' AND ref_date = ?",
            [D23],
        ).fetchone()
        loads = con.execute("SELECT source, file FROM loads WHERE source = 'goals'").fetchall()
    assert internal == (2.0,)  # the office's warehouse keeps the true count
    assert loads == [("goals", "ziele/projektindikatoren_2024.xlsx")]
    # teilnehmende: sqrt(22/10) − 1 = 0.4832 a year against 3 ** (1/4) − 1 = 0.3161
    # needed (R = 1.53): substantial; lotsen without target: sqrt(6/4) − 1 = 22 % a year:
    # substantial; the milestone reached: achieved; residents: one date only
    assert statuses(profile) == {
        "teilnehmende": "substantial",
        "lotsen": "substantial",
        "mentoren": "achieved",
        "einwohner": "not_assessable",
    }


def test_a_revised_workbook_replaces_the_first_which_is_kept(goal_city):
    profile, inbox = goal_city
    first = filled(profile, inbox, FIRST, "projektindikatoren_2024.xlsx")
    deliveries.refresh(profile, [first], publish=True)
    revised = filled(
        profile, inbox / "neu", {**FIRST, ("teilnehmende", D24): 12}, "projektindikatoren_2025.xlsx"
    )
    result = deliveries.refresh(profile, [revised], publish=True)
    old = profile.raw_dir / "ziele" / "projektindikatoren_2024.xlsx"
    assert [(d.status, d.replaces) for d in result.deliveries] == [("revision", [old])]
    kept = list((profile.raw_dir / deliveries.REVISIONS / "ziele").glob("*/" + old.name))
    assert [p.read_bytes() for p in kept] == [first.read_bytes()]
    assert not old.exists()
    assert ("teilnehmende", D24, 12.0, None) in published(profile)
    # sqrt(12/10) − 1 = 0.0954 a year; R = 0.0954 / 0.3161 = 0.30: limited progress
    assert statuses(profile)["teilnehmende"] == "limited"


def test_imon_goals_template_writes_the_workbook(goal_city, tmp_path, capsys):
    profile, _ = goal_city
    out = tmp_path / "vorlage.xlsx"
    code = main(["goals", "template", "--profile", str(profile.path), "--out", str(out)])
    assert code == 0
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Hinweise", "Ehrenamt"]  # a field without project values: none
    sheet = book["Ehrenamt"]
    assert [c.value for c in sheet[1]] == [
        "Indikator-ID",
        "Indikator",
        "Einheit",
        "Stichtag",
        "Wert",
        "Anmerkung",
    ]
    assert sheet.protection.sheet and sheet["A1"].protection.locked
    assert not sheet["E2"].protection.locked
    rules = {str(v.sqref): v.type for v in sheet.data_validations.dataValidation}
    assert rules == {"A2:A501": "list", "D2:D501": "date", "E2:E501": "decimal"}
    assert main(["goals", "template", "--profile", str(profile.path), "--out", "x.csv"]) == 2
    assert "must end in .xlsx" in capsys.readouterr().err


def _legacy_hash(password: str) -> str:
    """The sheet-protection hash Excel stores (ECMA-376 Part 4, 14.7.1, legacy password
    hash), written out here as the reference."""
    h = 0
    for i, char in enumerate(password, 1):
        value = ord(char) << i
        h ^= (value & 0x7FFF) | (value >> 15)
    return f"{h ^ len(password) ^ 0xCE4B:X}"


def test_the_header_password_is_the_offices_own(goal_city, tmp_path, monkeypatch, capsys):
    """The protection's password comes from --password-file or IMON_WORKBOOK_PASSWORD,
    never from the code; the workbook keeps only its hash; an empty file is an error."""
    profile, _ = goal_city
    args = ["goals", "template", "--profile", str(profile.path), "--out"]
    monkeypatch.delenv("IMON_WORKBOOK_PASSWORD", raising=False)
    assert main([*args, str(tmp_path / "ohne.xlsx")]) == 0
    assert openpyxl.load_workbook(tmp_path / "ohne.xlsx")["Ehrenamt"].protection.password is None
    secret = tmp_path / "kennwort.txt"
    secret.write_text("Rathaus-2025\n", encoding="utf-8")
    out = tmp_path / "datei.xlsx"
    assert main([*args, str(out), "--password-file", str(secret)]) == 0
    assert _legacy_hash("Rathaus-2025") == "ABA3"  # also openpyxl.utils.protection
    sheet = openpyxl.load_workbook(out)["Ehrenamt"]
    assert sheet.protection.sheet and sheet.protection.password == "ABA3"
    assert b"Rathaus-2025" not in out.read_bytes()
    monkeypatch.setenv("IMON_WORKBOOK_PASSWORD", "Amt")
    assert main([*args, str(tmp_path / "env.xlsx")]) == 0
    protection = openpyxl.load_workbook(tmp_path / "env.xlsx")["Ehrenamt"].protection
    assert protection.password == _legacy_hash("Amt")
    secret.write_text("\n", encoding="utf-8")
    assert main([*args, str(tmp_path / "leer.xlsx"), "--password-file", str(secret)]) == 2
    assert "kennwort.txt, line 1: the password is empty" in capsys.readouterr().err
    assert not (tmp_path / "leer.xlsx").exists()


def test_the_plausibility_report_lists_a_count_more_than_tripled(goal_city):
    profile, inbox = goal_city
    # teilnehmende 14 (2023) -> 43 (2024): 43 > 3 × 14 = 42, factor 43 / 14 = 3.1;
    # lotsen 2 -> 6 is exactly 3 × (not more); the milestone 0 -> 1 is no count
    values = {**FIRST, ("teilnehmende", D24): 43}
    delivered = filled(profile, inbox, values, "projektindikatoren_2024.xlsx")
    result = deliveries.refresh(profile, [delivered])
    section = result.report.section("project_jumps")
    assert section.rows == [("teilnehmende", "2024-12-31", 43.0, "2023-12-31", 14.0, 3.1)]
    assert "mehr als das 3-Fache des Vorwerts" in (result.snapshot / "report.html").read_text(
        encoding="utf-8"
    )


def test_a_monitor_indicator_without_values_stops_the_build(tmp_path):
    profile = make_goal_city(tmp_path)
    goals = yaml.safe_load(profile.goals.file.read_text(encoding="utf-8"))
    monitor = goals["action_fields"][1]["goals"][0]["indicators"][0]["monitor"]
    monitor["area"] = "99"
    profile.goals.file.write_text(yaml.safe_dump(goals, allow_unicode=True), encoding="utf-8")
    before = warehouse.published(profile.curated_dir)
    with pytest.raises(ConfigError) as info:
        build(profile)
    assert str(info.value) == (
        f"{profile.goals.file}: goal 'einwohner', indicator 'einwohner', field "
        "'monitor.area': no value of 'population' for area '99' at level 'city' in this "
        "instance"
    )
    assert warehouse.published(profile.curated_dir) == before


def test_a_small_person_count_as_baseline_is_refused(tmp_path):
    goals = yaml.safe_load(yaml.safe_dump(GOALS))
    goals["action_fields"][0]["goals"][0]["indicators"][1]["baseline"]["value"] = 2
    path = tmp_path / "ziele.yaml"
    path.write_text(yaml.safe_dump(goals, allow_unicode=True), encoding="utf-8")
    profile = load_profile(
        make_city(
            tmp_path,
            {"2023-12-31": BASE},
            goals={"file": str(path), "attribution": "Test"},
            disclosure={"min_count": 3},
        )
    )
    with pytest.raises(ConfigError) as info:
        load(profile)
    assert str(info.value) == (
        f"{path}: goal 'schulungen', indicator 'lotsen', field 'baseline.value': 2 persons "
        "is a small count the disclosure rules withhold (below 3); it would be published "
        "with the goals"
    )


def test_a_withheld_count_withholds_the_other_counts_of_its_goal(tmp_path):
    """Without ``independent``, Lotsen (2 on 31.12.2023, withheld) could be a part of
    Teilnehmende (14): 14 would give 2 away with the other part, so it is withheld too;
    the milestone of another goal and the counts of 2024 stay."""
    definition = copy.deepcopy(GOALS)
    lotsen = definition["action_fields"][0]["goals"][0]["indicators"][1]
    assert lotsen["id"] == "lotsen"
    del lotsen["project"]["independent"]
    profile = make_goal_city(tmp_path, definition)
    delivered = filled(profile, tmp_path / "inbox", FIRST, "projektindikatoren_2024.xlsx")
    assert deliveries.refresh(profile, [delivered], publish=True).published
    assert published(profile) == [
        ("lotsen", D23, None, "suppressed"),
        ("lotsen", D24, 6.0, None),
        ("mentoren", D23, 0.0, None),
        ("mentoren", D24, 1.0, None),
        ("teilnehmende", D23, None, "suppressed"),
        ("teilnehmende", D24, 22.0, None),
    ]
    # the audit checked the published person counts (etl/audit/goals.py)
    summary = audit_summary.read(warehouse.published(profile.curated_dir))
    assert (summary["projects_checked"], summary["project_failures"]) == (2, 0)
