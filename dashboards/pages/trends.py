"""Zeitreihen (``/zeitreihen``): one indicator over all reference dates, with a table.

Area indicators: the whole city plus chosen areas of one level. Segregation indices: one
line per unit level (the index of the city over the areas of that level). The time axis
holds the dates of the chosen indicator (half-yearly, annual, ...); the default indicator
is the first percent indicator with more than one date, the default level the finest
whose boundaries are the same over the indicator's dates (Berlin: the districts; the LOR
were redrawn in 2021), the default areas the first with a name of their own. Series
breaks (new boundaries, another definition) are gaps with a marked line and a note.
Where the snapshot has values on today's boundaries (#18, Berlin), the reader chooses
"wie veröffentlicht" or "auf heutigem Gebietsstand": then every date is shown on the
newest vintage's units (earlier dates recomputed from published values, estimated ones
named in a note) and no boundary break remains.
URL state: ``/zeitreihen?indicator=foreigner_share&level=district&areas=11,12&boundaries=today``.
"""

from __future__ import annotations

from dash import (
    Input,
    Output,
    State,
    callback,
    html,
)

from dashboards import context, formatting, ids, labels
from dashboards.components import common as components
from dashboards.components import tables
from dashboards.data import boundaries as today_boundaries
from dashboards.data import breaks, catalogue, queries
from dashboards.export import downloads
from dashboards.figures import trends as trends_figures
from dashboards.i18n import t
from dashboards.pages import register_page

DEFAULT_AREAS = 3
PUBLISHED, TODAY = today_boundaries.PUBLISHED, today_boundaries.TODAY

register_page(__name__, "/zeitreihen", 2, "trends")


def layout(
    indicator: str | None = None,
    level: str | None = None,
    areas: str | None = None,
    boundaries: str | None = None,
    **_other: str,
) -> html.Div:
    """The chart for the indicator, level and areas in the URL (or the defaults)."""
    wh, lang = context.warehouse(), context.lang()
    indicators = list(catalogue.indicators(wh, lang).values())
    levels = [lvl for lvl in catalogue.levels(wh, lang).values() if lvl.rank > 0]
    offered = [i.indicator_id for i in indicators]
    default = catalogue.default_indicator(catalogue.series_indicators(wh, indicators) or indicators)
    indicator, n1 = components.choose(indicator, offered, default, "indicator", lang)
    dates = catalogue.indicator_dates(wh, indicator) if indicator else []
    period = (dates[0], dates[-1]) if dates else (None, None)
    finest = catalogue.comparable_level(wh, levels, *period, mapped=False)
    level, n2 = components.choose_level(level, levels, finest, lang)
    options = _area_options(level)
    allowed = [o["value"] for o in options]
    areas, n3 = components.choose_many(areas, allowed, _default_areas(level), "areas", lang)
    offered_boundaries = _boundary_choices(wh)
    boundaries, n4 = components.choose(
        boundaries, offered_boundaries, PUBLISHED, "boundaries", lang
    )
    area_label = t("control.areas", lang)
    controls = [
        components.indicator_control(ids.TRENDS_INDICATOR, indicators, indicator, lang),
        components.level_control(ids.TRENDS_LEVEL, levels, level, lang),
        components.control(area_label, ids.TRENDS_AREAS, options, areas, lang, multi=True),
        _boundaries_control(offered_boundaries, boundaries, lang),
    ]
    return html.Div(
        [
            components.page_header(t("trends.heading", lang), t("trends.intro", lang)),
            components.notices([n1, n2, n3, n4]),
            html.Div(controls, className="controls"),
            components.export_menu(ids.TRENDS_GRAPH, lang),
            html.Div(id=ids.TRENDS_NOTE),
            html.Div(components.graph(ids.TRENDS_GRAPH), className="panel"),
            html.Div(id=ids.TRENDS_DEFINITION),
            tables.table_section(t("trends.table_heading", lang), ids.TRENDS_TABLE),
            *components.url_sync(ids.TRENDS_URL, ["indicator", "level", "areas", "boundaries"]),
        ]
    )


def _boundary_choices(wh) -> list[str]:
    """ "wie veröffentlicht", and "auf heutigem Gebietsstand" where the snapshot has it."""
    return [PUBLISHED, TODAY] if today_boundaries.available(wh) else [PUBLISHED]


def _boundaries_control(offered: list[str], value: str | None, lang: str) -> html.Div:
    """The choice of boundaries; hidden (one option) in an instance with one vintage."""
    options = [{"label": t(f"trends.boundaries_{key}", lang), "value": key} for key in offered]
    label = t("trends.boundaries", lang)
    control = components.control(label, ids.TRENDS_BOUNDARIES, options, value, lang)
    return html.Div(control, hidden=len(offered) < 2)


def _area_options(level: str | None) -> list[dict]:
    """Areas of ``level`` valid on the latest reference date."""
    wh = context.warehouse()
    dates = catalogue.ref_dates(wh)
    if level is None or not dates:
        return []
    return components.area_options(queries.areas(wh, level, dates[-1]))


