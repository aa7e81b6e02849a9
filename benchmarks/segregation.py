"""``make bench`` step: the segregation indices of a real instance (Berlin), computed by the
engine's set-based SQL and by a loop of PySAL ``segregation`` calls on the same unit counts.

Every indicator × reference date × level of units is compared; the step exits non-zero when
a value differs by more than 1e-9 (or n_units / flags disagree). Preparation (the engine's
TEMP tables; the per-unit frames for PySAL) is timed apart from the computation, which is
repeated (IMON_BENCH_REPEATS, default 5) and reported as the median.

Usage: python -m benchmarks.segregation WORKDIR [PROFILE]   (JSON on the last output line)
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from segregation.local import MultiLocationQuotient
from segregation.singlegroup import Dissim, Entropy, Gini, Interaction, Isolation

from etl import warehouse
from etl.build import build
from etl.indicators.engine import (
    TERM_COUNTS_SQL,
    UNIT_ROOTS_SQL,
    _terms,
    number_units,
    run_functions,
    term_row,
    write_indicator_terms,
)
from etl.indicators.spec import load_catalogue, term_key, term_name
from etl.profile import load_profile

PYSAL_FUNCTIONS = ("segregation_is", "dissimilarity", "isolation", "exposure", "entropy", "gini")
TOLERANCE = 1e-9
REPEATS = int(os.environ.get("IMON_BENCH_REPEATS", "5"))

UNIT_TERMS_SQL = """
SELECT CAST(k.ref_date AS VARCHAR) AS ref_date, k.level, k.area_id, k.term, k.n, k.flag
FROM term_counts AS k
INNER JOIN unit_roots AS r ON r.unit_id = k.area_id AND r.vintage = k.vintage
WHERE k.area_id <> r.root_id AND list_contains($terms, k.term)
"""

VALUES_SQL = """
SELECT indicator_id, CAST(ref_date AS VARCHAR), level, area_id, value, flag, n_units
FROM {table}
"""


@dataclass
class Case:
    """One PySAL call: an indicator on one date and level, units already filtered."""

    ind: object
    ref_date: str
    level: str
    units: pd.DataFrame


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def names(ind) -> dict[str, str]:
    return {role: term_name(term_key(ref)) for role, ref in ind.terms().items()}


# --- ours: the engine's statements on the warehouse copy ---------------------------------


def prepare_engine(con: duckdb.DuckDBPyConnection, catalogue, profile, computed: list) -> None:
    """The engine's TEMP tables, as ``engine.compute`` makes them for the build."""
    _terms(con, catalogue, computed)
    con.execute(TERM_COUNTS_SQL, {"finest": profile.level_ids()[-1]})
    con.execute(UNIT_ROOTS_SQL, {"root": profile.level_ids()[0]})
    number_units(con)


def run_ours(con: duckdb.DuckDBPyConnection, indicators: list, profile) -> tuple[dict, float]:
    """What ``engine.evaluate`` does (indicator_terms, then one statement for the index
    functions and one per other function), into a fresh scratch table; returns
    ({(id, date, level, area): (value, flag, n_units)}, seconds)."""
    con.execute("CREATE OR REPLACE TEMP TABLE bench_values AS FROM indicator_values LIMIT 0")
    params = {
        "min_denominator": profile.disclosure.min_denominator,
        "min_count": profile.disclosure.min_count,
    }
    start = time.perf_counter()
    write_indicator_terms(con, [term_row(ind) for ind in indicators])
    run_functions(con, {ind.function for ind in indicators}, "bench_values", params)
    seconds = time.perf_counter() - start
    rows = con.execute(VALUES_SQL.format(table="bench_values")).fetchall()
    return {tuple(r[:4]): r[4:] for r in rows}, seconds


def time_ours(con, indicators: list, profile) -> float:
    """Median seconds of REPEATS runs."""
    return statistics.median(run_ours(con, indicators, profile)[1] for _ in range(REPEATS))


def time_both(con, indicators: list, profile, reference, *args) -> tuple:
    """REPEATS runs of ours and of ``reference(*args)`` -> (result, seconds by function),
    interleaved so that both see the same load of the (shared) machine; one untimed run of
    ours first (the reference is warmed up by the caller). Returns (our values,
    our median seconds, the reference's result, its median seconds by function and total)."""
    run_ours(con, indicators, profile)  # warm-up, not timed
    ours_s, runs = [], []
    for _ in range(REPEATS):
        ours, seconds = run_ours(con, indicators, profile)
        ours_s.append(seconds)
        runs.append(reference(*args))
    by_function = {f: statistics.median(run[1][f] for run in runs) for f in runs[0][1]}
    by_function["total"] = statistics.median(sum(run[1].values()) for run in runs)
    return ours, statistics.median(ours_s), runs[-1][0], by_function


