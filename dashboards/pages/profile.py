"""Stadtteilprofil (``/profil``): every area indicator of one area against its parent area
and the city, its rank among its peers, small multiples of its development, and tables.

URL state: ``/profil?area=21&date=2024-12-31`` (``&boundaries=today``: the development on
today's boundaries, #18, where the area is one of today's units). The date selector
offers the dates of the area indicators (default: the latest); the area selector every
area of every level below the city valid on that date (searchable by name and code;
default: the first area of the coarsest level). Data and tables:
:mod:`dashboards.data.profile`; figures: :mod:`dashboards.figures.profile`. Each chart
has export buttons: the print-ready chart (PNG, SVG, PDF) and its table (CSV, XLSX with
metadata), see :mod:`dashboards.export.profile`.
"""

from __future__ import annotations

from dash import Input, Output, State, callback, html

from dashboards import context, formatting, ids
from dashboards.components import boundaries as boundary_parts
from dashboards.components import common as components
from dashboards.components import profile as profile_parts
from dashboards.components import tables
from dashboards.data import boundaries_choice
from dashboards.data import profile as profile_data
from dashboards.export import downloads
from dashboards.export import profile as profile_export
from dashboards.figures import common as figures
from dashboards.i18n import t
from dashboards.pages import register_page

register_page(__name__, "/profil", 10, "profile")

PROFILE_BOUNDARIES, PROFILE_BOUNDARIES_NOTE = "profile-boundaries", "profile-boundaries-note"


def layout(
    area: str | None = None,
    date: str | None = None,
    boundaries: str | None = None,
    **_other: str,
) -> html.Div:
    """The profile of the area and date in the URL (or the defaults)."""
    wh, lang = context.warehouse(), context.lang()
    dates = profile_data.profile_dates(wh, profile_data.profile_indicators(wh, lang))
    date, n1 = components.choose(date, dates, dates[-1] if dates else None, "date", lang)
    options = profile_data.area_options(profile_data.area_choices(wh, date, lang))
    allowed = [o["value"] for o in options]
    area, n2 = components.choose(area, allowed, allowed[0] if allowed else None, "area", lang)
    offered = boundaries_choice.offered(wh)
    published = boundaries_choice.PUBLISHED
    boundaries, n3 = components.choose(boundaries, offered, published, "boundaries", lang)
    controls = [
        components.control(t("control.area", lang), ids.PROFILE_AREA, options, area, lang),
        components.date_control(ids.PROFILE_DATE, dates, date, lang),
        boundary_parts.control(PROFILE_BOUNDARIES, offered, boundaries, lang),
    ]
    return html.Div(
        [
            components.page_header(t("profile.heading", lang), t("profile.intro", lang)),
            components.notices([n1, n2, n3]),
            html.Div(controls, className="controls"),
            html.Div(id=ids.PROFILE_NOTE, **{"aria-live": "polite"}),
            html.P(id=ids.PROFILE_SUMMARY, className="profile-summary"),
            html.Section(
                [
                    html.H2(t("profile.dots_heading", lang)),
                    components.export_menu(ids.PROFILE_DOTS, lang),
                    components.graph(ids.PROFILE_DOTS),
                ],
                className="panel",
            ),
            _table_section("profile.table_heading", ids.PROFILE_TABLE, lang),
            html.Section(
                [
                    html.H2(t("profile.multiples_heading", lang)),
                    components.export_menu(ids.PROFILE_MULTIPLES, lang),
                    components.graph(ids.PROFILE_MULTIPLES),
                    html.Div(id=PROFILE_BOUNDARIES_NOTE),
                ],
                className="panel",
            ),
            _table_section("profile.series_heading", ids.PROFILE_SERIES_TABLE, lang),
            *components.url_sync(ids.PROFILE_URL, ["area", "date", "boundaries"]),
        ]
    )


def _table_section(heading: str, table_id: str, lang: str) -> html.Section:
    return tables.table_section(t(heading, lang), table_id)


def _profile(
    area_id: str | None, ref_date: str | None, boundaries: str | None = None
) -> profile_export.ProfileSelection | None:
    """The profile of the chosen area and date (None if the area is not valid then)."""
    wh, lang = context.warehouse(), context.lang()
    return profile_export.profile_selection(wh, area_id, ref_date, lang, boundaries)


@callback(
    Output(ids.PROFILE_AREA, "options"),
    Output(ids.PROFILE_AREA, "value"),
    Output(ids.PROFILE_NOTE, "children"),
    Input(ids.PROFILE_DATE, "value"),
    State(ids.PROFILE_AREA, "value"),
    prevent_initial_call=True,
)
def update_areas(ref_date: str, current: str | None) -> tuple:
    """The areas valid on the new date; keep the area if it is one of them."""
    wh, lang = context.warehouse(), context.lang()
    choices = profile_data.area_choices(wh, ref_date, lang)
    options = profile_data.area_options(choices)
    allowed = [o["value"] for o in options]
    if current in allowed or not allowed:
        note = None if allowed else html.P(t("profile.no_area", lang), className="notice")
        return options, current if allowed else None, note
    name = choices.iloc[0]["name"]
    text = t(
        "profile.area_replaced",
        lang,
        area=current,
        date=formatting.format_date(ref_date),
        name=name,
    )
    return options, allowed[0], html.P(text, className="notice", role="status")


