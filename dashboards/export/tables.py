"""Table exports for reports: CSV for Excel and XLSX with a metadata sheet.

Rows come from the dashboard's read path (:mod:`dashboards.data`; the tables of each page
are built in ``dashboards/export/<page>.py``), which applies the publication rules:
numerator and denominator of a suppressed value are never written.

**CSV** follows what German spreadsheet users and statistics offices expect when a file
is double-clicked in Excel with German regional settings:

* ``;`` as separator (``,`` is the decimal sign), CRLF line ends, **UTF-8 with BOM** (without
  it Excel reads UTF-8 as Windows-1252 and garbles umlauts);
* **decimal comma**, no thousands separator, values rounded to the indicator's published
  decimals (``18,8``), counts as integers; Excel then reads numbers as numbers;
* dates ``TT.MM.JJJJ``; a missing value is an empty cell, its reason in column "Hinweis";
* column headers in the UI language; one row per indicator, date, level and area.

Area codes with leading zeros (``07111000``) lose them when Excel *opens* a CSV; use the
XLSX (codes are text cells there) or import the CSV via Daten › Aus Text/CSV. The
machine-readable format with ``.`` decimals and full precision stays ``imon values``.

**XLSX** (openpyxl): sheet "Daten" (the same rows; values at full precision, shown with
the indicator's decimals; real date cells; header frozen, auto-filter) and sheet
"Metadaten": the snapshot (build id), publication and export time, and per indicator
title, definition, numerator, denominator, unit, source, data date (Stand) and the flags
occurring in the data, plus a legend of those flags.

A table may carry number columns beyond the standard ones (:class:`ExtraColumn`, e.g. the
random-allocation benchmark of a segregation index or the points of a segregation curve,
see :mod:`dashboards.export.segregation`), written before the flag with their own decimals,
and notes on how to read them, listed in the metadata.

Every text cell of both formats (area names, labels, metadata, headers) goes through
:func:`dashboards.export.cells.neutralise` (text a spreadsheet would take for a formula
gets a leading ``'``); numbers stay numbers, and the XLSX holds no formula at all.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from dashboards import flags, formatting, labels
from dashboards.data import catalogue
from dashboards.data.catalogue import Indicator
from dashboards.data.queries import Warehouse
from dashboards.export import render as export
from dashboards.export.cells import neutralise
from dashboards.export.formats import TABLE_FORMATS
from dashboards.i18n import t

ROW_COLUMNS = [
    "indicator_id",
    "ref_date",
    "level",
    "area_id",
    "name",
    "value",
    "numerator",
    "denominator",
    "n_units",
    "flag",
]
PRODUCER = "Integrationsmonitor"
CSV_SEPARATOR = ";"
DATA_KIND = "daten"  # stable file-name word of the Daten page
COUNT_COLUMNS = ("numerator", "denominator", "n_units")


@dataclass(frozen=True)
class ExtraColumn:
    """A number column beyond :data:`ROW_COLUMNS` (e.g. the random-allocation benchmark of
    an index): its key in the rows, its header and its decimals (``None``: the indicator's)."""

    key: str
    header: str
    decimals: int | None = None


@dataclass(frozen=True)
class ExportTable:
    """Rows to export (long form, :data:`ROW_COLUMNS` plus ``extra`` columns, written before
    the flag), a caption, a file-name stem and ``notes`` for the metadata (how to read the
    extra columns)."""

    rows: pd.DataFrame
    title: str
    stem: str
    extra: tuple[ExtraColumn, ...] = ()
    notes: tuple[str, ...] = ()

    def filename(self, fmt: str) -> str:
        return f"{self.stem}.{fmt}"


def _level_labels(wh: Warehouse, lang: str) -> dict[str, str]:
    return {key: lvl.label for key, lvl in catalogue.levels(wh, lang).items()}


# --- the data sheet ----------------------------------------------------------------------
def _columns(table: ExportTable, indicators: dict[str, Indicator], lang: str) -> dict[str, str]:
    """Column key -> header; counts and number of units only where they say something."""
    used = [indicators[i] for i in table.rows["indicator_id"].unique()]
    columns = {
        "indicator_id": t("export.col.indicator_id", lang),
        "indicator": t("export.col.indicator", lang),
        "ref_date": t("table.date", lang),
        "level": t("export.col.level", lang),
        "area_id": t("export.col.area_id", lang),
        "name": t("table.area", lang),
        "value": t("export.col.value", lang),
        "unit": t("export.col.unit", lang),
        "numerator": t("label.numerator", lang),
        "denominator": t("label.denominator", lang),
        "n_units": t("table.n_units", lang),
        "flag": t("table.flag", lang),
    }
    if all(labels.count_labels(i, lang) is None for i in used):
        del columns["numerator"], columns["denominator"]
    if not any(i.is_segregation for i in used):
        del columns["n_units"]
    flag = columns.pop("flag")
    return {**columns, **{c.key: c.header for c in table.extra}, "flag": flag}


def _decimals(table: ExportTable, key: str, record: dict) -> int | None:
    """Decimals of a number column: the indicator's for its value (and extra columns
    without their own); ``None`` for counts and text."""
    if key == "value":
        return record["decimals"]
    extra = next((c for c in table.extra if c.key == key), None)
    if extra is None:
        return None
    return record["decimals"] if extra.decimals is None else extra.decimals


def data_records(table: ExportTable, wh: Warehouse, lang: str) -> tuple[dict, list[dict]]:
    """Headers and typed records of the data sheet (values unrounded, dates as dates)."""
    indicators = catalogue.indicators(wh, lang)
    columns = _columns(table, indicators, lang)
    level_labels = _level_labels(wh, lang)
    records = []
    for row in table.rows.to_dict("records"):
        indicator = indicators[row["indicator_id"]]
        numerator, denominator = row["numerator"], row["denominator"]
        records.append(
            {
                "indicator_id": indicator.indicator_id,
                "indicator": indicator.title,
                "ref_date": date.fromisoformat(str(row["ref_date"])[:10]),
                "level": level_labels.get(row["level"], row["level"]),
                "area_id": row["area_id"],
                "name": row["name"],
                "value": _number(row["value"]),
                "unit": indicator.unit_label,
                "numerator": _number(numerator),
                "denominator": _number(denominator),
                "n_units": _number(row["n_units"]),
                "flag": labels.flag_label(row["flag"], lang),
                "decimals": indicator.decimals,
                **{c.key: _number(row[c.key]) for c in table.extra},
            }
        )
    return columns, records


def _number(value: object) -> float | int | None:
    if value is None or pd.isna(value):
        return None
    value = float(value)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _csv_cell(key: str, value: object, decimals: int | None) -> str:
    """A CSV cell in German notation: decimal comma, no thousands separator; numbers
    rounded to ``decimals``, counts as integers; text neutralised."""
    if isinstance(value, str):
        return neutralise(value)
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if decimals is not None:
        return f"{float(value):.{decimals}f}".replace(".", ",")
    if key in COUNT_COLUMNS:
        return f"{value:.0f}" if float(value).is_integer() else str(value).replace(".", ",")
    return str(value)


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=CSV_SEPARATOR, lineterminator="\r\n")
    writer.writerow([neutralise(cell) for cell in header])
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def csv_bytes(table: ExportTable, wh: Warehouse, lang: str) -> bytes:
    """The data as CSV for Excel (see the module docstring for the conventions)."""
    columns, records = data_records(table, wh, lang)
    rows = [[_csv_cell(k, r[k], _decimals(table, k, r)) for k in columns] for r in records]
    return _csv(list(columns.values()), rows)


