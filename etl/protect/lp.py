"""The protection LP of one reference date (secondary suppression, see
:mod:`etl.protect.suppression` for the method, its citation and the cell costs).

For a sensitive cell s and a direction, with deviation variables y+_c, y-_c >= 0 of every
cell c of the (sub-)table::

    min  sum_c w_c (y+_c + y-_c)
    s.t. sum_c a_rc (y+_c - y-_c) = 0      for every relation r
         y-_c <= n_c                        (the deviated table stays non-negative)
         y+_s = p, y-_s = 0   (up)   or   y+_s = 0, y-_s = min(p, v)   (down)

The cells are the published counts, the virtual (derivable) cells and the regions of the
finest areas (all unpublished ones cost 0). First on the sub-table below the ancestor two
levels up (cells in a relation that leaves the sub-table are held fixed: zero deviation
outside is then consistent), then below each higher ancestor, then on the whole table of
the date. Sensitive cells of one sub-table are solved one after another in one HiGHS
model: only the bounds of the sensitive cell and the costs of newly suppressed cells
change, and the dual simplex restarts from the previous basis.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import duckdb
import highspy
import numpy as np
from scipy import sparse

from etl import solver as highs_solver

LOG = logging.getLogger(__name__)
MOVED = 1e-6  # a deviation above this suppresses the cell
UP_LEVELS = 2  # the sub-table lies below the ancestor this many levels up

CELLS_SQL = """
SELECT c.cell, c.vintage || '|' || c.area_id AS area, c.rank, c.n, c.virtual,
       (SELECT max(rank) FROM sc_levels) AS finest, coalesce(s.up, 0) AS up,
       coalesce(s.down, 0) AS down, s.cell IS NOT NULL AS sensitive
