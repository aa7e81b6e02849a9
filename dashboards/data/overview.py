"""Key figures of the overview page: which ones (``key_figures.yaml``), their values and
changes against the previous reference date, the cards, and the per-area table.

Changes: counts in % of the previous value, percent values in percentage points, indices
and ratios as absolute differences (see :func:`formatting.change_kind`).

Indicators need not share reference dates (statistics-office tables: annual averages,
30 June, single years), so every figure and table column shows the latest value **up to**
the chosen date, with its own date ("Stand"). Configured indicators a warehouse lacks are
left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd
import yaml
from dash import html

from dashboards import formatting, labels
from dashboards.components import tables
from dashboards.data import catalogue, queries
from dashboards.data.catalogue import Indicator
from dashboards.data.queries import Warehouse
from dashboards.i18n import t

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
    """The latest value up to ``ref_date`` and its change since the date before, at ``level``.

    ``city_series`` is :func:`queries.series` for the city. ``KeyFigure.ref_date`` is the
    date of the value shown (``ref_date`` itself if there is none).
    """
    rows = city_series[city_series["level"] == level].set_index("ref_date").sort_index()
    upto = rows[rows.index <= ref_date]
    current = upto.iloc[-1] if not upto.empty else None
    earlier = upto.iloc[:-1]
    previous = earlier.iloc[-1] if not earlier.empty else None
    value = None if current is None else current["value"]
    before = None if previous is None else previous["value"]
    n_units = None if current is None or pd.isna(current["n_units"]) else int(current["n_units"])
    return KeyFigure(
        indicator=indicator,
        ref_date=ref_date if current is None else current.name,
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
            level = _unit_level(city_series, spec.level)
        figures.append(key_figure(city_series, indicator, level, ref_date))
    return figures


def _unit_level(city_series: pd.DataFrame, wanted: str | None) -> str | None:
    """The configured unit level of a segregation index if the warehouse has it, else the
    finest level it exists for (instances name their levels differently)."""
    if city_series.empty:
        return wanted
    if wanted in set(city_series["level"]):
        return wanted
    return city_series.sort_values("rank")["level"].iloc[-1]


def key_figure_ids(warehouse: Warehouse, lang: str) -> list[str]:
    """Ids of the configured key figures this warehouse has."""
    indicators = catalogue.indicators(warehouse, lang)
    return [spec.indicator_id for spec in specs() if spec.indicator_id in indicators]


def overview_dates(warehouse: Warehouse, lang: str) -> list[str]:
    """Reference dates of the key-figure indicators (all dates if none is configured)."""
    chosen = key_figure_ids(warehouse, lang)
    if not chosen:
        return catalogue.ref_dates(warehouse)
    return catalogue.indicator_dates(warehouse, *chosen)


def value_date(warehouse: Warehouse, indicator_id: str, ref_date: str) -> str | None:
    """The latest reference date of the indicator up to ``ref_date`` (None if none)."""
    earlier = [d for d in catalogue.indicator_dates(warehouse, indicator_id) if d <= ref_date]
    return earlier[-1] if earlier else None


def table_values(
    warehouse: Warehouse, indicators: list[Indicator], ref_date: str, level: str
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Values of every indicator at its latest date up to ``ref_date`` for ``level``, and
    those dates by indicator id."""
    dates = {}
    frames = []
    for ind in indicators:
        date = value_date(warehouse, ind.indicator_id, ref_date)
        if date is None:
            continue
        dates[ind.indicator_id] = date
        frames.append(queries.area_values(warehouse, (ind.indicator_id,), date, level))
    columns = queries.area_values(warehouse, (), ref_date, level).columns
    values = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    return values, dates


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
    for _area_id, group in values.groupby("area_id", sort=True):
        by_indicator = group.set_index("indicator_id")
        name = group["name"].iloc[0]
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
    value_dates: dict[str, str] | None = None,
) -> html.Div:
    """Key figures per area of one level; the whole city as footer row.

    ``value_dates``: dates of columns whose values are of another date than the table's
    (see :func:`table_values`); their headers say so ("…, Stand 31.12.2015").
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
        _cells(values, indicators, lang),
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
