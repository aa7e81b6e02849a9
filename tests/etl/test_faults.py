"""Faults during build, refresh and publish: the published snapshot stays byte-identical
(or, once the swap is done, is the complete new one), the raw folder is restored, and the
dashboard keeps answering.

* kill -9 of ``imon refresh --publish`` / ``imon build`` at >= 20 seeded random points,
  with a real ``imon serve`` process answering throughout;
* injected write failures (disk full while writing Parquet, the report or the raw copy;
  the swap of ``current``);
* corrupt, truncated and wrongly encoded deliveries;
* two refreshes at once (the second is told another one is running).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from benchmarks.publish_load import free_port, http_calls, offered_dates, start_server
from etl import deliveries, warehouse
from etl.build import build
from etl.checks import run_checks
from etl.profile import load_profile
from etl.warehouse import write_durably
from imon.cli import main
from tests.conftest import REPO
from tests.etl.refresh_city import make_city, write_delivery
from tests.etl.test_refresh import BASE, NEW, dates_offered, sha256, tree

KILLS = 20
SEED = 20250301
STAGES = [
    "before any write",
    "intake or build",
    "Parquet written",
    "report written",
    "staged",
    "swapped",
]
# A process that has done the imports of `imon` and forks one child per command: each
# child is a real `imon` run (imon.cli.main) that the test kills with SIGKILL, and the
# random delay falls into the work itself rather than into Python's start-up.
ZYGOTE = """
import json, os, sys, traceback
import imon.cli
print("ready", flush=True)
for line in sys.stdin:
    args, log = json.loads(line)
    pid = os.fork()
    if pid == 0:
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(out, 1)
        os.dup2(out, 2)
        try:
            code = imon.cli.main(args)
        except BaseException:
            traceback.print_exc()
            code = 99
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    print("pid", pid, flush=True)
    print("status", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)
