"""Source adapter: GENESIS / Regionaldatenbank table exports (CSV) -> tidy cells.

Layout of one export (``;``-separated, line numbers as in the file)::

    GENESIS-Tabelle: 12411-03-03-4                      <- line 1: table id
    Bevölkerungsstand: Bevölkerung nach ...;;;;         <- title and metadata lines
    ;;;;Insgesamt;Insgesamt;...;Ausländer(innen)        <- column-header rows: they start
    ;;;;Insgesamt;männlich;...;weiblich                    with empty key fields, one row
    ;;;;Anzahl;...                                         per header level (maybe a unit row)
    31.12.2015;07111;      Koblenz, ...;unter 3 Jahre;2983;...   <- data lines
    __________                                          <- footer: notes, copyright, Stand

A data line is ``period;region code;region name;[row labels...];values...``. The number of
key fields is the smallest number of empty leading fields over the header rows (a header
row may leave the label of its first value column empty, too). Values are German decimals
(``6,8``) or one of the GENESIS symbols (:func:`etl.sources.value_flags.symbols`); a
symbol becomes NaN plus a flag, never 0. A cell whose unit row says it is a count
(:data:`COUNT_UNITS`) must be a whole number; without a unit row, the unit the title
states for the whole table at the end of a line, e.g. ``Bevölkerungsstand (Anzahl)``
(12411, 13111, 21111), holds for every column, so a fractional count there (``3647,5``)
is an error too. No thousands separator is read (``1.480`` is an error). Periods are
``DD.MM.YYYY`` or a year ``YYYY`` (annual sum or average, dated 31 Dec).

Encoding: with ``encoding=None`` the bytes are decoded as strict UTF-8 (a BOM is dropped)
or, if the file is ISO-8859-1 throughout, as ISO-8859-1; the statistics offices deliver
both. A file mixing the two, or with bytes that are no text in ISO-8859-1, is an error
naming the first bad line (:func:`etl.text.decode_detected`), never decoded wholesale as
ISO-8859-1. With an explicit encoding, undecodable bytes are an error naming line and
field. A control character other than tab (NUL …) in the title, header or data lines is
an error naming line and field.

Totals (:func:`check_totals`, on the rows an instance reads): a Land's or a
Regierungsbezirk's own row must equal the sum of the rows of its areas one level down
(Regierungsbezirke, Kreise) where the file delivers the total and all of them, for every
period, row and value column that adds up (not Prozent, Promille, Jahre; no flagged
cell; rounded annual averages within half a unit per area). A dropped or mistyped area
row or value is an error naming file, line, column and both numbers (or, with ``warn``,
a warning). Not compared: Germany with its Länder, and Gemeinden (a Kreis table lists only
a few, e.g. Hannover in Region Hannover). Germany is not the sum of the Länder in the real
exports, in both directions: it counts persons without a Land ("ohne Angabe", 13111's
footer), Länder report at different territorial and evaluation dates (21111: up to 11,703
off), and 13111's Germany row of 30.06.2014 repeats 30.06.2013's (536,303 below its
Länder) — a check would refuse correct Kreis data over the national row, which no
instance reads. Every period must list the same regions and rows
(:func:`check_periods`): a mistyped period or region code, or a dropped line, is named
as such rather than as the total it upsets. No line may be longer than
:data:`etl.text.MAX_LINE_BYTES`.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from etl.errors import MAX_PROBLEMS, Finding, InputError, and_more, quoted
from etl.sources.value_flags import symbols
from etl.text import LATIN1, check_declared, control_problem, decode_detected, read_bounded

FIRST_LINE = "GENESIS-Tabelle:"
FOOTER_MARK = "__________"
KEY_FIELDS = ("period", "region code", "region name")
LABEL_SEP = " | "
FALLBACK_ENCODING = LATIN1

# GENESIS "Zeichenerklärung": symbol in a value cell -> flag id.
# Header labels that make a header row a pure unit row (-> ``unit``, not ``variable``).
UNITS = frozenset(
    {
        "Anzahl",
        "Prozent",
        "Promille",
        "EUR",
        "Tsd. EUR",
        "Mill. EUR",
        "1000",
        "Tsd.",
        "ha",
        "qkm",
        "km",
        "Jahre",
        "Personen",
    }
)
NUMBER = r"-?\d+(?:,\d+)?"
TITLE_UNIT = re.compile(r"\(([^()]+)\)$")  # 'Bevölkerungsstand (Anzahl)': the table's unit
COUNT_UNITS = frozenset({"Anzahl", "Personen"})  # cells with these units must be whole
NOT_ADDITIVE = frozenset({"Prozent", "Promille", "Jahre"})  # a total is not their sum
PARENT_LENGTHS = (2, 3)  # AGS prefixes of totals: Land, Regierungsbezirk
SUMMED = (3, 5)  # AGS lengths of the areas summed: Regierungsbezirk, Kreis (not Gemeinde)
PERIODS = {  # pattern -> (year, month, day) groups; a bare year is dated 31 December
    re.compile(r"(\d{2})\.(\d{2})\.(\d{4})"): lambda m: (m[3], m[2], m[1]),
    re.compile(r"(\d{4})"): lambda m: (m[1], 12, 31),
}
AGS_LENGTHS = {2: "Land", 3: "Regierungsbezirk", 5: "Kreis", 8: "Gemeinde"}
ARS_LENGTH = 12
TEXT_COLUMNS = ["table_id", "period", "region_code", "region_name", "dims", "variable", "unit"]
COLUMNS = [
    "table_id",
    "period",
    "ref_date",
    "region_code",
    "region_name",
    "dims",
    "variable",
    "unit",
    "value",
    "flag",
    "line",
    "column",
]

Records = list[tuple[int, list[str]]]  # (1-based line of the record, its fields)


@dataclass
class GenesisTable:
    """One GENESIS table export: identity, title, tidy cells and footer notes."""

    table_id: str
    title: str
    rows: pd.DataFrame  # one row per data cell, columns as in COLUMNS
    data_cells: int  # value cells in the file's data block (= len(rows))
    footer: str
    encoding: str = "utf-8"


@dataclass
class _Header:
    n_keys: int  # fields before the first value column
    width: int  # fields per line
    variables: list[str]  # per value column
    units: list[str]  # per value column, "" without a unit row


def read_table(path: Path, encoding: str | None = None) -> GenesisTable:
    """Read and validate one GENESIS CSV export; raise :class:`InputError` on any problem
    (its totals: :func:`check_totals`)."""
    text, used = _decode(path, encoding)
    lines = [line.rstrip("\r") for line in text.split("\n")]
    table_id = _table_id(path, lines[0])
    head, start, stop, footer = _sections(path, lines)
    _check_controls(path, lines[:stop])
    header = _header(path, _records(path, lines, head, start))
    if not any(header.units):  # no unit row: the unit the title states for every column
        header.units = [_title_unit(lines[1:head])] * len(header.variables)
    data = _records(path, lines, start, stop)
    _check_widths(path, data, header.width, has_footer=footer is not None)
    if footer is None:
        raise InputError(
            path,
            f"no footer line '{FOOTER_MARK}' after the last data line; "
            "the file looks truncated (download it again)",
            line=stop,
        )
    keys = _keys(path, data, header.n_keys)
    values = np.array([fields[header.n_keys :] for _, fields in data], dtype=object)
    rows = _cells(path, table_id, keys, values, header)
    title = " ".join(
        f.strip() for _, rec in _records(path, lines, 1, head) for f in rec if f.strip()
    )
    return GenesisTable(table_id, title, rows, values.size, _footer(lines[footer + 1 :]), used)


def _decode(path: Path, encoding: str | None) -> tuple[str, str]:
    raw = read_bounded(Path(path))  # no line longer than MAX_LINE_BYTES
    if not raw.strip():
        raise InputError(
            path,
            f"file is empty; expected a GENESIS table export starting "
            f"with '{FIRST_LINE} <table id>'",
        )
    if encoding is None:
        return decode_detected(path, raw)
    raw = check_declared(path, raw, encoding)  # known; a BOM only for UTF-8
    try:
        return raw.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        raise _undecodable(path, raw, encoding, exc) from exc


def _undecodable(path: Path, raw: bytes, encoding: str, exc: UnicodeDecodeError) -> InputError:
    line_start = raw.rfind(b"\n", 0, exc.start) + 1
    field = raw.count(b";", line_start, exc.start) + 1
    return InputError(
        path,
        f"byte 0x{raw[exc.start]:02x} (byte {exc.start - line_start + 1} of the line) "
        f"is not valid {encoding}; pass the file's real encoding (e.g. "
        f"'{FALLBACK_ENCODING}') or encoding=None to detect it",
        line=raw.count(b"\n", 0, exc.start) + 1,
        column=str(field),
    )


def _check_controls(path: Path, lines: list[str]) -> None:
    """No control character but tab in the title, header and data lines (fields counted
    by ``;``)."""
    for number, line in enumerate(lines, start=1):
        if control_problem(line) is None:
            continue
        for position, text in enumerate(line.split(";"), start=1):
            problem = control_problem(text)
            if problem is not None:
                raise InputError(path, problem, line=number, column=str(position))


def _table_id(path: Path, first: str) -> str:
    table_id = first.removeprefix(FIRST_LINE).strip(" ;")
    if not first.startswith(FIRST_LINE) or not table_id:
        raise InputError(
            path,
            f"found '{first[:60]}', expected '{FIRST_LINE} <table id>' "
            "(is this a GENESIS table export in CSV format?)",
            line=1,
        )
    return table_id


def _sections(path: Path, lines: list[str]) -> tuple[int, int, int, int | None]:
    """Indices: first header line, first data line, end of data, footer mark (or None)."""
    head = next((i for i in range(1, len(lines)) if lines[i].startswith(";")), None)
    if head is None:
        raise InputError(
            path,
            "no column-header lines found; expected lines starting with "
            "';' (empty key fields) after the title",
        )
    start = next((i for i in range(head, len(lines)) if not lines[i].startswith(";")), len(lines))
    footer = next(
        (i for i in range(start, len(lines)) if lines[i].rstrip(";").strip() == FOOTER_MARK), None
    )
    stop = footer if footer is not None else len(lines)
    while stop > start and not lines[stop - 1].strip():
        stop -= 1
    if stop == start:
        raise InputError(
            path,
            "no data lines after the column headers; expected "
            "'<period>;<region code>;<region name>;...;<values>'",
            line=start + 1,
        )
    return head, start, stop, footer


def _records(path: Path, lines: list[str], start: int, stop: int) -> Records:
    """Parse ``lines[start:stop]`` as CSV; each record with its (last) 1-based line."""
    reader = csv.reader(lines[start:stop], delimiter=";", strict=True)
    try:
        return [(start + reader.line_num, fields) for fields in reader]
    except csv.Error as exc:
        raise InputError(
            path, f"not readable as ';'-separated CSV: {exc}", line=start + reader.line_num
        ) from exc


def _header(path: Path, records: Records) -> _Header:
    first, widths = records[0][0], {len(fields) for _, fields in records}
    if len(widths) > 1:
        raise InputError(
            path,
            f"header lines have {sorted(widths)} fields; expected the "
            "same number in every header line",
            line=first,
        )
    width = widths.pop()
    n_keys = min(_leading_empty(fields) for _, fields in records)
    if n_keys < len(KEY_FIELDS) or n_keys >= width:
        raise InputError(
            path,
            f"header has {n_keys} empty leading fields; expected at least "
            f"{len(KEY_FIELDS)} ({'; '.join(KEY_FIELDS)}) and then column labels",
            line=first,
        )
    rows = [[" ".join(f.split()) for f in fields[n_keys:]] for _, fields in records]
    is_unit = [set(filter(None, row)) <= UNITS and any(row) for row in rows]
    variables = _join_labels(r for r, unit in zip(rows, is_unit, strict=True) if not unit)
    units = _join_labels(r for r, unit in zip(rows, is_unit, strict=True) if unit)
    _check_variables(path, variables, n_keys, first)
    return _Header(n_keys, width, variables, units or [""] * len(variables))


def _title_unit(titles: list[str]) -> str:
    """The unit the title lines state for the whole table in parentheses at the end of a
    line, e.g. 'Sozialversicherungspfl. Beschäftigte (Wohnort) (Anzahl)' (the real
    exports 12411, 13111 and 21111 have no unit row), '' if none or several."""
    found = {m[1] for t in titles if (m := TITLE_UNIT.search(t.rstrip("; "))) and m[1] in UNITS}
    return found.pop() if len(found) == 1 else ""


def _leading_empty(fields: list[str]) -> int:
    return next((i for i, f in enumerate(fields) if f.strip()), len(fields))


def _join_labels(rows) -> list[str]:
    """Per column: the non-empty labels of ``rows`` joined top to bottom."""
    return [LABEL_SEP.join(filter(None, column)) for column in zip(*rows, strict=True)]


def _check_variables(path: Path, variables: list[str], n_keys: int, line: int) -> None:
    seen: dict[str, int] = {}
    for number, variable in enumerate(variables, start=n_keys + 1):
        if not variable:
            raise InputError(
                path,
                "value column has no header label; expected a label in at least one header line",
                line=line,
                column=str(number),
            )
        if variable in seen:
            raise InputError(
                path,
                f"header '{variable}' is given for fields {seen[variable]}"
                f" and {number}; expected distinct column headers",
                line=line,
                column=str(number),
            )
        seen[variable] = number


def _check_widths(path: Path, data: Records, width: int, has_footer: bool) -> None:
    truncated = (
        ""
        if has_footer
        else (
            f"; no footer line '{FOOTER_MARK}' follows either, "
            "so the file looks truncated (download it again)"
        )
    )
    for line, fields in data:
        if len(fields) != width:
            raise InputError(
                path,
                f"data line has {len(fields)} fields, expected {width} like the header{truncated}",
                line=line,
                column=str(min(len(fields), width + 1)),
            )


def _keys(path: Path, data: Records, n_keys: int) -> pd.DataFrame:
    """One row per data line: period, ref_date, region_code, region_name, dims, line."""
    keys = pd.DataFrame([fields[:n_keys] for _, fields in data], dtype=object)
    lines = pd.Series([line for line, _ in data])
    out = pd.DataFrame({"period": keys[0].str.strip(), "line": lines})
    out["ref_date"] = _map_unique(out["period"], lines, lambda p, ln: _ref_date(path, p, ln))
    codes = keys[1].str.replace(" ", "", regex=False)
    out["region_code"] = _map_unique(codes, lines, lambda c, ln: _region_code(path, c, ln))
    out["region_name"] = keys[2].str.strip()
    dims = [keys[i].str.strip() for i in range(len(KEY_FIELDS), n_keys)]
    out["dims"] = dims[0].str.cat(dims[1:], sep=LABEL_SEP) if dims else ""
    _check_unique(path, out)
    return out


def _map_unique(values: pd.Series, lines: pd.Series, convert) -> pd.Series:
    """Apply ``convert(value, first line)`` once per distinct value."""
    first_line = lines.groupby(values.to_numpy(), sort=False).first()
    return values.map({value: convert(value, line) for value, line in first_line.items()})


def _ref_date(path: Path, period: str, line: int) -> date:
    for pattern, parts in PERIODS.items():
        match = pattern.fullmatch(period)
        if match:
            try:
                return date(*(int(p) for p in parts(match)))
            except ValueError:
                break
    raise InputError(
        path, f"period '{period}' is not a date DD.MM.YYYY or a year YYYY", line=line, column="1"
    )


def _region_code(path: Path, code: str, line: int) -> str:
    if code == "DG" or (code.isdigit() and len(code) in AGS_LENGTHS):
        return code
    if code.isdigit() and len(code) == ARS_LENGTH:
        return code[:5] + code[-3:]
    raise InputError(
        path,
        f"region code '{code}' is not 'DG' (Germany), an AGS of "
        f"{', '.join(map(str, AGS_LENGTHS))} digits or a {ARS_LENGTH}-digit ARS",
        line=line,
        column="2",
    )


def _check_unique(path: Path, keys: pd.DataFrame) -> None:
    key = ["period", "region_code", "dims"]
    repeated = keys.duplicated(key)
    if repeated.any():
        row = keys[repeated].iloc[0]
        earlier = keys.loc[(keys[key] == row[key]).all(axis=1), "line"].iloc[0]
        dims = f", row '{row['dims']}'" if row["dims"] else ""
        raise InputError(
            path,
            f"period {row['period']}, region {row['region_code']}{dims} "
            f"was already given in line {earlier}; expected each period, "
            "region and row once",
            line=int(row["line"]),
        )


def _cells(
    path: Path, table_id: str, keys: pd.DataFrame, values: np.ndarray, header: _Header
) -> pd.DataFrame:
    """Long format: one row per value cell, line by line, left to right."""
    n_lines, n_values = values.shape
    rows = keys.loc[keys.index.repeat(n_values)].reset_index(drop=True)
    rows["table_id"] = table_id
    rows["variable"] = np.tile(np.array(header.variables, dtype=object), n_lines)
    rows["unit"] = np.tile(np.array(header.units, dtype=object), n_lines)
    rows["column"] = np.tile(np.arange(header.n_keys + 1, header.width + 1), n_lines)
    rows["value"], rows["flag"] = _values(path, pd.Series(values.ravel(), dtype="str"), rows)
    return rows[COLUMNS].astype(dict.fromkeys(TEXT_COLUMNS, "str"))


def _values(path: Path, cells: pd.Series, rows: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Numbers (NaN where flagged) and flag ids (None where a number)."""
    flags = cells.map(symbols())
    numeric = cells.str.fullmatch(NUMBER).fillna(False).astype(bool)
    bad = flags.isna() & ~numeric
    if bad.any():
        at, text = rows[bad.to_numpy()].iloc[0], cells[bad].iloc[0]
        found = f"'{quoted(text)}'" if text else "an empty cell"
        raise InputError(
            path,
            f"found {found} in '{at['variable']}', expected a number in "
            "German format (e.g. 1234 or 6,8) or one of the symbols "
            f"{' '.join(symbols())}",
            line=int(at["line"]),
            column=str(at["column"]),
        )
    value = pd.to_numeric(cells.where(numeric).str.replace(",", ".", regex=False))
    fraction = rows["unit"].isin(COUNT_UNITS).to_numpy() & (value % 1 > 0).to_numpy()
    if fraction.any():
        at, text = rows[fraction].iloc[0], cells[fraction].iloc[0]
        raise InputError(
            path,
            f"found '{text}' in '{at['variable']}' (unit {at['unit']}), expected a count, "
            "a whole number",
            line=int(at["line"]),
            column=str(at["column"]),
        )
    return value.astype(float), flags.astype(object).where(flags.notna(), None)


