"""Downloads of the current view: one call per page selection and file format.

Charts (png, svg, pdf) come from :mod:`dashboards.export`, tables (csv, xlsx) from
:mod:`dashboards.export_tables`; pages hand the result to ``dcc.send_bytes``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dashboards import export, export_tables
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


def map_download(
    wh: Warehouse, indicator_id: str, ref_date: str, level: str, fmt: str, lang: str
) -> Download:
    """The map (png, svg, pdf) or its table (csv, xlsx) of one indicator, date and level."""
    _check(fmt)
    if fmt in export.IMAGE_FORMATS:
        chart = export.map_chart(wh, indicator_id, ref_date, level, lang)
        return Download(export.chart_bytes(chart, fmt), chart.filename(fmt))
    table = export_tables.map_table(wh, [indicator_id], ref_date, level, lang)
    return Download(export_tables.table_bytes(table, wh, fmt, lang), table.filename(fmt))


def trend_download(
    wh: Warehouse, indicator_id: str, area_ids: Sequence[str], fmt: str, lang: str
) -> Download:
    """The time series (png, svg, pdf) or its table (csv, xlsx): the city plus
    ``area_ids``, or the city's index per level for segregation indices."""
    _check(fmt)
    if fmt in export.IMAGE_FORMATS:
        chart = export.trend_chart(wh, indicator_id, area_ids, lang)
        return Download(export.chart_bytes(chart, fmt), chart.filename(fmt))
    table = export_tables.trend_table(wh, indicator_id, area_ids, lang)
    return Download(export_tables.table_bytes(table, wh, fmt, lang), table.filename(fmt))


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
