"""The choropleth map of the Karte page (also drawn by the segregation page's location
quotients and by the map export): pure, DataFrames (+ labels) in, ``go.Figure`` out.

Class breaks from :mod:`dashboards.figures.classify`; one trace for the classified values,
the outlines of a coarser level on top (optional), one per flag of areas without a value
(a light neutral tint, in the legend under "keine Angabe"), optional area labels that do not
overlap. Shared conventions (caption, layout, geometry payload) in
:mod:`dashboards.figures.common`.

Palettes for lay readers (#19): light = low, dark = high, no grey class (a grey middle
reads as "no data"). Values of one sign: ColorBrewer YlGnBu (Brewer & Harrower; safe for
the common colour-vision deficiencies), from its second-lightest tint so that no class is
white. Values of both signs (net migration): PuOr centred at 0. Location quotients on
both sides of 1: light orange tints for under-representation, light to dark purple for
concentration, so the most saturated colour is the strongest concentration.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import shapely
from plotly.colors import sample_colorscale, sequential, unlabel_rgb

from dashboards import flags, formatting, labels
from dashboards.data.catalogue import Indicator
from dashboards.figures import classify
from dashboards.figures.common import (
    _HOVER,
    DIVERGING_COLORSCALE,
    FLAGGED_LINE_COLOR,
    FONT_FAMILY,
    NULL_LINE_COLOR,
    NUMBER_TICKS,
    TEXT_COLOR,
    _bounds,
    base_layout,
    feature_collection,
    fit_map,
    message,
    narrow,
    source_caption,
)
from dashboards.i18n import t

SEQUENTIAL = sequential.YlGnBu  # ColorBrewer, 9 steps light yellow -> dark blue
SEQUENTIAL_START = 0.1  # the lightest class a light yellow, not white (no value: grey)
# location quotients: under-representation light orange (PuOr's light tints), 1 near
# white-lavender, concentration light to dark purple (PuOr's purple arm)
UNDER_COLORSCALE = [[0.0, "rgb(253,184,99)"], [1.0, "rgb(254,236,210)"]]
OVER_COLORSCALE = [[0.0, "rgb(216,218,235)"], [0.5, "rgb(128,115,172)"], [1.0, "rgb(45,0,75)"]]
NO_VALUE_GROUP = "no_value"  # legend group of the areas without a value (one trace per flag)
OUTLINE_NAME = "outlines"  # the trace of the coarser level's outlines (pages/map.py frames)
OUTLINE_COLOR, OUTLINE_WIDTH = "#1f2933", 1.6
LABEL_SIZE = 10  # px of the area names on the map


def _map_hover(rows: pd.DataFrame, indicator: Indicator, lang: str) -> list[list[str]]:
    """customdata per area: [name, value text, '<br>'-prefixed count lines]."""
    data = []
    for row in rows.to_dict("records"):
        lines = labels.count_lines(row, indicator, lang)
        value = labels.value_text(row["value"], row["flag"], indicator, lang, with_unit=True)
        extra = "".join(f"<br>{line}" for line in lines)
        data.append([row["name"], value, extra])
    return data


def _midpoint(z: pd.Series, unit: str) -> float | None:
    """The centre of a diverging scale: 0 for values of both signs (e.g. net migration),
    1 for quotients on both sides of 1 (location quotients: 1 = city average); else None."""
    centre = 1.0 if unit == "quotient" else 0.0
    return centre if not z.empty and z.min() < centre < z.max() else None


def _class_colors(edges: list[float], n: int, midpoint: float | None) -> list[str]:
    """One colour per class, light to dark: YlGnBu steps; on both sides of 0, PuOr at each
    class's middle value with 0 in the middle of the scale; on both sides of 1 (location
    quotients), :func:`_quotient_colors`."""
    if midpoint is None:
        step = (1 - SEQUENTIAL_START) / (n - 1) if n > 1 else 0
        positions = [SEQUENTIAL_START + i * step for i in range(n)] if n > 1 else [0.5]
        return sample_colorscale(SEQUENTIAL, positions)
    middles = [(edges[i] + edges[i + 1]) / 2 for i in range(n)]
    if midpoint == 1.0:
        return _quotient_colors(middles, edges[0], edges[-1])
    span = max(abs(edges[0] - midpoint), abs(edges[-1] - midpoint)) or 1.0
    positions = [min(max(0.5 + (m - midpoint) / (2 * span), 0.0), 1.0) for m in middles]
    return sample_colorscale(DIVERGING_COLORSCALE, positions)


def _quotient_colors(middles: list[float], lowest: float, highest: float) -> list[str]:
    """Location quotients (1 = the city's share): a class below 1 in a light orange tint
    (lighter the nearer 1), one above 1 in purple, darker the higher (the most saturated
    colour is the strongest concentration). Each arm spans its own side of 1."""
    colors = []
    for m in middles:
        if m < 1.0:
            position = (m - lowest) / ((1.0 - lowest) or 1.0)
            colors.append(sample_colorscale(UNDER_COLORSCALE, [min(max(position, 0), 1)])[0])
        else:
            position = (m - 1.0) / ((highest - 1.0) or 1.0)
            colors.append(sample_colorscale(OVER_COLORSCALE, [min(max(position, 0), 1)])[0])
    return colors


def _class_ticks(edges: list[float], indicator: Indicator) -> list[str]:
    """Legend entries ``"12,5 – 18,0 %"`` in the indicator's unit and decimals."""

    def fmt(v: float) -> str:
        return formatting.format_value(v, indicator.unit, indicator.decimals)

    return [f"{fmt(edges[i])} – {fmt(edges[i + 1])}" for i in range(len(edges) - 1)]


def _value_trace(
    known: pd.DataFrame, geojson: dict | None, indicator: Indicator, lang: str, method: str
):
    """Areas with a value, in ``classify.K`` classes by ``method``; those whose value
    carries a flag get a dark outline.

    Colours by :func:`_class_colors`; on a diverging scale grey borders (its middle is
    near white, so white borders would vanish). The colour bar lists the class ranges."""
    midpoint = _midpoint(known["value"], indicator.unit)
    diverging = midpoint is not None
    edges = classify.breaks(known["value"], method) or [0.0, 0.0]
    n = len(edges) - 1
    colors = _class_colors(edges, n, midpoint)
    steps = [[pos, c] for i, c in enumerate(colors) for pos in (i / n, (i + 1) / n)]
    index = classify.classes(known["value"], edges)
    border, width = (NULL_LINE_COLOR, 0.6) if diverging else ("white", 1)
    flagged = known["flag"].map(flags.is_flag).tolist()
    line = {"color": border, "width": width}
    if any(flagged):
        line = {
            "color": [FLAGGED_LINE_COLOR if f else border for f in flagged],
            "width": [2.5 if f else width for f in flagged],
        }
    method_label = t(f"map.classes.{method}", lang)
    title = t("map.classes_title", lang, unit=indicator.unit_label, method=method_label, k=n)
    colorbar = {
        **_colorbar(indicator),
        "title": {"text": title},
        "tickmode": "array",
        "tickvals": list(range(n)),
        "ticktext": _class_ticks(edges, indicator),
    }
    return (
        go.Choropleth(
            geojson=geojson,
            featureidkey="id",
            locations=known["area_id"].tolist(),
            z=index.tolist(),
            zmin=-0.5,
            zmax=n - 0.5,
            colorscale=steps,
            showscale=not known.empty,
            name=indicator.title,
            marker={"line": line},
            colorbar=colorbar,
            customdata=_map_hover(known, indicator, lang),
            hovertemplate=_HOVER,
        ),
        dict(zip(known["area_id"], index.tolist(), strict=True)),
        colors,
    )


def _flag_traces(unknown: pd.DataFrame, shapes: pd.DataFrame, indicator: Indicator, lang: str):
    """One neutral-coloured trace per flag for the areas without a value (each carries the
    geometry of its own areas only)."""
    by_flag = unknown.assign(flag=unknown["flag"].where(unknown["flag"].map(flags.is_flag)))
    by_flag["flag"] = by_flag["flag"].fillna(flags.MISSING)
    for flag in sorted(by_flag["flag"].unique(), key=flags.order):
        rows = by_flag[by_flag["flag"] == flag]
        color = flags.color(flag)
        yield go.Choropleth(
            geojson=feature_collection(shapes[shapes["area_id"].isin(rows["area_id"])]),
            featureidkey="id",
            locations=rows["area_id"].tolist(),
            z=[0] * len(rows),
            colorscale=[[0, color], [1, color]],
            showscale=False,
            name=labels.flag_label(flag, lang),
            showlegend=True,
            legendgroup=NO_VALUE_GROUP,
            legendgrouptitle={"text": t("map.no_value_legend", lang)},
            marker={"line": {"color": NULL_LINE_COLOR, "width": 0.8}},
            customdata=_map_hover(rows, indicator, lang),
            hovertemplate=_HOVER,
        )


def choropleth(
    values: pd.DataFrame,
    shapes: pd.DataFrame,
    indicator: Indicator,
    level_label: str,
    ref_date: str,
    lang: str,
    method: str = classify.DEFAULT_METHOD,
    area_labels: bool = False,
    geometry: bool = True,
    parents: pd.DataFrame | None = None,
    label_frame: tuple[float, float] | None = None,
) -> go.Figure:
    """Choropleth of one indicator for the areas of a level on one date.

    ``values``: rows of :func:`queries.area_values`; ``shapes``: :func:`queries.geometries`.
    Values in ``classify.K`` classes by ``method`` (see :mod:`dashboards.figures.classify`), the
    colour bar lists the class ranges. Areas without a value are drawn in a neutral tint
    per flag (suppressed, a source symbol, missing, ...; see :mod:`dashboards.flags` and
    :func:`components.map_legend`), in the legend under "keine Angabe". ``parents``
    (geometries of a coarser level, same columns as ``shapes``): their outlines on top,
    as the second trace (:data:`OUTLINE_NAME`). The first trace carries all geometries,
    later ones only their own (payload); ``geometry=False`` leaves them out of the first
    trace and skips framing (the browser has them: see pages/map.py). ``area_labels`` adds
    the area names at a point inside each area, as many as fit without overlapping
    (:func:`place_labels`) in a plot of ``label_frame`` (width, height) px (default: the
    screen's, estimated; an export knows its own).
    """
    if shapes.empty:
        return message(t("map.no_geometry", lang))
    rows = shapes[["area_id"]].merge(values, on="area_id", how="left")
    rows["name"] = rows["name"].fillna(rows["area_id"])
    known = rows[rows["value"].notna()]
    unknown = rows[rows["value"].isna()]
    geojson = feature_collection(shapes) if geometry else None
    trace, area_class, colors = _value_trace(known, geojson, indicator, lang, method)
    fig = go.Figure(trace)
    if parents is not None and not parents.empty:
        fig.add_trace(outline_trace(parents))
    fig.add_traces(list(_flag_traces(unknown, shapes, indicator, lang)))
    subtitle = t(
        "map.subtitle",
        lang,
        level=level_label,
        date=formatting.format_date(ref_date),
        unit=indicator.unit_label,
    )
    caption = source_caption(indicator, ref_date, lang)
    margin = {"l": 10, "r": 10, "t": 80, "b": 60}
    layout = base_layout(indicator.title, subtitle, caption, 600, margin)
    phone = narrow()
    if phone and not known.empty:  # a phone: the colour bar above the map, not beside it
        bar = NARROW_BAR_ROW * len(fig.data[0].colorbar.tickvals or ()) + NARROW_BAR_TITLE
        fig.data[0].colorbar.update(
            x=0, xanchor="left", y=1, yanchor="bottom", lenmode="pixels", len=bar,
            thickness=12, title_side="top",
        )  # fmt: skip
        layout["margin"] = {**layout["margin"], "t": layout["margin"]["t"] + bar + 12}
        layout["height"] += bar + 12 - 200  # the map is as wide as the phone: less high
    if not unknown.empty:  # "keine Angabe" and its tints in a row under the map
        layout["legend"] = {
            "orientation": "h", "x": 0, "xanchor": "left", "y": 0, "yanchor": "top",
            "itemclick": False, "itemdoubleclick": False, "font": {"size": 12},
        }  # fmt: skip
        legend = LEGEND_ROW * (1 + sum(trace.legendgroup == NO_VALUE_GROUP for trace in fig.data))
        layout["margin"]["b"] += legend
        layout["height"] += legend
        layout["annotations"][0]["yshift"] -= legend
    if area_labels:
        frame = label_frame or _frame_px(layout, phone, not known.empty)
        fig.add_trace(_label_trace(rows, shapes, area_class, colors, frame))
    fig.update_layout(**layout, dragmode=False)
    if geometry:
        fit_map(fig, geojson)
    return fig


LEGEND_ROW = 19  # px of a row of the legend of areas without a value (title, one per flag)
# The map's width is the browser's: labels are placed for an assumed plot width (the map
# keeps its aspect ratio inside; on a desktop its height limits it for most cities, so a
# wider window does not enlarge it, and a label placed here fits there too).
# A phone's map is as wide as its panel: 294 px on a 360 px screen (the narrowest kept).
ASSUMED_WIDTH, NARROW_WIDTH, COLORBAR_ROOM = 900, 294, 200


def _frame_px(layout: dict, phone: bool, colorbar: bool) -> tuple[float, float]:
    """(width, height) in px of the plot area the geo subplot fills (estimated)."""
    margin = layout["margin"]
    width = (NARROW_WIDTH if phone else ASSUMED_WIDTH) - margin["l"] - margin["r"]
    if colorbar and not phone:
        width -= COLORBAR_ROOM
    return width, layout["height"] - margin["t"] - margin["b"]


def outline_trace(parents: pd.DataFrame) -> go.Scattergeo:
    """The boundaries of the areas in ``parents`` as lines (one polyline per ring, rings
    separated by gaps), drawn over finer areas; no hover, no click."""
    boundaries = shapely.boundary(shapely.from_geojson(parents["geojson"].tolist()))
    parts = shapely.get_parts(boundaries)
    coords, index = shapely.get_coordinates(parts, return_index=True)
    coords = np.round(coords, 5)
    ends = np.flatnonzero(np.diff(index)) + 1  # where a new ring begins
    lon, lat = [], []
    for chunk in np.split(coords, ends):
        lon += [*chunk[:, 0].tolist(), None]
        lat += [*chunk[:, 1].tolist(), None]
    return go.Scattergeo(
        lon=lon,
        lat=lat,
        mode="lines",
        line={"color": OUTLINE_COLOR, "width": OUTLINE_WIDTH},
        hoverinfo="skip",
        showlegend=False,
        name=OUTLINE_NAME,
    )


NARROW_BAR_ROW, NARROW_BAR_TITLE = 22, 44  # px of a class and of the title of the colour bar


def _label_color(color: str) -> str:
    """White or black, whichever contrasts more with ``color`` (WCAG 2 relative luminance;
    the better of the two is at least 4.58:1 on any colour)."""
    channels = (
        unlabel_rgb(color)
        if color.startswith("rgb")
        else (int(color[i : i + 2], 16) for i in (1, 3, 5))
    )
    linear = [
        v / 255 / 12.92 if v / 255 <= 0.03928 else ((v / 255 + 0.055) / 1.055) ** 2.4
        for v in channels
    ]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "white" if 1.05 / (luminance + 0.05) > (luminance + 0.05) / 0.05 else "#000000"


# A halo of the opposite colour around each label (CSS text-shadow): a name is longer than
# its area is wide on a phone, and where it runs over a neighbour of another class it
# keeps its contrast there too.
DARK_HALO = "0 0 2px rgb(0,0,0), 0 0 2px rgb(0,0,0), 0 0 1px rgb(0,0,0)"
LIGHT_HALO = "0 0 2px #fff, 0 0 2px #fff, 0 0 1px #fff"


def _label_trace(rows, shapes, area_class: dict, colors: list, frame: tuple[float, float]):
    """Area names at a point inside each area (``shapely.point_on_surface``), in white or
    black, whichever contrasts more with the area's class colour (WCAG AA), with a halo
    of the other (:data:`DARK_HALO`, :data:`LIGHT_HALO`): the largest
    areas first, each only if its text fits in the map's frame without overlapping one
    already placed (:func:`place_labels` in the estimated pixel space of the map)."""
    geoms = shapely.from_geojson(shapes["geojson"].tolist())
    points = shapely.point_on_surface(geoms)
    names = dict(zip(rows["area_id"], rows["name"], strict=True))
    text = [label_lines(names[a]) for a in shapes["area_id"]]
    lon_range, lat_range, _ = _bounds(feature_collection(shapes))
    x0, x1 = _mercator_x(np.array(lon_range))
    y0, y1 = _mercator_y(np.array(lat_range))
    scale = min(frame[0] / (x1 - x0), frame[1] / (y1 - y0))
    px = (_mercator_x(shapely.get_x(points)) - x0) * scale
    py = (y1 - _mercator_y(shapely.get_y(points))) * scale
    lines = [name.split("<br>") for name in text]
    widths = np.array([LABEL_CHAR * LABEL_SIZE * max(map(len, parts)) for parts in lines])
    heights = np.array([LABEL_LINE * LABEL_SIZE * len(parts) for parts in lines])
    area = shapely.area(geoms)  # in degrees²: the same order as on the map
    kept = place_labels(px, py, widths, heights, area, (x1 - x0) * scale, (y1 - y0) * scale)
    index = [i for i, _, _ in kept]
    lon = [math.degrees(cx / scale + x0) for _, cx, _ in kept]
    lat = [math.degrees(2 * math.atan(math.exp(y1 - cy / scale)) - math.pi / 2) for *_, cy in kept]
    ids = shapes["area_id"].tolist()
    text_colors = [
        _label_color(colors[area_class[ids[i]]]) if ids[i] in area_class else TEXT_COLOR
        for i in index
    ]
    halos = [DARK_HALO if color == "white" else LIGHT_HALO for color in text_colors]
    return go.Scattergeo(
        lon=lon,
        lat=lat,
        text=[text[i] for i in index],
        mode="text",
        textfont={
            "size": LABEL_SIZE,
            "color": text_colors,
            "family": FONT_FAMILY,
            "shadow": halos,
        },  # fmt: skip
        hoverinfo="skip",
        showlegend=False,
        name="labels",
    )


LABEL_CHAR, LABEL_LINE = 0.6, 1.3  # estimated width of a character, height of a line (em)
LABEL_GAP = 2.0  # px kept free between two labels
LABEL_WRAP = 16  # a longer name is broken in two lines at a hyphen, slash or space


def label_lines(name: str) -> str:
    """A name longer than :data:`LABEL_WRAP` characters in two lines, broken after the
    hyphen or slash (or at the space) nearest its middle: "Charlottenburg-<br>Wilmersdorf"."""
    if len(name) <= LABEL_WRAP:
        return name
    breaks = [i + 1 for i, c in enumerate(name) if c in "-/"] + [
        i for i, c in enumerate(name) if c == " "
    ]
    if not breaks:
        return name
    cut = min(breaks, key=lambda i: abs(i - len(name) / 2))
    return f"{name[:cut].rstrip()}<br>{name[cut:].lstrip()}"


def _mercator_x(lon):
    return np.radians(lon)


def _mercator_y(lat):
    return np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))


