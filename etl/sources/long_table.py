"""Source adapter: long-format tables, one row per area x date x variable (CSV or XLSX).

Many offices publish their district statistics as one long table::

    Jahr;Raum;Merkmal;Wert
    2023;Stadt insgesamt;Einwohner;1.000
    2023;Nord;Einwohner;400
    2023;01;Einwohner;150
    ...

with the city's and the boroughs' rows mixed among the districts'. The profile
(``tables:`` entry with ``adapter: long_table``) names the area, variable and value
columns and where the date is: a ``date_column`` (a date, or a year meaning its
31 December) or ``ref_date`` (the date in the file name, or a fixed date). Areas are
codes, or names translated by an ``id_map``; ``city_codes`` are the values that stand for
the whole city. Rows of coarser areas are kept: the build compares them with the sum of
their parts (etl/transform/counts.py, reconciliation) instead of dropping them.

Output: tidy observations as :mod:`etl.sources.area_table` gives them, one row per area,
date and mapped variable, with file line numbers; ``column`` is the variable, and
``area_name`` the ``name_column`` (names of areas no boundary file names). With
``value_columns`` the table has one row per area (and date) and one column per variable.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd

from etl.errors import InputError
from etl.profile import LongTable
from etl.sources import area_table, id_map, json_table
from etl.sources.area_table import OBSERVATION_COLUMNS, number_pattern, ref_date_of
from etl.sources.value_flags import symbols
from etl.sources.xlsx_header import JOIN

YEAR = re.compile(r"^(\d{4})(?:\.0)?$")
ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00:00)?$")
GERMAN = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


def read(path: Path, table: LongTable, variables: list[str], root_id: str) -> pd.DataFrame:
    """Tidy observations of the mapped ``variables`` in ``path``; city rows get ``root_id``."""
    read = _table_rows(path, table)
    variable_columns = _as_list(table.variable_column or [])
    wide = _wide_columns(path, table, read[0], variables)
    needed = [table.area_column, *variable_columns, *wide, table.date_column, table.name_column]
    needed += [] if table.value_columns else [table.value_column]
    frame = _frame(path, table, read, [c for c in needed if c])
    if table.value_columns:  # wide rows -> one row per variable
        keep = [c for c in [table.area_column, table.date_column, table.name_column] if c]
        keep += ["json_path"] if "json_path" in frame else []
        frame = frame[[*dict.fromkeys(keep), "line", *wide]].melt(
            id_vars=[*dict.fromkeys(keep), "line"], var_name="variable", value_name="_value"
        )
        frame = frame.sort_values(["line", "variable"], kind="stable").reset_index(drop=True)
        if "json_path" in frame:  # the path of each value: its record's, then its key
            frame["json_path"] += "[" + frame["variable"].map(json_table.key) + "]"
        if table.date_in_column:  # "Einwohner | 2023" -> variable, date
            split = frame["variable"].map(by_date)
            frame["variable"], frame["_date"] = split.str[0], split.str[1]
    else:
        frame["variable"] = frame[variable_columns].apply(
            lambda row: " | ".join(str(v).strip() for v in row), axis=1
        )
        frame["_value"] = frame[table.value_column]
    frame = frame[frame["variable"].isin(variables)].copy()
    _no_shares(path, frame, table)
    frame["area_id"] = _areas(path, frame, table, root_id)
    frame["ref_date"] = _dates(path, frame, table)
    frame["value"], frame["flag"] = _values(path, frame, table)
    _check_unique(path, frame, table)
    # the cell's column; a JSON value's path (messages of later checks name it)
    cell = frame["json_path"] if "json_path" in frame else frame["variable"]
    out = frame.assign(dims="", unit="", column=cell)
    names = frame[table.name_column].astype(str).str.strip() if table.name_column else None
    out = out.assign(area_name=names)
    return out[[*OBSERVATION_COLUMNS, "area_name"]]


SHARE = re.compile(r"anteil|quote|prozent|%|share|percent", re.IGNORECASE)


def _no_shares(path: Path, frame: pd.DataFrame, table: LongTable) -> None:
    """A share mapped as a count: an error. The monitor computes every share from counts,
    so that it can protect the counts (docs/DISCLOSURE.md), and never derives a count from
    a share (share × population is off by the share's rounding, enough to pass or fail a
    minimum count wrongly). A share the office published itself may be published as
    delivered: listed under ``rate_variables``, read by an ``observed`` indicator."""
    counted = ~frame["variable"].isin(table.rate_variables)
    shares = counted & frame["variable"].str.contains(SHARE)
    if shares.any():
        name = frame["variable"][shares].iloc[0]
        raise _error(
            path,
            frame,
            shares,
            f"Anteile ohne Zählwerte: '{name}' is a share, but the profile maps it as a "
            "count. The monitor computes shares from counts (numerator and base) so that it "
            "can protect them, and never derives counts from shares. Ask the office for the "
            "counts behind the share; or, for a share the office has published itself, list "
            "it under rate_variables and map it to a measure an 'observed' indicator reads "
            "(published as delivered, value only)",
            table.value_column or name,
        )


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _areas(path: Path, frame: pd.DataFrame, table: LongTable, root_id: str) -> pd.Series:
    codes = frame[table.area_column].astype(str).str.strip()
    empty = codes == ""
    if empty.any():
        raise _error(path, frame, empty, "empty area", table.area_column)
    city = codes.isin(table.city_codes)
    codes = codes.where(~city, root_id)
    if table.id_map is not None:
        named = frame.assign(**{table.area_column: codes})
        codes = id_map.codes_for(path, named, table.area_column, table.id_map, keep={root_id})
    return codes


def _dates(path: Path, frame: pd.DataFrame, table: LongTable) -> pd.Series:
    column = "_date" if table.date_in_column else table.date_column
    if column is None:
        return pd.Series(ref_date_of(path, table.ref_date), index=frame.index, dtype=object)
    texts = frame[column].astype(str).str.strip()
    parsed = {text: parse_date(text) for text in texts.unique()}
    bad = [t for t, d in parsed.items() if d is None]
    if bad:
        where = "the column names ('<variable> | <year>')" if table.date_in_column else ""
        raise _error(
            path,
            frame,
            texts == bad[0],
            f"found '{bad[0]}', expected a year (2023, meaning 31 Dec) or a date "
            f"(2023-12-31 or 31.12.2023){' in ' + where if where else ''}",
            table.date_column or f"{frame['variable'][texts == bad[0]].iloc[0]}{JOIN}{bad[0]}",
        )
    return texts.map(parsed)


def _wide_columns(path: Path, table: LongTable, header: list[str], variables: list[str]):
    """The value columns to read; with ``date_in_column`` every column '<variable> |
    <year>' of a mapped variable (merged XLSX header cells, etl/sources/xlsx_header.py)."""
    if not table.date_in_column:
        return [c for c in table.value_columns if c in variables]
    wanted = [v for v in table.value_columns if v in variables]
    found = [c for c in header if by_date(c)[0] in wanted and by_date(c)[1]]
    missing = [v for v in wanted if not any(by_date(c)[0] == v for c in found)]
    if missing:
        raise InputError(
            path,
            f"no column '{missing[0]}{JOIN}<year>' (date_in_column: one column per variable "
            f"and year, e.g. '{missing[0]}{JOIN}2023'); found: {', '.join(header)}",
            line=table.header_row,
            column=missing[0],
        )
    return found


