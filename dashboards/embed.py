"""Embeddable charts (#19): ``/embed/<chart>?…`` is one chart with its source line and
nothing else, for an ``<iframe>`` on another site (the office's own web pages, a newspaper).

The query is the page's own (what its address keeps, see ``components.url_sync``), so the
share box (assets/share.js) turns ``/karte?indicator=…&date=…&level=…`` into
``/embed/karte?…``:

* ``karte``: ``indicator``, ``date``, ``level``, optional ``classes`` and ``labels=1``;
* ``zeitreihen``: ``indicator``, optional ``areas`` (comma-separated ids), ``boundaries``;
* ``profil``: ``area``, ``date`` (the dot plot of the area's shares).

The figure is the print-ready one of the downloads (:mod:`dashboards.export`: the same
read of the published snapshot, footnotes on withheld values, source line and Stand),
drawn by plotly.js in the reader's browser, resizing with the frame; in a frame narrower
than :data:`NARROW_FRAME_PX` (a phone) title, subtitle, footnotes and source line are
wrapped for :data:`NARROW_WIDTH_PX` instead of the 16 cm page (the page carries both
layouts' texts; embed.js picks one). An address naming an unknown chart, indicator,
level, date, area or classification is a 404 (so is a choice the export cannot draw,
:class:`ExportError`); any other failure is the server's error, not hidden as a 404.
``?lang=`` and
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
import plotly.io as pio
from werkzeug.exceptions import BadRequest, NotFound

from dashboards import access, context
from dashboards.data import catalogue, queries
from dashboards.export import map as map_export
from dashboards.export import profile as profile_export
from dashboards.export import render
from dashboards.export import trends as trends_export
from dashboards.export.render import Chart, ExportError
from dashboards.figures import classify
from dashboards.figures import common as figures
from dashboards.i18n import t

PATH = "embed"
SCRIPT = Path(__file__).resolve().parent / "embed.js"
PLOTLY = "_dash-component-suites/plotly/package_data/plotly.min.js"
MISSING = "missing"
NARROW_FRAME_PX = 600  # as assets/phone.js: narrower frames get the narrow layout
NARROW_WIDTH_PX = 360  # the narrowest frame the narrow layout is wrapped for


def _needed(args: dict, *keys: str) -> list[str]:
    missing = [key for key in keys if not args.get(key)]
    if missing:
        raise BadRequest(f"{MISSING}: {', '.join(missing)}")
    return [args[key] for key in keys]


def _map(wh, args: dict, lang: str) -> Chart:
    indicator, date, level = _needed(args, "indicator", "date", "level")
    method = args.get("classes") or classify.DEFAULT_METHOD
    labels = args.get("labels") == "1"
    return map_export.map_chart(wh, indicator, date, level, lang, method=method, area_labels=labels)


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
    unknown = _unknown(wh, args, lang)
    if unknown:
        raise NotFound(f"no such chart: unknown {unknown}")
    try:
        made = make(wh, args, lang)
    except ExportError as error:  # a choice the export cannot draw (no data, no boundaries)
        raise NotFound(f"no such chart: {error}") from error
    figure = made.figure
    figure.update_layout(width=None, autosize=True)
    title = figure.layout.title.text or t("app.title", lang)
    drawn = figure.to_plotly_json()
    data = {"data": drawn["data"], "layout": drawn["layout"], "narrow": narrow_layout(figure)}
    text = pio.to_json(data, validate=False)
    page = _page(text, _plain(title), lang, catalogue.meta(wh).get("title") or "")
    return flask.Response(page, mimetype="text/html")


def _unknown(wh, args: dict, lang: str) -> str | None:
    """What the address names that this instance does not know (None: all known)."""
    known = {
        "indicator": catalogue.indicators(wh, lang),
        "level": catalogue.levels(wh, lang),
        "date": catalogue.ref_dates(wh),
        "classes": classify.METHODS,
    }
    for key, values in known.items():
        if args.get(key) and args[key] not in values:
            return f"{key} '{args[key]}'"
    area_ids = set(queries.area_ids(wh)["area_id"])
    named = [args.get("area") or "", *(args.get("areas") or "").split(",")]
    missing = [a for a in named if a and a not in area_ids]
    return f"area '{missing[0]}'" if missing else None


def narrow_layout(figure) -> dict:
    """The layout keys that change in a narrow frame: title, subtitle and the footer
    (footnotes and source line, one annotation) wrapped for :data:`NARROW_WIDTH_PX`
    instead of the page's 16 cm, and the margins and height that make room for the
    extra lines (the line heights of :func:`render.print_ready`)."""
    share = (NARROW_WIDTH_PX - 2 * render.PAGE_PAD_PX) / (
        render.PRINT_WIDTH_PX - 2 * render.PAGE_PAD_PX
    )
    layout = figure.layout
    old_title = [_plain(line) for line in (layout.title.text or "").split("<br>") if line]
    title = render._wrap(" ".join(old_title), int(render.TITLE_CHARS * share))
    old_sub = (layout.title.subtitle.text or "").split("<br>")
    subtitle = render._wrap(" ".join(old_sub), int(render.SUBTITLE_CHARS * share))
    extra_top = render.TITLE_LINE_PX * (len(title) - len(old_title))
    extra_top += render.SUBTITLE_LINE_PX * (len(subtitle) - len(old_sub))
    annotations, extra_bottom = [], 0
    for annotation in layout.annotations:
        item = annotation.to_plotly_json()
        if annotation.name == figures.CAPTION_NAME:
            old_lines = annotation.text.split("<br>")
            chars = int(render.NOTE_CHARS * share)
            lines = [part for line in old_lines for part in render._wrap(line, chars)]
            extra_bottom = render.NOTE_LINE_PX * (len(lines) - len(old_lines))
            item["text"] = "<br>".join(lines)
        annotations.append(item)
    margin = layout.margin
    return {
        "title": {
            "text": "<br>".join(f"<b>{line}</b>" for line in title),
            "subtitle": {"text": "<br>".join(subtitle)},
        },
        "annotations": annotations,
        "margin": {"t": margin.t + extra_top, "b": margin.b + extra_bottom},
        "height": layout.height + extra_top + extra_bottom,
    }


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
