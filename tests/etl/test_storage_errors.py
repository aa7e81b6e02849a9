"""Storage failures (#20 item 5): DuckDB's exceptions for a full disk, an I/O error, an
invalidated database or a failed commit are not OSError; ``imon build`` and ``imon
refresh`` turn them into one message naming what failed and where, exit with status 1,
remove the half-built snapshot and change nothing published (nor the raw folder).
Injected by monkeypatch rather than by filling a disk."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from etl import warehouse
from etl.profile import load_profile
from imon.cli import main
from tests.etl.refresh_city import make_city, write_delivery
from tests.etl.test_area_table import FIXTURE, snapshot_bytes, write_profile
from tests.etl.test_refresh import BASE, NEW, tree

FULL = 'Could not write file "{}": No space left on device'

ERRORS = [
    duckdb.IOException,
    duckdb.FatalException,
    duckdb.TransactionException,
    duckdb.OutOfMemoryException,
]


def only_message(err: str) -> str:
    """The one error line ``imon`` printed after its progress lines; no traceback."""
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if "fehler" in line.lower()]
    assert len(lines) == 1, err
    assert err.rstrip().endswith(lines[0])
    return lines[0]


@pytest.fixture
def published(tmp_path):
    """The district-table fixture built and published once; its profile path."""
    raw = tmp_path / "raw"
    shutil.copytree(FIXTURE / "raw", raw)
    profile_yaml = write_profile(tmp_path, raw)
    assert main(["build", "--profile", str(profile_yaml)]) == 0
    return profile_yaml


@pytest.mark.parametrize("error", ERRORS)
def test_build_storage_failure_is_one_message(published, monkeypatch, capsys, error):
    curated = load_profile(published).curated_dir
    link, before = (curated / "current").readlink(), snapshot_bytes(curated)

    def full(con, folder):
        raise error(FULL.format(folder / "population"))

    monkeypatch.setattr("etl.build._write_parquet", full)
    capsys.readouterr()
    assert main(["build", "--profile", str(published)]) == 1
    line = only_message(capsys.readouterr().err)
    assert line.startswith(f"Ein-/Ausgabefehler: DuckDB {error.__name__} while building ")
    assert f"in {curated / 'snapshots'}: Could not write file " in line
    assert "No space left on device — the half-built snapshot was removed" in line
    assert (curated / "current").readlink() == link
    assert snapshot_bytes(curated) == before
    assert not list((curated / "snapshots").glob(warehouse.BUILDING_PREFIX + "*"))


def test_refresh_storage_failure_undoes_the_intake(tmp_path, monkeypatch, capsys):
    profile = load_profile(make_city(tmp_path, {"2023-12-31": BASE}))
    assert main(["build", "--profile", str(profile.path)]) == 0
    raw_before = tree(profile.raw_dir)
    current = warehouse.published(profile.curated_dir)

    def failed_commit(*_args, **_kwargs):
        raise duckdb.TransactionException("TransactionContext Error: Failed to commit")

    monkeypatch.setattr("etl.plausibility.compare", failed_commit)
    delivered = write_delivery(tmp_path / "in", "2024-12-31", NEW)
    capsys.readouterr()
    assert main(["refresh", "--publish", "--profile", str(profile.path), str(delivered)]) == 1
    line = only_message(capsys.readouterr().err)
    assert "DuckDB TransactionException while building snapshot" in line
    assert "Failed to commit" in line
    assert tree(profile.raw_dir) == raw_before
    assert not (profile.curated_dir / warehouse.JOURNAL).exists()
    assert warehouse.published(profile.curated_dir) == current
    assert warehouse.staged(profile.curated_dir) is None


def test_storage_failure_of_another_command_is_one_message(published, monkeypatch, capsys):
    """``imon values`` reading a snapshot on a failing disk: one line, status 1."""

    def failing(*_args, **_kwargs):
        raise duckdb.IOException('Could not read from file "publication.duckdb": I/O error')

    monkeypatch.setattr("dashboards.export.values.write_values", failing)
    capsys.readouterr()
    args = ["values", "--profile", str(published), "--indicator", "population"]
    assert main(args) == 1
    line = only_message(capsys.readouterr().err)
    assert line == (
        "Ein-/Ausgabefehler: DuckDB IOException in 'imon values': Could not read from file "
        '"publication.duckdb": I/O error'
    )


def test_other_errors_still_raise(published, monkeypatch):
    """Only storage errors are turned into a message; a bug keeps its traceback."""

    def broken(*_args, **_kwargs):
        raise duckdb.BinderException("Referenced column x not found")

    monkeypatch.setattr("dashboards.export.values.write_values", broken)
    with pytest.raises(duckdb.BinderException):
        main(["values", "--profile", str(published), "--indicator", "population"])
