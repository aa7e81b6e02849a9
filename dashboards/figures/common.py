"""Pure figure functions: DataFrames (+ labels) in, ``plotly.graph_objects.Figure`` out.

Every figure carries a title, the unit, and a caption with source and data date, so an
exported image is self-explanatory. Numbers use German separators (``layout.separators``);
hover texts are preformatted by :mod:`dashboards.labels`. Colours are colour-blind safe:
Cividis for maps (PuOr, centred at 0, when values have both signs, e.g. net migration;
centred at 1 for location quotients),
Okabe–Ito for lines (Okabe & Ito 2008, "Color Universal Design"). Areas without a value are
drawn in a neutral tint per flag (:mod:`dashboards.flags`); values carrying a flag get a
dark outline; in time series, dates without a value are marked on the time axis.

No plotly express here: ``go`` objects are several times faster to build in callbacks.
"""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import plotly.graph_objects as go
import shapely
from plotly.colors import sample_colorscale, unlabel_rgb

from dashboards import flags, formatting, labels
from dashboards.data.catalogue import Indicator
from dashboards.figures import classify
from dashboards.i18n import t

FONT_FAMILY = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", Arial, sans-serif'
)
TEXT_COLOR = "#1f2933"
MUTED_COLOR = "#52606d"
MODEBAR = {"color": MUTED_COLOR, "activecolor": TEXT_COLOR}  # chart toolbar icons: 3:1+
COLORSCALE = "Cividis"
DIVERGING_COLORSCALE = "PuOr"  # ColorBrewer, colour-blind safe; orange < 0 < purple
NULL_LINE_COLOR = "#8a949e"
FLAGGED_LINE_COLOR = TEXT_COLOR
CAPTION_WIDTH = 115  # characters per caption line before it wraps
CAPTION_LINE_PX = 15
CAPTION_NAME = "caption"  # layout.annotations[].name of the source line
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


