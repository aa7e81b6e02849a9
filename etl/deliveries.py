"""``imon refresh``: take new deliveries into the raw folder, build a staged snapshot with
its plausibility report, and publish it only when asked.

*Recognition.* A delivered file is matched by its name against the file patterns of the
profile's sources (``register.files``, ``tables[].files``) or, for a GENESIS export renamed
on download, by the table id in its first line. The reference date comes from the file:
the table's ``ref_date`` pattern, an ISO date in the name of a register extract (or the
register's ``ref_date`` pattern), the periods of a GENESIS table. A file that no source
recognises is an error naming the patterns.

*Placement.* The file is copied unchanged to where the profile's pattern finds it; a
wildcard folder of the pattern becomes the reference date (``melderegister/*/…`` →
``melderegister/2025-12-31/``, likewise ``population/**/…``). A sidecar
``<file>.meta.yml`` records source, reference dates, time received, attribution and sha256
(checked by every later build). Against the raw files of the same source and date:

* same bytes: nothing is copied, and nothing is built if a snapshot already read it;
* other bytes: a *revision*. The earlier file and its sidecar move to
  ``.revisions/<folder>/<received>/`` below the raw folder, the new one takes its place and
  its sidecar names the file it replaces. Both are kept.

*Safety.* The staged snapshot is built from a mirror of the raw folder below the curated
folder (``.intake-<time>/raw``: symbolic links to the raw files, the deliveries copied to
their targets). Only when the snapshot and its report are complete are the raw-file
changes made, journalled first (:func:`etl.warehouse.journal_begin`) and undone if
anything fails or the run is interrupted (Ctrl+C, SIGTERM, SIGHUP: at once). So bad input
or a ``kill -9`` during the build leaves the raw folder and the published snapshot as they
were (the next build or refresh removes a mirror left behind and undoes a journal). The
whole refresh holds the instance's build lock.

*Warnings.* A staged snapshot whose build tolerated findings (``warn`` in the profile's
``consistency`` or a table's ``conflicts``; :class:`etl.errors.Finding`, kept in
``internal/build_findings.json`` and listed in the plausibility report) is
published only with ``accept_warnings`` (``imon publish --accept-warnings``, ``imon
refresh --publish --accept-warnings``, the internal page's extra confirmation); without it
the publish is refused with a message listing them. An acceptance is recorded in
``accepted.jsonl`` beside the history (snapshot, time, who, the warnings).
"""

from __future__ import annotations

import fnmatch
import getpass
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path

import yaml

from etl import plausibility, warehouse
from etl.build import (
    FINDINGS,
    INTAKE_PREFIX,
    Reporter,
    build_locked,
    exit_on_termination,
    remove_mirrors,
)
from etl.errors import MAX_PROBLEMS, ConfigError, ImonError, InputError, quoted
from etl.files import sha256_of
from etl.goals import delivered_dates
from etl.profile import AreaTable, GenesisTable, GoalsSource, LongTable, Profile, Register
from etl.sources import area_table, genesis_csv, long_table
from etl.text import UTF8_BOM

REVISIONS = ".revisions"
ACCEPTED = "accepted.jsonl"  # warnings accepted on publish, beside history.jsonl
REPORT = warehouse.REPORT
ISO_DATE = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")
TABLE_ID = re.compile(r"\d{5}-[0-9A-Z]{2,4}(?:-[0-9A-Z]+)*")
WILDCARD = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class Source:
    """One source of the profile: the register or a table, with its file pattern."""

    id: str  # 'register' or the table id
    pattern: str  # glob below the raw folder
    entry: Register | AreaTable | LongTable | GenesisTable | GoalsSource

    @property
    def name_pattern(self) -> str:
        return self.pattern.rsplit("/", 1)[-1]


@dataclass
class Delivery:
    """One delivered file, recognised and compared with the raw folder."""

    file: Path
    source: Source
    ref_dates: list[date]
    sha256: str
    target: Path  # where it goes (or, if unchanged, where it already is)
    status: str  # 'new', 'unchanged' or 'revision'
    replaces: list[Path] = field(default_factory=list)


@dataclass
class RefreshResult:
    deliveries: list[Delivery]
    snapshot: Path | None  # the staged (or published) snapshot; None = nothing new
    published: bool
    report: plausibility.Report | None = None  # None if the snapshot was built earlier
    refused: str | None = None  # why ``publish`` was refused (warnings not accepted)
    accepted: list[str] = field(default_factory=list)  # warnings accepted on publish

    @property
    def report_path(self) -> Path | None:
        path = self.snapshot / REPORT if self.snapshot else None
        return path if path and path.is_file() else None


