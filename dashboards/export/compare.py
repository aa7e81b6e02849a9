"""Print-ready files of the Vergleich page (``/vergleich``):

* the change of an indicator between two reference dates for the areas of a level, as
  the change map (:func:`map_chart`: the page's figure, diverging PuOr centred at 0 with
  the same symmetric range; grey areas with a symbol have no comparable change) and as the
  slope chart (:func:`slope_chart`). Their table (:func:`change_table`) holds the numbers
  of the page's change table as rows: per area and for the city its value on each date
  with counts and flag, and on the later date's row the change;
* the chosen areas side by side over the dates from A to B (:func:`bars_chart`;
  :func:`bars_table`: the rows of the page's table).

Footnotes say why areas have no comparable change (with their number), what outlines and
"×" mean, which areas no longer exist, and whether the indicator's definition changed
between the dates. :class:`ChangeSelection` and :class:`BarsSelection` are what the page
draws too. Dates are passed in time order (``pages.compare.ordered``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from dashboards import formatting, labels
from dashboards.data import boundaries as today_boundaries
from dashboards.data import catalogue, queries
from dashboards.data import compare as compare_data
from dashboards.data.catalogue import Indicator
from dashboards.data.queries import Warehouse
from dashboards.export import map as map_export
from dashboards.export import render as export
from dashboards.export import tables as export_tables
from dashboards.export.render import Chart, ExportError
from dashboards.export.tables import ExportTable, ExtraColumn
from dashboards.figures import compare as compare_figures
from dashboards.i18n import t

COMPARE_KIND = "vergleich"  # stable file-name words (any UI language)
SLOPE_KIND, BARS_KIND = "steigung", "gebiete"
TODAY_KIND = "gebietsstand-heute"  # files on today's boundaries (#18)
COMPARABLE = ("ok", "flagged")
SLOPE_PLOT_PX, BARS_PLOT_PX = 420, 280


# --- the change between two dates ----------------------------------------------------------
@dataclass(frozen=True)
class ChangeSelection:
    """The change of an indicator from ``dates[0]`` to ``dates[1]`` on a level: the areas'
    and the city's :func:`compare_data.change_frame`, the number of areas of date A that
    no longer exist, and whether the indicator's definition differs between the dates."""

    indicator: Indicator
    level: str
    level_label: str
    dates: tuple[str, str]
    frame: pd.DataFrame
    city: pd.DataFrame
    dissolved: int
    series_break: bool
    lang: str
    today: bool = False  # on today's boundaries (#18): earlier dates recomputed
    lineage: str | None = None  # the correspondence lists behind them (file, sha256)

    def map_figure(self, shapes: pd.DataFrame) -> go.Figure:
        """The page's change map (:func:`compare_figures.change_map`)."""
        return compare_figures.change_map(
            self.frame, shapes, self.indicator, self.level_label, self.dates, self.lang
        )

    def slope_figure(self, plot_px: int = compare_figures.SLOPE_PAGE_PLOT_PX) -> go.Figure:
        """The page's slope chart (:func:`compare_figures.slope_chart`), its names kept
        apart for a plot ``plot_px`` high."""
        return compare_figures.slope_chart(
            self.frame,
            self.city,
            self.indicator,
            self.level_label,
            self.dates,
            self.lang,
            plot_px,
        )

    def caption(self) -> str:
        """The caption of the change table."""
        first, second = (formatting.format_date(d) for d in self.dates)
        return t(
            "compare.table_caption",
            self.lang,
            title=self.indicator.title,
            level=self.level_label,
            date_a=first,
            date_b=second,
        )


