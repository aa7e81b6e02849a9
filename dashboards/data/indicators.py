"""Indikatoren: what the catalogue page says about each indicator (the card and the
table: :mod:`dashboards.components.indicators`).

For every indicator: definition, numerator, denominator, unit and source (from the
``indicators`` table), data coverage (first and latest date with a value, levels; for
segregation indices the number of units), caveats, and related indicators:

* **same topic** (``indicators.topic``);
* **same group**: the same whole-city numerator on the same date
  (:func:`queries.same_numerator_pairs`; the warehouse keeps no group column).

Caveats: segregation indices depend on the size and number of units (MAUP); flags
present in the values (with counts); disclosure-control thresholds where the build
recorded them in ``meta`` (keys :data:`META_MIN_DENOMINATOR`, :data:`META_MIN_COUNT`);
series breaks (a change of ``definition_id``); observed rates; location quotients.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboards import flags, formatting, labels
from dashboards.data import catalogue, queries
from dashboards.data.catalogue import META_MAX_DEVIATION, META_METHOD, Indicator
from dashboards.data.queries import Warehouse
from dashboards.data.snapshot import memoised
from dashboards.i18n import UnknownStringError, t

META_MIN_DENOMINATOR = "disclosure_min_denominator"
META_MIN_COUNT = "disclosure_min_count"
ENGINE_FUNCTIONS = frozenset({"count", "share", "ratio", "location_quotient"})
SEGREGATION_PATH = "/segregation"


@dataclass(frozen=True)
class Period:
    """Dates with values of one definition (or level)."""

    key: str
    first: str | None
    last: str | None


@dataclass(frozen=True)
class Facts:
    """Everything the catalogue shows about one indicator."""

    indicator: Indicator
    first_date: str | None
    last_date: str | None
    n_dates: int
    levels: tuple[tuple[str, int | None], ...]  # (level label, units on the latest date)
    flag_counts: tuple[tuple[str, int], ...]
    definitions: tuple[Period, ...]
    same_topic: tuple[Indicator, ...]
    same_group: tuple[Indicator, ...]


def topic_label(topic: str, lang: str) -> str:
    """``topic.<id>`` from strings.yaml, else the id itself, capitalised."""
    try:
        return t(f"topic.{topic}", lang)
    except UnknownStringError:
        return topic.replace("_", " ").capitalize()


def facts(warehouse: Warehouse, lang: str) -> dict[str, Facts]:
    """Facts of every indicator, in catalogue order (a new dict of the snapshot's cached,
    immutable facts: the catalogue page asks twice per load, for the card and the table)."""
    return dict(_facts(warehouse, lang))


@memoised(8)
def _facts(warehouse: Warehouse, lang: str) -> dict[str, Facts]:
    indicators = catalogue.indicators(warehouse, lang)
    coverage = queries.indicator_coverage(warehouse)
    counts = queries.indicator_flag_counts(warehouse)
    pairs = queries.same_numerator_pairs(warehouse)
    levels = catalogue.levels(warehouse, lang)
    by_indicator = dict(tuple(coverage.groupby("indicator_id", sort=False)))
    related = pairs.groupby("indicator_id")["related_id"].agg(set).to_dict()
    out = {}
    for indicator_id, indicator in indicators.items():
        rows = by_indicator.get(indicator_id, coverage.iloc[0:0])
        group_ids = related.get(indicator_id, set())
        out[indicator_id] = Facts(
            indicator=indicator,
            first_date=_min(rows["first_date"]),
            last_date=_max(rows["last_date"]),
            n_dates=_n_dates(warehouse, indicator_id),
            levels=_levels(rows, levels),
            flag_counts=_flag_counts(counts, indicator_id),
            definitions=_definitions(rows),
            same_topic=tuple(
                i for k, i in indicators.items() if k != indicator_id and i.topic == indicator.topic
            ),
            same_group=tuple(i for k, i in indicators.items() if k in group_ids),
        )
    return out


def _min(values: pd.Series) -> str | None:
    values = values.dropna()
    return None if values.empty else str(values.min())


def _max(values: pd.Series) -> str | None:
    values = values.dropna()
    return None if values.empty else str(values.max())


def _n_dates(warehouse: Warehouse, indicator_id: str) -> int:
    return len(catalogue.indicator_dates(warehouse, indicator_id))


def _levels(rows: pd.DataFrame, levels: dict) -> tuple[tuple[str, int | None], ...]:
    """Levels with values, coarse to fine, with the latest number of units (indices)."""
    out = []
    dated = rows[rows["last_date"].notna()].sort_values("last_date", kind="stable")
    latest_by_level = dated.groupby("level", sort=False).tail(1).set_index("level")
    for level, lvl in levels.items():
        if level not in latest_by_level.index:
            continue
        latest = latest_by_level.loc[level]
        units = None if pd.isna(latest["n_units"]) else int(latest["n_units"])
        out.append((lvl.label, units))
    return tuple(out)


def _flag_counts(counts: pd.DataFrame, indicator_id: str) -> tuple[tuple[str, int], ...]:
    mine = counts[counts["indicator_id"] == indicator_id]
    pairs = [(str(f), int(n)) for f, n in zip(mine["flag"], mine["n"], strict=True)]
    return tuple(sorted(pairs, key=lambda p: flags.order(p[0])))


def _definitions(rows: pd.DataFrame) -> tuple[Period, ...]:
    """Periods per ``definition_id`` (over all levels), in time order."""
    periods = [
        Period(str(key), _min(part["first_date"]), _max(part["last_date"]))
        for key, part in rows.groupby("definition_id", sort=False)
    ]
    return tuple(sorted(periods, key=lambda p: p.first or ""))


# --- caveats ------------------------------------------------------------------------------
def caveats(fact: Facts, meta: dict[str, str], lang: str) -> list[str]:
    """Notes on interpreting the indicator (see the module docstring)."""
    indicator = fact.indicator
    notes = []
    if indicator.is_segregation:
        notes.append(t("catalogue.caveat.segregation", lang))
    if indicator.function == "observed":
        notes.append(t("catalogue.caveat.observed", lang))
    if indicator.function == "location_quotient":
        notes.append(t("catalogue.caveat.location_quotient", lang))
    if len(fact.definitions) > 1:
        items = "; ".join(
            t(
                "catalogue.caveat.definition_item",
                lang,
                definition=p.key,
                first=formatting.format_date(p.first),
                last=formatting.format_date(p.last),
            )
            for p in fact.definitions
        )
        notes.append(t("catalogue.caveat.definitions", lang, items=items))
    disclosure = disclosure_caveat(indicator, meta, lang)
    if disclosure:
        notes.append(disclosure)
    if fact.flag_counts:
        items = "; ".join(
            t(
                "catalogue.caveat.flag_item",
                lang,
                label=labels.flag_label(flag, lang),
                n=formatting.format_count(n),
                explain=flags.explanation(flag, lang),
            )
            for flag, n in fact.flag_counts
        )
        notes.append(t("catalogue.caveat.flags", lang, items=items))
    return notes


def disclosure_caveat(indicator: Indicator, meta: dict[str, str], lang: str) -> str | None:
    """The disclosure-control thresholds the build applied to this indicator (None if the
    build did not record them, or the indicator is not computed by the engine)."""
    if indicator.function not in ENGINE_FUNCTIONS or META_MIN_COUNT not in meta:
        return None
    if meta.get(META_METHOD) == "cell_key":
        return t(
            "catalogue.caveat.cell_key",
            lang,
            deviation=meta.get(META_MAX_DEVIATION, "?"),
            min_denominator=formatting.format_count(int(meta.get(META_MIN_DENOMINATOR, 0))),
        )
    max_count = int(meta[META_MIN_COUNT]) - 1
    if indicator.function == "count":
        return t("catalogue.caveat.disclosure_count", lang, max_count=max_count)
    if META_MIN_DENOMINATOR not in meta:
        return None
    return t(
        "catalogue.caveat.disclosure_share",
        lang,
        min_denominator=formatting.format_count(int(meta[META_MIN_DENOMINATOR])),
        max_count=max_count,
    )
