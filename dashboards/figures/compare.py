"""Figures of the comparison page: change map, slope chart, areas side by side (bars).

Same conventions as :mod:`dashboards.figures.common` (title, unit, caption with source and data
dates, German separators, no plotly express) and its choropleth machinery (one geometry
payload, local topojson). Colour-blind safe: the change map uses the diverging ColorBrewer
PuOr scale centred at 0 (orange = decrease, purple = increase) with a symmetric range;
areas without a comparable change are grey *and* carry a symbol (× no value, ◇ boundaries
changed), because PuOr's light middle would otherwise be hard to tell from grey. The slope
chart tells increase from decrease by colour (Okabe–Ito blue/vermillion) and line style.
"""

from __future__ import annotations

import json

import pandas as pd
import plotly.graph_objects as go
from shapely.geometry import shape

from dashboards import flags, formatting, labels
from dashboards.data import compare as compare_data
from dashboards.data.catalogue import Indicator
from dashboards.data.profile import difference_text
from dashboards.figures import common as figures
from dashboards.i18n import t

BOUNDARY_COLOR = "#b3bac2"
SYMBOLS = {compare_data.BOUNDARY: "diamond-open", "no_value": "x"}
INCREASE, DECREASE, UNCHANGED = figures.OKABE_ITO[0], figures.OKABE_ITO[1], "#7b8794"
# names at the line ends in the line's colour, darkened where it is below 4.5:1 on white
# (vermillion 3.9:1 → 5.2:1, grey 3.7:1 → 5.2:1; blue has 5.2:1)
NAME_COLORS = {DECREASE: "#B34F00", UNCHANGED: "#616e7c"}
SLOPE_LABELS_UP_TO = 12  # areas named at the line ends when there are at most this many
SLOPE_PAGE_PLOT_PX = 400  # the page's slope chart: 560 px high, 80 px above and below
SLOPE_LABEL_PX, SLOPE_LABEL_FONT_PX = 14, 11  # a name at a line end: room, text size
SLOPE_LABEL_NAME = "slope-label"
NARROW_SLOPE_NAME, NARROW_SLOPE_RIGHT = 16, 2.5  # a phone: names' length, room for them
MAX_AREAS = 6  # areas side by side (Okabe–Ito colours without yellow; the city is black)


def _dates_text(dates: tuple[str, str]) -> tuple[str, str]:
    return formatting.format_date(dates[0]), formatting.format_date(dates[1])


def _caption(indicator: Indicator, dates: tuple[str, str], lang: str) -> str:
    text = t("chart.caption", lang, source=indicator.source, date=" / ".join(_dates_text(dates)))
    return figures.wrap_caption(text)


def _hover(rows: pd.DataFrame, indicator: Indicator, dates: tuple[str, str], lang: str) -> list:
    """customdata per area: [name, 'date A: value', 'date B: value', change or reason]."""
    first, second = _dates_text(dates)
    data = []
    for row in rows.to_dict("records"):
        a = labels.value_text(_num(row["value_a"]), row["flag_a"], indicator, lang, True)
        b = labels.value_text(_num(row["value_b"]), row["flag_b"], indicator, lang, True)
        if row["status"] in ("ok", "flagged"):
            last = f"{t('compare.change', lang)}: {difference_text(row['change'], indicator, lang)}"
        else:
            last = compare_data.status_label(row["flag"], lang)
        data.append([row["name"], f"{first}: {a}", f"{second}: {b}", last])
    return data


_HOVER = (
    "<b>%{customdata[0]}</b><br>%{customdata[1]}<br>%{customdata[2]}<br>%{customdata[3]}"
    "<extra></extra>"
)


def _num(value: object) -> float | None:
    return None if formatting.is_missing(value) or pd.isna(value) else float(value)