def change_selection(
    wh: Warehouse,
    indicator_id: str,
    level: str,
    dates: tuple[str, str],
    lang: str,
    boundaries: str | None = None,
) -> ChangeSelection:
    """The change of ``indicator_id`` between ``dates`` (in time order) on ``level``; on
    today's boundaries where ``boundaries`` chooses them (:func:`compare_data.on_today`)."""
    indicator = catalogue.indicators(wh, lang)[indicator_id]
    today = compare_data.on_today(wh, indicator, boundaries)
    frame, series_break = _change_frame(wh, indicator_id, level, dates, today)
    city, _ = _change_frame(wh, indicator_id, catalogue.city(wh).level, dates, today)
    gone = 0 if today else compare_data.dissolved(*(area_versions(wh, level, d) for d in dates))
    level_label = catalogue.levels(wh, lang)[level].label
    lineage = compare_data.crosswalk_lists(wh, lang) if today else None
    return ChangeSelection(
        indicator, level, level_label, dates, frame, city, gone, series_break, lang, today, lineage
    )


def area_values(
    wh: Warehouse, indicator_id: str, ref_date: str, level: str, today: bool = False
) -> pd.DataFrame:
    """:func:`queries.area_values` as published, or on today's boundaries."""
    read = compare_data.today_values if today else queries.area_values
    return read(wh, (indicator_id,), ref_date, level)


def area_versions(wh: Warehouse, level: str, ref_date: str, today: bool = False) -> pd.DataFrame:
    """:func:`queries.area_versions` of the date, or of today's boundaries."""
    return queries.area_versions(wh, level, compare_data.today_date(wh) if today else ref_date)


def geometries(wh: Warehouse, level: str, ref_date: str, today: bool = False) -> pd.DataFrame:
    """The map's shapes: of the later date, or of today's boundaries."""
    return queries.geometries(wh, level, compare_data.today_date(wh) if today else ref_date)


def _change_frame(
    wh: Warehouse, indicator_id: str, level: str, dates: tuple[str, str], today: bool = False
) -> tuple[pd.DataFrame, bool]:
    """:func:`compare_data.change_frame` and whether the definition ids differ by date."""
    values = [area_values(wh, indicator_id, d, level, today) for d in dates]
    versions = [area_versions(wh, level, d, today) for d in dates]
    before, after = (set(v["definition_id"].dropna()) for v in values)
    return compare_data.change_frame(*values, *versions), bool(before and after and before != after)


def change_stem(change: ChangeSelection, kind: str) -> str:
    """``foreigner_share_vergleich_district_2022-12-31_2024-12-31_karte`` (on today's
    boundaries ``…_karte_gebietsstand-heute``)."""
    parts = (change.indicator.indicator_id, COMPARE_KIND, change.level, *change.dates, kind)
    return export.file_stem(*parts, *([TODAY_KIND] if change.today else []))


def _status_items(flags: pd.Series, lang: str) -> str:
    """``"geheim gehalten (1): …; Grenzen geändert (2): …"`` in the order of the page."""
    return "; ".join(
        t(
            "compare.legend.item",
            lang,
            label=compare_data.status_label(flag, lang),
            n=n,
            explain=compare_data.status_explanation(flag, lang),
        )
        for flag, n in compare_data.status_counts(flags)
    )


def common_notes(change: ChangeSelection, lang: str) -> list[str]:
    """Areas of date A that no longer exist and a change of definition between the dates."""
    first, second = (formatting.format_date(d) for d in change.dates)
    notes = [*today_notes(change, lang)]
    if change.dissolved:
        notes.append(t("compare.dissolved", lang, n=change.dissolved, date=first))
    if change.series_break:
        notes.append(t("compare.export.series_break", lang, date_a=first, date_b=second))
    return notes


def today_notes(change: ChangeSelection, lang: str) -> list[str]:
    """On today's boundaries: that earlier dates are recomputed onto them (from published
    values) and which areas' values are estimates."""
    if not change.today:
        return []
    notes = [t("compare.today_note", lang)]
    estimated = change.frame[
        (change.frame["flag_a"] == compare_data.ESTIMATED)
        | (change.frame["flag_b"] == compare_data.ESTIMATED)
    ]
    if not estimated.empty:
        notes.append(t("compare.today_estimated", lang, n=len(estimated)))
    return [*notes, *filter(None, [change.lineage])]


