"""Downloads of the current view: one call per page selection and file format.

Charts (png, svg, pdf) come from :mod:`dashboards.export.render` (the segregation, profile and
comparison pages' from :mod:`dashboards.export.segregation`,
:mod:`dashboards.export.profile` and :mod:`dashboards.export.compare`), tables (csv, xlsx)
from :mod:`dashboards.export.tables`; pages hand the result to ``dcc.send_bytes``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dashboards.data.queries import Warehouse
from dashboards.export import compare as compare_export
from dashboards.export import data as data_export
from dashboards.export import map as map_export
from dashboards.export import profile as profile_export
from dashboards.export import render as export
from dashboards.export import segregation as segregation_export
from dashboards.export import tables as export_tables
from dashboards.export import trends as trends_export
from dashboards.export.formats import FORMATS
from dashboards.figures import classify


@dataclass(frozen=True)
class Download:
    """A file to hand to the browser."""

    content: bytes
    filename: str


def _check(fmt: str) -> None:
    if fmt not in FORMATS:
        raise export.ExportError(f"unknown format '{fmt}' (known: {', '.join(FORMATS)})")


def _chart_or_table(
    wh: Warehouse,
    fmt: str,
    lang: str,
    chart: Callable[[], export.Chart],
    table: Callable[[], export_tables.ExportTable],
) -> Download:
    """The chart as png, svg or pdf, or its table as csv or xlsx."""
    _check(fmt)
    if fmt in export.IMAGE_FORMATS:
        made = chart()
        return Download(export.chart_bytes(made, fmt), made.filename(fmt))
    rows = table()
    return Download(export_tables.table_bytes(rows, wh, fmt, lang), rows.filename(fmt))


def map_download(
    wh: Warehouse,
    indicator_id: str,
    ref_date: str,
    level: str,
    fmt: str,
    lang: str,
    method: str = classify.DEFAULT_METHOD,
    area_labels: bool = False,
) -> Download:
    """The map in classes by ``method`` (png, svg, pdf; with the area names that fit where
    ``area_labels``) or its table (csv, xlsx) of one indicator, date and level."""
    return _chart_or_table(
        wh,
        fmt,
        lang,
        lambda: map_export.map_chart(
            wh, indicator_id, ref_date, level, lang, method=method, area_labels=area_labels
        ),
        lambda: map_export.map_table(wh, [indicator_id], ref_date, level, lang),
    )


def trend_download(
    wh: Warehouse,
    indicator_id: str,
    area_ids: Sequence[str],
    fmt: str,
    lang: str,
    boundaries: str | None = None,
) -> Download:
    """The time series (png, svg, pdf) or its table (csv, xlsx): the city plus
    ``area_ids``, or the city's index per level for segregation indices (``boundaries``:
    as published, or 'today', dashboards.data.boundaries)."""
    return _chart_or_table(
        wh,
        fmt,
        lang,
        lambda: trends_export.trend_chart(wh, indicator_id, area_ids, lang, boundaries=boundaries),
        lambda: trends_export.trend_table(wh, indicator_id, area_ids, lang, boundaries),
    )


def segregation_index_download(wh: Warehouse, indicator_id: str, fmt: str, lang: str) -> Download:
    """A segregation index per level with its random-allocation benchmark, as chart or
    table (segregation page)."""
    return _chart_or_table(
        wh,
        fmt,
        lang,
        lambda: segregation_export.index_chart(wh, indicator_id, lang),
        lambda: segregation_export.index_table(wh, indicator_id, lang),
    )


def segregation_curve_download(
    wh: Warehouse, group_id: str, level: str, ref_date: str, fmt: str, lang: str
) -> Download:
    """The segregation curve of a group (its location quotient) on a level and date, as
    chart or table (segregation page)."""
    return _chart_or_table(
        wh,
        fmt,
        lang,
        lambda: segregation_export.curve_chart(wh, group_id, level, ref_date, lang),
        lambda: segregation_export.curve_table(wh, group_id, level, ref_date, lang),
    )


def profile_dots_download(
    wh: Warehouse, area_id: str, ref_date: str, fmt: str, lang: str
) -> Download:
    """The shares of an area against its parent and the city (dot plot) or the profile
    table of every indicator (Stadtteilprofil)."""
    return _chart_or_table(
        wh,
        fmt,
        lang,
        lambda: profile_export.dots_chart(wh, area_id, ref_date, lang),
        lambda: profile_export.dots_table(wh, area_id, ref_date, lang),
    )


def profile_multiples_download(
    wh: Warehouse, area_id: str, ref_date: str, fmt: str, lang: str, boundaries: str | None = None
) -> Download:
    """The development of every indicator for an area, its parent and the city (small
    multiples) or its table (Stadtteilprofil); ``boundaries``: as published or 'today'."""
    return _chart_or_table(
        wh,
        fmt,
        lang,
        lambda: profile_export.multiples_chart(wh, area_id, ref_date, lang, boundaries),
        lambda: profile_export.multiples_table(wh, area_id, ref_date, lang, boundaries),
    )


def compare_map_download(
    wh: Warehouse,
    indicator_id: str,
    level: str,
    dates: tuple[str, str],
    fmt: str,
    lang: str,
    boundaries: str | None = None,
) -> Download:
    """The change map between two dates (in time order) or the change table (Vergleich);
    ``boundaries``: as published, or 'today' (dashboards.data.compare.on_today)."""
    chart = compare_export.map_chart
    kind = export.MAP_KIND
    return _change_download(wh, indicator_id, level, dates, fmt, lang, chart, kind, boundaries)


def compare_slope_download(
    wh: Warehouse,
    indicator_id: str,
    level: str,
    dates: tuple[str, str],
    fmt: str,
    lang: str,
    boundaries: str | None = None,
) -> Download:
    """The slope chart between two dates (in time order) or the change table (Vergleich)."""
    chart, kind = compare_export.slope_chart, compare_export.SLOPE_KIND
    return _change_download(wh, indicator_id, level, dates, fmt, lang, chart, kind, boundaries)


def _change_download(
    wh, indicator_id, level, dates, fmt, lang, chart, kind, boundaries=None
) -> Download:
    """``chart`` of the change between ``dates``, or the change table named after ``kind``."""
    return _chart_or_table(
        wh,
        fmt,
        lang,
        lambda: chart(wh, indicator_id, level, dates, lang, boundaries),
        lambda: compare_export.change_table(wh, indicator_id, level, dates, lang, kind, boundaries),
    )


def compare_bars_download(
    wh: Warehouse,
    indicator_id: str,
    level: str,
    area_ids: Sequence[str],
    dates: tuple[str, str],
    fmt: str,
    lang: str,
    boundaries: str | None = None,
) -> Download:
    """The city and the chosen areas side by side from date A to date B, as chart or table
    (Vergleich)."""
    areas, chosen = list(area_ids), (dates, lang, boundaries)
    return _chart_or_table(
        wh,
        fmt,
        lang,
        lambda: compare_export.bars_chart(wh, indicator_id, level, areas, *chosen),
        lambda: compare_export.bars_table(wh, indicator_id, level, areas, *chosen),
    )


def data_download(
    wh: Warehouse,
    indicator_ids: Sequence[str],
    level: str,
    ref_dates: Sequence[str],
    area_ids: Sequence[str],
    fmt: str,
    lang: str,
) -> Download:
    """The filtered rows of the Daten page as csv or xlsx (with the metadata sheet); other
    formats raise :class:`render.ExportError`."""
    table = data_export.data_table(wh, indicator_ids, level, ref_dates, area_ids, lang)
    return Download(export_tables.table_bytes(table, wh, fmt, lang), table.filename(fmt))
