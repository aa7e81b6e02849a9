"""Reads of the Ziele page and the yearly report: the published values of every goal
indicator and their progress status (:mod:`etl.goals.progress`), from the published
snapshot only.

* Monitor indicators: ``indicator_values`` of the named indicator, area and level (the
  protected values; a withheld value counts as missing).
* Project indicators: ``project_values`` (written by the build from the integration
  office's workbook, person counts protected: :mod:`etl.goals.intake`).

Series breaks come from :mod:`dashboards.data.breaks` (a new division of the level, a
changed ``definition_id``). One query reads every goal indicator's values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from dashboards.data import breaks, catalogue
from dashboards.data.snapshot import Warehouse, cached_frame, fetch, memoised, query, tables
from dashboards.i18n import t
from etl.goals import (
    ActionField,
    Goal,
    GoalIndicator,
    Goals,
    Progress,
    goal_status,
    status,
)
from etl.goals.intake import META_KEY

PROJECT_VALUES = "project_values"
PROJECT_DEFINITION = "project"

_MONITOR_SQL = """
WITH wanted AS (
    SELECT unnest($ids) AS goal_indicator, unnest($indicators) AS indicator_id,
           unnest($areas) AS area_id, unnest($levels) AS level
)
SELECT w.goal_indicator, v.indicator_id, v.area_id, v.level,
       CAST(v.ref_date AS VARCHAR) AS ref_date, v.value, v.flag, v.definition_id
FROM wanted w
JOIN indicator_values v USING (indicator_id, area_id, level)
"""

_PROJECT_SQL = f"""
SELECT p.indicator_id AS goal_indicator, p.indicator_id, NULL AS area_id, NULL AS level,
       CAST(p.ref_date AS VARCHAR) AS ref_date, p.value, p.flag,
       '{PROJECT_DEFINITION}' AS definition_id
