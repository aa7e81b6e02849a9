"""Figures of the Stadtteilprofil: shares of one area against its parent and the city (dot
plot), and one small line chart per indicator (small multiples).

Same conventions as :mod:`dashboards.figures.common` (title, unit, caption with source and data
date, German separators). The three series differ by more than colour (Okabe–Ito blue and
vermillion, black for the city): the area is a solid line with circles, the parent a
dashed line with diamonds, the city a thick line with squares; in the dot plot the city
is a vertical bar.
"""

from __future__ import annotations

import math
import textwrap

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboards import flags, formatting, labels
from dashboards.data.catalogue import Indicator
from dashboards.data.profile import ProfileArea
from dashboards.figures import common as figures
from dashboards.i18n import t

COLUMNS = 3
ROW_HEIGHT = 250
PANEL_GAP = 95  # px between rows: tick labels and the next row's two-line titles
TOP = 150  # title, subtitle, legend and the first row's panel titles
LEGEND_TOP = 66  # px from the top to the legend, under title and subtitle
TITLE_WIDTH = 42  # characters per line of a small multiple's title
# On a phone (figures.narrow): one panel per row, the dot plot's indicator names above
# their dots instead of beside them (long names would leave the dots no room).
NARROW_ROW_HEIGHT = 230
NARROW_NAME_WIDTH = 44  # characters per line of an indicator's name above its dots
NARROW_NAME_LINE_PX = 15
NARROW_TICKS_PX = 60  # px the panels' tick labels ("3.000.000") push the plot right
STYLE = {
    "area": {"color": figures.OKABE_ITO[0], "dash": "solid", "symbol": "circle", "width": 2.4},
    "parent": {"color": figures.OKABE_ITO[1], "dash": "dash", "symbol": "diamond", "width": 2},
    "city": {"color": figures.CITY_COLOR, "dash": "solid", "symbol": "square", "width": 3.2},
}


def _sources(indicators: list[Indicator]) -> str:
    return "; ".join(dict.fromkeys(i.source for i in indicators))


def _caption(indicators: list[Indicator], date_text: str, lang: str) -> str:
    text = t("chart.caption", lang, source=_sources(indicators), date=date_text)
    return figures.wrap_caption(text)


def _names(area: ProfileArea, city_name: str) -> dict[str, str]:
    parent = area.parent.name if area.parent else ""
    return {"area": area.name, "parent": parent, "city": city_name}


def _listed(area: ProfileArea, city_name: str) -> str:
    """``"Südviertel (Stadtteil), Süd, Teststadt"``: the series of the chart."""
    names = [f"{area.name} ({area.level_label})", *([area.parent.name] if area.parent else [])]
    return ", ".join([*names, city_name])


def share_dots(
    frame: pd.DataFrame,
    indicators: dict[str, Indicator],
    area: ProfileArea,
    city_name: str,
    ref_date: str,
    lang: str,
) -> go.Figure:
    """Percent indicators of the area, its parent and the city on one axis (0–100 %).

    ``frame``: :func:`dashboards.data.profile.profile_frame`. Other units are in the table only.
    """
    rows = frame[frame["indicator_id"].map(lambda i: indicators[i].unit == "percent")]
    if rows.empty:
        return figures.message(t("profile.no_shares", lang))
    shown = [indicators[i] for i in rows["indicator_id"]]
    phone = figures.narrow()
    titles = [
        "<br>".join(textwrap.wrap(i.title, NARROW_NAME_WIDTH if phone else 48)) for i in shown
    ]
    fig = go.Figure()
    names = _names(area, city_name)
    for role, prefix in (("city", "city_"), ("parent", "parent_"), ("area", "")):
        if f"{prefix}value" not in rows:
            continue
        fig.add_trace(_dot_trace(rows, prefix, role, names[role], titles, shown, lang))
    dates = sorted(set(rows["ref_date"]))
    date_text = ", ".join(formatting.format_date(d) for d in dates)
    subtitle = t("profile.dots_subtitle", lang, names=_listed(area, city_name), date=date_text)
    caption = _caption(shown, date_text, lang)
    margin = {"l": 10, "r": 20, "t": 105, "b": 70}
    row = 44
    if phone:  # the name above its row of dots: room for its lines and the dots
        row = 40 + NARROW_NAME_LINE_PX * max(title.count("<br>") + 1 for title in titles)
    height = 175 + row * len(shown)
    fig.update_layout(
        **figures.base_layout(
            t("profile.dots_title", lang, name=area.name), subtitle, caption, height, margin
        ),
        hovermode="closest",
    )
    _title_and_legend_on_top(fig, margin["t"])
    fig.update_yaxes(autorange="reversed", automargin=True, showgrid=True, gridcolor="#eef1f4")
    if phone:
        fig.update_yaxes(showticklabels=False)
        fig.layout.annotations = [*fig.layout.annotations, *map(_name_above, titles)]
    fig.update_xaxes(
        rangemode="tozero",
        ticksuffix=" %",
        gridcolor="#e4e7eb",
        zeroline=True,
        zerolinecolor="#9aa5b1",
        **figures.NUMBER_TICKS,
    )
    return fig


