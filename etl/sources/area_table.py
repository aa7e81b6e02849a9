"""Source adapter: counts per area as offices publish them (CSV or XLSX, one row per area).

One file per reference date, e.g. Berlin's LOR tables
``berlin-lor-population-2024-02-t1-planning-areas.csv``: a header row, then one row per
finest-level area with its code in ``area_column`` and counts in the other columns. The
profile (``tables:`` entry with ``adapter: area_table``) names the file pattern, the
reference date in the file name, the code column and which columns make which count.

Output: tidy observations (one row per area and used column) with file line numbers.
Values are non-negative numbers written as the profile declares them (``decimal``, and a
``thousands`` separator only where declared: ``1.480`` is otherwise an error, never 1480
or 1.48); every column but the ``rate_columns`` is a count, so a whole number. The
symbols of :func:`etl.sources.value_flags.symbols` (``.`` secret, ``-`` nil, ...) are kept
as flags with no value, never turned into 0.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd

from etl.errors import InputError, quoted
from etl.profile import AreaTable, DateFromName
from etl.sources import id_map, xlsx_header
from etl.sources.value_flags import symbols
from etl.text import check_rows, decode_file

OBSERVATION_COLUMNS = [
    "ref_date",
    "area_id",
    "variable",
    "dims",
    "unit",
    "value",
    "flag",
    "line",
    "column",
]


def ref_date_of(path: Path, spec: DateFromName | date) -> date:
    """The reference date encoded in the file name (only a year: its 31 December), or
    the profile's fixed date."""
    if isinstance(spec, date):
        return spec
    match = re.search(spec.regex, path.name)
    if not match:
        raise InputError(
            path,
            f"file name does not match the reference-date pattern '{spec.regex}' of the "
            "profile (named groups year, month and day, or year and part, or only year)",
        )
    groups = match.groupdict()
    try:
        if set(groups) == {"year"}:
            return date(int(groups["year"]), 12, 31)
        if "part" in groups:
            return date.fromisoformat(f"{groups['year']}-{spec.parts[groups['part']]}")
        return date(int(groups["year"]), int(groups["month"]), int(groups["day"]))
    except (KeyError, ValueError) as exc:
        raise InputError(
            path,
            f"file name gives no valid reference date with pattern "
            f"'{spec.regex}' and parts {spec.parts}: {exc}",
        ) from exc


def read(path: Path, table: AreaTable, columns: list[str]) -> pd.DataFrame:
    """Tidy observations of ``columns`` for every area row of ``path``."""
    header, rows, first_line = _rows(path, table)
    missing = [c for c in [table.area_column, *columns] if c not in header]
    if missing:
        raise InputError(
            path,
            f"missing column '{missing[0]}' (the profile's table "
            f"'{table.id}' needs it; found: {', '.join(header)})",
            line=table.header_row,
            column=missing[0],
        )
    wide = pd.DataFrame(rows, columns=header, dtype=object)
    wide["line"] = range(first_line, first_line + len(wide))
    _check_codes(path, wide, table.area_column)
    if table.id_map is not None:  # names -> codes; two names of one area are a duplicate
        wide[table.area_column] = id_map.codes_for(path, wide, table.area_column, table.id_map)
        _check_codes(path, wide, table.area_column)
    values, flags = _numbers(path, wide, columns, table)
    _check_sums(path, wide, values, table.sums)
    tidy = values.assign(area_id=wide[table.area_column], line=wide["line"]).melt(
        id_vars=["area_id", "line"], var_name="variable", value_name="value"
    )
    tidy["flag"] = flags.melt()["value"].to_numpy()
    return tidy.assign(
        ref_date=ref_date_of(path, table.ref_date), dims="", unit="", column=tidy["variable"]
    )[OBSERVATION_COLUMNS]