def refresh(
    profile: Profile,
    files: Sequence[Path],
    reporter: Reporter | None = None,
    publish: bool = False,
    accept_warnings: bool = False,
) -> RefreshResult:
    """Take ``files`` in, build and review a staged snapshot; publish it if ``publish``
    (a snapshot with build warnings only with ``accept_warnings``; else it stays staged
    and ``refused`` says why)."""
    reporter = reporter or Reporter()
    curated = profile.curated_dir
    with warehouse.build_lock(curated):
        for step in warehouse.journal_undo(curated) + remove_mirrors(curated):
            reporter.info(f"Unterbrochene Aktualisierung rückgängig gemacht: {step}")
        deliveries = plan(profile, files)
        report = None
        if _already_built(profile, deliveries):  # the same files again
            snapshot = warehouse.staged(curated)
            if snapshot is None or not _reads(snapshot, deliveries):
                return RefreshResult(deliveries, None, False)  # already published
        else:
            review = _Review(profile)
            snapshot = _take_in(profile, deliveries, review, reporter)
            report = review.report
        result = RefreshResult(deliveries, snapshot, False, report)
        if publish:
            try:
                result.accepted = _publish_checked(curated, profile.keep_snapshots, accept_warnings)
                result.published = True
            except WarningsNotAccepted as exc:
                result.refused = str(exc)
    return result


class WarningsNotAccepted(ImonError):
    """The staged snapshot has build warnings and the publish did not accept them."""

    def __init__(self, snapshot: Path, warnings: list[str]) -> None:
        self.warnings = warnings
        listed = "; ".join(quoted(w, 400) for w in warnings[:MAX_PROBLEMS])
        more = (
            f" … and {len(warnings) - MAX_PROBLEMS} more (plausibility report)"
            if len(warnings) > MAX_PROBLEMS
            else ""
        )
        super().__init__(
            f"not published: the staged snapshot {snapshot.name} has {len(warnings)} "
            f"build warning(s) the profile tolerates with 'warn': {listed}{more}. "
            "Review them in the plausibility report, then publish with --accept-warnings "
            "(imon publish --accept-warnings)"
        )


def staged_warnings(snapshot: Path) -> list[str]:
    """The findings of checks set to ``warn`` in the build of a finished snapshot
    (``internal/build_findings.json``; other build warnings need no acceptance)."""
    path = snapshot / FINDINGS
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


def publish(profile: Profile, accept_warnings: bool = False) -> tuple[Path | None, Path]:
    """``imon publish``: the staged snapshot goes live; return (before, now). A snapshot
    with build warnings needs ``accept_warnings`` (see module doc)."""
    return publish_staged(profile.curated_dir, profile.keep_snapshots, accept_warnings)


def rollback(profile: Profile) -> tuple[Path, Path]:
    """``imon rollback``: the snapshot live before the current one goes live again."""
    return rollback_current(profile.curated_dir)


def publish_staged(
    curated_dir: Path, keep: int, accept_warnings: bool = False, user: str | None = None
) -> tuple[Path | None, Path]:
    """:func:`publish` of a curated directory (also the dashboard's publish button)."""
    with warehouse.build_lock(curated_dir):
        before = warehouse.published(curated_dir)
        _publish_checked(curated_dir, keep, accept_warnings, user)
        return before, warehouse.published(curated_dir)


def _publish_checked(
    curated_dir: Path, keep: int, accept_warnings: bool, user: str | None = None
) -> list[str]:
    """Publish the staged snapshot (the caller holds the build lock) unless it has build
    warnings that are not accepted; an acceptance is recorded first. Returns the
    warnings accepted."""
    snapshot = warehouse.staged(curated_dir)
    warnings = staged_warnings(snapshot) if snapshot is not None else []
    if warnings and not accept_warnings:
        raise WarningsNotAccepted(snapshot, warnings)
    if warnings:
        _record_acceptance(curated_dir, snapshot, warnings, user)
    warehouse.publish_staged(curated_dir, keep)
    return warnings


