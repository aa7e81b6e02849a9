"""Embeddable charts (#19): ``/embed/<chart>?…`` is one chart with its source line and
nothing else, for an ``<iframe>`` on another site (the office's own web pages, a newspaper).

The query is the page's own (what its address keeps, see ``components.url_sync``), so the
share box (assets/share.js) turns ``/karte?indicator=…&date=…&level=…`` into
``/embed/karte?…``:

* ``karte``: ``indicator``, ``date``, ``level``, optional ``classes``;
* ``zeitreihen``: ``indicator``, optional ``areas`` (comma-separated ids), ``boundaries``;
* ``profil``: ``area``, ``date`` (the dot plot of the area's shares).

The figure is the print-ready one of the downloads (:mod:`dashboards.export`: the same
read of the published snapshot, footnotes on withheld values, source line and Stand),
drawn by plotly.js in the reader's browser, resizing with the frame. ``?lang=`` and
``?instance=`` work as on every page; a closed instance needs a login here too
(:mod:`dashboards.access` checks every request). Who may frame it:
``server.embed_frame_ancestors`` of the profile (default: the dashboard's
``frame_ancestors``), sent as CSP ``frame-ancestors`` (:mod:`dashboards.security`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

import flask
from werkzeug.exceptions import BadRequest, NotFound

from dashboards import access, context
from dashboards.data import catalogue
from dashboards.export import map as map_export
from dashboards.export import profile as profile_export
from dashboards.export import trends as trends_export
from dashboards.export.render import Chart, ExportError
from dashboards.figures import classify
from dashboards.i18n import t

PATH = "embed"
SCRIPT = Path(__file__).resolve().parent / "embed.js"
PLOTLY = "_dash-component-suites/plotly/package_data/plotly.min.js"
MISSING = "missing"


def _needed(args: dict, *keys: str) -> list[str]:
    missing = [key for key in keys if not args.get(key)]
    if missing:
        raise BadRequest(f"{MISSING}: {', '.join(missing)}")
    return [args[key] for key in keys]


def _map(wh, args: dict, lang: str) -> Chart:
    indicator, date, level = _needed(args, "indicator", "date", "level")
    method = args.get("classes") or classify.DEFAULT_METHOD
    return map_export.map_chart(wh, indicator, date, level, lang, method=method)


def _trends(wh, args: dict, lang: str) -> Chart:
    (indicator,) = _needed(args, "indicator")
    areas = [a for a in (args.get("areas") or "").split(",") if a]
    boundaries = args.get("boundaries") or None
    return trends_export.trend_chart(wh, indicator, areas, lang, boundaries=boundaries)


def _profile(wh, args: dict, lang: str) -> Chart:
    area, date = _needed(args, "area", "date")
    return profile_export.dots_chart(wh, area, date, lang)


CHARTS: dict[str, Callable] = {"karte": _map, "zeitreihen": _trends, "profil": _profile}


def register(server: flask.Flask) -> None:
    """The routes ``/embed/<chart>`` and ``/embed.js`` on the app's server."""
    server.add_url_rule(f"/{PATH}/<chart>", "imon_embed", _embed)
    server.add_url_rule(f"/{PATH}.js", "imon_embed_js", _script)


def _script() -> flask.Response:
    return flask.send_file(SCRIPT, mimetype="text/javascript", max_age=3600)


def _embed(chart: str) -> flask.Response:
    make = CHARTS.get(chart)
    if make is None:
        raise NotFound(f"no embeddable chart '{chart}' (known: {', '.join(CHARTS)})")
    wh, lang = context.warehouse(), context.lang()
    args = dict(flask.request.args)
    try:
        made = make(wh, args, lang)
    except (ExportError, KeyError, ValueError) as error:
        raise NotFound(f"no such chart: {error}") from error
    figure = made.figure
    figure.update_layout(width=None, autosize=True)
    title = figure.layout.title.text or t("app.title", lang)
    return flask.Response(
        _page(figure.to_json(), _plain(title), lang, catalogue.meta(wh).get("title") or ""),
        mimetype="text/html",
    )


def _plain(text: str) -> str:
    """A figure title without its markup (``<b>``, ``<br>``)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip()


def _page(figure_json: str, title: str, lang: str, instance: str) -> str:
    prefix = flask.current_app.config[access.PREFIX_KEY]  # Dash's public path prefix
    data = figure_json.replace("</", "<\\/")  # cannot end its <script> element early
    name = " ".join(x for x in (t("app.title", lang), instance) if x)
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} – {html.escape(name)}</title>
<style>
html, body {{ margin: 0; background: #fff; font-family: system-ui, sans-serif; }}
#embed-chart {{ width: 100%; }}
</style>
<script type="application/json" id="embed-figure">{data}</script>
<script src="{prefix}assets/geo_assets.js" defer></script>
<script src="{prefix}{PLOTLY}" defer></script>
<script src="{prefix}{PATH}.js" defer></script>
</head>
<body>
<div id="embed-chart" role="img" aria-label="{html.escape(title)}"
     data-topojson="{prefix}assets/topojson/"></div>
</body>
</html>
"""
