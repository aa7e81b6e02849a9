"""Vergleich (``/vergleich``): (a) the change of one indicator between two reference dates
as a change map and a slope chart, (b) selected areas side by side across the dates.

URL state: ``/vergleich?indicator=foreigner_share&level=district&date_a=2022-12-31
&date_b=2024-12-31&areas=11,21``. Dates: those of the indicator (defaults: first and
latest); if A is after B the two are compared in time order (with a hint). Level: every
level below the city (default: the finest whose boundaries are the same on A and B and
that has boundaries on B, so the change map is not grey: Berlin 2015 vs 2024 opens on
the districts). Areas (b): those of the level valid on date B, at most
:data:`compare_figures.MAX_AREAS` (default: the first with a name of their own). Data and tables:
:mod:`dashboards.data.compare`; figures: :mod:`dashboards.figures.compare`. Each chart has
export buttons: the print-ready chart (PNG, SVG, PDF) and its table (CSV, XLSX with
metadata), see :mod:`dashboards.export.compare`.
"""

from __future__ import annotations

from dash import Input, Output, State, callback, html

from dashboards import context, formatting, ids
from dashboards.components import area as area_parts
from dashboards.components import common as components
from dashboards.components import compare as compare_parts
from dashboards.components import tables
from dashboards.data import boundaries as today_boundaries
from dashboards.data import breaks, catalogue, queries
from dashboards.data import compare as compare_data
from dashboards.export import compare as compare_export
from dashboards.export import downloads
from dashboards.figures import common as figures
from dashboards.figures import compare as compare_figures
from dashboards.i18n import t
from dashboards.pages import register_page

HIDDEN = {"display": "none"}
PUBLISHED, TODAY = today_boundaries.PUBLISHED, today_boundaries.TODAY
DEFAULT_AREAS = 3

register_page(__name__, "/vergleich", 11, "compare")


def layout(
    indicator: str | None = None,
    level: str | None = None,
    date_a: str | None = None,
    date_b: str | None = None,
    areas: str | None = None,
    boundaries: str | None = None,
    **_other: str,
) -> html.Div:
    """The comparison for the parameters in the URL (or the defaults)."""
    wh, lang = context.warehouse(), context.lang()
    indicators = [i for i in catalogue.indicators(wh, lang).values() if not i.is_segregation]
    default = catalogue.default_indicator(catalogue.series_indicators(wh, indicators) or indicators)
    offered = [i.indicator_id for i in indicators]
    view = components.choose_map_view(
        wh,
        lang,
        offered,
        default,
        (indicator, date_b, level),
        keys=("indicator", "date_b"),
        period=True,
        since=date_a,
    )
    indicator, dates, date_b = view.indicator, view.dates, view.date
    levels, level = view.levels, view.level
    date_a, n2 = components.choose(date_a, dates, dates[0] if dates else None, "date_a", lang)
    n1, n3, n4 = view.notices
    offered_boundaries = [PUBLISHED, TODAY] if today_boundaries.available(wh) else [PUBLISHED]
    boundaries, n6 = components.choose(
        boundaries, offered_boundaries, PUBLISHED, "boundaries", lang
    )
    today = boundaries == TODAY
    options = _area_options(level, date_b, today)
    allowed = [o["value"] for o in options]
    named = _default_areas(level, date_b, today)
    areas, n5 = components.choose_many(areas, allowed, named, "areas", lang)
    limit = compare_figures.MAX_AREAS
    controls = [
        components.indicator_control(ids.COMPARE_INDICATOR, indicators, indicator, lang),
        components.level_control(ids.COMPARE_LEVEL, levels, level, lang),
        _date_control(t("control.date_a", lang), ids.COMPARE_DATE_A, dates, date_a, lang),
        _date_control(t("control.date_b", lang), ids.COMPARE_DATE_B, dates, date_b, lang),
        _boundaries_control(offered_boundaries, boundaries, lang),
    ]
    area_control = components.control(
        t("control.compare_areas", lang, n=limit),
        ids.COMPARE_AREAS,
        options,
        areas,
        lang,
        multi=True,
    )
    return html.Div(
        [
            components.page_header(t("compare.heading", lang), t("compare.intro", lang)),
            components.notices([n1, n2, n3, n4, n5, n6]),
            html.Div(controls, className="controls"),
            html.Div(id=ids.COMPARE_DEFINITION),
            html.H2(t("compare.change_heading", lang), className="section-heading"),
            html.Div(id=ids.COMPARE_NOTE, **{"aria-live": "polite"}),
            components.export_menu(ids.COMPARE_MAP, lang),
            html.Div(
                components.graph(ids.COMPARE_MAP, geo=True),
                className="panel",
                id=ids.COMPARE_MAP_PANEL,
            ),
            html.Div(id=ids.COMPARE_LEGEND),
            html.Div(
                [
                    components.export_menu(ids.COMPARE_SLOPE, lang),
                    components.graph(ids.COMPARE_SLOPE),
                ],
                className="panel",
            ),
            tables.table_section(t("compare.table_heading", lang), ids.COMPARE_CHANGE_TABLE),
            html.H2(t("compare.areas_heading", lang), className="section-heading"),
            html.Div(area_control, className="controls"),
            html.Div(id=ids.COMPARE_BARS_NOTE, **{"aria-live": "polite"}),
            html.Div(
                [
                    components.export_menu(ids.COMPARE_BARS, lang),
                    components.graph(ids.COMPARE_BARS),
                ],
                className="panel",
            ),
            tables.table_section(t("compare.bars_table_heading", lang), ids.COMPARE_BARS_TABLE),
            *components.url_sync(
                ids.COMPARE_URL, ["indicator", "level", "date_a", "date_b", "areas", "boundaries"]
            ),
        ]
    )


