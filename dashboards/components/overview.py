"""Layout pieces of the Übersicht (``/``): the key-figure cards and the table of the areas
of one level (values from :mod:`dashboards.data.overview`).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from dash import html

from dashboards import formatting, labels
from dashboards.components import tables
from dashboards.data.catalogue import Indicator
from dashboards.data.overview import KeyFigure, change_text
from dashboards.i18n import t


def card(figure: KeyFigure, level_label: str | None, lang: str) -> html.Div:
    """A key-figure card: title, value, change, data date (and level/units for indices)."""
    ind = figure.indicator
    children = [html.H2(ind.title, className="kpi-title")]
    if ind.is_segregation:
        children.append(
            html.P(
                t(
                    "kpi.segregation_units",
                    lang,
                    level=level_label or "",
                    n=formatting.format_count(figure.n_units),
                ),
                className="kpi-sub",
            )
        )
    elif ind.unit != "percent":
        children.append(html.P(ind.unit_label, className="kpi-sub"))
    children += [
        html.P(labels.value_text(figure.value, figure.flag, ind, lang), className="kpi-value"),
        html.P(change_text(figure, lang), className="kpi-change"),
        html.P(
            t("kpi.as_of", lang, date=formatting.format_date(figure.ref_date)), className="kpi-date"
        ),
    ]
    return html.Div(children, className="kpi", id=f"kpi-{ind.indicator_id}")


def _cells(
    values: pd.DataFrame,
    indicators: list[Indicator],
    lang: str,
    href: Callable[[str], str] | None = None,
) -> list[dict]:
    """One row per area: name (a link to ``href(area_id)`` if given) plus one (text,
    value) cell per indicator."""
    rows = []
    for area_id, group in values.groupby("area_id", sort=True):
        by_indicator = group.set_index("indicator_id")
        name = group["name"].iloc[0]
        row = {"name": (tables.Link(name, href(area_id)) if href else name, name)}
        for ind in indicators:
            if ind.indicator_id in by_indicator.index:
                r = by_indicator.loc[ind.indicator_id]
                row[ind.indicator_id] = (
                    labels.value_text(r["value"], r["flag"], ind, lang),
                    r["value"],
                )
            else:
                row[ind.indicator_id] = (formatting.MISSING, None)
        rows.append(row)
    return rows


def area_table(
    table_id: str,
    values: pd.DataFrame,
    city_values: pd.DataFrame,
    indicators: list[Indicator],
    caption: str,
    state: dict | None,
    lang: str,
    value_dates: dict[str, str] | None = None,
    href: Callable[[str], str] | None = None,
) -> html.Div:
    """Key figures per area of one level; the whole city as footer row.

    ``value_dates``: dates of columns whose values are of another date than the table's
    (see :func:`table_values`); their headers say so ("…, Stand 31.12.2015"). ``href``:
    the area names link to ``href(area_id)`` (their area page).
    """
    columns = [tables.Column("name", t("table.area", lang))] + [
        tables.Column(ind.indicator_id, _column_label(ind, (value_dates or {}), lang), True)
        for ind in indicators
    ]
    footer = _cells(city_values, indicators, lang)
    flags = [*values["flag"].tolist(), *city_values["flag"].tolist()]
    return tables.data_table(
        table_id,
        caption,
        columns,
        _cells(values, indicators, lang, href),
        state,
        lang,
        footer_rows=footer,
        notes=tables.flag_notes(flags, lang),
    )


def _column_label(ind: Indicator, value_dates: dict[str, str], lang: str) -> str:
    date = value_dates.get(ind.indicator_id)
    if date is None:
        return t("table.value_of", lang, title=ind.title, unit=ind.unit_label)
    return t(
        "table.value_of_as_of",
        lang,
        title=ind.title,
        unit=ind.unit_label,
        date=formatting.format_date(date),
    )
