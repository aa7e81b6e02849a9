"""Print-ready files of the segregation page (its location-quotient map is an ordinary
map export: :func:`export.map_chart`, :func:`export_tables.map_table`):

* the index per level over time with the random-allocation benchmark
  (:func:`index_chart`; :func:`index_table` adds the columns expected value, 95 % range
  and number of simulations);
* the segregation curve of a group (:func:`curve_chart`; :func:`curve_table`: the units in
  the curve's order with the group's share and the cumulated shares).

The charts are the page's figures (:mod:`dashboards.figures.segregation`) laid out for
print by :func:`export.print_ready`; their footnotes say what the band, the number of
units and the curve mean. The tables carry the same explanations as notes in their
metadata.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import pandas as pd
import plotly.graph_objects as go

from dashboards import formatting
from dashboards import labels as text_labels
from dashboards.data import breaks, catalogue, queries
from dashboards.data import segregation as segregation_data
from dashboards.data.breaks import Break
from dashboards.data.catalogue import Indicator
from dashboards.data.queries import Warehouse
from dashboards.export import render as export
from dashboards.export import tables as export_tables
from dashboards.export import trends as trends_export
from dashboards.export.render import Chart, ExportError
from dashboards.export.tables import ExportTable, ExtraColumn
from dashboards.figures import common as figures
from dashboards.figures import segregation as segregation_figures
from dashboards.i18n import t

BENCHMARK_KIND = "zufallsverteilung"  # stable file-name words (any UI language)
CURVE_KIND = "segregationskurve"
PRINT_PANELS_PER_ROW = 2  # two panels of about 7 cm side by side on the 16 cm page
PRINT_PANEL_PX = 210  # plot height per row of panels
DATE_PAD = 0.15  # room at both ends of a panel's time axis, as a share of its span
CURVE_PLOT_PX, CURVE_AXIS_PX = 380, 56  # square plot; ticks and axis title below it


# --- the index per level -----------------------------------------------------------------
def levels_frame(wh: Warehouse, indicator_id: str) -> pd.DataFrame:
    """The city's index per level and date (:func:`queries.series`) with the benchmark
    columns of :func:`segregation_figures.with_baseline`."""
    city = catalogue.city(wh).area_id
    series = queries.series(wh, indicator_id, (city,))
    return segregation_figures.with_baseline(
        series, segregation_data.random_baseline(wh, indicator_id, city)
    )


def _level_labels(wh: Warehouse, lang: str) -> dict[str, str]:
    return {key: lvl.label for key, lvl in catalogue.levels(wh, lang).items()}


def index_notes(
    frame: pd.DataFrame, indicator: Indicator, lang: str, found: Sequence[Break] = ()
) -> list[str]:
    """Footnotes of the index chart: units per level, flags, series breaks (as for any
    segregation time series; ``found``: :func:`breaks.chart_breaks`) and what the dashed
    line and band mean."""
    series = frame.assign(series=frame["level"])
    notes = trends_export.trend_notes(series, indicator, lang, found)
    return [*notes, segregation_data.benchmark_text(frame[frame["expected"].notna()], lang)]


def index_stem(indicator: Indicator, frame: pd.DataFrame) -> str:
    """``segregation_is_foreigners_zeitreihe_ebenen_zufallsverteilung`` (without the last
    word when the warehouse has no random-allocation benchmark for the index)."""
    stem = trends_export.trend_stem(indicator, [])
    return export.file_stem(stem, BENCHMARK_KIND) if frame["expected"].notna().any() else stem


def _index(wh: Warehouse, indicator_id: str, lang: str) -> tuple[Indicator, pd.DataFrame]:
    indicator = catalogue.indicators(wh, lang)[indicator_id]
    frame = levels_frame(wh, indicator_id)
    if frame.empty:
        raise ExportError(t("chart.no_data", lang) + f" ({indicator_id})")
    return indicator, frame


def _pad_dates(fig: go.Figure, dates: list[str]) -> None:
    """Room at both ends of every panel's time axis: on the narrow page the last date
    label of a panel would otherwise run into the first one of the next."""
    if len(dates) < 2:
        return
    first, last = pd.Timestamp(dates[0]), pd.Timestamp(dates[-1])
    pad = (last - first) * DATE_PAD
    fig.update_xaxes(range=[(first - pad).isoformat(), (last + pad).isoformat()])


def index_chart(wh: Warehouse, indicator_id: str, lang: str, definition: bool = False) -> Chart:
    """The print-ready index per level (two panels per row) with its benchmark;
    ``definition`` adds the indicator's definition to the footnotes."""
    indicator, frame = _index(wh, indicator_id, lang)
    labels = _level_labels(wh, lang)
    found = breaks.chart_breaks(frame, breaks.level_breaks(wh))
    fig = segregation_figures.levels_over_time(
        frame, indicator, labels, lang, PRINT_PANELS_PER_ROW, breaks=found
    )
    _pad_dates(fig, sorted(frame["ref_date"].unique()))
    rows = math.ceil(frame["level"].nunique() / PRINT_PANELS_PER_ROW)
    notes = index_notes(frame, indicator, lang, found)
    if definition:
        notes.append(t("export.definition", lang, text=indicator.definition))
    figure = export.print_ready(fig, notes, PRINT_PANEL_PX * rows, axis_px=34)
    return Chart(figure, index_stem(indicator, frame))


