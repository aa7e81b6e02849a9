"""Cell-key method: every published register count perturbed by a bounded, unbiased noise.

Method (Fraser & Wooton 2006, ABS; as the ONS uses it for Census 2021 and Destatis for
the 2022 census):

1. Record key: every person gets a pseudo-random key from a keyed hash of the person id,
   ``md5_number_lower(secret || person_id) mod 2^32`` (DuckDB's md5: the lower 64 bits of
   the digest read little-endian, i.e. digest bytes 8..11 little-endian after the modulo;
   md5 is stable across DuckDB versions, unlike ``hash()``). The same id has the same key
   on every reference date and in every build; without the secret the keys are unknown.
2. Cell key: a cell's key is the sum of its persons' record keys mod 1, computed as
   ``(sum of the integer keys mod 2^32) / 2^32`` - exact and independent of the order of
   summation. ``population.key_sum``, ``area_counts.key_sum`` and ``term_counts.key_sum``
   carry the integer sums; the same persons always give the same cell key.
3. Perturbation table (ptable; Giessing 2016; R package ``ptable``, Enderle, Destatis /
   sdcTools, ``create_cnt_ptable(D, V, js = 2)``): for each original count i the
   transition probabilities p(i -> i + v) with maximum entropy subject to: probabilities
   sum to 1, mean deviation 0, variance V, ``|v| <= D``, perturbed value ``>= 0``, zero
   stays zero and no perturbed value in ``1..js`` (js = 2: no published 1 or 2). For
   counts 1 and 2 the variance V is infeasible when V < 2 (a 1 or 2 must move to 0 or to
   3 or more); their rows take the smallest variance possible (a linear programme). From
   ``i = D + js + 1`` on, every row is the same (deviations -D..D), so the table has rows
   0..D + js + 1 and the last row stands for all larger counts.
4. Each row's probabilities become consecutive intervals on [0, 1) in units of 2^-32
   (deviations in ascending order); a cell with count n and cell key c gets the deviation
   whose interval holds c. Because the cell key is a function of the cell's persons, the
   same cell is perturbed identically wherever it appears.

The maximum-entropy problem of a row is solved through its dual: the solution has the form
``p_k ~ exp(l1 * v_k + l2 * (v_k^2 - V))`` and (l1, l2) solve E[v] = 0, E[v^2] = V
(``scipy.optimize.root`` with the exact Jacobian, the covariance of (v, v^2)); the
feasible range of the variance comes from ``scipy.optimize.linprog`` (HiGHS).

References: B. Fraser, J. Wooton, "A proposed method for confidentialising tabular output
to protect against differencing", UNECE/Eurostat SDC work session 2005; S. Giessing,
"Computational issues in the design of transition probabilities and disclosure risk
estimation for additive noise", PSD 2016, LNCS 9867, 237-251; ONS, "Safeguarding data for
Census 2021" (2021); T. Enderle, R package ``ptable`` (CRAN, 2023).
"""

from __future__ import annotations

import os

import duckdb
import numpy as np
import pandas as pd
from scipy import optimize

from etl.profile import CellKey

SECRET_ENV = "IMON_CELL_KEY_SECRET"  # overrides the profile's secret when set, non-empty
KEY_MODULUS = 2**32  # record keys and cell keys are integers in [0, 2^32)
BLOCKED = 2  # js: no published count in 1..js
# the record key of the row's person_id; the secret is the query parameter $cell_key_secret
RECORD_KEY_SQL = f"(md5_number_lower($cell_key_secret || person_id) % {KEY_MODULUS})"
TOLERANCE = 1e-12  # on the moments of a row's solution

PERTURB_SQL = f"""
CREATE OR REPLACE TEMP TABLE protected_counts AS
SELECT c.ref_date, c.area_id, c.level, c.vintage, c.term,
       c.n + coalesce(p.v, 0) AS n, c.flag, p.v AS deviation
FROM term_counts AS c
LEFT JOIN terms AS t ON t.term = c.term
LEFT JOIN cellkey_ptable AS p
    ON t.additive AND c.flag IS NULL AND c.n IS NOT NULL AND c.key_sum IS NOT NULL
   AND p.i = least(CAST(c.n AS BIGINT), $top)
   AND c.key_sum % {KEY_MODULUS} >= p.lower AND c.key_sum % {KEY_MODULUS} < p.upper
"""

