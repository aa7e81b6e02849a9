"""Segregation (``/segregation``): city-wide segregation indices and how one group is spread.

Upper part: one index (``is_segregation`` indicators, ordered by kind) over time, one panel
per level of units side by side, each with the random-allocation benchmark (expected value
and 95 % range; table ``random_allocation``), and per level a plain-German statement whether
the change between two reference dates exceeds what random allocation produces.
Lower part: for one group (its location-quotient indicator) on one level and date, the
location quotients as a map (diverging at 1) and the segregation curve (Duncan & Duncan),
each with a table; at the end the metadata box (formula, group, units, source, caveats).
Each chart has export buttons: the print-ready chart (PNG, SVG, PDF) and its table (CSV,
XLSX with metadata), see :mod:`dashboards.export.segregation`.

The group follows the index: choosing an index selects the location quotient with the same
whole-city group count (:func:`queries.same_numerator_pairs`), if there is one.
URL state: ``/segregation?indicator=segregation_is_foreigners&start=2015-12-31&end=2024-12-31
&group=location_quotient_foreigners&level=district&date=2024-12-31``; ``&boundaries=today``
(#18): the location quotients (map and table) on today's boundaries, recomputed for earlier
dates like every count and share. The indices are not: an index depends on the division
into units, so it is compared within one division only (the page says so).
"""

from __future__ import annotations

import plotly.graph_objects as go
from dash import (
    Input,
    Output,
    State,
    callback,
    html,
)

from dashboards import context, formatting, ids
from dashboards.components import boundaries as boundary_parts
from dashboards.components import common as components
from dashboards.components import segregation as segregation_parts
from dashboards.components import tables
from dashboards.data import boundaries as today_boundaries
from dashboards.data import boundaries_choice, breaks, catalogue, queries
from dashboards.data import compare as compare_data
from dashboards.data import segregation as segregation_data
from dashboards.data.catalogue import Indicator
from dashboards.export import downloads
from dashboards.export import segregation as segregation_export
from dashboards.figures import common as figures
from dashboards.figures import map as map_figures
from dashboards.figures import segregation as segregation_figures
from dashboards.i18n import t
from dashboards.pages import register_page

HIDDEN = {"display": "none"}
LOCATION_QUOTIENT = "location_quotient"

# Component ids of this page
INDICATOR = "seg-indicator"
START = "seg-start"
END = "seg-end"
LEVELS_GRAPH = "seg-levels-graph"
BENCHMARK_NOTE = "seg-benchmark-note"
CHANGE = "seg-change"
INDEX_TABLE = "seg-index-table"
GROUP = "seg-group"
LEVEL = "seg-level"
DATE = "seg-date"
MAP_GRAPH = "seg-map-graph"
MAP_PANEL = "seg-map-panel"
MAP_NOTE = "seg-map-note"
LQ_TABLE = "seg-lq-table"
CURVE_GRAPH = "seg-curve-graph"
CURVE_TABLE = "seg-curve-table"
METADATA = "seg-metadata"
URL = "seg-url"
URL_KEYS = ["indicator", "start", "end", "group", "level", "date", "boundaries"]
SEG_BOUNDARIES = "seg-boundaries"  # the location quotients as published or on today's (#18)

register_page(__name__, "/segregation", 3, "segregation")


def index_indicators(indicators: dict[str, Indicator]) -> list[Indicator]:
    """The city-wide indices, by kind (:data:`catalogue.SEGREGATION_ORDER`), then in
    catalogue order."""
    chosen = [i for i in indicators.values() if i.is_segregation]
    rank = {kind: n for n, kind in enumerate(catalogue.SEGREGATION_ORDER)}
    return sorted(chosen, key=lambda i: rank.get(i.function, len(rank)))


def group_indicators(indicators: dict[str, Indicator]) -> list[Indicator]:
    """The location quotients: one per group, with counts per area."""
    return [i for i in indicators.values() if i.function == LOCATION_QUOTIENT]


def group_of(index_id: str | None, groups: list[Indicator]) -> str | None:
    """The location quotient of the index's group (same whole-city group count), if any."""
    if index_id is None:
        return None
    pairs = queries.same_numerator_pairs(context.warehouse())
    related = set(pairs.loc[pairs["indicator_id"] == index_id, "related_id"])
    return next((g.indicator_id for g in groups if g.indicator_id in related), None)


