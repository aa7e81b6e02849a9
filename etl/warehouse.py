"""Snapshots of the curated warehouse: staging, atomic publish, history and rollback.

Layout of an instance's curated directory::

    current -> snapshots/20241231T120000Z-4711     (symlink, replaced atomically)
    staged  -> snapshots/20250301T090000Z-5120     (built by ``imon refresh``, not served)
    snapshots/<id>/warehouse.duckdb                (the database)
    snapshots/<id>/parquet/<table>[.parquet]       (the same tables as Parquet)
    snapshots/<id>/report.html                     (plausibility report of a refresh)
    snapshots/<id>/internal/audit.json             (the build's audit summary, etl/audit_summary.py)
    snapshots/.building-<id>/                      (a build in progress; never served)
    history.jsonl                                  (one line per publish and rollback)
    .intake.json                                   (journal of a refresh's raw-file changes)
    .build.lock
    .spill/imon-build-<pid>/                       (DuckDB's spill of a running build)

A build writes only into its own ``.building-*`` folder; finishing renames it to
``snapshots/<id>``, which is never changed afterwards. Publishing points ``current`` at it
with ``os.replace`` of a new symlink (atomic on POSIX), so readers see either the old or
the new snapshot, never a half-built one. A failed build deletes its folder.

History: ``history.jsonl`` records every publish and rollback; replayed, it is a stack of
the snapshots that were live, the current one on top. ``rollback`` returns to the one
below. Pruning keeps the newest ``keep`` snapshots of that stack plus the staged one.

Intake journal: a refresh lists the raw-file changes it is about to make in
``.intake.json`` (fsynced) before making them and deletes the list once its snapshot is
built. A refresh that fails or is killed in between is undone from the list (by itself, or
by the next build or refresh), so the raw folder holds exactly what it held before.
"""

from __future__ import annotations

import contextlib
import contextvars
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from etl.errors import ImonError
from etl.files import sha256_of
from etl.profile import Profile

CURRENT = "current"
STAGED = "staged"
SNAPSHOTS = "snapshots"
# A snapshot: the office's unprotected warehouse in an internal folder (mode 0700) and the
# publication beside it (etl/publication.py). The publication is the only file the
# dashboard, `imon values` and `imon export` open (dashboards/data). Defined here, once.
INTERNAL = "internal"
DATABASE = f"{INTERNAL}/warehouse.duckdb"
PUBLICATION = "publication.duckdb"
REPORT = "report.html"  # plausibility report of a refresh (etl/deliveries.py)
BUILDING_PREFIX = ".building-"
HISTORY = "history.jsonl"
JOURNAL = ".intake.json"


def current_database(curated_dir: Path) -> Path:
    """Path of the published warehouse file; a clear error if nothing is published yet."""
    path = curated_dir / CURRENT / DATABASE
    if not path.is_file():
        raise ImonError(f"{curated_dir}: no published warehouse yet; run 'imon build' first")
    return path


def publication_link(curated_dir: Path) -> Path:
    """The (unresolved) path of the published snapshot's public file."""
    return curated_dir / CURRENT / PUBLICATION


def published(curated_dir: Path) -> Path | None:
    """The snapshot folder ``current`` points to, or None."""
    return _target(curated_dir / CURRENT)


def staged(curated_dir: Path) -> Path | None:
    """The snapshot folder ``staged`` points to (built, reviewed, not served), or None."""
    return _target(curated_dir / STAGED)


@contextmanager
def build_lock(curated_dir: Path) -> Iterator[None]:
    """Exclusive lock per instance: a second build at the same time stops with a message."""
    curated_dir.mkdir(parents=True, exist_ok=True)
    with (curated_dir / ".build.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise ImonError(
                f"{curated_dir}: another build of this instance is running; wait for it to finish"
            ) from exc
        yield


