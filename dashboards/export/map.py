"""Print-ready files of the Karte page (``/karte``) and of ``imon export``'s maps: the
choropleth of one indicator at a level and date (:func:`map_chart`, drawn by
:func:`dashboards.figures.map.choropleth` and laid out by :func:`render.print_ready`) and
its table (:func:`map_table`).
"""

from __future__ import annotations

from collections.abc import Sequence

from dashboards import formatting, labels
from dashboards.data import catalogue, queries
from dashboards.data.queries import Warehouse
from dashboards.export import render as export
from dashboards.export.render import (
    MAP_KIND,
    PRINT_WIDTH_PX,
    TICK_PX,
    Chart,
    ExportError,
    _items,
    check_method,
    file_stem,
    flag_counts,
    map_plot_height,
    print_ready,
)
from dashboards.export.tables import ROW_COLUMNS, ExportTable, _level_labels
from dashboards.figures import classify
from dashboards.figures import map as map_figures
from dashboards.i18n import t


# --- charts ------------------------------------------------------------------------------
def map_chart(
    wh: Warehouse,
    indicator_id: str,
    ref_date: str,
    level: str,
    lang: str,
    definition: bool = False,
    method: str = classify.DEFAULT_METHOD,
    area_labels: bool = False,
) -> Chart:
    """The print-ready choropleth of an area indicator on ``ref_date`` at ``level``, in
    classes by ``method`` (:data:`classify.METHODS`, as on the map page), with the
    outlines of the coarser level on top and, with ``area_labels``, the area names that
    fit without overlapping at print size — as the Karte draws them.

    Areas without a value appear in the legend by flag (with their number); the
    footnotes explain the flags. Raises :class:`ExportError` without boundaries.
    """
    check_method(method)
    indicator = catalogue.indicators(wh, lang)[indicator_id]
    level_label = catalogue.levels(wh, lang)[level].label
    shapes = queries.geometries(wh, level, ref_date)
    if shapes.empty:
        date = formatting.format_date(ref_date)
        raise ExportError(t("export.no_map", lang, level=level_label, date=date))
    values = queries.area_values(wh, (indicator_id,), ref_date, level)
    parents = catalogue.outline_shapes(wh, level, ref_date)
    args = (values, shapes, indicator, level_label, ref_date, lang)
    fig = map_figures.choropleth(*args, method=method, parents=parents)
    plot_px = map_plot_height(fig)
    if area_labels:  # placed in the plot of the printed page (the colour bar's class
        margin = fig.layout.margin  # ranges beside it take about as much as on a screen)
        frame = (PRINT_WIDTH_PX - margin.l - margin.r - map_figures.COLORBAR_ROOM, plot_px)
        fig = map_figures.choropleth(
            *args, method=method, parents=parents, area_labels=True, label_frame=frame
        )
    missing, outlined = flag_counts(values, shapes)
    for trace in fig.data:  # one trace per flag of areas without a value
        if trace.legendgroup != map_figures.NO_VALUE_GROUP:
            continue
        flag = next(f for f in missing if labels.flag_label(f, lang) == trace.name)
        trace.update(showlegend=True, name=f"{trace.name} ({missing[flag]})")
    fig.data[0].colorbar.update(thickness=12, len=0.9, tickfont={"size": TICK_PX})
    notes = map_notes(missing, outlined, lang)
    if definition:
        notes.append(t("export.definition", lang, text=indicator.definition))
    stem = file_stem(indicator_id, MAP_KIND, level, ref_date)
    return Chart(print_ready(fig, notes, plot_px, axis_px=6), stem)


def map_notes(missing: dict[str, int], outlined: dict[str, int], lang: str) -> list[str]:
    """Footnotes of a map: what the neutral fills and the dark outlines mean."""
    notes = []
    if missing:
        notes.append(t("export.map_null", lang, items=_items(list(missing), lang, missing)))
    if outlined:
        notes.append(t("export.map_outlined", lang, items=_items(list(outlined), lang, outlined)))
    return notes


# --- selections --------------------------------------------------------------------------
def map_table(
    wh: Warehouse, indicator_ids: Sequence[str], ref_date: str, level: str, lang: str
) -> ExportTable:
    """Values of the indicators for the areas of ``level`` on ``ref_date`` (a map's table)."""
    rows = queries.area_values(wh, tuple(indicator_ids), ref_date, level)
    rows = rows.assign(ref_date=ref_date, level=level, n_units=None)[ROW_COLUMNS]
    indicators = catalogue.indicators(wh, lang)
    titles = ", ".join(indicators[i].title for i in indicator_ids)
    title = t(
        "map.table_caption",
        lang,
        title=titles,
        level=_level_labels(wh, lang)[level],
        date=formatting.format_date(ref_date),
    )
    kind = "tabelle" if len(indicator_ids) > 1 else export.MAP_KIND
    stem = export.file_stem(
        "-".join(indicator_ids) if len(indicator_ids) < 4 else "indikatoren", kind, level, ref_date
    )
    return ExportTable(rows, title, stem)