def layout(
    indicator: str | None = None,
    start: str | None = None,
    end: str | None = None,
    group: str | None = None,
    level: str | None = None,
    date: str | None = None,
    boundaries: str | None = None,
    **_other: str,
) -> html.Div:
    """The page for the index, dates, group, level and date in the URL (or the defaults)."""
    wh, lang = context.warehouse(), context.lang()
    every = catalogue.indicators(wh, lang)
    indices, groups = index_indicators(every), group_indicators(every)
    offered = [i.indicator_id for i in indices]
    first = offered[0] if offered else None
    indicator, n1 = components.choose(indicator, offered, first, "indicator", lang)
    dates = catalogue.indicator_dates(wh, indicator) if indicator else []
    start, n2 = components.choose(start, dates, dates[0] if dates else None, "start", lang)
    end, n3 = components.choose(end, dates, dates[-1] if dates else None, "end", lang)
    group, group_dates, date, levels, level, more = _group_choice(
        groups, indicator, group, date, level, start, lang
    )
    offered_boundaries = boundaries_choice.offered(wh)
    boundaries, n4 = components.choose(
        boundaries, offered_boundaries, boundaries_choice.PUBLISHED, "boundaries", lang
    )
    choice = boundary_parts.control(SEG_BOUNDARIES, offered_boundaries, boundaries, lang)
    missing = [
        n4,
        t("seg.no_indices", lang) if not indices else None,
        t("seg.no_groups", lang) if not groups else None,
    ]
    return html.Div(
        [
            components.page_header(t("seg.heading", lang), t("seg.intro", lang)),
            components.notices([n1, n2, n3, *more, *missing]),
            _index_section(
                indices, indicator, dates, start, end, lang, today_boundaries.available(wh)
            ),
            tables.table_section(t("seg.index_table_heading", lang), INDEX_TABLE),
            _group_section(groups, group, group_dates, date, levels, level, lang, choice),
            tables.table_section(t("seg.lq_table_heading", lang), LQ_TABLE),
            html.Div(
                [
                    components.export_menu(CURVE_GRAPH, lang),
                    components.graph(CURVE_GRAPH),
                    html.P(t("seg.curve_note", lang), className="hint"),
                ],
                className="panel",
            ),
            tables.table_section(t("seg.curve_table_heading", lang), CURVE_TABLE),
            html.Div(id=METADATA),
            *components.url_sync(URL, URL_KEYS),
        ]
    )


def _group_choice(
    groups: list[Indicator],
    indicator: str | None,
    group: str | None,
    date: str | None,
    level: str | None,
    start: str | None,
    lang: str,
) -> tuple:
    """Group (default: the index's), its dates, date (latest), levels and level (the finest
    with boundaries on that date and the same boundaries since the index's ``start``, as
    the index's change is compared), and notices for unknown URL values."""
    wh = context.warehouse()
    group_ids = [g.indicator_id for g in groups]
    default = group_of(indicator, groups) or (group_ids[0] if group_ids else None)
    view = components.choose_map_view(
        wh,
        lang,
        group_ids,
        default,
        (group, date, level),
        keys=("group", "date"),
        period=True,
        since=start,
    )
    return view.indicator, view.dates, view.date, view.levels, view.level, view.notices


def _index_section(
    indices, indicator, dates, start, end, lang: str, redrawn: bool = False
) -> html.Section:
    """The index per level and its change; where boundaries were redrawn (values of other
    pages recomputed onto today's), that an index is compared within one division only."""
    controls = [
        components.control(
            t("control.index", lang),
            INDICATOR,
            components.indicator_options(indices),
            indicator,
            lang,
        ),
        components.control(
            t("control.start", lang), START, components.date_options(dates), start, lang
        ),
        components.control(t("control.end", lang), END, components.date_options(dates), end, lang),
    ]
    return html.Section(
        [
            html.H2(t("seg.index_heading", lang)),
            html.Div(controls, className="controls"),
            html.P(t("seg.index_order_hint", lang), className="hint"),
            components.export_menu(LEVELS_GRAPH, lang),
            components.graph(LEVELS_GRAPH),
            html.Div(id=BENCHMARK_NOTE),
            html.H3(t("seg.change_heading", lang)),
            html.P(t("seg.one_division", lang), className="hint") if redrawn else None,
            html.Div(id=CHANGE, **{"aria-live": "polite"}),
        ],
        className="panel",
    )


