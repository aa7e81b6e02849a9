"""The summary "Das Wichtigste in Kürze" and the key figures: one :class:`Statement` per
configured key figure (``dashboards/data/key_figures.yaml``) and the German (or English)
sentences about it (:func:`summary_sentences`, pure).

Changes are computed from the published values **rounded** to the indicator's decimals
(:func:`rounded_change`), so a reader can check every sentence against the table beside
it; "unverändert" means the same rounded value. No change is stated across a series break
(:func:`dashboards.data.breaks.between`: new division into areas, changed definition).
The subject of a German sentence takes its article from the title (:func:`subject`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

from dashboards import formatting, labels
from dashboards.data import breaks, catalogue, overview, queries
from dashboards.data.catalogue import Indicator
from dashboards.data.queries import Warehouse
from dashboards.export.yearly_report.model import (
    Paragraph,
    Section,
    Table,
    source_line,
    texts,
    tr,
)
from dashboards.i18n import t as ui_text

ARTICLES = {"m": ("der", "er"), "f": ("die", "sie"), "n": ("das", "es")}
RELATIVE_DECIMALS = overview.CHANGE_DECIMALS_RELATIVE


# --- summary sentences (pure) -------------------------------------------------------------
@dataclass(frozen=True)
class Comparison:
    """An earlier value to compare the current one with: ``kind`` ``previous`` or
    ``first``; ``value`` None: nothing published then; ``series_break``: the kind of
    break between then and now (then no change is stated)."""

    kind: str
    ref_date: str
    value: float | None
    series_break: str | None = None
    monitor_start: bool = True  # first: the monitor's first date (else the series' own)


@dataclass(frozen=True)
class Statement:
    """What the summary says about one key figure of the city."""

    indicator: Indicator
    ref_date: str
    value: float | None
    flag: str | None
    comparisons: tuple[Comparison, ...]
    level: str | None = None  # segregation indices: the level of units, its label, the units
    level_label: str | None = None
    n_units: int | None = None


def subject(indicator: Indicator, lang: str) -> tuple[str, str]:
    """The indicator as the subject of a sentence and its pronoun: ``("Der Ausländeranteil
    an allen Einwohnern", "er")``, ``("Die Zahl der Einwohnerinnen und Einwohner", "sie")``;
    titles of unknown gender: ``der Wert „…“`` (see ``texts.yaml``, ``subjects``)."""
    rules = texts()["subjects"]
    title = indicator.title
    if lang == "en":
        if indicator.function == "count" and indicator.unit == "persons":
            return capital(rules["count"]["en"].format(title=title.lower())), "it"
        return "The " + title[:1].lower() + title[1:], "it"
    if indicator.function == "count" and indicator.unit == "persons":
        return capital(rules["count"]["de"].format(title=title)), "sie"
    first = title.split()[0].lower() if title.split() else ""
    gender = next((g for end, g in rules["endings"].items() if first.endswith(end)), None)
    if gender is None:
        return capital(rules["fallback"]["de"].format(title=title)), "er"
    article, pronoun = ARTICLES[gender]
    return f"{capital(article)} {title}", pronoun


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def rounded_change(now: float, then: float, indicator: Indicator) -> float | None:
    """The change from ``then`` to ``now`` as published: both rounded to the indicator's
    decimals, then relative (in %, counts), in points (percent) or absolute; None for a
    relative change from 0."""
    d = indicator.decimals
    return formatting.change(round(now, d), round(then, d), indicator.change_kind)


def change_decimals(indicator: Indicator) -> int:
    return RELATIVE_DECIMALS if indicator.change_kind == "relative" else indicator.decimals


def change_amount(change: float, indicator: Indicator, lang: str) -> str:
    """``"0,3 Prozentpunkte"``, ``"1,2 %"``, ``"0,02"`` (no sign: the verb says it)."""
    number = formatting.format_number(abs(change), change_decimals(indicator))
    kind = indicator.change_kind
    if kind == "points":
        one = number == "1"  # "1,0 Prozentpunkte": plural after a decimal (Duden)
        return f"{number} {tr('unit.point' if one and lang == 'de' else 'unit.points', lang)}"
    if kind == "relative":
        return f"{number} {tr('unit.relative', lang)}"
    return number


def direction(change: float | None, indicator: Indicator) -> str | None:
    """``rise``, ``fall`` or ``same`` at the decimals the change is shown with."""
    if change is None:
        return None
    shown = formatting.format_number(abs(change), change_decimals(indicator))
    if shown.strip("0,.") == "":
        return "same"
    return "rise" if change > 0 else "fall"


def _reference(comparison: Comparison, current_date: str, lang: str) -> str:
    when = formatting.format_date(comparison.ref_date)
    if comparison.kind == "first":
        key = "reference.first" if comparison.monitor_start else "reference.first_series"
        return tr(key, lang, date=when)
    then, now = date.fromisoformat(comparison.ref_date), date.fromisoformat(current_date)
    year_before = (then.month, then.day) == (now.month, now.day) and then.year == now.year - 1
    return tr("reference.previous_year" if year_before else "reference.previous", lang, date=when)


def comparison_sentence(
    statement: Statement, comparison: Comparison, pronoun: str, lang: str
) -> str:
    """One sentence: risen / fallen / unchanged since then, or why no change is given."""
    reference = _reference(comparison, statement.ref_date, lang)
    if comparison.series_break is not None:
        reason = tr(f"reason.{comparison.series_break}", lang)
        return tr("summary.break", lang, reference=reference, reason=reason)
    if comparison.value is None:
        return tr("summary.no_value_then", lang, reference=reference)
    indicator = statement.indicator
    change = rounded_change(statement.value, comparison.value, indicator)
    way = direction(change, indicator)
    if way is None:
        return tr("summary.no_value_then", lang, reference=reference)
    amount = change_amount(change, indicator, lang)
    return tr(f"summary.{way}", lang, reference=reference, pronoun=pronoun, amount=amount)


def summary_sentences(statement: Statement, lang: str) -> list[str]:
    """The summary's sentences about one key figure: its value, then one sentence per
    comparison (the previous date, then the start of the series; one only when they are
    the same date)."""
    indicator = statement.indicator
    name, pronoun = subject(indicator, lang)
    when = formatting.format_date(statement.ref_date)
    if formatting.is_missing(statement.value):
        flag = labels.flag_label(statement.flag, lang) or formatting.MISSING
        return [tr("summary.missing", lang, subject=name, date=when, flag=flag)]
    value = labels.value_text(statement.value, statement.flag, indicator, lang)
    if statement.level_label is not None:
        n = formatting.format_count(statement.n_units)
        first = tr(
            "summary.level_units",
            lang,
            subject=name,
            date=when,
            value=value,
            level=statement.level_label,
            n=n,
        )
    else:
        first = tr("summary.level", lang, subject=name, date=when, value=value)
    if not statement.comparisons:
        return [first, tr("summary.none_earlier", lang)]
    return [
        first,
        *(comparison_sentence(statement, c, pronoun, lang) for c in statement.comparisons),
    ]


# --- statements from the read path --------------------------------------------------------
def statement(
    rows: pd.DataFrame,
    indicator: Indicator,
    ref_date: str,
    level_breaks: dict[str, tuple[str, ...]],
    monitor_start: str,
    level_label: str | None = None,
) -> Statement | None:
    """The key figure of one series (city rows of one level from :func:`queries.series`,
    ``break_before`` marked) on the latest date up to ``ref_date`` (None: no row)."""
    rows = rows[rows["ref_date"] <= ref_date].sort_values("ref_date")
    if rows.empty:
        return None
    current, earlier = rows.iloc[-1], rows.iloc[:-1]
    level = current["level"]
    comparisons = []
    if not earlier.empty:
        previous = earlier.iloc[-1]
        comparisons.append(_comparison("previous", previous, rows, level, level_breaks))
        with_value = earlier[earlier["value"].notna()]
        if not with_value.empty and with_value.iloc[0]["ref_date"] < previous["ref_date"]:
            first = _comparison("first", with_value.iloc[0], rows, level, level_breaks)
            start = first.ref_date <= monitor_start
            comparisons.append(
                Comparison("first", first.ref_date, first.value, first.series_break, start)
            )
    n_units = current.get("n_units")
    return Statement(
        indicator=indicator,
        ref_date=current["ref_date"],
        value=None if formatting.is_missing(current["value"]) else float(current["value"]),
        flag=None if formatting.is_missing(current["flag"]) else current["flag"],
        comparisons=tuple(comparisons),
        level=level if level_label is not None else None,
        level_label=level_label,
        n_units=None if n_units is None or pd.isna(n_units) else int(n_units),
    )


def _comparison(
    kind: str, then: pd.Series, rows: pd.DataFrame, level: str, level_breaks: dict
) -> Comparison:
    """``then`` against the last row of ``rows``, with the break between them, if any."""
    now = rows.iloc[-1]
    span = rows[(rows["ref_date"] >= then["ref_date"]) & (rows["ref_date"] <= now["ref_date"])]
    crossed = breaks.between(
        level_breaks, level, then["ref_date"], now["ref_date"], span["definition_id"].dropna()
    )
    value = None if formatting.is_missing(then["value"]) else float(then["value"])
    return Comparison(kind, then["ref_date"], value, crossed)


def _unit_level(rows: pd.DataFrame, wanted: str | None) -> str | None:
    """The configured unit level of a segregation index if the snapshot has it, else its
    finest level (as the overview page does)."""
    if rows.empty:
        return None
    if wanted in set(rows["level"]):
        return wanted
    return rows.sort_values("rank")["level"].iloc[-1]


def key_statements(wh: Warehouse, ref_date: str, lang: str) -> list[Statement]:
    """The statements of the configured key figures (``key_figures.yaml``) the snapshot
    has: the city's value, segregation indices at their unit level."""
    indicators = catalogue.indicators(wh, lang)
    city = catalogue.city(wh)
    level_labels = {k: lvl.label for k, lvl in catalogue.levels(wh, lang).items()}
    level_breaks = breaks.level_breaks(wh)
    start = monitor_start(wh)
    out = []
    for spec in overview.specs():
        indicator = indicators.get(spec.indicator_id)
        if indicator is None:
            continue
        rows = queries.series(wh, spec.indicator_id, (city.area_id,))
        level, label = city.level, None
        if indicator.is_segregation:
            level = _unit_level(rows, spec.level)
            label = level_labels.get(level, level)
        found = statement(
            rows[rows["level"] == level], indicator, ref_date, level_breaks, start, label
        )
        if found is not None:
            out.append(found)
    return out


def monitor_start(wh: Warehouse) -> str:
    """The first reference date of the monitor (any indicator)."""
    return catalogue.ref_dates(wh)[0]


def summary_section(
    statements: Sequence[Statement], ref_date: str, lang: str, area: str
) -> Section:
    """The summary ("Das Wichtigste in Kürze") for the top-level area ``area`` (its name: a city, a
    district or a Land)."""
    section = Section(tr("summary.heading", lang))
    date = formatting.format_date(ref_date)
    section.blocks.append(Paragraph(tr("summary.intro", lang, date=date, area=area)))
    for item in statements:
        section.blocks.append(
            Paragraph(" ".join(summary_sentences(item, lang)), "summary", item.indicator.title)
        )
    return section


def _change_cell(item: Statement, kind: str, lang: str) -> str:
    comparison = next((c for c in item.comparisons if c.kind == kind), None)
    if comparison is None and kind == "first":  # the previous date is the first one
        comparison = next((c for c in item.comparisons if c.kind == "previous"), None)
    if comparison is None or formatting.is_missing(item.value) or comparison.value is None:
        return formatting.MISSING
    if comparison.series_break is not None:
        return tr("key.break", lang)
    indicator = item.indicator
    change = rounded_change(item.value, comparison.value, indicator)
    if change is None:
        return formatting.MISSING
    number = formatting.format_signed(change, change_decimals(indicator))
    unit = ui_text(f"kpi.change_unit.{indicator.change_kind}", lang)
    since = formatting.format_date(comparison.ref_date)
    return f"{' '.join(p for p in (number, unit) if p)} ({since})"


def key_section(
    statements: Sequence[Statement], wh: Warehouse, ref_date: str, lang: str
) -> Section:
    section = Section(tr("key.heading", lang))
    date, area = formatting.format_date(ref_date), catalogue.city(wh).name
    section.blocks.append(Paragraph(tr("key.intro", lang, date=date, area=area)))
    rows = []
    for item in statements:
        name = item.indicator.title
        if item.level_label is not None:
            units = ui_text("kpi.segregation_units", lang, level=item.level_label, n=item.n_units)
            name = f"{name} ({units})"
        rows.append(
            (
                name,
                formatting.format_date(item.ref_date),
                labels.value_text(item.value, item.flag, item.indicator, lang),
                _change_cell(item, "previous", lang),
                _change_cell(item, "first", lang),
            )
        )
    header = tuple(
        tr(f"key.col.{k}", lang) for k in ("indicator", "date", "value", "previous", "first")
    )
    caption = tr("key.caption", lang, city=catalogue.city(wh).name)
    source = source_line([s.indicator for s in statements], ref_date, lang)
    section.blocks.append(
        Table(caption, header, tuple(rows), (False, False, True, True, True), source)
    )
    return section
