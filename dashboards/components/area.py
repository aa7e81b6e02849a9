"""Layout pieces of the area page (``/gebiet``) and of the "Mein Stadtteil" search on the
start page: the search box and its matches, key-figure cards with both changes and the
comparison with the parent area and the city, the sentences, the locator map, the similar
areas with their method (values from :mod:`dashboards.data.area`).
"""

from __future__ import annotations

from urllib.parse import urlencode

import dash
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from dashboards import context, formatting, labels
from dashboards.data import area as area_data
from dashboards.data import profile as profile_data
from dashboards.data.area import AreaFigure, Development
from dashboards.data.catalogue import Indicator
from dashboards.i18n import t

AREA_PATH = "/gebiet"


def area_href(area_id: str, ref_date: str | None = None) -> str:
    """``/gebiet?area=08`` (with ``&date=`` when given), under the app's prefix."""
    query = {"area": area_id, **({"date": ref_date} if ref_date else {})}
    return href(AREA_PATH, query)


def href(path: str, query: dict[str, str]) -> str:
    """``path?query`` under the app's prefix, keeping the page's data set and language
    (:func:`context.persistent_query`)."""
    kept = context.persistent_query().lstrip("?")
    return dash.get_relative_path(f"{path}?{'&'.join(p for p in (urlencode(query), kept) if p)}")


# --- search -----------------------------------------------------------------------------
def latest_choices() -> tuple[pd.DataFrame, str]:
    """The areas the search offers (those valid on the latest date) and the language."""
    wh, lang = context.warehouse(), context.lang()
    dates = area_data.search_dates(wh, lang)
    return profile_data.area_choices(wh, dates[-1] if dates else None, lang), lang


def search_example(choices: pd.DataFrame) -> str:
    """``"Mitte oder 01"``: the first area of the coarsest level, as a hint what to type."""
    if choices.empty:
        return ""
    first = choices.iloc[0]
    return f"{first['name']}, {first['area_id']}"


def search_box(
    input_id: str,
    results_id: str,
    example: str,
    lang: str,
    label_key: str = "area.search.label",
    typeahead: bool = True,
) -> html.Div:
    """A search field and a list of matching areas, each a link to its page (filled by
    :func:`register_search`). ``typeahead``: typing anywhere on the page goes into the
    field (assets/area_search.js; no autofocus, so the first Tab reaches the skip link)."""
    return html.Div(
        [
            html.Label(t(label_key, lang), htmlFor=input_id, className="area-search-label"),
            dcc.Input(
                id=input_id,
                type="search",
                autoComplete="off",
                debounce=False,
                placeholder=t("area.search.placeholder", lang, example=example),
                className="area-search-input" + (" area-search-typeahead" if typeahead else ""),
            ),
            html.P(t("area.search.hint", lang), id=f"{input_id}-hint", className="hint"),
            html.Ul(id=results_id, className="area-search-results", **{"aria-live": "polite"}),
            dcc.Location(id=_go(input_id), refresh="callback-nav"),
        ],
        className="area-search",
        role="search",
    )


def search_results(found: pd.DataFrame, typed: str | None, lang: str) -> list:
    """One link per match: ``Neukölln (08) · Bezirk``; a line when nothing matches."""
    if not (typed or "").strip():
        return []
    if found.empty:
        return [html.Li(t("area.search.none", lang), className="hint")]
    return [
        html.Li(
            dcc.Link(
                [html.Span(name, className="area-search-name"), f" ({area_id}) · {level}"],
                href=area_href(area_id),
                className="area-search-link",
            )
        )
        for area_id, name, level in zip(
            found["area_id"], found["name"], found["level_label"], strict=True
        )
    ]


def _go(input_id: str) -> str:
    return f"{input_id}-go"


def register_search(input_id: str, results_id: str) -> None:
    """The callbacks of a search box: the areas matching what was typed
    (:func:`latest_choices`); Enter opens the page of the best match."""

    @callback(Output(results_id, "children"), Input(input_id, "value"))
    def update_results(typed: str | None) -> list:
        frame, lang = latest_choices()
        return search_results(area_data.search(frame, typed), typed, lang)

    @callback(
        Output(_go(input_id), "href"),
        Input(input_id, "n_submit"),
        State(input_id, "value"),
        prevent_initial_call=True,
    )
    def open_best(_submitted: int | None, typed: str | None) -> str:
        found = area_data.search(latest_choices()[0], typed, limit=1)
        if found.empty:
            return dash.no_update
        return area_href(found["area_id"].iloc[0])


