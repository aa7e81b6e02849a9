"""Print-ready files of the Stadtteilprofil (``/profil``), one area on one reference date:

* the shares of the area against its parent area and the city (:func:`dots_chart`, the
  page's dot plot); :func:`dots_table` holds the numbers of the page's profile table: per
  indicator (each on its latest date up to the chosen one) the rows of the area, its parent
  and the city with counts and flags, and for the area the distance to the city and its
  rank among the areas of its level;
* the development of every indicator (:func:`multiples_chart`, the page's small multiples,
  two panels per row on the 16 cm page, three and lower panels where two per row would not
  fit on an A4 page); :func:`multiples_table`: every date of every indicator for the area,
  its parent and the city.

The charts are the page's figures (:mod:`dashboards.figures.profile`) laid out for print by
:func:`export.print_ready`; their footnotes explain flags, missing dots, series breaks and
indicators shown on an earlier date. :class:`ProfileSelection` is what the page draws too.
"""

from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass
from functools import cached_property

import pandas as pd
import plotly.graph_objects as go

from dashboards import flags, formatting
from dashboards.data import boundaries_choice, catalogue
from dashboards.data import profile as profile_data
from dashboards.data.catalogue import Area, Indicator
from dashboards.data.profile import ProfileArea
from dashboards.data.queries import Warehouse
from dashboards.export import compare as compare_export
from dashboards.export import render as export
from dashboards.export import tables as export_tables
from dashboards.export.render import Chart, ExportError
from dashboards.export.tables import ExportTable, ExtraColumn
from dashboards.figures import common as figures
from dashboards.figures import profile as profile_figures
from dashboards.i18n import t

PROFILE_KIND = "profil"  # stable file-name words (any UI language)
DOTS_KIND, TABLE_KIND, MULTIPLES_KIND = "anteile", "indikatoren", "entwicklung"
SHARE_VALUES = ("value", "parent_value", "city_value")
DOT_ROW_PX, DOT_PAD_PX = 46, 16  # plot height per indicator, room above and below the dots
DOT_LABEL_CHARS = 30  # characters per line of an indicator's name left of the dots
PANEL_PX, PANEL_AXIS_PX, PANEL_TITLE_LINE_PX = 140, 28, 15  # plot, date ticks, title lines
MIN_PANEL_PX = 90  # the lowest plot of a panel that still reads (three value ticks)
# A4 (29.7 cm) less 2.5 cm margins above and below, in CSS px (96 per inch)
PAGE_HEIGHT_PX = round((29.7 - 2 * 2.5) / 2.54 * export.CSS_PX_PER_INCH)  # 934


@dataclass(frozen=True)
class Columns:
    """A layout of the small multiples on the 16 cm page: panels per row, characters per
    line of a panel title, dates labelled per panel, gap between the columns (a share of
    the plot width, room for the y tick labels)."""

    per_row: int
    title_chars: int
    ticks: int
    gap: float


# two panels of about 7 cm side by side; three of about 4.5 cm when two would not fit
COLUMNS = (Columns(2, 34, 3, 0.13), Columns(3, 22, 2, 0.09))


@dataclass(frozen=True)
class ProfileSelection:
    """An area on a reference date with its parent, the city and the area indicators."""

    warehouse: Warehouse
    area: ProfileArea
    city: Area
    indicators: list[Indicator]
    ref_date: str
    lang: str
    boundaries: str | None = None  # as published, or on today's boundaries (#18)

    @property
    def by_id(self) -> dict[str, Indicator]:
        return {i.indicator_id: i for i in self.indicators}

    @cached_property
    def frame(self) -> pd.DataFrame:
        """:func:`profile_data.profile_frame`: one row per indicator."""
        return profile_data.profile_frame(self.warehouse, self.area, self.indicators, self.ref_date)

    @cached_property
    def series(self) -> pd.DataFrame:
        """:func:`profile_data.profile_series`: every date of area, parent and city."""
        return profile_data.profile_series(
            self.warehouse, self.area, self.indicators, self.boundaries
        )

    @property
    def shares(self) -> pd.DataFrame:
        """The rows of :attr:`frame` the dot plot shows (percent indicators)."""
        by_id = self.by_id
        return self.frame[self.frame["indicator_id"].map(lambda i: by_id[i].unit == "percent")]

    def table_caption(self) -> str:
        """The caption of the profile table."""
        date = formatting.format_date(self.ref_date)
        return t("profile.table_caption", self.lang, name=self.area.name, date=date)

    def series_caption(self) -> str:
        """The caption of the table of the development."""
        return t("profile.series_caption", self.lang, name=self.area.name)

    def dots_figure(self) -> go.Figure:
        """The page's dot plot (:func:`profile_figures.share_dots`)."""
        return profile_figures.share_dots(
            self.frame, self.by_id, self.area, self.city.name, self.ref_date, self.lang
        )

    def multiples_figure(self) -> go.Figure:
        """The page's small multiples (:func:`profile_figures.small_multiples`)."""
        return profile_figures.small_multiples(
            self.series, self.indicators, self.area, self.city.name, self.lang
        )


