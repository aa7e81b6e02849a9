"""The audit of the goals' project values (etl/audit/goals.py), on hand-made publications:
small person counts and withheld parts beside published siblings fail; independent
indicators, other measures and clean publications pass."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest

from etl.audit.goals import check_project_values

D = date(2023, 12, 31)
GOALS = {
    "action_fields": [
        {
            "id": "bildung",
            "goals": [
                {
                    "id": "kurse",
                    "indicators": [
                        {"id": "alle", "project": {"measure": "persons"}},
                        {"id": "mit_mh", "project": {"measure": "persons"}},
                        {"id": "ohne_mh", "project": {"measure": "persons"}},
                        {"id": "lotsen", "project": {"measure": "persons", "independent": True}},
                        {"id": "kurse", "project": {"measure": "number"}},
                    ],
                }
            ],
        }
    ]
}


def publication(tmp_path, rows):
    path = tmp_path / "publication.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
        con.execute("INSERT INTO meta VALUES ('goals_definition', ?)", [json.dumps(GOALS)])
        con.execute(
            "CREATE TABLE project_values (indicator_id VARCHAR, ref_date DATE, value DOUBLE, "
            "flag VARCHAR)"
        )
        con.executemany("INSERT INTO project_values VALUES (?, ?, ?, ?)", rows)
    return path


S = "suppressed"


@pytest.mark.parametrize(
    "rows, checked, failures",
    [
        # clean: everything large enough; a small number of courses is no person count
        ([("alle", D, 17, None), ("mit_mh", D, 5, None), ("kurse", D, 2, None)], 2, []),
        # a withheld part and every dependent sibling withheld; the independent count stays
        (
            [("alle", D, None, S), ("mit_mh", D, None, S), ("ohne_mh", D, None, S),
             ("lotsen", D, 2.0, None)],
            1,
            ["2023-12-31 lotsen: Personenzahl 2 unter der Mindestfallzahl"],
        ),
        # 17 − 15 gives the withheld 2 away
        (
            [("alle", D, 17, None), ("mit_mh", D, None, S), ("ohne_mh", D, 15, None)],
            2,
            ["2023-12-31 Ziel kurse: mit_mh gesperrt, aber alle, ohne_mh veröffentlicht "
             "(Differenz)"],
        ),
        # a withheld independent count withholds nothing else
        ([("lotsen", D, None, S), ("alle", D, 17, None)], 1, []),
        ([("alle", D, None, None)], 0, ["2023-12-31 alle: kein Wert und kein Kennzeichen"]),
    ],
)  # fmt: skip
def test_project_values(tmp_path, rows, checked, failures):
    assert check_project_values(publication(tmp_path, rows), 3) == (checked, failures)


def test_no_project_values_nothing_to_check(tmp_path):
    path = tmp_path / "publication.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")
    assert check_project_values(path, 3) == (0, [])