def by_date(column: str) -> tuple[str, str | None]:
    """``"Einwohner | 2023"`` -> ``("Einwohner", "2023")``; no ``" | "``: (column, None)."""
    variable, separator, when = column.rpartition(JOIN)
    return (variable, when) if separator else (column, None)


def parse_date(text: str) -> date | None:
    """A year (its 31 December), an ISO or a German date; None for anything else."""
    try:
        if match := YEAR.match(text):
            return date(int(match[1]), 12, 31)
        if match := ISO.match(text):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := GERMAN.match(text):
            return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        return None
    return None


def _values(path: Path, frame: pd.DataFrame, table: LongTable) -> tuple[pd.Series, pd.Series]:
    """Numbers (NaN where a value symbol stands) and flags of the value column."""
    text = frame["_value"].astype(str).str.strip()
    flags = text.map(symbols())
    pattern = number_pattern(table.decimal, table.thousands)
    bad = ~text.str.fullmatch(pattern).astype(bool) & flags.isna()
    _first(path, frame, text, bad, table, _expected(table))
    cleaned = text.where(flags.isna(), None)
    if table.thousands:
        cleaned = cleaned.str.replace(table.thousands, "", regex=False)
    values = pd.to_numeric(cleaned.str.replace(table.decimal, ".", regex=False)).astype("float64")
    _first(path, frame, text, values < 0, table, "expected a count, found a negative number")
    counts = ~frame["variable"].isin(table.rate_variables)
    fraction = counts & values.notna() & (values % 1 != 0)
    _first(
        path,
        frame,
        text,
        fraction,
        table,
        "expected a count, a whole number (variables with rates or averages are listed "
        "under rate_variables in the profile)",
    )
    return values, flags