def profile_selection(
    wh: Warehouse,
    area_id: str | None,
    ref_date: str | None,
    lang: str,
    boundaries: str | None = None,
) -> ProfileSelection | None:
    """The profile of ``area_id`` on ``ref_date``; None when that area is not valid then;
    ``boundaries``: the development as published or on today's boundaries."""
    if not area_id or not ref_date:
        return None
    choices = profile_data.area_choices(wh, ref_date, lang)
    if area_id not in set(choices["area_id"]):
        return None
    area = profile_data.resolve_area(wh, choices, area_id)
    indicators = profile_data.profile_indicators(wh, lang)
    city = catalogue.city(wh)
    return ProfileSelection(wh, area, city, indicators, ref_date, lang, boundaries)


def _profile(
    wh: Warehouse, area_id: str, ref_date: str, lang: str, boundaries: str | None = None
) -> ProfileSelection:
    profile = profile_selection(wh, area_id, ref_date, lang, boundaries)
    if profile is None or profile.frame.empty:
        raise ExportError(t("chart.no_data", lang) + f" ({area_id}, {ref_date})")
    return profile


def profile_stem(area_id: str, ref_date: str, kind: str) -> str:
    """``profil_21_2024-12-31_anteile``."""
    return export.file_stem(PROFILE_KIND, area_id, ref_date, kind)


# --- shares: dot plot and the profile table ------------------------------------------------
def dots_notes(profile: ProfileSelection, lang: str) -> list[str]:
    """Which indicators are drawn, what a missing dot means, the flags, earlier dates."""
    shares = profile.shares
    notes = []
    if len(shares) < len(profile.frame):
        notes.append(t("profile.export.shares_only", lang))
    if shares[[c for c in SHARE_VALUES if c in shares]].isna().any().any():
        notes.append(t("profile.export.no_dot", lang))
    used = [*shares["flag"], *shares.get("parent_flag", []), *shares["city_flag"]]
    notes += export.flag_notes(used, lang)
    if (shares["ref_date"] != profile.ref_date).any():
        date = formatting.format_date(profile.ref_date)
        notes.append(t("profile.export.other_dates", lang, date=date))
    return notes


def _print_labels(fig: go.Figure) -> None:
    """Indicator names wrapped for the narrow page in a fixed left margin (an automatic
    margin would shift the footnotes away from the title)."""
    lines = []
    for trace in fig.data:
        labels = [
            "<br>".join(textwrap.wrap(y.replace("<br>", " "), DOT_LABEL_CHARS)) for y in trace.y
        ]
        trace.y = labels
        lines += [line for label in labels for line in label.split("<br>")]
    left = math.ceil(export.CHAR_PX * max(map(len, lines))) + 14
    fig.update_layout(margin={"l": left})
    fig.update_yaxes(automargin=False)


def dots_chart(wh: Warehouse, area_id: str, ref_date: str, lang: str) -> Chart:
    """The print-ready dot plot of the area's shares; :class:`ExportError` without any."""
    profile = _profile(wh, area_id, ref_date, lang)
    if profile.shares.empty:
        raise ExportError(t("profile.no_shares", lang))
    fig = profile.dots_figure()
    _print_labels(fig)
    plot_px = DOT_ROW_PX * len(profile.shares) + DOT_PAD_PX
    figure = export.print_ready(fig, dots_notes(profile, lang), plot_px, axis_px=30)
    return Chart(figure, profile_stem(area_id, ref_date, DOTS_KIND))