def region_totals(rows: pd.DataFrame, rounded: bool = False) -> pd.DataFrame:
    """Every region total (see module doc) that differs from the sum of its areas: the
    total's cell (``line``, ``column``, ``region_code``, ``region_name``, ``period``,
    ``dims``, ``variable``, ``value``) with ``parts`` (the sum), ``areas`` (how many rows
    were added) and ``codes`` (the first of them), in file order. ``rounded``: every
    value is an average rounded on its own, so a total may differ from the sum of its
    ``n`` areas by up to (n + 1) / 2. Set-based: the parent of every code of a period is
    found per prefix length, the sums by one group-by."""
    cells = rows[~rows["unit"].isin(NOT_ADDITIVE)]
    regions = cells[["period", "region_code"]].drop_duplicates()
    present = pd.MultiIndex.from_frame(regions)
    codes, periods = regions["region_code"], regions["period"]
    parent = pd.Series(None, index=regions.index, dtype=object)
    for length in PARENT_LENGTHS:  # the longest prefix present on that date wins
        prefix = codes.str[:length]
        found = (codes.str.len() > length) & codes.str.len().isin(SUMMED) & codes.str.isdigit()
        found &= pd.MultiIndex.from_arrays([periods, prefix]).isin(present)
        parent = parent.mask(found, prefix)
    regions = regions.assign(parent=parent).dropna(subset="parent")
    key = ["period", "dims", "variable"]
    children = cells.merge(regions, on=["period", "region_code"])
    if children.empty:
        return cells.iloc[0:0]
    sums = children.groupby([*key, "parent"], sort=False)["value"].agg(
        parts="sum", areas="size", delivered="count"
    )
    totals = cells.merge(
        sums.reset_index(), left_on=[*key, "region_code"], right_on=[*key, "parent"]
    )
    complete = totals["value"].notna() & (totals["delivered"] == totals["areas"])
    tolerance = 1e-9 * totals["value"].abs().clip(lower=1)  # float sums, not rounding
    if rounded:
        tolerance += (totals["areas"] + 1) / 2
    bad = totals[complete & ((totals["value"] - totals["parts"]).abs() > tolerance)]
    if bad.empty:
        return bad
    listed = regions.groupby(["period", "parent"])["region_code"].agg(
        lambda c: ", ".join(sorted(c)[:3]) + (", …" if len(c) > 3 else "")
    )
    where = pd.MultiIndex.from_frame(bad[["period", "region_code"]])
    bad = bad.assign(codes=listed.reindex(where).to_numpy())
    return bad.sort_values(["line", "column"])