def _name_above(title: str) -> dict:
    """An indicator's name left-aligned above its row of dots (phones)."""
    return {
        "text": title,
        "showarrow": False,
        "xref": "paper",
        "x": 0,
        "xanchor": "left",
        "yref": "y",
        "y": title,
        "yanchor": "bottom",
        "yshift": 13,  # above the city's bar (20 px high)
        "align": "left",
        "font": {"size": 12},
    }


def _dot_trace(rows, prefix, role, name, titles, shown, lang) -> go.Scatter:
    style = STYLE[role]
    values = [None if formatting.is_missing(v) else v for v in rows[f"{prefix}value"]]
    texts = [
        labels.value_text(v, f, ind, lang, with_unit=True)
        for v, f, ind in zip(values, rows[f"{prefix}flag"], shown, strict=True)
    ]
    marker = {
        "color": style["color"],
        "size": 13 if role == "area" else 11,
        "symbol": "line-ns-open" if role == "city" else style["symbol"],
    }
    if role == "city":
        marker.update(size=20, line={"width": 3, "color": style["color"]})
    return go.Scatter(
        x=values,
        y=titles,
        mode="markers",
        name=name,
        marker=marker,
        customdata=[[name, ind.title, text] for ind, text in zip(shown, texts, strict=True)],
        hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}: %{customdata[2]}"
        "<extra></extra>",
    )


