"""The shared read SQL of the dashboard and the exports: read-only, parameterised queries
on the published snapshot (:mod:`dashboards.data.snapshot` opens it, caches results and
holds the publication rules every query here applies).

Functions return pandas DataFrames (callers get a copy of the cached frame). Reference
dates are ISO strings ``YYYY-MM-DD`` in and out. Reads of one page only live in the
page's own module of this package (e.g. :mod:`dashboards.data.segregation`).
"""

from __future__ import annotations

import pandas as pd

from dashboards.data import breaks
from dashboards.data.snapshot import DISCLOSED_COUNTS, Warehouse, cached_frame, query
from dashboards.data.snapshot import WarehouseNotFoundError as WarehouseNotFoundError
from dashboards.data.snapshot import clear_cache as clear_cache
from dashboards.data.snapshot import open_warehouse as open_warehouse

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


@cached_frame
def meta(warehouse: Warehouse) -> pd.DataFrame:
    """Key/value facts about the build (title, attribution, built_at, ...)."""
    return query(warehouse, "SELECT key, value FROM meta ORDER BY key")


@cached_frame
def levels(warehouse: Warehouse) -> pd.DataFrame:
    """Spatial levels, coarse to fine, with ``has_geometry`` (any area_geometry row)."""
    sql = """
        SELECT l.level, l.rank, l.label_de, l.label_en,
               EXISTS (SELECT 1 FROM area_geometry g WHERE g.level = l.level) AS has_geometry
        FROM levels l
        ORDER BY l.rank, l.level
    """
    return query(warehouse, sql)


@cached_frame
def indicators(warehouse: Warehouse) -> pd.DataFrame:
    """The indicator catalogue in display order."""
    return query(warehouse, "SELECT * FROM indicators ORDER BY sort_order, indicator_id")


@cached_frame
def ref_dates(warehouse: Warehouse) -> pd.DataFrame:
    """All reference dates with indicator values, ascending."""
    sql = """
        SELECT DISTINCT CAST(ref_date AS VARCHAR) AS ref_date
        FROM indicator_values
        ORDER BY ref_date
    """
    return query(warehouse, sql)


@cached_frame
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
    return query(warehouse, sql, {"indicator_ids": list(indicator_ids)})


@cached_frame
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
    return query(warehouse, sql)


@cached_frame
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
    return query(warehouse, sql)


@cached_frame
def area_ids(warehouse: Warehouse) -> pd.DataFrame:
    """Every area id of any level and vintage, ordered."""
    return query(warehouse, "SELECT DISTINCT area_id FROM areas ORDER BY area_id")


@cached_frame
def areas(warehouse: Warehouse, level: str, ref_date: str) -> pd.DataFrame:
    """Areas of ``level`` valid on ``ref_date``, ordered by id."""
    sql = f"SELECT area_id, name, parent_id FROM ({_VALID_AREAS}) ORDER BY area_id"
    return query(warehouse, sql, {"level": level, "ref_date": ref_date})


@cached_frame
def geometries(warehouse: Warehouse, level: str, ref_date: str) -> pd.DataFrame:
    """GeoJSON geometry of every area of ``level`` valid on ``ref_date``."""
    sql = f"""
        SELECT a.area_id, g.geojson
        FROM ({_VALID_AREAS}) a
        JOIN area_geometry g ON g.area_id = a.area_id AND g.vintage = a.vintage
        ORDER BY a.area_id
    """
    return query(warehouse, sql, {"level": level, "ref_date": ref_date})


@cached_frame
def area_values(
    warehouse: Warehouse, indicator_ids: tuple[str, ...], ref_date: str, level: str
) -> pd.DataFrame:
    """Values of the indicators for every area of ``level`` on ``ref_date``, with names."""
    sql = f"""
        SELECT v.indicator_id, v.area_id, coalesce(a.name, v.area_id) AS name,
               v.value, {DISCLOSED_COUNTS}, v.flag, v.definition_id
        FROM indicator_values v
        LEFT JOIN ({_VALID_AREAS}) a ON a.area_id = v.area_id
        WHERE list_contains($indicator_ids, v.indicator_id)
          AND v.ref_date = CAST($ref_date AS DATE)
          AND v.level = $level
        ORDER BY v.indicator_id, v.area_id
    """
    params = {"indicator_ids": list(indicator_ids), "ref_date": ref_date, "level": level}
    return query(warehouse, sql, params)