SUMMARY_SQL = """
CREATE OR REPLACE TEMP TABLE cellkey_summary AS
SELECT coalesce(level, 'all') AS level, count(deviation) AS cells,
       count(*) FILTER (WHERE deviation <> 0) AS changed,
       count(*) FILTER (WHERE deviation <> 0) / nullif(count(deviation), 0) AS share_changed,
       coalesce(max(abs(deviation)), 0) AS max_abs_deviation
FROM protected_counts
WHERE deviation IS NOT NULL
GROUP BY GROUPING SETS ((level), ())
ORDER BY level NULLS LAST
"""


def resolve_secret(params: CellKey) -> str:
    """The secret of the record keys: ``$IMON_CELL_KEY_SECRET`` if set and not empty, else
    the profile's ``disclosure.cell_key.secret``."""
    return os.environ.get(SECRET_ENV) or params.secret


def build_ptable(params: CellKey, blocked: int = BLOCKED) -> pd.DataFrame:
    """The perturbation table for maximum deviation D and variance V of ``params``.

    One row per (original count i, deviation v) with positive probability: ``i`` (the
    last i stands for every larger count), ``j = i + v``, ``v``, ``p`` and the interval
    ``[lower, upper)`` of cell keys in units of 2^-32 (``p_int_lb``, ``p_int_ub``: the same
    on [0, 1], as the R package ``ptable`` writes them); ``p`` is the interval's width, so
    the table applied is exactly the table documented. Parameters in ``attrs``.
    """
    d, top = params.max_deviation, params.max_deviation + blocked + 1
    frames = []
    for i in range(top + 1):
        v = _support(i, d, blocked)
        lower, upper = _intervals(_row_probabilities(v, params.variance))
        keep = upper > lower
        frames.append(
            pd.DataFrame({"i": i, "j": i + v[keep], "v": v[keep]})
            .assign(lower=lower[keep], upper=upper[keep])
            .astype("int64")
        )
    table = pd.concat(frames, ignore_index=True)
    table.insert(3, "p", (table["upper"] - table["lower"]) / KEY_MODULUS)
    table["p_int_lb"] = table["lower"] / KEY_MODULUS
    table["p_int_ub"] = table["upper"] / KEY_MODULUS
    table.attrs = {
        "max_deviation": d,
        "variance": params.variance,
        "blocked": blocked,
        "top_row": top,
    }
    return table


def _support(i: int, d: int, blocked: int) -> np.ndarray:
    """The deviations allowed for count i: |v| <= d, i + v >= 0, i + v not in 1..blocked;
    zero stays zero."""
    if i == 0:
        return np.array([0])
    j = np.arange(max(i - d, 0), i + d + 1)
    return j[(j == 0) | (j > blocked)] - i


def _row_probabilities(v: np.ndarray, variance: float) -> np.ndarray:
    """Maximum-entropy probabilities on the deviations ``v`` with mean 0 and variance
    ``variance``; where that variance is infeasible, the nearest feasible one (a vertex
    of the linear programme, unique for the supports of :func:`_support`)."""
    if list(v) == [0]:
        return np.ones(1)
    bounds = []
    for sign in (1.0, -1.0):  # smallest, then largest variance with mean 0
        result = optimize.linprog(
            sign * v.astype(float) ** 2,
            A_eq=np.vstack([np.ones(len(v)), v]),
            b_eq=[1.0, 0.0],
            bounds=(0, None),
            method="highs",
        )
        if result.status != 0:  # e.g. D = 1: a count of 1 can only become 0
            raise ValueError(f"ptable: no distribution with mean 0 on deviations {v.tolist()}")
        bounds.append((sign * result.fun, np.clip(result.x, 0, None)))
    (smallest, at_smallest), (largest, at_largest) = bounds
    if variance <= smallest + TOLERANCE:
        return at_smallest / at_smallest.sum()
    if variance >= largest - TOLERANCE:
        return at_largest / at_largest.sum()
    return _max_entropy(v, variance)


