"""Key figures of the overview page: which ones (``key_figures.yaml``), their values and
changes against the previous reference date, the values of the per-area table (cards and
table: :mod:`dashboards.components.overview`).

Changes: counts in % of the previous value, percent values in percentage points, indices
and ratios as absolute differences (see :func:`formatting.change_kind`).

Indicators need not share reference dates (statistics-office tables: annual averages,
30 June, single years), so every figure and table column shows the latest value **up to**
the chosen date, with its own date ("Stand"). Configured indicators a warehouse lacks are
left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from dashboards import formatting
from dashboards.data import catalogue, queries
from dashboards.data.catalogue import Indicator
from dashboards.data.queries import Warehouse
from dashboards.data.snapshot import memoised
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
    series_break: str | None = None  # between the previous date and this one: no change


@memoised(1)
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
    crossed = None if current is None or previous is None else current.get("break_before")
    crossed = None if formatting.is_missing(crossed) else crossed
    if crossed is not None:  # new boundaries or definition: no change across the break
        before = None
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
        series_break=crossed,
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
    if figure.series_break is not None:
        date = formatting.format_date(figure.previous_date)
        return t("kpi.series_break", lang, date=date)
    kind = figure.indicator.change_kind
    decimals = CHANGE_DECIMALS_RELATIVE if kind == "relative" else figure.indicator.decimals
    number = formatting.format_signed(figure.change, decimals)
    unit = t(f"kpi.change_unit.{kind}", lang)
    amount = " ".join(part for part in (number, unit) if part)
    return t("kpi.change", lang, change=amount, date=formatting.format_date(figure.previous_date))