def _rows(path: Path, table: AreaTable) -> tuple[list[str], list[list[str]], int]:
    """Header, data rows (all text) and the line number of the first data row."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _xlsx_rows(path, table)
    text = decode_file(path, table.encoding or "utf-8", bounded=True)
    lines = list(csv.reader(io.StringIO(text), delimiter=table.separator))
    if len(lines) < table.header_row or not any(lines[table.header_row - 1]):
        raise InputError(
            path, "empty file: expected a header row naming the columns", line=table.header_row
        )
    raw_header = lines[table.header_row - 1]
    below = lines[table.header_row - 1 :]  # the header and the rows under it
    check_rows(path, below, _numbered(below, table.header_row), raw_header)
    header = [name.strip() for name in raw_header]
    body = without_footer(lines[table.header_row :], table.footer_lines)
    for number, row in enumerate(body, start=table.header_row + 1):
        if len(row) != len(header):
            raise InputError(
                path,
                f"{len(row)} fields where the header has {len(header)} "
                "(file truncated or separator wrong?)",
                line=number,
            )
    if not body:
        raise InputError(path, "no data rows below the header", line=table.header_row + 1)
    return header, body, table.header_row + 1


def _xlsx_rows(path: Path, table: AreaTable) -> tuple[list[str], list[list[str]], int]:
    try:
        book = openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken files
        raise InputError(path, f"not a readable XLSX workbook: {exc}") from exc
    sheet = _sheet(path, book, table.sheet)
    two_rows = xlsx_header.two_row_header(path, sheet, table.header_row)  # merged names
    for merged in sheet.merged_cells.ranges:
        if two_rows is None and merged.min_row <= table.header_row <= merged.max_row:
            raise InputError(
                path,
                f"sheet '{sheet.title}': merged header cells {merged.coord}; "
                "expected one column name per cell",
                line=table.header_row,
                column=merged.coord,
            )
    cells = [
        [_cell_text(v, table.decimal) for v in row]
        for row in sheet.iter_rows(min_row=table.header_row, values_only=True)
    ]
    if not cells or not any(cells[0]):
        raise InputError(path, f"sheet '{sheet.title}': empty header row", line=table.header_row)
    first = table.header_row + (two_rows is not None)  # the header's last row
    if two_rows is not None:
        cells = [two_rows, *cells[2:]]
    check_rows(path, cells, _numbered(cells, first), cells[0])
    rows = [r for r in without_footer(cells[1:], table.footer_lines) if any(r)]
    return [c.strip() for c in cells[0]], rows, first + 1


def without_footer(rows: list[list[str]], footer_lines: int) -> list[list[str]]:
    """``rows`` without the last ``footer_lines`` non-empty rows (notes, "Quelle: …") and
    the empty rows around them."""
    if not footer_lines:
        return rows
    kept = list(rows)
    while kept and footer_lines:
        footer_lines -= any(str(c).strip() for c in kept.pop())
    while kept and not any(str(c).strip() for c in kept[-1]):
        kept.pop()
    return kept


def _cell_text(value: object, decimal: str) -> str:
    """An XLSX cell as the CSV would write it: a number with the profile's decimal sign
    and no thousands separator (``1480``, ``2,5``), text as it is."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value).replace(".", decimal)
    return str(value)


def _numbered(rows: list, first: int) -> range:
    """File lines (or sheet rows) of ``rows`` when the first is line ``first``."""
    return range(first, first + len(rows))


def _sheet(path: Path, book: openpyxl.Workbook, wanted: str | int | None):
    if wanted is None:
        return book.worksheets[0]
    try:
        return book.worksheets[wanted] if isinstance(wanted, int) else book[wanted]
    except (IndexError, KeyError) as exc:
        raise InputError(
            path, f"no sheet {wanted!r} (sheets: {', '.join(book.sheetnames)})"
        ) from exc


def _check_codes(path: Path, wide: pd.DataFrame, column: str) -> None:
    codes = wide[column].str.strip()
    bad = codes == ""
    if bad.any():
        raise InputError(
            path, "empty area code", line=int(wide["line"][bad].iloc[0]), column=column
        )
    dup = codes.duplicated()
    if dup.any():
        first = codes[dup].iloc[0]
        lines = wide["line"][codes == first].tolist()
        raise InputError(
            path,
            f"area '{first}' occurs twice (lines {lines[0]} and "
            f"{lines[1]}); expected one row per area",
            line=lines[1],
            column=column,
        )
    wide[column] = codes