def _expected(table: LongTable) -> str:
    grouped = f" or 1{table.thousands}480" if table.thousands else ""
    return (
        f"expected a number such as 1480{grouped} (decimal sign '{table.decimal}') or a "
        "value symbol such as '.' or '-'"
        + ("" if table.thousands else "; thousands separators need 'thousands:' in the profile")
    )


def _first(
    path: Path, frame: pd.DataFrame, text: pd.Series, bad: pd.Series, table: LongTable, why: str
) -> None:
    if bad.any():
        at = bad.to_numpy().nonzero()[0][0]
        raise _error(
            path,
            frame,
            bad,
            f"found '{text.iat[at]}' for '{frame['variable'].iat[at]}', {why}",
            table.value_column or str(frame["variable"].iat[at]),
        )


def _check_unique(path: Path, frame: pd.DataFrame, table: LongTable) -> None:
    keys = ["area_id", "ref_date", "variable"]
    dup = frame.duplicated(keys, keep=False)
    if dup.any():
        first = frame[dup].iloc[0]
        same = frame[dup & (frame[keys] == first[keys]).all(axis=1)]["line"].tolist()
        if "json_path" in frame:
            paths = frame[dup & (frame[keys] == first[keys]).all(axis=1)]["json_path"].tolist()
            raise InputError(
                path,
                f"area '{first['area_id']}', {first['ref_date']}, '{first['variable']}' occurs "
                f"twice (at {paths[0]} and {paths[1]}); expected one value per area, date and "
                "variable",
            )
        raise InputError(
            path,
            f"area '{first['area_id']}', {first['ref_date']}, '{first['variable']}' occurs "
            f"twice (lines {same[0]} and {same[1]}); expected one row per area, date and "
            "variable",
            line=int(same[1]),
            column=table.area_column,
        )


def ref_dates(path: Path, table: LongTable) -> list[date]:
    """The reference dates a delivered file holds (``imon refresh``): those of its date
    column, or the one of its name or the profile."""
    if table.date_in_column:
        header = _table_rows(path, table)[0]
        dates = {parse_date(by_date(c)[1]) for c in header if by_date(c)[0] in table.value_columns}
        return sorted(d for d in dates if d is not None)
    if table.date_column is None:
        return [ref_date_of(path, table.ref_date)]
    read = _table_rows(path, table)
    return sorted(set(_dates(path, _frame(path, table, read, [table.date_column]), table)))


def _table_rows(path: Path, table: LongTable) -> tuple:
    """Header, rows, the first row's line and (JSON only) each row's JSON path."""
    if path.suffix.lower() == ".json":
        value_column = table.value_column or "Wert"
        header, rows, paths = json_table.read(
            path, table.json_keys, table.json_root, value_column, table.encoding
        )
        return header, rows, 1, paths
    return (*area_table._rows(path, table), None)  # noqa: SLF001 - same reader


def _error(
    path: Path, frame: pd.DataFrame, bad: pd.Series, message: str, column: str
) -> InputError:
    """The error for the first ``bad`` row: at its file line, or at its JSON path."""
    at = bad.to_numpy().nonzero()[0][0]
    if "json_path" in frame:
        return InputError(path, f"at {frame['json_path'].iat[at]}: {message}")
    return InputError(path, message, line=int(frame["line"].iat[at]), column=column)


def _frame(path: Path, table: LongTable, read: tuple, needed: list[str]) -> pd.DataFrame:
    """The rows as text with their file line, after checking the ``needed`` columns."""
    header, rows, first_line, paths = read
    missing = [c for c in needed if c not in header]
    if missing:
        raise InputError(
            path,
            f"missing column '{missing[0]}' (the profile's table '{table.id}' needs it; "
            f"found: {', '.join(header)})",
            line=table.header_row if paths is None else None,
            column=missing[0],
        )
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    frame["line"] = range(first_line, first_line + len(frame))
    if paths is not None:
        frame["json_path"] = paths
    return frame