def _max_entropy(v: np.ndarray, variance: float) -> np.ndarray:
    """Solve the dual of max -sum p log p s.t. sum p = 1, sum p v = 0, sum p v^2 = V:
    p ~ exp(g @ l) with g = (v, v^2 - V); the root of E_p[g] = 0 in l."""
    g = np.column_stack([v, v.astype(float) ** 2 - variance])

    def probabilities(lam: np.ndarray) -> np.ndarray:
        z = g @ lam
        w = np.exp(z - z.max())
        return w / w.sum()

    def moments(lam: np.ndarray) -> np.ndarray:
        return probabilities(lam) @ g

    def jacobian(lam: np.ndarray) -> np.ndarray:
        p = probabilities(lam)
        mean = p @ g
        return (g * p[:, None]).T @ g - np.outer(mean, mean)

    result = optimize.root(moments, np.zeros(2), jac=jacobian, method="hybr", tol=1e-14)
    p = probabilities(result.x)
    if np.abs(p @ g).max() > TOLERANCE:
        raise ValueError(f"ptable: no maximum-entropy solution on deviations {v.tolist()}")
    return p


def _intervals(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive intervals [lower, upper) of the cell key in units of 2^-32: the
    cumulative probabilities rounded to the nearest unit (|mean error| <= D * 2^-32)."""
    upper = np.rint(np.cumsum(p) * KEY_MODULUS).astype(np.int64)
    upper[-1] = KEY_MODULUS
    upper = np.maximum.accumulate(upper)
    lower = np.concatenate([[0], upper[:-1]])
    return lower, upper


def check_ptable(ptable: pd.DataFrame) -> int:
    """Raise ValueError unless every row i = 0..top of ``ptable`` splits [0, 2^32) into
    consecutive intervals with ``j = i + v``; return top (the row of all larger counts)."""
    top = int(ptable["i"].max())
    for i in range(top + 1):
        row = ptable[ptable["i"] == i].sort_values("lower")
        bounds = np.concatenate([[0], row["upper"].to_numpy()])
        if (
            row.empty
            or not (row["lower"].to_numpy() == bounds[:-1]).all()
            or bounds[-1] != KEY_MODULUS
            or (row["upper"] <= row["lower"]).any()
            or not (row["j"] == row["i"] + row["v"]).all()
        ):
            raise ValueError(f"ptable row i={i}: intervals must split [0, 2^32) in order")
    return top


def perturb(
    con: duckdb.DuckDBPyConnection, params: CellKey, ptable: pd.DataFrame | None = None
) -> None:
    """Perturb every additive register count of the TEMP table ``term_counts``.

    Reads TEMP ``term_counts(ref_date, area_id, level, vintage, term, n, flag, key_sum)``
    and ``terms(term, additive)``; creates TEMP ``protected_counts(ref_date, area_id,
    level, vintage, term, n, flag)`` where n of every additive term with a key sum and no
    flag is ``n + v`` (v from ``ptable``, default :func:`build_ptable` of ``params``, for
    the row ``min(n, top)`` and the cell key ``key_sum mod 2^32``) and every other row
    (flagged, non-additive, statistics-office data without key sum) is unchanged. Also
    creates TEMP ``cellkey_ptable`` (the table applied) and ``cellkey_summary(level,
    cells, changed, share_changed, max_abs_deviation)``, one row per level and 'all'.
    One set-based join; no loop over cells.
    """
    table = build_ptable(params) if ptable is None else ptable
    top = check_ptable(table)
    con.register("cellkey_ptable_frame", table)
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE cellkey_ptable AS SELECT CAST(i AS INTEGER) AS i, "
            "CAST(j AS INTEGER) AS j, CAST(v AS INTEGER) AS v, CAST(p AS DOUBLE) AS p, "
            "CAST(lower AS UBIGINT) AS lower, CAST(upper AS UBIGINT) AS upper "
            "FROM cellkey_ptable_frame ORDER BY i, lower"
        )
    finally:
        con.unregister("cellkey_ptable_frame")
    _check_counts(con)
    con.execute(PERTURB_SQL, {"top": top})
    con.execute(SUMMARY_SQL)
    con.execute("ALTER TABLE protected_counts DROP COLUMN deviation")


def _check_counts(con: duckdb.DuckDBPyConnection) -> None:
    """Counts to perturb must be whole and not negative."""
    bad = con.execute(
        "SELECT c.term, c.area_id, c.n FROM term_counts AS c INNER JOIN terms AS t "
        "ON t.term = c.term AND t.additive WHERE c.flag IS NULL AND c.key_sum IS NOT NULL "
        "AND (c.n < 0 OR c.n <> floor(c.n)) LIMIT 1"
    ).fetchall()
    if bad:
        raise ValueError(f"cell key: count {bad[0][2]} of {bad[0][0]} in {bad[0][1]} not whole")