# --- PySAL: per-unit frames from the same term_counts, one call per case ------------------


def unit_table(con: duckdb.DuckDBPyConnection, indicators: list) -> pd.DataFrame:
    """Wide per-unit counts (index ref_date, level, area_id; a column per term)."""
    terms = sorted({name for ind in indicators for name in names(ind).values()})
    long = con.execute(UNIT_TERMS_SQL, {"terms": terms}).df()
    if long["flag"].notna().any():
        raise SystemExit("flagged counts in the instance: the benchmark compares complete data")
    return long.set_index(["ref_date", "level", "area_id", "term"])["n"].unstack("term")


def index_cases(wide: pd.DataFrame, indicators: list) -> tuple[list[Case], list[Case]]:
    """Frames as the engine defines the units used (t > 0, min_unit_population); returns
    (cases with both groups present, cases the engine must call undefined)."""
    cases, undefined = [], []
    for (ref_date, level), frame in wide.groupby(level=["ref_date", "level"]):
        for ind in indicators:
            role = names(ind)
            if frame[[*role.values()]].isna().any().any():
                continue  # a term this date lacks: no value either side
            units = pd.DataFrame({"x": frame[role["group"]], "t": frame[role["total"]]})
            if "other" in role:
                units["y"] = frame[role["other"]]
                units["xy"] = units["x"] + units["y"]
            units = units[units["t"] > 0]
            if "residents" in role:
                units = units[frame.loc[units.index, role["residents"]] >= ind.min_unit_population]
            rest = units["y"].sum() if "y" in units else (units["t"] - units["x"]).sum()
            case = Case(ind, ref_date, level, units.droplevel([0, 1]))
            if units["x"].sum() > 0 and rest > 0:
                cases.append(case)
            else:
                undefined.append(case)
    return cases, undefined


def pysal_value(case: Case) -> float:
    """The index by PySAL with the conventions of tests/indicators/test_segregation.py
    (concentration_share: numpy interpolation, PySAL has no equivalent)."""
    function, units = case.ind.function, case.units
    if function == "segregation_is":
        return Dissim(units, "x", "t").statistic
    if function == "dissimilarity":  # D of x and y = Dissim with total x + y
        return Dissim(units, "x", "xy").statistic
    if function == "isolation":
        return Isolation(units, "x", "t").statistic
    if function == "exposure":
        if "y" in units and not np.array_equal(units["xy"], units["t"]):
            raise SystemExit(f"{case.ind.id}: named group is not the rest; PySAL has no index")
        return Interaction(units, "x", "t").statistic  # y = the rest of t
    if function == "entropy":
        return Entropy(units, "x", "t").statistic
    if function == "gini":
        return Gini(units, "x", "t").statistic
    x, t = units["x"].to_numpy(), units["t"].to_numpy()
    order = np.argsort(-x / t, kind="stable")
    curve_t = np.concatenate([[0.0], np.cumsum(t[order])]) / t.sum()
    curve_x = np.concatenate([[0.0], np.cumsum(x[order])]) / x.sum()
    return 100 * float(np.interp(case.ind.top_share, curve_t, curve_x))


def warm_up(cases: list[Case]) -> float:
    """One call of each function, untimed in the loop: PySAL's Gini is numba-compiled on
    its first call (seconds). Returns the seconds this took."""
    first = {case.ind.function: case for case in cases}
    return timed(pysal_loop, list(first.values()))[1]


def pysal_loop(cases: list[Case]) -> tuple[list[float], dict[str, float]]:
    """One call per case; returns (values, seconds per function)."""
    values, seconds = [], defaultdict(float)
    for case in cases:
        start = time.perf_counter()
        values.append(float(pysal_value(case)))
        seconds[case.ind.function] += time.perf_counter() - start
    return values, seconds


# --- comparison ----------------------------------------------------------------------------


def compare(
    ours: dict,
    cases: list[Case],
    expected: list[float],
    undefined: list[Case],
    root: str,
    errors: list[str],
) -> dict[str, dict]:
    """Every case against the engine's row; per function (values, max |difference|)."""
    found: dict[str, dict] = defaultdict(lambda: {"values": 0, "max_abs_diff": 0.0})
    for case, value in [*zip(cases, expected, strict=True), *((c, None) for c in undefined)]:
        key = (case.ind.id, case.ref_date, case.level, root)
        mine, flag, n_units = ours.get(key, (None, "missing", None))
        wanted = None if value is not None else "undefined"
        if n_units != len(case.units) or flag != wanted or (mine is None) != (value is None):
            errors.append(
                f"{key}: ours {mine!r} ({flag}, {n_units} units), "
                f"reference {value!r} ({wanted}, {len(case.units)} units)"
            )
        elif value is not None:
            difference = abs(mine - value)
            stats = found[case.ind.function]
            stats["values"] += 1
            stats["max_abs_diff"] = max(stats["max_abs_diff"], difference)
            if not difference <= TOLERANCE:
                errors.append(f"{key}: ours {mine!r}, reference {value!r}")
    return dict(found)