def change_notes(change: ChangeSelection, drawn: pd.DataFrame, on_map: bool) -> list[str]:
    """Footnotes of the map (``on_map``) or the slope chart of ``drawn`` (rows of the
    change frame): areas without a comparable change by reason and how they are drawn,
    changes from flagged values (outlined on the map), and :func:`common_notes`."""
    lang, notes = change.lang, []
    missing = drawn[~drawn["status"].isin(COMPARABLE)]
    if not missing.empty:
        key = "compare.export.map_missing" if on_map else "compare.export.slope_missing"
        notes.append(t(key, lang, items=_status_items(missing["flag"], lang)))
    flagged = drawn.loc[drawn["status"] == "flagged", "flag"]
    if on_map:
        notes += map_export.map_notes({}, dict(compare_data.status_counts(flagged)), lang)
    else:
        city = change.city
        notes += export.flag_notes([*flagged, *city["flag_a"], *city["flag_b"]], lang)
    return [*notes, *common_notes(change, lang)]


def _map_legend(fig: go.Figure, drawn: pd.DataFrame, lang: str) -> None:
    """Legend entries of the areas without a comparable change, with their number."""
    counts = compare_data.status_counts(drawn.loc[~drawn["status"].isin(COMPARABLE), "flag"])
    by_name = {compare_data.status_label(flag, lang): n for flag, n in counts}
    for trace in fig.data:
        if trace.type == "scattergeo":  # the symbol of a reason (its fill has no entry)
            trace.update(showlegend=True, name=f"{trace.name} ({by_name[trace.name]})")
    fig.data[0].colorbar.update(thickness=12, len=0.9, tickfont={"size": export.TICK_PX})


def map_chart(
    wh: Warehouse,
    indicator_id: str,
    level: str,
    dates: tuple[str, str],
    lang: str,
    boundaries: str | None = None,
) -> Chart:
    """The print-ready change map (the page's colours and range); :class:`ExportError`
    when the level has no boundaries on the later date."""
    change = change_selection(wh, indicator_id, level, dates, lang, boundaries)
    shapes = geometries(wh, level, dates[1], change.today)
    if shapes.empty:
        date = formatting.format_date(dates[1])
        raise ExportError(t("export.no_map", lang, level=change.level_label, date=date))
    fig = change.map_figure(shapes)
    drawn = change.frame[change.frame["area_id"].isin(shapes["area_id"])]
    _map_legend(fig, drawn, lang)
    notes = change_notes(change, drawn, on_map=True)
    figure = export.print_ready(fig, notes, export.map_plot_height(fig), axis_px=6)
    return Chart(figure, change_stem(change, export.MAP_KIND))


def slope_chart(
    wh: Warehouse,
    indicator_id: str,
    level: str,
    dates: tuple[str, str],
    lang: str,
    boundaries: str | None = None,
) -> Chart:
    """The print-ready slope chart: one line per area from date A to date B, the city."""
    change = change_selection(wh, indicator_id, level, dates, lang, boundaries)
    both = change.frame["value_a"].notna() & change.frame["value_b"].notna()
    if not both.any() and change.city.empty:
        raise ExportError(t("chart.no_data", lang) + f" ({indicator_id})")
    notes = change_notes(change, change.frame, on_map=False)
    fig = change.slope_figure(SLOPE_PLOT_PX)
    figure = export.print_ready(fig, notes, SLOPE_PLOT_PX, axis_px=30)
    return Chart(figure, change_stem(change, SLOPE_KIND))


