"""Fixtures of the register adapter's tests (test_register_layouts, test_register_parquet)."""

from __future__ import annotations

import duckdb
import pytest

from etl.transform.population import load_code_lists


@pytest.fixture
def con():
    """A connection with the TEMP tables stage() needs (as etl.build creates them)."""
    with duckdb.connect() as con:
        load_code_lists(con)
        con.execute(
            "CREATE TEMP TABLE valid_areas AS "
            "SELECT * FROM (VALUES ('11'), ('12'), ('21')) AS t(area_id)"
        )
        yield con
