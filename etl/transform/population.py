"""Person-level staging -> aggregated population counts (finest area level).

The migration-background rules live in ``migration.sql`` (set-based, one statement);
this module only runs it and adds the counts of one reference date to ``population``,
each with the sum of its persons' record keys (``key_sum``; the cell-key method,
:mod:`etl.protect.cellkey`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from etl.profile import CellKey
from etl.protect.cellkey import RECORD_KEY_SQL, resolve_secret

HERE = Path(__file__).parent
MIGRATION_FILE = HERE / "migration.sql"
AGE_GROUPS_CSV = HERE / "age_groups.csv"
COUNTRIES_CSV = HERE / "countries.csv"
DEFINITION_ID = "register_migrapro"


def load_code_lists(con: duckdb.DuckDBPyConnection) -> None:
    """Create the TEMP tables ``countries`` and ``age_groups`` from the CSV code lists."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE countries AS SELECT * FROM read_csv(?, delim = ';', "
        "header = true, columns = {'code': 'VARCHAR', 'name_de': 'VARCHAR', "
        "'name_en': 'VARCHAR', 'region': 'VARCHAR', 'eu_from': 'DATE', 'eu_to': 'DATE'})",
        [str(COUNTRIES_CSV)],
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE age_groups AS SELECT * FROM read_csv(?, delim = ';', "
        "header = true, columns = {'age_group': 'VARCHAR', 'min_age': 'INTEGER', "
        "'max_age': 'INTEGER'})",
        [str(AGE_GROUPS_CSV)],
    )


def aggregate_persons(
    con: duckdb.DuckDBPyConnection, ref_date: date, secret: str | None = None
) -> int:
    """Derive migration status for ``stg_persons`` and append counts to ``population``.

    ``key_sum`` is the sum of the record keys of the row's persons, keyed with ``secret``
    (None: :func:`etl.protect.cellkey.resolve_secret` of the default parameters, i.e.
    ``$IMON_CELL_KEY_SECRET`` or the default secret). Returns the number of persons
    counted (equals the staged rows; checked by the caller).
    """
    migration = MIGRATION_FILE.read_text(encoding="utf-8")
    con.execute(migration.replace("{ref_date}", ref_date.isoformat()))
    con.execute(
        f"""
        INSERT INTO population
        SELECT $ref_date::DATE, area_id, sex, age_group, citizenship, migration_status,
               migration_background, origin_region, $definition, count(*),
               sum({RECORD_KEY_SQL})
        FROM persons_mb
        GROUP BY ALL
        """,
        {
            "ref_date": ref_date,
            "definition": DEFINITION_ID,
            "cell_key_secret": resolve_secret(CellKey()) if secret is None else secret,
        },
    )
    counted = con.execute(
        "SELECT coalesce(sum(count), 0) FROM population WHERE ref_date = ? AND definition_id = ?",
        [ref_date, DEFINITION_ID],
    ).fetchall()[0][0]
    con.execute("DROP VIEW persons_mb")
    con.execute("DROP TABLE stg_persons")
    return counted
