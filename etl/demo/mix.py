"""Draw a mix of household pools that adds a wanted number of persons, foreigners and
persons with migration background (the calibration controller of the simulation)."""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations

import numpy as np

from etl.demo.status import ABGELEITET, AUSLAENDER, migration_status
from etl.demo.table import Table, concat, household_index, size, take

PILOT_HOUSEHOLDS = 400
PoolMaker = Callable[[int], Table]


def solve_mix(need: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    """Non-negative persons per pool with ``fractions @ x`` closest to ``need``.

    ``fractions`` has one column per pool and rows (1, share foreign, share with migration
    background); ``need`` holds (persons, foreigners, persons with migration background).
    All column subsets are tried (few pools), the best non-negative least-squares fit wins.
    """
    best, best_error = np.zeros(fractions.shape[1]), float(np.linalg.norm(need))
    for k in range(1, fractions.shape[1] + 1):
        for subset in combinations(range(fractions.shape[1]), k):
            cols = list(subset)
            x, *_ = np.linalg.lstsq(fractions[:, cols], need, rcond=None)
            error = float(np.linalg.norm(fractions[:, cols] @ x - need))
            if (x >= 0).all() and error < best_error - 1e-9:
                best, best_error = np.zeros(fractions.shape[1]), error
                best[cols] = x
    return best


def _fractions(pool: Table, year: int) -> np.ndarray:
    status = migration_status(pool, year)
    return np.array([1.0, np.mean(status == AUSLAENDER), np.mean(status <= ABGELEITET)])


def take_persons(pool: Table, persons: float) -> Table:
    """The first households of ``pool`` holding about ``persons`` persons."""
    _, starts = household_index(pool)
    ends = np.append(starts[1:], size(pool))
    middles = (starts + ends) / 2
    n_households = int(np.searchsorted(middles, persons, side="right"))
    cut = ends[n_households - 1] if n_households > 0 else 0
    return take(pool, slice(0, cut))


def _fill(make: PoolMaker, pool: Table, persons: float) -> Table:
    """``pool`` extended by new households until it holds at least ``persons`` persons."""
    while size(pool) < persons:
        _, starts = household_index(pool)
        per_household = size(pool) / max(len(starts), 1)
        missing = int((persons - size(pool)) / per_household * 1.1) + 20
        pool = concat([pool, make(missing)])
    return pool


def draw_mix(makers: list[PoolMaker], need: np.ndarray, year: int, rounds: int = 3) -> Table:
    """Persons from the pools made by ``makers`` matching ``need`` (see :func:`solve_mix`).

    The pool fractions are first estimated on pilot samples, then re-measured on the
    chosen households and the mix solved again (``rounds`` times), which removes most of
    the sampling error of the pilots.
    """
    pools = [make(PILOT_HOUSEHOLDS) for make in makers]
    fractions = np.column_stack([_fractions(p, year) for p in pools])
    for _ in range(rounds):
        persons = solve_mix(np.asarray(need, dtype=float), fractions)
        pools = [_fill(m, p, x) for m, p, x in zip(makers, pools, persons, strict=True)]
        parts = [take_persons(p, x) for p, x in zip(pools, persons, strict=True)]
        for i, part in enumerate(parts):
            if size(part) > 0:
                fractions[:, i] = _fractions(part, year)
    return concat(parts)
