"""The goals of the action fields in the yearly report: the goals the snapshot was
published with (:func:`dashboards.data.goals.published_goals`), their published values and
computed progress (:func:`dashboards.data.goals.assess`, :mod:`etl.goals.progress`),
labelled as on the Ziele page (:func:`dashboards.data.goals.presentation`,
:func:`dashboards.figures.goals.value_text`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from dashboards import formatting
from dashboards.data import goals as goals_data
from dashboards.data.goals import Assessment, Shown
from dashboards.data.queries import Warehouse
from dashboards.export.yearly_report.model import Paragraph, Section, Table, tr
from dashboards.figures.goals import value_text
from etl.goals import LABELS, ActionField, Goals

COLUMNS = ("goal", "indicator", "baseline", "latest", "target", "status")


def goals_sections(wh: Warehouse, goals: Goals | None, ref_date: str, lang: str) -> list[Section]:
    """Per action field its goals with their status and a table of the goal indicators
    (baseline, latest published value, target, progress on ``ref_date``); none when the
    instance has no goals."""
    if goals is None or not goals.action_fields:
        return []
    assessments = goals_data.assess(wh, goals, date.fromisoformat(ref_date))
    statuses = goals_data.goal_statuses(assessments)
    sections = [Section(tr("goals.heading", lang))]
    sections[0].blocks.append(Paragraph(tr("goals.intro", lang)))
    if goals.demo:
        sections[0].blocks.append(Paragraph(tr("goals.demo", lang), "note"))
    for field_ in goals.action_fields:
        part = Section(getattr(field_.title, lang), level=2)
        titles = {g.id: getattr(g.title, lang) for f in goals.action_fields for g in f.goals}
        for goal in field_.goals:
            text = tr("goals.status", lang, status=LABELS[lang][statuses[goal.id]])
            if goal.description is not None:
                text = f"{getattr(goal.description, lang)} {text}"
            if goal.supports:
                helped = ", ".join(f"„{titles[i]}“" for i in goal.supports if i in titles)
                text = f"{text} {tr('goals.supports', lang, goals=helped)}"
            part.blocks.append(Paragraph(text, lead=getattr(goal.title, lang)))
        mine = [a for a in assessments if a.field.id == field_.id]
        part.blocks.append(_goals_table(wh, mine, field_, ref_date, lang))
        part.blocks.extend(_break_notes(mine, ref_date, lang))
        sections.append(part)
    return sections


def _break_notes(items: Sequence[Assessment], ref_date: str, lang: str) -> list[Paragraph]:
    """Per declared change of a project indicator's definition up to ``ref_date``: when,
    which indicator, why — values before and after are not compared (no progress)."""
    until = date.fromisoformat(ref_date)
    return [
        Paragraph(
            tr(
                "goals.break",
                lang,
                date=formatting.format_date(cut.date.isoformat()),
                indicator=getattr(item.indicator.title, lang),
                reason=getattr(cut.reason, lang),
            ),
            "note",
        )
        for item in items
        if item.indicator.project is not None
        for cut in item.indicator.project.breaks
        if cut.date <= until
    ]


def _value(value: float | None, when: date | None, shown: Shown, lang: str) -> str:
    """``"240 Personen\\n(31.12.2019)"``, ``"ja\\n(31.12.2023)"``; "–" without a value."""
    if value is None or when is None:
        return formatting.MISSING
    text = value_text(value, shown, lang)
    text = text if shown.milestone else f"{text} {shown.unit}".strip()
    return f"{text}\n({formatting.format_date(when)})"


def _goals_table(
    wh: Warehouse, items: Sequence[Assessment], field_: ActionField, ref_date: str, lang: str
) -> Table:
    rows = []
    for item in items:
        ind, progress = item.indicator, item.progress
        shown = goals_data.presentation(wh, ind, lang)
        latest = progress.latest or (None, None)
        target = ind.target
        rows.append(
            (
                getattr(item.goal.title, lang),
                f"{shown.title}\n{shown.area}" if shown.area else shown.title,
                _value(ind.baseline.value, ind.baseline.date, shown, lang),
                _value(latest[1], latest[0], shown, lang),
                _value(target.value, target.date, shown, lang)
                if target
                else tr("goals.no_target", lang),
                progress.label(lang),
            )
        )
    header = tuple(tr(f"goals.col.{k}", lang) for k in COLUMNS)
    sources = "; ".join(dict.fromkeys(getattr(i.indicator.source, lang) for i in items))
    source = tr("source_line", lang, source=sources, date=formatting.format_date(ref_date))
    caption = tr("goals.table_caption", lang, field=getattr(field_.title, lang))
    numeric = (False, False, True, True, True, False)
    return Table(caption, header, tuple(rows), numeric, source)
