"""Typed schema of an instance's ``goals.yaml``: action fields → goals → goal indicators.

Every error names the file, the goal (and indicator) and the field, e.g.
``goals.yaml: goal 'vereine', indicator 'vereine_interesse', field 'target.date': …``.
Monitor indicators must exist in the instance's ``indicators.yaml`` and name a level of
the profile; a target must lie in the desired direction from the baseline and after it; a
goal's ``supports`` names other goals of the file.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from etl.errors import ConfigError
from etl.indicators.spec import read_yaml_mapping

ID = r"^[a-z][a-z0-9_]*$"
# what a project indicator counts; ``persons`` follow the instance's disclosure rules
MEASURES = ("persons", "number", "milestone", "percent")
SHEET_FORBIDDEN = set("[]:*?/\\")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    de: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Baseline(_Strict):
    date: date
    value: float


class Target(_Strict):
    value: float
    date: date


class MonitorRef(_Strict):
    """A value of the monitor itself: indicator of ``indicators.yaml`` at one area/level."""

    indicator: str
    area: str
    level: str


class SeriesBreak(_Strict):
    """From ``date`` on the project indicator is counted by a changed definition
    (``reason``, e.g. "ab 2022 auch Online-Kurse"): values before and after are not
    compared (no progress across it; marked in the chart and the report)."""

    date: date
    reason: Text


class ProjectRef(_Strict):
    """A value the integration office reports in the project workbook."""

    measure: Literal["persons", "number", "milestone", "percent"]
    unit: Text  # e.g. {de: Teilnehmende, en: participants}
    # persons only: true when this count is no total or part of another person count of
    # its goal; then a withheld value of it withholds nothing else (etl/goals/intake.py)
    independent: bool = False
    breaks: list[SeriesBreak] = []  # changes of the definition, in date order


class GoalIndicator(_Strict):
    """One indicator of a goal: ``monitor`` or ``project`` (exactly one of them)."""

    id: str = Field(pattern=ID)
    title: Text
    monitor: MonitorRef | None = None
    project: ProjectRef | None = None
    definition: Text
    source: Text
    baseline: Baseline
    target: Target | None = None
    direction: Literal["increase", "decrease"]
    decimals: int | None = Field(default=None, ge=0, le=4)  # None: the catalogue's / 0

    @model_validator(mode="after")
    def _one_kind(self) -> GoalIndicator:
        if (self.monitor is None) == (self.project is None):
            raise ValueError(
                "field 'monitor': give either 'monitor' (indicator, area, level) or 'project'"
            )
        if self.target is not None:
            if self.target.date <= self.baseline.date:
                raise ValueError(
                    f"field 'target.date': {self.target.date} is not after baseline.date "
                    f"{self.baseline.date}"
                )
            sign = 1 if self.direction == "increase" else -1
            if sign * (self.target.value - self.baseline.value) <= 0:
                raise ValueError(
                    f"field 'target.value': {self.target.value:g} does not lie in the direction "
                    f"'{self.direction}' from baseline.value {self.baseline.value:g}"
                )
        if self.project and self.project.breaks:
            days = [b.date for b in self.project.breaks]
            if days != sorted(set(days)) or days[0] <= self.baseline.date:
                raise ValueError(
                    f"field 'project.breaks': the dates {', '.join(map(str, days))} must be "
                    f"different, in order and after baseline.date {self.baseline.date} (a "
                    "definition changed before the baseline is the baseline's definition)"
                )
        if self.project and self.project.measure == "milestone":
            if self.baseline.value not in (0, 1) or (self.target and self.target.value != 1):
                raise ValueError(
                    "field 'baseline.value': a milestone has the values 0 (open) and 1 "
                    "(realised), and its target is 1"
                )
            if self.direction != "increase":
                raise ValueError("field 'direction': a milestone's direction is 'increase'")
        return self

    @property
    def kind(self) -> str:
        """``monitor`` or ``project``."""
        return "monitor" if self.monitor else "project"

    @property
    def sign(self) -> int:
        """+1 when a rise is desired, −1 when a fall is."""
        return 1 if self.direction == "increase" else -1


class Goal(_Strict):
    id: str = Field(pattern=ID)
    title: Text
    description: Text | None = None
    indicators: list[GoalIndicator] = Field(min_length=1)
    # ids of other goals of the file this goal helps to reach (e.g. language courses for
    # "Geflüchtete in Ausbildung bringen"): shown as links, no effect on any status
    supports: list[str] = []


class ActionField(_Strict):
    """A Handlungsfeld; ``sheet`` names its sheet in the project workbook (default: the
    German title, at most 31 characters)."""

    id: str = Field(pattern=ID)
    title: Text
    sheet: str | None = Field(default=None, min_length=1, max_length=31)
    goals: list[Goal] = Field(min_length=1)

    @property
    def sheet_name(self) -> str:
        return self.sheet or self.title.de[:31]


class Goals(_Strict):
    """The validated goals of one instance (empty if the profile names none)."""

    demo: bool = False  # fictional values (the demo city): pages and reports say so
    action_fields: list[ActionField] = []
    path: Path | None = None

    def indicators(self) -> list[tuple[ActionField, Goal, GoalIndicator]]:
        """Every goal indicator with its action field and goal, in file order."""
        return [(f, g, i) for f in self.action_fields for g in f.goals for i in g.indicators]

    def project_indicators(self, field: ActionField | None = None) -> list[GoalIndicator]:
        return [i for f, _, i in self.indicators() if i.project and (field is None or f is field)]

    def indicator(self, indicator_id: str) -> GoalIndicator:
        return next(i for _, _, i in self.indicators() if i.id == indicator_id)


def read_goals(path: Path, indicator_ids: set[str] | None, level_ids: list[str] | None) -> Goals:
    """Read and validate ``path`` against the catalogue's ids and the profile's levels
    (None: the monitor references are not checked, e.g. to read a workbook's sheets)."""
    data = read_yaml_mapping(path, "'action_fields'")
    try:
        goals = Goals(**data, path=path)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_describe(exc, data)}") from exc
    _check_ids(path, goals)
    if indicator_ids is not None and level_ids is not None:
        _check_monitor(path, goals, indicator_ids, level_ids)
    return goals


