"""Feasible intervals of the target cells of one date's model.

1. Elimination: every cell is an integer count, so bounds are rounded inward; a row with a
   single unknown left becomes a bound on it (an equality fixes it); repeat until nothing
   changes. Rows without unknowns are checked: a violated one is an inconsistency of the
   publication (reported, then ignored).
2. The unknowns left are split into connected components of the remaining rows
   (scipy.sparse.csgraph).
3. Per component holding targets one HiGHS model is built; for each target the objective is
   changed to ±x and the model re-solved from the previous basis. The LP bounds are rounded
   inward to integers (the attacker knows the counts are integers).
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from etl.audit.model import DateModel

EPS = 1e-6  # tolerance for integer rounding and row checks
MAX_ROUNDS = 10_000


@dataclass
class Reduced:
    """Bounds after elimination and the rows that still link two or more unknowns."""

    lb: np.ndarray
    ub: np.ndarray
    active: np.ndarray  # bool per row
    findings: list[str]

    @property
    def fixed(self) -> np.ndarray:
        return self.ub - self.lb < 0.5


def _inward(lb: np.ndarray, ub: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.ceil(lb - EPS * np.maximum(1, np.abs(lb))) + 0.0, np.floor(
        ub + EPS * np.maximum(1, np.abs(ub))
    )


def eliminate(model: DateModel) -> Reduced:
    """Fix what single-unknown rows determine, iterating to a fixed point."""
    a, lo, hi = model.a, model.lo, model.hi
    pattern = a.copy()
    pattern.data = np.ones_like(pattern.data)
    lb, ub = _inward(model.lb.copy(), model.ub.copy())
    active = np.ones(a.shape[0], dtype=bool)
    findings: list[str] = []
    for _ in range(MAX_ROUNDS):
        free = ub - lb >= 0.5
        const = a @ np.where(free, 0.0, lb)
        n_free = pattern @ free.astype(float)
        done = active & (n_free == 0)
        _check(done, const, lo, hi, model.labels, findings)
        active &= ~done
        one = np.flatnonzero(active & (n_free == 1))
        if not len(one):
            break
        active[one] = False
        entry = a[one].multiply(free.astype(float)[None, :]).tocoo()
        keep = entry.data != 0
        rows, cols, coef = one[entry.row[keep]], entry.col[keep], entry.data[keep]
        low, high = lo[rows] - const[rows], hi[rows] - const[rows]
        new_lb = np.where(coef > 0, low / coef, high / coef)
        new_ub = np.where(coef > 0, high / coef, low / coef)
        new_lb, new_ub = _inward(new_lb, new_ub)
        np.maximum.at(lb, cols, new_lb)
        np.minimum.at(ub, cols, new_ub)
        _conflicts(model, lb, ub, findings)
    return Reduced(lb, ub, active, findings)


def _check(done, const, lo, hi, labels, findings: list[str]) -> None:
    """Rows whose unknowns are all fixed must hold."""
    tol = EPS * np.maximum(1.0, np.abs(const)) + EPS
    bad = np.flatnonzero(done & ((const < lo - tol) | (const > hi + tol)))
    for r in bad:
        findings.append(f"Widerspruch: {labels[r]} ({const[r]:g} statt [{lo[r]:g}, {hi[r]:g}])")


def _conflicts(model: DateModel, lb: np.ndarray, ub: np.ndarray, findings: list[str]) -> None:
    """Cells whose bounds crossed: reported, then fixed at the lower bound."""
    for cell in np.flatnonzero(lb > ub + 0.5):
        term, area, _ = model.cell(cell)
        findings.append(f"Widerspruch: {term} in {area} zugleich ≥ {lb[cell]:g}, ≤ {ub[cell]:g}")
        ub[cell] = lb[cell]


def intervals(model: DateModel, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """[low, high] of every target cell (integers, ±inf when unbounded)."""
    red = eliminate(model)
    low, high = red.lb[targets].astype(float), red.ub[targets].astype(float)
    free_cells = np.flatnonzero(~red.fixed)
    rows = np.flatnonzero(red.active)
    linked = model.a[rows][:, free_cells].tocsr()
    linked.eliminate_zeros()
    graph = sparse.bmat([[None, linked], [linked.T, None]]).tocsr()
    _, label = connected_components(graph, directed=False)
    col_label = label[len(rows) :]
    where = {int(c): i for i, c in enumerate(free_cells)}
    position = {int(t): i for i, t in enumerate(targets)}
    col_nnz = linked.getnnz(axis=0)
    by_component: dict[int, list[int]] = {}
    for t in targets:
        if int(t) in where and col_nnz[where[int(t)]]:
            by_component.setdefault(int(col_label[where[int(t)]]), []).append(int(t))
    row_label = label[: len(rows)]
    findings = list(red.findings)
    for comp, members in by_component.items():
        cols = free_cells[col_label == comp]
        comp_rows = rows[row_label == comp]
        lows, highs, notes = _solve_component(model, red, comp_rows, cols, members)
        findings.extend(notes)
        for t, lo_, hi_ in zip(members, lows, highs, strict=True):
            low[position[t]], high[position[t]] = lo_, hi_
    return low, high, findings


def _solve_component(
    model: DateModel, red: Reduced, rows: np.ndarray, cols: np.ndarray, members: list[int]
) -> tuple[list[float], list[float], list[str]]:
    """Min and max of each member over one component, one HiGHS model re-solved warm."""
    block = model.a[rows]
    const = block @ np.where(red.fixed, red.lb, 0.0)
    sub = block[:, cols].tocsc()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(cols), len(rows)
    lp.col_cost_ = np.zeros(len(cols))
    lp.col_lower_, lp.col_upper_ = red.lb[cols], _finite(red.ub[cols])
    lp.row_lower_ = _finite(model.lo[rows] - const)
    lp.row_upper_ = _finite(model.hi[rows] - const)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_ = sub.indptr, sub.indices
    lp.a_matrix_.value_ = sub.data
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    position = {int(c): i for i, c in enumerate(cols)}
    lows, highs, notes = [], [], []
    for t in members:
        j = position[t]
        low, high = _optimum(h, j, 1.0), _optimum(h, j, -1.0)
        if np.isnan(low) or np.isnan(high):
            term, area, _ = model.cell(t)
            notes.append(f"LP ohne Lösung für {term} in {area} (widersprüchliche Angaben)")
        lows.append(float(np.ceil(low - EPS * max(1.0, abs(low)))))
        highs.append(float(np.floor(-high + EPS * max(1.0, abs(high)))))
    return lows, highs, notes


def _finite(bound: np.ndarray) -> np.ndarray:
    """HiGHS' infinity for ±inf."""
    return np.clip(bound, -highspy.kHighsInf, highspy.kHighsInf)


def _optimum(h: highspy.Highs, column: int, sign: float) -> float:
    """min sign·x_column (−inf when unbounded, NaN when infeasible)."""
    h.changeColCost(column, sign)
    h.run()
    status = h.getModelStatus()
    value = float(h.getInfo().objective_function_value)  # before the model changes again
    h.changeColCost(column, 0.0)
    if status == highspy.HighsModelStatus.kOptimal:
        return value
    if status in (
        highspy.HighsModelStatus.kUnbounded,
        highspy.HighsModelStatus.kUnboundedOrInfeasible,
    ):
        return -np.inf
    return np.nan
