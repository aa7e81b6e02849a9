"""What every figure shares: caption, layout, messages, geometry payload, colours, date axis.

Figures are pure: DataFrames (+ labels) in, ``plotly.graph_objects.Figure`` out; one module
per page (:mod:`.map`, :mod:`.trends`, :mod:`.compare`, :mod:`.profile`, :mod:`.segregation`).

Every figure carries a title, the unit, and a caption with source and data date, so an
exported image is self-explanatory. Numbers use German separators (``layout.separators``);
hover texts are preformatted by :mod:`dashboards.labels`. Colours are colour-blind safe:
maps light to dark in ColorBrewer YlGnBu classes (PuOr, centred at 0, when values have both
signs, e.g. net migration; location quotients light below 1 and dark purple for
concentration: :mod:`.map`), Okabe–Ito for lines (Okabe & Ito 2008, "Color Universal
Design"). Areas without a value are drawn in a neutral tint per flag
(:mod:`dashboards.flags`); values carrying a flag get a dark outline; in time series,
dates without a value are marked on the time axis.

No plotly express here: ``go`` objects are several times faster to build in callbacks.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import flask
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboards import formatting, labels
from dashboards.data.breaks import Break
from dashboards.data.catalogue import Indicator
from dashboards.i18n import t

FONT_FAMILY = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", Arial, sans-serif'
)
TEXT_COLOR = "#1f2933"
MUTED_COLOR = "#52606d"
MODEBAR = {"color": MUTED_COLOR, "activecolor": TEXT_COLOR}  # chart toolbar icons: 3:1+
DIVERGING_COLORSCALE = "PuOr"  # ColorBrewer, colour-blind safe; orange < 0 < purple
NULL_LINE_COLOR = "#8a949e"
FLAGGED_LINE_COLOR = TEXT_COLOR
CAPTION_WIDTH = 115  # characters per caption line before it wraps
CAPTION_LINE_PX = 15
CAPTION_NAME = "caption"  # layout.annotations[].name of the source line
# Phones (#19): assets/phone.js sets this cookie where the window is narrower than 600 px;
# figures drawn for the screen then wrap title, subtitle and source line for a narrow
# panel (characters per line below). Exports never (:func:`printing`).
NARROW_COOKIE = "imon_narrow"
NARROW_TITLE, NARROW_SUBTITLE, NARROW_CAPTION = 26, 44, 54  # the title starts at the plot
NARROW_LEFT_PX = 10  # the left margin the line lengths above are made for
NARROW_PX_PER_CHAR = 5.5  # subtitle and source line, measured in Chromium at 390 px
NARROW_DATE_TICKS = 3  # "31.12.2024" is 60 px wide
NARROW_WIDTH_PX = 320  # a chart's width on a 360–390 px screen, inside its panel
LEGEND_SYMBOL_PX, LEGEND_CHAR_PX, LEGEND_ROW_PX = 48, 7.5, 22  # legend entries at 13 px type
_PRINTING = contextvars.ContextVar("imon_printing", default=False)
MAP_PAD = 0.02  # margin around the mapped areas, as a share of their extent
# Full numbers with German thousands separators on axes and colour bars (no "30k", "3.9M").
NUMBER_TICKS = {"exponentformat": "none", "separatethousands": True}
CITY_COLOR = "#000000"
# Okabe–Ito without black (reserved for the city); yellow last: weakest contrast on white.
OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442"]


def source_caption(indicator: Indicator, ref_date: str | None, lang: str) -> str:
    text = t("chart.caption", lang, source=indicator.source, date=formatting.format_date(ref_date))
    return wrap_caption(text)


def wrap_caption(text: str, width: int = CAPTION_WIDTH) -> str:
    """Break a long caption (several sources) into lines at ``"; "`` and ``" · "``."""
    parts, lines = [], []
    for chunk in text.split(" · "):
        pieces = chunk.split("; ")
        parts += [p + ";" for p in pieces[:-1]] + [pieces[-1] + " ·"]
    parts[-1] = parts[-1][: -len(" ·")]
    for part in parts:
        if lines and len(lines[-1]) + 1 + len(part) <= width:
            lines[-1] = f"{lines[-1]} {part}"
        else:
            lines.append(part)
    return "<br>".join(lines)


def narrow() -> bool:
    """A figure for a phone's screen (see :data:`NARROW_COOKIE`), not for an export."""
    if _PRINTING.get() or not flask.has_request_context():
        return False
    return flask.request.cookies.get(NARROW_COOKIE) == "1"