def _group_section(
    groups, group, dates, date, levels, level, lang: str, choice: html.Div
) -> html.Section:
    """Location quotients by area: group, level, date and the boundaries (``choice``)."""
    controls = [
        components.control(
            t("control.group", lang), GROUP, components.indicator_options(groups), group, lang
        ),
        components.level_control(LEVEL, levels, level, lang),
        components.date_control(DATE, dates, date, lang),
        choice,
    ]
    return html.Section(
        [
            html.H2(t("seg.distribution_heading", lang)),
            html.P(t("seg.distribution_intro", lang), className="hint"),
            html.Div(controls, className="controls"),
            components.export_menu(MAP_GRAPH, lang),
            html.Div(components.graph(MAP_GRAPH, geo=True), id=MAP_PANEL),
            html.Div(id=MAP_NOTE),
        ],
        className="panel",
    )


# --- the index per level -----------------------------------------------------------------
def _index_frame(indicator_id: str) -> tuple:
    """The index, its city series per level with the benchmark, and the level labels."""
    wh, lang = context.warehouse(), context.lang()
    indicator = catalogue.indicators(wh, lang)[indicator_id]
    level_labels = {k: lvl.label for k, lvl in catalogue.levels(wh, lang).items()}
    return indicator, segregation_export.levels_frame(wh, indicator_id), level_labels, lang


@callback(
    Output(START, "options"),
    Output(START, "value"),
    Output(END, "options"),
    Output(END, "value"),
    Input(INDICATOR, "value"),
    State(START, "value"),
    State(END, "value"),
    prevent_initial_call=True,
)
def update_index_dates(indicator_id: str | None, start: str | None, end: str | None) -> tuple:
    """The dates of the chosen index; keep the chosen ones it has, else first and last."""
    dates = catalogue.indicator_dates(context.warehouse(), indicator_id) if indicator_id else []
    options = components.date_options(dates)
    start = start if start in dates else (dates[0] if dates else None)
    end = end if end in dates else (dates[-1] if dates else None)
    return options, start, options, end


@callback(
    Output(GROUP, "value"),
    Input(INDICATOR, "value"),
    State(GROUP, "value"),
    prevent_initial_call=True,
)
def follow_group(indicator_id: str | None, current: str | None) -> str | None:
    """Choosing an index selects the location quotient of its group (if there is one)."""
    every = catalogue.indicators(context.warehouse(), context.lang())
    return group_of(indicator_id, group_indicators(every)) or current


@callback(
    Output(LEVELS_GRAPH, "figure"),
    Output(BENCHMARK_NOTE, "children"),
    Input(INDICATOR, "value"),
)
def update_levels(indicator_id: str | None) -> tuple:
    """The index per level over time with the benchmark, and what the benchmark means."""
    if indicator_id is None:
        return figures.message(t("seg.no_indices", context.lang())), None
    indicator, frame, level_labels, lang = _index_frame(indicator_id)
    found = breaks.chart_breaks(frame, breaks.level_breaks(context.warehouse()))
    figure = segregation_figures.levels_over_time(
        frame, indicator, level_labels, lang, breaks=found
    )
    baseline = frame[frame["expected"].notna()]
    return figure, segregation_parts.benchmark_note(baseline, lang)


@callback(
    Output(CHANGE, "children"),
    Input(INDICATOR, "value"),
    Input(START, "value"),
    Input(END, "value"),
)
def update_change(indicator_id: str | None, start: str | None, end: str | None) -> html.Div | None:
    """Per level: the change between the two dates against random allocation."""
    if indicator_id is None or start is None or end is None:
        return None
    indicator, frame, level_labels, lang = _index_frame(indicator_id)
    wh = context.warehouse()
    city = catalogue.city(wh).area_id
    items = []
    divisions = breaks.level_breaks(wh)
    first, last = sorted((start, end))
    for level, rows in frame.sort_values("rank").groupby("level", sort=False):
        n_start, n_units = (_units_on(rows, day) for day in (first, last))
        change = segregation_data.index_change(wh, indicator_id, level, city, start, end)
        label = level_labels.get(level, level)
        within = rows[(rows["ref_date"] >= first) & (rows["ref_date"] <= last)]
        kind = breaks.between(divisions, level, first, last, within["definition_id"].dropna())
        items.append(segregation_parts.LevelChange(level, label, n_units, change, kind, n_start))
    return segregation_parts.change_statements(items, indicator, start, end, lang)


