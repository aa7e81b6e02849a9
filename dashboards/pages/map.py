"""Karte (``/karte``): choropleth of one indicator by area, with a table alternative.

URL state: ``/karte?indicator=foreigner_share&date=2024-12-31&level=district``
plus ``classes=quantile|equal|jenks`` (class breaks, default quantile) and ``labels=1``
(area names on the map).
The dates offered are those of the chosen indicator (default: its latest). Every level
below the whole city is offered; a level without boundaries on the chosen date (Berlin:
planning areas from 2021) gets a notice instead of the map, and the table as always.
Segregation indices describe the whole city and have no area values: not offered here.

A change of the reference date only re-colours the map, so it is done in the browser.
The figure's ``layout.meta`` names the view drawn (``key``: indicator, level, classes,
labels; ``date``), its geometry (:func:`figures.geometry_key`) and trace count; a
clientside callback copies it into the store ``map-drawn`` once the map is drawn and, if
the browser has no frames for that view yet, asks for them (``map-frames-wanted``). The
server then sends ``map-frames``: the figure without geometry for every date of the
indicator with the same boundaries, and the legend of flagged areas (cached per view).
The clientside callback ``imon.mapDate`` swaps in the frame of the chosen date, keeping
the boundaries. A date with other boundaries (or none), or one chosen before the frames
arrived, is drawn by the server (``map-fetch``). A change of indicator, level, classes or
labels goes to the server; if the boundaries stay, it sends a ``dash.Patch`` without
geometry: the browser keeps it.

Over a level finer than the coarsest one below the city, the outlines of that coarsest
level (Berlin: the districts) are drawn on top, from its published boundaries on the same
date; they are part of the geometry key and, like the boundaries, stay in the browser.

Timeline (#19): once the frames are in the browser, a slider over their dates and a
play button (``imon.mapTimeline``, ``imon.mapSlide``, ``imon.mapPlay`` in
assets/imon.js). Playing redraws the map from the frames only (no request per date);
when it stops, the date control takes the date shown (one request, for the table). A click
on an area opens its area page (assets/map_click.js); keyboard users have the area names in
the table as links to the same page.

Boundaries (#18, ``boundaries=today``): "auf heutigem Gebietsstand" draws every date of a
count or share on today's units (values of earlier dates recomputed, estimates flagged
"geschätzt" as on Vergleich); the geometry key then starts with ``today|``, so the frames
the browser asks for are those on today's boundaries (the view key stays as before).
"""

from __future__ import annotations

import threading
from urllib.parse import urlencode

import dash
from dash import (
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    dcc,
    html,
)

from dashboards import context, formatting, ids
from dashboards.components import boundaries as boundary_parts
from dashboards.components import common as components
from dashboards.components import tables
from dashboards.data import boundaries_choice, catalogue, queries
from dashboards.data import compare as compare_data
from dashboards.data.catalogue import default_indicator
from dashboards.data.snapshot import memoised
from dashboards.export import downloads
from dashboards.figures import classify
from dashboards.figures import common as figures
from dashboards.figures import map as map_figures
from dashboards.i18n import t
from dashboards.pages import register_page

HIDDEN = {"display": "none"}
MAP_BOUNDARIES = "map-boundaries"
TODAY_KEY = "today|"  # geometry keys of maps on today's boundaries
FRAME_LAYOUT = ("title", "annotations", "height", "margin", "meta", "legend")

register_page(__name__, "/karte", 1, "map")