# --- metadata ----------------------------------------------------------------------------
def _datetime_text(value: datetime) -> str:
    return value.strftime("%d.%m.%Y %H:%M %Z").strip()


def general_metadata(
    tables: Sequence[ExportTable], wh: Warehouse, lang: str, exported_at: datetime
) -> list[tuple[str, str]]:
    """(label, text) pairs describing the export: tables, place, sources, snapshot, times."""
    meta = catalogue.meta(wh)
    built = meta.get("built_at")
    built_text = _datetime_text(datetime.fromisoformat(built)) if built else formatting.MISSING
    return [
        *[(t("export.meta.table", lang), table.title) for table in tables],
        *[(t("export.meta.note", lang), note) for table in tables for note in table.notes],
        (t("export.meta.place", lang), meta.get("title", "")),
        (t("export.meta.attribution", lang), meta.get("attribution", "")),
        (t("export.meta.snapshot", lang), snapshot_id(wh)),
        (t("export.meta.built_at", lang), built_text),
        (t("export.meta.exported_at", lang), _datetime_text(exported_at)),
        (t("export.meta.producer", lang), PRODUCER),
    ]


def snapshot_id(wh: Warehouse) -> str:
    """The published snapshot's id: the name of its folder (``snapshots/<id>/``)."""
    return Path(wh.path).parent.name


def indicator_metadata(rows: pd.DataFrame, wh: Warehouse, lang: str) -> tuple[dict, list[dict]]:
    """Headers and one record per indicator in ``rows``: texts from the ``indicators``
    table, the data date (latest reference date in the rows) and the flags present."""
    indicators = catalogue.indicators(wh, lang)
    keys = (
        "indicator_id",
        "title",
        "definition",
        "numerator",
        "denominator",
        "unit",
        "decimals",
        "source",
        "as_of",
        "definition_id",
        "flags",
    )
    headers = {k: t(f"export.meta.{k}", lang) for k in keys if k != "indicator_id"}
    headers = {"indicator_id": t("export.col.indicator_id", lang), **headers}
    records = []
    for indicator_id, part in rows.groupby("indicator_id", sort=False):
        indicator = indicators[indicator_id]
        present = sorted({f for f in part["flag"] if flags.is_flag(f)}, key=flags.order)
        records.append(
            {
                "indicator_id": indicator_id,
                "title": indicator.title,
                "definition": indicator.definition,
                "numerator": indicator.numerator_label or "",
                "denominator": indicator.denominator_label or "",
                "unit": indicator.unit_label,
                "decimals": indicator.decimals,
                "source": indicator.source,
                "as_of": formatting.format_date(str(max(part["ref_date"].astype(str)))[:10]),
                "definition_id": indicator.definition_id,
                "flags": ", ".join(labels.flag_label(f, lang) for f in present)
                or t("export.meta.no_flags", lang),
            }
        )
    return headers, records


