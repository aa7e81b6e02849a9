"""dashboards.data.goals on a hand-made publication: the goals read back from the
snapshot, values of monitor and project indicators in one query, series breaks (a changed
definition, a new division of the level) making a goal indicator not assessable, withheld
values counted as missing."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from dashboards.data import goals as goal_data
from dashboards.data import queries
from dashboards.data.snapshot import Warehouse
from etl.goals import Goals
from etl.goals.intake import META_KEY

TEXT = {"de": "T", "en": "T"}


def _monitor(ident: str, indicator: str, area: str, level: str) -> dict:
    return {
        "id": ident,
        "title": TEXT,
        "monitor": {"indicator": indicator, "area": area, "level": level},
        "definition": TEXT,
        "source": TEXT,
        "baseline": {"date": "2019-12-31", "value": 10},
        "direction": "increase",
    }


GOALS = Goals.model_validate(
    {
        "action_fields": [
            {
                "id": "feld",
                "title": TEXT,
                "goals": [
                    {
                        "id": "ziel",
                        "title": TEXT,
                        "indicators": [
                            _monitor("definition_changed", "share_a", "0", "city"),
                            _monitor("redrawn", "share_a", "1", "district"),
                            _monitor("clean", "share_c", "0", "city"),
                            {
                                "id": "projekt",
                                "title": TEXT,
                                "project": {"measure": "persons", "unit": TEXT},
                                "definition": TEXT,
                                "source": TEXT,
                                "baseline": {"date": "2019-12-31", "value": 4},
                                "direction": "increase",
                            },
                        ],
                    }
                ],
            }
        ]
    }
)
YEARS = [date(y, 12, 31) for y in range(2019, 2025)]


@pytest.fixture
def wh(tmp_path):
    path = tmp_path / "publication.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")
        con.execute("INSERT INTO meta VALUES (?, ?)", [META_KEY, GOALS.model_dump_json()])
        con.execute("CREATE TABLE levels (level VARCHAR, rank INTEGER, label_de VARCHAR, "
                    "label_en VARCHAR)")  # fmt: skip
        con.execute("INSERT INTO levels VALUES ('city', 0, 'Stadt', 'City'), "
                    "('district', 1, 'Stadtteil', 'District')")  # fmt: skip
        con.execute(
            "CREATE TABLE areas (area_id VARCHAR, level VARCHAR, name VARCHAR, parent_id "
            "VARCHAR, vintage VARCHAR, valid_from DATE, valid_to DATE)"
        )
        # the districts are redrawn on 1 Jan 2021 (a third one appears)
        con.execute(
            "INSERT INTO areas VALUES ('0', 'city', 'Stadt', NULL, 'a', '2010-01-01', NULL), "
            "('1', 'district', 'Eins', '0', 'a', '2010-01-01', '2020-12-31'), "
            "('2', 'district', 'Zwei', '0', 'a', '2010-01-01', '2020-12-31'), "
            "('1', 'district', 'Eins', '0', 'b', '2021-01-01', NULL), "
            "('2', 'district', 'Zwei', '0', 'b', '2021-01-01', NULL), "
            "('3', 'district', 'Drei', '0', 'b', '2021-01-01', NULL)"
        )
        con.execute("CREATE TABLE area_geometry (area_id VARCHAR, level VARCHAR, "
                    "vintage VARCHAR, geojson VARCHAR)")  # fmt: skip
        con.execute(
            "CREATE TABLE indicator_values (indicator_id VARCHAR, ref_date DATE, area_id "
            "VARCHAR, level VARCHAR, value DOUBLE, numerator DOUBLE, denominator DOUBLE, "
            "flag VARCHAR, definition_id VARCHAR, n_units INTEGER)"
        )
        rows = []
        for day in YEARS:
            changed = "b" if day.year >= 2022 else "a"  # a new definition from 2022
            rows.append(("share_a", day, "0", "city", 11.0, changed))
            rows.append(("share_a", day, "1", "district", 11.0, "a"))
            rows.append(("share_c", day, "0", "city", 12.0 if day.year == 2024 else 11.0, "a"))
        con.executemany(
            "INSERT INTO indicator_values VALUES (?, ?, ?, ?, ?, NULL, NULL, NULL, ?, NULL)",
            rows,
        )
        con.execute("CREATE TABLE project_values (indicator_id VARCHAR, ref_date DATE, "
                    "value DOUBLE, flag VARCHAR)")  # fmt: skip
        con.execute(
            "INSERT INTO project_values VALUES ('projekt', '2020-12-31', NULL, 'suppressed'), "
            "('projekt', '2021-12-31', 5, NULL), ('anderes', '2021-12-31', 9, NULL)"
        )
    queries.clear_cache()
    return Warehouse(str(path), path.stat().st_mtime_ns)


def test_goals_values_breaks_and_status(wh):
    assert goal_data.published_goals(wh) == GOALS
    found = {a.indicator.id: a for a in goal_data.assess(wh, GOALS)}
    assert list(found) == ["definition_changed", "redrawn", "clean", "projekt"]
    changed = found["definition_changed"]
    assert changed.breaks == (date(2022, 12, 31),)
    assert changed.progress.status == "not_assessable"
    assert changed.progress.reason == "Reihenbruch am 31.12.2022 seit dem Ausgangswert"
    redrawn = found["redrawn"]
    assert redrawn.breaks == (date(2021, 12, 31),)  # the first date on the new districts
    assert redrawn.progress.status == "not_assessable"
    # 10 (2019) -> 12 (2024), no target: (1.2 ** (1/5)) − 1 = 3.7 % a year: substantial
    clean = found["clean"]
    assert clean.breaks == () and clean.progress.status == "substantial"
    assert clean.progress.growth == pytest.approx(0.0371372, abs=1e-6)
    # the withheld 2020 value is no value: 4 (2019) -> 5 (2021), (5/4) ** (1/2) − 1 = 11.8 %
    project = found["projekt"]
    assert project.values == (
        (date(2020, 12, 31), None, "suppressed"),
        (date(2021, 12, 31), 5.0, None),
    )
    assert project.progress.latest == (date(2021, 12, 31), 5.0)
    assert project.progress.growth == pytest.approx(0.118034, abs=1e-6)
    assert goal_data.goal_statuses(list(found.values())) == {"ziel": "substantial"}


def test_a_declared_change_of_a_project_definition_is_a_break(wh):
    """goals.yaml declares that 'projekt' is counted anew from 1.7.2021: the value 5 of
    31.12.2021 lies after it, so no progress since the baseline 4 (31.12.2019) is computed
    (without the break: 11,8 % a year, above); up to 30.6.2021 nothing after the baseline
    is published, and the break does not count. The chart stops its line at the break and
    marks it; the report states the break with its reason."""
    from dashboards.export.yearly_report.goals import _break_notes
    from dashboards.figures.goals import goal_trend

    data = GOALS.model_dump(mode="json")
    project = data["action_fields"][0]["goals"][0]["indicators"][3]["project"]
    project["breaks"] = [
        {"date": "2021-07-01", "reason": {"de": "ab Juli auch Online-Kurse", "en": "online"}}
    ]
    goals = Goals.model_validate(data)
    item = next(a for a in goal_data.assess(wh, goals) if a.indicator.id == "projekt")
    assert item.breaks == (date(2021, 7, 1),)
    assert item.progress.status == "not_assessable"
    assert item.progress.reason == "Reihenbruch am 01.07.2021 seit dem Ausgangswert"
    assert item.progress.latest == (date(2021, 12, 31), 5.0)
    shown = goal_data.presentation(wh, item.indicator, "de")
    figure = goal_trend(item, shown, "de")
    line = figure.data[0]
    assert list(line.x) == ["2020-12-31", "2021-07-01", "2021-12-31"]
    assert list(line.y) == [None, None, 5.0]  # withheld 2020, the gap at the break, 5
    assert [s.x0 for s in figure.layout.shapes] == ["2021-07-01"]
    marks = [a for a in figure.layout.annotations if a.name == "series_break"]
    assert [(m.text, m.hovertext) for m in marks] == [("Reihenbruch", "ab Juli auch Online-Kurse")]
    notes = _break_notes([item], "2024-12-31", "de")
    assert [n.text for n in notes] == [
        "Reihenbruch am 01.07.2021 bei „T“: ab Juli auch Online-Kurse. Werte davor und danach "
        "werden nicht verglichen; ein Fortschritt über den Bruch hinweg wird nicht berechnet."
    ]
    assert _break_notes([item], "2021-06-30", "de") == []