def _boundaries_control(offered: list[str], value: str | None, lang: str) -> html.Div:
    """ "wie veröffentlicht" / "auf heutigem Gebietsstand"; hidden (one option) in an
    instance with one boundary vintage."""
    options = [{"label": t(f"trends.boundaries_{key}", lang), "value": key} for key in offered]
    label = t("trends.boundaries", lang)
    control = components.control(label, ids.COMPARE_BOUNDARIES, options, value, lang)
    return html.Div(control, hidden=len(offered) < 2)


def _areas_date(ref_date: str | None, today: bool) -> str | None:
    """The date whose areas the page shows: date B, or today's boundaries."""
    if ref_date is None:
        return None
    return compare_data.today_date(context.warehouse()) if today else ref_date


def _default_areas(level: str | None, ref_date: str | None, today: bool = False) -> list[str]:
    """The first areas of the level with a name of their own (no bare codes)."""
    ref_date = _areas_date(ref_date, today)
    if level is None or ref_date is None:
        return []
    areas = queries.areas(context.warehouse(), level, ref_date)
    return components.default_areas(areas, DEFAULT_AREAS)


def _date_control(label: str, component_id: str, dates: list[str], value, lang: str):
    return components.control(label, component_id, components.date_options(dates), value, lang)


def _area_options(level: str | None, ref_date: str | None, today: bool = False) -> list[dict]:
    ref_date = _areas_date(ref_date, today)
    if level is None or ref_date is None:
        return []
    return components.area_options(queries.areas(context.warehouse(), level, ref_date))


def ordered(date_a: str | None, date_b: str | None) -> tuple[tuple[str, str] | None, str | None]:
    """The two dates in time order and the hint to show (A after B, or A equal to B)."""
    if not date_a or not date_b:
        return None, None
    if date_a == date_b:
        return (date_a, date_b), "compare.same_date"
    if date_a > date_b:
        return (date_b, date_a), "compare.dates_swapped"
    return (date_a, date_b), None


def _change(
    indicator_id: str, level: str, dates: tuple[str, str], boundaries: str | None = None
) -> compare_export.ChangeSelection:
    """The change of the indicator between the dates on the level (areas and city)."""
    return compare_export.change_selection(
        context.warehouse(), indicator_id, level, dates, context.lang(), boundaries
    )


