"""All SQL of the dashboard: read-only, parameterised queries on the published warehouse.

The published snapshot is ``<curated_dir>/current/warehouse.duckdb`` where ``current`` is a
symlink that the build swaps atomically. :func:`open_warehouse` resolves the link on every
call (once per request) and returns a small hashable :class:`Warehouse` handle; results are
cached per ``(handle, parameters)``, so a new snapshot is picked up at the next request and
never mixed with cached results of the old one.

Each query runs on its own cursor of a read-only connection kept per snapshot file (DuckDB:
one cursor per thread). Functions return pandas DataFrames (callers get a copy of the cached
frame). Reference dates are ISO strings ``YYYY-MM-DD`` in and out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache, wraps
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from etl.indicators import random_allocation

WAREHOUSE_FILE = "warehouse.duckdb"
CURRENT_LINK = "current"


class WarehouseNotFoundError(FileNotFoundError):
    """The curated directory has no published warehouse."""


@dataclass(frozen=True)
class Warehouse:
    """A published snapshot: resolved file path plus modification time (cache key)."""

    path: str
    mtime_ns: int


def warehouse_link(curated_dir: Path) -> Path:
    """The (unresolved) path of the published warehouse file."""
    return Path(curated_dir) / CURRENT_LINK / WAREHOUSE_FILE


def open_warehouse(curated_dir: Path) -> Warehouse:
    """Resolve ``current`` now and describe the snapshot it points to."""
    link = warehouse_link(curated_dir)
    try:
        path = link.resolve(strict=True)
        stat = path.stat()
    except FileNotFoundError as exc:
        raise WarehouseNotFoundError(
            f"No published warehouse at {link}: build the curated data first "
            f"(the build writes snapshots/<id>/{WAREHOUSE_FILE} and points "
            f"'{CURRENT_LINK}' at it)."
        ) from exc
    return Warehouse(str(path), stat.st_mtime_ns)


@lru_cache(maxsize=4)
def _connection(warehouse: Warehouse) -> duckdb.DuckDBPyConnection:
    """One read-only connection per snapshot; queries use their own cursor on it."""
    return duckdb.connect(warehouse.path, read_only=True)


def _query(warehouse: Warehouse, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    with _connection(warehouse).cursor() as cursor:
        return cursor.execute(sql, params or {}).df()


def _cached(func: Callable[..., pd.DataFrame]) -> Callable[..., pd.DataFrame]:
    """Memoise a query on its (hashable) arguments; hand out copies of the cached frame."""
    cached = lru_cache(maxsize=512)(func)

    @wraps(func)
    def wrapper(*args: Any) -> pd.DataFrame:
        return cached(*args).copy()

    wrapper.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    return wrapper


# Areas of one level valid on a reference date, one row per area (latest vintage wins).
_VALID_AREAS = """
    SELECT area_id, name, parent_id, vintage
    FROM areas
    WHERE level = $level
      AND valid_from <= CAST($ref_date AS DATE)
      AND (valid_to IS NULL OR valid_to >= CAST($ref_date AS DATE))
    QUALIFY row_number() OVER (PARTITION BY area_id ORDER BY valid_from DESC) = 1
"""

# The latest name of every area (for time series across vintages).
_LATEST_NAMES = """
    SELECT area_id, name
    FROM areas
    QUALIFY row_number() OVER (PARTITION BY area_id ORDER BY valid_from DESC) = 1