def _record_acceptance(curated_dir: Path, snapshot: Path, warnings: list[str], user) -> None:
    line = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "snapshot": snapshot.name,
        "user": user or _os_user(),
        "warnings": warnings,
    }
    with (curated_dir / ACCEPTED).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def accepted(curated_dir: Path) -> list[dict]:
    """Every recorded acceptance of warnings, oldest first."""
    path = curated_dir / ACCEPTED
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def rollback_current(curated_dir: Path) -> tuple[Path, Path]:
    """:func:`rollback` of a curated directory (also the dashboard's rollback button)."""
    with warehouse.build_lock(curated_dir):
        return warehouse.rollback(curated_dir)


def plan(profile: Profile, files: Sequence[Path]) -> list[Delivery]:
    """Recognise every file and compare it with the raw folder; nothing is written."""
    deliveries: list[Delivery] = []
    for file in map(Path, files):
        delivery = _plan_one(profile, file)
        for other in deliveries:
            same = set(other.ref_dates) & set(delivery.ref_dates) or other.target == delivery.target
            if other.source == delivery.source and same:
                raise InputError(
                    file,
                    f"{other.file.name} in the same refresh is also a "
                    f"delivery of '{delivery.source.id}' for "
                    f"{_dates(delivery.ref_dates)}; deliver one file per source "
                    "and reference date",
                )
        deliveries.append(delivery)
    return deliveries


def recognise(profile: Profile, file: Path) -> tuple[Source, list[date]]:
    """The source a delivered file belongs to and the reference dates it holds."""
    candidates = sources(profile)
    matches = [s for s in candidates if fnmatch.fnmatchcase(file.name, s.name_pattern)]
    table_id = _genesis_table_id(file)
    if not matches and table_id:
        matches = [
            s
            for s in candidates
            if isinstance(s.entry, GenesisTable) and table_id in s.name_pattern
        ]
    if not matches:
        expected = "; ".join(f"'{s.name_pattern}' ({s.id})" for s in candidates)
        if table_id:  # a GENESIS export of a table the profile does not read
            tables = [
                f"{named[0]} ({s.id})"
                for s in candidates
                if isinstance(s.entry, GenesisTable) and (named := TABLE_ID.search(s.name_pattern))
            ]
            raise InputError(
                file,
                f"found GENESIS table {table_id}, which the profile {_profile_name(profile)} "
                "does not read; expected "
                + (
                    f"one of its GENESIS tables {', '.join(tables)}"
                    if tables
                    else "no GENESIS table"
                )
                + f" (or a file name like {expected})",
                line=1,
            )
        raise InputError(
            file,
            f"matches no source of the profile {_profile_name(profile)}: "
            f"expected a file name like {expected}",
        )
    if len(matches) > 1:
        raise InputError(
            file,
            "the file name fits several sources of the profile ("
            + ", ".join(s.id for s in matches)
            + "); make their patterns distinct",
        )
    source = matches[0]
    named = TABLE_ID.search(source.name_pattern)
    if isinstance(source.entry, GenesisTable) and table_id and named and named[0] != table_id:
        raise InputError(
            file,
            f"found GENESIS table {table_id}, expected table {named[0]}: the file name fits "
            f"source '{source.id}' ('{source.name_pattern}'), which reads table {named[0]}; "
            "deliver that table's export (or name the file after its table)",
            line=1,
        )
    return source, _ref_dates(source, file)


def sources(profile: Profile) -> list[Source]:
    register = profile.register_source
    found = [Source("register", register.files, register)] if register else []
    goals = profile.goals  # the integration office's project workbook (#15)
    found += [Source(t.id, t.files, t) for t in profile.tables]
    return found + ([Source("goals", goals.files, goals)] if goals else [])


# --- planning ------------------------------------------------------------------------------


def _plan_one(profile: Profile, file: Path) -> Delivery:
    if not file.exists():
        raise InputError(file, "no such file")
    if not file.is_file():  # never read a device (/dev/zero never ends) or a pipe
        raise InputError(file, "not a regular file (a folder, device or pipe); expected a file")
    source, dates = recognise(profile, file)
    digest = sha256_of(file)
    target = _target(profile, source, _raw_name(source, file, dates), dates[-1])
    existing = _existing(profile, source, dates)
    if target.exists() and target not in existing:
        existing.append(target)
    if len(existing) == 1 and sha256_of(existing[0]) == digest:
        return Delivery(file, source, dates, digest, existing[0], "unchanged")
    return Delivery(
        file, source, dates, digest, target, "revision" if existing else "new", existing
    )