def base_layout(title: str, subtitle: str, caption: str, height: int, margin: dict) -> dict:
    """Shared layout: title + subtitle on top, caption (source · date) bottom left.

    The bottom margin grows with the number of caption lines.
    """
    extra = CAPTION_LINE_PX * caption.count("<br>")
    return {
        "title": {
            "text": f"<b>{title}</b>",
            "subtitle": {"text": subtitle},
            "x": 0,
            "xanchor": "left",
            "xref": "paper",
            "font": {"size": 17},
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


def _bounds(geojson: dict) -> tuple[list[float], list[float]]:
    """Longitude and latitude range of a feature collection (plus a margin of ``MAP_PAD``).

    Given to the geo subplot as axis ranges: its frame then takes the area's aspect ratio
    (with ``fitbounds`` alone plotly keeps a square frame, and Berlin filled half of it).
    """
    lons, lats = [], []
    for feature in geojson["features"]:
        for lon, lat, *_ in _positions(feature["geometry"]["coordinates"]):
            lons.append(lon)
            lats.append(lat)
    pad_lon, pad_lat = MAP_PAD * (max(lons) - min(lons)), MAP_PAD * (max(lats) - min(lats))
    return (
        [min(lons) - pad_lon, max(lons) + pad_lon],
        [min(lats) - pad_lat, max(lats) + pad_lat],
    )


def _map_hover(rows: pd.DataFrame, indicator: Indicator, lang: str) -> list[list[str]]:
    """customdata per area: [name, value text, '<br>'-prefixed count lines]."""
    data = []
    for row in rows.to_dict("records"):
        lines = labels.count_lines(row, indicator, lang)
        value = labels.value_text(row["value"], row["flag"], indicator, lang, with_unit=True)
        extra = "".join(f"<br>{line}" for line in lines)
        data.append([row["name"], value, extra])
    return data


_HOVER = "<b>%{customdata[0]}</b><br>%{customdata[1]}%{customdata[2]}<extra></extra>"


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
    fig.update_layout(**layout, dragmode=False)
    if geometry:
        fit_map(fig, geojson)
    return fig


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


def geometry_key(shapes: pd.DataFrame) -> str:
    """A digest of the areas and their boundaries: equal keys, same geometry on the map."""
    digest = hashlib.blake2b(digest_size=16)
    for area_id, geojson in zip(shapes["area_id"], shapes["geojson"], strict=True):
        digest.update(f"{area_id}\0{geojson}\0".encode())
    return digest.hexdigest()


def fit_map(fig: go.Figure, geojson: dict) -> None:
    """Frame the geo subplot on the mapped areas (Mercator, no base map)."""
    lon_range, lat_range = _bounds(geojson)
    fig.update_geos(
        fitbounds="locations",
        visible=False,
        projection_type="mercator",
        lonaxis_range=lon_range,
        lataxis_range=lat_range,
    )


def _colorbar(indicator: Indicator) -> dict:
    return {
        "title": {"text": indicator.unit_label},
        **NUMBER_TICKS,
        "thickness": 14,
        "len": 0.75,
        "outlinewidth": 0,
    }


def segments(frame: pd.DataFrame) -> list[pd.DataFrame]:
    """Split one series where ``definition_id`` changes: a series break is never joined."""
    run = (frame["definition_id"] != frame["definition_id"].shift()).cumsum()
    return [part for _, part in frame.groupby(run, sort=True)]


def _trend_hover(rows: pd.DataFrame, indicator: Indicator, lang: str) -> list[list[str]]:
    data = []
    for row in rows.to_dict("records"):
        lines = labels.count_lines(row, indicator, lang)
        if indicator.is_segregation and not formatting.is_missing(row["n_units"]):
            lines = [t("series.units", lang, n=formatting.format_count(row["n_units"]))]
        data.append(
            [
                row["label"],
                formatting.format_date(row["ref_date"]),
                labels.value_text(row["value"], row["flag"], indicator, lang, with_unit=True),
                "".join(f"<br>{line}" for line in lines),
            ]
        )
    return data


def _series_color(key: str, position: int, city_id: str | None) -> str:
    if key == city_id:
        return CITY_COLOR
    return OKABE_ITO[position % len(OKABE_ITO)]


def thinned(dates: list, most: int = 8) -> list:
    """At most ``most`` tick dates, always including the latest, so labels stay horizontal
    and clear of the source line under the axis. Of half-yearly dates only those of the
    latest date's day and month (e.g. every 31.12.) are ticked, so ticks are evenly spaced."""
    same_day = [d for d in dates if str(d)[5:10] == str(dates[-1])[5:10]]
    if len(same_day) > 1:
        dates = same_day
    step = -(-len(dates) // most)
    return dates[::-1][::step][::-1]


def _flag_rug(frame: pd.DataFrame, lang: str) -> go.Scatter | None:
    """Ticks on the time axis for dates whose value is missing because of a flag.

    Drawn on a hidden second y axis (0..1), so they sit just above the time axis whatever
    the values' scale; the hover names the series, the date and the flag.
    """
    rows = frame[frame["value"].isna() & frame["flag"].map(flags.is_flag)]
    if rows.empty:
        return None
    return go.Scatter(
        x=rows["ref_date"].tolist(),
        y=[0.03] * len(rows),
        yaxis="y2",
        mode="markers",
        name=t("trends.flagged", lang),
        marker={"symbol": "line-ns-open", "size": 12, "color": MUTED_COLOR, "line": {"width": 2}},
        customdata=[
            [label, formatting.format_date(d), labels.flag_label(flag, lang)]
            for label, d, flag in zip(rows["label"], rows["ref_date"], rows["flag"], strict=True)
        ],
        hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}: %{customdata[2]}"
        "<extra></extra>",
    )


def date_axis(fig: go.Figure, dates: list[str], most: int = 8) -> None:
    """Ticks on reference dates (at most ``most``, German format) on every x axis; one date
    gets a year's room."""
    ticks = thinned(dates, most)
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


def _series_traces(frame: pd.DataFrame, indicator: Indicator, lang: str, colors: dict, city_id):
    """Line segments per series (a change of ``definition_id`` breaks the line)."""
    for key, rows in frame.groupby("series", sort=False):
        for i, part in enumerate(segments(rows.sort_values("ref_date"))):
            yield go.Scatter(
                x=part["ref_date"].tolist(),
                y=part["value"].tolist(),
                mode="lines+markers",
                name=part["label"].iloc[0],
                legendgroup=str(key),
                showlegend=i == 0,
                line={"color": colors[key], "width": 3.5 if key == city_id else 2.2},
                marker={"size": 7},
                customdata=_trend_hover(part, indicator, lang),
                hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}: %{customdata[2]}"
                "%{customdata[3]}<extra></extra>",
                connectgaps=False,
            )


def trend(
    frame: pd.DataFrame, indicator: Indicator, lang: str, city_id: str | None = None
) -> go.Figure:
    """Line chart over reference dates, one line per ``series`` (see :func:`labels.series_labels`).

    The city (``city_id``) is drawn black and thicker; other series in Okabe–Ito colours.
    A change of ``definition_id`` starts a new line segment (series break). Dates without
    a value because of a flag (e.g. a source symbol) are marked on the time axis. The axis
    shows the dates of this indicator only (half-yearly, annual, 30 June, ...).
    """
    if frame.empty:
        return message(t("chart.no_data", lang))
    keys = list(dict.fromkeys(frame["series"]))
    others = [k for k in keys if k != city_id]
    colors = {k: _series_color(k, others.index(k) if k in others else 0, city_id) for k in keys}
    fig = go.Figure(list(_series_traces(frame, indicator, lang, colors, city_id)))
    rug = _flag_rug(frame, lang)
    if rug is not None:
        fig.add_trace(rug)
        fig.update_layout(
            yaxis2={"overlaying": "y", "range": [0, 1], "visible": False, "fixedrange": True}
        )
    dates = sorted(frame["ref_date"].unique())
    subtitle = t("trends.subtitle", lang, unit=indicator.unit_label)
    caption = source_caption(indicator, dates[-1], lang)
    margin = {"l": 60, "r": 20, "t": 80, "b": 80}
    fig.update_layout(
        **base_layout(indicator.title, subtitle, caption, 480, margin),
        legend={"orientation": "v", "x": 1.01, "y": 1, "xanchor": "left"},
        hovermode="closest",
    )
    date_axis(fig, dates)
    fig.layout.yaxis.update(
        rangemode="tozero",
        gridcolor="#e4e7eb",
        zeroline=True,
        zerolinecolor="#9aa5b1",
        **NUMBER_TICKS,
    )
    if indicator.unit == "percent":
        fig.layout.yaxis.update(ticksuffix=" %")
    else:
        fig.layout.yaxis.update(title={"text": indicator.unit_label})
    return fig
