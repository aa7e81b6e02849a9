"""Scale series (issue #17): one register extract of 1 M to 84 M persons, each size
generated once (``imon demo-data``'s generator, one reference date), then scan, build and
the pandas reference interleaved in fresh processes:

* *scan*: ``SELECT count(*) FROM read_csv(file, all_varchar = true)`` (benchmarks/measure.py)
* *build*: ``imon build`` of the demo profile with its default ``resources`` (DuckDB's
  memory limit the smaller of 4 GiB and half the RAM, spill into ``<curated>/.spill``);
  peak RSS of the build's process tree (``ru_maxrss`` of the process and its children),
  the most bytes in the spill folder (sampled every 0.2 s), the load average around it
* *pandas*: benchmarks/pandas_reference.py on the same file; its IS and district shares
  are compared with the build's unprotected values (internal warehouse)

Usage: python -m benchmarks.scale [PERSONS ...]   (default 1000000 4000000 16000000)
Called by ``python -m benchmarks.run scale`` (``make bench``; ``make bench-scale`` adds
84 M). Repeats per size: IMON_BENCH_SCALE_REPEATS (default 3 up to 4 M persons, else 1).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench-work" / "scale"
HEADING = "## Scale: one register of 1 M to 84 M persons (issue #17)"
DEFAULT_SIZES = (1_000_000, 4_000_000, 16_000_000)
YEAR = "2024"


def repeats(persons: int) -> int:
    if "IMON_BENCH_SCALE_REPEATS" in os.environ:
        return int(os.environ["IMON_BENCH_SCALE_REPEATS"])
    return 3 if persons <= 4_000_000 else 1


def run_step(args: list[str], spill: Path | None = None) -> dict:
    """One step in a fresh process; its JSON line plus the most bytes in ``spill`` while it
    ran and the 1-minute load average before and after."""
    load_before = os.getloadavg()[0]
    child = subprocess.Popen(
        [sys.executable, "-m", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    most = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            most[0] = max(most[0], folder_bytes(spill))

    sampler = threading.Thread(target=sample, daemon=True) if spill else None
    if sampler:
        sampler.start()
    out, err = child.communicate()
    done.set()
    if sampler:
        sampler.join()
    if child.returncode:
        sys.stderr.write(err)
        raise SystemExit(f"scale step failed (exit {child.returncode}): python -m {' '.join(args)}")
    result = json.loads(out.strip().splitlines()[-1])
    result["load_before"], result["load_after"] = round(load_before, 2), os.getloadavg()[0]
    if spill:
        result["spill_bytes"] = most[0]
    return result


def folder_bytes(folder: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):  # removed between listing and stat
                total += os.stat(os.path.join(root, name)).st_size
    return total


def unprotected(curated: Path) -> tuple[float, dict[str, float]]:
    """The build's own IS of foreigners over the districts and the district shares (in
    percent), before disclosure control (the internal warehouse), to compare with pandas."""
    database = curated / "current" / "internal" / "warehouse.duckdb"
    with duckdb.connect(str(database), read_only=True) as con:
        index = con.execute(
            "SELECT value FROM indicator_values WHERE indicator_id = 'segregation_is_foreigners' "
            "AND level = 'district'"
        ).fetchall()
        shares = dict(
            con.execute(
                "SELECT area_id, value FROM indicator_values WHERE indicator_id = "
                "'foreigner_share' AND level = 'district'"
            ).fetchall()
        )
    return index[0][0], shares


def run_size(persons: int) -> dict:
    workdir = WORK / f"p{persons}"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    generated = run_step(["benchmarks.measure", "generate", str(workdir), str(persons), YEAR, YEAR])
    csv = next((workdir / "raw").glob("melderegister/*/*.csv"))
    curated = workdir / "curated"
    scans, builds, references = [], [], []
    for _ in range(repeats(persons)):  # interleaved: the three see the same load
        scans.append(run_step(["benchmarks.measure", "scan", str(workdir)]))
        shutil.rmtree(curated, ignore_errors=True)
        builds.append(run_step(["benchmarks.measure", "build", str(workdir)], curated / ".spill"))
        references.append(run_step(["benchmarks.pandas_reference", str(csv)]))
    ours_is, ours_shares = unprotected(curated)
    theirs = references[-1]
    shutil.rmtree(workdir, ignore_errors=True)
    scan_s = statistics.median(s["seconds"] for s in scans)
    build_s = statistics.median(b["seconds"] for b in builds)
    pandas_s = statistics.median(r["seconds"] for r in references)
    # CPU seconds (user + system of the process tree): what the step costs, less
    # dependent on what else the shared cores run than the wall-clock time
    scan_cpu = statistics.median(s["cpu_s"] for s in scans)
    build_cpu = statistics.median(b["cpu_s"] for b in builds)
    pandas_cpu = statistics.median(r["cpu_s"] for r in references)
    return {
        "persons": persons,
        "rows": scans[0]["rows"],
        "bytes": scans[0]["bytes"],
        "repeats": len(builds),
        "scan_s": scan_s,
        "build_s": build_s,
        "pandas_s": pandas_s,
        "build_over_scan": round(build_s / scan_s, 2),
        "build_over_pandas": round(build_s / pandas_s, 2),
        "cpu_s": {"scan": scan_cpu, "build": build_cpu, "pandas": pandas_cpu},
        "cpu_build_over_scan": round(build_cpu / scan_cpu, 2),
        "cpu_build_over_pandas": round(build_cpu / pandas_cpu, 2),
        "build_peak_mib": max(b["peak_mib"] for b in builds),
        "spill_mib": round(max(b["spill_bytes"] for b in builds) / 2**20),
        "pandas_peak_mib": max(r["peak_mib"] for r in references),
        "load": [
            round(min(s["load_before"] for s in scans + builds + references), 2),
            round(max(s["load_after"] for s in scans + builds + references), 2),
        ],
        "is_difference": abs(ours_is - theirs["segregation_is"]),
        "share_difference": max(
            abs(ours_shares[area] / 100 - share) for area, share in theirs["shares"].items()
        ),
        "generate": {k: generated[k] for k in ("seconds", "peak_mib")},
        "steps": {
            "scan": [s["seconds"] for s in scans],
            "build": [b["seconds"] for b in builds],
            "pandas": [r["seconds"] for r in references],
        },
    }


def gib(mib: float) -> str:
    return f"{mib / 1024:.2f} GiB"


def missing(results: list[dict]) -> list[str]:
    """A line naming the sizes of ``make bench-scale`` this run left out."""
    done = {r["persons"] for r in results}
    left = [f"{n / 1e6:g} M" for n in (*DEFAULT_SIZES, 84_000_000) if n not in done]
    if not left:
        return []
    return [f"Not in this run: {', '.join(left)} (`make bench-scale` runs all four sizes).", ""]


def section(results: list[dict], machine_line: str, command: str) -> str:
    lines = [
        "| persons | CSV | scan | `imon build` | build ÷ scan | CPU: build ÷ scan | "
        "build peak RSS | spilled | pandas | build ÷ pandas | CPU: build ÷ pandas | "
        "pandas peak RSS | load (1 min) | runs | `demo-data` peak RSS |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['persons'] / 1e6:g} M | {r['bytes'] / 2**20:,.0f} MiB | {r['scan_s']:.2f} s | "
        f"{r['build_s']:.1f} s | **{r['build_over_scan']:.1f}×** | "
        f"{r['cpu_build_over_scan']:.1f}× | **{gib(r['build_peak_mib'])}** | "
        f"{r['spill_mib']:,} MiB | {r['pandas_s']:.2f} s | {r['build_over_pandas']:.1f}× | "
        f"{r['cpu_build_over_pandas']:.1f}× | {gib(r['pandas_peak_mib'])} | "
        f"{r['load'][0]:.1f}–{r['load'][1]:.1f} | {r['repeats']} | "
        f"{gib(r['generate']['peak_mib'])} |"
        for r in results
    ]
    goals = [
        f"{r['persons'] / 1e6:g} M: ratio {'met' if r['build_over_scan'] <= 4 else '**not met**'}"
        f", memory {'met' if r['build_peak_mib'] <= 4096 else '**not met**'}"
        for r in results
    ]
    return "\n".join(
        [
            HEADING,
            "",
            f"Command: `{command}`",
            f"Machine: {machine_line}",
            f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            "",
            "One register extract per size (`imon demo-data --persons N --first-year 2024 "
            "--last-year 2024`), then per run in fresh processes, interleaved: *scan* "
            "(`SELECT count(*) FROM read_csv(file, all_varchar = true)`), *`imon build`* "
            "(everything: validation of every cell, migration background, indicators, "
            "disclosure control, audit, Parquet, publish; the demo profile's default "
            "`resources`: DuckDB memory limit min(4 GiB, half the RAM), spill into "
            "`<curated>/.spill`), *pandas* (benchmarks/pandas_reference.py: three columns, "
            "each district's foreigner share and the IS of foreigners; no validation, no "
            "migration background). Times are medians of the runs; peak RSS is `ru_maxrss` "
            "of the step's process tree; *spilled* the most bytes in the spill folder "
            "(sampled every 0.2 s); load: lowest 1-minute load average before and highest "
            "after a step of the size. *CPU*: the ratio of CPU seconds (user + system of "
            "the step's process tree), which depends less than wall-clock time on what else "
            "the shared cores run (DuckDB's scan is parallel, the build partly serial: on "
            "busy cores the wall-clock ratio grows). The machine is shared with other work, "
            "so absolute times are indicative; the ratios come from interleaved runs. "
            "*`demo-data` peak RSS*: writing the extract (etl/demo/generator.py simulates a "
            "city above 8 M residents block by block, so it needs the memory of one block).",
            "",
            *lines,
            "",
            "Goals of #17 (build ÷ scan ≤ 4×, peak ≤ 4 GiB): " + "; ".join(goals) + ". "
            "pandas and the build agree: largest |IS difference| "
            f"{max(r['is_difference'] for r in results):.1e}, largest |district share "
            f"difference| {max(r['share_difference'] for r in results):.1e} (the build's "
            "values before disclosure control).",
            "",
            *missing(results),
            "Raw results:",
            "",
            "```json",
            json.dumps(results, indent=1),
            "```",
            "",
        ]
    )


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or list(DEFAULT_SIZES)
    for persons in sizes:
        print(json.dumps(run_size(persons)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
