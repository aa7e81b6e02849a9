"""``imon build``: raw files of one instance -> a new published warehouse snapshot.

Load inputs (profile, indicators.yaml, area lists, register extracts) -> stage and
aggregate each extract -> indicators -> contract checks -> Parquet -> atomic publish.
Any error leaves the previously published snapshot untouched.
"""

from __future__ import annotations

import json
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import yaml

from etl import audit_summary, publication, warehouse
from etl.checks import run_checks
from etl.errors import Finding, InputError
from etl.files import sha256_of
from etl.goals import intake as goals_intake
from etl.goals import load as load_goals
from etl.indicators.engine import compute, register_counts
from etl.indicators.spec import Catalogue, load_catalogue, term_key, term_name
from etl.profile import CodeHierarchyGeography, Profile
from etl.protect import cellkey
from etl.sources import code_hierarchy, register_persons
from etl.sources.area_list import AreaVintage, read_vintage
from etl.transform import consistency
from etl.transform.areas import write_areas, write_levels
from etl.transform.counts import (
    data_codes,
    discover_tables,
    stage_tables,
    table_warnings,
    write_counts,
)
from etl.transform.population import aggregate_persons, load_code_lists

SCHEMA_FILE = Path(__file__).parent / "schema.sql"


def schema_sql() -> str:
    """The warehouse schema (etl/schema.sql), read when needed, not at import."""
    return SCHEMA_FILE.read_text(encoding="utf-8")


PARTITIONED = {"population", "indicator_values"}


class Reporter:
    """Progress display hooks; the CLI supplies a rich-based one, tests the silent default."""

    def info(self, message: str) -> None:  # noqa: B027 - intentionally a no-op default
        pass

    def track(self, items: Iterable, description: str, total: int) -> Iterator:
        yield from items


@dataclass
class BuildResult:
    snapshot: Path
    persons: int
    ref_dates: list[date]
    values: int
    warnings: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


@dataclass
class Inputs:
    """Everything a build reads, found and hashed before any work starts."""

    extracts: list[tuple[date, Path]]
    tables: list[tuple]
    vintages: list[AreaVintage] | None  # area lists; None = derived from codes in the data
    digests: Mapping[Path, str]  # RawDigests: a digest read is a verified one


def build(profile: Profile, reporter: Reporter | None = None, publish: bool = True) -> BuildResult:
    """Build and publish a new snapshot for ``profile`` (``publish=False``: stage it for
    :func:`etl.deliveries.publish`, which asks for findings to be accepted)."""
    reporter = reporter or Reporter()
    with warehouse.build_lock(profile.curated_dir):
        undone = warehouse.journal_undo(profile.curated_dir) + remove_mirrors(profile.curated_dir)
        for step in undone:
            reporter.info(f"Unterbrochene Aktualisierung rückgängig gemacht: {step}")
        with exit_on_termination():
            return build_locked(profile, reporter, publish=publish)


TERMINATING = (signal.SIGTERM, signal.SIGHUP)


