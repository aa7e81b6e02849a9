"""``imon build``: raw files of one instance -> a new published warehouse snapshot.

Load inputs (profile, indicators.yaml, area lists, register extracts) -> stage and
aggregate each extract -> indicators -> contract checks -> Parquet -> atomic publish.
Any error leaves the previously published snapshot untouched.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import yaml

from etl import warehouse
from etl.checks import run_checks
from etl.errors import InputError
from etl.files import sha256_of
from etl.indicators.engine import compute
from etl.indicators.spec import Catalogue, load_catalogue
from etl.profile import Profile
from etl.sources import register_persons
from etl.sources.area_list import AreaVintage, read_vintage
from etl.transform.areas import write_areas, write_levels
from etl.transform.population import aggregate_persons, load_code_lists

SCHEMA_SQL = (Path(__file__).parent / "schema.sql").read_text(encoding="utf-8")
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


def build(profile: Profile, reporter: Reporter | None = None) -> BuildResult:
    """Build and publish a new snapshot for ``profile``."""
    reporter = reporter or Reporter()
    catalogue = load_catalogue(profile.indicators)
    extracts = discover_extracts(profile)
    vintages = read_vintages(profile)
    digests = verify_raw([p for _, p in extracts] + [f for v in vintages for f in v.files])
    with warehouse.build_lock(profile.curated_dir):
        building = warehouse.begin(profile.curated_dir)
        try:
            result = _build_into(building, profile, catalogue, extracts, vintages, digests,
                                 reporter)
            result.snapshot = warehouse.publish(profile.curated_dir, building,
                                                profile.keep_snapshots)
        except BaseException:
            warehouse.discard(building)
            raise
    return result


def discover_extracts(profile: Profile) -> list[tuple[date, Path]]:
    """Register extracts below the raw directory with their reference dates."""
    files = sorted(profile.raw_dir.glob(profile.register_source.files))
    if not files:
        raise InputError(profile.raw_dir, "no register extract matches "
                         f"'{profile.register_source.files}' (run 'imon demo-data' for the demo)")
    extracts: dict[date, Path] = {}
    for path in files:
        try:
            ref_date = date.fromisoformat(path.parent.name)
        except ValueError as exc:
            raise InputError(path, f"folder name '{path.parent.name}' is not the reference "
                             "date (expected YYYY-MM-DD)") from exc
        if ref_date in extracts:
            raise InputError(path, f"a second extract for {ref_date} (first: "
                             f"{extracts[ref_date]})")
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
            raise InputError(areas_csv.parent, f"no geometry file '{Path(geo.geometry).name}' "
                             "next to the area list")
        vintages.append(read_vintage(areas_csv, shapes[0], geo.level_names,
                                     profile.level_ids()))
    return vintages


def verify_raw(paths: list[Path]) -> dict[Path, str]:
    """sha256 of every raw file, checked against its ``.meta.yml`` sidecar where present,
    before any work is done: a raw file changed after delivery stops the build at once."""
    digests = {}
    for path in paths:
        digests[path] = sha256_of(path)
        _check_sidecar(path, digests[path])
    return digests


def _build_into(building: Path, profile: Profile, catalogue: Catalogue,
                extracts: list[tuple[date, Path]], vintages: list[AreaVintage],
                digests: dict[Path, str], reporter: Reporter) -> BuildResult:
    con = duckdb.connect(str(building / warehouse.DATABASE))
    try:
        con.execute(SCHEMA_SQL)
        load_code_lists(con)
        write_levels(con, profile)
        write_areas(con, vintages, profile)
        warnings = [w for v in vintages for w in v.warnings]
        for message in warnings:
            reporter.info(f"[yellow]Hinweis:[/yellow] {message}")
        loads = [(v_file, None, None) for v in vintages for v_file in v.files]
        persons = _load_extracts(con, profile, extracts, reporter, loads)
        reporter.info("Indikatoren berechnen …")
        _write_catalogue(con, catalogue, profile)
        values = compute(con, catalogue, profile)
        run_checks(con, profile.level_ids()[-1])
        _write_loads(con, profile, loads, digests)
        _write_meta(con, profile, extracts)
        reporter.info("Parquet schreiben …")
        _write_parquet(con, building / "parquet")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return BuildResult(building, persons, [d for d, _ in extracts], values, warnings)


def _load_extracts(con: duckdb.DuckDBPyConnection, profile: Profile,
                   extracts: list[tuple[date, Path]], reporter: Reporter,
                   loads: list[tuple]) -> int:
    source = profile.register_source
    total = 0
    for ref_date, path in reporter.track(extracts, "Melderegister laden", len(extracts)):
        _valid_areas(con, ref_date, profile.level_ids()[-1])
        rows = register_persons.stage(con, path, ref_date, source.layout)
        counted = aggregate_persons(con, ref_date)
        if counted != rows:
            raise InputError(path, f"{rows} rows staged but {counted} persons counted")
        loads.append((path, rows, ref_date))
        total += rows
    return total


def _valid_areas(con: duckdb.DuckDBPyConnection, ref_date: date, finest: str) -> None:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE valid_areas AS SELECT area_id FROM areas "
        "WHERE level = ? AND ? BETWEEN valid_from AND coalesce(valid_to, DATE '9999-12-31')",
        [finest, ref_date])


def _write_catalogue(con: duckdb.DuckDBPyConnection, catalogue: Catalogue,
                     profile: Profile) -> None:
    sources = {"register": profile.register_source.attribution}
    rows = []
    for order, ind in enumerate(catalogue.indicators):
        unit = catalogue.units[ind.unit]
        num, den = ind.numerator_label, ind.denominator_label
        rows.append((ind.id, ind.function, ind.topic, ind.title.de, ind.title.en,
                     ind.definition.de, ind.definition.en, num and num.de, den and den.de,
                     num and num.en, den and den.en, ind.unit, unit.de, unit.en,
                     ind.decimals, sources.get(ind.source, ind.source), ind.definition_id,
                     order))
    con.executemany(f"INSERT INTO indicators VALUES ({', '.join('?' * 18)})", rows)


def _write_loads(con: duckdb.DuckDBPyConnection, profile: Profile, loads: list[tuple],
                 digests: dict[Path, str]) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = []
    for load_id, (path, count, ref_date) in enumerate(loads, start=1):
        digest = digests[path]
        if count is None:
            count = _line_count(path)
        rows.append((load_id, "register" if ref_date else "geography",
                     str(path.relative_to(profile.raw_dir)), digest, count, ref_date, now, "ok"))
    con.executemany("INSERT INTO loads VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)


def _check_sidecar(path: Path, digest: str) -> None:
    sidecar = path.with_name(path.name + ".meta.yml")
    if not sidecar.is_file():
        return
    recorded = (yaml.safe_load(sidecar.read_text(encoding="utf-8")) or {}).get("sha256")
    if recorded is not None and str(recorded) != digest:
        raise InputError(path, f"sha256 {digest} differs from {recorded} recorded in "
                         f"{sidecar.name}: the raw file was changed after delivery")


def _line_count(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def _write_meta(con: duckdb.DuckDBPyConnection, profile: Profile,
                extracts: list[tuple[date, Path]]) -> None:
    meta = {
        "instance": profile.instance,
        "title": profile.title,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "attribution": profile.register_source.attribution,
        "first_ref_date": extracts[0][0].isoformat(),
        "last_ref_date": extracts[-1][0].isoformat(),
        "indicators_sha256": sha256_of(profile.indicators),
    }
    con.executemany("INSERT INTO meta VALUES (?, ?)", list(meta.items()))


def _write_parquet(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    folder.mkdir()
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY 1").fetchall()]
    for table in tables:
        partitioned = table in PARTITIONED
        target = str(folder / (table if partitioned else f"{table}.parquet")).replace("'", "''")
        options = ", PARTITION_BY (ref_date)" if partitioned else ""
        con.execute(f"COPY {table} TO '{target}' (FORMAT parquet, COMPRESSION zstd{options})")

