"""Karte (``/karte``): choropleth of one indicator by area, with a table alternative.

URL state: ``/karte?indicator=foreigner_share&date=2024-12-31&level=district``.
The dates offered are those of the chosen indicator (default: its latest). Every level
below the whole city is offered; a level without boundaries on the chosen date (Berlin:
planning areas from 2021) gets a notice instead of the map, and the table as always.
Segregation indices describe the whole city and have no area values: not offered here.
"""

from __future__ import annotations

import dash
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, html

from dashboards import catalogue, components, context, figures, formatting, ids, queries, tables
from dashboards.i18n import t

HIDDEN = {"display": "none"}

dash.register_page(
    __name__,
    path="/karte",
    order=1,
    name=t("nav.map"),
    nav_key="nav.map",
    title=lambda **_: t("page.map", context.lang()),
)


def layout(
    indicator: str | None = None, date: str | None = None, level: str | None = None, **_other: str
) -> html.Div:
    """The map for the indicator, reference date and level in the URL (or the defaults)."""
    wh, lang = context.warehouse(), context.lang()
    indicators = [i for i in catalogue.indicators(wh, lang).values() if not i.is_segregation]
    levels = catalogue.map_levels(wh, lang)
    indicator, n1 = components.choose_indicator(indicator, indicators, lang)
    dates = catalogue.indicator_dates(wh, indicator) if indicator else []
    date, n2 = components.choose(date, dates, dates[-1] if dates else None, "date", lang)
    default_level = catalogue.default_map_level(wh, levels, date)
    level, n3 = components.choose_level(level, levels, default_level, lang)
    controls = [
        components.indicator_control(ids.MAP_INDICATOR, indicators, indicator, lang),
        components.date_control(ids.MAP_DATE, dates, date, lang),
        components.level_control(ids.MAP_LEVEL, levels, level, lang),
    ]
    return html.Div(
        [
            components.page_header(t("map.heading", lang), t("map.intro", lang)),
            components.notices([n1, n2, n3]),
            html.Div(controls, className="controls"),
            html.Div(
                components.graph(ids.MAP_GRAPH, geo=True), className="panel", id=ids.MAP_GRAPH_PANEL
            ),
            html.Div(id=ids.MAP_NOTE),
            html.Div(id=ids.MAP_DEFINITION),
            tables.table_section(t("map.table_heading", lang), ids.MAP_TABLE),
            *components.url_sync(ids.MAP_URL, ["indicator", "date", "level"]),
        ]
    )


def _selection(indicator_id: str, ref_date: str, level: str) -> tuple:
    wh, lang = context.warehouse(), context.lang()
    indicator = catalogue.indicators(wh, lang)[indicator_id]
    level_label = catalogue.levels(wh, lang)[level].label
    values = queries.area_values(wh, (indicator_id,), ref_date, level)
    return wh, lang, indicator, level_label, values


@callback(
    Output(ids.MAP_DATE, "options"),
    Output(ids.MAP_DATE, "value"),
    Input(ids.MAP_INDICATOR, "value"),
    State(ids.MAP_DATE, "value"),
    prevent_initial_call=True,
)
def update_dates(indicator_id: str, current: str | None) -> tuple:
    """The dates of the chosen indicator; keep the date if it has one, else its latest."""
    dates = catalogue.indicator_dates(context.warehouse(), indicator_id)
    value = current if current in dates else (dates[-1] if dates else None)
    return components.date_options(dates), value


@callback(
    Output(ids.MAP_GRAPH, "figure"),
    Output(ids.MAP_GRAPH_PANEL, "style"),
    Output(ids.MAP_NOTE, "children"),
    Output(ids.MAP_DEFINITION, "children"),
    Input(ids.MAP_INDICATOR, "value"),
    Input(ids.MAP_DATE, "value"),
    Input(ids.MAP_LEVEL, "value"),
)
def update_map(indicator_id: str, ref_date: str, level: str) -> tuple:
    wh, lang, indicator, level_label, values = _selection(indicator_id, ref_date, level)
    definition = components.definition(indicator, lang)
    shapes = queries.geometries(wh, level, ref_date)
    if shapes.empty:
        dates = catalogue.indicator_dates(wh, indicator_id)
        with_map = [d for d in dates if catalogue.has_geometry(wh, level, d)]
        notice = components.no_geometry_notice(level_label, ref_date, with_map, lang)
        return figures.message(t("map.no_geometry", lang)), HIDDEN, notice, definition
    figure = figures.choropleth(values, shapes, indicator, level_label, ref_date, lang)
    return figure, None, components.map_legend(values, shapes, lang), definition


@callback(
    Output(ids.MAP_TABLE, "children"),
    Input(ids.MAP_INDICATOR, "value"),
    Input(ids.MAP_DATE, "value"),
    Input(ids.MAP_LEVEL, "value"),
    Input(ids.sort_state(ids.MAP_TABLE), "data"),
)
def update_table(indicator_id: str, ref_date: str, level: str, sort: dict | None) -> html.Div:
    _, lang, indicator, level_label, values = _selection(indicator_id, ref_date, level)
    caption = t(
        "map.table_caption",
        lang,
        title=indicator.title,
        level=level_label,
        date=formatting.format_date(ref_date),
    )
    return tables.area_table(ids.MAP_TABLE, values, indicator, caption, sort, lang)


clientside_callback(
    ClientsideFunction(namespace="imon", function_name="syncQuery"),
    Output(ids.MAP_URL, "data"),
    Input(ids.MAP_INDICATOR, "value"),
    Input(ids.MAP_DATE, "value"),
    Input(ids.MAP_LEVEL, "value"),
    State(ids.url_keys(ids.MAP_URL), "data"),
)
