"""The build's goals stage: the integration office's project workbooks (raw files below
``goals.files``) → ``project_values`` in the internal warehouse → protected
``project_values`` in the publication.

*Protection.* A project indicator of measure ``persons`` counts people (participants,
staff with migration background): its values follow the instance's disclosure rules for
counts — a value from 1 to ``min_count − 1`` is withheld (value NULL, flag
``suppressed``), and with ``disclosure.rounding`` every published person count is
rounded half up to the base. The cell-key method needs person records, which aggregates
reported by an office do not have, so there only the minimum-count rule applies. Other
measures (numbers of clubs or trainings, milestones, percentages) count no people and are
published as delivered. No other published table is derived from these values.

*Counts that add up.* The person counts of one goal may be a total and its parts
(participants; with and without migration background): publishing the others would give
a withheld part away by subtraction. So a withheld person count withholds every other
person count of its goal on that date too, unless the indicator is declared
``project: {independent: true}`` (no total or part of another count of its goal; then
nothing else is withheld for it). Counts that add up must therefore be indicators of the
same goal.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from etl.errors import ConfigError, InputError
from etl.goals import load, workbook
from etl.goals.model import Goals
from etl.profile import Profile

SUPPRESSED = "suppressed"
TABLE = "project_values"
JUMP_FACTOR = 3  # plausibility report: a count above this many times its previous value
META_KEY = "goals_definition"

_PUBLISH_SQL = f"""
CREATE TABLE pub.{TABLE} AS
WITH rules AS (
    SELECT v.*, g.goal_id, coalesce(g.independent, false) AS independent,
           v.measure = 'persons' AND v.value > 0 AND v.value < $min_count AS small
    FROM main.{TABLE} AS v
    LEFT JOIN goal_of AS g USING (indicator_id)
), grouped AS (  -- a withheld count withholds its goal's other dependent person counts
    SELECT *,
           small OR (measure = 'persons' AND NOT independent
                     AND bool_or(small AND NOT independent)
                         OVER (PARTITION BY goal_id, ref_date)) AS withheld
    FROM rules
)
SELECT indicator_id, ref_date,
       CASE WHEN withheld THEN NULL
            WHEN measure = 'persons' AND $base > 0
                THEN floor((value + $base / 2) / $base) * $base
            ELSE value END AS value,
       CASE WHEN withheld THEN '{SUPPRESSED}' END AS flag
