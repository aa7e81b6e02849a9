"""Indikatoren (``/indikatoren``): the indicator catalogue.

The entry of the chosen indicator (definition, numerator, denominator, unit, source,
data coverage, caveats, related indicators with links to their map / time series /
comparison), and a sortable table of all indicators linking to their entries.
URL state: ``/indikatoren?indicator=foreigner_share`` (default: the first indicator).
Contents: :mod:`dashboards.data.indicators`.
"""

from __future__ import annotations

from dash import Input, Output, callback, html

from dashboards import context, ids
from dashboards.components import common as components
from dashboards.components import indicators as indicators_parts
from dashboards.components import tables
from dashboards.data import catalogue
from dashboards.data import indicators as indicators_data
from dashboards.i18n import t
from dashboards.pages import register_page

register_page(__name__, "/indikatoren", 12, "catalogue")


def layout(indicator: str | None = None, **_other: str) -> html.Div:
    """The catalogue with the entry of the indicator in the URL (or the first one)."""
    wh, lang = context.warehouse(), context.lang()
    indicators = list(catalogue.indicators(wh, lang).values())
    offered = [i.indicator_id for i in indicators]
    default = offered[0] if offered else None
    indicator, notice = components.choose(indicator, offered, default, "indicator", lang)
    control = components.indicator_control(ids.CATALOGUE_INDICATOR, indicators, indicator, lang)
    return html.Div(
        [
            components.page_header(t("catalogue.heading", lang), t("catalogue.intro", lang)),
            components.notices([notice]),
            html.Div(control, className="controls"),
            html.Div(id=ids.CATALOGUE_DETAIL, **{"aria-live": "polite"}),
            tables.table_section(t("catalogue.table_heading", lang), ids.CATALOGUE_TABLE),
            *components.url_sync(ids.CATALOGUE_URL, ["indicator"]),
        ]
    )


@callback(Output(ids.CATALOGUE_DETAIL, "children"), Input(ids.CATALOGUE_INDICATOR, "value"))
def update_detail(indicator_id: str | None) -> html.Article | None:
    wh, lang = context.warehouse(), context.lang()
    facts = indicators_data.facts(wh, lang)
    if indicator_id not in facts:
        return None
    return indicators_parts.card(facts[indicator_id], catalogue.meta(wh), lang)


@callback(
    Output(ids.CATALOGUE_TABLE, "children"),
    Input(ids.sort_state(ids.CATALOGUE_TABLE), "data"),
)
def update_table(sort: dict | None) -> html.Div:
    wh, lang = context.warehouse(), context.lang()
    facts = indicators_data.facts(wh, lang)
    caption = t("catalogue.table_caption", lang, n=len(facts))
    return indicators_parts.catalogue_table(ids.CATALOGUE_TABLE, facts, caption, sort, lang)


components.url_sync_callback(ids.CATALOGUE_URL, [ids.CATALOGUE_INDICATOR])
