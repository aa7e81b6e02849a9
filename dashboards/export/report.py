"""``imon export``: print-ready charts and tables of indicators for a report, into a folder.

For every indicator:

* area indicators: a **map** at the chosen level and date (default: the indicator's latest
  date and the finest level with boundaries on it) in the chosen classes (``--classes``
  quantile, equal or jenks as on the map page; default quantile) and its table, and a
  **time series** of the chosen area (default: the city) with the city as reference line,
  and its table;
* segregation indices (one value for the city per unit level): the segregation page's
  chart of the index per level over time, with the number of units and the
  random-allocation benchmark (expected value and 95 % range) where the build simulated
  it, and its table; ``--level``/``--date`` do not apply.

File names are stable: ``<indicator>_karte_<level>_<date>.<fmt>``,
``<indicator>_zeitreihe_<areas>.<fmt>`` (``…_zeitreihe_ebenen_zufallsverteilung`` for
segregation indices, ``…_zeitreihe_ebenen`` without a benchmark).
CSV exports add one ``metadaten.csv`` for the folder; XLSX files carry their own sheet.
Everything is checked before the first file is written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path

from dashboards.data import catalogue, queries
from dashboards.data.catalogue import Indicator
from dashboards.data.queries import Warehouse
from dashboards.data.values import validate_request
from dashboards.export import map as map_export
from dashboards.export import render as export
from dashboards.export import segregation as segregation_export
from dashboards.export import tables as export_tables
from dashboards.export import trends as trends_export
from dashboards.export.formats import FORMATS
from dashboards.figures import classify
from etl.errors import ImonError

METADATA_FILE = "metadaten.csv"


@dataclass(frozen=True)
class ExportRequest:
    """What ``imon export`` was asked for (ids as given on the command line)."""

    indicator_ids: Sequence[str]
    formats: Sequence[str]
    out_dir: Path
    level: str | None = None
    ref_date: date | None = None
    area: str | None = None
    lang: str = "de"
    definition: bool = False
    classes: str = classify.DEFAULT_METHOD


@dataclass
class _Plan:
    """The charts and tables to write, decided before anything is written."""

    charts: list[Callable[[], export.Chart]] = field(default_factory=list)
    tables: list[export_tables.ExportTable] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def parse_formats(values: Sequence[str]) -> list[str]:
    """``["png,pdf", "xlsx"]`` -> ``["png", "pdf", "xlsx"]``; unknown formats are an error."""
    formats = [part.strip().lower() for value in values for part in value.split(",")]
    formats = list(dict.fromkeys(f for f in formats if f))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ImonError(f"unknown format '{', '.join(unknown)}' (known: {', '.join(FORMATS)})")
    return formats


def run_export(
    curated_dir: Path, request: ExportRequest, progress: Callable[[str], None] = print
) -> list[Path]:
    """Check the request, then write the files; returns their paths in writing order."""
    export.check_method(request.classes)
    wh = queries.open_warehouse(curated_dir)
    ref_date = request.ref_date.isoformat() if request.ref_date else None  # the read path's form
    for indicator_id in request.indicator_ids:
        validate_request(wh, indicator_id, request.level, ref_date, request.area)
    plan = _plan(wh, request, ref_date)
    for note in plan.notes:
        progress(note)
    try:
        return _write(wh, plan, request, progress)
    finally:
        export.close_renderer()


def _plan(wh: Warehouse, request: ExportRequest, ref_date: str | None) -> _Plan:
    indicators = catalogue.indicators(wh, request.lang)
    map_levels = catalogue.map_levels(wh, request.lang)
    if request.level is not None and request.level not in [lvl.level for lvl in map_levels]:
        shown = ", ".join(lvl.level for lvl in map_levels)
        raise ImonError(
            f"level '{request.level}' is the whole city; maps need a level "
            f"below it (known: {shown})"
        )
    area = request.area or catalogue.city(wh).area_id
    plan = _Plan()
    for indicator_id in request.indicator_ids:
        indicator = indicators[indicator_id]
        if not indicator.is_segregation:
            _plan_map(wh, indicator, map_levels, request, ref_date, plan)
        _plan_trend(wh, indicator, [area], request, plan)
    return plan


def _plan_map(
    wh: Warehouse,
    indicator: Indicator,
    map_levels: list,
    request: ExportRequest,
    ref_date: str | None,
    plan: _Plan,
) -> None:
    """The map of an area indicator on ``ref_date`` (ISO; default: its latest date) and its
    table, or a note why there is none."""
    dates = catalogue.indicator_dates(wh, indicator.indicator_id)
    ref_date = ref_date or dates[-1]
    if ref_date not in dates:
        raise ImonError(
            f"indicator '{indicator.indicator_id}' has no values on {ref_date} "
            f"(its dates: {', '.join(dates)})"
        )
    default = catalogue.default_map_level(wh, map_levels, ref_date)
    level = request.level or (default.level if default else None)
    if level is None:
        plan.notes.append("Hinweis: the warehouse has no level below the whole city: no maps.")
        return
    values = queries.area_values(wh, (indicator.indicator_id,), ref_date, level)
    if values.empty:
        message = (
            f"indicator '{indicator.indicator_id}' has no values for level '{level}' on {ref_date}"
        )
        if request.level is not None:
            raise ImonError(message)
        plan.notes.append(f"Hinweis: {message}; no map and map table.")
        return
    if catalogue.has_geometry(wh, level, ref_date):
        plan.charts.append(
            partial(
                map_export.map_chart,
                wh,
                indicator.indicator_id,
                ref_date,
                level,
                request.lang,
                request.definition,
                request.classes,
            )
        )
    else:
        plan.notes.append(
            f"Hinweis: level '{level}' has no boundaries on {ref_date}: "
            f"no map of '{indicator.indicator_id}' (its table is written)."
        )
    plan.tables.append(
        map_export.map_table(wh, [indicator.indicator_id], ref_date, level, request.lang)
    )


def _plan_trend(
    wh: Warehouse, indicator: Indicator, areas: list[str], request: ExportRequest, plan: _Plan
) -> None:
    """The time series of the area (with the city) or of a segregation index per level."""
    if indicator.is_segregation:
        index_id, lang = indicator.indicator_id, request.lang
        plan.charts.append(
            partial(segregation_export.index_chart, wh, index_id, lang, request.definition)
        )
        plan.tables.append(segregation_export.index_table(wh, index_id, lang))
        return
    plan.charts.append(
        partial(
            trends_export.trend_chart,
            wh,
            indicator.indicator_id,
            areas,
            request.lang,
            request.definition,
        )
    )
    plan.tables.append(trends_export.trend_table(wh, indicator.indicator_id, areas, request.lang))


def _write(
    wh: Warehouse, plan: _Plan, request: ExportRequest, progress: Callable[[str], None]
) -> list[Path]:
    request.out_dir.mkdir(parents=True, exist_ok=True)
    written = []

    def save(name: str, content: bytes) -> None:
        path = request.out_dir / name
        path.write_bytes(content)
        written.append(path)
        progress(f"{path}  ({len(content) / 1024:,.0f} KB)".replace(",", "."))

    image_formats = [f for f in request.formats if f in export.IMAGE_FORMATS]
    if image_formats:
        for make in plan.charts:
            chart = make()
            for fmt in image_formats:
                save(chart.filename(fmt), export.chart_bytes(chart, fmt))
    for fmt in (f for f in request.formats if f in export_tables.TABLE_FORMATS):
        for table in plan.tables:
            save(table.filename(fmt), export_tables.table_bytes(table, wh, fmt, request.lang))
    if "csv" in request.formats and plan.tables:
        save(METADATA_FILE, export_tables.metadata_csv_bytes(plan.tables, wh, request.lang))
    return written
