"""Typed, localised views of the warehouse catalogues (indicators, levels, dates, meta).

Thin wrappers around :mod:`dashboards.data.queries`: they pick the ``*_de``/``*_en`` columns for
the UI language and turn rows into small frozen dataclasses the pages and figures use.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboards import formatting
from dashboards.data import breaks, queries
from dashboards.data.queries import Warehouse
from dashboards.i18n import localized_column, t
from etl.indicators.spec import UNIT_INDICES

META_METHOD = "disclosure_method"  # etl/publication.py
META_MAX_DEVIATION = "disclosure_max_deviation"
META_ROUNDING = "disclosure_rounding"

# City-wide indices computed over the units of a level (one value per root area and level),
# in the order the segregation page lists them.
SEGREGATION_ORDER = UNIT_INDICES
SEGREGATION_FUNCTIONS = frozenset(SEGREGATION_ORDER)


@dataclass(frozen=True)
class Indicator:
    """One row of the ``indicators`` table in the UI language."""

    indicator_id: str
    function: str
    topic: str
    title: str
    definition: str
    unit: str
    unit_label: str
    decimals: int
    source: str
    numerator_label: str | None
    denominator_label: str | None
    definition_id: str

    @property
    def is_segregation(self) -> bool:
        """Segregation indices describe the city over the units of a level (no area values)."""
        return self.function in SEGREGATION_FUNCTIONS

    @property
    def change_kind(self) -> str:
        """``relative``, ``points`` or ``absolute`` (see :func:`formatting.change_kind`)."""
        return formatting.change_kind(self.function, self.unit)


@dataclass(frozen=True)
class Level:
    """A spatial level in the UI language."""

    level: str
    rank: int
    label: str
    has_geometry: bool


@dataclass(frozen=True)
class Area:
    """An area (id and name)."""

    area_id: str
    name: str
    level: str


def _text(value: object) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def indicators(warehouse: Warehouse, lang: str) -> dict[str, Indicator]:
    """All indicators in display order, keyed by id. With the cell-key method the source
    says so (every chart caption and export carries it): totals need not equal the sum of
    their parts."""
    frame = queries.indicators(warehouse)
    note = perturbation_note(meta(warehouse), lang)

    def col(name: str) -> str:
        return localized_column(name, lang)

    return {
        row["indicator_id"]: Indicator(
            indicator_id=row["indicator_id"],
            function=row["function"],
            topic=row["topic"],
            title=row[col("title")],
            definition=row[col("definition")],
            unit=row["unit"],
            unit_label=row[col("unit")],
            decimals=int(row["decimals"]),
            source=row["source"] + (f"; {note}" if note and row["function"] != "observed" else ""),
            numerator_label=_text(row[col("numerator")]),
            denominator_label=_text(row[col("denominator")]),
            definition_id=row["definition_id"],
        )
        for row in frame.to_dict("records")
    }


def levels(warehouse: Warehouse, lang: str) -> dict[str, Level]:
    """All levels, coarse to fine, keyed by level id."""
    frame = queries.levels(warehouse)
    label = localized_column("label", lang)
    return {
        row["level"]: Level(row["level"], int(row["rank"]), row[label], bool(row["has_geometry"]))
        for row in frame.to_dict("records")
    }


def map_levels(warehouse: Warehouse, lang: str) -> list[Level]:
    """Levels offered on the map: all below the whole city, coarse to fine.

    Whether a level has boundaries on a date is :func:`has_geometry`; without them the map
    page explains that and still shows the table.
    """
    return [lvl for lvl in levels(warehouse, lang).values() if lvl.rank > 0]


def has_geometry(warehouse: Warehouse, level: str, ref_date: str) -> bool:
    """True if ``level`` has boundaries valid on ``ref_date`` (ISO dates compare as text)."""
    periods = queries.geometry_periods(warehouse)
    periods = periods[periods["level"] == level]
    return any(
        start <= ref_date and (pd.isna(end) or ref_date <= end)
        for start, end in zip(periods["valid_from"], periods["valid_to"], strict=True)
    )


def outline_shapes(warehouse: Warehouse, level: str, ref_date: str) -> pd.DataFrame | None:
    """The boundaries drawn over a map of ``level`` (the Karte, its exports and embeds):
    those of the coarsest level below the city on ``ref_date`` when ``level`` is finer
    (:func:`queries.geometries`), else None."""
    ranked = levels(warehouse, "de")
    rank = ranked[level].rank if level in ranked else 0
    coarser = [lvl for lvl in ranked.values() if 0 < lvl.rank < rank]
    if not coarser:
        return None
    shapes = queries.geometries(warehouse, coarser[0].level, ref_date)
    return None if shapes.empty else shapes


def default_map_level(
    warehouse: Warehouse, offered: list[Level], ref_date: str | None
) -> Level | None:
    """The finest offered level with boundaries on ``ref_date``, else the finest one."""
    if ref_date is not None:
        for lvl in reversed(offered):
            if has_geometry(warehouse, lvl.level, ref_date):
                return lvl
    return offered[-1] if offered else None


def comparable_level(
    warehouse: Warehouse,
    offered: list[Level],
    start: str | None,
    end: str | None,
    mapped: bool = True,
) -> Level | None:
    """The finest offered level whose division is the same on ``start`` and ``end`` (no
    boundary break between them, :mod:`dashboards.data.breaks`) and, if ``mapped``, that
    has boundaries on ``end``; without one, :func:`default_map_level` (``mapped``) or the
    finest level. On Berlin 2015 vs 2024: the districts (forecast areas changed in 2021)."""
    if start is not None and end is not None:
        divisions = breaks.level_breaks(warehouse)
        for lvl in reversed(offered):
            if breaks.between(divisions, lvl.level, start, end) is not None:
                continue
            if not mapped or has_geometry(warehouse, lvl.level, end):
                return lvl
    if mapped:
        return default_map_level(warehouse, offered, end)
    return offered[-1] if offered else None


def named(areas: pd.DataFrame) -> pd.DataFrame:
    """The areas with a name of their own (not the generated ``"Planungsraum 01100101"``
    of units whose boundary file names none)."""
    pairs = zip(areas["area_id"], areas["name"], strict=True)
    return areas[[not str(name).endswith(str(area)) for area, name in pairs]]


def ref_dates(warehouse: Warehouse) -> list[str]:
    """Reference dates (ISO) of all indicators, ascending."""
    return queries.ref_dates(warehouse)["ref_date"].tolist()


def indicator_dates(warehouse: Warehouse, *indicator_ids: str) -> list[str]:
    """Reference dates (ISO) with rows for any of ``indicator_ids``, ascending."""
    return queries.indicator_dates(warehouse, tuple(indicator_ids))["ref_date"].tolist()


def city(warehouse: Warehouse) -> Area:
    """The whole city (root area)."""
    frame = queries.root_area(warehouse)
    if frame.empty:
        raise LookupError("The warehouse has no area on the rank-0 level (the whole city).")
    row = frame.iloc[0]
    return Area(row["area_id"], row["name"], row["level"])


def perturbation_note(meta: dict[str, str], lang: str) -> str | None:
    """The short note for sources and captions when published counts are perturbed (cell
    key) or rounded: totals need not equal the sum of their parts (None otherwise)."""
    if meta.get(META_METHOD) == "cell_key":
        return t("chart.cell_key_note", lang, deviation=meta.get(META_MAX_DEVIATION, "?"))
    if int(meta.get(META_ROUNDING, 0) or 0):
        return t("chart.rounding_note", lang, base=meta[META_ROUNDING])
    return None


def meta(warehouse: Warehouse) -> dict[str, str]:
    """The ``meta`` table as a dict."""
    frame = queries.meta(warehouse)
    return dict(zip(frame["key"], frame["value"], strict=True))


def default_indicator(indicators: list[Indicator]) -> str | None:
    """The first percent indicator (shares suit maps and comparisons), else the first one."""
    for indicator in indicators:
        if indicator.unit == "percent":
            return indicator.indicator_id
    return indicators[0].indicator_id if indicators else None


def series_indicators(warehouse: Warehouse, indicators: list[Indicator]) -> list[Indicator]:
    """The indicators with more than one reference date (worth a time series)."""
    return [i for i in indicators if len(indicator_dates(warehouse, i.indicator_id)) > 1]
