"""A delivered table's text format: encoding, separator, header row, number notation.

CSV/TSV: the encoding is UTF-8 if the bytes are UTF-8, else Windows-1252 (bytes
0x80–0x9f present) or ISO-8859-1; the separator is the one of ``; , TAB |`` that splits
the most lines into the same number of fields; the header row is the first line with that
many fields, mostly text. XLSX: the first sheet, cells as text. Numbers: the decimal sign
and thousands separator are read off the value cells (``1.480,5``: decimal ``,``,
thousands ``.``; ``1 480``: thousands blank).
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl

from etl.errors import InputError
from etl.onboarding import json_shape
from etl.sources import xlsx_header
from etl.sources.area_table import without_footer
from etl.sources.value_flags import symbols

SEPARATORS = [";", ",", "\t", "|"]
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".json")
NUMBER = re.compile(r"^[-+]?(?:\d{1,3}(?:[ .,']\d{3})+|\d+)(?:[.,]\d+)?$")


@dataclass
class TableText:
    path: Path
    header: list[str]
    rows: list[list[str]]
    header_row: int
    encoding: str | None = None  # None: XLSX
    separator: str | None = None
    decimal: str = "."
    thousands: str | None = None
    footer_lines: int = 0  # notes below the table
    json_keys: list[str] | None = None  # JSON: the nesting levels' names (None: not JSON)
    notes: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)


def read_table(path: Path) -> TableText:
    """The header and rows of ``path`` with the format found (see module doc)."""
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise InputError(
            path,
            f"imon init reads tables as {', '.join(TABLE_SUFFIXES)}; '{path.suffix}' is not "
            "one of them (boundary files go after --geometry)",
        )
    if path.suffix.lower() == ".json":
        keys, header, rows = json_shape.json_keys(path)
        table = TableText(path, header, rows, 1, json_keys=keys)
        nesting = f"nested by {', '.join(keys)}" if keys else "a list of records"
        table.notes.append(f"{path.name}: JSON, {nesting}")
        return table
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        lines, table = _xlsx_lines(path), TableText(path, [], [], 1)
        table.notes.append(f"{path.name}: XLSX, first sheet")
    else:
        data = path.read_bytes()
        encoding = _encoding(data)
        text = data.decode(encoding).removeprefix("\ufeff")
        if not text.strip():
            raise InputError(path, "empty file: expected a header row and data rows", line=1)
        separator = _separator(path, text)
        lines = list(csv.reader(io.StringIO(text), delimiter=separator))
        table = TableText(path, [], [], 1, encoding, separator)
        shown = {"\t": "TAB"}.get(separator, separator)
        table.notes.append(f"{path.name}: encoding {encoding}, separator '{shown}'")
    widths = Counter(len(line) for line in lines if any(c.strip() for c in line))
    if not widths:
        raise InputError(path, "empty file: expected a header row and data rows", line=1)
    width = widths.most_common(1)[0][0]
    start = next((i for i, line in enumerate(lines) if len(line) == width and _texty(line)), None)
    if start is None:
        raise InputError(
            path, f"no header row found: expected a line of {width} column names", line=1
        )
    table.header_row = start + 1
    table.header = [c.strip() for c in lines[start]]
    body = lines[start + 1 :]
    table.footer_lines = _footer(body, width)
    body = without_footer(body, table.footer_lines)
    table.rows = [[c.strip() for c in line] for line in body if any(line)]
    if start:
        table.notes.append(f"{path.name}: header in line {start + 1} (title lines above)")
    if table.footer_lines:
        table.notes.append(f"{path.name}: {table.footer_lines} note line(s) below the table")
    odd = [i + start + 2 for i, line in enumerate(body) if any(line) and len(line) != width]
    if odd:
        table.questions.append(
            f"{path.name}: line {odd[0]} has not the header's {width} fields (a footnote?); "
            "the build reads every line below the header, so the file needs a clean end"
        )
    return table


def _footer(body: list[list[str]], width: int) -> int:
    """How many non-empty lines at the end are notes: lines with one filled cell (or
    fewer fields than the header) after the last full row."""
    count = 0
    for line in reversed(body):
        filled = [c for c in line if c.strip()]
        if not filled:
            continue
        if len(line) == width and len(filled) > 1:
            break
        count += 1
    return count


def _encoding(data: bytes) -> str:
    for encoding in ("utf-8", "cp1252"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8" or re.search(rb"[\x80-\x9f]", data):
            return encoding
    return "iso-8859-1"


def _separator(path: Path, text: str) -> str:
    sample = text.splitlines()[:50]
    best, score = None, 0
    for sep in SEPARATORS:
        widths = Counter(len(row) for row in csv.reader(sample, delimiter=sep) if row)
        width, count = widths.most_common(1)[0] if widths else (1, 0)
        if width > 1 and count > score:
            best, score = sep, count
    if best is None:
        raise InputError(path, "no field separator found (tried ; , TAB |)", line=1)
    return best


def _texty(line: list[str]) -> bool:
    cells = [c.strip() for c in line if c.strip()]
    return (
        len(cells) >= len(line) / 2 and sum(bool(NUMBER.match(c)) for c in cells) < len(cells) / 2
    )


def _xlsx_lines(path: Path) -> list[list[str]]:
    """The first sheet's rows as text; two header rows under merged cells (an indicator
    over its years) as one row "<indicator> | <year>" (etl/sources/xlsx_header.py)."""
    try:
        book = openpyxl.load_workbook(path, data_only=True)  # not read-only: merged cells
    except Exception as exc:  # openpyxl raises many types for broken files
        raise InputError(path, f"not a readable XLSX workbook: {exc}") from exc
    sheet = book.worksheets[0]
    rows = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    for row in range(1, min(sheet.max_row - 1, 20) + 1):
        if _title(sheet, row, rows[row - 1]):
            continue
        names = xlsx_header.two_row_header(path, sheet, row)
        if names is not None:
            rows[row - 1 : row + 1] = [names]
            break
    return rows


def _title(sheet, row: int, cells: list[str]) -> bool:
    """A title line: at most one merged cell spanning columns, nothing outside it."""
    ranges = xlsx_header.spanning(sheet, row)
    if len(ranges) > 1:
        return False
    inside = set(range(ranges[0].min_col, ranges[0].max_col + 1)) if ranges else set()
    return not any(c.strip() for i, c in enumerate(cells, start=1) if i not in inside)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def number_format(table: TableText, columns: list[int]) -> None:
    """Set ``decimal`` and ``thousands`` from the cells of ``columns`` (see module doc)."""
    cells = [r[i] for r in table.rows for i in columns if i < len(r)]
    cells = [c for c in cells if c and c not in symbols()]
    if table.encoding is None:  # XLSX cells are numbers, written with '.' when decimal
        return
    has = {
        "comma_decimal": any(
            re.fullmatch(r"\d+,\d{1,2}|\d+,\d{4,}|.*\d\.\d{3},\d+", c) for c in cells
        ),
        "dot_decimal": any(
            re.fullmatch(r"\d+\.\d{1,2}|\d+\.\d{4,}|.*\d,\d{3}\.\d+", c) for c in cells
        ),
        "dot_groups": any(re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", c) for c in cells),
        "comma_groups": any(re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", c) for c in cells),
        "blank_groups": any(re.fullmatch(r"\d{1,3}(?: \d{3})+(?:[.,]\d+)?", c) for c in cells),
        "apostrophe_groups": any(re.fullmatch(r"\d{1,3}(?:'\d{3})+(?:[.,]\d+)?", c) for c in cells),
    }
    german = has["comma_decimal"] or (has["dot_groups"] and not has["dot_decimal"])
    if german and has["dot_decimal"]:
        table.questions.append(
            f"{table.path.name}: numbers with both '1,5' and '1.5'; assumed decimal ','"
        )
    table.decimal = "," if german else "."
    if has["blank_groups"]:
        table.thousands = " "
    elif has["apostrophe_groups"]:
        table.thousands = "'"
    elif german and has["dot_groups"]:
        table.thousands = "."
    elif not german and has["comma_groups"] and table.separator != ",":
        table.thousands = ","
    grouped = f", thousands '{table.thousands}'" if table.thousands else ", no thousands separator"
    table.notes.append(f"{table.path.name}: decimal sign '{table.decimal}'{grouped}")
