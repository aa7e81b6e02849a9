"""Key figures of the overview page: which ones (``key_figures.yaml``), their values and
changes against the previous reference date, the cards, and the per-area table.

Changes: counts in % of the previous value, percent values in percentage points, indices
and ratios as absolute differences (see :func:`formatting.change_kind`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd
import yaml
from dash import html

from dashboards import catalogue, formatting, labels, queries, tables
from dashboards.catalogue import Indicator
from dashboards.i18n import t
from dashboards.queries import Warehouse

KEY_FIGURES_FILE = Path(__file__).with_name("key_figures.yaml")
CHANGE_DECIMALS_RELATIVE = 1


@dataclass(frozen=True)
class KeyFigureSpec:
    """One configured key figure; ``level`` only for segregation indices."""

    indicator_id: str
    level: str | None = None


@dataclass(frozen=True)
class KeyFigure:
    """A key figure of the whole city on one reference date."""

    indicator: Indicator
    ref_date: str
    value: float | None
    flag: str | None
    previous: float | None
    previous_date: str | None
    change: float | None
    level: str | None = None
    n_units: int | None = None


@lru_cache(maxsize=1)
def specs(path: Path = KEY_FIGURES_FILE) -> tuple[KeyFigureSpec, ...]:
    """The configured key figures, in display order."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        return tuple(
            KeyFigureSpec(item["indicator"], item.get("level")) for item in data["key_figures"]
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(
            f"{path}: expected 'key_figures: [{{indicator: ..., level: ...}}]'"
        ) from exc


def key_figure(
    city_series: pd.DataFrame, indicator: Indicator, level: str, ref_date: str
) -> KeyFigure:
    """Value on ``ref_date`` and change since the previous date with a row at ``level``.

    ``city_series`` is :func:`queries.series` for the city.
    """
    rows = city_series[city_series["level"] == level].set_index("ref_date").sort_index()
    current = rows.loc[ref_date] if ref_date in rows.index else None
    earlier = rows[rows.index < ref_date]
    previous = earlier.iloc[-1] if not earlier.empty else None
    value = None if current is None else current["value"]
    before = None if previous is None else previous["value"]
    n_units = None if current is None or pd.isna(current["n_units"]) else int(current["n_units"])
    return KeyFigure(
        indicator=indicator,
        ref_date=ref_date,
        value=None if formatting.is_missing(value) else float(value),
        flag=None if current is None else current["flag"],
        previous=None if formatting.is_missing(before) else float(before),
        previous_date=None if previous is None else previous.name,
        change=formatting.change(value, before, indicator.change_kind),
        level=level,
        n_units=n_units,
    )


def key_figures(warehouse: Warehouse, ref_date: str, lang: str) -> list[KeyFigure]:
    """The configured key figures of the whole city on ``ref_date`` (known indicators only)."""
    indicators = catalogue.indicators(warehouse, lang)
    city = catalogue.city(warehouse)
    figures = []
    for spec in specs():
        indicator = indicators.get(spec.indicator_id)
        if indicator is None:
            continue
        city_series = queries.series(warehouse, spec.indicator_id, (city.area_id,))
        level = city.level
        if indicator.is_segregation:
            level = spec.level or _finest_level(city_series)
        figures.append(key_figure(city_series, indicator, level, ref_date))
    return figures


def _finest_level(city_series: pd.DataFrame) -> str | None:
    """The finest unit level a segregation index exists for."""
    if city_series.empty:
        return None
    return city_series.sort_values("rank")["level"].iloc[-1]


def table_indicators(warehouse: Warehouse, lang: str) -> list[Indicator]:
    """Indicators of the per-area table: the key figures that have area values."""
    indicators = catalogue.indicators(warehouse, lang)
    chosen = [indicators.get(spec.indicator_id) for spec in specs()]
    return [ind for ind in chosen if ind is not None and not ind.is_segregation]


def change_text(figure: KeyFigure, lang: str) -> str:
    """``"+0,3 Prozentpunkte gegenüber 31.12.2023"``, or why there is no change."""
    if figure.previous_date is None:
        return t("kpi.no_previous", lang)
    kind = figure.indicator.change_kind
    decimals = CHANGE_DECIMALS_RELATIVE if kind == "relative" else figure.indicator.decimals
    number = formatting.format_signed(figure.change, decimals)
    unit = t(f"kpi.change_unit.{kind}", lang)
    amount = " ".join(part for part in (number, unit) if part)
    return t("kpi.change", lang, change=amount, date=formatting.format_date(figure.previous_date))


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


def _cells(values: pd.DataFrame, indicators: list[Indicator], lang: str) -> list[dict]:
    """One row per area: name plus one (text, value) cell per indicator."""
    rows = []
    for (_area_id, name), group in values.groupby(["area_id", "name"], sort=True):
        by_indicator = group.set_index("indicator_id")
        row = {"name": (name, name)}
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
) -> html.Div:
    """Key figures per area of one level; the whole city as footer row."""
    columns = [tables.Column("name", t("table.area", lang))] + [
        tables.Column(
            ind.indicator_id, t("table.value_of", lang, title=ind.title, unit=ind.unit_label), True
        )
        for ind in indicators
    ]
    footer = _cells(city_values, indicators, lang)
    return tables.data_table(
        table_id,
        caption,
        columns,
        _cells(values, indicators, lang),
        state,
        lang,
        footer_rows=footer,
    )
