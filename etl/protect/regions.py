"""Region cells of the finest areas: one feasible split of each area's terms into regions.

Every term of an area is the sum of its regions (:func:`etl.protect.relations.
term_regions`), and every region holds at least 0 persons. The protection LP needs the
region counts of *some* table that agrees with every cell (published or not): a deviation
that keeps those counts non-negative leads to another table the attacker cannot exclude.
The true split is unknown (the terms rarely determine it), so one is computed:

1. iterative proportional fitting (Deming & Stephan 1940) from a uniform start, all
   finest areas at once: a split of maximum entropy, inside the feasible set, so that no
   region is needlessly pinned at 0;
2. where the fit has not converged (a region forced to 0 by the data), the nearest exact
   split in the L1 norm, one LP per date (HiGHS), with elastic slacks: an area whose
   counts no split reproduces (inconsistent source data) gets no regions.

Regions that an identity of the data forces to 0 (:func:`etl.protect.relations.
empty_regions`) are left out beforehand, so the fit mostly converges.

Writes TEMP ``sc_region_values(ref_date, area_id, level, vintage, term, n)`` and
``sc_region_terms(region, term)``.
"""

from __future__ import annotations

import itertools
import logging

import duckdb
import numpy as np
from scipy import sparse

from etl.protect.lp import solve_lp

LOG = logging.getLogger(__name__)
SWEEPS = 300  # at most this many proportional-fitting sweeps (then the exact LP)
CHECK = 25  # sweeps between tests of convergence
SLACK_COST = 1e4  # per person of a count a split fails to reproduce
EXACT = 1e-7
FITTED = 1e-10  # relative error below which the fitted split counts as exact

LEAVES_SQL = """
CREATE OR REPLACE TEMP TABLE sc_leaf_counts AS
SELECT c.ref_date, c.area_id, c.level, c.vintage, c.term, c.n,
       dense_rank() OVER (ORDER BY c.ref_date, c.vintage, c.area_id) - 1 AS leaf,
       dense_rank() OVER (ORDER BY c.ref_date) - 1 AS day
FROM term_counts AS c
WHERE c.term IN (SELECT unnest($terms))
  AND NOT EXISTS (
      SELECT 1 FROM areas AS a
      INNER JOIN term_counts AS k ON k.area_id = a.area_id AND k.vintage = a.vintage
      WHERE a.parent_id = c.area_id AND a.vintage = c.vintage AND k.ref_date = c.ref_date
  )
"""
VALUES_SQL = """
CREATE OR REPLACE TEMP TABLE sc_region_values AS
SELECT l.ref_date, l.area_id, l.level, l.vintage, s.term, s.n
FROM (SELECT DISTINCT leaf, ref_date, area_id, level, vintage FROM sc_leaf_counts) AS l
INNER JOIN (
    SELECT unnest($leaf::BIGINT[]) AS leaf, unnest($term::VARCHAR[]) AS term,
           unnest($n::DOUBLE[]) AS n
) AS s USING (leaf)
"""


def region_values(
    con: duckdb.DuckDBPyConnection, terms: list[str], regions: tuple[tuple[str, ...], ...]
) -> None:
    """Compute and write the region counts of every finest area and date."""
    names = [f"~{i}" for i in range(len(regions))]
    members = [(name, term) for name, region in zip(names, regions, strict=True) for term in region]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE sc_region_terms AS "
        "SELECT unnest($1::VARCHAR[]) AS region, unnest($2::VARCHAR[]) AS term",
        [[m[0] for m in members], [m[1] for m in members]],
    )
    con.execute(LEAVES_SQL, {"terms": terms})
    rows = con.execute("SELECT leaf, day, term, n FROM sc_leaf_counts").fetchnumpy()
    leaf = np.asarray(rows["leaf"], dtype=np.int64)
    split = np.empty((0, len(regions)))
    exact = np.zeros(0, dtype=bool)
    if len(leaf) and regions:
        index = {t: i for i, t in enumerate(terms)}
        counts = np.full((int(leaf.max()) + 1, len(terms)), np.nan)
        counts[leaf, [index[t] for t in rows["term"]]] = np.asarray(rows["n"], dtype=float)
        incidence = np.array([[t in region for region in regions] for t in terms])
        day = np.zeros(len(counts), dtype=np.int64)
        day[leaf] = np.asarray(rows["day"], dtype=np.int64)
        split, exact = _split(counts, incidence, day)
    chosen = np.flatnonzero(exact)
    con.execute(
        VALUES_SQL,
        {
            "leaf": np.repeat(chosen, len(names)).tolist(),
            "term": names * len(chosen),
            "n": split[chosen].ravel().tolist(),
        },
    )


