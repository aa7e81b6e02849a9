"""Downloads of the current view: one call per page selection and file format.

Charts (png, svg, pdf) come from :mod:`dashboards.export` (the segregation page's from
:mod:`dashboards.segregation_export`), tables (csv, xlsx) from
:mod:`dashboards.export_tables`; pages hand the result to ``dcc.send_bytes``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dashboards import classify, export, export_tables
from dashboards import segregation_export as segexport
from dashboards.queries import Warehouse

FORMATS = (*export.IMAGE_FORMATS, *export_tables.TABLE_FORMATS)


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
) -> Download:
    """The map in classes by ``method`` (png, svg, pdf) or its table (csv, xlsx) of one
    indicator, date and level."""
    return _chart_or_table(
        wh,
        fmt,
        lang,
        lambda: export.map_chart(wh, indicator_id, ref_date, level, lang, method=method),
        lambda: export_tables.map_table(wh, [indicator_id], ref_date, level, lang),
    )


def trend_download(
    wh: Warehouse, indicator_id: str, area_ids: Sequence[str], fmt: str, lang: str
) -> Download:
    """The time series (png, svg, pdf) or its table (csv, xlsx): the city plus
    ``area_ids``, or the city's index per level for segregation indices."""
    return _chart_or_table(
        wh,
        fmt,
        lang,
        lambda: export.trend_chart(wh, indicator_id, area_ids, lang),
        lambda: export_tables.trend_table(wh, indicator_id, area_ids, lang),
    )


def segregation_index_download(wh: Warehouse, indicator_id: str, fmt: str, lang: str) -> Download:
    """A segregation index per level with its random-allocation benchmark, as chart or
    table (segregation page)."""
    return _chart_or_table(
        wh,
        fmt,
        lang,
        lambda: segexport.index_chart(wh, indicator_id, lang),
        lambda: segexport.index_table(wh, indicator_id, lang),
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
        lambda: segexport.curve_chart(wh, group_id, level, ref_date, lang),
        lambda: segexport.curve_table(wh, group_id, level, ref_date, lang),
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
    formats raise :class:`export.ExportError`."""
    table = export_tables.data_table(wh, indicator_ids, level, ref_dates, area_ids, lang)
    return Download(export_tables.table_bytes(table, wh, fmt, lang), table.filename(fmt))
