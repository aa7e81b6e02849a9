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

from collections.abc import Sequence

import pandas as pd

from dashboards import flags, formatting
from dashboards.data.breaks import Break
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
    texts = {
        level: level_units(rows.sort_values("ref_date"), level_labels.get(level, level), lang)
        for level, rows in frame.groupby("level", sort=False)
    }
    frame["label"] = frame["level"].map(texts)
    return frame


def level_units(rows: pd.DataFrame, label: str, lang: str) -> str:
    """``"Stadtteil (n = 12)"`` with the latest number of units of one level's rows (in
    date order); across a boundary break
    (``break_before``) the numbers before and after: ``"Planungsraum (n = 425, ab
    30.06.2021: 531)"``."""
    count = formatting.format_count
    kinds = rows["break_before"] if "break_before" in rows else pd.Series(index=rows.index)
    starts = rows.index[kinds == "boundaries"]
    if len(starts) == 0:
        return t("series.level_units", lang, level=label, n=count(rows["n_units"].iloc[-1]))
    position = rows.index.get_loc(starts[-1])
    before, after = rows.iloc[:position], rows.iloc[position:]
    return t(
        "series.level_units_break",
        lang,
        level=label,
        before=count(before["n_units"].iloc[-1]),
        after=count(after["n_units"].iloc[-1]),
        start=formatting.format_date(after["ref_date"].iloc[0]),
    )


def break_text(brk: Break, lang: str) -> str:
    """What a series break means, in one sentence (hover, notes under charts and tables)."""
    if brk.kind == "boundaries":
        return t("breaks.boundaries", lang, date=formatting.format_date(brk.at))
    before, after = formatting.format_date(brk.before), formatting.format_date(brk.after)
    return t("breaks.definition", lang, before=before, after=after)


def break_notes(found: Sequence[Break], lang: str) -> list[str]:
    """One sentence per distinct break (:func:`break_text`), in date order."""
    return list(dict.fromkeys(break_text(b, lang) for b in found))
