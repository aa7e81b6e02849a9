"""Karte (``/karte``): choropleth of one indicator by area, with a table alternative.

URL state: ``/karte?indicator=foreigner_share&date=2024-12-31&level=district``.
Segregation indices describe the whole city and have no area values: not offered here.
"""

from __future__ import annotations

import dash
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, html

from dashboards import catalogue, components, context, figures, formatting, ids, queries, tables
from dashboards.i18n import t

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
    dates = catalogue.ref_dates(wh)
    indicator, n1 = components.choose_indicator(indicator, indicators, lang)
    date, n2 = components.choose(date, dates, dates[-1] if dates else None, "date", lang)
    level, n3 = components.choose_level(level, levels, levels[-1] if levels else None, lang)
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
            html.Div(components.graph(ids.MAP_GRAPH, geo=True), className="panel"),
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
    Output(ids.MAP_GRAPH, "figure"),
    Output(ids.MAP_NOTE, "children"),
    Output(ids.MAP_DEFINITION, "children"),
    Input(ids.MAP_INDICATOR, "value"),
    Input(ids.MAP_DATE, "value"),
    Input(ids.MAP_LEVEL, "value"),
)
def update_map(indicator_id: str, ref_date: str, level: str) -> tuple:
    wh, lang, indicator, level_label, values = _selection(indicator_id, ref_date, level)
    shapes = queries.geometries(wh, level, ref_date)
    figure = figures.choropleth(values, shapes, indicator, level_label, ref_date, lang)
    note = components.null_note(values, shapes, lang)
    return figure, note, components.definition(indicator, lang)


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