def _dated_rows(
    wh: Warehouse,
    frame: pd.DataFrame,
    indicator_id: str,
    level: str,
    dates: tuple[str, str],
    today: bool = False,
) -> pd.DataFrame:
    """Per area of ``frame`` its warehouse row on each date (empty where it has none),
    the change on the later date's row."""
    parts = []
    for i, ref_date in enumerate(dates):
        values = area_values(wh, indicator_id, ref_date, level, today)
        columns = ["area_id", "value", "numerator", "denominator", "flag"]
        part = frame[["area_id", "name"]].merge(values[columns], on="area_id", how="left")
        change = frame["change"].to_numpy() if i else None
        parts.append(part.assign(ref_date=ref_date, change=change, _area=range(len(part))))
    rows = pd.concat(parts, ignore_index=True).sort_values("_area", kind="stable")
    return rows.assign(indicator_id=indicator_id, level=level, n_units=None)


def table_notes(change: ChangeSelection, lang: str) -> tuple[str, ...]:
    """How the change column is computed, the areas with other boundaries, common notes."""
    unit = compare_data.change_unit(change.indicator, lang)
    notes = [t("compare.export.change_note", lang, unit=unit)]
    redrawn = change.frame[change.frame["status"] == compare_data.BOUNDARY]
    if not redrawn.empty:
        pairs = zip(redrawn["name"], redrawn["area_id"], strict=True)
        names = ", ".join(f"{name} ({area_id})" for name, area_id in pairs)
        explain = compare_data.status_explanation(compare_data.BOUNDARY, lang)
        notes.append(t("compare.export.boundary_rows", lang, areas=names, explain=explain))
    return (*notes, *common_notes(change, lang))


def change_table(
    wh: Warehouse,
    indicator_id: str,
    level: str,
    dates: tuple[str, str],
    lang: str,
    kind: str = export.MAP_KIND,
    boundaries: str | None = None,
) -> ExportTable:
    """The page's change table as rows: every area of the level on date B and the city,
    each with its value on both dates and the change (see :func:`table_notes`); the file
    name ends in ``kind`` (the chart it belongs to)."""
    change = change_selection(wh, indicator_id, level, dates, lang, boundaries)
    city_level = catalogue.city(wh).level
    today = change.today
    rows = pd.concat(
        [
            _dated_rows(wh, change.frame, indicator_id, level, dates, today),
            _dated_rows(wh, change.city, indicator_id, city_level, dates, today),
        ],
        ignore_index=True,
    )
    unit = compare_data.change_unit(change.indicator, lang)
    extra = (ExtraColumn("change", t("compare.col.change", lang, unit=unit)),)
    columns = [*export_tables.ROW_COLUMNS, "change"]
    notes = table_notes(change, lang)
    return ExportTable(rows[columns], change.caption(), change_stem(change, kind), extra, notes)


# --- areas side by side ------------------------------------------------------------------
@dataclass(frozen=True)
class BarsSelection:
    """The city and the chosen areas (at most :data:`compare_figures.MAX_AREAS`) over the
    dates from A to B: :func:`labels.series_labels` of :func:`queries.series`."""

    indicator: Indicator
    frame: pd.DataFrame
    city_id: str
    areas: list[str]
    n_chosen: int
    lang: str

    def too_many(self) -> str | None:
        """The hint that not every chosen area is shown (None if all are)."""
        if self.n_chosen <= len(self.areas):
            return None
        return t("compare.too_many_areas", self.lang, n=compare_figures.MAX_AREAS)

    def figure(self) -> go.Figure:
        """The page's bars (:func:`compare_figures.area_bars`)."""
        return compare_figures.area_bars(self.frame, self.indicator, self.city_id, self.lang)

    def caption(self) -> str:
        """The caption of the table of the bars."""
        dates = sorted(self.frame["ref_date"].unique()) if not self.frame.empty else [None]
        return t(
            "compare.bars_table_caption",
            self.lang,
            title=self.indicator.title,
            first=formatting.format_date(dates[0]),
            last=formatting.format_date(dates[-1]),
        )


