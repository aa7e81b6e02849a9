"""The time-series chart of the Zeitreihen page (also drawn by the trend export): pure,
DataFrames (+ labels) in, ``go.Figure`` out. One line per series (the city in its own
colour), gaps at missing values, a rug of flagged dates; shared conventions in
:mod:`dashboards.figures.common`.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from dashboards import flags, formatting, labels
from dashboards.data.breaks import Break
from dashboards.data.catalogue import Indicator
from dashboards.figures.common import (
    CITY_COLOR,
    MUTED_COLOR,
    NUMBER_TICKS,
    OKABE_ITO,
    base_layout,
    date_axis,
    draw_breaks,
    legend_above_plot,
    message,
    narrow,
    segments,
    source_caption,
)
from dashboards.i18n import t


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
    frame: pd.DataFrame,
    indicator: Indicator,
    lang: str,
    city_id: str | None = None,
    breaks: Sequence[Break] = (),
) -> go.Figure:
    """Line chart over reference dates, one line per ``series`` (see :func:`labels.series_labels`).

    The city (``city_id``) is drawn black and thicker; other series in Okabe–Ito colours.
    A change of ``definition_id`` or of the boundaries (``break_before``) starts a new line
    segment (series break); each of ``breaks`` (:func:`dashboards.data.breaks.chart_breaks`)
    is a dotted vertical line marked "Reihenbruch". Dates without
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
    if narrow():  # a phone: the legend above the plot, which keeps the full width
        legend_above_plot(fig)
    date_axis(fig, dates)
    draw_breaks(fig, breaks, lang)
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