# --- change map ---------------------------------------------------------------------------
def change_map(
    frame: pd.DataFrame,
    shapes: pd.DataFrame,
    indicator: Indicator,
    level_label: str,
    dates: tuple[str, str],
    lang: str,
) -> go.Figure:
    """Choropleth of the change from ``dates[0]`` to ``dates[1]`` (``frame``:
    :func:`compare_data.change_frame`; ``shapes``: :func:`queries.geometries` on date B)."""
    if shapes.empty:
        return figures.message(t("map.no_geometry", lang))
    rows = shapes[["area_id", "geojson"]].merge(frame, on="area_id", how="inner")
    geojson = figures.feature_collection(shapes)
    known = rows[rows["status"].isin(("ok", "flagged"))]
    unknown = rows[~rows["status"].isin(("ok", "flagged"))]
    fig = go.Figure(_change_trace(known, geojson, indicator, dates, lang))
    fig.add_traces(list(_status_traces(unknown, indicator, dates, lang)))
    first, second = _dates_text(dates)
    subtitle = t(
        "compare.map_subtitle",
        lang,
        level=level_label,
        date_a=first,
        date_b=second,
        unit=compare_data.change_unit(indicator, lang),
    )
    title = t("compare.map_title", lang, title=indicator.title)
    margin = {"l": 10, "r": 10, "t": 80, "b": 90}
    caption = _caption(indicator, dates, lang)
    layout = figures.base_layout(title, subtitle, caption, 620, margin)
    if figures.narrow() and not known.empty:  # a phone: the colour bar above the map
        fig.data[0].colorbar.update(
            x=0, xanchor="left", y=1, yanchor="bottom", lenmode="pixels", len=NARROW_BAR - 12,
            thickness=12, title_side="top",
        )  # fmt: skip
        layout["margin"] = {**layout["margin"], "t": layout["margin"]["t"] + NARROW_BAR}
        layout["height"] += NARROW_BAR - 200  # the map is as wide as the phone: less high
    fig.update_layout(
        **layout,
        dragmode=False,
        showlegend=not unknown.empty,
        legend={"orientation": "h", "x": 0, "y": 0, "yanchor": "top", "itemclick": False},
    )
    figures.fit_map(fig, geojson)
    return fig


NARROW_BAR = 160  # px of the colour bar above the map on a phone, with its title


def _change_trace(known, geojson, indicator, dates, lang) -> go.Choropleth:
    """Comparable areas in PuOr, centred at 0 with a symmetric range; flagged outlined."""
    changes = known["change"].astype(float)
    reach = float(changes.abs().max()) if not known.empty else 0.0
    reach = reach or 1.0
    flagged = (known["status"] == "flagged").tolist()
    line = {"color": figures.NULL_LINE_COLOR, "width": 0.6}
    if any(flagged):
        line = {
            "color": [
                figures.FLAGGED_LINE_COLOR if f else figures.NULL_LINE_COLOR for f in flagged
            ],
            "width": [2.5 if f else 0.6 for f in flagged],
        }
    return go.Choropleth(
        geojson=geojson,
        featureidkey="id",
        locations=known["area_id"].tolist(),
        z=changes.tolist(),
        colorscale=figures.DIVERGING_COLORSCALE,
        zmid=0,
        zmin=-reach,
        zmax=reach,
        showscale=not known.empty,
        showlegend=False,
        name=t("compare.change", lang),
        marker={"line": line},
        colorbar={
            "title": {"text": compare_data.change_unit(indicator, lang)},
            **figures.NUMBER_TICKS,
            "thickness": 14,
            "len": 0.75,
            "outlinewidth": 0,
        },
        customdata=_hover(known, indicator, dates, lang),
        hovertemplate=_HOVER,
    )