def small_multiples(
    series: pd.DataFrame,
    indicators: list[Indicator],
    area: ProfileArea,
    city_name: str,
    lang: str,
) -> go.Figure:
    """One small line chart per indicator: the area, its parent and the city over all
    dates (``series``: :func:`dashboards.data.profile.profile_series`). Every panel has the
    same time axis; a change of ``definition_id`` breaks a line (series break)."""
    shown = [i for i in indicators if i.indicator_id in set(series["indicator_id"])]
    if not shown:
        return figures.message(t("chart.no_data", lang))
    phone = figures.narrow()
    columns, row_height = (1, NARROW_ROW_HEIGHT) if phone else (COLUMNS, ROW_HEIGHT)
    rows = math.ceil(len(shown) / columns)
    fig = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=[_panel_title(i) for i in shown],
        horizontal_spacing=0.07,
        vertical_spacing=PANEL_GAP / (row_height * rows - 70),
    )
    names = _names(area, city_name)
    legend_done: set[str] = set()
    traces, at_row, at_col = [], [], []  # added at once: one add_trace each costs ~20 ms
    by_indicator = dict(tuple(series.groupby("indicator_id", sort=False)))
    for n, indicator in enumerate(shown):
        cell = {"row": n // columns + 1, "col": n % columns + 1}
        rows_of = by_indicator[indicator.indicator_id]
        for role in ("city", "parent", "area"):
            part = rows_of[rows_of["role"] == role].sort_values("ref_date")
            for segment in figures.segments(part) if not part.empty else []:
                traces.append(
                    _line(segment, indicator, role, names[role], role not in legend_done, lang)
                )
                at_row.append(cell["row"])
                at_col.append(cell["col"])
                legend_done.add(role)
    fig.add_traces(traces, rows=at_row, cols=at_col)
    fig.update_layout(
        {_axis_name("yaxis", n): _panel_axis(indicator) for n, indicator in enumerate(shown)}
    )
    dates = sorted(series["ref_date"].unique())
    _time_axes(fig, dates, most=3 if phone else 4)
    panel_titles = [_small(note.to_plotly_json()) for note in fig.layout.annotations]
    fig.layout.annotations = ()  # update_layout would merge the caption into every title
    title = t("profile.multiples_title", lang, name=area.name)
    subtitle = t("profile.multiples_subtitle", lang, names=_listed(area, city_name))
    caption = _caption(shown, formatting.format_date(dates[-1]), lang)
    height = TOP + row_height * rows
    margin = {"l": 50, "r": 20, "t": TOP, "b": 70}
    indent = NARROW_TICKS_PX if phone else 0
    fig.update_layout(
        **figures.base_layout(title, subtitle, caption, height, margin, indent),
        hovermode="closest",
    )
    _title_and_legend_on_top(fig, margin["t"])
    fig.layout.annotations = [*panel_titles, *fig.layout.annotations]
    return fig


def _panel_title(indicator: Indicator) -> str:
    text = f"{indicator.title} ({indicator.unit_label})"
    return "<br>".join(textwrap.wrap(text, TITLE_WIDTH))


def _small(note: dict) -> dict:
    """A subplot title in a smaller font than the figure's title."""
    return {**note, "font": {**note.get("font", {}), "size": 12}}


def _title_and_legend_on_top(fig: go.Figure, top: int) -> None:
    """Title and subtitle at the very top, the legend (one row) right below them.

    ``top``: the top margin asked of :func:`figures.base_layout`; on a phone it grows with
    the wrapped title, and the legend moves down with it (and gets a second row's room)."""
    height = fig.layout.height
    below = LEGEND_TOP + fig.layout.margin.t - top
    if figures.narrow():
        more = figures.narrow_legend_room(
            [trace.name for trace in fig.data if trace.showlegend is not False]
        )
        fig.update_layout(height=height + more, margin={"t": fig.layout.margin.t + more})
        height += more
    fig.update_layout(
        title={"yref": "container", "y": 1 - 12 / height, "yanchor": "top"},
        legend={
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "yref": "container",
            "y": 1 - below / height,
            "yanchor": "top",
        },
    )


def _line(segment, indicator, role, name, show_legend, lang) -> dict:
    """One line of a panel, as a plain trace dict (validated once, by add_traces)."""
    style = STYLE[role]
    estimated = segment["estimated"] if "estimated" in segment else [False] * len(segment)
    custom = [  # an estimate on today's boundaries (#18) is named so
        [name, formatting.format_date(d), labels.value_text(v, f or e, indicator, lang, True)]
        for d, v, f, e in zip(
            segment["ref_date"],
            segment["value"],
            segment["flag"].where(segment["flag"].map(flags.is_flag), None),
            ["estimated" if x else None for x in estimated],
            strict=True,
        )
    ]
    return {
        "type": "scatter",
        "x": segment["ref_date"].tolist(),
        "y": segment["value"].tolist(),
        "mode": "lines+markers",
        "name": name,
        "legendgroup": role,
        "showlegend": show_legend,
        "line": {"color": style["color"], "dash": style["dash"], "width": style["width"]},
        "marker": {"symbol": style["symbol"], "size": 6, "color": style["color"]},
        "customdata": custom,
        "hovertemplate": "<b>%{customdata[0]}</b><br>%{customdata[1]}: %{customdata[2]}"
        "<extra></extra>",
        "connectgaps": False,
    }


def _axis_name(kind: str, n: int) -> str:
    """``yaxis``, ``yaxis2``, …: the axis of the n-th panel (0-based) of make_subplots."""
    return kind if n == 0 else f"{kind}{n + 1}"


def _panel_axis(indicator: Indicator) -> dict:
    """The value axis of one panel (from 0; % for shares)."""
    y = {
        "rangemode": "tozero",
        "gridcolor": "#e4e7eb",
        "zeroline": True,
        "zerolinecolor": "#9aa5b1",
        **figures.NUMBER_TICKS,
    }
    if indicator.unit == "percent":
        y["ticksuffix"] = " %"
    return y


def _time_axes(fig: go.Figure, dates: list[str], most: int) -> None:
    """The time axis of the trend chart in every panel, with at most ``most`` ticks and the
    same date range (a single date gets the trend chart's year of room)."""
    figures.date_axis(fig, dates, most=most)
    fig.update_xaxes(tickfont={"size": 11})
    if len(dates) > 1:
        first, last = pd.Timestamp(dates[0]), pd.Timestamp(dates[-1])
        pad = max((last - first) * 0.04, pd.Timedelta(days=60))
        fig.update_xaxes(range=[str((first - pad).date()), str((last + pad).date())])