def narrow_legend_room(names: list[str], width: int = NARROW_WIDTH_PX) -> int:
    """Extra px a horizontal legend of ``names`` needs on a phone for the rows it wraps into
    beyond the first (Plotly wraps the entries; each is its symbol and its name)."""
    rows, used = 1, 0
    for name in names:
        entry = LEGEND_SYMBOL_PX + LEGEND_CHAR_PX * len(name)
        if used and used + entry > width:
            rows, used = rows + 1, 0
        used += entry
    return LEGEND_ROW_PX * (rows - 1)


def legend_above_plot(fig: go.Figure) -> None:
    """On a phone: the legend in rows right above the plot, which gets the full width (a
    legend beside it squeezed it until its tick labels overprinted); the top margin and
    the height grow by the legend's rows."""
    names = [trace.name or "" for trace in fig.data if trace.showlegend is not False]
    more = LEGEND_ROW_PX + narrow_legend_room(names)
    fig.update_layout(
        height=fig.layout.height + more,
        margin={"t": fig.layout.margin.t + more},
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1, "yanchor": "bottom"},
    )


@contextmanager
def printing() -> Iterator[None]:
    """Figures built inside are for a file (an export), whatever the screen."""
    token = _PRINTING.set(True)
    try:
        yield
    finally:
        _PRINTING.reset(token)


def wrap_words(text: str, width: int) -> str:
    """``text`` in lines of at most ``width`` characters (``<br>``), broken between words;
    its own line breaks are kept."""
    lines = []
    for line in text.split("<br>"):
        current = ""
        for word in line.split(" "):
            if current and len(current) + 1 + len(word) > width:
                lines.append(current)
                current = word
            else:
                current = f"{current} {word}" if current else word
        lines.append(current)
    return "<br>".join(lines)


