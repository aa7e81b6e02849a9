"""Reconciliation: the office's totals of coarser areas against the sum of their parts.

A long table (etl/sources/long_table.py) carries the city's and the boroughs' own rows
beside the districts'. They are not data (every coarser level is the sum of the finest
one) but checks: :func:`reconcile` lists every coarser area, date and variable whose
office total differs from the sum of its finest areas, with both numbers, so a build never
publishes a city total that differs from the office's without a word.

With ``unassigned: <label>`` in the table's profile entry, :func:`add_unassigned` turns
each positive difference into a unit of residents not assigned to a finer area (code: the
coarser code padded with ``X``, e.g. ``2XX`` in borough ``2``; ``XXX`` for the city's
remainder), so published coarser totals equal the office's. Such a unit has no boundary;
it counts in every sum and in the indices over its level.

An area without a row of its own counts as 0 under ``absent_units: zero``; if its coarser
area's office total is larger than the sum of the rows, its residents may be in that
total, so the build stops instead of publishing 0.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from etl.errors import JSON_ROOT, InputError, located
from etl.profile import CodeHierarchyGeography, LongTable, Profile

UNASSIGNED = "unassigned"  # the unit of a staged row made by add_unassigned

DIFFERENCES_SQL = """
WITH office AS (
    SELECT o.source_id, o.ref_date, o.area_id, a.name, a.level, a.vintage, o.variable,
           o.value, o.file, o.line, o."column"
    FROM stg_observations AS o
    INNER JOIN areas AS a
        ON a.area_id = o.area_id
       AND o.ref_date BETWEEN a.valid_from AND coalesce(a.valid_to, DATE '9999-12-31')
    WHERE list_contains($sources, o.source_id) AND a.level <> $finest AND o.value IS NOT NULL
),

parts AS (
    SELECT f.source_id, f.ref_date, c.area_id, c.vintage, f.variable,
           sum(f.value) AS value, count(*) AS n, count(f.flag) AS flagged
    FROM stg_observations AS f
    INNER JOIN areas AS fa
        ON fa.area_id = f.area_id AND fa.level = $finest
       AND f.ref_date BETWEEN fa.valid_from AND coalesce(fa.valid_to, DATE '9999-12-31')
    INNER JOIN area_closure AS c ON c.member_id = f.area_id AND c.vintage = fa.vintage
    WHERE list_contains($sources, f.source_id)
    GROUP BY ALL
),

final AS (
    SELECT o.source_id, o.ref_date, o.area_id, o.name, o.level, o.variable, o.value,
           coalesce(p.value, 0) AS parts, coalesce(p.n, 0) AS n, o.file, o.line, o.vintage,
           o."column"
    FROM office AS o
    LEFT JOIN parts AS p USING (source_id, ref_date, area_id, vintage, variable)
    WHERE coalesce(p.flagged, 0) = 0 AND abs(o.value - coalesce(p.value, 0)) > 1e-9
)

SELECT * FROM final ORDER BY source_id, ref_date, file, line
"""

ABSENT_SQL = """
SELECT c.member_id FROM area_closure AS c
INNER JOIN areas AS a ON a.area_id = c.member_id AND a.vintage = c.vintage
WHERE c.area_id = $area AND c.vintage = $vintage AND c.member_id <> c.area_id
  AND NOT EXISTS (SELECT 1 FROM stg_observations AS s
                  WHERE s.area_id = c.member_id AND s.ref_date = $ref_date)
