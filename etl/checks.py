"""Contract checks on a built warehouse, run before anything is published.

Each check is one SQL query returning offending rows (empty = fine); the build stops with
:class:`CheckError` listing the first offenders of every failed check.
"""

from __future__ import annotations

import duckdb

from etl.errors import CheckError

CHECKS: dict[str, str] = {
    "population counts are positive": """
        SELECT ref_date, area_id, count FROM population WHERE count <= 0
    """,
    "population areas are finest-level areas valid on the reference date": """
        SELECT DISTINCT p.ref_date, p.area_id FROM population AS p
        WHERE NOT EXISTS (
            SELECT 1 FROM areas AS a
            WHERE a.area_id = p.area_id AND a.level = $finest
              AND p.ref_date BETWEEN a.valid_from AND coalesce(a.valid_to, DATE '9999-12-31'))
    """,
    "population of every area equals the sum of its child areas": """
        WITH v AS (
            SELECT ref_date, area_id, value FROM indicator_values
            WHERE indicator_id = 'population' AND flag IS NULL
        ),
        kids AS (
            SELECT v.ref_date, a.parent_id, sum(v.value) AS children
            FROM v INNER JOIN areas AS a ON a.area_id = v.area_id
             AND v.ref_date BETWEEN a.valid_from AND coalesce(a.valid_to, DATE '9999-12-31')
            WHERE a.parent_id IS NOT NULL
            GROUP BY ALL
        )
        SELECT k.ref_date, k.parent_id, k.children, v.value
        FROM kids AS k INNER JOIN v ON v.ref_date = k.ref_date AND v.area_id = k.parent_id
        WHERE k.children <> v.value
    """,
    "population of the top level equals all persons counted": """
        SELECT v.ref_date, v.value, p.persons FROM indicator_values AS v
        INNER JOIN areas AS a ON a.area_id = v.area_id AND a.parent_id IS NULL
        INNER JOIN (SELECT ref_date, sum(count) AS persons FROM population GROUP BY ALL) AS p
            ON p.ref_date = v.ref_date
        WHERE v.indicator_id = 'population' AND v.value <> p.persons
    """,
    "shares lie within 0 to 100 %": """
        SELECT v.indicator_id, v.ref_date, v.area_id, v.value FROM indicator_values AS v
        INNER JOIN indicators AS i USING (indicator_id)
        WHERE i.function = 'share' AND NOT (v.value BETWEEN 0 AND 100)
    """,
    "segregation indices lie within 0 to 1": """
        SELECT v.indicator_id, v.ref_date, v.level, v.value FROM indicator_values AS v
        INNER JOIN indicators AS i USING (indicator_id)
        WHERE i.function IN ('segregation_is', 'dissimilarity', 'isolation', 'exposure',
                             'entropy', 'gini') AND NOT (v.value BETWEEN 0 AND 1)
    """,
    "every indicator has values for every reference date": """
        SELECT i.indicator_id, d.ref_date FROM indicators AS i
        CROSS JOIN (SELECT DISTINCT ref_date FROM population) AS d
        WHERE NOT EXISTS (SELECT 1 FROM indicator_values AS v
                          WHERE v.indicator_id = i.indicator_id AND v.ref_date = d.ref_date)
    """,
    "suppressed and undefined values carry no value": """
        SELECT indicator_id, ref_date, area_id FROM indicator_values
        WHERE flag IN ('suppressed', 'undefined') AND value IS NOT NULL
    """,
}


def run_checks(con: duckdb.DuckDBPyConnection, finest_level: str) -> None:
    failures = []
    for name, sql in CHECKS.items():
        params = {"finest": finest_level} if "$finest" in sql else {}
        rows = con.execute(f"SELECT * FROM ({sql}) LIMIT 5", params).fetchall()
        if rows:
            failures.append(f"{name}: failed, e.g. {rows[:3]}")
    if failures:
        raise CheckError("warehouse checks failed, nothing published:\n  " + "\n  ".join(failures))