def _profile_rows(profile: ProfileSelection) -> pd.DataFrame:
    """Per indicator the rows of the area (with distance to the city and rank), its parent
    and the city on the indicator's date, in catalogue order."""
    frame, area = profile.frame, profile.area
    indicators = profile.by_id
    diff = [
        profile_data.city_distance(row, indicators[row["indicator_id"]])
        for row in frame.to_dict("records")
    ]
    own = frame.assign(area_id=area.area_id, name=area.name, level=area.level, role="area")
    own = own.assign(diff=diff)
    others = profile.series[profile.series["role"] != "area"].drop(columns="rank")  # level's
    others = others.merge(frame[["indicator_id", "ref_date"]], on=["indicator_id", "ref_date"])
    rows = pd.concat([own, others.assign(name=others["label"])], ignore_index=True)
    position = {indicator_id: i for i, indicator_id in enumerate(frame["indicator_id"])}
    roles = {role: i for i, role in enumerate(profile_data.ROLES)}
    rows = rows.assign(_indicator=rows["indicator_id"].map(position), _role=rows["role"].map(roles))
    return rows.sort_values(["_indicator", "_role"], kind="stable").reset_index(drop=True)


def dots_table(wh: Warehouse, area_id: str, ref_date: str, lang: str) -> ExportTable:
    """The page's profile table as rows: every indicator of the area, its parent and the
    city, with distance to the city, rank and number of ranked areas for the area."""
    profile = _profile(wh, area_id, ref_date, lang)
    level = profile.area.level_label
    extra = (
        ExtraColumn("diff", t("profile.col.diff", lang)),
        ExtraColumn("rank", t("profile.col.rank", lang, level=level), decimals=0),
        ExtraColumn("n_ranked", t("profile.export.col.n_ranked", lang), decimals=0),
    )
    rows = _profile_rows(profile).assign(n_units=None)
    columns = [*export_tables.ROW_COLUMNS, *(c.key for c in extra)]
    notes = (t("profile.export.rank_note", lang, level=level),)
    stem = profile_stem(area_id, ref_date, TABLE_KIND)
    return ExportTable(rows[columns], profile.table_caption(), stem, extra, notes)


# --- development: small multiples and their table -------------------------------------------
def multiples_notes(series: pd.DataFrame, lang: str) -> list[str]:
    """Flags, estimates on today's boundaries and series breaks (per indicator and line)
    of the small multiples."""
    lines = series.assign(series=series["indicator_id"] + "/" + series["role"])
    estimated = "estimated" in series and series["estimated"].fillna(False).astype(bool).any()
    used = [*series["flag"], *(["estimated"] if estimated else [])]
    return [*export.flag_notes(used, lang), *export.break_notes(lines, lang)]


def _panel_domains(
    titles: list[int], columns: Columns, panel_px: int
) -> tuple[list[tuple[list[float], list[float]]], int]:
    """(x, y) domains of panels whose titles have ``titles`` lines, ``columns.per_row`` per
    row, row by row, and the plot height in px. Each row keeps room above its plots for its
    longest title and below them for the dates; the plots are ``panel_px`` high."""
    per_row = columns.per_row
    rows = [titles[k : k + per_row] for k in range(0, len(titles), per_row)]
    title_px = [6 + PANEL_TITLE_LINE_PX * max(row) for row in rows]
    height = sum(title_px) + len(rows) * (panel_px + PANEL_AXIS_PX)
    width = (1 - columns.gap * (per_row - 1)) / per_row
    domains, above = [], 0
    for row, room in zip(rows, title_px, strict=True):
        top = 1 - (above + room) / height
        for col in range(len(row)):
            x0 = col * (width + columns.gap)
            x1 = min(1.0, x0 + width)  # the last column ends at 1 (not 1 + rounding)
            domains.append(([x0, x1], [top - panel_px / height, top]))
        above += room + panel_px + PANEL_AXIS_PX
    return domains, height


