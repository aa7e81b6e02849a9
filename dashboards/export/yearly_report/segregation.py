"""Segregation in the yearly report: per segregation key figure the index per level with
its random-allocation band (:mod:`dashboards.export.segregation`), what it says at the key
figure's level, and whether its change since the start exceeds random allocation."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dashboards import formatting, labels
from dashboards.data import catalogue
from dashboards.data import segregation as segregation_data
from dashboards.data.catalogue import Indicator
from dashboards.data.queries import Warehouse
from dashboards.export import segregation as segregation_export
from dashboards.export.yearly_report.model import Figure, Paragraph, Section, Table, source_line, tr
from dashboards.export.yearly_report.summary import Statement


def segregation_sections(
    wh: Warehouse, statements: Sequence[Statement], ref_date: str, lang: str
) -> list[Section]:
    """Per segregation key figure: the index per level with its random-allocation band,
    what it says at the key figure's level, and a table per level on the date."""
    found = [s for s in statements if s.indicator.is_segregation]
    if not found:
        return []
    sections = [Section(tr("segregation.heading", lang))]
    sections[0].blocks.append(Paragraph(tr("segregation.intro", lang)))
    for item in found:
        part = Section(item.indicator.title, level=2)
        indicator_id = item.indicator.indicator_id
        chart = segregation_export.index_chart(wh, indicator_id, lang)
        part.blocks.append(Figure(chart, item.indicator.title))
        frame = segregation_export.levels_frame(wh, indicator_id)
        part.blocks.extend(_segregation_text(wh, item, frame, lang))
        part.blocks.append(_segregation_table(frame, item, wh, lang))
        sections.append(part)
    return sections


def _index_text(value: object, indicator: Indicator) -> str:
    return formatting.format_number(None if pd.isna(value) else float(value), indicator.decimals)


def _segregation_text(
    wh: Warehouse, item: Statement, frame: pd.DataFrame, lang: str
) -> list[Paragraph]:
    indicator = item.indicator
    level = frame[(frame["ref_date"] == item.ref_date) & (frame["level"] == item.level)]
    if level.empty or formatting.is_missing(item.value):
        return []
    row = level.iloc[0]
    values = {
        "level": item.level_label,
        "n": formatting.format_count(item.n_units),
        "date": formatting.format_date(item.ref_date),
        "value": _index_text(item.value, indicator),
    }
    if pd.notna(row["expected"]):
        text = tr(
            "segregation.observed",
            lang,
            **values,
            expected=_index_text(row["expected"], indicator),
            lower=_index_text(row["lower"], indicator),
            upper=_index_text(row["upper"], indicator),
        )
    else:
        text = tr("segregation.observed_plain", lang, **values)
    out = [Paragraph(text)]
    first = next((c for c in item.comparisons if c.kind == "first"), None)
    if first is not None and first.series_break is None and first.value is not None:
        change = segregation_data.index_change(
            wh, indicator.indicator_id, row["level"], row["area_id"], first.ref_date, item.ref_date
        )
        if change.exceeds is not None:
            shown = formatting.format_signed(change.change, indicator.decimals)
            q95 = formatting.format_number(change.random_q95, indicator.decimals)
            key = "segregation.exceeds" if change.exceeds else "segregation.within"
            first_date = formatting.format_date(first.ref_date)
            out.append(Paragraph(tr(key, lang, first=first_date, change=shown, q95=q95)))
    return out


def _level_label_map(wh: Warehouse, lang: str) -> dict[str, str]:
    return {k: lvl.label for k, lvl in catalogue.levels(wh, lang).items()}


def _segregation_table(frame: pd.DataFrame, item: Statement, wh: Warehouse, lang: str) -> Table:
    indicator = item.indicator
    labels_by_level = _level_label_map(wh, lang)
    rows = []
    for row in frame[frame["ref_date"] == item.ref_date].sort_values("rank").to_dict("records"):
        has_band = pd.notna(row["expected"])
        rows.append(
            (
                labels_by_level.get(row["level"], row["level"]),
                formatting.format_count(None if pd.isna(row["n_units"]) else row["n_units"]),
                labels.value_text(row["value"], row["flag"], indicator, lang),
                _index_text(row["expected"], indicator) if has_band else formatting.MISSING,
                f"{_index_text(row['lower'], indicator)} – {_index_text(row['upper'], indicator)}"
                if has_band
                else formatting.MISSING,
            )
        )
    header = tuple(
        tr(f"segregation.col.{k}", lang) for k in ("level", "units", "value", "expected", "range")
    )
    when = formatting.format_date(item.ref_date)
    caption = tr("segregation.table_caption", lang, title=indicator.title, date=when)
    source = source_line([indicator], item.ref_date, lang)
    return Table(caption, header, tuple(rows), (False, True, True, True, True), source)