def index_table(wh: Warehouse, indicator_id: str, lang: str) -> ExportTable:
    """The index per level and date with the number of units and, if there is one, the
    benchmark: expected value, 95 % range and number of simulations."""
    indicator, frame = _index(wh, indicator_id, lang)
    extra = ()
    if frame["expected"].notna().any():
        extra = (
            ExtraColumn("expected", t("seg.col.expected", lang)),
            ExtraColumn("lower", t("export.col.lower", lang)),
            ExtraColumn("upper", t("export.col.upper", lang)),
            ExtraColumn("draws", t("seg.col.draws", lang), decimals=0),
        )
    columns = [*export_tables.ROW_COLUMNS, *(c.key for c in extra)]
    rows = frame.assign(indicator_id=indicator_id)[columns].reset_index(drop=True)
    found = breaks.chart_breaks(frame, breaks.level_breaks(wh))
    notes = (
        t("trends.segregation_note", lang),
        segregation_data.benchmark_text(frame[frame["expected"].notna()], lang),
        *text_labels.break_notes(found, lang),
    )
    title = t("seg.index_table_caption", lang, title=indicator.title)
    return ExportTable(rows, title, index_stem(indicator, frame), extra, notes)


# --- the segregation curve of a group ----------------------------------------------------
@dataclass(frozen=True)
class CurveSelection:
    """A group's location quotients on one level and date and its segregation curve."""

    group: Indicator
    level_label: str
    ref_date: str
    values: pd.DataFrame  # rows of queries.area_values
    lang: str

    @property
    def group_label(self) -> str:
        """The group as the curve names it: its count (numerator), else the title."""
        return self.group.numerator_label or self.group.title

    @cached_property
    def points(self) -> pd.DataFrame:
        return segregation_figures.curve_points(self.values)

    @property
    def n_left_out(self) -> int:
        return segregation_figures.left_out(self.values, self.points)

    def figure(self) -> go.Figure:
        """The page's figure (:func:`segregation_figures.segregation_curve`)."""
        return segregation_figures.segregation_curve(
            self.points,
            self.group_label,
            self.level_label,
            self.ref_date,
            self.group,
            self.lang,
            self.n_left_out,
        )


def curve_selection(
    wh: Warehouse, group_id: str, level: str, ref_date: str, lang: str
) -> CurveSelection:
    """The location quotients of ``group_id`` (an indicator) for ``level`` on ``ref_date``."""
    group = catalogue.indicators(wh, lang)[group_id]
    level_label = catalogue.levels(wh, lang)[level].label
    values = queries.area_values(wh, (group_id,), ref_date, level)
    return CurveSelection(group, level_label, ref_date, values, lang)


def _drawable(wh: Warehouse, group_id: str, level: str, ref_date: str, lang: str) -> CurveSelection:
    selection = curve_selection(wh, group_id, level, ref_date, lang)
    if selection.points.empty:
        raise ExportError(t("seg.no_curve", lang))
    return selection


def curve_notes(selection: CurveSelection, lang: str) -> list[str]:
    """Gini, IS, units used and left out, and how to read the curve."""
    stats = segregation_figures.curve_stats(selection.points, selection.n_left_out, lang)
    return [stats, t("seg.curve_note", lang)]


def curve_stem(group_id: str, level: str, ref_date: str) -> str:
    """``location_quotient_foreigners_segregationskurve_district_2024-12-31``."""
    return export.file_stem(group_id, CURVE_KIND, level, ref_date)


def curve_chart(wh: Warehouse, group_id: str, level: str, ref_date: str, lang: str) -> Chart:
    """The print-ready segregation curve; the statistics move from the source line into
    the footnotes. Raises :class:`ExportError` when there is no curve to draw."""
    curve = _drawable(wh, group_id, level, ref_date, lang)
    fig = curve.figure()
    date = formatting.format_date(ref_date)
    source = t("chart.caption", lang, source=curve.group.source, date=date)
    fig.update_annotations(selector={"name": figures.CAPTION_NAME}, text=source)
    figure = export.print_ready(fig, curve_notes(curve, lang), CURVE_PLOT_PX, CURVE_AXIS_PX)
    return Chart(figure, curve_stem(group_id, level, ref_date))


def curve_table(wh: Warehouse, group_id: str, level: str, ref_date: str, lang: str) -> ExportTable:
    """The units of the curve in its order: the group's rows (location quotient, counts)
    with rank, the group's share and the cumulated shares in percent."""
    curve = _drawable(wh, group_id, level, ref_date, lang)
    points = curve.points.iloc[1:]
    rows = points[["area_id"]].merge(curve.values, on="area_id", how="left")
    rows = rows.assign(
        ref_date=ref_date,
        level=level,
        n_units=None,
        position=range(1, len(points) + 1),
        share=points["share"].to_numpy(),
        rest_cum=100.0 * points["rest_cum"].to_numpy(),
        group_cum=100.0 * points["group_cum"].to_numpy(),
    )
    extra = (
        ExtraColumn("position", t("seg.col.position", lang), decimals=0),
        *(
            ExtraColumn(key, t("export.col.percent", lang, label=t(f"seg.col.{key}", lang)), 1)
            for key in ("share", "rest_cum", "group_cum")
        ),
    )
    columns = [*export_tables.ROW_COLUMNS, *(c.key for c in extra)]
    date = formatting.format_date(ref_date)
    title = t(
        "seg.curve_table_caption",
        lang,
        group=curve.group_label,
        level=curve.level_label,
        date=date,
    )
    stem = curve_stem(group_id, level, ref_date)
    return ExportTable(rows[columns], title, stem, extra, tuple(curve_notes(curve, lang)))