@cached_frame
def series(warehouse: Warehouse, indicator_id: str, area_ids: tuple[str, ...]) -> pd.DataFrame:
    """All reference dates of one indicator for the given areas (every level they have).

    For area indicators each area has one level; for segregation indices the city has one
    row per unit level (``n_units`` units). ``rank`` is the rank of ``level``;
    ``break_before``: the series break before the row (:func:`breaks.mark`).
    """
    sql = f"""
        SELECT v.area_id, coalesce(n.name, v.area_id) AS name, v.level, l.rank,
               CAST(v.ref_date AS VARCHAR) AS ref_date, v.value,
               {DISCLOSED_COUNTS}, v.flag, v.definition_id, v.n_units
        FROM indicator_values v
        LEFT JOIN ({_LATEST_NAMES}) n ON n.area_id = v.area_id
        LEFT JOIN levels l ON l.level = v.level
        WHERE v.indicator_id = $indicator_id AND list_contains($area_ids, v.area_id)
        ORDER BY l.rank, v.area_id, v.ref_date
    """
    params = {"indicator_id": indicator_id, "area_ids": list(area_ids)}
    return breaks.annotate(warehouse, query(warehouse, sql, params))


# --- profile, comparison and indicator catalogue pages --------------------------------------
@cached_frame
def series_of_indicators(
    warehouse: Warehouse, indicator_ids: tuple[str, ...], area_ids: tuple[str, ...]
) -> pd.DataFrame:
    """:func:`series` for several indicators in one query (plus ``indicator_id``)."""
    sql = f"""
        SELECT v.indicator_id, v.area_id, coalesce(n.name, v.area_id) AS name, v.level,
               l.rank, CAST(v.ref_date AS VARCHAR) AS ref_date, v.value,
               {DISCLOSED_COUNTS}, v.flag, v.definition_id, v.n_units
        FROM indicator_values v
        LEFT JOIN ({_LATEST_NAMES}) n ON n.area_id = v.area_id
        LEFT JOIN levels l ON l.level = v.level
        WHERE list_contains($indicator_ids, v.indicator_id)
          AND list_contains($area_ids, v.area_id)
        ORDER BY v.indicator_id, l.rank, v.area_id, v.ref_date
    """
    params = {"indicator_ids": list(indicator_ids), "area_ids": list(area_ids)}
    return breaks.annotate(warehouse, query(warehouse, sql, params))


@cached_frame
def area_versions(warehouse: Warehouse, level: str, ref_date: str) -> pd.DataFrame:
    """Areas of ``level`` valid on ``ref_date`` with their vintage and GeoJSON (NULL when
    that vintage has no boundaries), ordered by id: tells whether boundaries changed."""
    sql = f"""
        SELECT a.area_id, a.name, a.parent_id, a.vintage, g.geojson
        FROM ({_VALID_AREAS}) a
        LEFT JOIN area_geometry g ON g.area_id = a.area_id AND g.vintage = a.vintage
        ORDER BY a.area_id
    """
    return query(warehouse, sql, {"level": level, "ref_date": ref_date})


@cached_frame
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
    return query(warehouse, sql)


@cached_frame
def indicator_flag_counts(warehouse: Warehouse) -> pd.DataFrame:
    """Number of values per indicator and flag (flagged values only)."""
    sql = """
        SELECT indicator_id, flag, count(*) AS n
        FROM indicator_values
        WHERE flag IS NOT NULL
        GROUP BY indicator_id, flag
        ORDER BY indicator_id, flag
    """
    return query(warehouse, sql)


@cached_frame
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
    return query(warehouse, sql)
