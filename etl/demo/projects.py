"""Musterstadt's filled project-indicator workbook (issue #15): the template of
``imon goals template`` for the demo goals (``profiles/musterstadt-ziele.yaml``), filled
with the fictional values of ``projektindikatoren.csv`` (2020–2024, baseline 2019), placed
where ``imon refresh`` would put the office's delivery, with a ``.meta.yml`` sidecar."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from etl.demo.meta import write_meta
from etl.goals import load
from etl.goals.workbook import fill, write_template
from etl.profile import Profile

VALUES = Path(__file__).parent / "projektindikatoren.csv"
LAST_YEAR = 2024


def demo_values() -> dict[tuple[str, date], float]:
    """(indicator id, date) → value of the demo workbook."""
    with VALUES.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter=";")
        return {
            (row["indikator"], date.fromisoformat(row["stichtag"])): float(row["wert"])
            for row in rows
        }


def write_project_workbook(profile: Profile, force: bool = False) -> list[Path]:
    """Write the filled workbook and its sidecar below the raw folder (not again unless
    ``force``); the paths written."""
    pattern = profile.goals.files
    path = profile.raw_dir / pattern.replace("*", str(LAST_YEAR), 1)
    if path.exists() and not force:
        return []
    path.parent.mkdir(parents=True, exist_ok=True)
    write_template(load(profile), path, profile.title, until=LAST_YEAR)
    fill(path, demo_values())
    description = "Projektindikatoren des Integrationsbüros (fiktive Demo-Werte 2020–2024)"
    return [path, write_meta(path, f"{LAST_YEAR + 1}-02-15", description, 0, 0)]