def _ref_dates(source: Source, file: Path) -> list[date]:
    entry = source.entry
    if isinstance(entry, GoalsSource):
        return delivered_dates(file, entry)
    if isinstance(entry, GenesisTable):
        dates = sorted(set(genesis_csv.read_table(file, entry.encoding).rows["ref_date"]))
        if not dates:
            raise InputError(file, "the GENESIS table has no data line, so no reference date")
        return dates
    if isinstance(entry, AreaTable):
        return [area_table.ref_date_of(file, entry.ref_date)]
    if isinstance(entry, LongTable):  # the dates of its date column, or of its name
        return long_table.ref_dates(file, entry)
    if entry.ref_date is not None:
        return [area_table.ref_date_of(file, entry.ref_date)]
    match = ISO_DATE.search(file.name)
    if match is None:
        raise InputError(
            file,
            "the file name carries no reference date: expected YYYY-MM-DD "
            "or YYYYMMDD in it (e.g. melderegister_2025-12-31.csv), or a "
            "'ref_date' pattern in the profile's register section",
        )
    try:
        return [date(int(match[1]), int(match[2]), int(match[3]))]
    except ValueError as exc:
        raise InputError(file, f"'{match[0]}' in the file name is not a valid date") from exc


def _raw_name(source: Source, file: Path, dates: list[date]) -> str:
    """The delivered name if the pattern accepts it; a GENESIS export recognised by its
    table id gets the pattern's name with ``*`` replaced by its years."""
    pattern = source.name_pattern
    if fnmatch.fnmatchcase(file.name, pattern):
        return file.name
    years = sorted({d.year for d in dates})
    label = str(years[0]) if len(years) == 1 else f"{years[0]}-{years[-1]}"
    name = pattern.replace("*", label, 1)
    if WILDCARD.search(name):
        raise InputError(file, f"rename the file so that it matches '{pattern}'")
    return name


def _target(profile: Profile, source: Source, name: str, ref_date: date) -> Path:
    *folders, _ = source.pattern.split("/")
    wild = [i for i, part in enumerate(folders) if WILDCARD.search(part)]
    where = f"{_profile_name(profile)}: source '{source.id}', pattern '{source.pattern}'"
    if len(wild) > 1:
        raise ConfigError(
            f"{where}: more than one wildcard folder; 'imon refresh' needs at "
            "most one (it becomes the reference date)"
        )
    if isinstance(source.entry, Register) and wild != [len(folders) - 1]:
        raise ConfigError(
            f"{where}: the register's files need the reference-date folder "
            "right above them, e.g. 'melderegister/*/melderegister_*.csv'"
        )
    parts = [ref_date.isoformat() if i in wild else part for i, part in enumerate(folders)]
    if not matches_pattern([*parts, name], source.pattern):
        raise ConfigError(
            f"{where}: the delivery would go to '{'/'.join([*parts, name])}', "
            "which the pattern does not find"
        )
    return profile.raw_dir.joinpath(*parts, name)


def matches_pattern(parts: Sequence[str], pattern: str | Sequence[str]) -> bool:
    """Whether a relative path (its parts) matches a glob as ``Path.glob`` reads it."""
    pattern = pattern.split("/") if isinstance(pattern, str) else pattern
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(matches_pattern(parts[i:], pattern[1:]) for i in range(len(parts) + 1))
    return (
        bool(parts)
        and fnmatch.fnmatchcase(parts[0], pattern[0])
        and matches_pattern(parts[1:], pattern[1:])
    )


def _existing(profile: Profile, source: Source, dates: list[date]) -> list[Path]:
    """Raw files of ``source`` already holding one of ``dates``."""
    wanted = set(dates)
    return [
        path
        for path in sorted(profile.raw_dir.glob(source.pattern))
        if path.is_file() and wanted & set(_raw_dates(source, path))
    ]


def _raw_dates(source: Source, path: Path) -> list[date]:
    """Reference dates of a raw file as the build reads them."""
    if isinstance(source.entry, Register):
        try:
            return [date.fromisoformat(path.parent.name)]
        except ValueError:
            return []
    return _ref_dates(source, path)


def _genesis_table_id(file: Path) -> str | None:
    try:
        with file.open("rb") as handle:
            # a UTF-8 byte-order mark is bytes, not U+FEFF, before the decode (#20)
            first = handle.readline(400).removeprefix(UTF8_BOM).decode("iso-8859-1")
    except OSError:
        return None
    if not first.startswith(genesis_csv.FIRST_LINE):
        return None
    found = TABLE_ID.search(first)
    return found[0] if found else None


