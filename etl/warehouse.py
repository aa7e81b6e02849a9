"""Published snapshots of the curated warehouse and their atomic swap.

Layout of an instance's curated directory::

    current -> snapshots/20241231T120000Z-4711     (symlink, replaced atomically)
    snapshots/<id>/warehouse.duckdb                (the database)
    snapshots/<id>/parquet/<table>[.parquet]       (the same tables as Parquet)
    snapshots/.building-<id>/                      (a build in progress; never served)

A build writes only into its own ``.building-*`` folder; publishing renames it and then
swaps ``current`` with ``os.replace`` (atomic on POSIX), so readers see either the old
or the new snapshot, never a half-built one. A failed build deletes its folder.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from etl.errors import ImonError

CURRENT = "current"
SNAPSHOTS = "snapshots"
DATABASE = "warehouse.duckdb"
BUILDING_PREFIX = ".building-"


def current_database(curated_dir: Path) -> Path:
    """Path of the published warehouse file; a clear error if nothing is published yet."""
    path = curated_dir / CURRENT / DATABASE
    if not path.is_file():
        raise ImonError(f"{curated_dir}: no published warehouse yet; run 'imon build' first")
    return path


@contextmanager
def build_lock(curated_dir: Path) -> Iterator[None]:
    """Exclusive lock per instance: a second build at the same time stops with a message."""
    curated_dir.mkdir(parents=True, exist_ok=True)
    with (curated_dir / ".build.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise ImonError(f"{curated_dir}: another build of this instance is running; "
                            "wait for it to finish") from exc
        yield


def begin(curated_dir: Path) -> Path:
    """Create an empty folder for a new snapshot; remove leftovers of interrupted builds."""
    snapshots = curated_dir / SNAPSHOTS
    snapshots.mkdir(parents=True, exist_ok=True)
    for stale in snapshots.glob(BUILDING_PREFIX + "*"):
        shutil.rmtree(stale, ignore_errors=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    building = snapshots / f"{BUILDING_PREFIX}{stamp}-{os.getpid()}"
    building.mkdir()
    return building


def publish(curated_dir: Path, building: Path, keep: int) -> Path:
    """Make ``building`` the current snapshot atomically; keep the newest ``keep``."""
    final = building.with_name(building.name.removeprefix(BUILDING_PREFIX))
    os.replace(building, final)
    _fsync_dir(final.parent)
    link = curated_dir / f".{CURRENT}.{os.getpid()}"
    link.unlink(missing_ok=True)
    link.symlink_to(Path(SNAPSHOTS) / final.name)
    os.replace(link, curated_dir / CURRENT)
    _fsync_dir(curated_dir)
    _prune(curated_dir / SNAPSHOTS, final, keep)
    return final


def discard(building: Path) -> None:
    shutil.rmtree(building, ignore_errors=True)


def _prune(snapshots: Path, current: Path, keep: int) -> None:
    done = sorted((p for p in snapshots.iterdir()
                   if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.name)
    for old in done[:-max(keep, 1)]:
        if old != current:
            shutil.rmtree(old, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
