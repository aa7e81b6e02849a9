"""Project values of the integration goals checked from the publication alone (#15).

The integration office reports aggregates (participants, staff with migration background),
not person records, so the linear-programming attack has no cells for them; what an
attacker can use is plain: a small person count read directly, or one worked out from
counts that add up. Person counts of one goal may add up (in all; with and without
migration background) unless the goals file declares an indicator ``independent``. So,
reading only the publication (``project_values`` and the goals file published with it in
``meta``) and importing nothing of the protection code (etl/goals/intake.py):

* no published person count lies between 1 and the minimum count − 1;
* where a person count of a goal is withheld on a date, no other person count of that
  goal that is not declared independent is published on that date (else the difference
  would give the withheld one away).

Anything else fails the build.
"""

from __future__ import annotations

import json
from pathlib import Path

from etl import warehouse

META_KEY = "goals_definition"


def check_project_values(publication: Path, min_count: int) -> tuple[int, list[str]]:
    """(published person counts checked, failures)."""
    with warehouse.connect(publication, read_only=True) as con:
        tables = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
        if "project_values" not in tables:
            return 0, []
        rows = con.execute(
            "SELECT indicator_id, ref_date, value, flag FROM project_values"
        ).fetchall()
        found = con.execute("SELECT value FROM meta WHERE key = ?", [META_KEY]).fetchone()
    people = _person_indicators(json.loads(found[0]) if found else {})
    failures, checked = [], 0
    withheld: dict[tuple, list[str]] = {}
    shown: dict[tuple, list[str]] = {}
    for indicator_id, ref_date, value, flag in rows:
        if indicator_id not in people:
            continue
        goal, independent = people[indicator_id]
        where = f"{ref_date} {indicator_id}"
        if value is None:
            if flag is None:
                failures.append(f"{where}: kein Wert und kein Kennzeichen")
            elif not independent:
                withheld.setdefault((goal, ref_date), []).append(indicator_id)
            continue
        checked += 1
        if 0 < value < min_count:
            failures.append(f"{where}: Personenzahl {value:g} unter der Mindestfallzahl")
        if not independent:
            shown.setdefault((goal, ref_date), []).append(indicator_id)
    for key, ids in sorted(withheld.items()):
        if shown.get(key):
            failures.append(
                f"{key[1]} Ziel {key[0]}: {', '.join(sorted(ids))} gesperrt, aber "
                f"{', '.join(sorted(shown[key]))} veröffentlicht (Differenz)"
            )
    return checked, failures


def _person_indicators(definition: dict) -> dict[str, tuple[str, bool]]:
    """Project indicators counting persons: id → (goal id, declared independent)."""
    found = {}
    for action_field in definition.get("action_fields") or []:
        for goal in action_field.get("goals") or []:
            for indicator in goal.get("indicators") or []:
                project = indicator.get("project") or {}
                if project.get("measure") == "persons":
                    found[indicator["id"]] = (goal["id"], bool(project.get("independent")))
    return found