def check_periods(path: Path, cells: pd.DataFrame) -> None:
    """Every period lists the same regions and rows in ``cells`` (the cells an instance
    reads: a GENESIS export is a cube, the real exports list all 526 regions in every
    period; a region outside the instance is not its concern). Compared with the period
    with the most lines, raise for (in this order) a period given in a few lines only (a
    mistyped period, e.g. 30.06.2016 in a 2012-2015 table), a region no other period has
    (a mistyped code), or a row the other periods have (a dropped line)."""
    keys = cells.drop_duplicates("line")
    keys = keys.assign(key=keys["region_code"] + LABEL_SEP + keys["dims"])
    sizes = keys.groupby("period", sort=False)["line"].size()
    if len(sizes) <= 1:
        return
    reference = sizes.idxmax()
    full = keys[keys["period"] == reference]
    stray = sizes[2 * sizes <= sizes[reference]]
    if not stray.empty:
        period, size = stray.index[0], int(stray.iloc[0])
        lines = keys.loc[keys["period"] == period, "line"]
        shown = ", ".join(str(n) for n in lines.head(MAX_PROBLEMS))
        periods = ", ".join(quoted(p, 20) for p in sizes.index[:MAX_PROBLEMS])
        raise InputError(
            path,
            f"period '{quoted(period, 20)}' is given in {size} data line(s) only (line "
            f"{shown}{', …' if size > MAX_PROBLEMS else ''}), period {reference} in "
            f"{sizes[reference]}; expected every period with the same regions and rows (the "
            f"file's periods: {periods}{', …' if len(sizes) > MAX_PROBLEMS else ''}): a "
            "mistyped period?",
            line=int(lines.iloc[0]),
            column="1",
        )
    periods = keys.groupby("key", sort=False)["period"].nunique()  # periods with each row
    rare = keys[keys["key"].map(periods) * 2 <= len(sizes)]
    if not rare.empty:  # a row in at most half of the periods
        row = rare.iloc[0]
        block = keys[keys["period"] == row["period"]]
        lacking = periods[(periods * 2 > len(sizes)) & ~periods.index.isin(block["key"])]
        why = (
            "a mistyped region code?"
            if len(lacking)
            else f"an extra line, or lines dropped in {len(sizes) - periods[row['key']]} periods?"
        )
        raise InputError(
            path,
            f"region {row['region_code']} ({quoted(row['region_name'], 40)})"
            f"{_row_label(row['dims'])} is given for period {row['period']} but for "
            f"{len(sizes) - periods[row['key']]} of the file's {len(sizes)} periods not; "
            f"expected the same regions and rows in every period: {why}",
            line=int(row["line"]),
            column="2",
        )
    for period in sizes.index:  # a period without a row most periods have
        block = keys[keys["period"] == period]
        missing = full[~full["key"].isin(block["key"])]
        if missing.empty:
            continue
        row = missing.iloc[0]
        position = int((full["line"] < row["line"]).sum())  # the line it would be before
        at = int(block["line"].iloc[min(position, len(block) - 1)])
        more = f" (and {len(missing) - 1} more rows)" if len(missing) > 1 else ""
        raise InputError(
            path,
            f"period {period} has no line for region {row['region_code']} "
            f"({quoted(row['region_name'], 40)}){_row_label(row['dims'])}, which period "
            f"{reference} has in line {row['line']}{more}; expected the same regions and "
            "rows in every period: a line dropped?",
            line=at,
        )


