"""``imon report``: the integration commission's yearly report in one command (issue #15).

One content model (:class:`Report`: sections of paragraphs, tables and charts), built from
the published snapshot through the dashboard's read path (:mod:`dashboards.data`), written
either as **PDF** (HTML/CSS typeset by WeasyPrint, charts as SVG vector graphics from
Kaleido, :mod:`dashboards.export.yearly_report_pdf`) or as an editable **DOCX**
(python-docx, charts as 300-dpi PNG, :mod:`dashboards.export.yearly_report_docx`).

Sections: title page (instance, Stand, publication date); table of contents; "Das
Wichtigste in Kürze" (:func:`summary_sentences`: generated sentences with each key figure
and its change since the previous reference date and since the start of the series);
the key figures; per action field its goals with status, when the instance has goals
(:func:`goals_sections`); district maps and the district table; segregation with the
random-allocation band; methods and sources.

Changes are computed from the published values **rounded** to the indicator's decimals, so
a reader can check every sentence against the table beside it; "unverändert" means the
same rounded value. No change is stated across a series break
(:func:`dashboards.data.breaks.between`: new division into areas, changed definition).

Only the publication is read. ``internal=True`` (the statistics office's ``--internal``)
reads the snapshot's unprotected warehouse instead (:func:`open_internal`) and marks every
page with :data:`dashboards.data.unprotected.MARK`; nothing else opens that file.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import yaml

from dashboards import flags, formatting, labels
from dashboards.data import breaks, catalogue, overview, queries
from dashboards.data import goals as goals_data
from dashboards.data import indicators as indicator_facts
from dashboards.data import segregation as segregation_data
from dashboards.data.catalogue import Indicator
from dashboards.data.goals import Assessment as GoalAssessment
from dashboards.data.queries import Warehouse
from dashboards.data.unprotected import MARK
from dashboards.export import map as map_export
from dashboards.export import segregation as segregation_export
from dashboards.export.render import Chart, ExportError
from dashboards.export.tables import snapshot_id
from dashboards.i18n import t as ui_text
from etl import warehouse as warehouse_files
from etl.goals import LABELS, Goals
from etl.profile import Profile

FILES = Path(__file__).with_name("yearly_report_files")
TEXTS_FILE = FILES / "texts.yaml"
FORMATS = (".pdf", ".docx")
ARTICLES = {"m": ("der", "er"), "f": ("die", "sie"), "n": ("das", "es")}
RELATIVE_DECIMALS = overview.CHANGE_DECIMALS_RELATIVE


# --- texts -------------------------------------------------------------------------------
@functools.cache
def _texts() -> dict:
    return yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8"))


def tr(key: str, lang: str, **values: object) -> str:
    """The report text ``key`` in ``lang`` (``texts.yaml``), placeholders filled."""
    text = _texts()[key][lang]
    return text.format(**values) if values else text


# --- the content model -------------------------------------------------------------------
@dataclass(frozen=True)
class Paragraph:
    """Running text; ``style`` ``text``, ``summary`` (a summary item), ``note`` or
    ``source``; ``lead`` is set in bold before the text."""

    text: str
    style: str = "text"
    lead: str | None = None


@dataclass(frozen=True)
class Table:
    """A table of formatted cells; ``numeric`` marks right-aligned columns."""

    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    source: str


@dataclass(frozen=True)
class Figure:
    """A print-ready chart (:mod:`dashboards.export.render`), rendered by the writer."""

    chart: Chart
    caption: str


Block = Paragraph | Table | Figure


@dataclass
class Section:
    """A heading (``level`` 1 or 2) and its blocks."""

    title: str
    level: int = 1
    blocks: list[Block] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return "s-" + "".join(c if c.isalnum() else "-" for c in self.title.lower())


@dataclass(frozen=True)
class Report:
    """Everything a writer needs: title page facts and the sections in order."""

    lang: str
    instance: str
    title: str
    subtitle: str
    as_of: str
    published: str
    created: str
    sources: str
    mark: str | None  # "intern – nicht zur Veröffentlichung" on every page, or None
    sections: list[Section]

    @property
    def title_lines(self) -> list[str]:
        lines = [
            tr("as_of", self.lang, date=self.as_of),
            tr("published", self.lang, date=self.published),
            tr("created", self.lang, date=self.created),
        ]
        if self.sources:
            lines.append(tr("sources", self.lang, text=self.sources))
        return lines


@dataclass(frozen=True)
class ReportRequest:
    """What ``imon report`` was asked for."""

    out: Path
    ref_date: date | None = None
    lang: str = "de"
    internal: bool = False

    @property
    def fmt(self) -> str:
        suffix = self.out.suffix.lower()
        if suffix not in FORMATS:
            raise ExportError(
                f"{self.out}: the report is written as .pdf or .docx (from the file name's "
                f"suffix), not '{suffix or 'no suffix'}'"
            )
        return suffix[1:]


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
    rules = _texts()["subjects"]
    title = indicator.title
    if lang == "en":
        if indicator.function == "count" and indicator.unit == "persons":
            return _capital(rules["count"]["en"].format(title=title.lower())), "it"
        return "The " + title[:1].lower() + title[1:], "it"
    if indicator.function == "count" and indicator.unit == "persons":
        return _capital(rules["count"]["de"].format(title=title)), "sie"
    first = title.split()[0].lower() if title.split() else ""
    gender = next((g for end, g in rules["endings"].items() if first.endswith(end)), None)
    if gender is None:
        return _capital(rules["fallback"]["de"].format(title=title)), "er"
    article, pronoun = ARTICLES[gender]
    return f"{_capital(article)} {title}", pronoun


def _capital(text: str) -> str:
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
        one = number in ("1", "1,0", "1,00")
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
    monitor_start = _monitor_start(wh)
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
            rows[rows["level"] == level], indicator, ref_date, level_breaks, monitor_start, label
        )
        if found is not None:
            out.append(found)
    return out


def _monitor_start(wh: Warehouse) -> str:
    """The first reference date of the monitor (any indicator)."""
    return catalogue.ref_dates(wh)[0]


# --- sections ----------------------------------------------------------------------------
def summary_section(statements: Sequence[Statement], ref_date: str, lang: str) -> Section:
    section = Section(tr("summary.heading", lang))
    section.blocks.append(
        Paragraph(tr("summary.intro", lang, date=formatting.format_date(ref_date)))
    )
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
    section.blocks.append(Paragraph(tr("key.intro", lang, date=formatting.format_date(ref_date))))
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
    source = _source_line([s.indicator for s in statements], ref_date, lang)
    section.blocks.append(
        Table(caption, header, tuple(rows), (False, False, True, True, True), source)
    )
    return section


def _source_line(indicators: Sequence[Indicator], ref_date: str, lang: str) -> str:
    sources = "; ".join(dict.fromkeys(i.source for i in indicators))
    return tr("source_line", lang, source=sources, date=formatting.format_date(ref_date))


def district_level(wh: Warehouse, ref_date: str, lang: str) -> catalogue.Level | None:
    """The finest level with boundaries whose division is the same since the monitor's
    start (:func:`catalogue.comparable_level`): Musterstadt's districts, Berlin's
    Bezirke (its finer LOR levels were redrawn in 2021)."""
    offered = catalogue.map_levels(wh, lang)
    return catalogue.comparable_level(wh, offered, _monitor_start(wh), ref_date)


def district_section(wh: Warehouse, ref_date: str, lang: str) -> list[Section]:
    """A map per key figure with area values and one table of them all, at
    :func:`district_level` (none without a level below the city)."""
    level = district_level(wh, ref_date, lang)
    chosen = overview.table_indicators(wh, lang)
    if level is None or not chosen:
        return []
    values, dates = overview.table_values(wh, chosen, ref_date, level.level)
    chosen = [i for i in chosen if i.indicator_id in dates]
    n_areas = values["area_id"].nunique()
    section = Section(tr("districts.heading", lang))
    first = formatting.format_date(_monitor_start(wh))
    section.blocks.append(
        Paragraph(tr("districts.intro", lang, level=level.label, n=n_areas, first=first))
    )
    for indicator in chosen:
        section.blocks.append(_map_block(wh, indicator, dates[indicator.indicator_id], level, lang))
    table = Section(tr("districts.table_heading", lang), level=2)
    table.blocks.append(_district_table(values, chosen, dates, level, ref_date, lang))
    return [section, table]


def _map_block(
    wh: Warehouse, indicator: Indicator, when: str, level: catalogue.Level, lang: str
) -> Block:
    if not catalogue.has_geometry(wh, level.level, when):
        text = tr(
            "districts.no_map",
            lang,
            title=indicator.title,
            level=level.label,
            date=formatting.format_date(when),
        )
        return Paragraph(text, "note")
    chart = map_export.map_chart(wh, indicator.indicator_id, when, level.level, lang)
    caption = ui_text(
        "map.table_caption",
        lang,
        title=indicator.title,
        level=level.label,
        date=formatting.format_date(when),
    )
    return Figure(chart, caption)


def _district_table(
    values: pd.DataFrame,
    chosen: Sequence[Indicator],
    dates: dict[str, str],
    level: catalogue.Level,
    ref_date: str,
    lang: str,
) -> Table:
    names = values.drop_duplicates("area_id").set_index("area_id")["name"]
    cells = {(r["area_id"], r["indicator_id"]): r for r in values.to_dict("records")}
    rows = []
    for area_id, name in names.sort_index().items():
        row = [str(name)]
        for indicator in chosen:
            cell = cells.get((area_id, indicator.indicator_id))
            value = None if cell is None else cell["value"]
            flag = None if cell is None else cell["flag"]
            row.append(labels.value_text(value, flag, indicator, lang))
        rows.append(tuple(row))
    header = (tr("districts.col.area", lang),) + tuple(
        tr(
            "districts.col.as_of",
            lang,
            title=i.title,
            date=formatting.format_date(dates[i.indicator_id]),
        )
        for i in chosen
    )
    caption = tr(
        "districts.table_caption", lang, level=level.label, date=formatting.format_date(ref_date)
    )
    numeric = (False,) + (True,) * len(chosen)
    return Table(caption, header, tuple(rows), numeric, _source_line(chosen, ref_date, lang))


def segregation_sections(
    wh: Warehouse, statements: Sequence[Statement], ref_date: str, lang: str
) -> list[Section]:
    """Per segregation key figure: the index per level with its random-allocation band,
    what it says at the key figure's level, and a table per level on the date."""
    found = [s for s in statements if s.indicator.is_segregation]
    if not found:
        return []
    sections = [Section(tr("segregation.heading", lang))]
    sections[0].blocks.append(Paragraph(tr("segregation.intro", lang)))
    for item in found:
        part = Section(item.indicator.title, level=2)
        indicator_id = item.indicator.indicator_id
        chart = segregation_export.index_chart(wh, indicator_id, lang)
        part.blocks.append(Figure(chart, item.indicator.title))
        frame = segregation_export.levels_frame(wh, indicator_id)
        part.blocks.extend(_segregation_text(wh, item, frame, lang))
        part.blocks.append(_segregation_table(frame, item, wh, lang))
        sections.append(part)
    return sections


