"""The trend chart of a goal indicator (Ziele page): pure, an assessment in, a
``go.Figure`` out. The published values as a line (a withheld value is a gap), the
baseline as a marked point, the target as a dashed line from the baseline date to the
target date with its point, a series break (a new division of the level, a changed
definition of a project indicator) as a dotted vertical line where the line stops;
title, unit (and area) as subtitle and the source line with the data date like every
chart (:mod:`dashboards.figures.common`).
"""

from __future__ import annotations

import plotly.graph_objects as go

from dashboards import formatting
from dashboards.data.goals import Assessment, Shown
from dashboards.figures.common import (
    BREAK_COLOR,
    CITY_COLOR,
    MUTED_COLOR,
    NUMBER_TICKS,
    base_layout,
    date_axis,
    wrap_caption,
)
from dashboards.i18n import t

VALUE_COLOR = "#0072B2"  # Okabe–Ito blue
TARGET_COLOR = "#D55E00"  # Okabe–Ito vermillion


def value_text(value: float | None, shown: Shown, lang: str) -> str:
    """A goal indicator's value in German notation (a milestone as ja/nein)."""
    if value is None:
        return t("goals.withheld", lang)
    if shown.milestone:
        return t("goals.yes" if value >= 1 else "goals.no", lang)
    return formatting.format_number(value, shown.decimals)


def goal_trend(item: Assessment, shown: Shown, lang: str) -> go.Figure:
    """Values since the first published date, baseline and target of one goal indicator."""
    ind = item.indicator
    number = lambda v: value_text(v, shown, lang)  # noqa: E731
    dates = [d.isoformat() for d, _, _ in item.values]
    values = [v for _, v, _ in item.values]
    for cut in item.breaks:  # the line stops at a series break (a gap at its date)
        at = next((i for i, d in enumerate(dates) if d >= cut.isoformat()), len(dates))
        if 0 < at < len(dates) and dates[at] != cut.isoformat():
            dates.insert(at, cut.isoformat())
            values.insert(at, None)
    fig = go.Figure(
        go.Scatter(
            x=dates,
            y=values,
            mode="lines+markers",
            name=t("goals.series", lang),
            line={"color": VALUE_COLOR, "width": 2.4},
            marker={"size": 7},
            text=[number(v) for v in values],
            hovertemplate="%{x|%d.%m.%Y}: %{text}<extra></extra>",
            connectgaps=False,
        )
    )
    base = ind.baseline
    fig.add_trace(
        go.Scatter(
            x=[base.date.isoformat()],
            y=[base.value],
            mode="markers",
            name=t("goals.baseline", lang),
            marker={"symbol": "diamond", "size": 13, "color": CITY_COLOR},
            text=[number(base.value)],
            hovertemplate="%{x|%d.%m.%Y}: %{text}<extra></extra>",
        )
    )
    ticks = sorted({*dates, base.date.isoformat()})
    if ind.target is not None:
        target = ind.target
        span = [base.date.isoformat(), target.date.isoformat()]
        fig.add_trace(
            go.Scatter(
                x=span,
                y=[target.value, target.value],
                mode="lines+markers",
                name=t("goals.target_line", lang),
                line={"color": TARGET_COLOR, "width": 2, "dash": "dash"},
                marker={"size": [0, 10], "symbol": "star", "color": TARGET_COLOR},
                text=[number(target.value)] * 2,
                hovertemplate=t("goals.target", lang) + " %{x|%d.%m.%Y}: %{text}<extra></extra>",
            )
        )
        ticks = sorted({*ticks, target.date.isoformat()})
    subtitle = t("goals.chart_subtitle", lang, unit=shown.unit)
    if shown.area:
        subtitle = f"{subtitle} · {shown.area}"
    latest = dates[-1] if dates else base.date.isoformat()
    caption = wrap_caption(
        t("chart.caption", lang, source=shown.source, date=formatting.format_date(latest))
    )
    margin = {"l": 60, "r": 20, "t": 80, "b": 80}
    fig.update_layout(
        **base_layout(shown.title, subtitle, caption, 360, margin),
        legend={"orientation": "v", "x": 1.01, "y": 1, "xanchor": "left"},
        hovermode="closest",
    )
    reasons = {b.date: getattr(b.reason, lang) for b in (ind.project.breaks if ind.project else [])}
    for cut in item.breaks:  # as dashboards.figures.common.draw_breaks marks them
        fig.add_vline(x=cut.isoformat(), line={"color": BREAK_COLOR, "width": 1.6, "dash": "dot"})
        fig.add_annotation(
            x=cut.isoformat(), y=1, yref="y domain", text=t("breaks.line_label", lang),
            hovertext=reasons.get(cut), showarrow=False, xanchor="left", yanchor="top",
            xshift=3, bgcolor="rgba(255, 255, 255, 0.8)",
            font={"size": 11, "color": BREAK_COLOR}, name="series_break",
        )  # fmt: skip
    date_axis(fig, ticks)
    fig.layout.yaxis.update(
        rangemode="tozero",
        gridcolor="#e4e7eb",
        zeroline=True,
        zerolinecolor=MUTED_COLOR,
        title={"text": shown.unit},
        **NUMBER_TICKS,
    )
    if shown.milestone:
        fig.layout.yaxis.update(
            tickvals=[0, 1], ticktext=[t("goals.no", lang), t("goals.yes", lang)], title=None
        )
    return fig
