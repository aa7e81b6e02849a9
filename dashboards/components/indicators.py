"""Layout pieces of the Indikatoren page (``/indikatoren``): the card of one indicator
(definition, coverage, caveats, related indicators with links to their views) and the
catalogue table (facts from :mod:`dashboards.data.indicators`).
"""

from __future__ import annotations

from urllib.parse import urlencode

import dash
from dash import dcc, html

from dashboards import context, formatting
from dashboards.components import tables
from dashboards.components.tables import Column
from dashboards.data.catalogue import Indicator
from dashboards.data.indicators import SEGREGATION_PATH, Facts, caveats, topic_label
from dashboards.i18n import t


# --- layout pieces ------------------------------------------------------------------------
def href(path: str, indicator_id: str) -> str:
    """``path?indicator=…`` keeping the language and instance of the current view."""
    params = {"indicator": indicator_id}
    params.update({k: v for k in context.PERSISTENT if (v := context.setting(k)) is not None})
    return dash.get_relative_path(f"{path}?{urlencode(params)}")


def catalogue_href(indicator_id: str) -> str:
    """The entry of an indicator. Used with a plain link (a full page load): the page keeps
    its state in the query string with ``history.replaceState``, which Dash's router does
    not see, so a client-side link to the same path with another query may not re-render."""
    return href("/indikatoren", indicator_id)


def _has_page(path: str) -> bool:
    return any(page.get("path") == path for page in dash.page_registry.values())


def view_links(indicator: Indicator, lang: str) -> list:
    """Links to the map, the time series and the comparison of an area indicator; to the
    time series and (if the app has it) the segregation page of a city-wide index."""
    targets = [("trends", "/zeitreihen")]
    if not indicator.is_segregation:
        targets = [("map", "/karte"), *targets, ("compare", "/vergleich")]
    elif _has_page(SEGREGATION_PATH):
        targets.append(("segregation", SEGREGATION_PATH))
    return [
        dcc.Link(
            t(f"catalogue.link.{key}", lang),
            href=href(path, indicator.indicator_id),
            className="view-link",
        )
        for key, path in targets
    ]


def _fact(label: str, value) -> list:
    return [html.Dt(label), html.Dd(value)]


def _coverage_text(fact: Facts, lang: str) -> str:
    if fact.first_date is None:
        return t("catalogue.no_values", lang)
    return t(
        "catalogue.dates_value",
        lang,
        first=formatting.format_date(fact.first_date),
        last=formatting.format_date(fact.last_date),
        n=fact.n_dates,
    )


def _levels_text(fact: Facts, lang: str) -> str:
    return ", ".join(
        t("catalogue.level_units", lang, level=label, n=formatting.format_count(n))
        if n is not None
        else label
        for label, n in fact.levels
    )


def _related(items: tuple[Indicator, ...], lang: str) -> html.Ul | str:
    if not items:
        return t("catalogue.related_none", lang)
    return html.Ul(
        [
            html.Li(
                [
                    html.A(i.title, href=catalogue_href(i.indicator_id)),
                    html.Span(view_links(i, lang), className="view-links"),
                ]
            )
            for i in items
        ],
        className="related-list",
    )


def card(fact: Facts, meta: dict[str, str], lang: str) -> html.Article:
    """The full entry of one indicator."""
    indicator = fact.indicator
    facts_list = [
        *_fact(t("catalogue.definition", lang), indicator.definition),
        *_fact(t("catalogue.numerator", lang), indicator.numerator_label or formatting.MISSING),
        *_fact(t("catalogue.denominator", lang), indicator.denominator_label or formatting.MISSING),
        *_fact(t("catalogue.unit", lang), indicator.unit_label),
        *_fact(t("catalogue.source", lang), indicator.source),
        *_fact(t("catalogue.dates", lang), _coverage_text(fact, lang)),
        *_fact(t("catalogue.levels", lang), _levels_text(fact, lang) or formatting.MISSING),
        *_fact(t("catalogue.col.topic", lang), topic_label(indicator.topic, lang)),
    ]
    notes = caveats(fact, meta, lang)
    same_topic = tuple(i for i in fact.same_topic if i not in fact.same_group)
    related = [
        html.H3(f"{t('catalogue.related', lang)} ({t('catalogue.same_group', lang)})"),
        _related(fact.same_group, lang),
        html.H3(f"{t('catalogue.related', lang)} ({t('catalogue.same_topic_other', lang)})"),
        _related(same_topic, lang),
    ]
    return html.Article(
        [
            html.H2(indicator.title),
            html.P(
                [html.Span(t("catalogue.links", lang) + ": "), *view_links(indicator, lang)],
                className="card-links view-links",
            ),
            html.Dl(facts_list, className="facts"),
            html.H3(t("catalogue.caveats", lang)),
            html.Ul([html.Li(n) for n in notes]) if notes else html.P(formatting.MISSING),
            *related,
        ],
        className="panel indicator-card",
        id=f"indicator-{indicator.indicator_id}",
    )


def catalogue_table(
    table_id: str, all_facts: dict[str, Facts], caption: str, state: dict | None, lang: str
) -> html.Div:
    """All indicators: title (link to its entry), topic, unit, source, dates."""
    columns = [
        Column("title", t("profile.col.indicator", lang)),
        Column("topic", t("catalogue.col.topic", lang)),
        Column("unit", t("catalogue.unit", lang)),
        Column("first", t("catalogue.col.first", lang), True),
        Column("last", t("catalogue.col.last", lang), True),
        Column("dates", t("catalogue.col.dates", lang), True),
        Column("source", t("catalogue.source", lang)),
    ]
    rows = []
    for fact in all_facts.values():
        ind = fact.indicator
        topic = topic_label(ind.topic, lang)
        rows.append(
            {
                "title": (tables.Link(ind.title, catalogue_href(ind.indicator_id)), ind.title),
                "topic": (topic, topic),
                "unit": (ind.unit_label, ind.unit_label),
                "first": (formatting.format_date(fact.first_date), fact.first_date),
                "last": (formatting.format_date(fact.last_date), fact.last_date),
                "dates": (formatting.format_count(fact.n_dates), fact.n_dates),
                "source": (ind.source, ind.source),
            }
        )
    return tables.data_table(table_id, caption, columns, rows, state, lang)