def _units_on(rows, day: str) -> int | None:
    found = rows.loc[rows["ref_date"] == day, "n_units"]
    return None if found.empty or found.isna().iloc[0] else int(found.iloc[0])


@callback(
    Output(INDEX_TABLE, "children"),
    Input(INDICATOR, "value"),
    Input(ids.sort_state(INDEX_TABLE), "data"),
)
def update_index_table(indicator_id: str | None, sort: dict | None) -> html.Div | None:
    """The table of the index per level and date (units, benchmark)."""
    if indicator_id is None:
        return None
    indicator, frame, level_labels, lang = _index_frame(indicator_id)
    caption = t("seg.index_table_caption", lang, title=indicator.title)
    found = breaks.chart_breaks(frame, breaks.level_breaks(context.warehouse()))
    return segregation_parts.index_table(
        INDEX_TABLE, frame, indicator, level_labels, caption, sort, lang, found
    )


# --- one group: location quotients and segregation curve ---------------------------------
@callback(
    Output(DATE, "options"),
    Output(DATE, "value"),
    Input(GROUP, "value"),
    State(DATE, "value"),
    prevent_initial_call=True,
)
def update_group_dates(group_id: str | None, current: str | None) -> tuple:
    """The dates of the chosen group's quotients; keep the date if it has one, else its latest."""
    dates = catalogue.indicator_dates(context.warehouse(), group_id) if group_id else []
    value = current if current in dates else (dates[-1] if dates else None)
    return components.date_options(dates), value


def _group_selection(group_id: str, level: str, ref_date: str, boundaries: str | None = None):
    """(warehouse, language, group, level label, quotients, on today's boundaries?)."""
    wh, lang = context.warehouse(), context.lang()
    group = catalogue.indicators(wh, lang)[group_id]
    level_label = catalogue.levels(wh, lang)[level].label
    values, today = boundaries_choice.area_values(wh, group, ref_date, level, boundaries)
    return wh, lang, group, level_label, values, today


def _complete(*values: str | None) -> bool:
    return all(v is not None for v in values)


@callback(
    Output(MAP_GRAPH, "figure"),
    Output(MAP_PANEL, "style"),
    Output(MAP_NOTE, "children"),
    Input(GROUP, "value"),
    Input(LEVEL, "value"),
    Input(DATE, "value"),
    Input(SEG_BOUNDARIES, "value"),
)
def update_map(
    group_id: str | None, level: str | None, ref_date: str | None, boundaries: str | None = None
) -> tuple:
    """Location quotients on the map; a level without boundaries on the date: a notice.
    On today's boundaries the quotients of every date on today's units (estimates flagged
    "geschätzt", outlined)."""
    if not _complete(group_id, level, ref_date):
        return figures.message(t("seg.no_groups", context.lang())), HIDDEN, None
    selection = _group_selection(group_id, level, ref_date, boundaries)
    wh, lang, group, level_label, values, today = selection
    shapes = queries.geometries(wh, level, compare_data.today_date(wh) if today else ref_date)
    if shapes.empty:
        dates = catalogue.indicator_dates(wh, group_id)
        with_map = [d for d in dates if catalogue.has_geometry(wh, level, d)]
        notice = components.no_geometry_notice(level_label, ref_date, with_map, lang)
        return figures.message(t("map.no_geometry", lang)), HIDDEN, notice
    figure = map_figures.choropleth(values, shapes, group, level_label, ref_date, lang)
    legend = components.map_legend(values, shapes, lang)
    below = boundary_parts.earlier_date_note(wh, ref_date, today, lang)
    return figure, None, [legend, below] if below else legend


