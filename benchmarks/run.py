"""``make bench``: build time and peak memory of the demo-city pipeline at two sizes,
side by side with the time DuckDB needs merely to scan the same CSV files.

Each step runs in a fresh Python process (benchmarks/measure.py) so peak memory is per
step. Results are written to BENCHMARKS.md. Sizes: IMON_BENCH_SIZES, e.g.
"100000:2010:2024,4000000:2024:2024" (persons:first year:last year).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench-work"
DEFAULT_SIZES = "100000:2010:2024,4000000:2024:2024"


def step(*args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "benchmarks.measure", *args], cwd=REPO,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_size(persons: int, first: int, last: int) -> dict:
    workdir = WORK / f"p{persons}-{first}-{last}"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    generated = step("generate", str(workdir), str(persons), str(first), str(last))
    scanned = step("scan", str(workdir))
    built = step("build", str(workdir))
    shutil.rmtree(workdir, ignore_errors=True)
    return {"persons": persons, "years": f"{first}–{last}", "generate": generated,
            "scan": scanned, "build": built}


INSTANCES = ["profiles/berlin.yaml", "profiles/rlp-kreise.yaml"]


def run_instances() -> list[dict]:
    """Builds of the real instances (needs ../shared/data or IMON_SHARED_DATA)."""
    results = []
    for profile in INSTANCES:
        workdir = WORK / Path(profile).stem
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        results.append(step("instance", str(workdir), profile))
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def instance_table(results: list[dict]) -> str:
    lines = ["| profile | table files | reference dates | indicator values | `imon build` | "
             "peak RSS |", "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['instance']} | {r['files']} | {r['dates']} | {r['values']:,} | "
              f"{r['seconds']:.1f} s | {r['peak_mib']:,} MiB |" for r in results]
    return "\n".join(lines)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    mem = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))) / 1024 / 1024
    import duckdb
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.platform()}, "
            f"Python {platform.python_version()}, DuckDB {duckdb.__version__}")


def table(results: list[dict]) -> str:
    lines = [
        "| persons per extract | extracts | CSV rows | CSV size | DuckDB scan only | "
        "`imon build` | build peak RSS | build ÷ scan | generate |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        scan, built = r["scan"], r["build"]
        lines.append(
            f"| {r['persons']:,} | {built['dates']} | {scan['rows']:,} | "
            f"{scan['bytes'] / 2**20:,.0f} MiB | {scan['seconds']:.2f} s | "
            f"{built['seconds']:.1f} s | {built['peak_mib']:,} MiB | "
            f"{built['seconds'] / scan['seconds']:.1f}× | {r['generate']['seconds']:.1f} s |")
    return "\n".join(lines)


def main() -> None:
    sizes = [tuple(int(x) for x in s.split(":"))
             for s in os.environ.get("IMON_BENCH_SIZES", DEFAULT_SIZES).split(",")]
    results = [run_size(*size) for size in sizes]
    instances = run_instances()
    spec = os.environ.get("IMON_BENCH_SIZES", DEFAULT_SIZES)
    text = "\n".join([
        "# Benchmarks", "",
        "## Build: register extracts → published warehouse", "",
        f"Command: `make bench` (sizes `IMON_BENCH_SIZES={spec}`)",
        f"Machine: {machine()}",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "",
        table(results), "",
        "*DuckDB scan only*: `SELECT count(*) FROM read_csv(<all extracts>, all_varchar)` in a "
        "fresh process — the floor for reading the same bytes. *`imon build`*: everything "
        "(validation of every cell, migration-background derivation, aggregation, "
        "indicators, contract checks, Parquet, publish). Peak RSS per step in a fresh "
        "process (`ru_maxrss`).", "",
        "## Build: real instances (district tables, GENESIS)", "",
        instance_table(instances), "",
        "Berlin: 80 LOR tables (4 per half-year 2015–2024), 5 levels, two geometry vintages. "
        "Rhineland-Palatinate: 4 Germany-wide GENESIS tables filtered to the Land's 36 "
        "Kreise. Times include reading and checking every cell, geometry, indicators, "
        "checks, Parquet and publish.", "",
        "Raw results:", "", "```json", json.dumps(results + instances, indent=1), "```", "",
    ])
    (REPO / "BENCHMARKS.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