def _index_text(value: object, indicator: Indicator) -> str:
    return formatting.format_number(None if pd.isna(value) else float(value), indicator.decimals)


def _segregation_text(
    wh: Warehouse, item: Statement, frame: pd.DataFrame, lang: str
) -> list[Paragraph]:
    indicator = item.indicator
    level = frame[(frame["ref_date"] == item.ref_date) & (frame["level"] == item.level)]
    if level.empty or formatting.is_missing(item.value):
        return []
    row = level.iloc[0]
    values = {
        "level": item.level_label,
        "n": formatting.format_count(item.n_units),
        "date": formatting.format_date(item.ref_date),
        "value": _index_text(item.value, indicator),
    }
    if pd.notna(row["expected"]):
        text = tr(
            "segregation.observed",
            lang,
            **values,
            expected=_index_text(row["expected"], indicator),
            lower=_index_text(row["lower"], indicator),
            upper=_index_text(row["upper"], indicator),
        )
    else:
        text = tr("segregation.observed_plain", lang, **values)
    out = [Paragraph(text)]
    first = next((c for c in item.comparisons if c.kind == "first"), None)
    if first is not None and first.series_break is None and first.value is not None:
        change = segregation_data.index_change(
            wh, indicator.indicator_id, row["level"], row["area_id"], first.ref_date, item.ref_date
        )
        if change.exceeds is not None:
            shown = formatting.format_signed(change.change, indicator.decimals)
            q95 = formatting.format_number(change.random_q95, indicator.decimals)
            key = "segregation.exceeds" if change.exceeds else "segregation.within"
            first_date = formatting.format_date(first.ref_date)
            out.append(Paragraph(tr(key, lang, first=first_date, change=shown, q95=q95)))
    return out