@callback(
    Output(ids.COMPARE_DATE_A, "options"),
    Output(ids.COMPARE_DATE_A, "value"),
    Output(ids.COMPARE_DATE_B, "options"),
    Output(ids.COMPARE_DATE_B, "value"),
    Input(ids.COMPARE_INDICATOR, "value"),
    State(ids.COMPARE_DATE_A, "value"),
    State(ids.COMPARE_DATE_B, "value"),
    prevent_initial_call=True,
)
def update_dates(indicator_id: str, date_a: str | None, date_b: str | None) -> tuple:
    """The dates of the chosen indicator; keep each date it has, else its first / latest."""
    dates = catalogue.indicator_dates(context.warehouse(), indicator_id)
    options = components.date_options(dates)
    a = date_a if date_a in dates else (dates[0] if dates else None)
    b = date_b if date_b in dates else (dates[-1] if dates else None)
    return options, a, options, b


@callback(
    Output(ids.COMPARE_AREAS, "options"),
    Output(ids.COMPARE_AREAS, "value"),
    Input(ids.COMPARE_LEVEL, "value"),
    Input(ids.COMPARE_DATE_A, "value"),
    Input(ids.COMPARE_DATE_B, "value"),
    Input(ids.COMPARE_BOUNDARIES, "value"),
    State(ids.COMPARE_AREAS, "value"),
    prevent_initial_call=True,
)
def update_area_options(
    level: str,
    date_a: str | None,
    date_b: str | None,
    boundaries: str | None,
    current: list[str] | None,
) -> tuple:
    """Areas of the level valid on the later date (or on today's boundaries); keep the
    chosen ones that still exist."""
    dates, _ = ordered(date_a, date_b)
    today = boundaries == TODAY
    options = _area_options(level, dates[1] if dates else None, today)
    allowed = [o["value"] for o in options]
    kept = [a for a in current or [] if a in allowed]
    return options, kept or _default_areas(level, dates[1] if dates else None, today)


@callback(
    Output(ids.COMPARE_MAP, "figure"),
    Output(ids.COMPARE_MAP_PANEL, "style"),
    Output(ids.COMPARE_NOTE, "children"),
    Output(ids.COMPARE_LEGEND, "children"),
    Output(ids.COMPARE_SLOPE, "figure"),
    Output(ids.COMPARE_DEFINITION, "children"),
    Input(ids.COMPARE_INDICATOR, "value"),
    Input(ids.COMPARE_LEVEL, "value"),
    Input(ids.COMPARE_DATE_A, "value"),
    Input(ids.COMPARE_DATE_B, "value"),
    Input(ids.COMPARE_BOUNDARIES, "value"),
)
def update_change(
    indicator_id: str, level: str, date_a: str, date_b: str, boundaries: str | None = None
) -> tuple:
    wh, lang = context.warehouse(), context.lang()
    dates, hint = ordered(date_a, date_b)
    if dates is None or not indicator_id or not level:
        empty = figures.message(t("chart.no_data", lang))
        return empty, HIDDEN, None, None, empty, None
    change = _change(indicator_id, level, dates, boundaries)
    notes = [html.P(t(hint, lang), className="hint")] if hint else []
    if change.today:  # recomputed onto today's boundaries: no boundary break remains
        notes += [
            html.P(text, className="notice", role="status")
            for text in compare_export.today_notes(change, lang)
        ]
        if change.series_break:
            first, last = (formatting.format_date(d) for d in dates)
            text = t("compare.export.series_break", lang, date_a=first, date_b=last)
            notes.append(html.P(text, className="notice break-note", role="status"))
    else:
        if boundaries == TODAY:  # a ratio, quotient or index: as published only
            notes.append(html.P(t("compare.today_unavailable", lang), className="notice"))
        notes += _break_notes(indicator_id, level, change.level_label, dates)
    if change.dissolved:
        date = formatting.format_date(dates[0])
        text = t("compare.dissolved", lang, n=change.dissolved, date=date)
        notes.append(html.P(text, className="hint"))
    shapes = compare_export.geometries(wh, level, dates[1], change.today)
    slope = change.slope_figure()
    definition = components.definition(change.indicator, lang)
    if shapes.empty:
        notes.append(_no_geometry(wh, indicator_id, level, change.level_label, dates[1], lang))
        no_map = figures.message(t("map.no_geometry", lang))
        return no_map, HIDDEN, notes, None, slope, definition
    legend = compare_parts.legend(change.frame, lang)
    return change.map_figure(shapes), None, notes or None, legend, slope, definition