def bars_selection(
    wh: Warehouse,
    indicator_id: str,
    area_ids: list[str] | None,
    dates: tuple[str, str] | None,
    lang: str,
    boundaries: str | None = None,
) -> BarsSelection:
    """The city and the first :data:`compare_figures.MAX_AREAS` of ``area_ids`` on the
    dates from ``dates[0]`` to ``dates[1]`` (every date without ``dates``); on today's
    boundaries where ``boundaries`` chooses them."""
    indicator = catalogue.indicators(wh, lang)[indicator_id]
    city = catalogue.city(wh)
    chosen = list(area_ids or [])
    shown = chosen[: compare_figures.MAX_AREAS]
    if compare_data.on_today(wh, indicator, boundaries):
        frame = today_boundaries.series(wh, indicator_id, (city.area_id, *shown))
    else:
        frame = queries.series(wh, indicator_id, (city.area_id, *shown))
    if dates is not None:
        frame = frame[(frame["ref_date"] >= dates[0]) & (frame["ref_date"] <= dates[1])]
    level_labels = {k: lvl.label for k, lvl in catalogue.levels(wh, lang).items()}
    frame = labels.series_labels(frame, indicator, level_labels, lang)
    return BarsSelection(indicator, frame, city.area_id, shown, len(chosen), lang)


def bars_stem(indicator_id: str, level: str, dates: tuple[str, str], areas: list[str]) -> str:
    """``foreigner_share_vergleich_district_2022-12-31_2024-12-31_gebiete_11-21``."""
    shown = ["-".join(areas)] if areas else []
    return export.file_stem(indicator_id, COMPARE_KIND, level, *dates, BARS_KIND, *shown)


def _bars(
    wh: Warehouse,
    indicator_id: str,
    area_ids: list[str],
    dates: tuple[str, str],
    lang: str,
    boundaries: str | None = None,
) -> BarsSelection:
    bars = bars_selection(wh, indicator_id, area_ids, dates, lang, boundaries)
    if bars.frame.empty:
        raise ExportError(t("chart.no_data", lang) + f" ({indicator_id})")
    return bars


def bars_notes(bars: BarsSelection, lang: str) -> list[str]:
    """Flags, a change of definition within the period, what a "×" stands for, and that
    not every chosen area is shown."""
    notes = export.flag_notes(bars.frame["flag"], lang)
    if export.break_notes(bars.frame, lang):  # the bars have no lines to break
        notes.append(t("compare.export.bars_break", lang))
    if bars.frame["value"].isna().any():
        notes.append(t("compare.export.bars_missing", lang))
    return [*notes, *filter(None, [bars.too_many()])]


def bars_chart(
    wh: Warehouse,
    indicator_id: str,
    level: str,
    area_ids: list[str],
    dates: tuple[str, str],
    lang: str,
    boundaries: str | None = None,
) -> Chart:
    """The print-ready bars: the city and the chosen areas at each date from A to B."""
    bars = _bars(wh, indicator_id, area_ids, dates, lang, boundaries)
    figure = export.print_ready(bars.figure(), bars_notes(bars, lang), BARS_PLOT_PX, axis_px=30)
    return Chart(figure, bars_stem(indicator_id, level, dates, bars.areas))


def bars_table(
    wh: Warehouse,
    indicator_id: str,
    level: str,
    area_ids: list[str],
    dates: tuple[str, str],
    lang: str,
    boundaries: str | None = None,
) -> ExportTable:
    """The rows of the bars (the page's table): city and areas, every date from A to B."""
    bars = _bars(wh, indicator_id, area_ids, dates, lang, boundaries)
    rows = bars.frame.assign(indicator_id=indicator_id)[export_tables.ROW_COLUMNS]
    stem = bars_stem(indicator_id, level, dates, bars.areas)
    notes = tuple(bars_notes(bars, lang))
    return ExportTable(rows.reset_index(drop=True), bars.caption(), stem, (), notes)