def _level_label_map(wh: Warehouse, lang: str) -> dict[str, str]:
    return {k: lvl.label for k, lvl in catalogue.levels(wh, lang).items()}


def _segregation_table(frame: pd.DataFrame, item: Statement, wh: Warehouse, lang: str) -> Table:
    indicator = item.indicator
    labels_by_level = _level_label_map(wh, lang)
    rows = []
    for row in frame[frame["ref_date"] == item.ref_date].sort_values("rank").to_dict("records"):
        has_band = pd.notna(row["expected"])
        rows.append(
            (
                labels_by_level.get(row["level"], row["level"]),
                formatting.format_count(None if pd.isna(row["n_units"]) else row["n_units"]),
                labels.value_text(row["value"], row["flag"], indicator, lang),
                _index_text(row["expected"], indicator) if has_band else formatting.MISSING,
                f"{_index_text(row['lower'], indicator)} – {_index_text(row['upper'], indicator)}"
                if has_band
                else formatting.MISSING,
            )
        )
    header = tuple(
        tr(f"segregation.col.{k}", lang) for k in ("level", "units", "value", "expected", "range")
    )
    when = formatting.format_date(item.ref_date)
    caption = tr("segregation.table_caption", lang, title=indicator.title, date=when)
    source = _source_line([indicator], item.ref_date, lang)
    return Table(caption, header, tuple(rows), (False, True, True, True, True), source)