def begin(curated_dir: Path) -> Path:
    """Create an empty folder for a new snapshot; remove leftovers of interrupted builds."""
    snapshots = curated_dir / SNAPSHOTS
    snapshots.mkdir(parents=True, exist_ok=True)
    for stale in snapshots.glob(BUILDING_PREFIX + "*"):
        shutil.rmtree(stale, ignore_errors=True)
    for name in (CURRENT, STAGED, JOURNAL):  # temporary links and files of a killed run
        for stale in curated_dir.glob(f".{name}.*"):
            stale.unlink(missing_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    building = snapshots / f"{BUILDING_PREFIX}{stamp}-{os.getpid()}"
    building.mkdir()
    return building


def publish(curated_dir: Path, building: Path, keep: int) -> Path:
    """Finish ``building`` and make it the current snapshot atomically; prune to ``keep``."""
    final = _finish(building)
    try:
        activate(curated_dir, final, keep)
    except BaseException:
        if published(curated_dir) != final:
            shutil.rmtree(final, ignore_errors=True)
        raise
    return final


def stage(curated_dir: Path, building: Path) -> Path:
    """Finish ``building`` as the staged snapshot: complete, but not served until
    :func:`publish_staged`. A snapshot staged earlier and never published is removed."""
    final = _finish(building)
    before = staged(curated_dir)
    try:
        _point(curated_dir, STAGED, final)
    except BaseException:
        shutil.rmtree(final, ignore_errors=True)
        raise
    if before is not None and before != final and before != published(curated_dir):
        shutil.rmtree(before, ignore_errors=True)
    return final


def publish_staged(curated_dir: Path, keep: int) -> tuple[Path | None, Path]:
    """Make the staged snapshot current; return (snapshot live before, snapshot now live)."""
    snapshot = staged(curated_dir)
    if snapshot is None:
        raise ImonError(
            f"{curated_dir}: no staged snapshot to publish; run 'imon refresh FILE…' first"
        )
    before = published(curated_dir)
    if snapshot != before:
        activate(curated_dir, snapshot, keep)
    (curated_dir / STAGED).unlink(missing_ok=True)
    _fsync_dir(curated_dir)
    return before, snapshot


def activate(curated_dir: Path, snapshot: Path, keep: int) -> None:
    """Point ``current`` at the finished ``snapshot``, record it, prune old snapshots."""
    _point(curated_dir, CURRENT, snapshot)
    _record(curated_dir, "publish", snapshot.name)
    _prune(curated_dir, keep)


def rollback(curated_dir: Path) -> tuple[Path, Path]:
    """Serve the snapshot that was live before the current one; return (from, to)."""
    current = published(curated_dir)
    if current is None:
        raise ImonError(
            f"{curated_dir}: nothing is published yet, so there is nothing to roll back"
        )
    earlier = _previous(curated_dir, history(curated_dir))
    if earlier is None:
        raise ImonError(
            f"{curated_dir}: no earlier published snapshot is kept to return to "
            "(see keep_snapshots in the profile)"
        )
    target = curated_dir / SNAPSHOTS / earlier
    _point(curated_dir, CURRENT, target)
    _record(curated_dir, "rollback", target.name)
    return current, target


def discard(building: Path) -> None:
    shutil.rmtree(building, ignore_errors=True)


def history(curated_dir: Path) -> list[str]:
    """Snapshot ids that were live, oldest first, the current one last (see module doc)."""
    events = history_events(curated_dir)
    stack = [] if events is not None else _legacy(curated_dir)
    for event in events or []:
        name = event["snapshot"]
        if event["action"] == "rollback":
            while stack and stack[-1] != name:
                stack.pop()
        if not stack or stack[-1] != name:
            stack.append(name)
    current = published(curated_dir)
    if current is not None and (not stack or stack[-1] != current.name):
        stack.append(current.name)  # a publish killed between the swap and its record
    return stack


@dataclass(frozen=True)
class SnapshotInfo:
    """One finished snapshot: its state and what it was built from."""

    path: Path
    state: str  # 'current', 'staged', 'previous' (rollback target), 'kept'
    meta: dict[str, str]
    loads: list[tuple]  # (source, file, reference_date, sha256, rows)


def snapshots(curated_dir: Path) -> list[SnapshotInfo]:
    """Every finished snapshot, newest first, with meta and loads read from its database."""
    current, pending = published(curated_dir), staged(curated_dir)
    previous = _previous(curated_dir, history(curated_dir))
    infos = []
    for path in sorted(_finished(curated_dir), key=lambda p: p.name, reverse=True):
        state = (
            "current"
            if path == current
            else "staged"
            if path == pending
            else "previous"
            if path.name == previous
            else "kept"
        )
        with connect(path / DATABASE, read_only=True) as con:
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
            loads = con.execute(
                "SELECT source, file, reference_date, sha256, rows FROM loads ORDER BY load_id"
            ).fetchall()
        infos.append(SnapshotInfo(path, state, meta, loads))
    return infos


# --- resources: DuckDB's memory, threads and spill folder ---------------------------------

SPILL_PREFIX = "imon-build-"
_SETTINGS: contextvars.ContextVar[dict[str, object] | None] = contextvars.ContextVar(
    "duckdb_settings", default=None
)


@contextmanager
def resources(profile: Profile) -> Iterator[Path]:
    """While a build runs: every connection :func:`connect` opens gets the profile's
    ``resources`` (memory limit, threads) and spills into a folder of this process,
    ``<temp_directory>/imon-build-<pid>``, removed afterwards whatever happened (and the
    default temp directory with it when empty). Folders of processes no longer running
    (killed with ``kill -9``, a power cut) go first. Used inside a running one (a refresh
    around its build, an audit within a build), it shares that one's settings and folder."""
    running = _SETTINGS.get()
    if running:
        yield Path(str(running["temp_directory"]))
        return
    root = profile.resources.spill_root(profile.curated_dir)
    root.mkdir(parents=True, exist_ok=True)
    remove_stale_spill(root)
    folder = root / f"{SPILL_PREFIX}{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)  # of a dead process that had this pid
    folder.mkdir()
    token = _SETTINGS.set(
        {
            "memory_limit": f"{profile.resources.memory_limit_bytes() // 1024**2}MiB",
            "threads": profile.resources.thread_count(),
            "temp_directory": str(folder),
        }
    )
    try:
        yield folder
    finally:
        _SETTINGS.reset(token)
        shutil.rmtree(folder, ignore_errors=True)
        if profile.resources.temp_directory is None:  # the default <curated_dir>/.spill
            with contextlib.suppress(OSError):  # only if empty
                root.rmdir()


def connect(database: Path | str = ":memory:", read_only: bool = False, spill: Path | None = None):
    """``duckdb.connect`` with the running build's resources (:func:`resources`); outside
    a build, DuckDB's defaults, spilling into ``spill`` if given (else DuckDB's own place:
    ``<database>.tmp``, or ``.tmp`` in the working directory for an in-memory database).
    Every DuckDB connection of ``etl`` and ``imon`` is opened here; a read-only one stays
    read-only."""
    settings = _SETTINGS.get()
    if not settings:
        config = {"temp_directory": str(spill)} if spill is not None else {}
        return duckdb.connect(str(database), read_only=read_only, config=config)
    return duckdb.connect(str(database), read_only=read_only, config=dict(settings))


def remove_stale_spill(root: Path) -> list[Path]:
    """Remove the spill folders in ``root`` whose build process has ended; return them."""
    stale = [
        folder
        for folder in root.glob(f"{SPILL_PREFIX}*")
        if not _running(folder.name.removeprefix(SPILL_PREFIX))
    ]
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)
    return stale