def _status_traces(unknown, indicator, dates, lang):
    """Per reason (boundary changed, suppressed, missing, ...): a grey fill without legend
    entry and a symbol at a point inside each area, with the legend entry."""
    for flag in sorted(unknown["flag"].unique(), key=lambda f: (f == compare_data.BOUNDARY, f)):
        rows = unknown[unknown["flag"] == flag]
        boundary = flag == compare_data.BOUNDARY
        color = BOUNDARY_COLOR if boundary else flags.color(flag)
        name = compare_data.status_label(flag, lang)
        hover = _hover(rows, indicator, dates, lang)
        yield go.Choropleth(
            geojson=figures.feature_collection(rows[["area_id", "geojson"]]),
            featureidkey="id",
            locations=rows["area_id"].tolist(),
            z=[0] * len(rows),
            colorscale=[[0, color], [1, color]],
            showscale=False,
            showlegend=False,
            name=name,
            marker={"line": {"color": figures.NULL_LINE_COLOR, "width": 0.8}},
            customdata=hover,
            hovertemplate=_HOVER,
        )
        points = [shape(json.loads(g)).representative_point() for g in rows["geojson"]]
        yield go.Scattergeo(
            lon=[p.x for p in points],
            lat=[p.y for p in points],
            mode="markers",
            name=name,
            marker={
                "symbol": SYMBOLS[compare_data.BOUNDARY if boundary else "no_value"],
                "size": 9,
                "color": figures.TEXT_COLOR,
                "line": {"width": 1.5, "color": figures.TEXT_COLOR},
            },
            customdata=hover,
            hovertemplate=_HOVER,
        )


# --- slope chart --------------------------------------------------------------------------
def slope_chart(
    frame: pd.DataFrame,
    city: pd.DataFrame,
    indicator: Indicator,
    level_label: str,
    dates: tuple[str, str],
    lang: str,
    plot_px: int = SLOPE_PAGE_PLOT_PX,
) -> go.Figure:
    """Each area from date A to date B (one line), coloured by the sign of the change;
    the city black and thick. Areas with changed boundaries are dotted grey lines; areas
    lacking a value cannot be drawn (the legend under the map counts them). With at most
    :data:`SLOPE_LABELS_UP_TO` areas each line end is named, the names kept apart for a
    plot ``plot_px`` high (:func:`spread`)."""
    drawn = frame[frame["value_a"].notna() & frame["value_b"].notna()]
    if drawn.empty and city.empty:
        return figures.message(t("chart.no_data", lang))
    x = list(_dates_text(dates))
    groups = [
        ("increase", drawn["change"] > 0, INCREASE, "solid"),
        ("decrease", drawn["change"] < 0, DECREASE, "dash"),
        ("unchanged", drawn["change"] == 0, UNCHANGED, "solid"),
        ("boundary", drawn["change"].isna(), UNCHANGED, "dot"),
    ]
    named = len(drawn) <= SLOPE_LABELS_UP_TO
    fig = go.Figure()
    ends = []  # (value at date B, name, colour) of every named line end
    for key, mask, color, dash in groups:
        rows = drawn[mask.fillna(False).astype(bool)]
        if rows.empty:
            continue
        name = (
            compare_data.status_label(compare_data.BOUNDARY, lang)
            if key == "boundary"
            else t(f"compare.{key}", lang)
        )
        fig.add_trace(_slope_trace(rows, x, name, color, dash, 1.6, indicator, dates, lang))
        if named:
            ends += [(v, n, color) for v, n in zip(rows["value_b"], rows["name"], strict=True)]
    if not city.empty:
        name = city["name"].iloc[0]
        fig.add_trace(
            _slope_trace(city, x, name, figures.CITY_COLOR, "solid", 3.5, indicator, dates, lang)
        )
        if pd.notna(city["value_b"].iloc[0]):
            ends.append((city["value_b"].iloc[0], f"<b>{name}</b>", figures.CITY_COLOR))
    _slope_layout(fig, indicator, level_label, dates, lang)
    both = pd.concat([drawn[["value_a", "value_b"]], city[["value_a", "value_b"]]])
    values = pd.Series(both.to_numpy(dtype=float).ravel()).dropna()
    _slope_labels(fig, ends, values, plot_px)
    return fig