FROM {PROJECT_VALUES} p
WHERE list_contains($project_ids, p.indicator_id)
"""


@dataclass(frozen=True)
class Shown:
    """How a goal indicator is labelled (:func:`presentation`)."""

    title: str
    unit: str
    decimals: int
    source: str
    area: str | None  # monitor indicators: the area and its level, e.g. "Musterstadt (Stadt)"
    milestone: bool = False  # values 0/1: shown as nein/ja


@dataclass(frozen=True)
class Assessment:
    """One goal indicator with its published values and progress.

    ``values``: ((date, value | None, flag | None), …) in date order, every published date
    (also before the baseline); ``breaks``: first dates after a series break;
    ``progress``: :class:`etl.goals.Progress` on ``as_of`` (default: latest value)."""

    field: ActionField
    goal: Goal
    indicator: GoalIndicator
    values: tuple[tuple[date, float | None, str | None], ...]
    breaks: tuple[date, ...]
    progress: Progress


@memoised(4)
def published_goals(warehouse: Warehouse) -> Goals:
    """The goals the snapshot was built with (``meta`` key ``goals_definition``, written
    by :func:`etl.goals.intake.publish`); empty if the instance has none."""
    rows = fetch(warehouse, "SELECT value FROM meta WHERE key = $key", {"key": META_KEY})
    return Goals.model_validate_json(rows[0][0]) if rows else Goals()


def presentation(warehouse: Warehouse, indicator: GoalIndicator, lang: str) -> Shown:
    """Title, unit, decimals, source and area of a goal indicator in ``lang``: a monitor
    indicator's unit and decimals come from the published catalogue (unless the goal sets
    decimals), its area name from the published areas."""
    title = getattr(indicator.title, lang)
    source = getattr(indicator.source, lang)
    if indicator.project is not None:
        unit = getattr(indicator.project.unit, lang)
        milestone = indicator.project.measure == "milestone"
        return Shown(title, unit, indicator.decimals or 0, source, None, milestone)
    ref = indicator.monitor
    known = catalogue.indicators(warehouse, lang)[ref.indicator]
    level = catalogue.levels(warehouse, lang).get(ref.level)
    where = _area_name(warehouse, ref.area)
    label = level.label if level else ref.level
    key = "goals.over_units" if known.is_segregation else "goals.area_level"
    area = t(key, lang, area=where, level=label)
    decimals = known.decimals if indicator.decimals is None else indicator.decimals
    return Shown(title, known.unit_label, decimals, source, area)


@memoised(256)
def _area_name(warehouse: Warehouse, area_id: str) -> str:
    """The latest name of an area (its id if the snapshot does not know it)."""
    sql = "SELECT name FROM areas WHERE area_id = $area ORDER BY valid_from DESC LIMIT 1"
    rows = fetch(warehouse, sql, {"area": area_id})
    return rows[0][0] if rows else area_id


def _monitor_keys(goals: Goals) -> tuple[tuple[str, str, str, str], ...]:
    return tuple(
        (i.id, i.monitor.indicator, i.monitor.area, i.monitor.level)
        for _, _, i in goals.indicators()
        if i.monitor
    )


@cached_frame
def goal_values(
    warehouse: Warehouse,
    monitor: tuple[tuple[str, str, str, str], ...],
    project_ids: tuple[str, ...],
) -> pd.DataFrame:
    """Published values of the goal indicators (``monitor``: (goal indicator id, indicator,
    area, level)), with ``break_before`` per row (:func:`breaks.mark`)."""
    parts, params = [], {}
    if monitor:
        ids, indicators, areas, levels = (list(col) for col in zip(*monitor, strict=True))
        parts.append(_MONITOR_SQL)
        params |= {"ids": ids, "indicators": indicators, "areas": areas, "levels": levels}
    if project_ids and PROJECT_VALUES in tables(warehouse):
        parts.append(_PROJECT_SQL)
        params["project_ids"] = list(project_ids)
    columns = ["goal_indicator", "indicator_id", "area_id", "level", "ref_date", "value"]
    if not parts:
        return pd.DataFrame(columns=[*columns, "flag", "definition_id", "break_before"])
    sql = " UNION ALL ".join(parts) + " ORDER BY goal_indicator, ref_date"
    frame = query(warehouse, sql, params)
    keyed = frame.rename(columns={"indicator_id": "source_indicator"}).rename(
        columns={"goal_indicator": "indicator_id"}
    )
    marked = breaks.annotate(warehouse, keyed)
    return marked.rename(
        columns={"indicator_id": "goal_indicator", "source_indicator": "indicator_id"}
    )


def assess(warehouse: Warehouse, goals: Goals, as_of: date | None = None) -> list[Assessment]:
    """Every goal indicator of ``goals`` (file order) with values and progress."""
    project_ids = tuple(i.id for i in goals.project_indicators())
    frame = goal_values(warehouse, _monitor_keys(goals), project_ids)
    by_id = {key: rows for key, rows in frame.groupby("goal_indicator", sort=False)}
    found = []
    for field, goal, ind in goals.indicators():
        rows = by_id.get(ind.id, frame.iloc[0:0])
        values = tuple(
            (date.fromisoformat(r.ref_date), _number(r.value), _text(r.flag))
            for r in rows.itertuples()
        )
        cuts = tuple(date.fromisoformat(r.ref_date) for r in rows.itertuples() if r.break_before)
        if ind.project is not None:  # declared changes of a project indicator's definition
            cuts = tuple(sorted({*cuts, *(b.date for b in ind.project.breaks)}))
        progress = status(ind, [(d, v) for d, v, _ in values], cuts, as_of)
        found.append(Assessment(field, goal, ind, values, cuts, progress))
    return found


def goal_statuses(assessments: list[Assessment]) -> dict[str, str]:
    """Goal id → status (:func:`etl.goals.goal_status`), in file order."""
    grouped: dict[str, list[Progress]] = {}
    for item in assessments:
        grouped.setdefault(item.goal.id, []).append(item.progress)
    return {goal: goal_status(found) for goal, found in grouped.items()}


def _number(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _text(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