# --- key figures --------------------------------------------------------------------------
def _change_text(dev: Development, since: str, indicator: Indicator, lang: str) -> str:
    """``"+8,9 Prozentpunkte seit 30.06.2015"``, or why no change is given."""
    before = dev.start if since == "start" else dev.previous
    if before.ref_date is None or before.ref_date == dev.current.ref_date:
        return t("area.no_earlier", lang)
    date = formatting.format_date(before.ref_date)
    crossed = dev.break_since_start if since == "start" else dev.break_since_previous
    if crossed is not None:
        return t("area.since_break", lang, date=date)
    kind = indicator.change_kind
    value = dev.change(since, kind)
    if value is None:
        return t("area.since_none", lang, date=date)
    decimals = 1 if kind == "relative" else indicator.decimals
    unit = t("unit.points_short", lang) if kind == "points" else t(f"kpi.change_unit.{kind}", lang)
    amount = " ".join(p for p in (formatting.format_signed(value, decimals), unit) if p)
    text = t("area.since", lang, change=amount, date=date)
    return f"{text} ({t('flag.estimated', lang)})" if before.estimated else text


def _compared(dev: Development, indicator: Indicator, lang: str) -> html.Li:
    value = labels.value_text(dev.current.value, dev.current.flag, indicator, lang)
    return html.Li(
        [
            html.Span(t("area.compared", lang, name=dev.name, value=value)),
            html.Span(f" ({_change_text(dev, 'start', indicator, lang)})", className="muted"),
        ]
    )


def figure_card(figure: AreaFigure, lang: str) -> html.Div:
    """A key figure of the area: value and date, its changes since the first and the
    previous date, and the parent area's and the city's value with their change since the
    first date."""
    ind, dev = figure.indicator, figure.area
    others = [d for d in (figure.parent, figure.city) if d is not None]
    return html.Div(
        [
            html.H3(ind.title, className="kpi-title"),
            html.P(
                labels.value_text(dev.current.value, dev.current.flag, ind, lang),
                className="kpi-value",
            ),
            html.P(
                t("kpi.as_of", lang, date=formatting.format_date(dev.current.ref_date)),
                className="kpi-date",
            ),
            html.Ul(
                [
                    html.Li(_change_text(dev, "start", ind, lang)),
                    html.Li(_change_text(dev, "previous", ind, lang)),
                ],
                className="kpi-change area-changes",
            ),
            html.Ul([_compared(d, ind, lang) for d in others], className="area-compared"),
        ],
        className="kpi",
        id=f"area-kpi-{ind.indicator_id}",
    )


def sentences(figures: list[AreaFigure], lang: str) -> html.Div:
    """The generated sentences, one paragraph each."""
    return html.Div(
        [html.P(area_data.sentence(f, lang), className="area-sentence") for f in figures],
        className="area-sentences",
    )


# --- map, similar areas, links ----------------------------------------------------------
def locator(uri: str | None, alt: str, note: str | None, lang: str) -> html.Section:
    """The locator map (an SVG image) or why there is none."""
    body = (
        [html.Img(src=uri, alt=alt, className="area-locator")]
        if uri
        else [html.P(t("area.no_map", lang), className="hint")]
    )
    if note:
        body.append(html.P(note, className="hint"))
    return html.Section([html.H2(t("area.map_heading", lang)), *body], className="panel area-map")


def similar(
    found: pd.DataFrame,
    features: list[Indicator],
    intro: str,
    method: str,
    empty: str,
    ref_date: str,
    lang: str,
) -> html.Section:
    """The similar areas (links with their feature values) and the "Methode" text."""
    if found.empty:
        body = [html.P(empty, className="hint")]
    else:
        items = []
        for row in found.to_dict("records"):
            values = " · ".join(
                f"{f.title}: {labels.value_text(row.get(f.indicator_id), None, f, lang)}"
                for f in features
            )
            distance = formatting.format_number(row["distance"], 2)
            items.append(
                html.Li(
                    [
                        dcc.Link(row["name"], href=area_href(row["area_id"], ref_date)),
                        html.Span(
                            f" ({t('area.similar_distance', lang, distance=distance)})",
                            className="muted",
                        ),
                        html.Br(),
                        html.Span(values, className="area-similar-values"),
                    ]
                )
            )
        body = [html.P(intro), html.Ol(items, className="area-similar")]
    return html.Section(
        [
            html.H2(t("area.similar_heading", lang)),
            *body,
            html.Details(
                [html.Summary(t("area.method_heading", lang)), html.P(method)],
                className="definition",
            ),
        ],
        className="panel",
    )


def links(
    area_id: str, level: str, indicator: str | None, ref_date: str | None, lang: str
) -> html.P:
    """Links to the full profile and to the time series of ``indicator`` for the area."""
    trends = {**({"indicator": indicator} if indicator else {}), "level": level, "areas": area_id}
    profile = {"area": area_id, **({"date": ref_date} if ref_date else {})}
    return html.P(
        [
            dcc.Link(
                t("area.links.profile", lang),
                href=href("/profil", profile),
            ),
            " · ",
            dcc.Link(
                t("area.links.trends", lang),
                href=href("/zeitreihen", trends),
            ),
        ],
        className="area-links",
    )