def _print_panels(fig: go.Figure, columns: Columns, panel_px: int) -> int:
    """Lay the page's panels (three per row on the wide page) out for the 16 cm page,
    their titles wrapped to the panel width; returns the plot height in px."""
    titles = [a for a in fig.layout.annotations if a.name != figures.CAPTION_NAME]
    wrapped = [textwrap.wrap(a.text.replace("<br>", " "), columns.title_chars) for a in titles]
    domains, height = _panel_domains([len(lines) for lines in wrapped], columns, panel_px)
    for k, (x, y) in enumerate(domains):
        suffix = "" if k == 0 else str(k + 1)
        fig.layout[f"xaxis{suffix}"].domain = x
        fig.layout[f"yaxis{suffix}"].domain = y
        titles[k].update(text="<br>".join(wrapped[k]), x=sum(x) / 2, y=y[1], yanchor="bottom")
    for name in fig.layout.to_plotly_json():  # the page's empty cells of its last row
        number = re.fullmatch(r"[xy]axis(\d+)", name)
        if number and int(number.group(1)) > len(titles):
            fig.layout[name].visible = False
    return height


def _print_multiples(profile: ProfileSelection, columns: Columns, panel_px: int) -> go.Figure:
    fig = profile.multiples_figure()
    plot_px = _print_panels(fig, columns, panel_px)
    figures.date_axis(fig, sorted(profile.series["ref_date"].unique()), most=columns.ticks)
    return export.print_ready(
        fig, multiples_notes(profile.series, profile.lang), plot_px, axis_px=0
    )


def _multiples_kind(boundaries: str | None) -> str:
    """``entwicklung``, on today's boundaries ``entwicklung_gebietsstand-heute``."""
    if boundaries == boundaries_choice.TODAY:
        return f"{MULTIPLES_KIND}_{compare_export.TODAY_KIND}"
    return MULTIPLES_KIND


def multiples_chart(
    wh: Warehouse, area_id: str, ref_date: str, lang: str, boundaries: str | None = None
) -> Chart:
    """The print-ready small multiples: every indicator's development for the area, its
    parent and the city, on one A4 page (:data:`PAGE_HEIGHT_PX`) where panels of at least
    :data:`MIN_PANEL_PX` allow: two panels per row, else three, else three lower ones."""
    profile = _profile(wh, area_id, ref_date, lang, boundaries)
    if profile.series.empty:
        raise ExportError(t("chart.no_data", lang) + f" ({area_id})")
    for columns in COLUMNS:
        figure = _print_multiples(profile, columns, PANEL_PX)
        if figure.layout.height <= PAGE_HEIGHT_PX:
            break
    else:  # lower panels: each row gives up its share of the excess
        panels = profile.series["indicator_id"].nunique()  # indicators with a series
        rows = math.ceil(panels / columns.per_row)
        excess = math.ceil((figure.layout.height - PAGE_HEIGHT_PX) / rows)
        figure = _print_multiples(profile, columns, max(MIN_PANEL_PX, PANEL_PX - excess))
    return Chart(figure, profile_stem(area_id, ref_date, _multiples_kind(boundaries)))


def multiples_table(
    wh: Warehouse, area_id: str, ref_date: str, lang: str, boundaries: str | None = None
) -> ExportTable:
    """Every date of every indicator for the area, its parent and the city (the page's
    table of the development), by indicator, date and area; on today's boundaries an
    estimate is flagged ``estimated`` (geschätzt) where it has no other flag."""
    profile = _profile(wh, area_id, ref_date, lang, boundaries)
    series = profile.series
    position = {i.indicator_id: n for n, i in enumerate(profile.indicators)}
    roles = {role: i for i, role in enumerate(profile_data.ROLES)}
    rows = series.assign(
        name=series["label"],
        flag=series["flag"].where(
            ~series["estimated"] | series["flag"].map(flags.is_flag), "estimated"
        ),
        _indicator=series["indicator_id"].map(position),
        _role=series["role"].map(roles),
    ).sort_values(["_indicator", "ref_date", "_role"], kind="stable")
    notes = tuple(multiples_notes(series, lang))
    stem = profile_stem(area_id, ref_date, _multiples_kind(boundaries))
    rows = rows[export_tables.ROW_COLUMNS].reset_index(drop=True)
    return ExportTable(rows, profile.series_caption(), stem, (), notes)