def lq_frames(wide: pd.DataFrame, indicators: list) -> list[tuple]:
    """Every unit (also t = 0, as the tests pass them) per indicator, date and level."""
    frames = []
    for (ref_date, level), frame in wide.groupby(level=["ref_date", "level"]):
        for ind in indicators:
            role = names(ind)
            units = pd.DataFrame({"x": frame[role["group"]], "t": frame[role["total"]]})
            units["rest"] = units["t"] - units["x"]
            frames.append((ind.id, ref_date, level, units.droplevel([0, 1])))
    return frames


def lq_loop(frames: list[tuple]) -> tuple[dict, dict[str, float]]:
    """PySAL MultiLocationQuotient per frame: ({key: (units, LQ)}, seconds)."""
    result, start = {}, time.perf_counter()
    for indicator_id, ref_date, level, units in frames:
        lq = MultiLocationQuotient(units, ["x", "rest"]).statistics[:, 0]
        result[(indicator_id, ref_date, level)] = (units, lq)
    return result, {"location_quotient": time.perf_counter() - start}


def compare_lq(ours: dict, reference: dict, errors: list[str]) -> dict:
    compared, worst = 0, 0.0
    for (indicator_id, ref_date, level), (units, lq) in reference.items():
        for area_id, t, expected in zip(units.index, units["t"], lq, strict=True):
            mine, flag, _ = ours[(indicator_id, ref_date, level, area_id)]
            if flag == "suppressed" or t == 0:
                continue
            difference = abs(mine - expected)
            compared, worst = compared + 1, max(worst, difference)
            if not difference <= TOLERANCE:
                errors.append(f"{indicator_id} {ref_date} {area_id}: {mine!r} vs {expected!r}")
    return {"values": compared, "max_abs_diff": worst}


# --- the step ------------------------------------------------------------------------------


def open_copy(workdir: Path, profile_path: str):
    """A writable copy of the instance's warehouse: the one published in ``workdir/curated``
    if there is one (``make bench`` has just built it), else built there now."""
    profile = load_profile(profile_path).model_copy(update={"curated_dir": workdir / "curated"})
    published = profile.curated_dir / warehouse.CURRENT / warehouse.DATABASE
    build_s = None
    if not published.exists():
        result, build_s = timed(build, profile)
        published = result.snapshot / warehouse.DATABASE
    copy = workdir / "bench.duckdb"
    shutil.copyfile(published, copy)
    return profile, duckdb.connect(str(copy)), build_s


def indicators_of(con, profile) -> tuple[object, list, dict[str, list]]:
    """(catalogue, every indicator the build computed, those by function)."""
    catalogue = load_catalogue(profile.indicators)
    ids = {
        r[0] for r in con.execute("SELECT DISTINCT indicator_id FROM indicator_values").fetchall()
    }
    computed = [ind for ind in catalogue.indicators if ind.id in ids]
    by_function = defaultdict(list)
    for ind in computed:
        by_function[ind.function].append(ind)
    return catalogue, computed, by_function


def published_difference(con, ours: dict, errors: list[str]) -> float:
    """Max |difference| of our run to the values the build published (same SQL, so only
    the order of floating-point sums may differ)."""
    rows = con.execute(
        VALUES_SQL.format(table="indicator_values") + "WHERE list_contains($ids, indicator_id)",
        {"ids": sorted({k[0] for k in ours})},
    ).fetchall()
    worst = 0.0
    for row in rows:
        mine = ours.get(tuple(row[:4]), (None, "missing", None))
        if (mine[0] is None) != (row[4] is None) or mine[1:] != tuple(row[5:]):
            errors.append(f"{row[:4]}: ours {mine}, published {row[4:]}")
        elif mine[0] is not None:
            worst = max(worst, abs(mine[0] - row[4]))
    if len(rows) != len(ours) or not worst <= TOLERANCE:
        errors.append(f"{len(ours)} values vs {len(rows)} published, max difference {worst}")
    return worst