FROM grouped
ORDER BY indicator_id, ref_date
"""


def workbook_files(profile: Profile) -> list[Path]:
    """The raw project workbooks of the instance (none without ``goals:``)."""
    if profile.goals is None:
        return []
    return sorted(p for p in profile.raw_dir.glob(profile.goals.files) if p.is_file())


def stage(con: duckdb.DuckDBPyConnection, profile: Profile, goals: Goals) -> list[tuple]:
    """Read every raw workbook into the internal ``project_values``; the loads rows
    (source, path, rows, reference date) for lineage. Nothing without workbooks."""
    files = workbook_files(profile)
    if not files:
        return []
    measures = {i.id: i.project.measure for i in goals.project_indicators()}
    rows, loads, seen = [], [], {}
    for path in files:
        found = workbook.read(path, goals)
        for row in found:
            key = (row.indicator_id, row.ref_date)
            if key in seen:
                raise InputError(
                    path,
                    f"sheet '{row.sheet}': '{row.indicator_id}' on "
                    f"{row.ref_date.strftime('%d.%m.%Y')} is also delivered in {seen[key]}",
                    line=row.row,
                )
            seen[key] = path.name
        rows += [
            (
                r.indicator_id,
                r.ref_date,
                r.value,
                measures[r.indicator_id],
                path.name,
                r.sheet,
                r.row,
            )
            for r in found
        ]
        loads.append(("goals", path, len(found), None))
    con.execute(
        f"CREATE TABLE {TABLE} (indicator_id VARCHAR NOT NULL, ref_date DATE NOT NULL, "
        "value DOUBLE NOT NULL, measure VARCHAR NOT NULL, file VARCHAR NOT NULL, "
        "sheet VARCHAR NOT NULL, row_number INTEGER NOT NULL, "
        "PRIMARY KEY (indicator_id, ref_date))"
    )
    if rows:
        con.executemany(f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    return loads


def publish(con: duckdb.DuckDBPyConnection, path: Path, profile: Profile) -> None:
    """Write the goals (``meta`` key :data:`META_KEY`, JSON of the validated goals.yaml:
    pages and reports read the goals of the snapshot they show) and the protected project
    values into the publication at ``path``."""
    if profile.goals is None:
        return
    goals = load(profile)
    _check_monitor_values(con, goals)
    definition = goals.model_dump_json(exclude={"path"})
    with _attached(con, path):
        con.execute("INSERT INTO pub.meta VALUES (?, ?)", [META_KEY, definition])
    staged = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND database_name = "
        "current_database()",
        [TABLE],
    ).fetchone()[0]
    if not staged:
        return
    con.execute(
        "CREATE OR REPLACE TEMP TABLE goal_of "
        "(indicator_id VARCHAR, goal_id VARCHAR, independent BOOLEAN)"
    )
    con.executemany(
        "INSERT INTO goal_of VALUES (?, ?, ?)",
        [(i.id, g.id, i.project.independent) for _, g, i in goals.indicators() if i.project],
    )
    rules = profile.disclosure
    with _attached(con, path):
        con.execute(_PUBLISH_SQL, {"min_count": rules.min_count, "base": rules.rounding or 0})


def _check_monitor_values(con: duckdb.DuckDBPyConnection, goals: Goals) -> None:
    """Every monitor indicator of the goals has values at its area and level in this
    instance (else the goal could never be assessed): a :class:`ConfigError` naming the
    goal, the indicator and the field."""
    for _, goal, ind in goals.indicators():
        ref = ind.monitor
        if ref is None:
            continue
        found = con.execute(
            "SELECT count(*) FROM indicator_values "
            "WHERE indicator_id = ? AND area_id = ? AND level = ?",
            [ref.indicator, ref.area, ref.level],
        ).fetchone()[0]
        if not found:
            raise ConfigError(
                f"{goals.path}: goal '{goal.id}', indicator '{ind.id}', field 'monitor.area': "
                f"no value of '{ref.indicator}' for area '{ref.area}' at level '{ref.level}' "
                "in this instance"
            )


@contextmanager
def _attached(con: duckdb.DuckDBPyConnection, path: Path) -> Iterator[None]:
    con.execute(f"ATTACH '{str(path).replace(chr(39), chr(39) * 2)}' AS pub")
    try:
        yield
    finally:
        con.execute("DETACH pub")


_JUMPS_SQL = f"""
WITH v AS (
    SELECT indicator_id, ref_date, value,
           lag(value) OVER w AS previous, lag(ref_date) OVER w AS previous_date
    FROM new.{TABLE}
    WHERE measure IN ('persons', 'number')
    WINDOW w AS (PARTITION BY indicator_id ORDER BY ref_date)
)
SELECT indicator_id, CAST(ref_date AS VARCHAR), value, CAST(previous_date AS VARCHAR),
       previous, round(value / previous, 1)
FROM v
WHERE previous > 0 AND value > $factor * previous
ORDER BY indicator_id, ref_date
"""


def jumps(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Project counts above :data:`JUMP_FACTOR` times the previous delivered value (e.g.
    participants), in the staged warehouse attached as ``new`` (plausibility report):
    (indicator, date, value, previous date, previous value, factor)."""
    staged = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'new' AND table_name = ?",
        [TABLE],
    ).fetchone()[0]
    return con.execute(_JUMPS_SQL, {"factor": JUMP_FACTOR}).fetchall() if staged else []
