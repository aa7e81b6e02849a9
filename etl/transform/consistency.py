"""Consistency of the statistics-office tables across tables and time (profile section
``consistency``; each check stops the build, or with ``warn`` is listed in the build
output and the plausibility report).

* **Unknown areas** (:func:`unknown_areas`, code hierarchies): a finest-level code on a
  reference date must be in the vintage's finest-level boundary file, or have a row on an
  earlier date of the same vintage (a previous delivery), or be declared new with its
  parent (``consistency.new_areas``). A vintage without a finest-level boundary file takes
  the codes of its first date as its areas (the next check compares them across tables).
  Caught: Berlin planning area ``01100310`` typed ``01100399`` in one table, which was
  taken for a new area and counted twice in the city total.
* **Missing rows** (:func:`missing_rows`): every table that describes the same population
  (``consistency.same_population``; default: all tables of the profile) has a row for
  every finest-level area that any of them has on a date it delivers. One table without
  an area's row silently shifted city shares.
* **Totals**: two tables mapping a count to the same term describe the same population,
  and their counts must agree for every area and date (the ``conflict`` check of
  :mod:`etl.transform.counts`); ``consistency.totals: warn`` lists every disagreement
  instead (a table's own ``conflicts: warn`` does so for that table only).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from etl.errors import ConfigError, Finding, InputError
from etl.profile import CodeHierarchyGeography, Profile

MAX_LISTED = 8


def unknown_areas(
    profile: Profile, vintage: str, data: pd.DataFrame, bounded: set[str] | None
) -> list[str]:
    """Check the finest-level codes of one vintage's dates (``data``: ``area_id``,
    ``ref_date``, ``file``, ``line``, ``column``) against ``bounded`` (the codes of its
    finest-level boundary file, None if it has none), earlier dates and declared new areas.
    Returns warnings (``unknown_areas: warn``) or raises at the first unknown code."""
    declared = _declared(profile)
    known = set(bounded) if bounded is not None else None
    warnings = []
    for ref_date, rows in data.sort_values(["ref_date", "file", "line"]).groupby("ref_date"):
        codes = set(rows["area_id"])
        if known is None:
            known = codes
            continue
        new = {c for c, since in declared.items() if since <= ref_date}
        unknown = rows[~rows["area_id"].isin(known | new)]
        known |= codes
        if unknown.empty:
            continue
        first = unknown.iloc[0]
        message = (
            f"unknown area code '{first['area_id']}' on {ref_date}: not in the "
            + ("finest-level boundary file" if bounded is not None else "data")
            + f" of vintage '{vintage}' nor delivered on an earlier date; a mistyped code? "
            "A new area is declared in the profile: consistency.new_areas: "
            f"[{{id: '{first['area_id']}', parent: …, since: {ref_date}}}]"
        )
        if profile.consistency.unknown_areas == "error":
            raise InputError(
                Path(first["file"]), message, line=int(first["line"]), column=first["column"]
            )
        codes_listed = _listed(sorted(unknown["area_id"].unique()))
        warnings.append(
            Finding(f"{vintage}: {ref_date}: new area code(s) not declared: {codes_listed}")
        )
    return warnings


def _declared(profile: Profile) -> dict[str, date]:
    """Declared new finest-level areas -> first date; a parent that is not the code's
    prefix is a profile error."""
    geo = profile.geography
    if not profile.consistency.new_areas:
        return {}
    if not isinstance(geo, CodeHierarchyGeography):
        raise ConfigError(f"{profile.path}: consistency.new_areas needs a code_hierarchy geography")
    levels = profile.level_ids()
    finest = geo.code_lengths[levels[-1]]
    parent = geo.code_lengths.get(levels[-2], 0) if len(levels) > 2 else 0
    declared = {}
    for area in profile.consistency.new_areas:
        expected = area.id[:parent] if parent else geo.root.id
        if len(area.id) != finest or area.parent != expected:
            raise ConfigError(
                f"{profile.path}: consistency.new_areas: '{area.id}' with parent "
                f"'{area.parent}': expected a {finest}-digit code of level '{levels[-1]}' "
                f"whose parent is '{expected}'"
            )
        declared[area.id] = area.since
    return declared


def missing_rows(
    con: duckdb.DuckDBPyConnection, profile: Profile, finest: set[str] | None = None
) -> list[str]:
    """Every table of a population group has a row for every finest-level area any of
    them has on a date two or more of them deliver (``stg_observations``; finest areas:
    ``finest``, or for code hierarchies the codes of the finest length). Returns warnings
    (``missing_rows: warn``, one per group and date) or raises at the first difference."""
    groups = _groups(profile)
    if not groups:
        return []
    cells = _finest_cells(con, profile, finest)
    columns = {t.id: getattr(t, "area_column", None) for t in profile.tables}
    warnings = []
    for group in groups:
        rows = cells[cells["source_id"].isin(group)]
        for ref_date, frame in rows.groupby("ref_date"):
            tables = [t for t in group if t in set(frame["source_id"])]
            have = frame.groupby("area_id")["source_id"].agg(set)
            odd = have[have.map(len) < len(tables)]
            if len(tables) < 2 or odd.empty:
                continue
            # the area fewest tables have first; on a tie, the one in the later table
            first = min(
                odd.items(),
                key=lambda item: (len(item[1]), -max(map(tables.index, item[1])), item[0]),
            )
            file, line, message = _difference(frame, tables, ref_date, *first)
            if profile.consistency.missing_rows == "error":
                source = frame.loc[frame["file"] == file, "source_id"].iloc[0]
                raise InputError(Path(file), message, line=line, column=columns.get(source))
            more = f" (and {len(odd) - 1} more area(s))" if len(odd) > 1 else ""
            warnings.append(Finding(f"{Path(file).name}: {message}{more}"))
    return warnings


def _finest_cells(
    con: duckdb.DuckDBPyConnection, profile: Profile, finest: set[str] | None
) -> pd.DataFrame:
    """One row per table, date and finest-level area: its file and first line."""
    geo = profile.geography
    length = geo.code_lengths[profile.level_ids()[-1]] if finest is None else -1
    cells = con.execute(
        "SELECT source_id, ref_date, area_id, min(file) AS file, min(line) AS line "
        "FROM stg_observations WHERE ? < 0 OR length(area_id) = ? GROUP BY ALL "
        "ORDER BY ref_date, file, line",
        [length, length],
    ).df()
    if finest is not None:
        cells = cells[cells["area_id"].isin(finest)]
    return cells.assign(ref_date=pd.to_datetime(cells["ref_date"]).dt.date)


def _difference(
    frame: pd.DataFrame, tables: list[str], ref_date: date, area: str, have: set[str]
) -> tuple[str, int | None, str]:
    """File, line and message for an area only some tables have: at the row where fewer
    tables have it than lack it (a mistyped or extra code), else where it is missing."""
    lack = [t for t in tables if t not in have]
    rows = frame[frame["area_id"] == area]
    if len(have) <= len(lack):
        row = rows[rows["source_id"] == [t for t in tables if t in have][-1]].iloc[0]
        missing = sorted(
            set(frame.loc[frame["source_id"].isin(lack), "area_id"])
            - set(frame.loc[frame["source_id"] == row["source_id"], "area_id"])
        )
        hint = f"; table '{row['source_id']}' has no row for {_listed(missing)}" if missing else ""
        return (
            row["file"],
            int(row["line"]),
            f"area '{area}' on {ref_date} is in table '{row['source_id']}' but not in "
            f"{_tables(lack)}{hint} — a mistyped or extra code? Tables describing the "
            "same population must have the same areas (consistency.same_population)",
        )
    row = rows.iloc[0]
    file = frame.loc[frame["source_id"] == lack[0], "file"].iloc[0]
    return (
        file,
        None,
        f"no row for area '{area}' on {ref_date} in table '{lack[0]}', but "
        f"{_tables(sorted(have, key=tables.index))} ha{'s' if len(have) == 1 else 've'} one "
        f"({Path(row['file']).name} line {int(row['line'])}); tables describing the same "
        "population must have the same areas (consistency.same_population)",
    )


def _tables(ids: list[str]) -> str:
    return ("table " if len(ids) == 1 else "tables ") + ", ".join(f"'{t}'" for t in ids)


def _groups(profile: Profile) -> list[list[str]]:
    ids = [t.id for t in profile.tables]
    groups = profile.consistency.same_population
    if groups is None:
        return [ids] if len(ids) > 1 else []
    for group in groups:
        unknown = [t for t in group if t not in ids]
        if unknown:
            raise ConfigError(
                f"{profile.path}: consistency.same_population: unknown table "
                f"'{unknown[0]}' (tables: {', '.join(ids)})"
            )
    return [g for g in groups if len(g) > 1]


def _listed(codes: list[str]) -> str:
    more = f" … (+{len(codes) - MAX_LISTED})" if len(codes) > MAX_LISTED else ""
    return ", ".join(codes[:MAX_LISTED]) + more