@callback(
    Output(ids.PROFILE_SUMMARY, "children"),
    Output(ids.PROFILE_DOTS, "figure"),
    Output(ids.PROFILE_MULTIPLES, "figure"),
    Output(PROFILE_BOUNDARIES_NOTE, "children"),
    Input(ids.PROFILE_AREA, "value"),
    Input(ids.PROFILE_DATE, "value"),
    Input(PROFILE_BOUNDARIES, "value"),
)
def update_charts(area_id: str | None, ref_date: str | None, boundaries: str | None = None):
    lang, profile = context.lang(), _profile(area_id, ref_date, boundaries)
    if profile is None:
        empty = figures.message(t("chart.no_data", lang))
        return None, empty, empty, None
    area = profile.area
    parent = area.parent.name if area.parent else profile.city.name
    summary = t(
        "profile.summary",
        lang,
        name=area.name,
        code=area.area_id,
        level=area.level_label,
        parent=parent,
    )
    if (profile.frame["ref_date"] != ref_date).any():
        summary = [summary, html.Br(), html.Span(t("profile.other_dates", lang), className="hint")]
    note = _boundaries_note(profile, boundaries, lang)
    return summary, profile.dots_figure(), profile.multiples_figure(), note


def _boundaries_note(profile, boundaries: str | None, lang: str):
    """On today's boundaries: how earlier values were recomputed and which are estimated,
    or that the area (of an earlier division) has none."""
    if boundaries != boundaries_choice.TODAY:
        return None
    wh, members = profile.warehouse, tuple(dict.fromkeys(profile.series["area_id"]))
    if not boundaries_choice.applies(wh, boundaries, members):
        return boundary_parts.note(t("boundaries.not_today", lang))
    texts = boundaries_choice.boundaries.today_notes(wh, profile.series, lang)
    return [boundary_parts.note(text) for text in texts]


@callback(
    Output(ids.PROFILE_TABLE, "children"),
    Input(ids.PROFILE_AREA, "value"),
    Input(ids.PROFILE_DATE, "value"),
    Input(ids.sort_state(ids.PROFILE_TABLE), "data"),
)
def update_table(area_id: str | None, ref_date: str | None, sort: dict | None) -> html.Div:
    lang, profile = context.lang(), _profile(area_id, ref_date)
    if profile is None:
        return html.P(t("table.empty", lang), className="table-empty")
    return profile_parts.profile_table(
        ids.PROFILE_TABLE,
        profile.frame,
        profile.by_id,
        profile.area,
        profile.city.name,
        profile.table_caption(),
        sort,
        lang,
    )


@callback(
    Output(ids.PROFILE_SERIES_TABLE, "children"),
    Input(ids.PROFILE_AREA, "value"),
    Input(ids.PROFILE_DATE, "value"),
    Input(ids.sort_state(ids.PROFILE_SERIES_TABLE), "data"),
    Input(PROFILE_BOUNDARIES, "value"),
)
def update_series_table(
    area_id: str | None, ref_date: str | None, sort: dict | None, boundaries: str | None = None
) -> html.Div:
    lang, profile = context.lang(), _profile(area_id, ref_date, boundaries)
    if profile is None:
        return html.P(t("table.empty", lang), className="table-empty")
    return profile_parts.series_table(
        ids.PROFILE_SERIES_TABLE,
        profile.series,
        profile.by_id,
        profile.area,
        profile.city.name,
        profile.series_caption(),
        sort,
        lang,
    )


# --- downloads ---------------------------------------------------------------------------
CHOICES = (State(ids.PROFILE_AREA, "value"), State(ids.PROFILE_DATE, "value"))


# the shares (dot plot) or the profile table of every indicator; the small multiples of the
# development or their table
components.download_callback(
    ids.PROFILE_DOTS,
    CHOICES,
    lambda wh, fmt, lang, area_id, ref_date: downloads.profile_dots_download(
        wh, area_id, ref_date, fmt, lang
    ),
)
components.download_callback(
    ids.PROFILE_MULTIPLES,
    (*CHOICES, State(PROFILE_BOUNDARIES, "value")),
    lambda wh, fmt, lang, area_id, ref_date, boundaries: downloads.profile_multiples_download(
        wh, area_id, ref_date, fmt, lang, boundaries
    ),
    required=2,
)


components.url_sync_callback(
    ids.PROFILE_URL, [ids.PROFILE_AREA, ids.PROFILE_DATE, PROFILE_BOUNDARIES]
)