def _running(pid: str) -> bool:
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of another user
        return True
    return True


# --- intake journal ----------------------------------------------------------------------


def journal_begin(curated_dir: Path, steps: list[dict]) -> None:
    """Record the raw-file changes a refresh is about to make, durably, before any is made.

    Steps: ``{"mkdir": path}``, ``{"move": [from, to]}``, ``{"create": path}`` with an
    optional ``"sha256"``: undo removes a created file only if its content is that one, so
    a file the step had not yet replaced is never removed."""
    if (curated_dir / JOURNAL).exists():
        raise ImonError(f"{curated_dir / JOURNAL}: an interrupted refresh must be undone first")
    write_durably(curated_dir / JOURNAL, json.dumps(steps, indent=1))


def journal_commit(curated_dir: Path) -> None:
    """The refresh's changes to the raw folder are final."""
    (curated_dir / JOURNAL).unlink(missing_ok=True)
    _fsync_dir(curated_dir)


def journal_undo(curated_dir: Path) -> list[str]:
    """Undo the raw-file changes of a failed or interrupted refresh; return what was done."""
    path = curated_dir / JOURNAL
    if not path.exists():
        return []
    done = []
    for step in reversed(json.loads(path.read_text(encoding="utf-8"))):
        created = Path(step.get("create", ""))
        if (
            "create" in step
            and created.is_file()
            and (step.get("sha256") in (None, sha256_of(created)))
        ):
            created.unlink()
            done.append(f"removed {created}")
        elif "move" in step and Path(step["move"][1]).exists():
            source, target = (Path(p) for p in step["move"])
            source.parent.mkdir(parents=True, exist_ok=True)
            os.replace(target, source)
            done.append(f"restored {source}")
        elif "mkdir" in step and Path(step["mkdir"]).is_dir():
            with contextlib.suppress(OSError):  # only an empty folder is removed
                Path(step["mkdir"]).rmdir()
    journal_commit(curated_dir)
    return done


