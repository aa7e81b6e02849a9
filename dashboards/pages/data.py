"""Daten (``/daten``): the values as a filterable table with CSV and XLSX download.

URL state: ``/daten?indicators=foreigner_share,population&level=district&dates=2023-12-31,
2024-12-31&areas=11,12`` (``areas`` empty: all areas of the level). The dates offered are
those of the chosen indicators (default: their latest); the areas those valid on any chosen
date. The table shows exactly the rows of the downloads (:func:`export_tables.data_table`
and :func:`export_tables.data_records`: suppressed values without counts); segregation
indices are city-wide values over the units of the level, listed with their number of units.
"""

from __future__ import annotations

from dash import (
    Input,
    Output,
    State,
    callback,
    html,
)

from dashboards import context, formatting, ids
from dashboards.components import common as components
from dashboards.components import tables
from dashboards.data import catalogue, queries
from dashboards.export import data as data_export
from dashboards.export import downloads
from dashboards.export import tables as export_tables
from dashboards.i18n import t
from dashboards.pages import register_page

HIDDEN_COLUMNS = ("indicator_id", "level")  # fixed by the filters or in the title
NUMERIC_COLUMNS = ("value", "numerator", "denominator", "n_units")

register_page(__name__, "/daten", 13, "data")


def layout(
    indicators: str | None = None,
    level: str | None = None,
    dates: str | None = None,
    areas: str | None = None,
    **_other: str,
) -> html.Div:
    """The table for the indicators, level, dates and areas in the URL (or the defaults)."""
    lang = context.lang()
    controls, notices = _controls(indicators, level, dates, areas, lang)
    return html.Div(
        [
            components.page_header(t("data.heading", lang), t("data.intro", lang)),
            components.notices(notices),
            html.Div(controls, className="controls"),
            components.export_menu(ids.DATA_TABLE, lang, formats=export_tables.TABLE_FORMATS),
            html.P(id=ids.DATA_COUNT, className="data-count", **{"aria-live": "polite"}),
            tables.table_section(t("data.table_heading", lang), ids.DATA_TABLE),
            *components.url_sync(ids.DATA_URL, ["indicators", "level", "dates", "areas"]),
        ]
    )


def _controls(
    indicators: str | None, level: str | None, dates: str | None, areas: str | None, lang: str
) -> tuple[list, list[str | None]]:
    """The four filters set from the URL values (unknown ones: defaults and a notice)."""
    wh = context.warehouse()
    offered = list(catalogue.indicators(wh, lang).values())
    levels = list(catalogue.levels(wh, lang).values())
    default = catalogue.default_indicator(offered)
    allowed = [i.indicator_id for i in offered]
    chosen, n1 = components.choose_many(indicators, allowed, [default], "indicators", lang)
    chosen = chosen or [default]
    level, n2 = components.choose_level(level, levels, levels[-1] if levels else None, lang)
    all_dates = catalogue.indicator_dates(wh, *chosen)
    dates, n3 = components.choose_many(dates, all_dates, all_dates[-1:], "dates", lang)
    dates = dates or all_dates[-1:]
    options = _area_options(level, dates)
    areas, n4 = components.choose_many(areas, [o["value"] for o in options], [], "areas", lang)
    date_options = components.date_options(all_dates)
    indicator_options = components.indicator_options(offered)
    controls = [
        _multi(t("data.indicators", lang), ids.DATA_INDICATORS, indicator_options, chosen, lang),
        components.level_control(ids.DATA_LEVEL, levels, level, lang),
        _multi(t("data.dates", lang), ids.DATA_DATES, date_options, dates, lang),
        _multi(t("data.areas", lang), ids.DATA_AREAS, options, areas, lang),
    ]
    return controls, [n1, n2, n3, n4]


def _multi(label: str, component_id: str, options: list[dict], value: list, lang: str):
    return components.control(label, component_id, options, value, lang, multi=True)


def _area_options(level: str | None, dates: list[str]) -> list[dict]:
    """Areas of ``level`` valid on any of ``dates`` (the name of the latest date wins)."""
    wh = context.warehouse()
    if level is None:
        return []
    names: dict[str, str] = {}
    for ref_date in sorted(dates):
        frame = queries.areas(wh, level, ref_date)
        names.update(zip(frame["area_id"], frame["name"], strict=True))
    return [{"label": names[a], "value": a} for a in sorted(names)]