def methods_sections(
    wh: Warehouse, statements: Sequence[Statement], lang: str, goals: Goals | None = None
) -> list[Section]:
    """The annex: data basis, how changes are computed, every indicator of the report
    (definition, source, period, caveats), the segregation method and the flags."""
    meta = catalogue.meta(wh)
    annex = Section(tr("methods.heading", lang))
    data = Section(tr("methods.data_heading", lang), level=2)
    built = meta.get("built_at")
    data.blocks.append(
        Paragraph(
            tr(
                "methods.snapshot",
                lang,
                snapshot=snapshot_id(wh),
                date=formatting.format_date(built) if built else formatting.MISSING,
            )
        )
    )
    if meta.get("attribution"):
        data.blocks.append(Paragraph(tr("sources", lang, text=meta["attribution"])))
    note = catalogue.perturbation_note(meta, lang)
    if note:
        data.blocks.append(Paragraph(_capital(note) + "."))
    data.blocks.append(Paragraph(tr("methods.changes", lang)))
    facts = indicator_facts.facts(wh, lang)
    used = list(dict.fromkeys(s.indicator.indicator_id for s in statements))
    used += [
        i.indicator_id for i in overview.table_indicators(wh, lang) if i.indicator_id not in used
    ]
    listing = Section(tr("methods.indicators_heading", lang), level=2)
    for indicator_id in used:
        fact = facts[indicator_id]
        text = tr(
            "methods.indicator",
            lang,
            definition=fact.indicator.definition,
            source=fact.indicator.source,
            first=formatting.format_date(fact.first_date),
            last=formatting.format_date(fact.last_date),
        )
        caveats = " ".join(indicator_facts.caveats(fact, meta, lang))
        listing.blocks.append(Paragraph(f"{text} {caveats}".strip(), lead=fact.indicator.title))
    sections = [annex, data, listing]
    if any(s.indicator.is_segregation for s in statements):
        method = Section(tr("methods.segregation_heading", lang), level=2)
        method.blocks.append(Paragraph(ui_text("trends.segregation_note", lang)))
        for item in (s for s in statements if s.indicator.is_segregation):
            frame = segregation_export.levels_frame(wh, item.indicator.indicator_id)
            text = segregation_data.benchmark_text(frame[frame["expected"].notna()], lang)
            method.blocks.append(Paragraph(text, lead=item.indicator.title))
        sections.append(method)
    if goals is not None and goals.action_fields:
        sections.append(_goals_method(goals, lang))
    legend = _flag_legend(wh, used, lang)
    if legend:
        sections.append(legend)
    return sections