def _describe(exc: ValidationError, data: dict) -> str:
    """``goal 'x', indicator 'y', field 'target.date': message`` for the first error."""
    err = exc.errors()[0]
    loc = list(err["loc"])
    names, node, rest = [], data, []
    kinds = {"action_fields": "action field", "goals": "goal", "indicators": "indicator"}
    while loc:
        key = loc.pop(0)
        if key in kinds and loc and isinstance(loc[0], int) and isinstance(node, dict):
            index = loc.pop(0)
            items = node.get(key) or []
            node = items[index] if index < len(items) else {}
            ident = node.get("id") if isinstance(node, dict) else None
            names.append(f"{kinds[key]} '{ident or f'#{index + 1}'}'")
        else:
            rest = [key, *loc]
            break
    if names and names[0].startswith("action field") and len(names) > 1:
        names = names[1:]  # the goal is named; its action field follows from it
    message = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
    message = message.removeprefix("Value error, ")  # a model check names its field itself
    if rest:
        message = f"field '{'.'.join(str(k) for k in rest)}': {message}"
    return ", ".join([*names, message])


def _check_ids(path: Path, goals: Goals) -> None:
    for kind, ids in (
        ("action field", [f.id for f in goals.action_fields]),
        ("goal", [g.id for f in goals.action_fields for g in f.goals]),
        ("indicator", [i.id for _, _, i in goals.indicators()]),
        ("sheet", [f.sheet_name for f in goals.action_fields]),
    ):
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ConfigError(f"{path}: {kind} '{twice[0]}' used twice (ids must be unique)")
    known = {g.id for f in goals.action_fields for g in f.goals}
    for field in goals.action_fields:
        for goal in field.goals:
            wrong = [s for s in goal.supports if s not in known or s == goal.id]
            if wrong:
                raise ConfigError(
                    f"{path}: goal '{goal.id}', field 'supports': '{wrong[0]}' is no other "
                    "goal of this file"
                )
    for field in goals.action_fields:
        bad = SHEET_FORBIDDEN & set(field.sheet_name)
        if bad or field.sheet_name.lower() == "hinweise":
            raise ConfigError(
                f"{path}: action field '{field.id}', field 'sheet': '{field.sheet_name}' "
                "cannot name a workbook sheet (no [ ] : * ? / \\, not 'Hinweise'); "
                "give 'sheet'"
            )


def _check_monitor(path: Path, goals: Goals, indicator_ids: set[str], level_ids: list[str]) -> None:
    for _, goal, ind in goals.indicators():
        if ind.monitor is None:
            continue
        where = f"{path}: goal '{goal.id}', indicator '{ind.id}'"
        if ind.monitor.indicator not in indicator_ids:
            raise ConfigError(
                f"{where}, field 'monitor.indicator': '{ind.monitor.indicator}' is no "
                "indicator of indicators.yaml"
            )
        if ind.monitor.level not in level_ids:
            raise ConfigError(
                f"{where}, field 'monitor.level': unknown level '{ind.monitor.level}' "
                f"(known: {', '.join(level_ids)})"
            )