def layout(
    indicator: str | None = None,
    date: str | None = None,
    level: str | None = None,
    classes: str | None = None,
    labels: str | None = None,
    boundaries: str | None = None,
    **_other: str,
) -> html.Div:
    """The map for the indicator, reference date and level in the URL (or the defaults)."""
    wh, lang = context.warehouse(), context.lang()
    indicators = [i for i in catalogue.indicators(wh, lang).values() if not i.is_segregation]
    offered = [i.indicator_id for i in indicators]
    view = components.choose_map_view(
        wh, lang, offered, default_indicator(indicators), (indicator, date, level)
    )
    method, n4 = components.choose(
        classes, classify.METHODS, classify.DEFAULT_METHOD, "classes", lang
    )
    offered_boundaries = boundaries_choice.offered(wh)
    boundaries, n5 = components.choose(
        boundaries, offered_boundaries, boundaries_choice.PUBLISHED, "boundaries", lang
    )
    controls = [
        components.indicator_control(ids.MAP_INDICATOR, indicators, view.indicator, lang),
        components.date_control(ids.MAP_DATE, view.dates, view.date, lang),
        components.level_control(ids.MAP_LEVEL, view.levels, view.level, lang),
        components.class_control(ids.MAP_CLASSES, classify.METHODS, method, lang),
        components.checkbox(ids.MAP_LABELS, t("map.labels", lang), labels == "1"),
        boundary_parts.control(MAP_BOUNDARIES, offered_boundaries, boundaries, lang),
    ]
    return html.Div(
        [
            components.page_header(t("map.heading", lang), t("map.intro", lang)),
            components.notices([*view.notices, n4, n5]),
            html.Div(controls, className="controls"),
            components.export_menu(ids.MAP_GRAPH, lang),
            html.Div(
                [components.graph(ids.MAP_GRAPH, geo=True), _timeline(lang)],
                className="panel",
                id=ids.MAP_GRAPH_PANEL,
            ),
            html.P(t("map.area_link_hint", lang), className="hint"),
            html.Div(id=ids.MAP_NOTE),
            html.Div(id=ids.MAP_DEFINITION),
            tables.table_section(t("map.table_heading", lang), ids.MAP_TABLE),
            dcc.Store(id=ids.MAP_DRAWN),
            dcc.Store(id=ids.MAP_FRAMES),
            dcc.Store(id=ids.MAP_FRAMES_WANTED),
            dcc.Store(id=ids.MAP_FETCH),
            *components.url_sync(
                ids.MAP_URL, ["indicator", "date", "level", "classes", "labels", "boundaries"]
            ),
        ]
    )


MAP_TIMELINE, MAP_SLIDER, MAP_PLAY = "map-timeline", "map-slider", "map-play"
MAP_TIMELINE_DATE = "map-timeline-date"
PLAY_MS = 1200  # per date when playing


def _timeline(lang: str) -> html.Div:
    """Slider over the dates of the frames and a play button; hidden until the frames
    have come (``imon.mapTimeline``)."""
    label_id = f"{MAP_TIMELINE}-label"
    return html.Div(
        [
            html.Button(
                t("map.play", lang),
                id=MAP_PLAY,
                type="button",
                className="action-button map-play",
                n_clicks=0,
                **{
                    "aria-pressed": "false",
                    "data-play": t("map.play", lang),
                    "data-pause": t("map.pause", lang),
                    "data-ms": str(PLAY_MS),
                },
            ),
            html.Div(
                [
                    html.Span(t("map.timeline", lang), id=label_id, className="map-timeline-label"),
                    html.Output(id=MAP_TIMELINE_DATE, className="map-timeline-date"),
                    dcc.Slider(
                        id=MAP_SLIDER,
                        min=0,
                        max=1,
                        step=1,
                        value=0,
                        marks=None,
                        included=False,
                        allow_direct_input=False,
                    ),  # fmt: skip
                ],
                className="map-timeline-track",
                role="group",
                title=t("map.timeline_help", lang),
                **{"aria-labelledby": label_id},
            ),
        ],
        id=MAP_TIMELINE,
        className="map-timeline",
        style=HIDDEN,
    )


def _selection(indicator_id: str, ref_date: str, level: str, boundaries: str | None = None):
    """(warehouse, language, indicator, level label, values, on today's boundaries?)."""
    wh, lang = context.warehouse(), context.lang()
    indicator = catalogue.indicators(wh, lang)[indicator_id]
    level_label = catalogue.levels(wh, lang)[level].label
    values, today = boundaries_choice.area_values(wh, indicator, ref_date, level, boundaries)
    return wh, lang, indicator, level_label, values, today