ORDER BY 1
"""


def reconcile(con: duckdb.DuckDBPyConnection, profile: Profile) -> list[str]:
    """One warning per long table listing every coarser total that differs from the sum
    of its parts; an error where ``absent_units: zero`` would hide residents."""
    sources = [t.id for t in profile.tables if isinstance(t, LongTable)]
    if not sources:
        return []
    rows = con.execute(
        DIFFERENCES_SQL, {"sources": sources, "finest": profile.level_ids()[-1]}
    ).fetchall()
    _absent_inside(con, profile, rows)
    warnings = _declared(con, sources)
    for source in sources:
        mine = [r for r in rows if r[0] == source]
        if mine:
            warnings.append(
                f"table '{source}': {len(mine)} office total(s) of coarser areas differ from "
                "the sum of their parts (published: the sum) — "
                + "; ".join(_difference(r) for r in mine)
            )
    return warnings


def _difference(row: tuple) -> str:
    _, ref_date, area, name, level, variable, office, parts, n, file, line, _, column = row
    at = located(Path(file).name, line, column if column.startswith(JSON_ROOT) else None)
    return (
        f"{ref_date} {level} {name} ({area}) '{variable}': office {office:g}, sum of "
        f"{n} part(s) {parts:g}, difference {office - parts:+g} ({at.replace(',', '', 1)})"
    )


def _absent_inside(con: duckdb.DuckDBPyConnection, profile: Profile, rows: list[tuple]) -> None:
    if getattr(profile.geography, "absent_units", "error") != "zero":
        return
    for row in rows:
        source, ref_date, area, name, level, variable, office, parts, _, file, line, vintage = row[
            :12
        ]
        if office <= parts:
            continue
        params = {"area": area, "vintage": vintage, "ref_date": ref_date}
        absent = [r[0] for r in con.execute(ABSENT_SQL, params).fetchall()]
        if absent:
            raise InputError(
                Path(file),
                f"area(s) {', '.join(absent)} have no row on {ref_date} and would count as 0 "
                f"(absent_units: zero), but the office total of {level} {name} ({area}) "
                f"'{variable}' is {office:g}, {office - parts:g} more than the sum of its "
                f"rows ({parts:g}): their residents may be in it; give them rows, or remove "
                "absent_units: zero",
                line=line,
                column=row[12] if row[12].startswith(JSON_ROOT) else None,
            )


def add_unassigned(con: duckdb.DuckDBPyConnection, profile: Profile) -> None:
    """Stage a unit of unassigned residents for every positive difference between a
    coarser office total and its parts in tables with ``unassigned`` (see module doc)."""
    geo = profile.geography
    if not isinstance(geo, CodeHierarchyGeography):
        return
    finest = geo.code_lengths[profile.level_ids()[-1]]
    for table in profile.tables:
        if not isinstance(table, LongTable) or table.unassigned is None:
            continue
        staged = con.execute("SELECT * FROM stg_observations WHERE source_id = ?", [table.id]).df()
        names = dict(con.execute("SELECT area_id, name FROM stg_area_names").fetchall())
        groups = [g for _, g in staged.groupby(["ref_date", "variable"])]
        new = [
            row
            for group in groups
            if group["value"].notna().all()
            for row in _remainders(group, geo.root.id, finest)
        ]
        if not new:
            continue
        new += _zeros(groups, new)
        frame = pd.DataFrame(new)[list(staged.columns)]
        con.register("unassigned_rows", frame)
        con.execute("INSERT INTO stg_observations SELECT * FROM unassigned_rows")
        con.unregister("unassigned_rows")
        labels = {
            code[:length]: f"{table.unassigned} ({names.get(parent, parent)})"
            for code, parent in {(r["area_id"], r["parent"]) for r in new}
            for length in geo.code_lengths.values()
            if length > len(code.rstrip("X"))
        }
        con.executemany("INSERT INTO stg_area_names VALUES (?, ?)", list(labels.items()))


def _remainders(group: pd.DataFrame, root: str, finest: int) -> list[dict]:
    """Rows of unassigned residents of one date and variable: finest codes first, then
    each coarser total minus its rows and the remainders already made inside it."""
    fine = group[(group["area_id"].str.len() == finest) & (group["area_id"] != root)]
    coarse = group[(group["area_id"].str.len() < finest) | (group["area_id"] == root)]
    order = sorted(
        coarse.to_dict("records"),
        key=lambda r: -1 if r["area_id"] == root else len(r["area_id"]),
        reverse=True,
    )
    made: dict[str, dict] = {}
    for row in order:
        prefix = "" if row["area_id"] == root else row["area_id"]
        inside = fine.loc[fine["area_id"].str.startswith(prefix), "value"].sum()
        inside += sum(r["value"] for c, r in made.items() if c.startswith(prefix))
        if row["value"] - inside > 1e-9:
            code = prefix + "X" * (finest - len(prefix))
            made[code] = row | {
                "area_id": code, "value": row["value"] - inside, "unit": UNASSIGNED,
                "parent": row["area_id"],
            }  # fmt: skip
    return list(made.values())


def _zeros(groups: list[pd.DataFrame], made: list[dict]) -> list[dict]:
    """A unit of unassigned residents is 0 on the dates and variables without a
    difference (every area has a row on every date)."""
    units = {(r["area_id"], r["parent"]) for r in made}
    have = {(r["area_id"], r["ref_date"], r["variable"]) for r in made}
    zeros = []
    for group in groups:
        parents = {r["area_id"]: r for r in group.to_dict("records")}
        for code, parent in units:
            row = parents.get(parent)
            if row and (code, row["ref_date"], row["variable"]) not in have:
                zeros.append(
                    row | {"area_id": code, "value": 0.0, "unit": UNASSIGNED, "parent": parent}
                )
    return zeros


def _declared(con: duckdb.DuckDBPyConnection, sources: list[str]) -> list[str]:
    rows = con.execute(
        "SELECT source_id, ref_date, area_id, variable, value FROM stg_observations "
        "WHERE unit = ? AND list_contains(?, source_id) AND value > 0 ORDER BY ALL",
        [UNASSIGNED, sources],
    ).fetchall()
    by_source: dict[str, list[str]] = {}
    for source, ref_date, area, variable, value in rows:
        by_source.setdefault(source, []).append(f"{ref_date} {area} '{variable}' {value:g}")
    return [
        f"table '{source}': residents not assigned to a finer area (unassigned) — "
        + "; ".join(items)
        for source, items in by_source.items()
    ]
