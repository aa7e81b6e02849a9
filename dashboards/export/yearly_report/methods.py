"""The annex of the yearly report: data basis, how changes are computed, every indicator
(definition, source, period, caveats), the segregation method, the goals' progress method
and the legend of the flags present."""

from __future__ import annotations

from collections.abc import Sequence

from dashboards import flags, formatting, labels
from dashboards.data import catalogue, overview, queries
from dashboards.data import indicators as indicator_facts
from dashboards.data import segregation as segregation_data
from dashboards.data.queries import Warehouse
from dashboards.export import segregation as segregation_export
from dashboards.export.tables import snapshot_id
from dashboards.export.yearly_report.model import Paragraph, Section, tr
from dashboards.export.yearly_report.summary import Statement, capital
from dashboards.i18n import t as ui_text
from etl.goals import Goals


def methods_sections(
    wh: Warehouse, statements: Sequence[Statement], lang: str, goals: Goals | None = None
) -> list[Section]:
    """The annex: data basis, how changes are computed, every indicator of the report
    (definition, source, period, caveats), the segregation method and the flags."""
    meta = catalogue.meta(wh)
    annex = Section(tr("methods.heading", lang))
    data = Section(tr("methods.data_heading", lang), level=2)
    built = meta.get("built_at")
    data.blocks.append(
        Paragraph(
            tr(
                "methods.snapshot",
                lang,
                snapshot=snapshot_id(wh),
                date=formatting.format_date(built) if built else formatting.MISSING,
            )
        )
    )
    if meta.get("attribution"):
        data.blocks.append(Paragraph(tr("sources", lang, text=meta["attribution"])))
    note = catalogue.perturbation_note(meta, lang)
    if note:
        data.blocks.append(Paragraph(capital(note) + "."))
    data.blocks.append(Paragraph(tr("methods.changes", lang)))
    facts = indicator_facts.facts(wh, lang)
    used = list(dict.fromkeys(s.indicator.indicator_id for s in statements))
    used += [
        i.indicator_id for i in overview.table_indicators(wh, lang) if i.indicator_id not in used
    ]
    listing = Section(tr("methods.indicators_heading", lang), level=2)
    for indicator_id in used:
        fact = facts[indicator_id]
        text = tr(
            "methods.indicator",
            lang,
            definition=fact.indicator.definition,
            source=fact.indicator.source,
            first=formatting.format_date(fact.first_date),
            last=formatting.format_date(fact.last_date),
        )
        caveats = " ".join(indicator_facts.caveats(fact, meta, lang))
        listing.blocks.append(Paragraph(f"{text} {caveats}".strip(), lead=fact.indicator.title))
    sections = [annex, data, listing]
    if any(s.indicator.is_segregation for s in statements):
        method = Section(tr("methods.segregation_heading", lang), level=2)
        method.blocks.append(Paragraph(ui_text("trends.segregation_note", lang)))
        for item in (s for s in statements if s.indicator.is_segregation):
            frame = segregation_export.levels_frame(wh, item.indicator.indicator_id)
            text = segregation_data.benchmark_text(frame[frame["expected"].notna()], lang)
            method.blocks.append(Paragraph(text, lead=item.indicator.title))
        sections.append(method)
    if goals is not None and goals.action_fields:
        sections.append(_goals_method(goals, lang))
    legend = _flag_legend(wh, used, lang)
    if legend:
        sections.append(legend)
    return sections


def _goals_method(goals: Goals, lang: str) -> Section:
    """How progress is measured, and each goal indicator's definition and source."""
    section = Section(tr("methods.goals_heading", lang), level=2)
    section.blocks.append(Paragraph(tr("methods.goals", lang)))
    for _, _, ind in goals.indicators():
        definition = getattr(ind.definition, lang).rstrip(". ")
        text = tr(
            "methods.goal_indicator", lang, definition=definition, source=getattr(ind.source, lang)
        )
        section.blocks.append(Paragraph(text, lead=getattr(ind.title, lang)))
    return section


def _flag_legend(wh: Warehouse, indicator_ids: Sequence[str], lang: str) -> Section | None:
    counts = queries.indicator_flag_counts(wh)
    present = sorted(
        {
            f
            for f in counts.loc[counts["indicator_id"].isin(indicator_ids), "flag"]
            if flags.is_flag(f)
        },
        key=flags.order,
    )
    if not present:
        return None
    section = Section(tr("methods.flags_heading", lang), level=2)
    for flag in present:
        section.blocks.append(
            Paragraph(flags.explanation(flag, lang), lead=labels.flag_label(flag, lang))
        )
    return section