def _shapes_date(wh, ref_date: str, today: bool) -> str:
    """The date whose boundaries are drawn: the chosen one, or today's."""
    return compare_data.today_date(wh) if today else ref_date


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
    Input(ids.MAP_LEVEL, "value"),
    Input(ids.MAP_CLASSES, "value"),
    Input(ids.MAP_LABELS, "value"),
    Input(ids.MAP_FETCH, "data"),
    State(ids.MAP_DATE, "value"),
    State(ids.MAP_DRAWN, "data"),
    Input(MAP_BOUNDARIES, "value"),
)
def update_map(
    indicator_id: str,
    level: str,
    method: str | None = None,
    area_labels: list | None = None,
    _fetch: dict | None = None,
    ref_date: str | None = None,
    drawn: dict | None = None,
    boundaries: str | None = None,
) -> tuple:
    """The map on the chosen date: the one :func:`update_dates` keeps or chooses."""
    wh = context.warehouse()
    dates = catalogue.indicator_dates(wh, indicator_id)
    ref_date = ref_date if ref_date in dates or not dates else dates[-1]
    selection = _selection(indicator_id, ref_date, level, boundaries)
    wh, lang, indicator, level_label, values, today = selection
    definition = components.definition(indicator, lang)
    shapes = queries.geometries(wh, level, _shapes_date(wh, ref_date, today))
    parents = _parents(wh, level, _shapes_date(wh, ref_date, today))
    view = (indicator_id, level, method, bool(area_labels))
    if shapes.empty:
        with_map = [d for d in dates if catalogue.has_geometry(wh, level, d)]
        notice = components.no_geometry_notice(level_label, ref_date, with_map, lang)
        figure = figures.message(t("map.no_geometry", lang))
        figure.update_layout(meta={"key": list(view), "date": ref_date})
        return figure, HIDDEN, notice, definition
    kept = bool(drawn) and drawn.get("geometry") == _geometry_key(shapes, parents, today)
    figure = _figure(wh, lang, view, ref_date, shapes, values, parents, not kept, today)
    if kept:
        figure = _without_geometry(figure, drawn["traces"])
    return figure, None, _legend(wh, values, shapes, ref_date, today, lang), definition


def _legend(wh, values, shapes, ref_date: str, today: bool, lang: str):
    """The map's legend of flagged areas; on today's boundaries for a date before them,
    also how its values were recomputed (estimates: outlined, "geschätzt")."""
    legend = components.map_legend(values, shapes, lang)
    below = boundary_parts.earlier_date_note(wh, ref_date, today, lang)
    return [legend, below] if below else legend


def _parents(wh, level: str, ref_date: str):
    """The boundaries drawn over ``level`` (as in the map's exports and embeds)."""
    return catalogue.outline_shapes(wh, level, ref_date)


def _geometry_key(shapes, parents, today: bool = False) -> str:
    """The boundaries on the map: the areas' and the outlines' (:func:`_parents`); on
    today's boundaries (values of every date recomputed onto them) with :data:`TODAY_KEY`
    in front."""
    key = figures.geometry_key(shapes)
    key = key if parents is None else f"{key}+{figures.geometry_key(parents)}"
    return TODAY_KEY + key if today else key


def _figure(
    wh,
    lang: str,
    view: tuple,
    ref_date: str,
    shapes,
    values,
    parents,
    geometry: bool = True,
    today: bool = False,
):
    """The choropleth of ``view`` (indicator, level, classes, labels) on ``ref_date``, its
    ``layout.meta`` naming what is drawn."""
    indicator_id, level, method, area_labels = view
    indicator = catalogue.indicators(wh, lang)[indicator_id]
    level_label = catalogue.levels(wh, lang)[level].label
    figure = map_figures.choropleth(
        values,
        shapes,
        indicator,
        level_label,
        ref_date,
        lang,
        method=method or classify.DEFAULT_METHOD,
        area_labels=area_labels,
        geometry=geometry,
        parents=parents,
    )
    meta = {"key": list(view), "date": ref_date, "geometry": _geometry_key(shapes, parents, today)}
    figure.update_layout(meta={**meta, "traces": len(figure.data)})
    return figure


@callback(
    Output(ids.MAP_FRAMES, "data"),
    Input(ids.MAP_FRAMES_WANTED, "data"),
    prevent_initial_call=True,
)
def update_frames(wanted: dict | None) -> dict:
    """The frames of the view the browser has drawn (``wanted``: its key and geometry)."""
    wh = context.warehouse()
    key, geometry = (wanted or {}).get("key"), (wanted or {}).get("geometry")
    if not (isinstance(key, list) and len(key) == 4 and isinstance(geometry, str)):
        raise dash.exceptions.PreventUpdate  # nothing drawn (or not sent by this page)
    indicator_id, level, method, area_labels = key
    lang = context.lang()
    known = indicator_id in catalogue.indicators(wh, lang) and level in catalogue.levels(wh, lang)
    if not known or method not in (None, *classify.METHODS):
        raise dash.exceptions.PreventUpdate
    view = (indicator_id, level, method, bool(area_labels))
    return _frames(wh, lang, view, geometry)


