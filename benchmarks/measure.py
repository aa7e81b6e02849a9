"""Run one benchmark step in this (fresh) process; print seconds and peak RSS as JSON.

Usage: python -m benchmarks.measure generate|build|scan WORKDIR [PERSONS] [FIRST] [LAST]
       python -m benchmarks.measure instance WORKDIR PROFILE   (a real instance's build)
       python -m benchmarks.measure protected|unprotected WORKDIR PROFILE
           (benchmarks/disclosure.py: the build with its protection and audit, and the same
           build with the protect stage replaced by a copy of the counts and no audit)
Peak memory is the ru_maxrss of this process and its children (DuckDB runs in-process,
so it is included).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import duckdb

from etl.build import build
from etl.demo import write_demo
from etl.profile import load_profile


def profile_for(workdir: Path):
    base = load_profile()
    return base.model_copy(update={"raw_dir": workdir / "raw", "curated_dir": workdir / "curated"})


def generate(workdir: Path, persons: int, first: int, last: int) -> dict:
    paths = write_demo(workdir / "raw", persons=persons, first_year=first, last_year=last)
    return {"files": len(paths)}


def run_build(workdir: Path) -> dict:
    result = build(profile_for(workdir))
    return {"persons": result.persons, "dates": len(result.ref_dates), "values": result.values}


def run_instance(workdir: Path, profile_path: str) -> dict:
    profile = load_profile(profile_path).model_copy(update={"curated_dir": workdir / "curated"})
    result = build(profile)
    tables = sum(len(list(profile.raw_dir.glob(t.files))) for t in profile.tables)
    return {
        "instance": profile.instance,
        "files": tables,
        "dates": len(result.ref_dates),
        "values": result.values,
    }


def run_disclosure(workdir: Path, profile_path: str, protect: bool) -> dict:
    """A build with or without its protect stage; with it, the audit's report."""
    from etl import publication

    audits = []
    if protect:
        audit = publication.audit

        def keep(snapshot, catalogue, profile):
            audits.append(audit(snapshot, catalogue, profile))
            return audits[-1]

        publication.audit = keep
    else:

        def copy(con, catalogue, profile):
            con.execute("CREATE OR REPLACE TEMP TABLE protected_counts AS FROM term_counts")

        publication._protected_counts = copy
        publication.audit = lambda *args: None
    result = run_instance(workdir, profile_path)
    if not audits:
        return result
    report = audits[-1]
    loss = {level: round(100 * v.share, 2) for level, v in report.loss.items()}
    return {**result, "targets": report.cells_protected, "checked": report.cells_checked,
            "audit_seconds": round(report.seconds, 2), "loss_percent": loss}  # fmt: skip


def scan(workdir: Path) -> dict:
    files = sorted(str(p) for p in (workdir / "raw").glob("melderegister/*/*.csv"))
    con = duckdb.connect()
    rows = con.execute(
        "SELECT count(*) FROM read_csv(?, delim = ';', header = true, all_varchar = true)", [files]
    ).fetchall()[0][0]
    return {"rows": rows, "bytes": sum(Path(f).stat().st_size for f in files)}


def main(argv: list[str]) -> None:
    step, workdir = argv[0], Path(argv[1])
    start = time.perf_counter()
    cpu_before = time.process_time()  # the imports
    if step == "generate":
        extra = generate(workdir, int(argv[2]), int(argv[3]), int(argv[4]))
    elif step == "build":
        extra = run_build(workdir)
    elif step == "instance":
        extra = run_instance(workdir, argv[2])
    elif step in ("protected", "unprotected"):
        extra = run_disclosure(workdir, argv[2], step == "protected")
    else:
        extra = scan(workdir)
    seconds = time.perf_counter() - start
    tree = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    peak_mib = max(usage.ru_maxrss for usage in tree) / 1024  # and processes it waited for
    cpu = sum(usage.ru_utime + usage.ru_stime for usage in tree) - cpu_before
    print(
        json.dumps(
            {
                "step": step,
                "seconds": round(seconds, 2),
                "cpu_s": round(cpu, 2),
                "peak_mib": round(peak_mib),
                **extra,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
