"""Integration goals (issue #15): action fields → goals → goal indicators, their project
values and their progress status.

Public API (for pages and the yearly report)::

    from etl.goals import load, status, goal_status, Progress, LABELS, STATUSES

    goals = load(profile)                  # Goals (empty when the profile has no 'goals:')
    for field, goal, ind in goals.indicators():
        ...

* :func:`load` ``(profile) -> Goals``: the profile's ``goals.file`` read and validated
  (:mod:`etl.goals.model`; :class:`etl.errors.ConfigError` naming goal and field).
  ``Goals.action_fields`` → :class:`ActionField` (``id``, ``title.de/.en``, ``goals``) →
  :class:`Goal` (``id``, ``title``, ``description``, ``indicators``) →
  :class:`GoalIndicator` (``id``, ``title``, ``kind`` 'monitor' | 'project', ``monitor``
  (``indicator``, ``area``, ``level``) or ``project`` (``measure`` persons | number |
  milestone | percent, ``unit.de/.en``), ``definition``, ``source``, ``baseline``
  (``date``, ``value``), ``target`` (``value``, ``date``) or None, ``direction``
  'increase' | 'decrease', ``decimals``). ``Goals.demo`` marks fictional demo values.
* :func:`status` ``(indicator, values, breaks=(), as_of=None) -> Progress``: pure; ``values``
  the *published* (date, value) pairs (None = withheld), ``breaks`` the first dates after a
  series break. :class:`Progress` (frozen dataclass): ``status`` (one of :data:`STATUSES`:
  'achieved', 'substantial', 'moderate', 'limited', 'deterioration', 'not_assessable'),
  ``method``, ``latest`` (date, value) | None, ``growth``, ``required``, ``ratio``,
  ``reason``; ``label(lang)`` gives the German or English name (:data:`LABELS`). Method
  and thresholds: :mod:`etl.goals.progress`.
* :func:`goal_status` ``(progresses) -> str``: a goal's status (least favourable
  assessable indicator).
* Reading a published snapshot (what pages and the report use; never the warehouse):
  ``from dashboards.data import goals as goal_data``

  - ``goal_data.published_goals(wh) -> Goals``: the goals the snapshot was built with
    (the build writes them into the publication; empty if the instance has none);
  - ``goal_data.assess(wh, goals, as_of=None) -> list[Assessment]``: per goal indicator
    (file order) the frozen dataclass ``Assessment(field, goal, indicator, values,
    breaks, progress)``; ``values`` ((date, value | None, flag | None), …) are the
    published values (``None`` withheld, flag ``suppressed``);
  - ``goal_data.goal_statuses(assessments) -> {goal id: status}``;
  - ``goal_data.presentation(wh, indicator, lang) -> Shown(title, unit, decimals,
    source, area)`` for labels and number formats.

  Example: ``[(a.goal.id, a.indicator.id, a.progress.label("de")) for a in
  goal_data.assess(wh, goal_data.published_goals(wh))]``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from etl.errors import InputError
from etl.goals.model import (
    ActionField,
    Baseline,
    Goal,
    GoalIndicator,
    Goals,
    MonitorRef,
    ProjectRef,
    Target,
    Text,
    read_goals,
)
from etl.goals.progress import LABELS, STATUSES, Progress, goal_status, status, years_between
from etl.indicators.spec import load_catalogue
from etl.profile import GoalsSource, Profile

__all__ = [
    "LABELS",
    "STATUSES",
    "ActionField",
    "Baseline",
    "Goal",
    "GoalIndicator",
    "Goals",
    "MonitorRef",
    "ProjectRef",
    "Progress",
    "Target",
    "Text",
    "delivered_dates",
    "goal_status",
    "load",
    "status",
    "years_between",
]


def load(profile: Profile) -> Goals:
    """The instance's validated goals; empty :class:`Goals` if the profile names none."""
    if profile.goals is None:
        return Goals()
    catalogue = load_catalogue(profile.indicators)
    return read_goals(profile.goals.file, {i.id for i in catalogue.indicators}, profile.level_ids())


def delivered_dates(file: Path, source: GoalsSource) -> list[date]:
    """The reference dates of a delivered project workbook, read and checked in full
    (``imon refresh`` recognises a delivery by them; errors name sheet, row and column)."""
    from etl.goals import workbook  # openpyxl, only when a workbook is delivered

    rows = workbook.read(file, read_goals(source.file, None, None))
    if not rows:
        raise InputError(file, "no value in the workbook (every row's 'Wert' is empty)")
    return sorted({row.ref_date for row in rows})