FROM sc_cells AS c LEFT JOIN sc_sens AS s USING (cell)
WHERE c.ref_date = $date ORDER BY c.cell
"""
PARENTS_SQL = """
SELECT DISTINCT c.vintage || '|' || c.area_id, c.vintage || '|' || a.parent_id
FROM sc_cells AS c
LEFT JOIN areas AS a ON a.area_id = c.area_id AND a.vintage = c.vintage
WHERE c.ref_date = $date
"""


@dataclass
class _Table:
    """The cells and relations of one date; indices are local (cell - offset)."""

    offset: int
    n: np.ndarray
    cap: np.ndarray  # upper bound of y- (n; 0 when unknown)
    weight: np.ndarray
    published: np.ndarray
    suppressed: np.ndarray
    area: np.ndarray  # area index per cell
    parent: np.ndarray  # parent area index per area (-1 at the root)
    by_area: list[np.ndarray]
    matrix: sparse.csc_matrix  # relations x cells
    row_nnz: np.ndarray
    model: _Model | None = None  # the last LP, kept for a warm start


@dataclass
class _Model:
    """An LP on a sub-table, kept in HiGHS: the next cell of the same sub-table changes
    only bounds and costs, and the dual simplex starts from the last basis."""

    key: int  # the sub-table's top area (-1: the whole table)
    columns: np.ndarray
    fixed: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    free: np.ndarray  # columns whose cost is 0 in the solver
    solver: highspy.Highs


def protect_date(con: duckdb.DuckDBPyConnection, ref_date: object) -> tuple[list[int], int, int]:
    """Secondary suppression of one date (sensitive cells and their intervals from
    ``sc_sens``, finest level first). Returns (cells suppressed secondarily, LPs solved,
    sensitive cells that no feasible deviation protects)."""
    cells = con.execute(CELLS_SQL, {"date": ref_date}).fetchnumpy()
    table = _load(con, ref_date, cells)
    sensitive = np.flatnonzero(np.asarray(cells["sensitive"], dtype=bool))
    rank = np.asarray(cells["rank"])
    first = np.array([_subtables(table, int(c))[0] for c in sensitive], dtype=np.int64)
    order = sensitive[np.lexsort((table.n[sensitive], first, -rank[sensitive]))]
    up, down = np.asarray(cells["up"], dtype=float), np.asarray(cells["down"], dtype=float)
    secondary, lps, unprotected = [], 0, 0
    for s in order:
        for sign, amount in ((1, up[s]), (-1, down[s])):
            if amount <= 0:
                continue
            moved, solved = _protect(table, int(s), sign * float(amount))
            lps += solved
            if moved is None:
                unprotected += 1
                LOG.warning("cell %s cannot be protected (%+g)", s + table.offset, amount)
                continue
            new = moved[table.published[moved] & ~table.suppressed[moved]]
            table.suppressed[new] = True
            table.weight[new] = 0.0
            secondary.extend(int(c) + table.offset for c in new)
    return secondary, lps, unprotected


def _load(con: duckdb.DuckDBPyConnection, ref_date: object, cells: dict) -> _Table:
    n = np.asarray(cells["n"], dtype=float)
    virtual = np.asarray(cells["virtual"], dtype=bool)
    known = ~np.isnan(n)
    rank = np.asarray(cells["rank"], dtype=float)
    finest = np.asarray(cells["finest"], dtype=float)
    weight = (1 + np.log1p(np.clip(np.nan_to_num(n), 0, None))) * (1 + finest - rank)
    primary = np.asarray(cells["sensitive"], dtype=bool) & ~virtual
    weight[virtual | ~known | primary] = 0.0
    cap = np.where(known, n, 0.0)
    names, area = np.unique(np.asarray(cells["area"], dtype=object), return_inverse=True)
    index = {name: i for i, name in enumerate(names)}
    parent = np.full(len(names), -1)
    for child, up in con.execute(PARENTS_SQL, {"date": ref_date}).fetchall():
        parent[index[child]] = index.get(up, -1)
    order = np.argsort(area, kind="stable")
    by_area = np.split(order, np.cumsum(np.bincount(area, minlength=len(names)))[:-1])
    offset = int(cells["cell"][0]) if len(n) else 0
    matrix = _matrix(con, ref_date, offset, len(n))
    return _Table(
        offset, n, cap, weight, known & ~virtual, primary.copy(), area, parent,
        by_area, matrix, np.diff(matrix.tocsr().indptr),
    )  # fmt: skip


def _matrix(
    con: duckdb.DuckDBPyConnection, ref_date: object, offset: int, size: int
) -> sparse.csc_matrix:
    rel = con.execute(
        "SELECT rel, cell, coef FROM sc_rel WHERE ref_date = $date", {"date": ref_date}
    ).fetchnumpy()
    rows = np.asarray(rel["rel"], dtype=np.int64)
    rows = rows - rows.min() if len(rows) else rows
    cols = np.asarray(rel["cell"], dtype=np.int64) - offset
    shape = (int(rows.max()) + 1 if len(rows) else 0, size)
    return sparse.csc_matrix((np.asarray(rel["coef"], dtype=float), (rows, cols)), shape=shape)


def _protect(table: _Table, cell: int, move: float) -> tuple[np.ndarray | None, int]:
    """The cells a cheapest protecting deviation moves (None: no deviation exists), and the
    number of LPs solved: sub-tables of ever higher ancestors, then the whole table."""
    solved = 0
    for key in _subtables(table, cell):
        solved += 1
        moved = _solve(table, key, cell, move)
        if moved is not None:
            return moved, solved
    return None, solved


def _subtables(table: _Table, cell: int) -> list[int]:
    """The ancestor UP_LEVELS up (or the highest below the root), each higher ancestor
    short of the root, then -1 (the whole table)."""
    ladder, top = [], table.area[cell]
    while table.parent[top] >= 0 and table.parent[table.parent[top]] >= 0:
        top = table.parent[top]
        ladder.append(int(top))
    return [*ladder[min(UP_LEVELS, len(ladder)) - 1 :], -1]


def _below(table: _Table, top: int) -> np.ndarray:
    """Cells of the area ``top`` and of every area below it (-1: every cell)."""
    if top < 0:
        return np.arange(len(table.n))
    areas, frontier = [top], [top]
    while frontier:
        frontier = list(np.flatnonzero(np.isin(table.parent, frontier)))
        areas.extend(frontier)
    return np.sort(np.concatenate([table.by_area[a] for a in areas]))


def _model(table: _Table, key: int) -> _Model:
    """The LP of a sub-table: relations inside it; cells in a relation that leaves it are
    held at zero deviation; columns y+ then y- of its cells."""
    if table.model is not None and table.model.key == key:
        return table.model
    columns = _below(table, key)
    sub = table.matrix[:, columns]
    inside = np.diff(sub.tocsr().indptr)
    partial = (inside > 0) & (inside < table.row_nnz)
    fixed = np.diff(sub[partial].tocsc().indptr) > 0
    block = sub[(inside > 0) & ~partial]
    size = len(columns)
    upper = np.concatenate([np.full(size, np.inf), table.cap[columns]])
    upper[np.concatenate([fixed, fixed])] = 0.0
    lower = np.zeros(2 * size)
    cost = np.concatenate([table.weight[columns], table.weight[columns]])
    solver = highs(sparse.hstack([block, -block], format="csc"), cost, lower, upper)
    free = table.weight[columns] == 0
    table.model = _Model(key, columns, fixed, lower, upper, free, solver)
    return table.model


def _solve(table: _Table, key: int, cell: int, move: float) -> np.ndarray | None:
    """Solve the protection LP of ``cell`` on a sub-table; the moved cells (table indices)."""
    model = _model(table, key)
    size = len(model.columns)
    at = int(np.searchsorted(model.columns, cell))
    if model.fixed[at]:
        return None
    newly = np.flatnonzero((table.weight[model.columns] == 0) & ~model.free)
    if len(newly):
        both = np.concatenate([newly, newly + size]).astype(np.int32)
        model.solver.changeColsCost(len(both), both, np.zeros(len(both)))
        model.free[newly] = True
    pair = np.array([at, at + size], dtype=np.int32)
    value = np.array([max(move, 0.0), max(-move, 0.0)])
    model.solver.changeColsBounds(2, pair, value, value)
    model.solver.run()
    optimal = model.solver.getModelStatus() == highspy.HighsModelStatus.kOptimal
    values = np.asarray(model.solver.getSolution().col_value) if optimal else None
    model.solver.changeColsBounds(2, pair, model.lower[pair], model.upper[pair])
    if values is None:
        return None
    deviation = values[:size] + values[size:]
    return model.columns[deviation > MOVED]


def highs(
    matrix: sparse.csc_matrix,
    cost: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    row_lower: np.ndarray | None = None,
    row_upper: np.ndarray | None = None,
) -> highspy.Highs:
    """HiGHS holding min cost·x, row_lower <= matrix·x <= row_upper (default = 0),
    lower <= x <= upper (one thread, no presolve: the LPs are small and warm-started)."""
    rows, cols = matrix.shape
    solver = highs_solver.highs()
    solver.setOptionValue("threads", 1)
    solver.setOptionValue("presolve", "off")
    solver.passModel(
        cols, rows, matrix.nnz, int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize), 0.0,
        np.asarray(cost, dtype=np.float64), np.asarray(lower, dtype=np.float64),
        np.asarray(upper, dtype=np.float64),
        np.zeros(rows) if row_lower is None else np.asarray(row_lower, dtype=np.float64),
        np.zeros(rows) if row_upper is None else np.asarray(row_upper, dtype=np.float64),
        matrix.indptr.astype(np.int32), matrix.indices.astype(np.int32),
        matrix.data.astype(np.float64), np.zeros(cols, dtype=np.int32),
    )  # fmt: skip
    return solver


def solve_lp(matrix: sparse.csc_matrix, cost: np.ndarray, *bounds: np.ndarray) -> np.ndarray | None:
    """Solve the LP of :func:`highs`; the optimal x, or None."""
    solver = highs(matrix, cost, *bounds)
    solver.run()
    if solver.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return np.asarray(solver.getSolution().col_value)