@callback(
    Output(ids.DATA_DATES, "options"),
    Output(ids.DATA_DATES, "value"),
    Input(ids.DATA_INDICATORS, "value"),
    State(ids.DATA_DATES, "value"),
    prevent_initial_call=True,
)
def update_dates(indicator_ids: list[str] | None, current: list[str] | None) -> tuple:
    """The dates of the chosen indicators; keep the chosen ones they have, else the latest."""
    dates = catalogue.indicator_dates(context.warehouse(), *(indicator_ids or []))
    kept = [d for d in current or [] if d in dates]
    return components.date_options(dates), kept or dates[-1:]


@callback(
    Output(ids.DATA_AREAS, "options"),
    Output(ids.DATA_AREAS, "value"),
    Input(ids.DATA_LEVEL, "value"),
    Input(ids.DATA_DATES, "value"),
    State(ids.DATA_AREAS, "value"),
    prevent_initial_call=True,
)
def update_areas(level: str | None, dates: list[str] | None, current: list | None) -> tuple:
    """The areas of the level on the chosen dates; keep the chosen ones still offered."""
    options = _area_options(level, dates or [])
    offered = {o["value"] for o in options}
    return options, [a for a in current or [] if a in offered]


@callback(
    Output(ids.DATA_TABLE, "children"),
    Output(ids.DATA_COUNT, "children"),
    Input(ids.DATA_INDICATORS, "value"),
    Input(ids.DATA_LEVEL, "value"),
    Input(ids.DATA_DATES, "value"),
    Input(ids.DATA_AREAS, "value"),
    Input(ids.sort_state(ids.DATA_TABLE), "data"),
)
def update_table(
    indicator_ids: list[str] | None,
    level: str | None,
    dates: list[str] | None,
    areas: list[str] | None,
    sort: dict | None,
) -> tuple:
    """The filtered rows as a paged, sortable table and their number."""
    wh, lang = context.warehouse(), context.lang()
    if not indicator_ids or not dates or not level:
        return html.P(t("data.choose", lang), className="table-empty"), None
    table = data_export.data_table(wh, indicator_ids, level, dates, areas or [], lang)
    count = t("data.count", lang, n=formatting.format_count(len(table.rows)))
    indicators = catalogue.indicators(wh, lang)
    note = None
    if any(indicators[i].is_segregation for i in indicator_ids):
        note = html.P(t("data.city_wide", lang), className="data-city-wide")
    return html.Div([note, rows_table(table, sort, lang)]), count


def rows_table(table: export_tables.ExportTable, sort: dict | None, lang: str) -> html.Div:
    """The rows of ``table`` as on the download's data sheet, in German notation."""
    headers, records = export_tables.data_records(table, context.warehouse(), lang)
    columns = [
        tables.Column(key, label, key in NUMERIC_COLUMNS)
        for key, label in headers.items()
        if key not in HIDDEN_COLUMNS
    ]
    rows = [{c.key: _cell(c.key, r) for c in columns} for r in records]
    notes = tables.flag_notes(table.rows["flag"].tolist(), lang)
    return tables.data_table(ids.DATA_TABLE, table.title, columns, rows, sort, lang, notes=notes)


def _cell(key: str, record: dict) -> tables.Cell:
    value = record[key]
    if key == "ref_date":
        return formatting.format_date(value), value.isoformat()
    if key == "value":
        return formatting.format_number(value, record["decimals"]), value
    if key in NUMERIC_COLUMNS:
        return formatting.format_count(value), value
    return ("" if value is None else str(value)), value


# exactly the filtered rows as CSV or XLSX (with the sheet "Metadaten")
components.download_callback(
    ids.DATA_TABLE,
    [
        State(i, "value")
        for i in (ids.DATA_INDICATORS, ids.DATA_LEVEL, ids.DATA_DATES, ids.DATA_AREAS)
    ],
    lambda wh, fmt, lang, indicator_ids, level, dates, areas: downloads.data_download(
        wh, indicator_ids, level, dates, areas or [], fmt, lang
    ),
    required=3,
)

components.url_sync_callback(
    ids.DATA_URL, [ids.DATA_INDICATORS, ids.DATA_LEVEL, ids.DATA_DATES, ids.DATA_AREAS]
)
