"""The profile's ``resources`` (issue #17): DuckDB's memory limit, threads and spill folder
reach every connection a build opens; the spill folder goes after success, failure and,
for a killed build, at the start of the next one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from etl import build as build_module
from etl import deliveries, plausibility, warehouse
from etl.audit.goals import check_project_values
from etl.build import build
from etl.errors import ConfigError, InputError
from etl.profile import Resources, load_profile
from tests.conftest import TINY_PROFILE, tiny_profile


def test_settings_reach_duckdb(tmp_path):
    profile = tiny_profile(
        tmp_path / "curated",
        resources=Resources(memory_limit="1GiB", threads=1, temp_directory=tmp_path / "spill"),
    )
    with warehouse.resources(profile) as folder:
        assert folder == tmp_path / "spill" / f"imon-build-{os.getpid()}"
        assert folder.is_dir()
        with warehouse.connect(tmp_path / "x.duckdb") as con:
            settings = con.execute(
                "SELECT current_setting('memory_limit'), current_setting('threads'), "
                "current_setting('temp_directory')"
            ).fetchone()
    assert settings == ("1.0 GiB", 1, str(folder))  # 1 GiB = 1024 MiB
    assert not folder.exists()
    with warehouse.connect() as con:  # outside a build: DuckDB's own defaults
        assert con.execute("SELECT current_setting('temp_directory')").fetchone()[0] != str(folder)


def test_audit_report_and_refresh_connections_get_them(tmp_path, tiny_warehouse, monkeypatch):
    """The connections of the goals audit, the plausibility report and the refresh's
    check open through warehouse.connect: inside a build they get its settings, and a
    read-only one stays read-only. A spy on duckdb.connect reads each one's settings."""
    seen = []
    real = duckdb.connect

    def spy(*args, **kwargs):
        con = real(*args, **kwargs)
        seen.append(
            con.execute(
                "SELECT current_setting('memory_limit'), current_setting('threads'), "
                "current_setting('temp_directory'), current_setting('access_mode')"
            ).fetchone()
        )
        return con

    monkeypatch.setattr(duckdb, "connect", spy)
    snapshot = tiny_warehouse.parents[1]
    profile = tiny_profile(
        tmp_path / "curated",
        resources=Resources(memory_limit="300MiB", threads=1, temp_directory=tmp_path / "spill"),
    )
    with warehouse.resources(profile) as folder:
        with warehouse.resources(profile) as inner:  # a build inside a refresh: one folder
            assert inner == folder
        check_project_values(snapshot / warehouse.PUBLICATION, 10)
        plausibility.compare(tiny_warehouse, None, profile)
        deliveries._reads(snapshot, [])
    expected = ("300.0 MiB", 1, str(folder))
    assert [s[:3] for s in seen] == [expected] * 3
    assert [s[3] for s in seen] == ["read_only", "automatic", "read_only"]
    assert not folder.exists()


def test_defaults_from_the_machine(tmp_path):
    meminfo = Path("/proc/meminfo").read_text().split("\n")
    ram = int(next(line.split()[1] for line in meminfo if line.startswith("MemTotal"))) * 1024
    resources = Resources()
    # the smaller of 4 GiB and half the RAM (page rounding of MemTotal aside)
    assert abs(resources.memory_limit_bytes() - min(4 * 1024**3, ram // 2)) < 2 * 1024**2
    assert resources.thread_count() == len(os.sched_getaffinity(0))
    assert resources.spill_root(tmp_path) == tmp_path / ".spill"
    assert Resources(memory_limit="4GB").memory_limit_bytes() == 4_000_000_000


def test_profile_key_is_validated(tmp_path):
    text = TINY_PROFILE.read_text(encoding="utf-8")
    profile = tmp_path / "p.yaml"
    profile.write_text(
        text + "\nresources:\n  memory_limit: 2GB\n  temp_directory: spill\n", encoding="utf-8"
    )
    loaded = load_profile(profile)
    assert loaded.resources.memory_limit_bytes() == 2_000_000_000
    assert loaded.resources.temp_directory == tmp_path / "spill"  # relative to the profile
    profile.write_text(text + "\nresources:\n  memory_limit: viel\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"resources\.memory_limit.*'viel' is no memory size"):
        load_profile(profile)


def test_a_built_snapshot_leaves_no_spill_folder(tiny_warehouse):
    curated = tiny_warehouse.parents[3]  # <curated>/snapshots/<id>/internal/warehouse.duckdb
    assert not (curated / ".spill").exists()  # the default spill folder, removed when empty
    assert not list(curated.glob("snapshots/*/**/*.tmp"))  # DuckDB's default spill place


def test_a_failed_build_leaves_no_spill_folder(tmp_path, monkeypatch):
    spill = tmp_path / "spill"
    profile = tiny_profile(tmp_path / "curated", resources=Resources(temp_directory=spill))
    seen = []

    def fail(_profile):
        seen.extend(spill.iterdir())
        raise InputError(tmp_path / "x.csv", "stop here")

    monkeypatch.setattr(build_module, "discover_inputs", fail)
    with pytest.raises(InputError, match="stop here"):
        build(profile)
    assert [p.name for p in seen] == [f"imon-build-{os.getpid()}"]
    assert list(spill.iterdir()) == []


def test_stale_spill_of_a_dead_build_is_removed(tmp_path):
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], **OUT)
    living = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        spill = tmp_path / "spill"
        dead = spill / f"imon-build-{ended.stdout.strip()}"
        alive = spill / f"imon-build-{living.pid}"
        for folder in (dead, alive):
            folder.mkdir(parents=True)
            (folder / "duckdb_temp_storage-0.tmp").write_bytes(b"x" * 1000)
        profile = tiny_profile(tmp_path / "curated", resources=Resources(temp_directory=spill))
        with warehouse.resources(profile):
            assert not dead.exists()
            assert (alive / "duckdb_temp_storage-0.tmp").is_file()  # another build's
    finally:
        living.kill()
        living.wait()


OUT = {"capture_output": True, "text": True, "check": True}