def _already_built(profile: Profile, deliveries: list[Delivery]) -> bool:
    """Every file is unchanged in the raw folder and a snapshot has read it."""
    if any(d.status != "unchanged" for d in deliveries):
        return False
    snapshots = [
        s
        for s in (warehouse.published(profile.curated_dir), warehouse.staged(profile.curated_dir))
        if s is not None
    ]
    return any(_reads(s, deliveries) for s in snapshots)


def _reads(snapshot: Path, deliveries: list[Delivery]) -> bool:
    with warehouse.connect(snapshot / warehouse.DATABASE, read_only=True) as con:
        read = {r[0] for r in con.execute("SELECT sha256 FROM loads").fetchall()}
    return all(d.sha256 in read for d in deliveries)


# --- intake --------------------------------------------------------------------------------


class _Review:
    """Build hook: the plausibility report, written into the finished snapshot; then the
    raw-file changes are final (see module doc)."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.report: plausibility.Report | None = None
        self.steps: list[tuple[dict, Callable[[], None]]] = []  # the raw-folder changes

    def __call__(self, building: Path) -> None:
        current = warehouse.published(self.profile.curated_dir)
        self.report = plausibility.compare(
            building / warehouse.DATABASE,
            current / warehouse.DATABASE if current else None,
            self.profile,
        )
        plausibility.write_html(self.report, building / REPORT)
        warehouse.journal_begin(self.profile.curated_dir, [record for record, _ in self.steps])
        for _, action in self.steps:
            action()
        warehouse.journal_commit(self.profile.curated_dir)


def _take_in(
    profile: Profile, deliveries: list[Delivery], review: _Review, reporter: Reporter
) -> Path:
    """Build the staged snapshot (returned) from a mirror of the raw folder holding the
    deliveries (:func:`_mirror`); the raw folder itself changes, journalled, only once the
    snapshot and its report are complete (:class:`_Review`). Any failure removes the
    mirror and undoes the journal."""
    received = datetime.now(UTC)
    changed = [d for d in deliveries if d.status != "unchanged"]
    review.steps = [s for d in changed for s in _steps(profile, d, received)]
    mirror = profile.curated_dir / f"{INTAKE_PREFIX}{received.strftime('%Y%m%dT%H%M%S%fZ')}"
    try:
        with exit_on_termination():
            raw = _mirror(profile, changed, received, mirror / "raw")
            mirrored = profile.model_copy(update={"raw_dir": raw})
            return build_locked(mirrored, reporter, publish=False, review=review).snapshot
    except InputError as exc:
        warehouse.journal_undo(profile.curated_dir)
        raise _as_delivered(_unmirrored(exc, mirror / "raw", profile), deliveries) from exc
    except BaseException:
        warehouse.journal_undo(profile.curated_dir)
        raise
    finally:
        shutil.rmtree(mirror, ignore_errors=True)


def _mirror(profile: Profile, deliveries: list[Delivery], received: datetime, root: Path) -> Path:
    """``root``: the raw folder as it will be after the intake — symbolic links to every
    raw file but the replaced ones (and ``.revisions/``), the deliveries and their
    sidecars copied to their targets. A kill leaves the raw folder untouched."""
    replaced = {p for d in deliveries for old in d.replaces for p in (old, _sidecar(old))}
    root.mkdir(parents=True)
    for folder, dirs, files in os.walk(profile.raw_dir):
        here = Path(folder)
        rel = here.relative_to(profile.raw_dir)
        (root / rel).mkdir(parents=True, exist_ok=True)
        for name in list(dirs):
            if (here / name).is_symlink() or (rel == Path(".") and name == REVISIONS):
                dirs.remove(name)
                if name != REVISIONS or rel != Path("."):
                    (root / rel / name).symlink_to(here / name)
        for name in files:
            if here / name not in replaced:
                (root / rel / name).symlink_to(here / name)
    for delivery in deliveries:
        target = root / delivery.target.relative_to(profile.raw_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy(delivery.file, delivery.sha256, target)
        records = [_archived(profile, old, received) for old in delivery.replaces]
        _write_text(_meta(delivery, received, records), _sidecar(target))
    return root


def _unmirrored(exc: InputError, mirror: Path, profile: Profile) -> InputError:
    """An error naming a file of the mirror names the raw folder's path instead."""
    if not exc.file.startswith(str(mirror)):
        return exc
    message = str(exc).removeprefix(str(InputError(exc.file, "", exc.line, exc.column)))
    path = profile.raw_dir / Path(exc.file).relative_to(mirror)
    return InputError(
        path, message.replace(str(mirror), str(profile.raw_dir)), exc.line, exc.column
    )


