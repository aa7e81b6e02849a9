"""Figures of the segregation page (pure: DataFrames and labels in, plotly figures out).

* :func:`levels_over_time` — a city-wide index over the reference dates, one panel per
  level of units side by side (small multiples with a shared y axis, so the dependence on
  unit size shows), each with the random-allocation benchmark: expected value (dashed) and
  95 % range (band) of the index when the same group sizes are spread at random over the
  same units (:mod:`etl.indicators.random_allocation`).
* :func:`curve_points` / :func:`segregation_curve` — the segregation curve of a group
  (Duncan & Duncan 1955, "A methodological analysis of segregation indexes", ASR 20): units
  ordered by the group's share p_i = x_i/t_i, cumulative share of the rest of the population
  (t_i − x_i) on the x axis against the cumulative share of the group x_i on the y axis.
  Twice the area between curve and diagonal is the Gini segregation index, the largest
  vertical distance is the Segregationsindex IS (dissimilarity of group and rest).

Titles, units, source and data date as in :mod:`dashboards.figures.common`; Okabe–Ito colours.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboards import formatting, labels
from dashboards.data.breaks import Break
from dashboards.data.catalogue import Indicator
from dashboards.data.snapshot import SUPPRESSED
from dashboards.figures import common as figures
from dashboards.i18n import t

OBSERVED_COLOR = figures.OKABE_ITO[0]  # blue
RANDOM_COLOR = figures.OKABE_ITO[1]  # vermillion
RANDOM_BAND = "rgba(213, 94, 0, 0.16)"
DIAGONAL_COLOR = "#9aa5b1"
PANELS_PER_ROW = 4
PANEL_HEIGHT = 250  # px per row of panels (plot area and panel title)
PANEL_TICKS = 3  # date ticks per small panel
# legend in one line at the bottom, below the source line (title and subtitle stay clear)
BOTTOM_LEGEND = {
    "orientation": "h",
    "x": 0,
    "xanchor": "left",
    "yref": "container",
    "y": 0,
    "yanchor": "bottom",
}
LEGEND_PX = 34  # room for it in the bottom margin
LEGEND_LINE_PX = 17
NARROW_LEGEND_CHARS = 24  # a legend entry's line on a phone (two entries side by side)
CURVE_COLUMNS = ["area_id", "name", "share", "rest_cum", "group_cum"]


# --- the index per level over time -------------------------------------------------------
def with_baseline(series: pd.DataFrame, baseline: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`queries.series` (city, every level) with the benchmark columns
    ``expected``, ``lower``, ``upper``, ``draws`` of
    :func:`dashboards.data.segregation.random_baseline`."""
    columns = ["level", "ref_date", "expected", "lower", "upper", "draws"]
    return series.merge(baseline[columns], on=["level", "ref_date"], how="left")


def _panel_title(rows: pd.DataFrame, level_label: str, lang: str) -> str:
    """``"Stadtteil (n = 12)"``; across a boundary break the units before and after."""
    text = labels.level_units(rows.sort_values("ref_date"), level_label, lang)
    return text.replace(" (", "<br>(", 1) if "break_before" in rows and len(text) > 24 else text


def _observed_hover(rows: pd.DataFrame, indicator: Indicator, level_label: str, lang: str):
    return [
        [
            level_label,
            formatting.format_date(r["ref_date"]),
            labels.value_text(r["value"], r["flag"], indicator, lang, with_unit=True),
            t("series.units", lang, n=formatting.format_count(r["n_units"])),
        ]
        for r in rows.to_dict("records")
    ]


def benchmark_text(row: dict, decimals: int, lang: str) -> str:
    """``"Zufallsverteilung: 0,031 (95 %: 0,029–0,033; 4 Simulationen)"``."""
    return t(
        "seg.hover_expected",
        lang,
        expected=formatting.format_number(row["expected"], decimals),
        lower=formatting.format_number(row["lower"], decimals),
        upper=formatting.format_number(row["upper"], decimals),
        draws=formatting.format_count(row["draws"]),
    )


def _benchmark_traces(rows: pd.DataFrame, decimals: int, first: bool, lang: str):
    """Per segment (:func:`figures.segments`: never across a series break) the upper edge,
    the band down to the lower edge, and the expected value (dashed)."""
    traces = []
    for i, part in enumerate(figures.segments(rows)):
        traces += _benchmark_segment(part, decimals, first and i == 0, lang)
    return traces


