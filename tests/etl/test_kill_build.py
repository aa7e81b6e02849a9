"""kill -9 of a running build, end to end (issue #17): the killed build's spill folder and
half-built snapshot are left behind, the published snapshot is untouched byte for byte, and
the next build removes the leftovers and succeeds with the same values.

The child is a real build of the tiny city in its own process. It holds still at a progress
line in the middle of the work (the register loaded, the half-built database and the spill
folder in place, DuckDB's connection open) until the test kills it: no sleeps, no race."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb

from etl import warehouse
from etl.build import build
from tests.conftest import REPO, TINY_PROFILE, tiny_profile
from tests.etl.test_refresh import tree

MARKER = "Indikatoren berechnen"
CHILD = f"""
import sys
from pathlib import Path
from etl.build import Reporter, build
from etl.profile import load_profile

class HoldAtMarker(Reporter):
    def info(self, message):
        if message.startswith({MARKER!r}):
            print("marker", flush=True)
            sys.stdin.readline()  # held mid-build until the test kills this process

profile = load_profile({str(TINY_PROFILE)!r})
build(profile.model_copy(update={{"curated_dir": Path(sys.argv[1])}}), HoldAtMarker())
print("finished", flush=True)
"""


def published_values(snapshot: Path) -> list[tuple]:
    with duckdb.connect(str(snapshot / warehouse.PUBLICATION), read_only=True) as con:
        return con.execute("SELECT * FROM indicator_values ORDER BY ALL").fetchall()


def test_kill_minus_9_of_a_running_build(tiny_warehouse, tmp_path):
    curated = tmp_path / "curated"
    shutil.copytree(tiny_warehouse.parents[3], curated, symlinks=True)  # the session's build
    before = warehouse.published(curated)
    files_before = tree(curated / warehouse.CURRENT)
    history_before = (curated / warehouse.HISTORY).read_bytes()

    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(curated)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stdout.readline()
        assert line == "marker\n", line + child.stderr.read()
        spill = curated / ".spill" / f"{warehouse.SPILL_PREFIX}{child.pid}"
        building = list((curated / warehouse.SNAPSHOTS).glob(f"{warehouse.BUILDING_PREFIX}*"))
        assert spill.is_dir()
        assert [(b / warehouse.DATABASE).is_file() for b in building] == [True]
    finally:
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=60) == -signal.SIGKILL
        child.stdin.close()
        child.stdout.close()
        child.stderr.close()

    # what the killed build left: its spill folder and half-built snapshot, nothing served
    assert spill.is_dir() and building[0].is_dir()
    assert warehouse.published(curated) == before
    assert tree(curated / warehouse.CURRENT) == files_before
    assert (curated / warehouse.HISTORY).read_bytes() == history_before

    result = build(tiny_profile(curated))
    assert result.snapshot != before and warehouse.published(curated) == result.snapshot
    assert not spill.exists() and not building[0].exists()
    assert not (curated / ".spill").exists()  # the default folder goes when empty
    assert not list((curated / warehouse.SNAPSHOTS).glob(f"{warehouse.BUILDING_PREFIX}*"))
    assert tree(before) == files_before  # kept as the rollback target, unchanged
    assert published_values(result.snapshot) == published_values(before)