_FRAMES_LOCKS: dict[tuple, threading.Lock] = {}
_FRAMES_LOCKS_LOCK = threading.Lock()


def _frames(wh, lang: str, view: tuple, geometry: str) -> dict:
    """The frames of a view, computed once per worker even when several of its threads
    ask at the same time (the others wait for the first instead of computing them too)."""
    key = (wh, lang, view, geometry, figures.narrow())  # a phone's frames are its own
    with _FRAMES_LOCKS_LOCK:
        if len(_FRAMES_LOCKS) > 1024:
            _FRAMES_LOCKS.clear()
        lock = _FRAMES_LOCKS.setdefault(key, threading.Lock())
    with lock:
        return _computed_frames(*key)


@memoised(32)
def _computed_frames(wh, lang: str, view: tuple, geometry: str, _narrow: bool) -> dict:
    """Every date of the view's indicator drawn on the boundaries ``geometry``, without
    them: what a date change needs in the browser (``_narrow``: for a phone's screen, as
    :func:`figures.narrow` says in this request; part of the cache key)."""
    indicator_id, level = view[:2]
    frames = {"key": list(view), "geometry": geometry, "dates": {}}
    choice = boundaries_choice.TODAY if geometry.startswith(TODAY_KEY) else None
    indicator = catalogue.indicators(wh, lang)[indicator_id]
    for date in catalogue.indicator_dates(wh, indicator_id):
        values, today = boundaries_choice.area_values(wh, indicator, date, level, choice)
        shapes = queries.geometries(wh, level, _shapes_date(wh, date, today))
        parents = _parents(wh, level, _shapes_date(wh, date, today))
        if shapes.empty or _geometry_key(shapes, parents, today) != geometry:
            continue
        frame = _figure(wh, lang, view, date, shapes, values, parents, False, today)
        frames["dates"][date] = {
            **_frame(frame),
            "note": _legend(wh, values, shapes, date, today, lang),
        }
    return frames


def _frame(figure) -> dict:
    """What changes from one date to another on the same boundaries: every trace (the
    first without its geometry, the outlines without their lines: the browser has them)
    and the title, annotations, legend, size and meta."""
    plotly_json = figure.to_plotly_json()
    first, *rest = plotly_json["data"]
    rest = [
        {k: v for k, v in trace.items() if k not in ("lon", "lat")}
        if trace.get("name") == map_figures.OUTLINE_NAME
        else trace
        for trace in rest
    ]
    layout = plotly_json["layout"]
    return {
        "data": [{k: v for k, v in first.items() if k not in ("geojson", "type")}, *rest],
        "layout": {k: layout.get(k) for k in FRAME_LAYOUT},
    }


def _without_geometry(figure, drawn_traces: int) -> dash.Patch:
    """The figure as a patch of the one in the browser, which has the same boundaries: the
    first trace keeps its geometry and the outlines (the second, if any) stay, later
    traces (flags, labels: small) are replaced, the geo framing stays."""
    patch = dash.Patch()
    frame = _frame(figure)
    first, *rest = frame["data"]
    for key, value in first.items():
        patch["data"][0][key] = value
    keep = 2 if rest and rest[0].get("name") == map_figures.OUTLINE_NAME else 1
    for _ in range(drawn_traces - keep):
        del patch["data"][keep]
    patch["data"].extend(rest[keep - 1 :])
    for key, value in frame["layout"].items():
        patch["layout"][key] = value
    return patch


