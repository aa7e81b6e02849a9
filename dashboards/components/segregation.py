"""Layout pieces of the segregation page: the change statements against random
allocation, the table alternatives of its charts and the metadata box.

Change statement (:func:`change_statements`): the observed change Δ of an index between two
dates is said to exceed random allocation when |Δ| is larger than the 95 % quantile of the
changes the simulations produce (:class:`dashboards.data.segregation.Change`); within
that range it is no evidence of a change in segregation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from dash import html

from dashboards import formatting, labels
from dashboards.components import tables
from dashboards.components.tables import Column
from dashboards.data.breaks import Break
from dashboards.data.catalogue import Indicator
from dashboards.data.segregation import Change, benchmark_text
from dashboards.i18n import t

CAVEATS = ("seg.caveat.small_units", "seg.caveat.same_level", "seg.caveat.benchmark")


@dataclass(frozen=True)
class LevelChange:
    """The change of an index over the units of one level; ``series_break``: the kind of
    break between the two dates (:func:`dashboards.data.breaks.between`), None if none;
    ``n_units_start``: the units on the first date."""

    level: str
    label: str
    n_units: int | None
    change: Change
    series_break: str | None = None
    n_units_start: int | None = None


# --- change statements -------------------------------------------------------------------
def _amount(value: float | None, indicator: Indicator, lang: str, signed: bool = True) -> str:
    """A change ``"−0,012"`` or a range ``"±0,004"`` in the index's decimals; for percent
    values in percentage points (``"+0,4 Prozentpunkte"``)."""
    if signed:
        text = formatting.format_signed(value, indicator.decimals)
    else:
        text = "±" + formatting.format_number(value, indicator.decimals)
    if indicator.unit == "percent":
        text = f"{text} {t('kpi.change_unit.points', lang)}"
    return text


def change_text(
    item: LevelChange, indicator: Indicator, start: str, end: str, lang: str
) -> tuple[str, str]:
    """One plain-German sentence and its kind: ``exceeds``, ``within``, ``no_benchmark``,
    ``missing`` (a value of either date is missing) or ``break`` (a series break lies
    between the dates: no statement about a change at all, only why)."""
    change = item.change
    values = {
        "level": item.label,
        "n": formatting.format_count(item.n_units),
        "n_start": formatting.format_count(item.n_units_start),
        "start": formatting.format_date(start),
        "end": formatting.format_date(end),
        "change": _amount(change.change, indicator, lang),
        "range": _amount(change.random_q95, indicator, lang, signed=False),
    }
    if item.series_break is not None:
        return "break", t(f"seg.change.break.{item.series_break}", lang, **values)
    if change.change is None:
        kind = "missing"
    elif change.exceeds is None:
        kind = "no_benchmark"
    else:
        kind = "exceeds" if change.exceeds else "within"
    return kind, t(f"seg.change.{kind}", lang, **values)


def change_statements(
    items: Sequence[LevelChange], indicator: Indicator, start: str, end: str, lang: str
) -> html.Div:
    """Per level: the observed change from ``start`` to ``end`` and whether it exceeds what
    random allocation produces (with the yardstick explained when there is a benchmark)."""
    if start == end:
        return html.P(t("seg.change.same_date", lang), className="hint")
    entries, kinds = [], set()
    for item in items:
        kind, text = change_text(item, indicator, start, end, lang)
        kinds.add(kind)
        entries.append(
            html.Li(text, className=f"change change-{kind}", **{"data-level": item.level})
        )
    children = [html.Ul(entries, className="change-list")]
    if kinds & {"exceeds", "within"}:
        children.append(html.P(t("seg.change.explain", lang), className="hint"))
    return html.Div(children)


# --- tables ------------------------------------------------------------------------------
def index_columns(indicator: Indicator, lang: str) -> list[Column]:
    return [
        Column("level", t("control.level", lang)),
        Column("date", t("table.date", lang)),
        Column("n_units", t("table.n_units", lang), True),
        Column("value", t("seg.col.observed", lang, unit=indicator.unit_label), True),
        Column("expected", t("seg.col.expected", lang), True),
        Column("range", t("seg.col.range", lang), True),
        Column("draws", t("seg.col.draws", lang), True),
        Column("flag", t("table.flag", lang)),
    ]


def _range_text(row: dict, decimals: int) -> str:
    if formatting.is_missing(row["lower"]):
        return formatting.MISSING
    lower, upper = (formatting.format_number(row[k], decimals) for k in ("lower", "upper"))
    return f"{lower}–{upper}"


def index_table(
    table_id: str,
    frame: pd.DataFrame,
    indicator: Indicator,
    level_labels: dict[str, str],
    caption: str,
    state: dict | None,
    lang: str,
    breaks: Sequence[Break] = (),
) -> html.Div:
    """The index per level and date with the number of units and the benchmark
    (``frame`` from :func:`segregation_figures.with_baseline`); series breaks as notes."""
    decimals = indicator.decimals
    rows = []
    for r in frame.sort_values(["rank", "ref_date"]).to_dict("records"):
        label = level_labels.get(r["level"], r["level"])
        flag = labels.flag_label(r["flag"], lang)
        draws = None if formatting.is_missing(r["draws"]) else int(r["draws"])
        rows.append(
            {
                "level": (label, r["rank"]),
                "date": (formatting.format_date(r["ref_date"]), r["ref_date"]),
                "n_units": (formatting.format_count(r["n_units"]), r["n_units"]),
                "value": (labels.value_text(r["value"], None, indicator, lang), r["value"]),
                "expected": (formatting.format_number(r["expected"], decimals), r["expected"]),
                "range": (_range_text(r, decimals), r["lower"]),
                "draws": (formatting.format_count(draws), draws),
                "flag": (flag, flag),
            }
        )
    columns = index_columns(indicator, lang)
    notes = tables.with_break_notes(tables.flag_notes(frame["flag"].tolist(), lang), breaks, lang)
    return tables.data_table(table_id, caption, columns, rows, state, lang, notes=notes)


def curve_table(
    table_id: str, points: pd.DataFrame, caption: str, state: dict | None, lang: str
) -> html.Div:
    """The units of the segregation curve in its order, with the group's share and the
    cumulated shares (the points of the curve)."""
    columns = [
        Column("position", t("seg.col.position", lang), True),
        Column("name", t("table.area", lang)),
        Column("share", t("seg.col.share", lang), True),
        Column("rest_cum", t("seg.col.rest_cum", lang), True),
        Column("group_cum", t("seg.col.group_cum", lang), True),
    ]

    def pct(value: float) -> tuple[str, float]:
        return formatting.format_value(value, "percent", 1), value

    rows = [
        {
            "position": (formatting.format_count(i), i),
            "name": (r["name"], r["name"]),
            "share": pct(r["share"]),
            "rest_cum": pct(100.0 * r["rest_cum"]),
            "group_cum": pct(100.0 * r["group_cum"]),
        }
        for i, r in enumerate(points.iloc[1:].to_dict("records"), start=1)
    ]
    return tables.data_table(table_id, caption, columns, rows, state, lang)


def benchmark_note(baseline: pd.DataFrame, lang: str) -> html.P:
    """:func:`benchmark_text` as a hint, or as a notice when there is no benchmark."""
    if baseline.empty:
        return html.P(benchmark_text(baseline, lang), className="notice", role="status")
    return html.P(benchmark_text(baseline, lang), className="hint")


def _entry(term: str, *details: object) -> list:
    return [html.Dt(term), *(html.Dd(d) for d in details if d)]


def metadata_box(
    index: Indicator,
    group: Indicator | None,
    units: Sequence[tuple[str, int | None]],
    ref_date: str | None,
    lang: str,
) -> html.Section:
    """Formula and definition of the index, the group, the number of units per level on
    ``ref_date``, source and data date, and how (not) to read the values."""
    entries = _entry(t("seg.meta.formula", lang), index.title, index.definition)
    if group is not None:
        counts = None
        if group.numerator_label and group.denominator_label:
            counts = t(
                "seg.meta.counts",
                lang,
                numerator=group.numerator_label,
                denominator=group.denominator_label,
            )
        entries += _entry(t("seg.meta.group", lang), group.title, counts, group.definition)
    unit_lines = [
        t("series.level_units", lang, level=label, n=formatting.format_count(n))
        for label, n in units
    ]
    date = formatting.format_date(ref_date)
    entries += _entry(t("seg.meta.units", lang, date=date), "; ".join(unit_lines))
    entries += _entry(
        t("seg.meta.source", lang), t("chart.caption", lang, source=index.source, date=date)
    )
    entries += _entry(t("seg.meta.caveats", lang), html.Ul([html.Li(t(k, lang)) for k in CAVEATS]))
    return html.Section(
        [html.H2(t("seg.meta.heading", lang)), html.Dl(entries, className="meta-list")],
        className="panel meta-box",
    )