def _goals_method(goals: Goals, lang: str) -> Section:
    """How progress is measured, and each goal indicator's definition and source."""
    section = Section(tr("methods.goals_heading", lang), level=2)
    section.blocks.append(Paragraph(tr("methods.goals", lang)))
    for _, _, ind in goals.indicators():
        text = f"{getattr(ind.definition, lang)} {getattr(ind.source, lang)}."
        section.blocks.append(Paragraph(text, lead=getattr(ind.title, lang)))
    return section


def _flag_legend(wh: Warehouse, indicator_ids: Sequence[str], lang: str) -> Section | None:
    counts = queries.indicator_flag_counts(wh)
    present = sorted(
        {
            f
            for f in counts.loc[counts["indicator_id"].isin(indicator_ids), "flag"]
            if flags.is_flag(f)
        },
        key=flags.order,
    )
    if not present:
        return None
    section = Section(tr("methods.flags_heading", lang), level=2)
    for flag in present:
        section.blocks.append(
            Paragraph(flags.explanation(flag, lang), lead=labels.flag_label(flag, lang))
        )
    return section


# --- goals (etl/goals, issue #15 parts 1-3) -----------------------------------------------
def goals_sections(wh: Warehouse, goals: Goals | None, ref_date: str, lang: str) -> list[Section]:
    """Per action field its goals with their status and a table of the goal indicators
    (baseline, latest published value, target, status on ``ref_date``); none when the
    instance has no goals. Values and status: :func:`dashboards.data.goals.assess`
    (published values only)."""
    if goals is None or not goals.action_fields:
        return []
    assessments = goals_data.assess(wh, goals, date.fromisoformat(ref_date))
    statuses = goals_data.goal_statuses(assessments)
    indicators = catalogue.indicators(wh, lang)
    sections = [Section(tr("goals.heading", lang))]
    sections[0].blocks.append(Paragraph(tr("goals.intro", lang)))
    if goals.demo:
        sections[0].blocks.append(Paragraph(tr("goals.demo", lang), "note"))
    for field_ in goals.action_fields:
        part = Section(getattr(field_.title, lang), level=2)
        mine = [a for a in assessments if a.field.id == field_.id]
        for goal in field_.goals:
            label = LABELS[lang][statuses[goal.id]]
            text = tr("goals.status", lang, status=label)
            if goal.description is not None:
                text = f"{getattr(goal.description, lang)} {text}"
            part.blocks.append(Paragraph(text, lead=getattr(goal.title, lang)))
        part.blocks.append(_goals_table(mine, indicators, field_, lang))
        sections.append(part)
    return sections


def _goal_value(item: GoalAssessment, value: float | None, indicators: dict, lang: str) -> str:
    """A goal indicator's value: a milestone as ja/nein, percent with ``%``, counts with
    their unit (project indicators)."""
    ind = item.indicator
    if value is None:
        return formatting.MISSING
    if ind.project is not None:
        if ind.project.measure == "milestone":
            return tr("goals.yes" if value >= 1 else "goals.no", lang)
        unit = "percent" if ind.project.measure == "percent" else ind.project.measure
        text = formatting.format_value(value, unit, ind.decimals)
        return text if unit == "percent" else f"{text} {getattr(ind.project.unit, lang)}"
    monitored = indicators.get(ind.monitor.indicator)
    unit = monitored.unit if monitored is not None else ""
    return formatting.format_value(value, unit, ind.decimals)


def _dated(text: str, when: date | None) -> str:
    return (
        text
        if when is None or text == formatting.MISSING
        else f"{text} ({formatting.format_date(when)})"
    )