"""


@_cached
def meta(warehouse: Warehouse) -> pd.DataFrame:
    """Key/value facts about the build (title, attribution, built_at, ...)."""
    return _query(warehouse, "SELECT key, value FROM meta ORDER BY key")


@_cached
def levels(warehouse: Warehouse) -> pd.DataFrame:
    """Spatial levels, coarse to fine, with ``has_geometry`` (any area_geometry row)."""
    sql = """
        SELECT l.level, l.rank, l.label_de, l.label_en,
               EXISTS (SELECT 1 FROM area_geometry g WHERE g.level = l.level) AS has_geometry
        FROM levels l
        ORDER BY l.rank, l.level
    """
    return _query(warehouse, sql)


@_cached
def indicators(warehouse: Warehouse) -> pd.DataFrame:
    """The indicator catalogue in display order."""
    return _query(warehouse, "SELECT * FROM indicators ORDER BY sort_order, indicator_id")


@_cached
def ref_dates(warehouse: Warehouse) -> pd.DataFrame:
    """All reference dates with indicator values, ascending."""
    sql = """
        SELECT DISTINCT CAST(ref_date AS VARCHAR) AS ref_date
        FROM indicator_values
        ORDER BY ref_date
    """
    return _query(warehouse, sql)


@_cached
def indicator_dates(warehouse: Warehouse, indicator_ids: tuple[str, ...]) -> pd.DataFrame:
    """Reference dates with a row for any of the indicators, ascending.

    Indicators from statistics-office tables have their own dates (e.g. annual averages
    or 30 June), so each selector offers the dates of the indicators it shows.
    """
    sql = """
        SELECT DISTINCT CAST(ref_date AS VARCHAR) AS ref_date
        FROM indicator_values
        WHERE list_contains($indicator_ids, indicator_id)
        ORDER BY ref_date
    """
    return _query(warehouse, sql, {"indicator_ids": list(indicator_ids)})


@_cached
def geometry_periods(warehouse: Warehouse) -> pd.DataFrame:
    """Per level, the validity of every geometry vintage it has (``valid_to`` NULL: open).

    A level may have boundaries for some vintages only (Berlin: planning areas until 2020).
    """
    sql = """
        SELECT a.level, a.vintage,
               CAST(min(a.valid_from) AS VARCHAR) AS valid_from,
               CASE WHEN bool_or(a.valid_to IS NULL) THEN NULL
                    ELSE CAST(max(a.valid_to) AS VARCHAR) END AS valid_to
        FROM areas a
        JOIN area_geometry g ON g.area_id = a.area_id AND g.vintage = a.vintage
        GROUP BY a.level, a.vintage
        ORDER BY a.level, valid_from
    """
    return _query(warehouse, sql)


@_cached
def root_area(warehouse: Warehouse) -> pd.DataFrame:
    """The whole city: the area of the rank-0 level (latest vintage)."""
    sql = """
        SELECT a.area_id, a.name, a.level
        FROM areas a
        JOIN levels l USING (level)
        WHERE l.rank = 0
        ORDER BY a.valid_from DESC, a.area_id
        LIMIT 1
    """
    return _query(warehouse, sql)


@_cached
def areas(warehouse: Warehouse, level: str, ref_date: str) -> pd.DataFrame:
    """Areas of ``level`` valid on ``ref_date``, ordered by id."""
    sql = f"SELECT area_id, name, parent_id FROM ({_VALID_AREAS}) ORDER BY area_id"
    return _query(warehouse, sql, {"level": level, "ref_date": ref_date})


@_cached
def geometries(warehouse: Warehouse, level: str, ref_date: str) -> pd.DataFrame:
    """GeoJSON geometry of every area of ``level`` valid on ``ref_date``."""
    sql = f"""
        SELECT a.area_id, g.geojson
        FROM ({_VALID_AREAS}) a
        JOIN area_geometry g ON g.area_id = a.area_id AND g.vintage = a.vintage
        ORDER BY a.area_id
    """
    return _query(warehouse, sql, {"level": level, "ref_date": ref_date})


@_cached
def area_values(
    warehouse: Warehouse, indicator_ids: tuple[str, ...], ref_date: str, level: str
) -> pd.DataFrame:
    """Values of the indicators for every area of ``level`` on ``ref_date``, with names."""
    sql = f"""
        SELECT v.indicator_id, v.area_id, coalesce(a.name, v.area_id) AS name,
               v.value, v.numerator, v.denominator, v.flag, v.definition_id
        FROM indicator_values v
        LEFT JOIN ({_VALID_AREAS}) a ON a.area_id = v.area_id
        WHERE list_contains($indicator_ids, v.indicator_id)
          AND v.ref_date = CAST($ref_date AS DATE)
          AND v.level = $level
        ORDER BY v.indicator_id, v.area_id
    """
    params = {"indicator_ids": list(indicator_ids), "ref_date": ref_date, "level": level}
    return _query(warehouse, sql, params)


@_cached
def series(warehouse: Warehouse, indicator_id: str, area_ids: tuple[str, ...]) -> pd.DataFrame:
    """All reference dates of one indicator for the given areas (every level they have).

    For area indicators each area has one level; for segregation indices the city has one
    row per unit level (``n_units`` units). ``rank`` is the rank of ``level``.
    """
    sql = f"""
        SELECT v.area_id, coalesce(n.name, v.area_id) AS name, v.level, l.rank,
               CAST(v.ref_date AS VARCHAR) AS ref_date, v.value, v.numerator,
               v.denominator, v.flag, v.definition_id, v.n_units
        FROM indicator_values v
        LEFT JOIN ({_LATEST_NAMES}) n ON n.area_id = v.area_id
        LEFT JOIN levels l ON l.level = v.level
        WHERE v.indicator_id = $indicator_id AND list_contains($area_ids, v.area_id)
        ORDER BY l.rank, v.area_id, v.ref_date
    """
    return _query(warehouse, sql, {"indicator_id": indicator_id, "area_ids": list(area_ids)})


# --- profile, comparison and indicator catalogue pages --------------------------------------
@_cached
def series_of_indicators(
    warehouse: Warehouse, indicator_ids: tuple[str, ...], area_ids: tuple[str, ...]
) -> pd.DataFrame:
    """:func:`series` for several indicators in one query (plus ``indicator_id``)."""
    sql = f"""
        SELECT v.indicator_id, v.area_id, coalesce(n.name, v.area_id) AS name, v.level,
               l.rank, CAST(v.ref_date AS VARCHAR) AS ref_date, v.value, v.numerator,
               v.denominator, v.flag, v.definition_id, v.n_units
        FROM indicator_values v
        LEFT JOIN ({_LATEST_NAMES}) n ON n.area_id = v.area_id
        LEFT JOIN levels l ON l.level = v.level
        WHERE list_contains($indicator_ids, v.indicator_id)
          AND list_contains($area_ids, v.area_id)
        ORDER BY v.indicator_id, l.rank, v.area_id, v.ref_date
    """
    params = {"indicator_ids": list(indicator_ids), "area_ids": list(area_ids)}
    return _query(warehouse, sql, params)


@_cached
def area_versions(warehouse: Warehouse, level: str, ref_date: str) -> pd.DataFrame:
    """Areas of ``level`` valid on ``ref_date`` with their vintage and GeoJSON (NULL when
    that vintage has no boundaries), ordered by id: tells whether boundaries changed."""
    sql = f"""
        SELECT a.area_id, a.name, a.parent_id, a.vintage, g.geojson
        FROM ({_VALID_AREAS}) a
        LEFT JOIN area_geometry g ON g.area_id = a.area_id AND g.vintage = a.vintage
        ORDER BY a.area_id
    """
    return _query(warehouse, sql, {"level": level, "ref_date": ref_date})


@_cached
def indicator_coverage(warehouse: Warehouse) -> pd.DataFrame:
    """Per indicator, level and definition: first and latest date with a value, dates with
    rows, values, and the number of units on the latest date (segregation indices)."""
    sql = """
        SELECT indicator_id, level, definition_id,
               CAST(min(ref_date) FILTER (WHERE value IS NOT NULL) AS VARCHAR) AS first_date,
               CAST(max(ref_date) FILTER (WHERE value IS NOT NULL) AS VARCHAR) AS last_date,
               count(DISTINCT ref_date) AS n_dates,
               count(value) AS n_values,
               arg_max(n_units, ref_date) AS n_units
        FROM indicator_values
        GROUP BY indicator_id, level, definition_id
        ORDER BY indicator_id, level, first_date
    """
    return _query(warehouse, sql)


@_cached
def indicator_flag_counts(warehouse: Warehouse) -> pd.DataFrame:
    """Number of values per indicator and flag (flagged values only)."""
    sql = """
        SELECT indicator_id, flag, count(*) AS n
        FROM indicator_values
        WHERE flag IS NOT NULL
        GROUP BY indicator_id, flag
        ORDER BY indicator_id, flag
    """
    return _query(warehouse, sql)


@_cached
def same_numerator_pairs(warehouse: Warehouse) -> pd.DataFrame:
    """Pairs of indicators about the same group: equal whole-city numerator (the group's
    size X) on the same date. The warehouse keeps no group column; equal counts identify
    the group without relying on indicator ids."""
    sql = """
        WITH root AS (
            SELECT a.area_id FROM areas a JOIN levels l USING (level) WHERE l.rank = 0
        ),
        city AS (
            SELECT indicator_id, ref_date, numerator
            FROM indicator_values
            WHERE area_id IN (SELECT area_id FROM root) AND numerator IS NOT NULL
        )
        SELECT DISTINCT a.indicator_id, b.indicator_id AS related_id
        FROM city a
        JOIN city b ON b.ref_date = a.ref_date AND b.numerator = a.numerator
        WHERE a.indicator_id <> b.indicator_id
        ORDER BY a.indicator_id, related_id
    """
    return _query(warehouse, sql)


# --- segregation page: the random-allocation benchmark ------------------------------------
BASELINE_COLUMNS = ["ref_date", "level", "expected", "lower", "upper", "draws"]


@lru_cache(maxsize=4)
def _tables(warehouse: Warehouse) -> frozenset[str]:
    """Names of the tables in the snapshot (older snapshots may lack newer tables)."""
    frame = _query(warehouse, "SELECT table_name FROM information_schema.tables")
    return frozenset(frame["table_name"])


@_cached
def random_baseline(warehouse: Warehouse, indicator_id: str, area_id: str) -> pd.DataFrame:
    """Expected value and 95 % range of a city-wide index under random allocation, per
    level and reference date (``BASELINE_SQL`` of :mod:`etl.indicators.random_allocation`).

    Empty when the warehouse holds no simulations for the index (or predates the table).
    """
    if "random_allocation" not in _tables(warehouse):
        return pd.DataFrame(columns=BASELINE_COLUMNS)
    sql = f"""
        SELECT CAST(ref_date AS VARCHAR) AS ref_date, level, expected, lower, upper, draws
        FROM ({random_allocation.BASELINE_SQL})
        ORDER BY ref_date, level
    """
    params = {"indicator": indicator_id, "level": None, "area": area_id}
    return _query(warehouse, sql, params)


@lru_cache(maxsize=512)
def index_change(
    warehouse: Warehouse, indicator_id: str, level: str, area_id: str, date_a: str, date_b: str
) -> random_allocation.Change:
    """Observed change of a city-wide index from ``date_a`` to ``date_b`` over the units of
    ``level``, with the 95 % quantile of the changes random allocation produces
    (:func:`etl.indicators.random_allocation.change`; without simulations: draws = 0)."""
    dates = date.fromisoformat(date_a), date.fromisoformat(date_b)
    if "random_allocation" not in _tables(warehouse):
        sql = """
            SELECT max(value) FILTER (WHERE ref_date = $date_a) AS value_a,
                   max(value) FILTER (WHERE ref_date = $date_b) AS value_b
            FROM indicator_values
            WHERE indicator_id = $indicator AND level = $level AND area_id = $area
        """
        params = {"indicator": indicator_id, "level": level, "area": area_id}
        row = _query(warehouse, sql, {**params, "date_a": dates[0], "date_b": dates[1]})
        a, b = (None if pd.isna(v) else float(v) for v in row.iloc[0])
        return random_allocation.Change(a, b, None if None in (a, b) else b - a, None, 0)
    with _connection(warehouse).cursor() as cursor:
        return random_allocation.change(cursor, indicator_id, level, area_id, *dates)


def clear_cache() -> None:
    """Forget cached results and connections (tests; a server never needs this)."""
    for func in (
        meta,
        levels,
        indicators,
        ref_dates,
        indicator_dates,
        geometry_periods,
        root_area,
        areas,
        geometries,
        area_values,
        series,
        series_of_indicators,
        area_versions,
        indicator_coverage,
        indicator_flag_counts,
        same_numerator_pairs,
        random_baseline,
        index_change,
        _tables,
    ):
        func.cache_clear()  # type: ignore[attr-defined]
    _connection.cache_clear()
