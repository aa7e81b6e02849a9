"""Übersicht (``/``): the "Mein Stadtteil" search (type a name or code, choose a match: the
area page ``/gebiet``), key figures of the whole city and a table of the areas of one level.

The dates offered are those of the key-figure indicators; each figure shows its latest
value up to the chosen date (indicators from statistics-office tables have other dates).
URL state: ``/?date=2024-12-31&level=borough``.
"""

from __future__ import annotations

from dash import Input, Output, callback, html

from dashboards import context, formatting, ids
from dashboards.components import area as area_parts
from dashboards.components import common as components
from dashboards.components import overview as overview_parts
from dashboards.components import tables
from dashboards.data import catalogue
from dashboards.data import overview as overview_data
from dashboards.i18n import t
from dashboards.pages import register_page

register_page(__name__, "/", 0, "overview")


def layout(date: str | None = None, level: str | None = None, **_other: str) -> html.Div:
    """The page for the reference date and table level given in the URL (or the defaults)."""
    wh, lang = context.warehouse(), context.lang()
    dates = overview_data.overview_dates(wh, lang)
    levels = [lvl for lvl in catalogue.levels(wh, lang).values() if lvl.rank > 0]
    date, date_notice = components.choose(date, dates, dates[-1] if dates else None, "date", lang)
    level, level_notice = components.choose_level(
        level, levels, levels[0] if levels else None, lang
    )
    date_control = components.date_control(ids.OVERVIEW_DATE, dates, date, lang)
    level_control = components.level_control(ids.OVERVIEW_LEVEL, levels, level, lang)
    heading = t("overview.heading", lang, city=catalogue.city(wh).name)
    return html.Div(
        [
            components.page_header(heading, t("overview.intro", lang)),
            area_parts.search_box(
                ids.OVERVIEW_SEARCH,
                ids.OVERVIEW_SEARCH_RESULTS,
                area_parts.search_example(area_parts.latest_choices()[0]),
                lang,
            ),
            components.notices([date_notice, level_notice]),
            html.Div(date_control, className="controls"),
            html.Section(id=ids.OVERVIEW_CARDS, className="kpi-grid", **{"aria-live": "polite"}),
            tables.table_section(
                t("overview.table_heading", lang),
                ids.OVERVIEW_TABLE,
                html.Div(level_control, className="controls"),
            ),
            *components.url_sync(ids.OVERVIEW_URL, ["date", "level"]),
        ]
    )


@callback(Output(ids.OVERVIEW_CARDS, "children"), Input(ids.OVERVIEW_DATE, "value"))
def update_cards(ref_date: str) -> list:
    wh, lang = context.warehouse(), context.lang()
    level_labels = {k: lvl.label for k, lvl in catalogue.levels(wh, lang).items()}
    figures = overview_data.key_figures(wh, ref_date, lang)
    if not figures:
        return [html.P(t("overview.no_key_figures", lang), className="hint kpi-wide")]
    cards = [
        overview_parts.card(figure, level_labels.get(figure.level), lang) for figure in figures
    ]
    if any(figure.ref_date != ref_date for figure in figures):
        cards.append(html.P(t("overview.as_of_note", lang), className="hint kpi-wide"))
    return cards


@callback(
    Output(ids.OVERVIEW_TABLE, "children"),
    Input(ids.OVERVIEW_DATE, "value"),
    Input(ids.OVERVIEW_LEVEL, "value"),
    Input(ids.sort_state(ids.OVERVIEW_TABLE), "data"),
)
def update_table(ref_date: str, level: str, sort: dict | None) -> html.Div:
    wh, lang = context.warehouse(), context.lang()
    indicators = overview_data.table_indicators(wh, lang)
    values, dates = overview_data.table_values(wh, indicators, ref_date, level)
    city_level = catalogue.city(wh).level
    city_values, _ = overview_data.table_values(wh, indicators, ref_date, city_level)
    other_dates = {ind: date for ind, date in dates.items() if date != ref_date}
    caption = t(
        "overview.table_caption",
        lang,
        level=catalogue.levels(wh, lang)[level].label,
        date=formatting.format_date(ref_date),
    )
    return overview_parts.area_table(
        ids.OVERVIEW_TABLE,
        values,
        city_values,
        indicators,
        caption,
        sort,
        lang,
        other_dates,
        href=lambda area_id: area_parts.area_href(area_id, ref_date),
    )


area_parts.register_search(ids.OVERVIEW_SEARCH, ids.OVERVIEW_SEARCH_RESULTS)
components.url_sync_callback(ids.OVERVIEW_URL, [ids.OVERVIEW_DATE, ids.OVERVIEW_LEVEL])
