"""The published snapshot as every reader opens it: handle, connection, caches, rules.

The snapshot's public file is named once, in :mod:`etl.warehouse`
(``publication_link(curated_dir)``: ``<curated_dir>/current/<PUBLICATION>``, where
``current`` is a symlink the build swaps atomically). :func:`open_warehouse` resolves the
link on every call (once per request, once per ``imon`` command) and returns a small
hashable :class:`Warehouse` handle; results are cached per ``(handle, parameters)``, so a new
snapshot is picked up at the next request and never mixed with cached results of the old
one.

Each query runs on its own cursor of a read-only connection kept per snapshot file (DuckDB:
one cursor per thread).

**Caches** are registered here: :func:`cached_frame` and :func:`memoised` put every cache in
one list, and :func:`clear_cache` clears that list, so no cache can be forgotten.

**Publication rules** (:data:`DISCLOSED_COUNTS`): the numerator and denominator of a
suppressed value never leave this package; every read SQL selects counts through it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache, wraps
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd

from etl.errors import ImonError
from etl.warehouse import CURRENT, PUBLICATION, publication_link, staged

F = TypeVar("F", bound=Callable[..., Any])

SUPPRESSED = "suppressed"

# Numerator and denominator as they may be published (alias ``v`` = indicator_values):
# nothing of a suppressed value leaves the warehouse.
DISCLOSED_COUNTS = f"""
    CASE WHEN v.flag IS DISTINCT FROM '{SUPPRESSED}' THEN v.numerator END AS numerator,
    CASE WHEN v.flag IS DISTINCT FROM '{SUPPRESSED}' THEN v.denominator END AS denominator
"""

_CACHES: list[Any] = []


class WarehouseNotFoundError(ImonError, FileNotFoundError):
    """The curated directory has no published snapshot (``imon`` prints it and exits 2)."""


@dataclass(frozen=True)
class Warehouse:
    """A published snapshot: resolved file path plus modification time (cache key)."""

    path: str
    mtime_ns: int


def open_warehouse(curated_dir: Path) -> Warehouse:
    """Resolve ``current`` now and describe the snapshot it points to."""
    link = publication_link(Path(curated_dir))
    try:
        path = link.resolve(strict=True)
        stat = path.stat()
    except FileNotFoundError as exc:
        raise WarehouseNotFoundError(
            f"No published warehouse at {link}: build the curated data first "
            f"('imon build' writes snapshots/<id>/{PUBLICATION} and points "
            f"'{CURRENT}' at it)."
        ) from exc
    return Warehouse(str(path), stat.st_mtime_ns)


def open_staged(curated_dir: Path) -> Warehouse:
    """The staged snapshot (built, not yet published): its public file only, for the
    preview of logged-in users (dashboards/access.py); never the internal warehouse."""
    folder = staged(Path(curated_dir))
    path = folder / PUBLICATION if folder else None
    if path is None or not path.is_file():
        raise WarehouseNotFoundError(f"{curated_dir}: no staged snapshot to preview")
    return Warehouse(str(path.resolve()), path.stat().st_mtime_ns)


def memoised(maxsize: int) -> Callable[[F], F]:
    """``functools.lru_cache`` registered for :func:`clear_cache`."""

    def decorate(func: F) -> F:
        cached = lru_cache(maxsize=maxsize)(func)
        _CACHES.append(cached)
        return cached  # type: ignore[return-value]

    return decorate


def cached_frame(func: Callable[..., pd.DataFrame]) -> Callable[..., pd.DataFrame]:
    """Memoise a query on its (hashable) arguments; hand out copies of the cached frame."""
    cached = memoised(512)(func)

    @wraps(func)
    def wrapper(*args: Any) -> pd.DataFrame:
        return cached(*args).copy()

    wrapper.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    return wrapper


def clear_cache() -> None:
    """Forget every registered cache and connection (tests; a server never needs this)."""
    for cache in _CACHES:
        cache.cache_clear()


@memoised(4)
def _connection(warehouse: Warehouse) -> duckdb.DuckDBPyConnection:
    """One read-only connection per snapshot; queries use their own cursor on it."""
    return duckdb.connect(warehouse.path, read_only=True)


def query(warehouse: Warehouse, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """Run one read-only, parameterised query on its own cursor; a DataFrame."""
    with _connection(warehouse).cursor() as cursor, _parameters_checked():
        return cursor.execute(sql, params or {}).df()


def fetch(warehouse: Warehouse, sql: str, params: dict[str, Any] | None = None) -> list[tuple]:
    """:func:`query` as a list of row tuples (for CSV writers and dataclasses)."""
    with _connection(warehouse).cursor() as cursor, _parameters_checked():
        return cursor.execute(sql, params or {}).fetchall()


@contextmanager
def _parameters_checked() -> Iterator[None]:
    """A parameter DuckDB cannot convert (a date that is none, sent to a callback) is a
    ValueError of the request (400 in dashboards.security), not a failure of the server."""
    try:
        yield
    except duckdb.ConversionException as exc:
        raise ValueError(f"a parameter of the query cannot be converted: {exc}") from exc


@memoised(4)
def tables(warehouse: Warehouse) -> frozenset[str]:
    """Names of the tables in the snapshot (older snapshots may lack newer tables)."""
    frame = query(warehouse, "SELECT table_name FROM information_schema.tables")
    return frozenset(frame["table_name"])