def _numbers(
    path: Path, wide: pd.DataFrame, columns: list[str], table: AreaTable
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Numeric values (NaN for flagged cells) and flags of ``columns``: numbers as
    :func:`number_pattern` of the profile, not negative, counts whole."""
    text = wide[columns].apply(lambda s: s.astype(str).str.strip())
    flags = text.apply(lambda s: s.map(symbols()))
    pattern = number_pattern(table.decimal, table.thousands)
    well_formed = text.apply(lambda s: s.str.fullmatch(pattern)).astype(bool)
    _first_bad(path, wide, text, ~well_formed & flags.isna(), _expected_number(table))
    cleaned = text.where(flags.isna(), None)
    if table.thousands:
        cleaned = cleaned.apply(lambda s: s.str.replace(table.thousands, "", regex=False))
    cleaned = cleaned.apply(lambda s: s.str.replace(table.decimal, ".", regex=False))
    values = cleaned.apply(pd.to_numeric).astype("float64")
    _first_bad(path, wide, text, values < 0, "expected a count, found a negative number")
    counts = [c for c in columns if c not in table.rate_columns]
    fraction = values[counts].notna() & (values[counts] % 1 != 0)
    _first_bad(path, wide, text[counts], fraction, _expected_whole(table))
    return values, flags


def number_pattern(decimal: str, thousands: str | None) -> str:
    """Regex of a number as the profile writes it: digits (grouped by ``thousands`` in
    threes if declared) and an optional ``decimal`` part; a sign is matched so that a
    negative count gets its own message."""
    digits = r"\d+"
    if thousands:
        digits = rf"(?:\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})+|\d+)"
    return rf"[-+]?{digits}(?:{re.escape(decimal)}\d+)?"


def _expected_number(table: AreaTable) -> str:
    example = "1480" if not table.thousands else f"1480 or 1{table.thousands}480"
    hint = (
        "; thousands separators are read only where the profile declares them "
        "(thousands: '.' for 1.480)"
        if not table.thousands
        else ""
    )
    return (
        f"expected a count (a number such as {example}, decimal sign '{table.decimal}', or a "
        f"value symbol such as '.' or '-'){hint}"
    )


def _expected_whole(table: AreaTable) -> str:
    hint = ""
    if table.decimal == "." and not table.thousands:
        hint = (
            "; if '.' separates thousands here (1.480 = 1480), declare decimal: ',' and "
            "thousands: '.' in the profile"
        )
    return (
        "expected a count, a whole number (columns with rates or averages are listed "
        f"under rate_columns in the profile){hint}"
    )


def _first_bad(
    path: Path, wide: pd.DataFrame, text: pd.DataFrame, bad: pd.DataFrame, expected: str
) -> None:
    """Raise for the first ``bad`` cell in file order (line, then column of the file)."""
    if not bad.to_numpy().any():
        return
    position = {name: i for i, name in enumerate(wide.columns)}
    hits = zip(*bad.to_numpy().nonzero(), strict=True)
    row, col = min(hits, key=lambda hit: (hit[0], position[bad.columns[hit[1]]]))
    column = bad.columns[col]
    raise InputError(
        path,
        f"found '{quoted(text[column].iat[row])}', {expected}",
        line=int(wide["line"].iat[row]),
        column=column,
    )


def _check_sums(
    path: Path, wide: pd.DataFrame, values: pd.DataFrame, sums: list[list[str]]
) -> None:
    for total, *parts in sums:
        diff = values[total] - values[parts].sum(axis=1, min_count=len(parts))
        bad = diff.notna() & (diff.abs() > 1e-9)
        if bad.any():
            row = bad.to_numpy().nonzero()[0][0]
            raise InputError(
                path,
                f"{total} = {values[total].iat[row]:g} but the sum of "
                f"{' + '.join(parts)} is {values[parts].iloc[row].sum():g} "
                "(a part larger than its total, or a part missing)",
                line=int(wide["line"].iat[row]),
                column=total,
            )