def _default_areas(level: str | None) -> list[str]:
    """The first areas of ``level`` (latest date) with a name of their own."""
    wh = context.warehouse()
    dates = catalogue.ref_dates(wh)
    if level is None or not dates:
        return []
    return components.default_areas(queries.areas(wh, level, dates[-1]), DEFAULT_AREAS)


def _series(indicator_id: str, areas: list[str] | None, boundaries: str | None = None) -> tuple:
    """The indicator, its labelled series (city + areas, or city per level), the city, the
    language, the level breaks of the series and whether it is on today's boundaries."""
    wh, lang = context.warehouse(), context.lang()
    indicator = catalogue.indicators(wh, lang)[indicator_id]
    city = catalogue.city(wh)
    area_ids = (city.area_id,) if indicator.is_segregation else (city.area_id, *(areas or ()))
    frame, level_breaks, today = today_boundaries.chosen_series(wh, indicator, area_ids, boundaries)
    level_labels = {k: lvl.label for k, lvl in catalogue.levels(wh, lang).items()}
    frame = labels.series_labels(frame, indicator, level_labels, lang)
    return indicator, frame, city, lang, level_breaks, today


@callback(
    Output(ids.TRENDS_AREAS, "options"),
    Output(ids.TRENDS_AREAS, "value"),
    Input(ids.TRENDS_LEVEL, "value"),
    prevent_initial_call=True,
)
def update_area_options(level: str) -> tuple:
    return _area_options(level), _default_areas(level)


@callback(
    Output(ids.TRENDS_LEVEL, "disabled"),
    Output(ids.TRENDS_AREAS, "disabled"),
    Output(ids.TRENDS_NOTE, "children"),
    Input(ids.TRENDS_INDICATOR, "value"),
)
def update_controls(indicator_id: str) -> tuple:
    wh, lang = context.warehouse(), context.lang()
    indicator = catalogue.indicators(wh, lang)[indicator_id]
    if indicator.is_segregation:
        return True, True, html.P(t("trends.segregation_note", lang), className="hint")
    dates = catalogue.indicator_dates(wh, indicator_id)
    if len(dates) == 1:
        date = formatting.format_date(dates[0])
        return False, False, html.P(t("trends.single_date", lang, date=date), className="hint")
    return False, False, None


@callback(
    Output(ids.TRENDS_GRAPH, "figure"),
    Output(ids.TRENDS_DEFINITION, "children"),
    Input(ids.TRENDS_INDICATOR, "value"),
    Input(ids.TRENDS_AREAS, "value"),
    Input(ids.TRENDS_BOUNDARIES, "value"),
)
def update_chart(
    indicator_id: str, areas: list[str] | None, boundaries: str | None = None
) -> tuple:
    indicator, frame, city, lang, level_breaks, today = _series(indicator_id, areas, boundaries)
    city_id = None if indicator.is_segregation else city.area_id
    found = breaks.chart_breaks(frame, level_breaks)
    figure = trends_figures.trend(frame, indicator, lang, city_id=city_id, breaks=found)
    notes = [html.P(text, className="break-note") for text in labels.break_notes(found, lang)]
    if today:  # earlier dates recomputed; the estimated areas named
        wh = context.warehouse()
        notes += [
            html.P(text, className="break-note")
            for text in today_boundaries.today_notes(wh, frame, lang)
        ]
    return figure, [*notes, components.definition(indicator, lang)]


@callback(
    Output(ids.TRENDS_TABLE, "children"),
    Input(ids.TRENDS_INDICATOR, "value"),
    Input(ids.TRENDS_AREAS, "value"),
    Input(ids.sort_state(ids.TRENDS_TABLE), "data"),
    Input(ids.TRENDS_BOUNDARIES, "value"),
)
def update_table(
    indicator_id: str, areas: list[str] | None, sort: dict | None, boundaries: str | None = None
) -> html.Div:
    indicator, frame, _, lang, level_breaks, _ = _series(indicator_id, areas, boundaries)
    caption = t("trends.table_caption", lang, title=indicator.title)
    found = breaks.chart_breaks(frame, level_breaks)
    return tables.series_table(ids.TRENDS_TABLE, frame, indicator, caption, sort, lang, found)


# the chart (PNG, SVG, PDF) or its table (CSV, XLSX) of the current selection
components.download_callback(
    ids.TRENDS_GRAPH,
    [
        State(ids.TRENDS_INDICATOR, "value"),
        State(ids.TRENDS_AREAS, "value"),
        State(ids.TRENDS_BOUNDARIES, "value"),
    ],
    lambda wh, fmt, lang, indicator_id, areas, boundaries: downloads.trend_download(
        wh, indicator_id, areas or [], fmt, lang, boundaries
    ),
    required=1,
)

components.url_sync_callback(
    ids.TRENDS_URL,
    [ids.TRENDS_INDICATOR, ids.TRENDS_LEVEL, ids.TRENDS_AREAS, ids.TRENDS_BOUNDARIES],
)