@contextmanager
def exit_on_termination() -> Iterator[None]:
    """SIGTERM and SIGHUP (``kill``, a closed terminal, systemd's stop) raise SystemExit
    inside, so a build removes its half-built snapshot and a refresh its mirror and
    journalled raw-file changes at once, as after Ctrl+C (KeyboardInterrupt). ``kill -9``
    or a power cut run no code: the next build or refresh removes what is left first.
    Handlers can be set in the main thread only; elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(number: int, _frame: object) -> None:
        raise SystemExit(128 + number)

    before = {number: signal.signal(number, terminate) for number in TERMINATING}
    try:
        yield
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)


# the raw-folder mirror of a running ``imon refresh`` (etl/deliveries.py: _mirror)
INTAKE_PREFIX = ".intake-"


def remove_mirrors(curated_dir: Path) -> list[str]:
    """Mirrors a killed refresh left behind (the caller holds the build lock)."""
    left = sorted(curated_dir.glob(f"{INTAKE_PREFIX}*"))
    for folder in left:
        shutil.rmtree(folder, ignore_errors=True)
    return [f"{folder.name} entfernt" for folder in left]


def build_locked(
    profile: Profile,
    reporter: Reporter,
    publish: bool = True,
    review: Callable[[Path], None] | None = None,
) -> BuildResult:
    """Build a snapshot while the caller holds :func:`warehouse.build_lock`.

    ``review`` gets the finished, unpublished snapshot folder (e.g. to write a report into
    it) and may raise to stop. Then the snapshot is published, or with ``publish=False``
    staged for ``imon publish``. Any error deletes the folder; nothing published changes.
    DuckDB works within the profile's ``resources`` (:func:`warehouse.resources`).
    """
    with warehouse.resources(profile):
        return _build_locked(profile, reporter, publish, review)


def _build_locked(
    profile: Profile,
    reporter: Reporter,
    publish: bool,
    review: Callable[[Path], None] | None,
) -> BuildResult:
    catalogue = load_catalogue(profile.indicators)
    inputs = discover_inputs(profile)
    building = warehouse.begin(profile.curated_dir)
    try:
        result = _build_into(building, profile, catalogue, inputs, reporter)
        if review is not None:
            review(building)
        if publish:
            result.snapshot = warehouse.publish(
                profile.curated_dir, building, profile.keep_snapshots
            )
        else:
            result.snapshot = warehouse.stage(profile.curated_dir, building)
    except STORAGE_ERRORS as exc:
        warehouse.discard(building)
        raise StorageError(exc, building) from exc
    except BaseException:
        warehouse.discard(building)
        raise
    return result


# DuckDB's failures of the storage layer (disk full, I/O error, a database it must
# invalidate, a transaction it cannot commit, no memory left to spill) are not OSError
STORAGE_ERRORS = (
    duckdb.IOException,
    duckdb.FatalException,
    duckdb.TransactionException,
    duckdb.OutOfMemoryException,
)


class StorageError(OSError):
    """A DuckDB storage failure during a build, as one message naming what failed and
    where (``imon`` prints it as an input/output error and exits with status 1)."""

    def __init__(self, exc: Exception, building: Path) -> None:
        text = " ".join(str(exc).split())
        super().__init__(
            f"DuckDB {type(exc).__name__} while building snapshot {building.name} in "
            f"{building.parent}: {text} — the half-built snapshot was removed, nothing "
            "published changed"
        )


def discover_inputs(profile: Profile) -> Inputs:
    extracts = discover_extracts(profile) if profile.register_source else []
    tables = discover_tables(profile)
    geo = profile.geography
    if isinstance(geo, CodeHierarchyGeography):
        vintages = None
        geo_files = sorted({profile.raw_dir / b.file for v in geo.vintages for b in v.boundaries})
    else:
        vintages = read_vintages(profile)
        geo_files = [f for v in vintages for f in v.files]
    raw = [p for _, p in extracts] + [p for _, p in tables] + geo_files
    raw += goals_intake.workbook_files(profile)  # the project workbooks (#15)
    return Inputs(extracts, tables, vintages, verify_raw(raw, [p for _, p in extracts]))


def discover_extracts(profile: Profile) -> list[tuple[date, Path]]:
    """Register extracts below the raw directory with their reference dates."""
    files = sorted(profile.raw_dir.glob(profile.register_source.files))
    if not files:
        raise InputError(
            profile.raw_dir,
            "no register extract matches "
            f"'{profile.register_source.files}' (run 'imon demo-data' for the demo)",
        )
    extracts: dict[date, Path] = {}
    for path in files:
        try:
            ref_date = date.fromisoformat(path.parent.name)
        except ValueError as exc:
            raise InputError(
                path,
                f"folder name '{path.parent.name}' is not the reference date (expected YYYY-MM-DD)",
            ) from exc
        if ref_date in extracts:
            raise InputError(path, f"a second extract for {ref_date} (first: {extracts[ref_date]})")
        extracts[ref_date] = path
    return sorted(extracts.items())


def read_vintages(profile: Profile) -> list[AreaVintage]:
    geo = profile.geography
    lists = sorted(profile.raw_dir.glob(geo.areas))
    if not lists:
        raise InputError(profile.raw_dir, f"no area list matches '{geo.areas}'")
    vintages = []
    for areas_csv in lists:
        shapes = sorted(areas_csv.parent.glob(Path(geo.geometry).name))
        if not shapes:
            raise InputError(
                areas_csv.parent,
                f"no geometry file '{Path(geo.geometry).name}' next to the area list",
            )
        vintages.append(read_vintage(areas_csv, shapes[0], geo.level_names, profile.level_ids()))
    return vintages


def verify_raw(paths: list[Path], in_parallel: Iterable[Path] = ()) -> RawDigests:
    """sha256 of every raw file, checked against its ``.meta.yml`` sidecar where present:
    a raw file changed after delivery stops the build. The files of ``in_parallel`` (the
    register extracts: large, read by DuckDB right after) are hashed in a thread while the
    build reads them, not in a pass of their own before (hashlib releases the GIL); their
    check raises when their digest is read — before the loads are written, so before
    anything is published. The others are checked before any work is done."""
    return RawDigests(paths, set(in_parallel))


class RawDigests(Mapping[Path, str]):
    """The verified sha256 of each raw file (see :func:`verify_raw`)."""

    def __init__(self, paths: list[Path], in_parallel: set[Path]) -> None:
        self._digests: dict[Path, str | Future[str]] = {}
        later = [p for p in paths if p in in_parallel]
        if later:
            hashing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imon-sha256")
            self._digests.update({path: hashing.submit(_verified, path) for path in later})
            hashing.shutdown(wait=False)  # one file after the other, in the build's order
        for path in paths:
            if path not in in_parallel:
                self._digests[path] = _verified(path)

    def __getitem__(self, path: Path) -> str:
        digest = self._digests[path]
        return digest.result() if isinstance(digest, Future) else digest

    def __iter__(self) -> Iterator[Path]:
        return iter(self._digests)

    def __len__(self) -> int:
        return len(self._digests)


def _verified(path: Path) -> str:
    digest = sha256_of(path)
    _check_sidecar(path, digest)
    return digest


def _build_into(
    building: Path, profile: Profile, catalogue: Catalogue, inputs: Inputs, reporter: Reporter
) -> BuildResult:
    publication.make_internal(building / warehouse.INTERNAL)
    database = building / warehouse.DATABASE
    con = warehouse.connect(database)
    publication.restrict(database)
    try:
        con.execute(schema_sql())
        load_code_lists(con)
        write_levels(con, profile)
        loads = stage_tables(con, profile, inputs.tables, reporter.track)
        loads += goals_intake.stage(con, profile, load_goals(profile))
        warnings = table_warnings(con)
        warnings += consistency.missing_rows(con, profile, _finest(profile, inputs.vintages))
        vintages = inputs.vintages or code_hierarchy.read_vintages(
            profile, data_codes(con, profile)
        )
        write_areas(con, vintages, profile)
        warnings += [w for v in vintages for w in v.warnings]
        loads = [("geography", f, None, None) for v in vintages for f in v.files] + loads
        persons = _load_extracts(con, profile, inputs.extracts, reporter, loads)
        reporter.info("Indikatoren berechnen …")
        register_counts(con, catalogue, profile)
        sources, conflicts = write_counts(con, profile, catalogue) if profile.tables else ({}, [])
        warnings += conflicts
        computed, skipped = compute(con, catalogue, profile)
        indicators = [i for i in catalogue.indicators if i.id in computed]
        reporter.info("Geheimhaltung anwenden, Zufallsverteilung simulieren …")
        protection = publication.protect(con, catalogue, profile, indicators)
        left_out = [  # an indicator of the catalogue this instance's data cannot give
            m.replace(": no data for ", ": no data in this instance for ", 1) for m in skipped
        ]
        for message in warnings + [f"Indikator übersprungen – {m}" for m in left_out]:
            reporter.info(f"[yellow]Hinweis:[/yellow] {message}")
        write_warnings(building, warnings)
        _write_catalogue(con, catalogue, profile, computed, sources)
        run_checks(con, profile.level_ids()[-1])
        _write_loads(con, profile, loads, inputs.digests)
        ref_dates = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT ref_date FROM indicator_values ORDER BY 1"
            ).fetchall()
        ]
        _write_meta(con, profile, ref_dates)
        publication.write_publication(con, building / warehouse.PUBLICATION, protection, profile)
        goals_intake.publish(con, building / warehouse.PUBLICATION, profile)
        reporter.info("Parquet schreiben …")
        _write_parquet(con, building / warehouse.INTERNAL / "parquet")
        values = con.execute("SELECT count(*) FROM published_values").fetchall()[0][0]
        con.execute("CHECKPOINT")
    finally:
        con.close()
    _write_public_parquet(building)
    reporter.info("Geheimhaltung prüfen (Angriffs-Audit) …")
    audit_summary.write(publication.audit(building, catalogue, profile), building)
    return BuildResult(building, persons, ref_dates, values, warnings, skipped)


WARNINGS = f"{warehouse.INTERNAL}/build_warnings.json"
FINDINGS = f"{warehouse.INTERNAL}/build_findings.json"  # publishing needs --accept-warnings


def write_warnings(building: Path, warnings: list[str]) -> None:
    """The build's warnings (findings tolerated by ``warn``, coverage) beside the internal
    warehouse, for the plausibility report; the findings (:class:`etl.errors.Finding`)
    also on their own, for ``imon publish`` (etl/deliveries.py)."""
    (building / WARNINGS).write_text(
        json.dumps(warnings, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    findings = [w for w in warnings if isinstance(w, Finding)]
    (building / FINDINGS).write_text(
        json.dumps(findings, ensure_ascii=False, indent=1), encoding="utf-8"
    )


def _finest(profile: Profile, vintages: list[AreaVintage] | None) -> set[str] | None:
    """The finest-level areas of area lists; None for code hierarchies (code length)."""
    if vintages is None:
        return None
    finest = profile.level_ids()[-1]
    return {a for v in vintages for a in v.areas.loc[v.areas["level"] == finest, "area_id"]}


def _load_extracts(
    con: duckdb.DuckDBPyConnection,
    profile: Profile,
    extracts: list[tuple[date, Path]],
    reporter: Reporter,
    loads: list[tuple],
) -> int:
    total = 0
    secret = cellkey.resolve_secret(profile.disclosure.cell_key)
    meter = Meter(sum(path.stat().st_size for _, path in extracts))
    for ref_date, path in reporter.track(extracts, "Melderegister laden", len(extracts)):
        _valid_areas(con, ref_date, profile.level_ids()[-1])
        rows = register_persons.stage(con, path, ref_date, profile.register_source.layout)
        counted = aggregate_persons(con, ref_date, secret)
        if counted != rows:
            raise InputError(path, f"{rows} rows staged but {counted} persons counted")
        loads.append(("register", path, rows, ref_date))
        total += rows
        reporter.info(f"Melderegister {ref_date}: {meter.done(path.stat().st_size, rows)}")
    return total


class Meter:
    """Rows per second and the time left of the person-level steps (reading, validating
    and counting the register extracts), the time left from the bytes still to read at
    the rate of the bytes read so far."""

    def __init__(self, total_bytes: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.total, self.clock, self.start = total_bytes, clock, clock()
        self.bytes = self.rows = 0

    def done(self, size: int, rows: int) -> str:
        """One extract of ``size`` bytes and ``rows`` rows is done: the progress line."""
        self.bytes += size
        self.rows += rows
        seconds = max(self.clock() - self.start, 1e-9)
        left = seconds * (self.total - self.bytes) / self.bytes if self.bytes else 0
        rate = f"{_german(rows)} Zeilen, {_german(round(self.rows / seconds))} Zeilen/s"
        return f"{rate}, noch ca. {_clock(left)}" if self.bytes < self.total else rate


def _german(number: int) -> str:
    return f"{number:,}".replace(",", ".")


def _clock(seconds: float) -> str:
    """``0:07``, ``12:30``, ``1:02:03``."""
    minutes, second = divmod(round(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02d}:{second:02d}" if hours else f"{minute}:{second:02d}"


def _valid_areas(con: duckdb.DuckDBPyConnection, ref_date: date, finest: str) -> None:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE valid_areas AS SELECT area_id FROM areas "
        "WHERE level = ? AND ? BETWEEN valid_from AND coalesce(valid_to, DATE '9999-12-31')",
        [finest, ref_date],
    )


def _write_catalogue(
    con: duckdb.DuckDBPyConnection,
    catalogue: Catalogue,
    profile: Profile,
    computed: list[str],
    term_sources: dict[str, set[str]],
) -> None:
    rows = []
    for order, ind in enumerate(catalogue.indicators):
        if ind.id not in computed:
            continue
        unit = catalogue.units[ind.unit]
        num, den = ind.numerator_label, ind.denominator_label
        rows.append(
            (
                ind.id,
                ind.function,
                ind.topic,
                ind.title.de,
                ind.title.en,
                ind.definition.de,
                ind.definition.en,
                num and num.de,
                den and den.de,
                num and num.en,
                den and den.en,
                ind.unit,
                unit.de,
                unit.en,
                ind.decimals,
                _source_line(ind, profile, term_sources),
                ind.definition_id,
                order,
            )
        )
    con.executemany(f"INSERT INTO indicators VALUES ({', '.join('?' * 18)})", rows)


def _source_line(ind, profile: Profile, term_sources: dict[str, set[str]]) -> str:
    """Attribution of every source an indicator's numbers come from."""
    tables = {t.id: t.attribution for t in profile.tables}
    used = sorted(
        {
            s
            for ref in ind.terms().values()
            for s in term_sources.get(term_name(term_key(ref)), {"register"})
        }
    )
    texts = [
        profile.register_source.attribution
        if s == "register" and profile.register_source
        else tables.get(s, s)
        for s in used
    ]
    return "; ".join(dict.fromkeys(texts))


