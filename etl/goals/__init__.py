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
* Published values of every goal indicator with their progress, read from the published
  snapshot only: :func:`dashboards.data.goals.assess` ``(warehouse, goals, as_of=None)``
  (list of :class:`dashboards.data.goals.Assessment`).
"""

from __future__ import annotations

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
from etl.profile import Profile

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
