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
from etl.sources import area_table, id_map
from etl.sources.area_table import OBSERVATION_COLUMNS, number_pattern, ref_date_of
from etl.sources.value_flags import symbols

YEAR = re.compile(r"^(\d{4})(?:\.0)?$")
ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00:00)?$")
GERMAN = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


def read(path: Path, table: LongTable, variables: list[str], root_id: str) -> pd.DataFrame:
    """Tidy observations of the mapped ``variables`` in ``path``; city rows get ``root_id``."""
    header, rows, first_line = area_table._rows(path, table)  # noqa: SLF001 - same reader
    variable_columns = _as_list(table.variable_column or [])
    wide = [c for c in table.value_columns if c in variables]
    needed = [table.area_column, *variable_columns, *wide, table.date_column, table.name_column]
    needed += [] if table.value_columns else [table.value_column]
    frame = _frame(path, table, (header, rows, first_line), [c for c in needed if c])
    if table.value_columns:  # wide rows -> one row per variable
        keep = [c for c in [table.area_column, table.date_column, table.name_column] if c]
        frame = frame[[*dict.fromkeys(keep), "line", *wide]].melt(
            id_vars=[*dict.fromkeys(keep), "line"], var_name="variable", value_name="_value"
        )
        frame = frame.sort_values(["line", "variable"], kind="stable").reset_index(drop=True)
    else:
        frame["variable"] = frame[variable_columns].apply(
            lambda row: " | ".join(str(v).strip() for v in row), axis=1
        )
        frame["_value"] = frame[table.value_column]
    frame = frame[frame["variable"].isin(variables)].copy()
    frame["area_id"] = _areas(path, frame, table, root_id)
    frame["ref_date"] = _dates(path, frame, table)
    frame["value"], frame["flag"] = _values(path, frame, table)
    _check_unique(path, frame, table)
    out = frame.assign(dims="", unit="", column=frame["variable"])
    names = frame[table.name_column].astype(str).str.strip() if table.name_column else None
    out = out.assign(area_name=names)
    return out[[*OBSERVATION_COLUMNS, "area_name"]]


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _areas(path: Path, frame: pd.DataFrame, table: LongTable, root_id: str) -> pd.Series:
    codes = frame[table.area_column].astype(str).str.strip()
    empty = codes == ""
    if empty.any():
        raise InputError(
            path, "empty area", line=int(frame["line"][empty].iloc[0]), column=table.area_column
        )
    city = codes.isin(table.city_codes)
    codes = codes.where(~city, root_id)
    if table.id_map is not None:
        named = frame.assign(**{table.area_column: codes})
        codes = id_map.codes_for(path, named, table.area_column, table.id_map, keep={root_id})
    return codes


def _dates(path: Path, frame: pd.DataFrame, table: LongTable) -> pd.Series:
    if table.date_column is None:
        return pd.Series(ref_date_of(path, table.ref_date), index=frame.index, dtype=object)
    parsed = {}
    for text in frame[table.date_column].astype(str).str.strip().unique():
        parsed[text] = _date(text)
    bad = [t for t, d in parsed.items() if d is None]
    if bad:
        at = frame[frame[table.date_column].astype(str).str.strip() == bad[0]].iloc[0]
        raise InputError(
            path,
            f"found '{bad[0]}', expected a year (2023, meaning 31 Dec) or a date "
            "(2023-12-31 or 31.12.2023)",
            line=int(at["line"]),
            column=table.date_column,
        )
    return frame[table.date_column].astype(str).str.strip().map(parsed)


def _date(text: str) -> date | None:
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
        raise InputError(
            path,
            f"found '{text.iat[at]}' for '{frame['variable'].iat[at]}', {why}",
            line=int(frame["line"].iat[at]),
            column=table.value_column or str(frame["variable"].iat[at]),
        )


def _check_unique(path: Path, frame: pd.DataFrame, table: LongTable) -> None:
    keys = ["area_id", "ref_date", "variable"]
    dup = frame.duplicated(keys, keep=False)
    if dup.any():
        first = frame[dup].iloc[0]
        same = frame[dup & (frame[keys] == first[keys]).all(axis=1)]["line"].tolist()
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
    if table.date_column is None:
        return [ref_date_of(path, table.ref_date)]
    read = area_table._rows(path, table)  # noqa: SLF001 - same reader
    return sorted(set(_dates(path, _frame(path, table, read, [table.date_column]), table)))


def _frame(path: Path, table: LongTable, read: tuple, needed: list[str]) -> pd.DataFrame:
    """The rows as text with their file line, after checking the ``needed`` columns."""
    header, rows, first_line = read
    missing = [c for c in needed if c not in header]
    if missing:
        raise InputError(
            path,
            f"missing column '{missing[0]}' (the profile's table '{table.id}' needs it; "
            f"found: {', '.join(header)})",
            line=table.header_row,
            column=missing[0],
        )
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    frame["line"] = range(first_line, first_line + len(frame))
    return frame