def spread(targets: list[float], gap: float) -> list[float]:
    """Positions for labels wanted at ``targets`` (ascending): at least ``gap`` apart, in
    the same order, and as close to the targets as possible (least squares).

    With q_i = p_i − i·gap the condition p_(i+1) − p_i ≥ gap reads q non-decreasing, so
    q is the isotonic regression of z_i = t_i − i·gap: pool adjacent violators, each pool
    at the mean of its z (Barlow et al. 1972)."""
    pools: list[list[float]] = []  # [mean of z, number of labels]
    for i, target in enumerate(targets):
        pools.append([target - i * gap, 1])
        while len(pools) > 1 and pools[-2][0] > pools[-1][0]:
            mean, count = pools.pop()
            before, n = pools[-1]
            pools[-1] = [(before * n + mean * count) / (n + count), n + count]
    q = [mean for mean, count in pools for _ in range(int(count))]
    return [qi + i * gap for i, qi in enumerate(q)]


def _slope_labels(fig: go.Figure, ends: list, values: pd.Series, plot_px: int) -> None:
    """Name the line ends right of date B, spread :data:`SLOPE_LABEL_PX` apart on a plot
    ``plot_px`` high; the value axis is widened until the names fit on it."""
    if values.empty:
        return
    low, high = float(values.min()), float(values.max())
    pad = 0.05 * (high - low) or max(abs(high) * 0.05, 1.0)
    axis = [low - pad, high + pad]
    ends = sorted(ends, key=lambda end: (float(end[0]), end[1]))
    positions: list[float] = []
    # the names need len(ends) · SLOPE_LABEL_PX of the plot (at most 13 · 14 of 400 px);
    # a wider axis needs a smaller gap, so widening converges geometrically
    for _ in range(200):
        gap = SLOPE_LABEL_PX * (axis[1] - axis[0]) / plot_px
        positions = spread([float(end[0]) for end in ends], gap)
        tolerance = 1e-12 * (axis[1] - axis[0])
        if not positions or (
            positions[0] - gap / 2 >= axis[0] - tolerance
            and positions[-1] + gap / 2 <= axis[1] + tolerance
        ):
            break
        axis = [min(axis[0], positions[0] - gap / 2), max(axis[1], positions[-1] + gap / 2)]
    fig.update_yaxes(range=axis, autorange=False)
    phone = figures.narrow()
    for (_, name, color), y in zip(ends, positions, strict=True):
        if phone and len(name) > NARROW_SLOPE_NAME:  # the full name is in the hover
            name = name[: NARROW_SLOPE_NAME - 1].rstrip(" -/") + "…"
        fig.add_annotation(
            # x: date B by its number on the category axis, as plotly asks of annotations
            name=SLOPE_LABEL_NAME,
            text=name,
            x=1,
            y=y,
            xanchor="left",
            xshift=8,
            showarrow=False,
            font={"size": SLOPE_LABEL_FONT_PX, "color": NAME_COLORS.get(color, color)},
        )


def _slope_trace(rows, x, name, color, dash, width, indicator, dates, lang):
    """All areas of one group in one trace: segments separated by gaps (None)."""
    xs, ys, custom = [], [], []
    hover = _hover(rows, indicator, dates, lang)
    for row, data in zip(rows.to_dict("records"), hover, strict=True):
        xs += [*x, None]
        ys += [row["value_a"], row["value_b"], None]
        custom += [data, data, data]
    return go.Scatter(
        x=xs,
        y=ys,
        mode="lines+markers",
        name=name,
        line={"color": color, "dash": dash, "width": width},
        marker={"size": 6, "color": color},
        customdata=custom,
        hovertemplate=_HOVER,
        connectgaps=False,
        cliponaxis=False,
    )