def write_durably(path: Path, text: str) -> None:
    """Write ``path`` via a temporary file, fsync, rename: complete or absent."""
    part = path.with_name(f".{path.name}.part-{os.getpid()}")
    try:
        with part.open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)
    _fsync_dir(path.parent)


# --- internals -----------------------------------------------------------------------------


def _target(link: Path) -> Path | None:
    if not link.is_symlink():
        return None
    path = link.resolve()
    return path if (path / DATABASE).is_file() else None


def _previous(curated_dir: Path, stack: list[str]) -> str | None:
    """The newest snapshot below the top of the history that still exists."""
    return next(
        (
            name
            for name in reversed(stack[:-1])
            if (curated_dir / SNAPSHOTS / name / DATABASE).is_file()
        ),
        None,
    )


def _finish(building: Path) -> Path:
    final = building.with_name(building.name.removeprefix(BUILDING_PREFIX))
    os.replace(building, final)
    _fsync_dir(final.parent)
    return final


def _point(curated_dir: Path, name: str, snapshot: Path) -> None:
    link = curated_dir / f".{name}.{os.getpid()}"
    link.unlink(missing_ok=True)
    link.symlink_to(Path(SNAPSHOTS) / snapshot.name)
    os.replace(link, curated_dir / name)
    _fsync_dir(curated_dir)


def _finished(curated_dir: Path) -> list[Path]:
    folder = curated_dir / SNAPSHOTS
    if not folder.is_dir():
        return []
    return [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]


def history_events(curated_dir: Path) -> list[dict] | None:
    """Records of history.jsonl; None if there is none yet. A line cut short by a crash
    while it was written is ignored."""
    path = curated_dir / HISTORY
    if not path.is_file():
        return None
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict) and {"action", "snapshot"} <= event.keys():
            events.append(event)
    return events


def _legacy(curated_dir: Path) -> list[str]:
    """Snapshots published before history.jsonl existed: by name (= build time)."""
    pending = staged(curated_dir)
    return sorted(p.name for p in _finished(curated_dir) if p != pending)


def _record(curated_dir: Path, action: str, snapshot: str) -> None:
    path = curated_dir / HISTORY
    now = datetime.now(UTC).isoformat(timespec="seconds")
    lines = []
    if not path.exists():  # keep the snapshots published before the history started
        lines = [
            {"at": now, "action": "publish", "snapshot": name}
            for name in _legacy(curated_dir)
            if name != snapshot
        ]
    lines.append({"at": now, "action": action, "snapshot": snapshot})
    with path.open("a", encoding="utf-8") as handle:
        handle.write("".join(json.dumps(line) + "\n" for line in lines))
        handle.flush()
        os.fsync(handle.fileno())


def _prune(curated_dir: Path, keep: int) -> None:
    newest = list(dict.fromkeys(reversed(history(curated_dir))))[: max(keep, 1)]
    kept = set(newest) | {p.name for p in (published(curated_dir), staged(curated_dir)) if p}
    for path in _finished(curated_dir):
        if path.name not in kept:
            shutil.rmtree(path, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
