"""Gebiet (``/gebiet``): one area on one screen – how it has changed since the first
monitoring date and since the previous date, against its parent area and the city; a few
generated sentences; a locator map; similar areas; links to the full profile and the
time series.

URL state: ``/gebiet?area=08&date=2024-12-31`` (``area`` as on the profile page; default
date: the latest of the key figures). Reached from the "Mein Stadtteil" search of the
start page and by clicking an area on a map. Data: :mod:`dashboards.data.area`; layout
pieces: :mod:`dashboards.components.area`; locator map: :mod:`dashboards.figures.area`.
"""

from __future__ import annotations

import dash
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from dashboards import context, formatting, ids
from dashboards.components import area as area_parts
from dashboards.components import boundaries as boundary_parts
from dashboards.components import common as components
from dashboards.data import area as area_data
from dashboards.data import boundaries_choice, catalogue, queries
from dashboards.data import overview as overview_data
from dashboards.data import profile as profile_data
from dashboards.data.profile import ProfileArea
from dashboards.figures import area as area_figures
from dashboards.i18n import t

# Not in the menu: reached by the search and by clicks on maps (dash.register_page directly,
# without the nav entry of pages.register_page).
dash.register_page(
    __name__, path=area_parts.AREA_PATH, name=t("nav.area"), title=lambda **_: _title()
)


def _title() -> str:
    return t("page.area", context.lang())


AREA_BOUNDARIES = "area-boundaries"


def layout(
    area: str | None = None,
    date: str | None = None,
    boundaries: str | None = None,
    **_other: str,
) -> html.Div:
    """The page of the area and date in the URL (default: the latest date); ``boundaries``:
    as published or on today's boundaries (#18)."""
    wh, lang = context.warehouse(), context.lang()
    dates = area_data.search_dates(wh, lang)
    date, date_notice = components.choose(date, dates, dates[-1] if dates else None, "date", lang)
    choices = profile_data.area_choices(wh, date, lang)
    allowed = choices["area_id"].tolist()
    default = allowed[0] if allowed else None
    area, area_notice = components.choose(area, allowed, default, "area", lang)
    latest, _ = area_parts.latest_choices()
    offered = boundaries_choice.offered(wh)
    published = boundaries_choice.PUBLISHED
    boundaries, boundaries_notice = components.choose(
        boundaries, offered, published, "boundaries", lang
    )
    return html.Div(
        [
            components.notices([date_notice, area_notice, boundaries_notice]),
            html.Div(id=ids.AREA_CONTENT, children=content(area, date, boundaries)),
            html.Div(
                [
                    components.date_control(ids.AREA_DATE, dates, date, lang),
                    boundary_parts.control(AREA_BOUNDARIES, offered, boundaries, lang),
                    area_parts.search_box(
                        ids.AREA_SEARCH,
                        ids.AREA_SEARCH_RESULTS,
                        area_parts.search_example(latest),
                        lang,
                        label_key="area.search.other",
                        typeahead=False,
                    ),
                ],
                className="controls",
            ),
            dcc.Input(id=ids.AREA_ID, type="hidden", value=area),  # for the URL
            *components.url_sync(ids.AREA_URL, ["area", "date", "boundaries"]),
        ]
    )


