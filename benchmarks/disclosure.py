"""Disclosure control: information loss and cost (``python -m benchmarks.run disclosure``).

Per instance, builds with the protect stage (protection + attack audit) and without it
(the counts copied unprotected, no audit) run interleaved in fresh processes, ``REPEATS``
times each, so both see the same machine load; the table gives the medians and their
ratio, the audit's targets and the share of published count cells withheld (suppression)
or changed (cell key) per level.
"""

from __future__ import annotations

import os
import shutil
import statistics
from pathlib import Path

HEADING = "## Disclosure control: information loss and cost"
REPEATS = int(os.environ.get("IMON_BENCH_REPEATS", "2"))
INSTANCES = ["profiles/berlin.yaml", "profiles/rlp-kreise.yaml"]


def run(step, work: Path, demo_raw: Path | None) -> list[dict]:
    """``step(*args)`` runs ``python -m benchmarks.measure`` and returns its JSON."""
    profiles = list(INSTANCES)
    if demo_raw is not None:
        profiles.insert(0, str(_demo_profile(work, demo_raw)))
    results = []
    for profile in profiles:
        runs: dict[str, list[dict]] = {"unprotected": [], "protected": []}
        for _ in range(REPEATS):
            for kind in runs:
                workdir = work / f"{Path(profile).stem}-{kind}"
                shutil.rmtree(workdir, ignore_errors=True)
                workdir.mkdir(parents=True)
                runs[kind].append(step(kind, str(workdir), profile))
                shutil.rmtree(workdir, ignore_errors=True)
        results.append(runs)
    return results


def _demo_profile(work: Path, raw: Path) -> Path:
    """The demo profile with its raw files in ``raw`` (already generated)."""
    from etl.profile import DEFAULT_PROFILE

    text = DEFAULT_PROFILE.read_text(encoding="utf-8")
    path = work / "musterstadt.yaml"
    work.mkdir(parents=True, exist_ok=True)
    lines = [
        f"raw_dir: {raw}" if line.startswith("raw_dir:") else line for line in text.splitlines()
    ]
    lines = [
        f"indicators: {DEFAULT_PROFILE.parent / '..' / 'indicators.yaml'}"
        if line.startswith("indicators:")
        else line
        for line in lines
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def section(results: list[dict], machine: str, command: str) -> str:
    rows = []
    for runs in results:
        plain = statistics.median(r["seconds"] for r in runs["unprotected"])
        safe = statistics.median(r["seconds"] for r in runs["protected"])
        last = runs["protected"][-1]
        shares = last["loss_percent"].items()
        loss = ", ".join(f"{k} {v:.1f} %".replace(".", ",") for k, v in shares)
        rows.append(
            f"| {last['instance']} | {plain:.1f} s | {safe:.1f} s | {safe / plain:.2f}× | "
            f"{last['audit_seconds']:.1f} s | {last['checked']:,} | {last['targets']:,} | {loss} |"
        )
    return "\n".join(
        [
            HEADING,
            "",
            f"Command: `{command}` ({REPEATS} interleaved runs each, medians)",
            f"Machine: {machine}",
            "Load average after the run (1/5/15 min): "
            + " / ".join(f"{x:.2f}" for x in os.getloadavg()),
            "",
            "| instance | build without protect stage | build with protection + audit | ratio "
            "| audit | cells checked | protected cells | published count cells withheld "
            "or changed, per level |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
            *rows,
            "",
            "*Without*: the same build with the counts copied unprotected and no audit (the "
            "cost of the protect stage, measured side by side). *With*: secondary "
            "suppression (Berlin, Rhineland-Palatinate) or the cell-key method (Musterstadt), "
            "the published values computed from the protected counts (indices and the random "
            "allocation from the published units), and the attack audit (etl/audit: LP per "
            "protected cell; every published index recomputed and every draw drawn again "
            "from the publication). Both columns include the random allocation. Loss: share "
            "of the published count cells "
            "(count indicators, numerators, denominators) withheld (suppression) or changed "
            "by the perturbation (cell key; a changed cell is still published, within ±3).",
            "",
        ]
    )