def _write_loads(
    con: duckdb.DuckDBPyConnection, profile: Profile, loads: list[tuple], digests: dict[Path, str]
) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = []
    for load_id, (source, path, count, ref_date) in enumerate(loads, start=1):
        digest = digests[path]
        if count is None:
            count = _line_count(path)
        rows.append(
            (
                load_id,
                source,
                str(path.relative_to(profile.raw_dir)),
                digest,
                count,
                ref_date,
                now,
                "ok",
            )
        )
    con.executemany("INSERT INTO loads VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)


def _check_sidecar(path: Path, digest: str) -> None:
    sidecar = path.with_name(path.name + ".meta.yml")
    if not sidecar.is_file():
        return
    recorded = (yaml.safe_load(sidecar.read_text(encoding="utf-8")) or {}).get("sha256")
    if recorded is not None and str(recorded) != digest:
        raise InputError(
            path,
            f"sha256 {digest} differs from {recorded} recorded in "
            f"{sidecar.name}: the raw file was changed after delivery",
        )


def _line_count(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def _write_meta(con: duckdb.DuckDBPyConnection, profile: Profile, ref_dates: list[date]) -> None:
    if not ref_dates:
        raise InputError(profile.raw_dir, "no indicator could be computed from the data")
    sources = [profile.register_source] if profile.register_source else []
    meta = {
        "instance": profile.instance,
        "title": profile.title,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "attribution": "; ".join(
            dict.fromkeys(
                part.strip()
                for s in sources + list(profile.tables)
                for part in s.attribution.split(";")
            )
        ),
        "first_ref_date": ref_dates[0].isoformat(),
        "last_ref_date": ref_dates[-1].isoformat(),
        "indicators_sha256": sha256_of(profile.indicators),
        "profile_sha256": sha256_of(profile.path) if profile.path else "",
        "disclosure_min_denominator": str(profile.disclosure.min_denominator),
        "disclosure_min_count": str(profile.disclosure.min_count),
    }
    layout = profile.register_source and profile.register_source.layout
    if layout:
        meta["register_layout_sha256"] = sha256_of(layout)
    con.executemany("INSERT INTO meta VALUES (?, ?)", list(meta.items()))


def _write_public_parquet(building: Path) -> None:
    """The publication's tables as Parquet in ``parquet/`` beside it."""
    with warehouse.connect(building / warehouse.PUBLICATION, read_only=True) as con:
        _write_parquet(con, building / "parquet")


def _write_parquet(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    folder.mkdir()
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY 1"
        ).fetchall()
    ]
    for table in tables:
        partitioned = table in PARTITIONED
        target = str(folder / (table if partitioned else f"{table}.parquet")).replace("'", "''")
        options = ", PARTITION_BY (ref_date)" if partitioned else ""
        con.execute(f"COPY {table} TO '{target}' (FORMAT parquet, COMPRESSION zstd{options})")
