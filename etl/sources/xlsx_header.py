"""XLSX header rows with merged cells: an indicator name spanning its year columns.

Offices lay out district tables with one merged cell per indicator over a row of years::

    | Stadtteil |     Einwohner     |     Ausländer     |
    |           |  2022   |  2023   |  2022   |  2023   |
    | Altstadt  |  1150   |  1200   |   180   |   200   |

The two header rows are read as one: each column is named ``"<upper> | <lower>"``
(``"Einwohner | 2022"``), a column with only one of them (``Stadtteil``, merged down over
both rows or with the lower cell empty) by that one. A merged header cell that spans
columns but has no row below it is an error naming the cells.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl.worksheet.worksheet import Worksheet

from etl.errors import InputError

JOIN = " | "


def spanning(sheet: Worksheet, row: int) -> list:
    """The merged ranges of ``row`` that span more than one column."""
    return [
        merged
        for merged in sheet.merged_cells.ranges
        if merged.min_row == row and merged.max_col > merged.min_col
    ]


def two_row_header(path: Path, sheet: Worksheet, row: int) -> list[str] | None:
    """The column names of header rows ``row`` and ``row + 1`` when ``row`` has merged
    cells spanning columns and the row below has names only under them (see module doc);
    None when it has no such cells, or the row below is data."""
    ranges = spanning(sheet, row)
    if not ranges:
        return None
    upper = [_text(c.value) for c in sheet[row]]
    lower = [_text(c.value) for c in sheet[row + 1]] if sheet.max_row > row else []
    if not any(lower):
        raise InputError(
            path,
            f"sheet '{sheet.title}': merged header cells {ranges[0].coord} and no row of "
            "names below them; expected one column name per cell, or the years (or other "
            "names) of the merged columns in the row below",
            line=row,
            column=ranges[0].coord,
        )
    spanned = {col for merged in ranges for col in range(merged.min_col, merged.max_col + 1)}
    if any(text for col, text in enumerate(lower, start=1) if col not in spanned):
        return None  # the row below is data (an area in its first cells), not names
    for merged in ranges:  # the merged name over every column it spans
        for col in range(merged.min_col, merged.max_col + 1):
            upper[col - 1] = upper[merged.min_col - 1]
    width = max(len(upper), len(lower))
    upper += [""] * (width - len(upper))
    lower += [""] * (width - len(lower))
    return [JOIN.join(p for p in (u, w) if p) for u, w in zip(upper, lower, strict=True)]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