def _benchmark_segment(rows: pd.DataFrame, decimals: int, first: bool, lang: str):
    rows = rows[rows["expected"].notna()]
    if rows.empty:
        return []
    x = rows["ref_date"].tolist()
    hover = [[benchmark_text(r, decimals, lang)] for r in rows.to_dict("records")]
    edge = {"width": 0, "color": RANDOM_COLOR}
    return [
        go.Scatter(
            x=x,
            y=rows["upper"].tolist(),
            mode="lines",
            line=edge,
            hoverinfo="skip",
            showlegend=False,
            legendgroup="range",
        ),
        go.Scatter(
            x=x,
            y=rows["lower"].tolist(),
            mode="lines",
            line=edge,
            fill="tonexty",
            fillcolor=RANDOM_BAND,
            hoverinfo="skip",
            name=t("seg.range", lang),
            showlegend=first,
            legendgroup="range",
        ),
        go.Scatter(
            x=x,
            y=rows["expected"].tolist(),
            mode="lines",
            line={"color": RANDOM_COLOR, "width": 2, "dash": "dash"},
            name=t("seg.expected", lang),
            showlegend=first,
            legendgroup="expected",
            customdata=hover,
            hovertemplate="%{customdata[0]}<extra></extra>",
        ),
    ]


def _observed_traces(rows, indicator: Indicator, level_label: str, first: bool, lang: str):
    """The observed index; a change of definition breaks the line (series break)."""
    for i, part in enumerate(figures.segments(rows)):
        yield go.Scatter(
            x=part["ref_date"].tolist(),
            y=part["value"].tolist(),
            mode="lines+markers",
            line={"color": OBSERVED_COLOR, "width": 2.5},
            marker={"size": 6},
            name=t("seg.observed", lang),
            showlegend=first and i == 0,
            legendgroup="observed",
            customdata=_observed_hover(part, indicator, level_label, lang),
            hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}: %{customdata[2]}"
            "<br>%{customdata[3]}<extra></extra>",
            connectgaps=False,
        )


