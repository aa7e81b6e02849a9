"""The choropleth map of the Karte page (also drawn by the segregation page's location
quotients and by the map export): pure, DataFrames (+ labels) in, ``go.Figure`` out.

Class breaks from :mod:`dashboards.figures.classify`; one trace for the classified values,
one per flag of areas without a value (grey, with a legend entry), optional area labels.
Shared conventions (caption, layout, geometry payload) in :mod:`dashboards.figures.common`.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import shapely
from plotly.colors import sample_colorscale, unlabel_rgb

from dashboards import flags, formatting, labels
from dashboards.data.catalogue import Indicator
from dashboards.figures import classify
from dashboards.figures.common import (
    _HOVER,
    COLORSCALE,
    DIVERGING_COLORSCALE,
    FLAGGED_LINE_COLOR,
    FONT_FAMILY,
    NULL_LINE_COLOR,
    NUMBER_TICKS,
    TEXT_COLOR,
    base_layout,
    feature_collection,
    fit_map,
    message,
    narrow,
    source_caption,
)
from dashboards.i18n import t


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
    """One colour per class: Cividis steps; for a diverging scale, PuOr at each class's
    middle value, with ``midpoint`` (0 or 1) in the middle of the scale."""
    if midpoint is None:
        positions = [i / (n - 1) for i in range(n)] if n > 1 else [0.5]
        return sample_colorscale(COLORSCALE, positions)
    span = max(abs(edges[0] - midpoint), abs(edges[-1] - midpoint)) or 1.0
    middles = [(edges[i] + edges[i + 1]) / 2 for i in range(n)]
    positions = [min(max(0.5 + (m - midpoint) / (2 * span), 0.0), 1.0) for m in middles]
    return sample_colorscale(DIVERGING_COLORSCALE, positions)


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

    Cividis steps; PuOr centred at 0 for values of both signs (at 1 for quotients on both
    sides of 1), with grey borders (its middle is near white, so white borders would
    vanish). The colour bar lists the class ranges."""
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
) -> go.Figure:
    """Choropleth of one indicator for the areas of a level on one date.

    ``values``: rows of :func:`queries.area_values`; ``shapes``: :func:`queries.geometries`.
    Values in ``classify.K`` classes by ``method`` (see :mod:`dashboards.figures.classify`), the
    colour bar lists the class ranges. Areas without a value are drawn in a neutral tint
    per flag (suppressed, a source symbol, missing, ...; see :mod:`dashboards.flags` and
    :func:`components.map_legend`). The first trace carries all geometries, later ones
    only their own (payload); ``geometry=False`` leaves them out of the first trace and
    skips framing (the browser has them: see pages/map.py). ``area_labels`` adds the area
    names at a point inside each area.
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
    fig.add_traces(list(_flag_traces(unknown, shapes, indicator, lang)))
    if area_labels:
        fig.add_trace(_label_trace(rows, shapes, area_class, colors))
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
    if narrow() and not known.empty:  # a phone: the colour bar above the map, not beside it
        bar = NARROW_BAR_ROW * len(fig.data[0].colorbar.tickvals or ()) + NARROW_BAR_TITLE
        fig.data[0].colorbar.update(
            x=0, xanchor="left", y=1, yanchor="bottom", lenmode="pixels", len=bar,
            thickness=12, title_side="top",
        )  # fmt: skip
        layout["margin"] = {**layout["margin"], "t": layout["margin"]["t"] + bar + 12}
        layout["height"] += bar + 12 - 200  # the map is as wide as the phone: less high
    fig.update_layout(**layout, dragmode=False)
    if geometry:
        fit_map(fig, geojson)
    return fig


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


def _label_trace(rows: pd.DataFrame, shapes: pd.DataFrame, area_class: dict, colors: list):
    """Area names at a point inside each area (``shapely.point_on_surface``), in white or
    black, whichever contrasts more with the area's class colour (WCAG AA)."""
    points = shapely.point_on_surface(shapely.from_geojson(shapes["geojson"].tolist()))
    names = dict(zip(rows["area_id"], rows["name"], strict=True))
    text_colors = [
        _label_color(colors[area_class[a]]) if a in area_class else TEXT_COLOR
        for a in shapes["area_id"]
    ]
    return go.Scattergeo(
        lon=shapely.get_x(points).tolist(),
        lat=shapely.get_y(points).tolist(),
        text=[names[a] for a in shapes["area_id"]],
        mode="text",
        textfont={"size": 9, "color": text_colors, "family": FONT_FAMILY},
        hoverinfo="skip",
        showlegend=False,
        name="labels",
    )


def _colorbar(indicator: Indicator) -> dict:
    return {
        "title": {"text": indicator.unit_label},
        **NUMBER_TICKS,
        "thickness": 14,
        "len": 0.75,
        "outlinewidth": 0,
    }
