"""Pure figure functions: DataFrames (+ labels) in, ``plotly.graph_objects.Figure`` out.

Every figure carries a title, the unit, and a caption with source and data date, so an
exported image is self-explanatory. Numbers use German separators (``layout.separators``);
hover texts are preformatted by :mod:`dashboards.labels`. Colours are colour-blind safe:
Cividis for maps, Okabe–Ito for lines (Okabe & Ito 2008, "Color Universal Design").

No plotly express here: ``go`` objects are several times faster to build in callbacks.
"""

from __future__ import annotations

import json

import pandas as pd
import plotly.graph_objects as go

from dashboards import formatting, labels
from dashboards.catalogue import Indicator
from dashboards.i18n import t

FONT_FAMILY = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", Arial, sans-serif'
)
TEXT_COLOR = "#1f2933"
MUTED_COLOR = "#52606d"
COLORSCALE = "Cividis"
NULL_COLOR = "#c9cdd2"
CITY_COLOR = "#000000"
# Okabe–Ito without black (reserved for the city); yellow last: weakest contrast on white.
OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442"]


def _caption(indicator: Indicator, ref_date: str | None, lang: str) -> str:
    return t("chart.caption", lang, source=indicator.source, date=formatting.format_date(ref_date))


def _layout(title: str, subtitle: str, caption: str, height: int) -> dict:
    """Shared layout: title + subtitle on top, caption (source · date) bottom left."""
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
        "height": height,
        "margin": {"l": 20, "r": 20, "t": 80, "b": 70},
        "annotations": [
            {
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


def _feature_collection(shapes: pd.DataFrame) -> dict:
    features = [
        {"type": "Feature", "id": area_id, "properties": {}, "geometry": json.loads(geojson)}
        for area_id, geojson in zip(shapes["area_id"], shapes["geojson"], strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


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


def choropleth(
    values: pd.DataFrame,
    shapes: pd.DataFrame,
    indicator: Indicator,
    level_label: str,
    ref_date: str,
    lang: str,
) -> go.Figure:
    """Choropleth of one indicator for the areas of a level on one date.

    ``values``: rows of :func:`queries.area_values`; ``shapes``: :func:`queries.geometries`.
    Areas without a value (suppressed, undefined or missing) are drawn grey.
    """
    if shapes.empty:
        return message(t("map.no_geometry", lang))
    rows = shapes[["area_id"]].merge(values, on="area_id", how="left")
    rows["name"] = rows["name"].fillna(rows["area_id"])
    known = rows[rows["value"].notna()]
    unknown = rows[rows["value"].isna()]
    geojson = _feature_collection(shapes)
    fig = go.Figure()
    fig.add_trace(
        go.Choropleth(
            geojson=geojson,
            featureidkey="id",
            locations=known["area_id"].tolist(),
            z=known["value"].tolist(),
            colorscale=COLORSCALE,
            name=indicator.title,
            marker={"line": {"color": "white", "width": 1}},
            colorbar=_colorbar(indicator),
            customdata=_map_hover(known, indicator, lang),
            hovertemplate=_HOVER,
        )
    )
    if not unknown.empty:
        fig.add_trace(
            go.Choropleth(
                geojson=geojson,
                featureidkey="id",
                locations=unknown["area_id"].tolist(),
                z=[0] * len(unknown),
                colorscale=[[0, NULL_COLOR], [1, NULL_COLOR]],
                showscale=False,
                name=t("map.no_value", lang),
                marker={"line": {"color": "white", "width": 1}},
                customdata=_map_hover(unknown, indicator, lang),
                hovertemplate=_HOVER,
            )
        )
    subtitle = t(
        "map.subtitle",
        lang,
        level=level_label,
        date=formatting.format_date(ref_date),
        unit=indicator.unit_label,
    )
    fig.update_layout(
        **_layout(indicator.title, subtitle, _caption(indicator, ref_date, lang), height=600)
    )
    fig.update_geos(fitbounds="locations", visible=False, projection_type="mercator")
    fig.update_layout(margin={"l": 10, "r": 10, "t": 80, "b": 60}, dragmode=False)
    return fig


def _colorbar(indicator: Indicator) -> dict:
    return {
        "title": {"text": indicator.unit_label},
        "thickness": 14,
        "len": 0.75,
        "outlinewidth": 0,
    }


def _segments(frame: pd.DataFrame) -> list[pd.DataFrame]:
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


def _thinned(dates: list, most: int = 8) -> list:
    """At most ``most`` tick dates, always including the latest, so labels stay horizontal
    and clear of the source line under the axis."""
    step = -(-len(dates) // most)
    return dates[::-1][::step][::-1]


def trend(
    frame: pd.DataFrame, indicator: Indicator, lang: str, city_id: str | None = None
) -> go.Figure:
    """Line chart over reference dates, one line per ``series`` (see :func:`labels.series_labels`).

    The city (``city_id``) is drawn black and thicker; other series in Okabe–Ito colours.
    A change of ``definition_id`` starts a new line segment (series break).
    """
    if frame.empty:
        return message(t("chart.no_data", lang))
    fig = go.Figure()
    others = 0
    for key, rows in frame.groupby("series", sort=False):
        color = _series_color(key, others, city_id)
        others += key != city_id
        for i, part in enumerate(_segments(rows.sort_values("ref_date"))):
            fig.add_trace(
                go.Scatter(
                    x=part["ref_date"].tolist(),
                    y=part["value"].tolist(),
                    mode="lines+markers",
                    name=part["label"].iloc[0],
                    legendgroup=str(key),
                    showlegend=i == 0,
                    line={"color": color, "width": 3.5 if key == city_id else 2.2},
                    marker={"size": 7},
                    customdata=_trend_hover(part, indicator, lang),
                    hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}: %{customdata[2]}"
                    "%{customdata[3]}<extra></extra>",
                    connectgaps=False,
                )
            )
    dates = sorted(frame["ref_date"].unique())
    subtitle = t("trends.subtitle", lang, unit=indicator.unit_label)
    fig.update_layout(
        **_layout(indicator.title, subtitle, _caption(indicator, dates[-1], lang), height=480)
    )
    fig.update_layout(
        legend={"orientation": "v", "x": 1.01, "y": 1, "xanchor": "left"},
        margin={"l": 60, "r": 20, "t": 80, "b": 80},
        hovermode="closest",
    )
    ticks = _thinned(dates)
    fig.update_xaxes(
        type="date",
        tickvals=ticks,
        ticktext=[formatting.format_date(d) for d in ticks],
        tickangle=0,
        showgrid=False,
        linecolor="#9aa5b1",
        ticks="outside",
    )
    fig.update_yaxes(
        rangemode="tozero", gridcolor="#e4e7eb", zeroline=True, zerolinecolor="#9aa5b1"
    )
    if indicator.unit == "percent":
        fig.update_yaxes(ticksuffix=" %")
    else:
        fig.update_yaxes(title={"text": indicator.unit_label})
    return fig
