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
from etl.solver import highs

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


@dataclass(frozen=True)
class Need:
    """What each target's interval must show. Solves are skipped once LP solutions found on
    the way witness it (the interval is then reported as the witnessed range, not exact)."""

    low: np.ndarray  # must reach down to this (inf: nothing required)
    high: np.ndarray  # must reach up to this (−inf: nothing required)
    spread: np.ndarray  # bool: must hold two integers (not a single point)

    @classmethod
    def exact(cls, n: int) -> Need:
        """Every interval computed exactly."""
        return cls(np.full(n, -np.inf), np.full(n, np.inf), np.zeros(n, dtype=bool))


@dataclass
class Result:
    """Integer intervals of the targets (±inf when unbounded)."""

    low: np.ndarray
    high: np.ndarray
    exact: np.ndarray  # bool: both ends optimal (not only witnessed)
    findings: list[str]


def intervals(model: DateModel, targets: np.ndarray, need: Need | None = None) -> Result:
    """[low, high] of every target cell: eliminated, split into components, LP per target."""
    need = need or Need.exact(len(targets))
    red = eliminate(model)
    out = Result(
        red.lb[targets].astype(float),
        red.ub[targets].astype(float),
        np.ones(len(targets), dtype=bool),
        list(red.findings),
    )
    free_cells = np.flatnonzero(~red.fixed)
    rows = np.flatnonzero(red.active)
    if not len(rows) or not len(free_cells):
        return out
    linked = model.a[rows][:, free_cells].tocsr()
    linked.eliminate_zeros()
    graph = sparse.bmat([[None, linked], [linked.T, None]]).tocsr()
    _, label = connected_components(graph, directed=False)
    col_label, row_label = label[len(rows) :], label[: len(rows)]
    where = {int(c): i for i, c in enumerate(free_cells)}
    col_nnz = linked.getnnz(axis=0)
    by_component: dict[int, list[int]] = {}
    for k, t in enumerate(targets):
        if int(t) in where and col_nnz[where[int(t)]]:
            by_component.setdefault(int(col_label[where[int(t)]]), []).append(k)
    for comp, members in by_component.items():
        cols = free_cells[col_label == comp]
        comp_rows = rows[row_label == comp]
        comp_rows = comp_rows[~model.implied[comp_rows]]
        _solve_component(model, red, comp_rows, cols, targets, members, need, out)
    return out


def _solve_component(
    model: DateModel,
    red: Reduced,
    rows: np.ndarray,
    cols: np.ndarray,
    targets: np.ndarray,
    members: list[int],
    need: Need,
    out: Result,
) -> None:
    """Min and max of each member over one component, one HiGHS model re-solved warm."""
    h = _highs(model, red, rows, cols)
    position = {int(c): i for i, c in enumerate(cols)}
    at = np.array([position[int(targets[k])] for k in members])
    seen_lo, seen_hi = np.full(len(members), np.inf), np.full(len(members), -np.inf)
    for i, k in enumerate(members):
        ends = []
        for sign in (1.0, -1.0):
            if _witnessed(need, k, seen_lo[i], seen_hi[i], sign):
                ends.append(seen_lo[i] if sign > 0 else seen_hi[i])
                out.exact[k] = False
                continue
            value, x = _optimum(h, int(at[i]), sign)
            if x is not None:
                seen_lo, seen_hi = np.minimum(seen_lo, x[at]), np.maximum(seen_hi, x[at])
            ends.append(value if sign > 0 else -value)
        low, high = ends
        if np.isnan(low) or np.isnan(high):
            term, area, _ = model.cell(int(targets[k]))
            out.findings.append(f"LP ohne Lösung für {term} in {area} (widersprüchlich)")
        out.low[k] = np.ceil(low - EPS * max(1.0, abs(low))) + 0.0
        out.high[k] = np.floor(high + EPS * max(1.0, abs(high))) + 0.0


def _witnessed(need: Need, k: int, seen_lo: float, seen_hi: float, sign: float) -> bool:
    """Whether solutions seen so far already show this end of target k's requirement."""
    if not np.isfinite(seen_lo):
        return False
    if need.spread[k]:
        return np.floor(seen_hi + EPS) - np.ceil(seen_lo - EPS) >= 1
    if sign > 0:
        return seen_lo <= need.low[k] + EPS
    return seen_hi >= need.high[k] - EPS


def _highs(model: DateModel, red: Reduced, rows: np.ndarray, cols: np.ndarray) -> highspy.Highs:
    """The component as a HiGHS model (fixed cells moved into the row bounds)."""
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
    h = highs()
    h.passModel(lp)
    h.run()  # any feasible basis first (presolve, dual simplex on the zero objective) ...
    h.setOptionValue("presolve", "off")  # ... then re-solves from the previous basis,
    h.setOptionValue("simplex_strategy", 4)  # primal: a new objective keeps it feasible
    return h


def _finite(bound: np.ndarray) -> np.ndarray:
    """HiGHS' infinity for ±inf."""
    return np.clip(bound, -highspy.kHighsInf, highspy.kHighsInf)


def _optimum(h: highspy.Highs, column: int, sign: float) -> tuple[float, np.ndarray | None]:
    """min sign·x_column (−inf when unbounded, NaN when infeasible) and the solution."""
    h.changeColCost(column, sign)
    h.run()
    status = h.getModelStatus()
    value = float(h.getInfo().objective_function_value)  # before the model changes again
    x = np.asarray(h.getSolution().col_value) if status == _OPTIMAL else None
    h.changeColCost(column, 0.0)
    if status == _OPTIMAL:
        return value, x
    if status in (_UNBOUNDED, highspy.HighsModelStatus.kUnboundedOrInfeasible):
        return -np.inf, None
    return np.nan, None


_OPTIMAL = highspy.HighsModelStatus.kOptimal
_UNBOUNDED = highspy.HighsModelStatus.kUnbounded