def bench_indices(con, profile, by_function: dict, wide: pd.DataFrame, errors: list[str]) -> dict:
    """The six PySAL indices: both sides timed, every value compared."""
    chosen = [ind for f in PYSAL_FUNCTIONS for ind in by_function[f]]
    (cases, undefined), prepare_s = timed(index_cases, wide, chosen)
    warm_up_s = warm_up(cases)
    ours, ours_s, expected, pysal_s = time_both(con, chosen, profile, pysal_loop, cases)
    found = compare(ours, cases, expected, undefined, profile.geography.root.id, errors)
    con.execute("SET threads = 1")
    ours_1thread_s = time_ours(con, chosen, profile)
    con.execute("RESET threads")
    functions = {
        f: {
            "indicators": len(by_function[f]),
            **found.get(f, {"values": 0, "max_abs_diff": 0.0}),
            "ours_s": time_ours(con, by_function[f], profile),
            "pysal_s": pysal_s[f],
        }
        for f in PYSAL_FUNCTIONS
    }
    return {
        "indicators": len(chosen),
        "pysal_calls": len(cases),
        "undefined_both": len(undefined),
        "values": sum(f["values"] for f in found.values()),
        "max_abs_diff": max(f["max_abs_diff"] for f in found.values()),
        "ours_s": ours_s,
        "ours_1thread_s": ours_1thread_s,
        "pysal_prepare_s": prepare_s,
        "pysal_warm_up_s": warm_up_s,
        "pysal_s": pysal_s["total"],
        "ratio": pysal_s["total"] / ours_s,
        "ours_published_max_abs_diff": published_difference(con, ours, errors),
        "functions": functions,
    }


def bench_concentration(con, profile, indicators: list, wide, errors: list[str]) -> dict:
    """concentration_share (no PySAL equivalent) against numpy interpolation."""
    (cases, undefined), prepare_s = timed(index_cases, wide, indicators)
    warm_up(cases)
    ours, ours_s, expected, numpy_s = time_both(con, indicators, profile, pysal_loop, cases)
    found = compare(ours, cases, expected, undefined, profile.geography.root.id, errors)
    return {
        "indicators": len(indicators),
        **found["concentration_share"],
        "ours_s": ours_s,
        "numpy_prepare_s": prepare_s,
        "numpy_s": numpy_s["total"],
    }


def bench_lq(con, profile, indicators: list, wide, errors: list[str]) -> dict:
    """location_quotient per area against PySAL MultiLocationQuotient."""
    frames, prepare_s = timed(lq_frames, wide, indicators)
    lq_loop(frames[:1])  # warm-up, not timed
    ours, ours_s, expected, pysal_s = time_both(con, indicators, profile, lq_loop, frames)
    return {
        "indicators": len(indicators),
        **compare_lq(ours, expected, errors),
        "ours_s": ours_s,
        "pysal_prepare_s": prepare_s,
        "pysal_s": pysal_s["total"],
    }


def run(workdir: Path, profile_path: str) -> dict:
    profile, con, build_s = open_copy(workdir, profile_path)
    load_before = os.getloadavg()[0]
    catalogue, computed, by_function = indicators_of(con, profile)
    _, engine_prepare_s = timed(prepare_engine, con, catalogue, profile, computed)
    dates, units = con.execute(
        "SELECT count(DISTINCT ref_date), count(*) FROM term_counts "
        "WHERE term = 'total' AND level = $finest",
        {"finest": profile.level_ids()[-1]},
    ).fetchall()[0]
    wide, unit_table_s = timed(unit_table, con, computed)
    errors: list[str] = []
    result = {
        "step": "segregation",
        "instance": profile.instance,
        "repeats": REPEATS,
        "versions": {p: version(p) for p in ("segregation", "libpysal", "numpy", "pandas")},
        "build_s": build_s,
        "dates": dates,
        "levels": profile.level_ids()[1:],
        "finest_unit_dates": units,
        "term_counts_rows": con.execute("SELECT count(*) FROM term_counts").fetchall()[0][0],
        "engine_prepare_s": engine_prepare_s,
        "unit_table_s": unit_table_s,
        "indices": bench_indices(con, profile, by_function, wide, errors),
        "concentration_share": bench_concentration(
            con, profile, by_function["concentration_share"], wide, errors
        ),
        "location_quotient": bench_lq(con, profile, by_function["location_quotient"], wide, errors),
    }
    con.close()
    result["load_average"] = [load_before, os.getloadavg()[0]]  # 1 min, before / after
    if errors:
        print(json.dumps(result, indent=1), file=sys.stderr)
        raise SystemExit(f"{len(errors)} values differ:\n" + "\n".join(errors[:50]))
    return result


def main(argv: list[str]) -> None:
    workdir = Path(argv[0])
    workdir.mkdir(parents=True, exist_ok=True)
    result = run(workdir, argv[1] if len(argv) > 1 else "profiles/berlin.yaml")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