@callback(
    Output(LQ_TABLE, "children"),
    Input(GROUP, "value"),
    Input(LEVEL, "value"),
    Input(DATE, "value"),
    Input(ids.sort_state(LQ_TABLE), "data"),
    Input(SEG_BOUNDARIES, "value"),
)
def update_lq_table(
    group_id: str | None,
    level: str | None,
    ref_date: str | None,
    sort: dict | None,
    boundaries: str | None = None,
) -> html.Div | None:
    """The location quotients of the areas (suppressed counts never shown)."""
    if not _complete(group_id, level, ref_date):
        return None
    _, lang, group, level_label, values, _ = _group_selection(group_id, level, ref_date, boundaries)
    caption = t(
        "seg.lq_table_caption",
        lang,
        title=group.title,
        level=level_label,
        date=formatting.format_date(ref_date),
    )
    return tables.area_table(LQ_TABLE, values, group, caption, sort, lang)


def _curve(group_id: str, level: str, ref_date: str) -> segregation_export.CurveSelection:
    wh, lang = context.warehouse(), context.lang()
    return segregation_export.curve_selection(wh, group_id, level, ref_date, lang)


@callback(
    Output(CURVE_GRAPH, "figure"),
    Input(GROUP, "value"),
    Input(LEVEL, "value"),
    Input(DATE, "value"),
)
def update_curve(group_id: str | None, level: str | None, ref_date: str | None) -> go.Figure:
    """The segregation curve of the group on the level and date."""
    if not _complete(group_id, level, ref_date):
        return figures.message(t("seg.no_groups", context.lang()))
    return _curve(group_id, level, ref_date).figure()


@callback(
    Output(CURVE_TABLE, "children"),
    Input(GROUP, "value"),
    Input(LEVEL, "value"),
    Input(DATE, "value"),
    Input(ids.sort_state(CURVE_TABLE), "data"),
)
def update_curve_table(
    group_id: str | None, level: str | None, ref_date: str | None, sort: dict | None
) -> html.Div | None:
    """The points of the segregation curve as a table."""
    if not _complete(group_id, level, ref_date):
        return None
    curve = _curve(group_id, level, ref_date)
    caption = t(
        "seg.curve_table_caption",
        curve.lang,
        group=curve.group_label,
        level=curve.level_label,
        date=formatting.format_date(ref_date),
    )
    return segregation_parts.curve_table(CURVE_TABLE, curve.points, caption, sort, curve.lang)


@callback(
    Output(METADATA, "children"),
    Input(INDICATOR, "value"),
    Input(GROUP, "value"),
    Input(END, "value"),
)
def update_metadata(
    indicator_id: str | None, group_id: str | None, end: str | None
) -> html.Section | None:
    """Formula, group, units per level on the end date, source, caveats."""
    if indicator_id is None:
        return None
    indicator, frame, level_labels, lang = _index_frame(indicator_id)
    group = catalogue.indicators(context.warehouse(), lang).get(group_id) if group_id else None
    at_end = frame[frame["ref_date"] == end].sort_values("rank")
    units = [
        (level_labels.get(r["level"], r["level"]), r["n_units"]) for r in at_end.to_dict("records")
    ]
    return segregation_parts.metadata_box(indicator, group, units, end, lang)


# --- downloads ---------------------------------------------------------------------------
# the index per level with its benchmark: chart (PNG, SVG, PDF) or table (CSV, XLSX)
components.download_callback(
    LEVELS_GRAPH,
    [State(INDICATOR, "value")],
    lambda wh, fmt, lang, indicator_id: downloads.segregation_index_download(
        wh, indicator_id, fmt, lang
    ),
)
GROUP_CHOICES = [State(GROUP, "value"), State(LEVEL, "value"), State(DATE, "value")]
# the location-quotient map (classes as on the page) or its table
components.download_callback(
    MAP_GRAPH,
    GROUP_CHOICES,
    lambda wh, fmt, lang, group_id, level, ref_date: downloads.map_download(
        wh, group_id, ref_date, level, fmt, lang
    ),
)
# the segregation curve or the table of its units
components.download_callback(
    CURVE_GRAPH,
    GROUP_CHOICES,
    lambda wh, fmt, lang, group_id, level, ref_date: downloads.segregation_curve_download(
        wh, group_id, level, ref_date, fmt, lang
    ),
)


components.url_sync_callback(URL, [INDICATOR, START, END, GROUP, LEVEL, DATE, SEG_BOUNDARIES])