def _break_notes(indicator_id: str, level: str, level_label: str, dates) -> list[html.P]:
    """Why areas are grey across a boundary break, and which levels compare like with
    like over the period (a definition break: that no change is fully comparable)."""
    wh, lang = context.warehouse(), context.lang()
    divisions = breaks.level_breaks(wh)
    series = queries.area_values(wh, (indicator_id,), dates[0], level)
    later = queries.area_values(wh, (indicator_id,), dates[1], level)
    definitions = [*series["definition_id"].dropna(), *later["definition_id"].dropna()]
    kind = breaks.between(divisions, level, dates[0], dates[1], definitions)
    if kind is None:
        return []
    first, last = (formatting.format_date(d) for d in dates)
    if kind == breaks.DEFINITION:
        text = t("compare.export.series_break", lang, date_a=first, date_b=last)
        return [html.P(text, className="notice break-note", role="status")]
    levels = catalogue.map_levels(wh, lang)
    same = [
        lvl.label
        for lvl in levels
        if lvl.level
        in breaks.comparable_levels(divisions, [x.level for x in levels], dates[0], dates[1])
    ]
    text = t(
        "compare.boundary_break",
        lang,
        level=level_label,
        date_a=first,
        date_b=last,
        levels=", ".join(same) or "–",
    )
    if today_boundaries.available(wh):  # the way to values for most areas
        text += " " + t("compare.try_today", lang, today=t("trends.boundaries_today", lang))
    return [html.P(text, className="notice break-note", role="status")]


def _no_geometry(wh, indicator_id, level, level_label, ref_date, lang) -> html.Div:
    dates = catalogue.indicator_dates(wh, indicator_id)
    with_map = [d for d in dates if catalogue.has_geometry(wh, level, d)]
    return components.no_geometry_notice(level_label, ref_date, with_map, lang)


@callback(
    Output(ids.COMPARE_CHANGE_TABLE, "children"),
    Input(ids.COMPARE_INDICATOR, "value"),
    Input(ids.COMPARE_LEVEL, "value"),
    Input(ids.COMPARE_DATE_A, "value"),
    Input(ids.COMPARE_DATE_B, "value"),
    Input(ids.sort_state(ids.COMPARE_CHANGE_TABLE), "data"),
    Input(ids.COMPARE_BOUNDARIES, "value"),
)
def update_change_table(
    indicator_id: str | None,
    level: str | None,
    date_a: str | None,
    date_b: str | None,
    sort: dict | None,
    boundaries: str | None = None,
) -> html.Div | None:
    lang = context.lang()
    dates, _ = ordered(date_a, date_b)
    if dates is None or not indicator_id or not level:
        return html.P(t("table.empty", lang), className="table-empty")
    change = _change(indicator_id, level, dates, boundaries)
    link_date = None if change.today else dates[1]  # today's units: their latest page
    return compare_parts.change_table(
        ids.COMPARE_CHANGE_TABLE,
        change.frame,
        change.city,
        change.indicator,
        dates,
        change.caption(),
        sort,
        lang,
        href=lambda area_id: area_parts.area_href(area_id, link_date),
    )


