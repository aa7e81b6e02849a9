"""The table of the Daten page (``/daten``): the values of the chosen indicators, level,
dates and areas (:func:`data_table`; segregation indices one row per level of units), as
the page shows them and as its CSV and XLSX downloads write them.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dashboards import formatting
from dashboards.data import catalogue, queries
from dashboards.data.queries import Warehouse
from dashboards.export import render as export
from dashboards.export.tables import DATA_KIND, ROW_COLUMNS, ExportTable, _level_labels
from dashboards.i18n import t


def data_table(
    wh: Warehouse,
    indicator_ids: Sequence[str],
    level: str,
    ref_dates: Sequence[str],
    area_ids: Sequence[str],
    lang: str,
) -> ExportTable:
    """The rows of the Daten page: the indicators on the reference dates for the areas of
    ``level`` (``area_ids`` empty: all of them), ordered by indicator, date and area.

    Segregation indices describe the whole city over the units of ``level``: their rows
    (area = city, with ``n_units``) are kept whatever the area filter.
    """
    indicators = catalogue.indicators(wh, lang)
    segregation = [i for i in indicator_ids if indicators[i].is_segregation]
    by_area = [i for i in indicator_ids if not indicators[i].is_segregation]
    frames = [
        *(_area_rows(wh, by_area, level, d, area_ids) for d in ref_dates if by_area),
        _segregation_rows(wh, segregation, level, ref_dates) if segregation else None,
    ]
    frames = [f for f in frames if f is not None and not f.empty]
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=ROW_COLUMNS)
    order = {indicator_id: i for i, indicator_id in enumerate(indicator_ids)}
    rows = rows.assign(_order=rows["indicator_id"].map(order))
    rows = rows.sort_values(["_order", "ref_date", "area_id"], kind="stable")
    dates = sorted(ref_dates)
    title = t(
        "data.table_caption",
        lang,
        titles=", ".join(indicators[i].title for i in indicator_ids),
        level=_level_labels(wh, lang)[level],
        dates=", ".join(formatting.format_date(d) for d in dates),
    )
    names = "-".join(indicator_ids) if len(indicator_ids) < 4 else "indikatoren"
    when = "_".join(dates) if len(dates) < 4 else f"{dates[0]}_bis_{dates[-1]}"
    parts = [names, DATA_KIND, level, when, *(["auswahl"] if area_ids else [])]
    return ExportTable(rows[ROW_COLUMNS].reset_index(drop=True), title, export.file_stem(*parts))


def _area_rows(
    wh: Warehouse, indicator_ids: Sequence[str], level: str, ref_date: str, area_ids: Sequence[str]
) -> pd.DataFrame:
    rows = queries.area_values(wh, tuple(indicator_ids), ref_date, level)
    if area_ids:
        rows = rows[rows["area_id"].isin(area_ids)]
    return rows.assign(ref_date=ref_date, level=level, n_units=None)


def _segregation_rows(
    wh: Warehouse, indicator_ids: Sequence[str], level: str, ref_dates: Sequence[str]
) -> pd.DataFrame:
    rows = queries.series_of_indicators(wh, tuple(indicator_ids), (catalogue.city(wh).area_id,))
    return rows[(rows["level"] == level) & rows["ref_date"].isin(list(ref_dates))]
