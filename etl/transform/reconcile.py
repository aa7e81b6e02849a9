"""Reconciliation: the office's totals of coarser areas against the sum of their parts.

A long table (etl/sources/long_table.py) carries the city's and the boroughs' own rows
beside the districts'. They are not data (every coarser level is the sum of the finest
one) but checks: :func:`reconcile` lists every coarser area, date and variable whose
office total differs from the sum of its finest areas, with both numbers, so a build never
publishes a city total that differs from the office's without a word.

An area without a row of its own counts as 0 under ``absent_units: zero``; if its coarser
area's office total is larger than the sum of the rows, its residents may be in that
total, so the build stops instead of publishing 0.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from etl.errors import InputError
from etl.profile import LongTable, Profile

DIFFERENCES_SQL = """
WITH office AS (
    SELECT o.source_id, o.ref_date, o.area_id, a.name, a.level, a.vintage, o.variable,
           o.value, o.file, o.line
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
           coalesce(p.value, 0) AS parts, coalesce(p.n, 0) AS n, o.file, o.line, o.vintage
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
    warnings = []
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
    _, ref_date, area, name, level, variable, office, parts, n, file, line, _ = row
    return (
        f"{ref_date} {level} {name} ({area}) '{variable}': office {office:g}, sum of "
        f"{n} part(s) {parts:g}, difference {office - parts:+g} ({Path(file).name} line {line})"
    )


def _absent_inside(con: duckdb.DuckDBPyConnection, profile: Profile, rows: list[tuple]) -> None:
    if getattr(profile.geography, "absent_units", "error") != "zero":
        return
    for row in rows:
        source, ref_date, area, name, level, variable, office, parts, _, file, line, vintage = row
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
            )