@callback(
    Output(ids.MAP_TABLE, "children"),
    Input(ids.MAP_INDICATOR, "value"),
    Input(ids.MAP_DATE, "value"),
    Input(ids.MAP_LEVEL, "value"),
    Input(ids.sort_state(ids.MAP_TABLE), "data"),
    Input(MAP_BOUNDARIES, "value"),
)
def update_table(
    indicator_id: str, ref_date: str, level: str, sort: dict | None, boundaries: str | None = None
) -> html.Div:
    selection = _selection(indicator_id, ref_date, level, boundaries)
    _, lang, indicator, level_label, values, today = selection
    caption = t(
        "map.table_caption",
        lang,
        title=indicator.title,
        level=level_label,
        date=formatting.format_date(ref_date),
    )
    link_date = None if today else ref_date  # a unit of today: its page on them, latest date
    return tables.area_table(
        ids.MAP_TABLE,
        values,
        indicator,
        caption,
        sort,
        lang,
        href=lambda a: area_href(a, link_date, today),
    )


def area_href(area_id: str, ref_date: str | None, today: bool = False) -> str:
    """The area page of ``area_id`` on ``ref_date``, keeping language and instance (as
    assets/map_click.js builds it for a click on the map); ``today``: a unit of today's
    boundaries, its page on them (latest date)."""
    params = {"area": area_id, **({"date": ref_date} if ref_date else {})}
    if today:
        params["boundaries"] = boundaries_choice.TODAY
    params.update({k: v for k in context.PERSISTENT if (v := context.setting(k)) is not None})
    return dash.get_relative_path(f"/gebiet?{urlencode(params)}")


# the map in the page's classes (PNG, SVG, PDF; none without boundaries) or its table
components.download_callback(
    ids.MAP_GRAPH,
    [
        State(i, "value")
        for i in (ids.MAP_INDICATOR, ids.MAP_DATE, ids.MAP_LEVEL, ids.MAP_CLASSES, ids.MAP_LABELS)
    ],
    lambda wh, fmt, lang, indicator_id, ref_date, level, method, labels: downloads.map_download(
        wh,
        indicator_id,
        ref_date,
        level,
        fmt,
        lang,
        method=method or classify.DEFAULT_METHOD,
        area_labels=bool(labels),
    ),
    required=3,
)

URL_CONTROLS = [ids.MAP_INDICATOR, ids.MAP_DATE, ids.MAP_LEVEL, ids.MAP_CLASSES, ids.MAP_LABELS]
components.url_sync_callback(ids.MAP_URL, [*URL_CONTROLS, MAP_BOUNDARIES])

clientside_callback(
    ClientsideFunction(namespace="imon", function_name="drawnMap"),
    Output(ids.MAP_DRAWN, "data"),
    Output(ids.MAP_FRAMES_WANTED, "data"),
    Input(ids.MAP_GRAPH, "figure"),
    State(ids.MAP_FRAMES, "data"),
)

clientside_callback(
    ClientsideFunction(namespace="imon", function_name="mapDate"),
    Output(ids.MAP_GRAPH, "figure", allow_duplicate=True),
    Output(ids.MAP_NOTE, "children", allow_duplicate=True),
    Output(ids.MAP_FETCH, "data"),
    Input(ids.MAP_DATE, "value"),
    State(ids.MAP_FRAMES, "data"),
    State(ids.MAP_INDICATOR, "value"),
    State(ids.MAP_LEVEL, "value"),
    State(ids.MAP_CLASSES, "value"),
    State(ids.MAP_LABELS, "value"),
    State(ids.MAP_GRAPH, "figure"),
    prevent_initial_call=True,
)

clientside_callback(
    ClientsideFunction(namespace="imon", function_name="mapTimeline"),
    Output(MAP_SLIDER, "max"),
    Output(MAP_SLIDER, "marks"),
    Output(MAP_SLIDER, "value"),
    Output(MAP_TIMELINE, "style"),
    Output(MAP_TIMELINE_DATE, "children"),
    Input(ids.MAP_FRAMES, "data"),
    State(ids.MAP_DATE, "value"),
)

clientside_callback(
    ClientsideFunction(namespace="imon", function_name="mapSlide"),
    Input(MAP_SLIDER, "value"),
    State(ids.MAP_FRAMES, "data"),
    State(ids.MAP_GRAPH, "figure"),
    State(ids.MAP_DATE, "value"),
    prevent_initial_call=True,
)

clientside_callback(
    ClientsideFunction(namespace="imon", function_name="mapPlay"),
    Input(MAP_PLAY, "n_clicks"),
    State(ids.MAP_FRAMES, "data"),
    State(MAP_SLIDER, "value"),
    prevent_initial_call=True,
)