def check_totals(
    path: Path, table: GenesisTable, rows: pd.Series, mode: Literal["error", "warn"]
) -> list[str]:
    """The totals of the ``rows`` (a mask of ``table.rows``: e.g. one Land and its Kreise)
    against the sums of their areas (:func:`region_totals`; rounded averages if the title
    says Jahresdurchschnitt). Raise for the first that differs, or (``warn``) return a
    warning per difference (the first few, then a count). First, every period must list
    the same regions and rows (:func:`check_periods`, always an error)."""
    check_periods(path, table.rows[rows])
    rounded = "durchschnitt" in table.title.casefold()
    bad = region_totals(table.rows[rows], rounded)
    if bad.empty:
        return []
    messages = [
        (
            int(row.line),
            str(row.column),
            f"the total of region {row.region_code} ({quoted(row.region_name, 40)}) for "
            f"{row.period}{_row_label(row.dims)}, '{row.variable}' is "
            f"{_number(row.value)}, but its {row.areas} area rows ({row.codes}) sum to "
            f"{_number(row.parts)}; expected the total to equal the sum of its areas "
            "(an area row dropped or a value mistyped?)",
        )
        for row in bad.head(MAX_PROBLEMS).itertuples()
    ]
    if mode == "error":
        line, column, message = messages[0]
        more = and_more(1, len(bad), {"total ≠ sum of its areas": len(bad)})
        raise InputError(path, message + more, line=line, column=column)
    warnings = [
        Finding(f"{path}, line {line}, column {column}: {m}") for line, column, m in messages
    ]
    if len(bad) > len(messages):
        warnings.append(Finding(f"{path}: {len(bad) - len(messages)} more region totals differ"))
    return warnings


def _row_label(dims: str) -> str:
    return f", row '{dims}'" if dims else ""


def _number(value: float) -> str:
    """A value as GENESIS writes it (German decimal comma, no thousands separator)."""
    return f"{value:.10g}".replace(".", ",")


def _footer(lines: list[str]) -> str:
    """Footer text with CSV quoting undone: notes, copyright, ``Stand: ...``."""
    records = csv.reader((line + "\n" for line in lines), delimiter=";")
    texts = (" ".join(f.strip() for f in fields if f.strip()) for fields in records)
    return "\n".join(text for text in texts if text)