def _goals_table(items: Sequence[GoalAssessment], indicators: dict, field_, lang: str) -> Table:
    rows = []
    for item in items:
        ind, progress = item.indicator, item.progress
        latest = progress.latest
        target = ind.target
        rows.append(
            (
                getattr(item.goal.title, lang),
                getattr(ind.title, lang),
                _dated(_goal_value(item, ind.baseline.value, indicators, lang), ind.baseline.date),
                _dated(_goal_value(item, latest[1], indicators, lang), latest[0])
                if latest
                else formatting.MISSING,
                _dated(_goal_value(item, target.value, indicators, lang), target.date)
                if target
                else tr("goals.no_target", lang),
                progress.label(lang),
            )
        )
    header = tuple(
        tr(f"goals.col.{k}", lang)
        for k in ("goal", "indicator", "baseline", "latest", "target", "status")
    )
    sources = "; ".join(dict.fromkeys(getattr(i.indicator.source, lang) for i in items))
    caption = tr("goals.table_caption", lang, field=getattr(field_.title, lang))
    source = tr(
        "source_line",
        lang,
        source=sources,
        date=formatting.format_date(
            max((i.progress.latest[0] for i in items if i.progress.latest), default=None)
        ),
    )
    numeric = (False, False, True, True, True, False)
    return Table(caption, header, tuple(rows), numeric, source)


# --- the report --------------------------------------------------------------------------
def open_internal(curated_dir: Path) -> Warehouse:
    """The published snapshot's unprotected warehouse (``--internal`` only): the same
    tables, values before disclosure control."""
    folder = warehouse_files.published(Path(curated_dir))
    path = folder / warehouse_files.DATABASE if folder else None
    if path is None or not path.is_file():
        raise queries.WarehouseNotFoundError(f"{curated_dir}: no published internal warehouse")
    return Warehouse(str(path.resolve()), path.stat().st_mtime_ns)


def report_date(wh: Warehouse, wanted: date | None) -> str:
    """The report's Stand: ``wanted`` (a reference date of the snapshot) or the latest date
    of the key figures."""
    dates = overview.overview_dates(wh, "de")
    if wanted is None:
        return dates[-1]
    iso = wanted.isoformat()
    known = catalogue.ref_dates(wh)
    if iso not in known:
        raise ExportError(f"no values on {iso} (reference dates: {', '.join(known)})")
    return iso


def build_report(
    wh: Warehouse,
    ref_date: str,
    lang: str,
    internal: bool = False,
    goals: Goals | None = None,
    now: datetime | None = None,
) -> Report:
    """The report's content (charts built, not yet rendered)."""
    meta = catalogue.meta(wh)
    statements = key_statements(wh, ref_date, lang)
    sections = [
        summary_section(statements, ref_date, lang),
        key_section(statements, wh, ref_date, lang),
    ]
    sections += goals_sections(wh, goals, ref_date, lang)
    sections += district_section(wh, ref_date, lang)
    sections += segregation_sections(wh, statements, ref_date, lang)
    sections += methods_sections(wh, statements, lang, goals)
    if internal:
        sections[0].blocks.insert(0, Paragraph(tr("internal_note", lang), "note"))
    else:
        sections[0].blocks.insert(1, Paragraph(tr("protected", lang), "note"))
    built = meta.get("built_at")
    created = (now or datetime.now(UTC)).astimezone()
    return Report(
        lang=lang,
        instance=meta.get("title") or catalogue.city(wh).name,
        title=tr("title", lang, year=ref_date[:4]),
        subtitle=tr("subtitle", lang),
        as_of=formatting.format_date(ref_date),
        published=formatting.format_date(built) if built else formatting.MISSING,
        created=formatting.format_date(created),
        sources=meta.get("attribution", ""),
        mark=MARK[lang] if internal else None,
        sections=sections,
    )


def run_report(
    profile: Profile, request: ReportRequest, progress: Callable[[str], None] = print
) -> Path:
    """Build the report of the instance's published snapshot (with its goals, if it has
    any) and write it to ``request.out``."""
    from dashboards.export import render
    from etl.goals import load as load_goals

    fmt = request.fmt
    curated = profile.curated_dir
    wh = open_internal(curated) if request.internal else queries.open_warehouse(curated)
    ref_date = report_date(wh, request.ref_date)
    goals = load_goals(profile)
    report = build_report(wh, ref_date, request.lang, request.internal, goals)
    request.out.parent.mkdir(parents=True, exist_ok=True)
    try:
        if fmt == "pdf":
            from dashboards.export.yearly_report_pdf import write_pdf

            write_pdf(report, request.out)
        else:
            from dashboards.export.yearly_report_docx import write_docx

            write_docx(report, request.out)
    finally:
        render.close_renderer()
    progress(f"{request.out}  ({request.out.stat().st_size / 1024:,.0f} KB)".replace(",", "."))
    return request.out