def place_labels(
    x: np.ndarray,
    y: np.ndarray,
    widths: np.ndarray,
    heights: np.ndarray,
    priority: np.ndarray,
    frame_width: float,
    frame_height: float,
    gap: float = LABEL_GAP,
) -> list[tuple[int, float, float]]:
    """Greedy label placement: in order of ``priority`` (highest first; ties by index), a
    label centred at (``x``, ``y``) (px, y down) with its box of ``widths`` × ``heights``
    is moved inside the frame ``[0, frame_width] × [0, frame_height]`` (at most half its
    size: its point stays inside it) and kept if it keeps ``gap`` px from every box
    kept before; if not, the same just above and just below its point (the point on the
    box's edge). Returns (index, centre x, centre y) of the kept labels."""
    order = np.argsort(-np.asarray(priority, dtype=float), kind="stable")
    boxes = np.empty((0, 4))
    kept = []
    for i in order:
        w, h = float(widths[i]), float(heights[i])
        if w > frame_width or h > frame_height:
            continue
        cx = min(max(float(x[i]), w / 2), frame_width - w / 2)
        for dy in (0.0, -h / 2, h / 2):  # centred on its point, else just above or below
            cy = min(max(float(y[i]) + dy, h / 2), frame_height - h / 2)
            box = np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
            clear = (
                (boxes[:, 0] >= box[2] + gap)
                | (boxes[:, 2] <= box[0] - gap)
                | (boxes[:, 1] >= box[3] + gap)
                | (boxes[:, 3] <= box[1] - gap)
            )
            if clear.all():
                boxes = np.vstack([boxes, box])
                kept.append((int(i), cx, cy))
                break
    return kept


def _colorbar(indicator: Indicator) -> dict:
    return {
        "title": {"text": indicator.unit_label},
        **NUMBER_TICKS,
        "thickness": 14,
        "len": 0.75,
        "outlinewidth": 0,
    }