def levels_over_time(
    frame: pd.DataFrame,
    indicator: Indicator,
    level_labels: dict[str, str],
    lang: str,
    panels_per_row: int = PANELS_PER_ROW,
    breaks: Sequence[Break] = (),
) -> go.Figure:
    """Small multiples: one panel per level (coarse to fine) of the index over time with
    its random-allocation benchmark; ``frame`` from :func:`with_baseline`. Lines and bands
    break at series breaks; each of ``breaks`` is drawn in the panel of its level (the
    number of units before and after it is in the panel's title)."""
    if frame.empty:
        return figures.message(t("chart.no_data", lang))
    levels = list(dict.fromkeys(frame.sort_values(["rank", "ref_date"])["level"]))
    if figures.narrow():  # a phone: one panel per row, or the dates overprint
        panels_per_row = 1
    cols = min(panels_per_row, len(levels))
    n_rows = math.ceil(len(levels) / cols)
    by_level = {lvl: frame[frame["level"] == lvl].sort_values("ref_date") for lvl in levels}
    titles = [_panel_title(by_level[lvl], level_labels.get(lvl, lvl), lang) for lvl in levels]
    fig = make_subplots(
        rows=n_rows,
        cols=cols,
        shared_yaxes="all",
        subplot_titles=titles,
        horizontal_spacing=0.03,
        vertical_spacing=0.16,
    )
    traces, rows, columns = [], [], []
    for i, level in enumerate(levels):
        rows_of_level = by_level[level]
        label = level_labels.get(level, level)
        panel = [
            *_benchmark_traces(rows_of_level, indicator.decimals, i == 0, lang),
            *_observed_traces(rows_of_level, indicator, label, i == 0, lang),
        ]
        traces += panel
        rows += [i // cols + 1] * len(panel)
        columns += [i % cols + 1] * len(panel)
    fig.add_traces(traces, rows=rows, cols=columns)
    dates = sorted(frame["ref_date"].unique())
    _style_levels(fig, indicator, dates, n_rows, lang)
    for i, level in enumerate(levels):
        cell = {"row": i // cols + 1, "col": i % cols + 1}
        figures.draw_breaks(fig, [b for b in breaks if b.level in (level, None)], lang, **cell)
    return fig


def _style_levels(fig: go.Figure, indicator: Indicator, dates: list, n_rows: int, lang: str):
    panel_titles = list(fig.layout.annotations)
    for annotation in panel_titles:
        annotation.font = {"size": 13, "color": figures.TEXT_COLOR}
    subtitle = t("seg.levels_subtitle", lang, unit=indicator.unit_label)
    caption = figures.source_caption(indicator, dates[-1], lang)
    two_lines = any("<br>" in (a.text or "") for a in panel_titles)  # units across a break
    more = 0  # a phone: the legend's entries wrap into rows, growing up from the bottom
    if figures.narrow():
        more = figures.narrow_legend_room([tr.name or "" for tr in fig.data if tr.showlegend])
    margin = {"l": 60, "r": 20, "t": 118 if two_lines else 100, "b": 80 + LEGEND_PX + more}
    height = margin["t"] + margin["b"] + PANEL_HEIGHT * n_rows
    layout = figures.base_layout(indicator.title, subtitle, caption, height, margin)
    layout["annotations"] = panel_titles + layout["annotations"]
    fig.update_layout(
        **layout,
        legend=BOTTOM_LEGEND,
        hovermode="closest",
    )
    figures.date_axis(fig, dates, most=PANEL_TICKS)
    fig.update_yaxes(
        rangemode="tozero",
        gridcolor="#e4e7eb",
        zeroline=True,
        zerolinecolor=DIAGONAL_COLOR,
        **figures.NUMBER_TICKS,
    )
    fig.update_yaxes(title={"text": indicator.unit_label}, col=1)


# --- the segregation curve of a group ----------------------------------------------------
def curve_points(units: pd.DataFrame) -> pd.DataFrame:
    """The segregation curve from area rows with ``area_id``, ``name``, ``numerator`` (the
    group x_i), ``denominator`` (the reference population t_i) and ``flag``.

    Units used: published x_i (never a suppressed one: its count is not shown, and it is
    left out rather than inferred) and t_i > 0. Ordered by p_i = x_i/t_i ascending (ties by
    ``area_id``). Columns: ``share`` = 100·p_i; ``rest_cum`` = Σ_{j≤i} (t_j − x_j) / Y and
    ``group_cum`` = Σ_{j≤i} x_j / X over the units used (X, Y their sums), with (0, 0) as
    the first row. Empty when no unit is left or X = 0 or Y = 0 (no curve to draw).
    """
    published = units["flag"].ne(SUPPRESSED) & units["numerator"].notna()
    rows = units[published & (units["denominator"] > 0)]
    rows = rows.assign(x=rows["numerator"].astype(float), t=rows["denominator"].astype(float))
    rows = rows.assign(p=rows["x"] / rows["t"]).sort_values(["p", "area_id"])
    big_x, big_y = rows["x"].sum(), (rows["t"] - rows["x"]).sum()
    if rows.empty or big_x <= 0 or big_y <= 0:
        return pd.DataFrame(columns=CURVE_COLUMNS)
    curve = pd.DataFrame(
        {
            "area_id": rows["area_id"],
            "name": rows["name"],
            "share": 100.0 * rows["p"],
            "rest_cum": (rows["t"] - rows["x"]).cumsum() / big_y,
            "group_cum": rows["x"].cumsum() / big_x,
        }
    )
    origin = {"area_id": None, "name": None, "share": None, "rest_cum": 0.0, "group_cum": 0.0}
    return pd.concat([pd.DataFrame([origin]), curve], ignore_index=True)


def left_out(units: pd.DataFrame, points: pd.DataFrame) -> int:
    """Inhabited units (t_i > 0 or unknown) that the curve leaves out (no published x_i)."""
    inhabited = int((units["denominator"].isna() | (units["denominator"] > 0)).sum())
    return inhabited - max(0, len(points) - 1)


def curve_gini(points: pd.DataFrame) -> float | None:
    """Gini index of the curve: 1 − 2 · (area under it), by the trapezoidal rule (exact
    for the piecewise linear curve); equals Σ_i Σ_j t_i t_j |p_i − p_j| / (2 T² P (1 − P))
    over the units used."""
    if points.empty:
        return None
    dx = points["rest_cum"].diff().iloc[1:]
    mean_y = (points["group_cum"] + points["group_cum"].shift()).iloc[1:] / 2
    return float(1.0 - 2.0 * (dx * mean_y).sum())


def curve_dissimilarity(points: pd.DataFrame) -> float | None:
    """The largest vertical distance between diagonal and curve: the Segregationsindex
    IS = ½ Σ |x_i/X − y_i/Y| of the group and the rest over the units used."""
    if points.empty:
        return None
    return float((points["rest_cum"] - points["group_cum"]).max())


def _curve_hover(points: pd.DataFrame, lang: str) -> list[list[str]]:
    def pct(value: float) -> str:
        return formatting.format_value(100.0 * value, "percent", 1)

    return [
        [
            r["name"],
            t(
                "seg.curve_hover",
                lang,
                share=formatting.format_value(r["share"], "percent", 1),
                group=pct(r["group_cum"]),
                rest=pct(r["rest_cum"]),
            ),
        ]
        for r in points.iloc[1:].to_dict("records")
    ]


def curve_stats(points: pd.DataFrame, n_left_out: int, lang: str) -> str:
    """``"Gini = 0,259 · IS (…) = 0,232 · 3 Gebiete"`` and the units left out, if any."""
    stats = t(
        "seg.curve_stats",
        lang,
        gini=formatting.format_number(curve_gini(points), 3),
        dissimilarity=formatting.format_number(curve_dissimilarity(points), 3),
        n=formatting.format_count(len(points) - 1),
    )
    if n_left_out:
        stats += " · " + t("seg.curve_left_out", lang, n=formatting.format_count(n_left_out))
    return stats


def segregation_curve(
    points: pd.DataFrame,
    group: str,
    level_label: str,
    ref_date: str,
    indicator: Indicator,
    lang: str,
    n_left_out: int = 0,
) -> go.Figure:
    """The segregation curve (:func:`curve_points`) with the diagonal of an even
    distribution; the caption names Gini, IS, the units used and those left out.
    ``indicator`` (the group's location quotient) gives source and data date."""
    if points.empty:
        return figures.message(t("seg.no_curve", lang))
    stats = curve_stats(points, n_left_out, lang)
    diagonal = go.Scatter(
        x=[0, 100],
        y=[0, 100],
        mode="lines",
        hoverinfo="skip",
        name=t("seg.curve_diagonal", lang),
        line={"color": DIAGONAL_COLOR, "width": 1.5, "dash": "dot"},
    )
    curve = go.Scatter(
        x=(100.0 * points["rest_cum"]).tolist(),
        y=(100.0 * points["group_cum"]).tolist(),
        mode="lines+markers" if len(points) <= 200 else "lines",
        name=t("seg.curve_line", lang),
        line={"color": OBSERVED_COLOR, "width": 2.5},
        marker={"size": 5},
        customdata=[["", ""], *_curve_hover(points, lang)],
        hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}<extra></extra>",
    )
    fig = go.Figure([diagonal, curve])
    legend_lines = 1
    if figures.narrow():  # side by side in the legend below the plot: names in lines
        for trace in fig.data:
            trace.name = figures.wrap_words(trace.name, NARROW_LEGEND_CHARS)
        legend_lines = max(trace.name.count("<br>") + 1 for trace in fig.data)
    subtitle = t(
        "seg.curve_subtitle",
        lang,
        group=group,
        level=level_label,
        date=formatting.format_date(ref_date),
    )
    source = t(
        "chart.caption", lang, source=indicator.source, date=formatting.format_date(ref_date)
    )
    caption = figures.wrap_caption(f"{stats} · {source}")
    more = LEGEND_LINE_PX * (legend_lines - 1)  # the legend's lines beyond one
    margin = {"l": 70, "r": 20, "t": 95, "b": 110 + LEGEND_PX + more}
    layout = figures.base_layout(t("seg.curve_title", lang), subtitle, caption, 600 + more, margin)
    layout["annotations"][0]["yshift"] = -62  # below the x axis title
    fig.update_layout(**layout, legend=BOTTOM_LEGEND, hovermode="closest")
    axis = {
        "range": [0, 100],
        "ticksuffix": " %",
        "gridcolor": "#e4e7eb",
        "zeroline": False,
        "constrain": "domain",
    }
    fig.update_xaxes(title={"text": t("seg.curve_x", lang)}, **axis)
    fig.update_yaxes(title={"text": t("seg.curve_y", lang)}, scaleanchor="x", **axis)
    if figures.narrow():  # a small plot: the two axes' "0 %" at the origin overprint
        fig.update_yaxes(tickvals=[25, 50, 75, 100])
    return fig