def content(area_id: str | None, ref_date: str | None, boundaries: str | None = None) -> list:
    """Heading, sentences, key figures, locator map, similar areas and links."""
    wh, lang = context.warehouse(), context.lang()
    choices = profile_data.area_choices(wh, ref_date, lang)
    if area_id is None or ref_date is None or choices.empty:
        return [components.page_header(t("nav.area", lang), t("area.no_area", lang))]
    if area_id not in set(choices["area_id"]):  # another division on this date
        date = formatting.format_date(ref_date)
        text = t("area.not_valid", lang, code=area_id, date=date)
        return [components.page_header(t("nav.area", lang), text)]
    area = profile_data.resolve_area(wh, choices, area_id)
    city = catalogue.city(wh)
    indicators = overview_data.table_indicators(wh, lang)
    figures = area_data.area_figures(wh, area, indicators, ref_date, boundaries)
    told = area_data.sentence_figures(figures, area_data.config().sentences) or figures[:3]
    summary = t(
        "area.summary",
        lang,
        level=area.level_label,
        code=area.area_id,
        parent=(area.parent or city).name,
        date=formatting.format_date(ref_date),
    )
    cards = [area_parts.figure_card(f, lang) for f in figures] or [
        html.P(t("area.no_figures", lang), className="hint kpi-wide")
    ]
    trend = told[0].indicator.indicator_id if told else None
    return [
        html.Div(
            [html.H1(area.name), html.P(summary, className="intro"), html.P(t("area.intro", lang))],
            className="page-header",
        ),
        html.Div(
            [
                html.Section(
                    [
                        html.H2(t("area.glance_heading", lang)),
                        area_parts.sentences(told, lang),
                        boundary_parts.note(_boundaries_note(wh, area, city, boundaries, lang)),
                        area_parts.links(area.area_id, area.level, trend, ref_date, lang),
                    ],
                    className="panel area-glance",
                ),
                _locator(wh, area, choices, city.name, ref_date, lang),
            ],
            className="area-top",
        ),
        html.H2(t("area.figures_heading", lang)),
        html.Section(cards, className="kpi-grid area-figures"),
        _similar(wh, area, ref_date, lang),
    ]


def _boundaries_note(wh, area: ProfileArea, city, boundaries: str | None, lang: str):
    """On today's boundaries: how earlier values were recomputed, or that this area (of an
    earlier division) has none."""
    if boundaries != boundaries_choice.TODAY:
        return None
    members = (area.area_id, *((area.parent.area_id,) if area.parent else ()), city.area_id)
    if not boundaries_choice.applies(wh, boundaries, members):
        return t("boundaries.not_today", lang)
    vintage = boundaries_choice.boundaries.newest_vintage(wh)
    return t("trends.boundaries_note", lang, vintage=vintage)


def _locator(
    wh, area: ProfileArea, choices: pd.DataFrame, city: str, ref_date: str, lang: str
) -> html.Section:
    """The area among its level's areas; where that level has no boundaries on the date,
    the nearest ancestor that has them, within its level (with a note)."""
    alt = t("area.map_alt", lang, area=area.name, city=city)
    rows = choices.set_index("area_id")
    city_id = catalogue.city(wh).area_id
    shown = area.area_id
    while shown in rows.index:  # the area, its parent, ... (a few levels)
        parent = rows.at[shown, "parent_id"]
        siblings = frozenset(rows.index[rows["parent_id"] == parent]) - {shown}
        shapes = queries.geometries(wh, rows.at[shown, "level"], ref_date)
        svg = area_figures.locator_svg(
            shapes, shown, siblings if parent != city_id else frozenset()
        )
        if svg is not None:
            note = None
            if shown != area.area_id:
                note = t(
                    "area.map_parent", lang, level=area.level_label, parent=rows.at[shown, "name"]
                )
            return area_parts.locator(area_figures.data_uri(svg), alt, note, lang)
        shown = parent
    return area_parts.locator(None, alt, None, lang)


def _similar(wh, area: ProfileArea, ref_date: str, lang: str) -> html.Section:
    features = area_data.similarity_features(wh, lang)
    found = area_data.similar_areas(wh, area, ref_date, lang)
    cfg = area_data.config()
    names = ", ".join(f.title for f in features)
    date = formatting.format_date(ref_date)
    return area_parts.similar(
        found,
        features,
        t("area.similar_intro", lang, level=area.level_label, area=area.name, date=date),
        t("area.method", lang, features=names, k=cfg.k),
        t("area.similar_none", lang, area=area.name),
        ref_date,
        lang,
    )


@callback(
    Output(ids.AREA_CONTENT, "children"),
    Input(ids.AREA_DATE, "value"),
    Input(AREA_BOUNDARIES, "value"),
    State(ids.AREA_ID, "value"),
    prevent_initial_call=True,
)
def update_content(ref_date: str | None, boundaries: str | None, area_id: str | None) -> list:
    return content(area_id, ref_date, boundaries)


area_parts.register_search(ids.AREA_SEARCH, ids.AREA_SEARCH_RESULTS)
components.url_sync_callback(ids.AREA_URL, [ids.AREA_ID, ids.AREA_DATE, AREA_BOUNDARIES])
