"""Reusable layout pieces: shell (navigation, footer), controls, graphs, notices.

Also the small pure helpers pages use to turn URL query parameters into a valid view
(:func:`choose`, :func:`choose_many`) and to keep the address bar in sync with the
controls (:func:`url_sync`), so every view can be bookmarked and shared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import dash
import pandas as pd
from dash import dcc, html

from dashboards import context, flags, formatting, ids, labels
from dashboards.data import catalogue
from dashboards.data.catalogue import Indicator, Level
from dashboards.data.queries import Warehouse
from dashboards.export.formats import FORMATS, TABLE_FORMATS, ExportError
from dashboards.figures import common as figures
from dashboards.i18n import DEFAULT_LANG, strings, t


# --- shell -------------------------------------------------------------------------------
def navbar(
    place: str | None, pages: Iterable[dict], lang: str, instances: dict[str, str] | None = None
) -> html.Header:
    """Top bar: product name, the place (``meta.title``), one link per page, the language
    switch and, when the app serves several instances, a link per instance (their
    ``href`` keeps the current page and view; see assets/imon.js ``settingLinks``)."""
    links = [
        dcc.Link(
            page["name"],
            href=page["relative_path"],
            className="nav-link",
            id={"type": ids.NAV, "path": page["relative_path"]},
        )
        for page in pages
    ]
    other = "en" if lang == "de" else "de"
    settings = [
        html.A(
            t("nav.language_switch", lang),
            href=f"?lang={other}",
            lang=other,
            className="setting-link",
            title=t("nav.language_switch_label", lang),
            id={"type": ids.SETTING, "key": "lang", "value": other},
        )
    ]
    if instances:
        current = context.instance()
        settings = [
            html.Span(t("nav.instance", lang), className="setting-label"),
            *[
                html.A(
                    title,
                    href=f"?instance={name}",
                    className="setting-link",
                    **({"aria-current": "true"} if name == current else {}),
                    id={"type": ids.SETTING, "key": "instance", "value": name},
                )
                for name, title in instances.items()
            ],
            *settings,
        ]
    return html.Header(
        className="topbar",
        children=[
            html.Div(
                className="topbar-inner",
                children=[
                    html.A(
                        [t("app.title", lang)]
                        + ([html.Span(place, className="brand-place")] if place else []),
                        href=dash.get_relative_path("/"),
                        className="brand",
                    ),
                    html.Button(  # phones: the menu folds behind it (assets/phone.js)
                        t("nav.menu", lang),
                        className="nav-toggle",
                        type="button",
                        **{"aria-expanded": "false", "aria-controls": ids.NAV_MENU},
                    ),
                    html.Nav(
                        links,
                        id=ids.NAV_MENU,
                        className="nav",
                        **{"aria-label": t("nav.label", lang)},
                    ),
                    html.Div(
                        settings,
                        className="settings",
                        role="group",
                        **{"aria-label": t("nav.settings", lang)},
                    ),
                ],
            ),
        ],
    )


def skip_link(lang: str) -> html.A:
    """The first focusable element: jumps past the navigation to ``<main id="main">``
    (assets/keyboard.js moves the focus without changing the address)."""
    return html.A(t("nav.skip", lang), href=f"#{ids.MAIN}", className="skip-link")


def share(meta: dict[str, str], lang: str) -> html.Details:
    """Teilen und zitieren (#19): copy the address of the current view (pages keep their
    choices in the URL) and a citation suggestion naming the source, the publication date,
    the page and its address, and on pages with an embeddable chart (dashboards/embed.py)
    the ``<iframe>`` to embed it; assets/share.js fills these in when the box is opened and
    copies on the button (the page changes without drawing the footer again)."""
    product = " ".join(x for x in (t("footer.product", lang), meta.get("title")) if x)
    after = [f"{t('share.source', lang)}: {meta['attribution']}"] if meta.get("attribution") else []
    if meta.get("built_at"):
        after.append(t("footer.built", lang, date=formatting.format_date(meta["built_at"])))
    return html.Details(
        [
            html.Summary(t("share.summary", lang)),
            html.Button(
                t("share.copy", lang),
                id=ids.SHARE_COPY,
                type="button",
                className="page-button",
                **{"data-done": t("share.copied", lang), "data-failed": t("share.failed", lang)},
            ),
            html.Span(id=ids.SHARE_STATUS, role="status", className="share-status"),
            html.P(t("share.cite_label", lang), className="share-label"),
            html.P(
                [
                    f"{product}: ",
                    html.Span(className="share-page"),
                    "".join(f". {part}" for part in after) + ". ",
                    html.Span(className="share-url"),
                    f" ({t('share.retrieved', lang)} ",
                    html.Span(className="share-today"),
                    ").",
                ],
                id=ids.SHARE_CITATION,
                className="share-citation",
            ),
            html.Div(
                [
                    html.P(t("share.embed_label", lang), className="share-label"),
                    html.Code(className="share-embed-code"),
                ],
                id=ids.SHARE_EMBED,
                className="share-embed",
                hidden=True,  # shown by share.js on pages with an embeddable chart
                **{"data-title": t("share.embed_title", lang)},
            ),
        ],
        id=ids.SHARE,
        className="share",
    )


def footer(meta: dict[str, str], lang: str, links: Sequence[tuple[str, str]] = ()) -> html.Footer:
    """Attribution and build date of the published snapshot; ``links`` (text, href): the
    legal pages (Impressum, Datenschutz, Barrierefreiheit)."""
    parts = [t("footer.product", lang)]
    if meta.get("attribution"):
        parts.append(meta["attribution"])
    if meta.get("built_at"):
        parts.append(t("footer.built", lang, date=formatting.format_date(meta["built_at"])))
    children: list = [html.P(" · ".join(parts), className="footer-text"), share(meta, lang)]
    if links:
        children.append(
            html.Nav(
                [dcc.Link(text, href=href, className="footer-link") for text, href in links],
                id=ids.FOOTER_LEGAL,
                className="footer-links",
                **{"aria-label": t("legal.links", lang)},
            )
        )
    return html.Footer(children, className="footer", id=ids.FOOTER)


def page_header(title: str, intro: str) -> html.Div:
    """Page heading with a one-sentence explanation."""
    return html.Div([html.H1(title), html.P(intro, className="intro")], className="page-header")


def notices(messages: Iterable[str | None]) -> html.Div | None:
    """A status box listing problems with the requested view (e.g. an unknown URL value)."""
    texts = [m for m in messages if m]
    if not texts:
        return None
    return html.Div([html.P(text) for text in texts], className="notice", role="status")


# --- controls ----------------------------------------------------------------------------
def dropdown_labels(lang: str) -> dict[str, str]:
    """Texts inside dcc.Dropdown (search, select all, ...) in the UI language."""
    keys = (
        "select_all",
        "deselect_all",
        "selected_count",
        "search",
        "clear_search",
        "clear_selection",
        "no_options_found",
    )
    return {key: t(f"dropdown.{key}", lang) for key in keys}


def control(
    label: str,
    component_id: str,
    options: list[dict],
    value: object,
    lang: str,
    multi: bool = False,
    disabled: bool = False,
) -> html.Div:
    """A labelled dropdown in a group named by its label: dcc.Dropdown names its button by
    the selected value only (``aria-labelledby``), so the group carries the label."""
    dropdown = dcc.Dropdown(
        id=component_id,
        options=options,
        value=value,
        multi=multi,
        clearable=multi,
        searchable=True,
        disabled=disabled,
        labels=dropdown_labels(lang),
        placeholder=t("dropdown.placeholder", lang),
    )
    label_id = f"{component_id}-label"
    return html.Div(
        [html.Label(label, htmlFor=component_id, id=label_id), dropdown],
        className="control" + (" control-wide" if multi else ""),
        role="group",
        **{"aria-labelledby": label_id},
    )


def indicator_control(
    component_id: str, indicators: Sequence[Indicator], value: str | None, lang: str
) -> html.Div:
    """Dropdown of indicators (titles from the warehouse)."""
    options = indicator_options(indicators)
    return control(t("control.indicator", lang), component_id, options, value, lang)


def date_control(component_id: str, dates: Sequence[str], value: str | None, lang: str) -> html.Div:
    """Dropdown of reference dates, newest first."""
    return control(t("control.date", lang), component_id, date_options(dates), value, lang)


def level_control(
    component_id: str, levels: Sequence[Level], value: str | None, lang: str
) -> html.Div:
    """Dropdown of area levels."""
    return control(t("control.level", lang), component_id, level_options(levels), value, lang)


def class_control(component_id: str, methods: Sequence[str], value: str, lang: str) -> html.Div:
    """Dropdown of map classifications (``map.classes.<method>`` labels)."""
    options = [{"label": t(f"map.classes.{m}", lang), "value": m} for m in methods]
    return control(t("map.classes", lang), component_id, options, value, lang)


def checkbox(component_id: str, label: str, checked: bool) -> html.Div:
    """One labelled checkbox; its value is ``["1"]`` when ticked (URL ``key=1``), else ``[]``."""
    box = dcc.Checklist(
        id=component_id,
        options=[{"label": label, "value": "1"}],
        value=["1"] if checked else [],
        inputStyle={"marginRight": "6px"},
    )
    return html.Div(box, className="control control-check")


def indicator_options(indicators: Iterable[Indicator]) -> list[dict]:
    return [{"label": ind.title, "value": ind.indicator_id} for ind in indicators]


def date_options(dates: Sequence[str]) -> list[dict]:
    """Newest first, shown as ``31.12.2024``."""
    return [{"label": formatting.format_date(d), "value": d} for d in reversed(dates)]


def level_options(levels: Iterable[Level]) -> list[dict]:
    return [{"label": lvl.label, "value": lvl.level} for lvl in levels]


def default_areas(areas: pd.DataFrame, n: int) -> list[str]:
    """The first ``n`` areas with a name of their own (:func:`catalogue.named`); if there
    are none, the first ``n``."""
    chosen = catalogue.named(areas)
    return (chosen if not chosen.empty else areas)["area_id"].head(n).tolist()


def area_options(areas: pd.DataFrame) -> list[dict]:
    return [
        {"label": name, "value": area_id}
        for area_id, name in zip(areas["area_id"], areas["name"], strict=True)
    ]


def choose(
    requested: str | None, allowed: Sequence[str], default: str | None, param: str, lang: str
) -> tuple[str | None, str | None]:
    """The requested value if allowed, else the default and a notice explaining why."""
    if requested in (None, ""):
        return default, None
    if requested in allowed:
        return requested, None
    return default, t("notice.unknown_value", lang, param=param, value=requested)


def choose_level(
    requested: str | None, levels: Sequence[Level], default: Level | None, lang: str
) -> tuple[str | None, str | None]:
    """The requested level if offered, else ``default``."""
    offered = [lvl.level for lvl in levels]
    return choose(requested, offered, default.level if default else None, "level", lang)


@dataclass(frozen=True)
class MapChoice:
    """What a map page's URL chose: an indicator, its dates, one of them and a map level
    (unknown values replaced by the defaults, one notice each, in that order)."""

    indicator: str | None
    dates: list[str]
    date: str | None
    levels: list[Level]
    level: str | None
    notices: list[str | None]


def choose_map_view(
    wh: Warehouse,
    lang: str,
    offered: Sequence[str],
    default: str | None,
    requested: tuple[str | None, str | None, str | None],
    keys: tuple[str, str] = ("indicator", "date"),
    period: bool = False,
    since: str | None = None,
) -> MapChoice:
    """The shared start of the map pages (Karte, Vergleich, Segregation's group map): the
    requested ``(indicator, date, level)`` if offered, else the indicator ``default``, its
    latest date and the finest level with boundaries on that date. With ``period`` (from
    ``since`` if the indicator has that date, else its first date, to the date: e.g.
    Vergleich's dates A and B) the default level is the finest with the same boundaries
    over the period (:func:`catalogue.comparable_level`).
    ``keys`` names the indicator and date parameters in the notices."""
    indicator, n1 = choose(requested[0], offered, default, keys[0], lang)
    dates = catalogue.indicator_dates(wh, indicator) if indicator else []
    date, n2 = choose(requested[1], dates, dates[-1] if dates else None, keys[1], lang)
    levels = catalogue.map_levels(wh, lang)
    if period:
        start = since if since in dates else (dates[0] if dates else None)
        default_level = catalogue.comparable_level(wh, levels, start, date)
    else:
        default_level = catalogue.default_map_level(wh, levels, date)
    level, n3 = choose_level(requested[2], levels, default_level, lang)
    return MapChoice(indicator, dates, date, levels, level, [n1, n2, n3])


def choose_many(
    requested: str | None, allowed: Sequence[str], default: list[str], param: str, lang: str
) -> tuple[list[str], str | None]:
    """Comma-separated requested values that are allowed; default if none was requested."""
    if requested in (None, ""):
        return default, None
    values = [v.strip() for v in str(requested).split(",") if v.strip()]
    valid = [v for v in values if v in allowed]
    invalid = [v for v in values if v not in allowed]
    notice = None
    if invalid:
        notice = t("notice.unknown_value", lang, param=param, value=", ".join(invalid))
    return valid, notice


def url_sync(store_id: str, keys: Sequence[str]) -> list[dcc.Store]:
    """Stores for the clientside callback that mirrors controls into the query string.

    The page registers :func:`url_sync_callback` with its controls in the order of
    ``keys`` (see ``assets/imon.js``).
    """
    return [dcc.Store(id=ids.url_keys(store_id), data=list(keys)), dcc.Store(id=store_id)]


def url_sync_callback(store_id: str, controls: Sequence[str]) -> None:
    """Register the clientside callback that mirrors the values of ``controls`` (in the order
    of the ``keys`` given to :func:`url_sync`) into the query string (``assets/imon.js``)."""
    dash.clientside_callback(
        dash.ClientsideFunction(namespace="imon", function_name="syncQuery"),
        dash.Output(store_id, "data"),
        *(dash.Input(control, "value") for control in controls),
        dash.State(ids.url_keys(store_id), "data"),
    )


# --- graphs ------------------------------------------------------------------------------
def graph_config(geo: bool = False, lang: str = DEFAULT_LANG) -> dict:
    """dcc.Graph config: plotly's own texts (toolbar) in ``lang`` and, for geo charts,
    the local topojson.

    Plotly geo traces always fetch ``world_110m.json``; it is served from our assets so
    nothing is fetched from the internet (see dashboards/assets/topojson/). The toolbar
    keeps what works from the keyboard too (zoom in, zoom out, reset): every button is a
    tab stop. No PNG button (the export menu above each chart writes print-ready files
    with the source line), no drag modes (zoom box, pan: mouse only), no "Share chart"
    (it would upload the data to Plotly's cloud).
    """
    config = {
        "displaylogo": False,
        "showSendToCloud": False,
        "responsive": True,
        "modeBarButtonsToRemove": [
            "toImage",
            "zoom2d",
            "pan2d",
            "select2d",
            "lasso2d",
            "autoScale2d",
        ],
        **plotly_locale(lang),
    }
    if geo:
        config["topojsonURL"] = dash.get_asset_url("topojson/")
    return config


def plotly_locale(lang: str) -> dict:
    """Config ``locale`` and ``locales``: plotly's texts (``plotly.<English text>`` in
    strings.yaml) in ``lang``; numbers keep plotly's format (figures set separators)."""
    prefix = "plotly."
    texts = {key[len(prefix) :]: t(key, lang) for key in strings() if key.startswith(prefix)}
    return {"locale": lang, "locales": {lang: {"dictionary": texts}}}


def graph(graph_id: str, geo: bool = False) -> dcc.Loading:
    """A graph (filled by a callback) with a delayed loading indicator."""
    config = graph_config(geo=geo, lang=context.lang())
    return dcc.Loading(
        dcc.Graph(id=graph_id, config=config, className="graph"),
        type="circle",
        delay_show=400,
    )


# --- export (print-ready files; ids here so pages need no constants of their own) -----------
EXPORT_BUTTON = "export-button"


def export_button_id(target: str, fmt: str) -> dict[str, str]:
    """Id of the button that downloads ``target`` (e.g. a graph id) as ``fmt``."""
    return {"type": EXPORT_BUTTON, "target": target, "format": fmt}


def export_download_id(target: str) -> str:
    """Id of the ``dcc.Download`` of ``target``."""
    return f"{target}-download"


def export_menu_id(target: str) -> str:
    """Id of the group of export buttons of ``target``."""
    return f"{target}-export"


def export_menu(target: str, lang: str, formats: Sequence[str] = FORMATS) -> html.Div:
    """One button per format: PNG, SVG, PDF (the chart, print-ready) and CSV, XLSX (its
    table); ``formats`` picks some of them (e.g. only the tables).

    The page registers one callback: ``Input(export_button_id(target, ALL), "n_clicks")``
    → ``Output(export_download_id(target), "data")`` with ``dcc.send_bytes`` of
    :mod:`dashboards.export.downloads`; the format is ``dash.ctx.triggered_id["format"]``.
    """
    charts = any(fmt not in TABLE_FORMATS for fmt in formats)
    buttons = [
        html.Button(
            fmt.upper(),
            id=export_button_id(target, fmt),
            className="page-button export-button",
            title=t(f"export.title.{fmt}", lang),
            type="button",
        )
        for fmt in formats
    ]
    return html.Div(
        [
            html.Span(t("export.label", lang), className="export-label"),
            *buttons,
            dcc.Loading(dcc.Download(id=export_download_id(target)), type="dot"),
        ],
        id=export_menu_id(target),
        className="export-menu",
        role="group",
        **{"aria-label": t("export.group" if charts else "export.group_table", lang)},
    )


def export_dependencies(target: str) -> tuple[dash.Output, dash.Input]:
    """The download output and the buttons input of ``target``'s export menu: the first
    two dependencies of its download callback (then its States; see
    :func:`download_callback`)."""
    return (
        dash.Output(export_download_id(target), "data"),
        dash.Input(export_button_id(target, dash.ALL), "n_clicks"),
    )


def clicked_export_format() -> str:
    """The format of the export button that triggered the callback (else no update)."""
    trigger = dash.ctx.triggered_id
    if not trigger or not dash.ctx.triggered[0]["value"]:
        raise dash.exceptions.PreventUpdate
    return trigger["format"]


def send_export(download: Callable[[str], Any], *choices: object) -> dict:
    """For a ``dcc.Download``: the file ``download(format)`` (``.content``, ``.filename``) of
    the clicked export button. No update while one of ``choices`` is missing (None or
    empty), or when there is nothing to draw (:class:`ExportError`, e.g. no boundaries:
    the page says why)."""
    fmt = clicked_export_format()
    if any(choice is None or choice in ("", []) for choice in choices):
        raise dash.exceptions.PreventUpdate
    try:
        with figures.printing():  # the print layout, whatever the screen
            file = download(fmt)
    except ExportError as exc:
        raise dash.exceptions.PreventUpdate from exc
    return dcc.send_bytes(file.content, file.filename)


def download_callback(
    target: str, states: Sequence[dash.State], make: Callable[..., Any], required: int = -1
) -> None:
    """Register the download callback of ``target``'s export menu: a click sends
    ``make(wh, fmt, lang, *values)`` (a :class:`dashboards.export.downloads.Download`) for
    the values of ``states``; no update while one of the first ``required`` values (default:
    all) is missing. One shape for every export menu of every page."""

    def download(_clicks: list, *values: Any) -> dict:
        wh, lang = context.warehouse(), context.lang()
        needed = values if required < 0 else values[:required]
        return send_export(lambda fmt: make(wh, fmt, lang, *values), *needed)

    dash.callback(*export_dependencies(target), *states, prevent_initial_call=True)(download)


def definition(indicator: Indicator, lang: str) -> html.Details:
    """Collapsible definition of an indicator."""
    return html.Details(
        [
            html.Summary(t("definition.summary", lang, title=indicator.title)),
            html.P(indicator.definition),
        ],
        className="definition",
    )


def map_legend(values: pd.DataFrame, shapes: pd.DataFrame, lang: str) -> html.Div | None:
    """Explains what the colour scale does not: areas drawn in a neutral tint (no value, by
    flag: suppressed, a source symbol, missing, ...) and dark outlines (value with a flag).
    """
    drawn = shapes[["area_id"]].merge(values, on="area_id", how="left")
    has_flag = drawn["flag"].map(flags.is_flag)
    missing = drawn.loc[drawn["value"].isna(), "flag"].where(has_flag).fillna(flags.MISSING)
    outlined = drawn.loc[drawn["value"].notna() & has_flag, "flag"]
    parts = []
    if not missing.empty:
        items = [_legend_item(flag, n, lang) for flag, n in _counts(missing)]
        parts.append(html.Div([html.P(t("map.null_note", lang)), html.Ul(items)]))
    if not outlined.empty:
        items = [_legend_item(flag, n, lang, outlined=True) for flag, n in _counts(outlined)]
        parts.append(html.Div([html.P(t("map.flagged_note", lang)), html.Ul(items)]))
    if not parts:
        return None
    return html.Div(parts, className="map-note", role="note", id="map-legend")


def _counts(flag_series: pd.Series) -> list[tuple[str, int]]:
    counts = flag_series.value_counts()
    return sorted(((str(f), int(n)) for f, n in counts.items()), key=lambda x: flags.order(x[0]))


def _legend_item(flag: str, n: int, lang: str, outlined: bool = False) -> html.Li:
    style = {"background": "transparent" if outlined else flags.color(flag)}
    text = t(
        "map.null_item",
        lang,
        label=labels.flag_label(flag, lang),
        n=n,
        explain=flags.explanation(flag, lang),
    )
    swatch = html.Span(
        className="swatch " + ("swatch-outlined" if outlined else "swatch-null"),
        style=style,
        **{"aria-hidden": "true"},
    )
    return html.Li([swatch, html.Span(text)], className="legend-item", **{"data-flag": flag})


def no_geometry_notice(
    level_label: str, ref_date: str, dates_with_map: Sequence[str], lang: str
) -> html.Div:
    """Why there is no map (no boundaries for this level on this date) and when there is."""
    texts = [
        t(
            "map.no_geometry_at_date",
            lang,
            level=level_label,
            date=formatting.format_date(ref_date),
        )
    ]
    if dates_with_map:
        first, last = (formatting.format_date(d) for d in (dates_with_map[0], dates_with_map[-1]))
        texts.append(t("map.geometry_dates", lang, first=first, last=last))
    else:
        texts.append(t("map.no_geometry_level", lang))
    return html.Div(
        [html.P(text) for text in texts], className="notice", role="status", id="map-no-geometry"
    )