def flag_legend(rows: pd.DataFrame, lang: str) -> list[tuple[str, str]]:
    """(label, explanation) of every flag in ``rows``, in flag order."""
    present = sorted({f for f in rows["flag"] if flags.is_flag(f)}, key=flags.order)
    return [(labels.flag_label(f, lang), flags.explanation(f, lang)) for f in present]


def metadata_csv_bytes(
    tables: Sequence[ExportTable], wh: Warehouse, lang: str, exported_at: datetime | None = None
) -> bytes:
    """The metadata of ``tables`` as a CSV (same conventions): general lines, then one
    line per indicator, then the flag legend."""
    exported_at = exported_at or datetime.now(UTC).astimezone()
    rows = pd.concat([table.rows for table in tables], ignore_index=True)
    headers, records = indicator_metadata(rows, wh, lang)
    lines = [list(pair) for pair in general_metadata(tables, wh, lang, exported_at)]
    lines += [[], list(headers.values())]
    lines += [[r[k] for k in headers] for r in records]
    legend = flag_legend(rows, lang)
    if legend:
        lines += [[], [t("export.meta.legend", lang)], *[list(pair) for pair in legend]]
    cells = [[str(neutralise(cell)) for cell in line] for line in lines]
    return _csv([t("export.meta.heading", lang)], cells)


# --- XLSX --------------------------------------------------------------------------------
def _append(sheet, values: Sequence[object]) -> None:
    """Append a row of typed cells, text neutralised: openpyxl stores a string that begins
    with ``=`` as a formula, so nothing reaches a sheet but through here."""
    sheet.append([neutralise(value) for value in values])


def _number_format(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals > 0 else "")


def _data_sheet(sheet, table: ExportTable, wh: Warehouse, lang: str) -> None:
    columns, records = data_records(table, wh, lang)
    _append(sheet, list(columns.values()))
    for record in records:
        _append(sheet, [record[k] for k in columns])
        row = sheet.max_row
        for col, key in enumerate(columns, start=1):
            cell = sheet.cell(row=row, column=col)
            decimals = _decimals(table, key, record)
            if key == "ref_date":
                cell.number_format = "DD.MM.YYYY"
            elif decimals is not None:
                cell.number_format = _number_format(decimals)
            elif key in COUNT_COLUMNS:
                cell.number_format = _number_format(0)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    widths = {"indicator": 40, "name": 30, "flag": 24, "indicator_id": 28}
    for col, key in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = widths.get(key, 14)


def _meta_sheet(sheet, table: ExportTable, wh: Warehouse, lang: str, exported_at: datetime):
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    _append(sheet, [t("export.meta.heading", lang)])
    sheet["A1"].font = Font(bold=True, size=13)
    for label, text in general_metadata([table], wh, lang, exported_at):
        _append(sheet, [label, text])
        sheet.cell(row=sheet.max_row, column=1).font = bold
    headers, records = indicator_metadata(table.rows, wh, lang)
    sheet.append([])
    _append(sheet, [t("export.meta.indicators", lang)])
    sheet.cell(row=sheet.max_row, column=1).font = bold
    _append(sheet, list(headers.values()))
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for record in records:
        _append(sheet, [record[k] for k in headers])
        for cell in sheet[sheet.max_row]:
            cell.alignment = wrap
    legend = flag_legend(table.rows, lang)
    if legend:
        sheet.append([])
        _append(sheet, [t("export.meta.legend", lang)])
        sheet.cell(row=sheet.max_row, column=1).font = bold
        for pair in legend:
            _append(sheet, list(pair))
    widths = [28, 40, 70, 26, 26, 14, 10, 40, 12, 20, 24]
    for col, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width


def xlsx_bytes(
    table: ExportTable, wh: Warehouse, lang: str, exported_at: datetime | None = None
) -> bytes:
    """A workbook with the sheets "Daten" and "Metadaten" (see the module docstring)."""
    exported_at = exported_at or datetime.now(UTC).astimezone()
    workbook = Workbook()
    data = workbook.active
    data.title = t("export.sheet.data", lang)
    _data_sheet(data, table, wh, lang)
    _meta_sheet(workbook.create_sheet(t("export.sheet.meta", lang)), table, wh, lang, exported_at)
    workbook.properties.title = table.title
    workbook.properties.creator = PRODUCER
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def table_bytes(table: ExportTable, wh: Warehouse, fmt: str, lang: str) -> bytes:
    """The table as ``fmt`` (csv or xlsx)."""
    if fmt == "csv":
        return csv_bytes(table, wh, lang)
    if fmt == "xlsx":
        return xlsx_bytes(table, wh, lang)
    raise export.ExportError(f"unknown table format '{fmt}' (known: {', '.join(TABLE_FORMATS)})")
