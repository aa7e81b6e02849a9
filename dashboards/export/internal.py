"""Exports of unprotected values (the internal page, office role, internal server only).

Marked three times, so no copy can pass for a publication: the file name begins with
``INTERN_nicht_zur_Veroeffentlichung``, the first row says "intern – nicht zur
Veröffentlichung", and so does the last column of every data row (a row copied out of the
file keeps it). Text is neutralised like every other export
(:mod:`dashboards.export.cells`); German notation as in :mod:`dashboards.export.tables`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font

from dashboards.data.unprotected import COLUMNS, MARK
from dashboards.export.tables import _append, _csv, _csv_cell
from dashboards.i18n import t

PREFIX = "INTERN_nicht_zur_Veroeffentlichung"


@dataclass(frozen=True)
class InternalTable:
    """Unprotected values of one indicator, date and level, and what they are."""

    rows: pd.DataFrame  # dashboards.data.unprotected.values
    indicator_id: str
    title: str
    ref_date: str
    level: str
    snapshot: str
    decimals: int

    def filename(self, fmt: str) -> str:
        return f"{PREFIX}_{self.indicator_id}_{self.level}_{self.ref_date}.{fmt}"


def _head(table: InternalTable, lang: str) -> list[list[str]]:
    return [
        [MARK[lang].upper()],
        [t("internal.qa.indicator", lang), table.title],
        [t("internal.qa.date", lang), table.ref_date],
        [t("internal.qa.level", lang), table.level],
        [t("internal.qa.snapshot", lang), table.snapshot],
        [],
    ]


def _header(lang: str) -> list[str]:
    return [t(f"internal.qa.{c}", lang) for c in COLUMNS] + [t("internal.qa.mark", lang)]


def _records(table: InternalTable, lang: str) -> list[list[object]]:
    frame = table.rows.astype(object).where(table.rows.notna(), None)
    return [[row[c] for c in COLUMNS] + [MARK[lang]] for row in frame.to_dict("records")]


def _decimals(column: str, table: InternalTable) -> int | None:
    return table.decimals if column in ("value", "published_value") else None


def csv_bytes(table: InternalTable, lang: str) -> bytes:
    columns = [*COLUMNS, "mark"]
    rows = [
        [_csv_cell(c, v, _decimals(c, table)) for c, v in zip(columns, record, strict=True)]
        for record in _records(table, lang)
    ]
    head = [[_csv_cell("", v, None) for v in line] for line in _head(table, lang)]
    return _csv(head[0], [*head[1:], _header(lang), *rows])


def xlsx_bytes(table: InternalTable, lang: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "INTERN"
    for line in _head(table, lang):
        _append(sheet, line)
    sheet["A1"].font = Font(bold=True, color="B00000")
    _append(sheet, _header(lang))
    for record in _records(table, lang):
        _append(sheet, record)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def file_bytes(table: InternalTable, fmt: str, lang: str) -> bytes:
    if fmt == "csv":
        return csv_bytes(table, lang)
    if fmt == "xlsx":
        return xlsx_bytes(table, lang)
    raise ValueError(f"unknown format {fmt!r} (csv, xlsx)")
