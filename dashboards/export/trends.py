"""Print-ready files of the Zeitreihen page (``/zeitreihen``) and of ``imon export``'s time
series: the chart of one indicator for the chosen areas with the city as reference line
(:func:`trend_chart`, drawn by :func:`dashboards.figures.trends.trend`) and its table
(:func:`trend_table`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dashboards import labels
from dashboards.data import boundaries as boundaries_data
from dashboards.data import breaks, catalogue
from dashboards.data.breaks import Break
from dashboards.data.catalogue import Indicator
from dashboards.data.queries import Warehouse
from dashboards.export.render import (
    TREND_KIND,
    TREND_LEFT_PX,
    TREND_PLOT_PX,
    Chart,
    ExportError,
    break_notes,
    file_stem,
    flag_notes,
    print_ready,
)
from dashboards.export.tables import ROW_COLUMNS, ExportTable
from dashboards.figures import trends as trends_figures
from dashboards.i18n import t


def trend_chart(
    wh: Warehouse,
    indicator_id: str,
    area_ids: Sequence[str],
    lang: str,
    definition: bool = False,
    boundaries: str | None = None,
) -> Chart:
    """The print-ready time series: the city plus ``area_ids`` (area indicators) or the
    city's index per unit level (segregation indices; ``area_ids`` is ignored);
    ``boundaries``: as published or 'today' (:func:`boundaries.chosen_series`)."""
    indicator = catalogue.indicators(wh, lang)[indicator_id]
    city = catalogue.city(wh)
    areas = series_areas(indicator, city.area_id, area_ids)
    frame, level_breaks, today = boundaries_data.chosen_series(
        wh, indicator, tuple(areas), boundaries
    )
    if frame.empty:
        raise ExportError(t("chart.no_data", lang) + f" ({indicator_id})")
    level_labels = {k: lvl.label for k, lvl in catalogue.levels(wh, lang).items()}
    frame = labels.series_labels(frame, indicator, level_labels, lang)
    city_id = None if indicator.is_segregation else city.area_id
    found = breaks.chart_breaks(frame, level_breaks)
    fig = trends_figures.trend(frame, indicator, lang, city_id=city_id, breaks=found)
    # the unit is in the subtitle: no axis title, so the plot keeps its width
    fig.update_layout(margin={"l": TREND_LEFT_PX}, yaxis_title_text=None)
    notes = trend_notes(frame, indicator, lang, found)
    if today:
        notes += boundaries_data.today_notes(wh, frame, lang)
    if definition:
        notes.append(t("export.definition", lang, text=indicator.definition))
    stem = trend_stem(indicator, areas)
    return Chart(print_ready(fig, notes, TREND_PLOT_PX, axis_px=34), stem)


def series_areas(indicator: Indicator, city_id: str, area_ids: Sequence[str]) -> list[str]:
    """The areas of a time series: the city plus ``area_ids``; for segregation indices the
    city alone (its index per unit level)."""
    if indicator.is_segregation:
        return [city_id]
    return [city_id, *(a for a in area_ids if a != city_id)]


def trend_stem(indicator: Indicator, areas: Sequence[str]) -> str:
    """``foreigner_share_zeitreihe_00-22`` (up to 5 area codes); segregation indices:
    ``…_zeitreihe_ebenen``."""
    suffix = "ebenen" if indicator.is_segregation else "-".join(areas[:5])
    return file_stem(indicator.indicator_id, TREND_KIND, suffix)


def trend_notes(
    frame: pd.DataFrame, indicator: Indicator, lang: str, found: Sequence[Break] = ()
) -> list[str]:
    """Footnotes of a time series: units of segregation indices, flags, series breaks
    (``found``: :func:`breaks.chart_breaks`; without, changes of definition only)."""
    notes = [t("trends.segregation_note", lang)] if indicator.is_segregation else []
    breaks_text = labels.break_notes(found, lang) if found else break_notes(frame, lang)
    return [*notes, *flag_notes(frame["flag"], lang), *breaks_text]


def trend_table(
    wh: Warehouse,
    indicator_id: str,
    area_ids: Sequence[str],
    lang: str,
    boundaries: str | None = None,
) -> ExportTable:
    """A time series' rows: the city plus ``area_ids``, or the city per unit level
    (segregation indices), every reference date; ``boundaries`` as :func:`trend_chart`."""
    indicator = catalogue.indicators(wh, lang)[indicator_id]
    areas = series_areas(indicator, catalogue.city(wh).area_id, area_ids)
    frame, level_breaks, today = boundaries_data.chosen_series(
        wh, indicator, tuple(areas), boundaries
    )
    rows = frame.assign(indicator_id=indicator_id)
    title = t("trends.table_caption", lang, title=indicator.title)
    notes = tuple(labels.break_notes(breaks.chart_breaks(rows, level_breaks), lang))
    if today:
        notes += tuple(boundaries_data.today_notes(wh, rows, lang))
    return ExportTable(rows[ROW_COLUMNS], title, trend_stem(indicator, areas), notes=notes)