def _split(
    counts: np.ndarray, incidence: np.ndarray, day: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Region counts per leaf and whether they reproduce the leaf's counts exactly."""
    split = _fit(counts, incidence)
    exact = _fitted(split, counts, incidence)
    for d in np.unique(day[~exact]):
        chosen = np.flatnonzero((day == d) & ~exact)
        split[chosen], exact[chosen] = _exact(counts[chosen], incidence, split[chosen])
    if not exact.all():
        LOG.warning("%d areas: no split into regions reproduces their counts", (~exact).sum())
    return split, exact


def _fit(counts: np.ndarray, incidence: np.ndarray) -> np.ndarray:
    """Iterative proportional fitting of region counts to the known term counts, in
    rounds of CHECK sweeps over the leaves not yet fitted, at most SWEEPS sweeps."""
    split = _support(counts, incidence)
    members = incidence.astype(float)
    active = np.arange(len(counts))
    for _ in range(SWEEPS // CHECK):
        part, wanted = split[active], counts[active]
        for _ in range(CHECK):
            for t, cols in enumerate(members):
                total = part @ cols
                fit = ~np.isnan(wanted[:, t]) & (total > 0)
                ratio = np.where(fit, wanted[:, t] / np.where(fit, total, 1.0), 1.0)
                part *= 1.0 + np.outer(ratio - 1.0, cols)
        split[active] = part
        active = active[~_fitted(part, wanted, incidence)]
        if not len(active):
            break
    return split


def _fitted(split: np.ndarray, counts: np.ndarray, incidence: np.ndarray) -> np.ndarray:
    """Whether each leaf's split reproduces its known counts (relative error FITTED)."""
    error = np.abs(split @ incidence.T.astype(float) - counts)
    return np.all(np.isnan(error) | (error <= FITTED * (1 + np.nan_to_num(counts))), axis=1)


def _support(counts: np.ndarray, incidence: np.ndarray) -> np.ndarray:
    """Start of the fit: 1, but 0 in the regions a leaf's counts force to 0 (those of a
    term counting 0, and those of a term A outside a term B within it when both count the
    same), where proportional fitting would approach 0 only slowly."""
    start = np.ones((len(counts), incidence.shape[1]))
    for a, b in itertools.product(range(len(incidence)), repeat=2):
        inside = incidence[b] <= incidence[a]
        if a == b or inside.all() and incidence[b].any():
            rest = incidence[a] & ~incidence[b] if a != b else incidence[a]
            zero = counts[:, b] == counts[:, a] if a != b else counts[:, a] == 0
            start[np.ix_(zero, rest)] = 0.0
    return start


def _exact(
    counts: np.ndarray, incidence: np.ndarray, guess: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The split nearest to ``guess`` (L1) that reproduces every known count exactly:
    variables z, u = |z - guess|, slacks s+, s- per count; min sum u + SLACK_COST sum s."""
    leaves, regions = guess.shape
    known = np.argwhere(~np.isnan(counts))  # (leaf, term) of every known count
    k, size = len(known), leaves * regions
    rows, cols = incidence[known[:, 1]].nonzero()
    sums = sparse.csr_matrix(
        (np.ones(len(rows)), (rows, known[rows, 0] * regions + cols)), shape=(k, size)
    )
    eye, ones = sparse.identity(size, format="csr"), sparse.identity(k, format="csr")
    matrix = sparse.bmat(
        [[sums, None, ones, -ones], [eye, -eye, None, None], [eye, eye, None, None]],
        format="csc",
    )
    flat = guess.ravel()
    values = counts[known[:, 0], known[:, 1]]
    row_lower = np.concatenate([values, np.full(size, -np.inf), flat])
    row_upper = np.concatenate([values, flat, np.full(size, np.inf)])
    cost = np.concatenate([np.zeros(size), np.ones(size), np.full(2 * k, SLACK_COST)])
    upper = np.full(matrix.shape[1], np.inf)
    solution = solve_lp(matrix, cost, np.zeros(matrix.shape[1]), upper, row_lower, row_upper)
    if solution is None:
        return guess, np.zeros(leaves, dtype=bool)
    slack = solution[2 * size :].reshape(2, k).sum(axis=0)
    exact = np.ones(leaves, dtype=bool)
    exact[known[slack > EXACT, 0]] = False
    return np.clip(solution[:size].reshape(leaves, regions), 0.0, None), exact