"""


class Zygote:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self.process.stdout.readline() == b"ready\n"

    def run(self, args: list[str], log: Path, kill_after: float | None) -> tuple[int, float]:
        """Run ``imon ARGS`` in a child; kill -9 it after ``kill_after`` s. Returns the exit
        code (-9 if it was killed before it finished) and the seconds it ran."""
        began = time.monotonic()
        self.process.stdin.write((json.dumps([args, str(log)]) + "\n").encode())
        self.process.stdin.flush()
        pid = int(self.process.stdout.readline().split()[1])
        if kill_after is not None:
            time.sleep(kill_after)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        code = int(self.process.stdout.readline().split()[1])
        return code, time.monotonic() - began

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def stage_left(curated: Path, published_before: str) -> str:
    """How far a killed run got, from what it left in the curated directory."""
    if warehouse.published(curated).name != published_before:
        return "swapped"
    building = next((curated / "snapshots").glob(".building-*"), None)
    if building is not None:
        return (
            "report written"
            if (building / "report.html").exists()
            else "Parquet written"
            if (building / "parquet" / "meta.parquet").exists()
            else "intake or build"
        )
    if (curated / warehouse.JOURNAL).exists():
        return "intake or build"
    staged = warehouse.staged(curated)
    return "staged" if staged is not None else "before any write"


def check_published(curated: Path, name_before: str, files_before: dict) -> Path:
    """After a run: the snapshot published before, byte for byte, or (killed after the
    atomic swap, or finished) a complete new one."""
    current = warehouse.published(curated)
    if current.name == name_before:
        assert tree(current) == files_before, "the published files changed"
    else:
        assert_complete(current)
    return current


def published_state(curated: Path) -> tuple[str, dict[str, str]]:
    current = warehouse.published(curated)
    return current.name, tree(current)


def assert_complete(snapshot: Path, finest: str = "district") -> None:
    """A finished snapshot: its database opens, passes the contract checks, has Parquet."""
    assert not snapshot.name.startswith(".")
    with duckdb.connect(str(snapshot / warehouse.DATABASE), read_only=True) as con:
        run_checks(con, finest)
        assert con.execute("SELECT count(*) FROM indicator_values").fetchall()[0][0] > 0
    assert (snapshot / "parquet" / "loads.parquet").is_file()


def served_dates(base: str) -> list[str]:
    """The dates the running server offers on its map page (real HTTP requests)."""
    with urllib.request.urlopen(base + "/", timeout=30) as response:
        assert response.status == 200
    return offered_dates(http_calls(base))


def snapshot_dates(snapshot: Path) -> list[str]:
    with duckdb.connect(str(snapshot / warehouse.DATABASE), read_only=True) as con:
        rows = con.execute(
            "SELECT DISTINCT ref_date FROM indicator_values WHERE "
            "indicator_id = 'population' ORDER BY 1 DESC"
        ).fetchall()
    return [r[0].isoformat() for r in rows]


def raw_is_consistent(profile, delivery: Path) -> None:
    """After a completed refresh: the delivery is in place once, with its sidecar."""
    target = profile.raw_dir / "melderegister" / "2024-12-31" / "melderegister_2024-12-31.csv"
    assert target.read_bytes() == delivery.read_bytes()
    sidecar = target.with_name(target.name + ".meta.yml").read_text(encoding="utf-8")
    assert f"sha256: {sha256(delivery)}" in sidecar
    assert not [p for p in profile.raw_dir.rglob("*") if p.name.endswith(".part")]
    assert not (profile.curated_dir / warehouse.JOURNAL).exists()


@pytest.fixture
def city(tmp_path):
    profile = load_profile(make_city(tmp_path, {"2023-12-31": BASE}))
    build(profile)
    return profile


def test_kill_minus_9_at_random_points(city, tmp_path):
    """Kills at seeded random points of ``imon refresh --publish`` and ``imon build``; the
    range of delays follows the runs' durations on this machine (a run that finished
    before its kill narrows it), so nearly every run is killed somewhere inside."""
    profile = city
    rng = random.Random(SEED)
    port = free_port()
    server = start_server(profile.path, port, tmp_path / "serve.log")
    base = f"http://127.0.0.1:{port}"
    zygote = Zygote()
    made = [
        write_delivery(
            tmp_path / f"in{i}", "2024-12-31", {**NEW, "11": (12, 1 + i % 3), "21": (11, 2 + i % 4)}
        )
        for i in range(2 * KILLS)
    ]

    def command(i: int) -> tuple[str, list[str]]:
        if i % 3 == 2:
            return "build", ["build", "--profile", str(profile.path)]
        return "refresh", ["refresh", "--publish", "--profile", str(profile.path), str(made[i])]

    try:
        longest = {
            kind: zygote.run(args, tmp_path / f"{kind}.log", None)[1]
            for kind, args in (command(0), command(2))
        }
        raw_is_consistent(profile, made[0])
        outcomes = {"old": 0, "new": 0, "finished": 0}
        stages = dict.fromkeys(STAGES, 0)
        i = 2
        while outcomes["old"] + outcomes["new"] < KILLS and i < 2 * KILLS - 2:
            i += 1
            kind, args = command(i)
            name_before, files_before = published_state(profile.curated_dir)
            log = tmp_path / f"run{i}.log"
            code, seconds = zygote.run(args, log, rng.uniform(0, 1.1 * longest[kind]))
            assert code in (0, -signal.SIGKILL), log.read_text()
            current = check_published(profile.curated_dir, name_before, files_before)
            if code == 0:
                longest[kind] = seconds
                # a finished run removed its spill folder and those of killed runs (#17)
                assert not (profile.curated_dir / ".spill").exists()
            outcomes[
                "finished" if code == 0 else "old" if current.name == name_before else "new"
            ] += 1
            if code != 0:
                stages[stage_left(profile.curated_dir, name_before)] += 1
            assert served_dates(base) == snapshot_dates(current)
            if i % 5 == 0:  # the next run repairs whatever a kill left behind
                deliveries.refresh(profile, [made[i]], publish=True)
                raw_is_consistent(profile, made[i])
        assert outcomes["old"] + outcomes["new"] >= KILLS, outcomes
        last = made[i + 1]
        deliveries.refresh(profile, [last], publish=True)
        raw_is_consistent(profile, last)
        assert not (profile.curated_dir / ".spill").exists()
        assert served_dates(base) == ["2024-12-31", "2023-12-31"]
        assert sum(n > 0 for n in stages.values()) >= 2, stages
        print(f"\n{i - 2} runs: {outcomes}; where the kills struck: {stages}")
    finally:
        zygote.close()
        server.terminate()
        server.wait(timeout=30)


def enospc(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def half_copy(source, target):
    data = Path(source).read_bytes()
    Path(target).write_bytes(data[: len(data) // 2])
    raise OSError(errno.EIO, os.strerror(errno.EIO), str(target))


COPYFILE = shutil.copyfile


def half_copy_into_raw(source, target):
    """The copy into the mirror works; the final copy into the raw folder (after the
    snapshot and its report are complete) fails half-way."""
    if ".intake-" in str(target):
        return COPYFILE(source, target)
    return half_copy(source, target)


def report_write_fails(path, text):
    if Path(path).name == "report.html":
        enospc()
    write_durably(path, text)


@pytest.mark.parametrize(
    "where, replacement",
    [
        ("etl.build._write_parquet", enospc),  # the build's Parquet files
        ("etl.warehouse.write_durably", report_write_fails),  # the plausibility report
        ("etl.deliveries.shutil.copyfile", half_copy),  # the copy into the mirror
        ("etl.deliveries.shutil.copyfile", half_copy_into_raw),  # the copy into the raw folder
    ],
)
def test_write_failure_during_refresh_changes_nothing(
    city, tmp_path, monkeypatch, capsys, where, replacement
):
    profile = city
    raw_before = tree(profile.raw_dir)
    published_before = published_state(profile.curated_dir)
    monkeypatch.setattr(where, replacement)
    delivered = write_delivery(tmp_path / "in", "2024-12-31", NEW)
    assert main(["refresh", "--publish", "--profile", str(profile.path), str(delivered)]) == 1
    assert "Ein-/Ausgabefehler" in capsys.readouterr().err
    assert published_state(profile.curated_dir) == published_before
    assert tree(profile.raw_dir) == raw_before
    assert warehouse.staged(profile.curated_dir) is None
    assert not list((profile.curated_dir / "snapshots").glob(".building-*"))
    assert not (profile.curated_dir / warehouse.JOURNAL).exists()
    assert not (profile.curated_dir / ".spill").exists()  # the failed refresh's spill (#17)
    monkeypatch.undo()  # the same delivery goes through once the disk has room again
    deliveries.refresh(profile, [delivered], publish=True)
    raw_is_consistent(profile, delivered)


def test_write_failure_while_swapping_current_keeps_the_old_snapshot(city, tmp_path, monkeypatch):
    profile = city
    deliveries.refresh(profile, [write_delivery(tmp_path / "in", "2024-12-31", NEW)])
    published_before = published_state(profile.curated_dir)
    staged = warehouse.staged(profile.curated_dir)
    point = warehouse._point

    def failing_point(curated_dir, name, snapshot):
        if name == warehouse.CURRENT:
            enospc()
        point(curated_dir, name, snapshot)

    monkeypatch.setattr(warehouse, "_point", failing_point)
    assert main(["publish", "--profile", str(profile.path)]) == 1
    assert published_state(profile.curated_dir) == published_before
    assert warehouse.staged(profile.curated_dir) == staged
    with pytest.raises(OSError):
        build(profile)  # a direct build's finished folder is removed again
    assert sorted(p.name for p in (profile.curated_dir / "snapshots").iterdir()) == sorted(
        [published_before[0], staged.name]
    )
    monkeypatch.undo()
    assert main(["publish", "--profile", str(profile.path)]) == 0
    assert warehouse.published(profile.curated_dir) == staged


def corrupt(text: bytes) -> bytes:
    return random.Random(SEED).randbytes(4000)


def truncated(text: bytes) -> bytes:
    return text[: len(text) // 2]  # cut in the middle of a row


def wrongly_encoded(text: bytes) -> bytes:
    return text.replace(b"P110002;11", "P110002ß;11".encode("cp1252"))


@pytest.mark.parametrize(
    "damage, line, words",
    [
        (corrupt, 1, "not valid utf-8"),
        (truncated, 23, "Expected Number of Columns: 12 Found: 11"),
        (wrongly_encoded, 4, "not valid utf-8"),
    ],
)
def test_bad_delivery_is_refused_and_changes_nothing(city, tmp_path, capsys, damage, line, words):
    from dashboards.app import create_app

    profile = city
    app = create_app(profile.curated_dir)
    raw_before = tree(profile.raw_dir)
    published_before = published_state(profile.curated_dir)
    good = write_delivery(tmp_path / "good", "2024-12-31", NEW)
    bad = tmp_path / "bad" / good.name
    bad.parent.mkdir()
    bad.write_bytes(damage(good.read_bytes()))
    assert main(["refresh", "--publish", "--profile", str(profile.path), str(bad)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{bad}, line {line}" in err and words in err
    assert published_state(profile.curated_dir) == published_before
    assert tree(profile.raw_dir) == raw_before
    assert warehouse.staged(profile.curated_dir) is None
    client = app.server.test_client()
    assert client.get("/").status_code == 200
    assert dates_offered(client) == ["2023-12-31"]


def lock_holder(lock_file: Path) -> int | None:
    """pid holding the flock on ``lock_file`` (from /proc/locks), or None."""
    inode = lock_file.stat().st_ino
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "FLOCK" in fields and fields[-3].endswith(f":{inode}"):
            return int(fields[-4])
    return None


def test_two_refreshes_at_once(city, tmp_path, capsys):
    profile = city
    first = write_delivery(tmp_path / "a", "2024-12-31", NEW)
    second = write_delivery(tmp_path / "b", "2025-12-31", NEW)
    running = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "imon.cli",
            "refresh",
            "--publish",
            "--profile",
            str(profile.path),
            str(first),
        ],
        cwd=REPO,
        stderr=subprocess.PIPE,
    )
    lock_file = profile.curated_dir / ".build.lock"
    deadline = time.monotonic() + 60
    while lock_holder(lock_file) != running.pid:
        assert running.poll() is None and time.monotonic() < deadline
        time.sleep(0.002)
    running.send_signal(signal.SIGSTOP)  # hold it inside the locked refresh
    try:
        raw_before = tree(profile.raw_dir)
        assert main(["refresh", "--profile", str(profile.path), str(second)]) == 2
        err = capsys.readouterr().err
        assert "another build of this instance is running" in err
        assert tree(profile.raw_dir) == raw_before
    finally:
        running.send_signal(signal.SIGCONT)
    assert running.wait(timeout=120) == 0, running.stderr.read().decode()
    raw_is_consistent(profile, first)
    assert snapshot_dates(warehouse.published(profile.curated_dir)) == ["2024-12-31", "2023-12-31"]


def test_interrupted_intake_is_undone_by_the_next_build(city, tmp_path):
    """A journal left by a killed refresh: the next build restores the raw folder."""
    profile = city
    raw_before = tree(profile.raw_dir)
    delivered = write_delivery(tmp_path / "in", "2023-12-31", NEW)  # a revision of 2023
    [delivery] = deliveries.plan(profile, [delivered])
    steps = deliveries._steps(profile, delivery, datetime.now(UTC))
    warehouse.journal_begin(profile.curated_dir, [record for record, _ in steps])
    for _, action in steps[: len(steps) - 1]:  # killed before the sidecar is in place
        action()
    assert tree(profile.raw_dir) != raw_before
    build(profile)
    assert tree(profile.raw_dir) == raw_before
    assert not (profile.curated_dir / warehouse.JOURNAL).exists()


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP])
def test_terminated_refresh_is_undone_at_once(city, tmp_path, monkeypatch, number):
    """``kill`` (SIGTERM) or a closed terminal (SIGHUP) while the build runs on the mirror
    of the raw folder that holds the new delivery: the mirror is removed before the
    process ends, and the raw folder was never touched (etl/deliveries.py: _mirror;
    etl/build.py: exit_on_termination)."""
    profile = city
    raw_before = tree(profile.raw_dir)
    published_before = published_state(profile.curated_dir)
    delivered = write_delivery(tmp_path / "in", "2024-12-31", NEW)
    seen = {}

    def terminated_build(mirrored, *_args, **_kwargs):
        seen["raw"] = tree(profile.raw_dir)
        seen["journal"] = (profile.curated_dir / warehouse.JOURNAL).exists()
        seen["mirror"] = mirrored.raw_dir
        seen["mirrored"] = sorted(p.name for p in mirrored.raw_dir.rglob("*.csv"))
        os.kill(os.getpid(), number)
        time.sleep(10)  # the handler raises SystemExit before this returns
        raise AssertionError("not terminated")

    monkeypatch.setattr(deliveries, "build_locked", terminated_build)
    with pytest.raises(SystemExit) as info:
        deliveries.refresh(profile, [delivered], publish=True)
    assert info.value.code == 128 + number
    assert not seen["journal"] and seen["raw"] == raw_before  # raw untouched in the build
    assert delivered.name in seen["mirrored"]  # the build read the delivery from the mirror
    assert not seen["mirror"].exists()
    assert not list(profile.curated_dir.glob(".intake-*"))
    assert tree(profile.raw_dir) == raw_before
    assert not (profile.curated_dir / warehouse.JOURNAL).exists()
    assert published_state(profile.curated_dir) == published_before
    assert signal.getsignal(number) is signal.SIG_DFL  # the handler is gone again
    monkeypatch.undo()
    deliveries.refresh(profile, [delivered], publish=True)
    raw_is_consistent(profile, delivered)


def test_killed_refresh_leaves_the_raw_folder_untouched(city, tmp_path):
    """``kill -9`` during the build of a refresh: the delivery is only in the mirror below
    the curated folder; the raw folder is as before at once, and the next build removes
    the mirror."""
    profile = city
    raw_before = tree(profile.raw_dir)
    delivered = write_delivery(tmp_path / "in", "2024-12-31", NEW)
    code = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, signal, sys\n"
            "import etl.deliveries as d\n"
            "from etl.profile import load_profile\n"
            "def killed(*a, **k): os.kill(os.getpid(), signal.SIGKILL)\n"
            "d.build_locked = killed\n"
            "d.refresh(load_profile(sys.argv[1]), [sys.argv[2]])\n",
            str(profile.path),
            str(delivered),
        ],
        cwd=REPO,
        check=False,
    ).returncode
    assert code == -signal.SIGKILL
    assert tree(profile.raw_dir) == raw_before
    assert not (profile.curated_dir / warehouse.JOURNAL).exists()
    [mirror] = profile.curated_dir.glob(".intake-*")
    assert delivered.name in [p.name for p in mirror.rglob("*.csv")]
    build(profile)
    assert not mirror.exists()
    assert tree(profile.raw_dir) == raw_before


def test_terminated_build_removes_its_snapshot_at_once(city, monkeypatch):
    """SIGTERM while ``imon build`` writes Parquet: the half-built snapshot is removed
    before the process ends, not by the next build."""
    profile = city
    published_before = published_state(profile.curated_dir)

    def terminated(*_args, **_kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(10)  # the handler raises SystemExit before this returns
        raise AssertionError("not terminated")

    monkeypatch.setattr("etl.build._write_parquet", terminated)
    with pytest.raises(SystemExit) as info:
        build(profile)
    assert info.value.code == 128 + signal.SIGTERM
    assert not list((profile.curated_dir / "snapshots").glob(warehouse.BUILDING_PREFIX + "*"))
    assert published_state(profile.curated_dir) == published_before
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