def _slope_layout(fig, indicator, level_label, dates, lang) -> None:
    first, second = _dates_text(dates)
    title = t("compare.slope_title", lang, title=indicator.title, date_a=first, date_b=second)
    subtitle = t("compare.slope_subtitle", lang, level=level_label, unit=indicator.unit_label)
    margin = {"l": 60, "r": 20, "t": 80, "b": 80}
    fig.update_layout(
        **figures.base_layout(title, subtitle, _caption(indicator, dates, lang), 560, margin),
        legend={"orientation": "v", "x": 1.01, "y": 1, "xanchor": "left"},
        hovermode="closest",
    )
    phone = figures.narrow()
    fig.update_xaxes(
        type="category",
        range=[-0.25, NARROW_SLOPE_RIGHT if phone else 1.9],  # right of date B: the names
        showgrid=False,
        linecolor="#9aa5b1",
        ticks="outside",
    )
    if phone:
        figures.legend_above_plot(fig)
    fig.update_yaxes(gridcolor="#e4e7eb", zeroline=False, **figures.NUMBER_TICKS)
    if indicator.unit == "percent":
        fig.update_yaxes(ticksuffix=" %")
    else:
        fig.update_yaxes(title={"text": indicator.unit_label})


# --- areas side by side -------------------------------------------------------------------
def area_bars(
    frame: pd.DataFrame, indicator: Indicator, city_id: str | None, lang: str
) -> go.Figure:
    """Grouped bars: the reference dates on the x axis, one bar per area (and the city,
    black) at each date. ``frame``: :func:`labels.series_labels` of :func:`queries.series`.
    A value missing because of a flag is a "×" at 0 whose hover names the flag."""
    if frame.empty:
        return figures.message(t("chart.no_data", lang))
    dates = sorted(frame["ref_date"].unique())
    keys = list(dict.fromkeys(frame["series"]))
    others = [k for k in keys if k != city_id]
    fig = go.Figure()
    for key in keys:
        rows = frame[frame["series"] == key].sort_values("ref_date")
        color = (
            figures.CITY_COLOR
            if key == city_id
            else figures.OKABE_ITO[others.index(key) % len(figures.OKABE_ITO)]
        )
        fig.add_trace(_bar_trace(rows, color, indicator, lang))
    subtitle = t(
        "compare.bars_subtitle",
        lang,
        first=formatting.format_date(dates[0]),
        last=formatting.format_date(dates[-1]),
        unit=indicator.unit_label,
    )
    caption = figures.source_caption(indicator, dates[-1], lang)
    margin = {"l": 60, "r": 20, "t": 80, "b": 80}
    fig.update_layout(
        **figures.base_layout(
            t("compare.bars_title", lang, title=indicator.title), subtitle, caption, 480, margin
        ),
        barmode="group",
        bargap=0.25,
        legend={"orientation": "v", "x": 1.01, "y": 1, "xanchor": "left"},
        hovermode="closest",
    )
    phone = figures.narrow()
    if phone:
        figures.legend_above_plot(fig)
    ticks = figures.thinned(dates, most=figures.NARROW_DATE_TICKS if phone else 10)
    fig.update_xaxes(
        type="category",
        categoryorder="array",
        categoryarray=[formatting.format_date(d) for d in dates],
        tickvals=[formatting.format_date(d) for d in ticks],
        tickangle=0,
        linecolor="#9aa5b1",
    )
    fig.update_yaxes(
        gridcolor="#e4e7eb", zeroline=True, zerolinecolor="#9aa5b1", **figures.NUMBER_TICKS
    )
    if indicator.unit == "percent":
        fig.update_yaxes(ticksuffix=" %")
    else:
        fig.update_yaxes(title={"text": indicator.unit_label})
    return fig


def _bar_trace(rows: pd.DataFrame, color: str, indicator: Indicator, lang: str) -> go.Bar:
    missing = rows["value"].isna()
    label = rows["label"].iloc[0]
    return go.Bar(
        x=[formatting.format_date(d) for d in rows["ref_date"]],
        y=rows["value"].fillna(0).tolist(),
        name=label,
        marker={"color": color},
        text=["×" if m else "" for m in missing],
        textposition="outside",
        textfont={"color": figures.TEXT_COLOR, "size": 13},
        customdata=[
            [label, formatting.format_date(d), labels.value_text(_num(v), f, indicator, lang, True)]
            for d, v, f in zip(rows["ref_date"], rows["value"], rows["flag"], strict=True)
        ],
        hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}: %{customdata[2]}"
        "<extra></extra>",
        cliponaxis=False,
    )
