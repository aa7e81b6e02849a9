"""The script an office might write instead of ``imon build`` (issue #17's yardstick):
three columns of the register, each district's foreigner share and the segregation index
IS of foreigners over the districts. No validation of any cell, no migration background,
no disclosure control, nothing written.

Usage: python -m benchmarks.pandas_reference REGISTER.csv
Prints one JSON line: seconds (reading and computing; imports not timed), peak RSS of
this process, persons, districts, IS and the shares.
"""

from __future__ import annotations

import json
import resource
import sys
import time

import pandas as pd


def reference(path: str) -> dict:
    persons = pd.read_csv(
        path,
        sep=";",
        usecols=["stadtteil", "staatsangehoerigkeit_1", "staatsangehoerigkeit_2"],
        dtype=str,
        engine="pyarrow",
    )
    german = persons["staatsangehoerigkeit_1"].eq("DE") | persons["staatsangehoerigkeit_2"].eq("DE")
    counts = (
        persons.assign(foreigners=~german)
        .groupby("stadtteil")["foreigners"]
        .agg(total="size", foreigners="sum")
    )
    share = counts["foreigners"] / counts["total"]
    x, t = counts["foreigners"], counts["total"]
    segregation = 0.5 * (x / x.sum() - (t - x) / (t.sum() - x.sum())).abs().sum()
    return {
        "persons": int(t.sum()),
        "districts": len(counts),
        "segregation_is": float(segregation),
        "shares": {area: float(v) for area, v in share.items()},
    }


def main(argv: list[str]) -> None:
    start, cpu = time.perf_counter(), time.process_time()
    result = reference(argv[0])
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"step": "pandas", "seconds": round(seconds, 3), "cpu_s": round(cpu, 3),
                      "peak_mib": round(peak), **result}))  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])
