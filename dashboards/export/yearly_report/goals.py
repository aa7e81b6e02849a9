"""The goals of the action fields in the yearly report (goals model: :mod:`etl.goals`;
published values and progress: :func:`dashboards.data.goals.assess`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from dashboards import formatting
from dashboards.data import catalogue
from dashboards.data import goals as goals_data
from dashboards.data.goals import Assessment as GoalAssessment
from dashboards.data.queries import Warehouse
from dashboards.export.yearly_report.model import Paragraph, Section, Table, tr
from etl.goals import LABELS, ActionField, Goals


def goals_sections(wh: Warehouse, goals: Goals | None, ref_date: str, lang: str) -> list[Section]:
    """Per action field its goals with their status and a table of the goal indicators
    (baseline, latest published value, target, status on ``ref_date``); none when the
    instance has no goals. Values and status: :func:`dashboards.data.goals.assess`
    (published values only)."""
    if goals is None or not goals.action_fields:
        return []
    assessments = goals_data.assess(wh, goals, date.fromisoformat(ref_date))
    statuses = goals_data.goal_statuses(assessments)
    indicators = catalogue.indicators(wh, lang)
    sections = [Section(tr("goals.heading", lang))]
    sections[0].blocks.append(Paragraph(tr("goals.intro", lang)))
    if goals.demo:
        sections[0].blocks.append(Paragraph(tr("goals.demo", lang), "note"))
    for field_ in goals.action_fields:
        part = Section(getattr(field_.title, lang), level=2)
        mine = [a for a in assessments if a.field.id == field_.id]
        for goal in field_.goals:
            label = LABELS[lang][statuses[goal.id]]
            text = tr("goals.status", lang, status=label)
            if goal.description is not None:
                text = f"{getattr(goal.description, lang)} {text}"
            part.blocks.append(Paragraph(text, lead=getattr(goal.title, lang)))
        part.blocks.append(_goals_table(mine, indicators, field_, ref_date, lang))
        sections.append(part)
    return sections


def _goal_value(item: GoalAssessment, value: float | None, indicators: dict, lang: str) -> str:
    """A goal indicator's value: a milestone as ja/nein, percent with ``%``, counts with
    their unit (project indicators)."""
    ind = item.indicator
    if value is None:
        return formatting.MISSING
    if ind.project is not None:
        if ind.project.measure == "milestone":
            return tr("goals.yes" if value >= 1 else "goals.no", lang)
        unit = "percent" if ind.project.measure == "percent" else ind.project.measure
        text = formatting.format_value(value, unit, ind.decimals or 0)
        return text if unit == "percent" else f"{text} {getattr(ind.project.unit, lang)}"
    monitored = indicators.get(ind.monitor.indicator)
    unit = monitored.unit if monitored is not None else ""
    decimals = ind.decimals  # the goal's own, else the monitor indicator's
    if decimals is None:
        decimals = monitored.decimals if monitored is not None else 0
    return formatting.format_value(value, unit, decimals)


def _dated(text: str, when: date | None) -> str:
    return (
        text
        if when is None or text == formatting.MISSING
        else f"{text}\n({formatting.format_date(when)})"
    )


def _goals_table(
    items: Sequence[GoalAssessment], indicators: dict, field_: ActionField, ref_date: str, lang: str
) -> Table:
    rows = []
    for item in items:
        ind, progress = item.indicator, item.progress
        latest = progress.latest
        target = ind.target
        rows.append(
            (
                getattr(item.goal.title, lang),
                getattr(ind.title, lang),
                _dated(_goal_value(item, ind.baseline.value, indicators, lang), ind.baseline.date),
                _dated(_goal_value(item, latest[1], indicators, lang), latest[0])
                if latest
                else formatting.MISSING,
                _dated(_goal_value(item, target.value, indicators, lang), target.date)
                if target
                else tr("goals.no_target", lang),
                progress.label(lang),
            )
        )
    header = tuple(
        tr(f"goals.col.{k}", lang)
        for k in ("goal", "indicator", "baseline", "latest", "target", "status")
    )
    sources = "; ".join(dict.fromkeys(getattr(i.indicator.source, lang) for i in items))
    caption = tr("goals.table_caption", lang, field=getattr(field_.title, lang))
    source = tr("source_line", lang, source=sources, date=formatting.format_date(ref_date))
    numeric = (False, False, True, True, True, False)
    return Table(caption, header, tuple(rows), numeric, source)