def _bars(
    indicator_id: str, areas: list[str] | None, date_a, date_b, boundaries=None
) -> compare_export.BarsSelection:
    """The city and the chosen areas (as many as are shown) within the two dates."""
    dates, _ = ordered(date_a, date_b)
    wh, lang = context.warehouse(), context.lang()
    return compare_export.bars_selection(wh, indicator_id, areas, dates, lang, boundaries)


@callback(
    Output(ids.COMPARE_BARS, "figure"),
    Output(ids.COMPARE_BARS_NOTE, "children"),
    Input(ids.COMPARE_INDICATOR, "value"),
    Input(ids.COMPARE_AREAS, "value"),
    Input(ids.COMPARE_DATE_A, "value"),
    Input(ids.COMPARE_DATE_B, "value"),
    Input(ids.COMPARE_BOUNDARIES, "value"),
)
def update_bars(
    indicator_id: str,
    areas: list[str] | None,
    date_a: str | None,
    date_b: str | None,
    boundaries: str | None = None,
) -> tuple:
    bars = _bars(indicator_id, areas, date_a, date_b, boundaries)
    hint = bars.too_many()
    return bars.figure(), html.P(hint, className="notice", role="status") if hint else None


@callback(
    Output(ids.COMPARE_BARS_TABLE, "children"),
    Input(ids.COMPARE_INDICATOR, "value"),
    Input(ids.COMPARE_AREAS, "value"),
    Input(ids.COMPARE_DATE_A, "value"),
    Input(ids.COMPARE_DATE_B, "value"),
    Input(ids.sort_state(ids.COMPARE_BARS_TABLE), "data"),
    Input(ids.COMPARE_BOUNDARIES, "value"),
)
def update_bars_table(
    indicator_id: str,
    areas: list[str] | None,
    date_a: str | None,
    date_b: str | None,
    sort: dict | None,
    boundaries: str | None = None,
) -> html.Div:
    bars = _bars(indicator_id, areas, date_a, date_b, boundaries)
    return tables.series_table(
        ids.COMPARE_BARS_TABLE, bars.frame, bars.indicator, bars.caption(), sort, bars.lang
    )


# --- downloads ---------------------------------------------------------------------------
CHOICES = (  # what every chart of the page depends on, in this order
    State(ids.COMPARE_INDICATOR, "value"),
    State(ids.COMPARE_LEVEL, "value"),
    State(ids.COMPARE_DATE_A, "value"),
    State(ids.COMPARE_DATE_B, "value"),
    State(ids.COMPARE_BOUNDARIES, "value"),
)


def _in_time_order(download):
    """``make`` for :func:`components.download_callback`: the file of
    ``download(wh, indicator_id, level, *more, dates, fmt, lang, boundaries)``, the dates
    in time order."""

    def make(wh, fmt, lang, indicator_id, level, date_a, date_b, boundaries, *more):
        dates = ordered(date_a, date_b)[0]
        return download(wh, indicator_id, level, *more, dates, fmt, lang, boundaries)

    return make


# the change map (no update without boundaries) or the change table; the slope chart or the
# change table; the city and the chosen areas side by side (chart) or their table
components.download_callback(
    ids.COMPARE_MAP, CHOICES, _in_time_order(downloads.compare_map_download)
)
components.download_callback(
    ids.COMPARE_SLOPE, CHOICES, _in_time_order(downloads.compare_slope_download)
)
components.download_callback(
    ids.COMPARE_BARS,
    [*CHOICES, State(ids.COMPARE_AREAS, "value")],
    lambda wh, fmt, lang, indicator_id, level, date_a, date_b, boundaries, areas: _in_time_order(
        downloads.compare_bars_download
    )(wh, fmt, lang, indicator_id, level, date_a, date_b, boundaries, areas or []),
    required=len(CHOICES),
)


components.url_sync_callback(
    ids.COMPARE_URL,
    [
        ids.COMPARE_INDICATOR,
        ids.COMPARE_LEVEL,
        ids.COMPARE_DATE_A,
        ids.COMPARE_DATE_B,
        ids.COMPARE_AREAS,
        ids.COMPARE_BOUNDARIES,
    ],
)