def base_layout(
    title: str, subtitle: str, caption: str, height: int, margin: dict, indent: int = 0
) -> dict:
    """Shared layout: title + subtitle on top, caption (source · date) bottom left.

    The bottom margin grows with the number of caption lines. On a phone's screen
    (:func:`narrow`) title, subtitle and caption wrap, and the top margin grows with them;
    ``indent``: px by which the plot (where these texts start) begins further right than
    usual (a left margin wider than :data:`NARROW_LEFT_PX`, or tick labels that widen it),
    so the lines are that much shorter.
    """
    title_place: dict = {}
    if narrow():
        indent = max(indent, margin.get("l", 0) - NARROW_LEFT_PX)  # the plot starts there
        fewer = round(indent / NARROW_PX_PER_CHAR)
        title = wrap_words(title, NARROW_TITLE - fewer // 2)  # larger type
        subtitle = wrap_words(subtitle, NARROW_SUBTITLE - fewer)
        caption = wrap_words(caption.replace("<br>", " "), NARROW_CAPTION - fewer)
        # Plotly anchors a title of several lines near its middle: moved down by as much
        drop = 14 * title.count("<br>")
        more = 22 * title.count("<br>") + 16 * subtitle.count("<br>") + drop
        margin = {**margin, "t": margin["t"] + more}
        height += more
        title_place = {"y": 1, "yref": "container", "yanchor": "top", "pad": {"t": 14 + drop}}
    extra = CAPTION_LINE_PX * caption.count("<br>")
    return {
        "title": {
            "text": f"<b>{title}</b>",
            "subtitle": {"text": subtitle},
            "x": 0,
            "xanchor": "left",
            "xref": "paper",
            "font": {"size": 17},
            **title_place,
        },
        "separators": formatting.SEPARATORS,
        "font": {"family": FONT_FAMILY, "color": TEXT_COLOR, "size": 13},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "height": height + extra,
        "margin": {**margin, "b": margin["b"] + extra},
        "annotations": [
            {
                "name": CAPTION_NAME,  # found by dashboards.export.render to re-wrap it for print
                "text": caption,
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": 0,
                "xanchor": "left",
                "yanchor": "top",
                "yshift": -40,
                "font": {"size": 11, "color": MUTED_COLOR},
                "align": "left",
            }
        ],
        "hoverlabel": {"font": {"family": FONT_FAMILY}},
        "modebar": MODEBAR,
    }


def message(text: str, height: int = 420) -> go.Figure:
    """An empty figure that says why there is nothing to show."""
    fig = go.Figure()
    fig.update_layout(
        height=height,
        paper_bgcolor="white",
        plot_bgcolor="white",
        xaxis={"visible": False},
        yaxis={"visible": False},
        font={"family": FONT_FAMILY, "color": MUTED_COLOR},
        modebar=MODEBAR,
        annotations=[
            {
                "text": text,
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "font": {"size": 15},
            }
        ],
    )
    return fig


def feature_collection(shapes: pd.DataFrame) -> dict:
    features = [
        {"type": "Feature", "id": area_id, "properties": {}, "geometry": json.loads(geojson)}
        for area_id, geojson in zip(shapes["area_id"], shapes["geojson"], strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def _positions(coordinates: list):
    """Every [lon, lat] position of a (nested) GeoJSON coordinates array."""
    if coordinates and isinstance(coordinates[0], int | float):
        yield coordinates
        return
    for part in coordinates:
        yield from _positions(part)


OUTLIER_FACTOR = 3.0  # an area this many times farther out than the rest: off the extent


def _feature_boxes(geojson: dict) -> np.ndarray:
    """(lon0, lat0, lon1, lat1) of every feature."""
    boxes = []
    for feature in geojson["features"]:
        points = np.array(
            [p[:2] for p in _positions(feature["geometry"]["coordinates"])], dtype=float
        )
        boxes.append([*points.min(axis=0), *points.max(axis=0)])
    return np.array(boxes).reshape(-1, 4)


def outliers(boxes: np.ndarray) -> np.ndarray:
    """Which areas lie far outside the rest (an island 60 km off the city): repeatedly,
    the area whose centre is farthest from the median centre, when that distance exceeds
    ``OUTLIER_FACTOR`` times the farthest distance among the others; at most a tenth of
    the areas (at least one), none of fewer than five."""
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    out = np.zeros(len(boxes), dtype=bool)
    for _ in range(max(1, len(boxes) // 10) if len(boxes) >= 5 else 0):
        middle = np.median(centres[~out], axis=0)
        distance = np.where(out, -1.0, np.hypot(*(centres - middle).T))
        far = int(np.argmax(distance))
        rest = np.delete(distance, far)
        if distance[far] <= OUTLIER_FACTOR * max(rest.max(), 1e-9):
            break
        out[far] = True
    return out


def declared_outside(geojson: dict) -> np.ndarray:
    """Which features the profile leaves out of the frame (``geography.map_extent_exclude``:
    the build marks their geometry ``"map_extent": false``, etl/transform/areas.py)."""
    return np.array(
        [f["geometry"].get("map_extent") is False for f in geojson["features"]], dtype=bool
    )


def _bounds(geojson: dict) -> tuple[list[float], list[float], bool]:
    """Longitude and latitude range of a feature collection (plus a margin of ``MAP_PAD``),
    without the areas far outside the rest (:func:`outliers`) or declared so in the
    profile (:func:`declared_outside`), and whether any was left out.

    Given to the geo subplot as axis ranges: its frame then takes the area's aspect ratio
    (with ``fitbounds`` alone plotly keeps a square frame, and Berlin filled half of it).
    """
    boxes = _feature_boxes(geojson)
    far = outliers(boxes) | declared_outside(geojson)
    if far.all():  # every area declared outside: frame them all
        far[:] = False
    kept = boxes[~far]
    lons = [kept[:, 0].min(), kept[:, 2].max()]
    lats = [kept[:, 1].min(), kept[:, 3].max()]
    pad_lon, pad_lat = MAP_PAD * (max(lons) - min(lons)), MAP_PAD * (max(lats) - min(lats))
    return (
        [min(lons) - pad_lon, max(lons) + pad_lon],
        [min(lats) - pad_lat, max(lats) + pad_lat],
        bool(far.any()),
    )


_HOVER = "<b>%{customdata[0]}</b><br>%{customdata[1]}%{customdata[2]}<extra></extra>"


def geometry_key(shapes: pd.DataFrame) -> str:
    """A digest of the areas and their boundaries: equal keys, same geometry on the map."""
    digest = hashlib.blake2b(digest_size=16)
    for area_id, geojson in zip(shapes["area_id"], shapes["geojson"], strict=True):
        digest.update(f"{area_id}\0{geojson}\0".encode())
    return digest.hexdigest()


def fit_map(fig: go.Figure, geojson: dict) -> None:
    """Frame the geo subplot on the mapped areas (Mercator, no base map). Areas far
    outside the rest (:func:`outliers`) or declared so (:func:`declared_outside`) are
    left out of the frame: the view is then the
    axis ranges alone (``fitbounds`` would take every location), the areas stay drawn."""
    lon_range, lat_range, left_out = _bounds(geojson)
    centre = {"lon": sum(lon_range) / 2, "lat": sum(lat_range) / 2}
    fig.update_geos(
        fitbounds=False if left_out else "locations",
        visible=False,
        projection_type="mercator",
        lonaxis_range=lon_range,
        lataxis_range=lat_range,
        **({"center": centre} if left_out else {}),
    )


def segments(frame: pd.DataFrame) -> list[pd.DataFrame]:
    """Split one series (in date order) where ``definition_id`` changes or a row has a
    ``break_before`` (:func:`dashboards.data.breaks.mark`): a series break is never joined."""
    new = frame["definition_id"] != frame["definition_id"].shift()
    if "break_before" in frame:
        new |= frame["break_before"].notna()
    return [part for _, part in frame.groupby(new.cumsum(), sort=True)]


BREAK_COLOR = "#7b2d8e"  # dark purple: apart from the Okabe–Ito lines, 7:1 on white


def draw_breaks(fig: go.Figure, found: Sequence[Break], lang: str, **cell) -> None:
    """A dotted vertical line at every series break with the word "Reihenbruch" above it
    (``cell``: ``row``/``col`` of a subplot; hover names the kind and the dates). Breaks
    of several levels on one date are one line."""
    for brk in {b.at: b for b in reversed(found)}.values():
        fig.add_vline(
            x=brk.at,
            line={"color": BREAK_COLOR, "width": 1.6, "dash": "dot"},
            **cell,
        )
        fig.add_annotation(
            x=brk.at,
            y=1,
            yref="y domain" if not cell else _domain_ref(fig, cell),
            xref="x" if not cell else _axis_ref(fig, cell),
            text=t("breaks.line_label", lang),
            hovertext=labels.break_text(brk, lang),
            showarrow=False,
            xanchor="left",
            yanchor="top",
            xshift=3,
            bgcolor="rgba(255, 255, 255, 0.8)",
            font={"size": 11, "color": BREAK_COLOR},
            name="series_break",
        )


def _axis_ref(fig: go.Figure, cell: dict) -> str:
    ref = fig.get_subplot(cell["row"], cell["col"])
    return ref.xaxis.plotly_name.replace("axis", "")


def _domain_ref(fig: go.Figure, cell: dict) -> str:
    ref = fig.get_subplot(cell["row"], cell["col"])
    return ref.yaxis.plotly_name.replace("axis", "") + " domain"


def thinned(dates: list, most: int = 8) -> list:
    """At most ``most`` tick dates, always including the latest, so labels stay horizontal
    and clear of the source line under the axis. Of half-yearly dates only those of the
    latest date's day and month (e.g. every 31.12.) are ticked, so ticks are evenly spaced."""
    same_day = [d for d in dates if str(d)[5:10] == str(dates[-1])[5:10]]
    if len(same_day) > 1:
        dates = same_day
    step = -(-len(dates) // most)
    return dates[::-1][::step][::-1]


def date_axis(fig: go.Figure, dates: list[str], most: int = 8) -> None:
    """Ticks on reference dates (at most ``most``, on a phone at most
    :data:`NARROW_DATE_TICKS`; German format) on every x axis; one date gets a year's room."""
    ticks = thinned(dates, min(most, NARROW_DATE_TICKS) if narrow() else most)
    fig.update_xaxes(
        type="date",
        tickvals=ticks,
        ticktext=[formatting.format_date(d) for d in ticks],
        tickangle=0,
        showgrid=False,
        linecolor="#9aa5b1",
        ticks="outside",
    )
    if len(dates) == 1:
        day = pd.Timestamp(dates[0])
        pad = pd.Timedelta(days=365)
        fig.update_xaxes(range=[str((day - pad).date()), str((day + pad).date())])
