"""Texts for indicator values as people see them in hovers, tables and key figures.

One place for the rules that charts and tables share:

* values in German format with their unit (``18,8 %``);
* NULL values explained by their flag (``suppressed`` → "geheim gehalten", source symbols
  such as ``secret`` → "Zahlenwert unbekannt oder geheim zu halten", see :mod:`flags`);
* counts (numerator, denominator) as the read path hands them out: the publication rules
  (nothing of a suppressed value) are applied there (:mod:`dashboards.data.snapshot`);
* series labels for time series (area name, or level and number of units for
  segregation indices).
"""

from __future__ import annotations

import pandas as pd

from dashboards import flags, formatting
from dashboards.data.catalogue import Indicator
from dashboards.i18n import t


def flag_label(flag: str | None, lang: str) -> str:
    """Human text for a value flag (see :func:`flags.label`); "" for no flag."""
    return flags.label(flag, lang)


def value_text(
    value: float | None, flag: str | None, indicator: Indicator, lang: str, with_unit: bool = False
) -> str:
    """``"18,8 %"``; for NULL values the flag text (or "–").

    ``with_unit`` (hovers) also names other units: ``"81,5 je 100"``, ``"1.091 Personen"``,
    ``"−1.234 Personen (Saldo)"``; indices stay bare (their unit is in the chart title),
    and a flag on a published value is added in brackets.
    """
    if formatting.is_missing(value):
        return flag_label(flag, lang) or formatting.MISSING
    text = formatting.format_value(value, indicator.unit, indicator.decimals)
    if with_unit and indicator.unit not in ("percent", "index") and indicator.unit_label:
        text = f"{text} {indicator.unit_label}"
    if with_unit and flags.is_flag(flag):
        text = f"{text} ({flag_label(flag, lang)})"
    return text


def count_labels(indicator: Indicator, lang: str) -> tuple[str, str] | None:
    """Labels of numerator and denominator; None where they add nothing to the value.

    Counts are their own numerator; segregation indices have no single numerator; observed
    values (published rates) come without counts.
    Without specific labels in the catalogue, "Zähler"/"Nenner" are used.
    """
    if indicator.function in ("count", "observed") or indicator.is_segregation:
        return None
    return (
        indicator.numerator_label or t("label.numerator", lang),
        indicator.denominator_label or t("label.denominator", lang),
    )


def count_lines(row: dict, indicator: Indicator, lang: str) -> list[str]:
    """Hover lines ``"<label>: <count>"`` for the published numerator and denominator."""
    names = count_labels(indicator, lang)
    if names is None:
        return []
    counts = row["numerator"], row["denominator"]
    return [
        f"{name}: {formatting.format_count(count)}"
        for name, count in zip(names, counts, strict=True)
        if not formatting.is_missing(count)
    ]


def series_labels(
    frame: pd.DataFrame, indicator: Indicator, level_labels: dict[str, str], lang: str
) -> pd.DataFrame:
    """Add ``series`` (key) and ``label`` columns to a :func:`queries.series` frame.

    Area indicators: one series per area, labelled with its name. Segregation indices: one
    series per unit level, labelled ``"Stadtteil (n = 12)"`` with the latest number of units.
    """
    frame = frame.copy()
    if not indicator.is_segregation:
        frame["series"] = frame["area_id"]
        frame["label"] = frame["name"]
        return frame
    frame["series"] = frame["level"]
    latest_n = frame.sort_values("ref_date").groupby("level")["n_units"].last()
    frame["label"] = [
        t(
            "series.level_units",
            lang,
            level=level_labels.get(level, level),
            n=formatting.format_count(latest_n.get(level)),
        )
        for level in frame["level"]
    ]
    return frame
