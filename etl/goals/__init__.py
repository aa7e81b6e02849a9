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

from etl.errors import ConfigError, InputError
from etl.goals.model import (
    ActionField,
    Baseline,
    Goal,
    GoalIndicator,
    Goals,
    MonitorRef,
    ProjectRef,
    SeriesBreak,
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
    "SeriesBreak",
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
    ids = {i.id for i in catalogue.indicators}
    goals = read_goals(profile.goals.file, ids, profile.level_ids())
    _check_small_counts(goals, profile.disclosure.min_count)
    return goals


def _check_small_counts(goals: Goals, min_count: int) -> None:
    """Baselines and targets are published with the goals: a person count among them must
    not be a small count (1 … min_count − 1) the disclosure rules would withhold."""
    for _, goal, ind in goals.indicators():
        if ind.project is None or ind.project.measure != "persons":
            continue
        for field, number in (("baseline", ind.baseline), ("target", ind.target)):
            if number is not None and 0 < number.value < min_count:
                raise ConfigError(
                    f"{goals.path}: goal '{goal.id}', indicator '{ind.id}', field "
                    f"'{field}.value': {number.value:g} persons is a small count the "
                    f"disclosure rules withhold (below {min_count}); it would be published "
                    "with the goals"
                )


def delivered_dates(file: Path, source: GoalsSource) -> list[date]:
    """The reference dates of a delivered project workbook, read and checked in full
    (``imon refresh`` recognises a delivery by them; errors name sheet, row and column)."""
    from etl.goals import workbook  # openpyxl, only when a workbook is delivered

    rows = workbook.read(file, read_goals(source.file, None, None))
    if not rows:
        raise InputError(file, "no value in the workbook (every row's 'Wert' is empty)")
    return sorted({row.ref_date for row in rows})
