"""District maps and the district table of the yearly report."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dashboards import formatting, labels
from dashboards.data import catalogue, overview
from dashboards.data.catalogue import Indicator
from dashboards.data.queries import Warehouse
from dashboards.export import map as map_export
from dashboards.export.yearly_report.model import (
    Block,
    Figure,
    Paragraph,
    Section,
    Table,
    source_line,
    tr,
)
from dashboards.export.yearly_report.summary import monitor_start
from dashboards.i18n import t as ui_text


def district_level(wh: Warehouse, ref_date: str, lang: str) -> catalogue.Level | None:
    """The finest level with boundaries whose division is the same since the monitor's
    start (:func:`catalogue.comparable_level`): Musterstadt's districts, Berlin's
    Bezirke (its finer LOR levels were redrawn in 2021)."""
    offered = catalogue.map_levels(wh, lang)
    return catalogue.comparable_level(wh, offered, monitor_start(wh), ref_date)


def district_section(wh: Warehouse, ref_date: str, lang: str) -> list[Section]:
    """A map per key figure with area values and one table of them all, at
    :func:`district_level` (none without a level below the city)."""
    level = district_level(wh, ref_date, lang)
    chosen = overview.table_indicators(wh, lang)
    if level is None or not chosen:
        return []
    values, dates = overview.table_values(wh, chosen, ref_date, level.level)
    chosen = [i for i in chosen if i.indicator_id in dates]
    n_areas = values["area_id"].nunique()
    section = Section(tr("districts.heading", lang))
    first = formatting.format_date(monitor_start(wh))
    section.blocks.append(
        Paragraph(tr("districts.intro", lang, level=level.label, n=n_areas, first=first))
    )
    for indicator in chosen:
        section.blocks.append(_map_block(wh, indicator, dates[indicator.indicator_id], level, lang))
    table = Section(tr("districts.table_heading", lang), level=2)
    table.blocks.append(_district_table(values, chosen, dates, level, ref_date, lang))
    return [section, table]


def _map_block(
    wh: Warehouse, indicator: Indicator, when: str, level: catalogue.Level, lang: str
) -> Block:
    names = {"title": indicator.title, "level": level.label, "date": formatting.format_date(when)}
    if not catalogue.has_geometry(wh, level.level, when):
        return Paragraph(tr("districts.no_map", lang, **names), "note")
    chart = map_export.map_chart(wh, indicator.indicator_id, when, level.level, lang)
    caption = ui_text("map.table_caption", lang, **names)
    return Figure(chart, caption)


def _district_table(
    values: pd.DataFrame,
    chosen: Sequence[Indicator],
    dates: dict[str, str],
    level: catalogue.Level,
    ref_date: str,
    lang: str,
) -> Table:
    names = values.drop_duplicates("area_id").set_index("area_id")["name"]
    cells = {(r["area_id"], r["indicator_id"]): r for r in values.to_dict("records")}
    rows = []
    for area_id, name in names.sort_index().items():
        row = [str(name)]
        for indicator in chosen:
            cell = cells.get((area_id, indicator.indicator_id))
            value = None if cell is None else cell["value"]
            flag = None if cell is None else cell["flag"]
            row.append(labels.value_text(value, flag, indicator, lang))
        rows.append(tuple(row))
    header = (tr("districts.col.area", lang),) + tuple(
        tr(
            "districts.col.as_of",
            lang,
            title=i.title,
            date=formatting.format_date(dates[i.indicator_id]),
        )
        for i in chosen
    )
    caption = tr(
        "districts.table_caption", lang, level=level.label, date=formatting.format_date(ref_date)
    )
    numeric = (False,) + (True,) * len(chosen)
    return Table(caption, header, tuple(rows), numeric, source_line(chosen, ref_date, lang))