def _as_delivered(exc: InputError, deliveries: list[Delivery]) -> InputError:
    """An error in a copied delivery names the delivered file: the copy is gone again."""
    copied = next((d for d in deliveries if str(d.target) == exc.file), None)
    if copied is None:
        return exc
    message = str(exc).removeprefix(str(InputError(exc.file, "", exc.line, exc.column)))
    return InputError(copied.file, message, exc.line, exc.column)


def _steps(
    profile: Profile, delivery: Delivery, received: datetime
) -> list[tuple[dict, Callable[[], None]]]:
    """(journal record, action) for every raw-file change of one delivery."""
    steps: list[tuple[dict, Callable[[], None]]] = []
    replaced = []
    for old in delivery.replaces:
        archive = _archive(profile, old, received)
        _check_hidden(profile, archive)
        steps += _mkdirs(archive.parent)
        for path, moved in ((old, archive), (_sidecar(old), _sidecar(archive))):
            if path.exists():
                steps.append(({"move": [str(path), str(moved)]}, partial(os.replace, path, moved)))
        replaced.append(_archived(profile, old, received))
    target = delivery.target
    steps += _mkdirs(target.parent)
    meta = _meta(delivery, received, replaced)
    meta_sha256 = hashlib.sha256(meta.encode("utf-8")).hexdigest()
    for path, digest, write in (
        (target, delivery.sha256, partial(_copy, delivery.file, delivery.sha256)),
        (_sidecar(target), meta_sha256, partial(_write_text, meta)),
    ):
        part = path.with_name(f".{path.name}.part")
        steps.append(({"create": str(part)}, partial(write, part)))
        steps.append(({"create": str(path), "sha256": digest}, partial(os.replace, part, path)))
    return steps


def _archive(profile: Profile, old: Path, received: datetime) -> Path:
    """Where a replaced raw file is kept: ``.revisions/<folder>/<received>/<name>``."""
    stamp = received.strftime("%Y%m%dT%H%M%S%fZ")
    return profile.raw_dir / REVISIONS / old.parent.relative_to(profile.raw_dir) / stamp / old.name


def _archived(profile: Profile, old: Path, received: datetime) -> dict:
    """The sidecar's record of a replaced file."""
    archive = _archive(profile, old, received)
    return {"file": str(archive.relative_to(profile.raw_dir)), "sha256": sha256_of(old)}


def _mkdirs(folder: Path) -> list[tuple[dict, Callable[[], None]]]:
    missing = [p for p in [folder, *folder.parents] if not p.exists()]
    return [({"mkdir": str(p)}, p.mkdir) for p in reversed(missing)]


def _meta(delivery: Delivery, received: datetime, replaced: list[dict]) -> str:
    entry = delivery.source.entry
    meta = {
        "source": delivery.source.id,
        "reference_dates": [d.isoformat() for d in delivery.ref_dates],
        "received": received.isoformat(timespec="seconds"),
        "attribution": entry.attribution,
        "sha256": delivery.sha256,
        "delivered_as": delivery.file.name,
    }
    if replaced:
        meta["replaces"] = replaced
    return yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)


def _copy(source: Path, digest: str, part: Path) -> None:
    shutil.copyfile(source, part)
    if sha256_of(part) != digest:
        raise InputError(source, "the file changed while it was copied; deliver it again")
    with part.open("rb") as handle:
        os.fsync(handle.fileno())


def _write_text(text: str, part: Path) -> None:
    with part.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _check_hidden(profile: Profile, archive: Path) -> None:
    rel = archive.relative_to(profile.raw_dir).parts
    for source in sources(profile):
        if matches_pattern(rel, source.pattern):
            raise ConfigError(
                f"{_profile_name(profile)}: the pattern '{source.pattern}' of "
                f"'{source.id}' would also read archived revisions below "
                f"'{REVISIONS}/'; make it more specific"
            )


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".meta.yml")


def _dates(dates: list[date]) -> str:
    return ", ".join(d.isoformat() for d in dates)


def _profile_name(profile: Profile) -> str:
    return str(profile.path) if profile.path else profile.instance
