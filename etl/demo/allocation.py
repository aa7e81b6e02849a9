"""Place households without a district (newcomers, movers, new households) in districts.

Each district has a yearly capacity (population weight x city target) and a target share
of residents with migration background, derived from its profile share ``mh_profil``:
``logit s_d(Y) = kontrast(Y) * logit(mh_profil_d) + delta(Y)`` with ``delta`` chosen so that
the population-weighted mean equals the city target. Households fill the free places of
their kind (with / without migration background) in a few random rounds; foreign
households lean towards districts with high shares (``alpha_auslaendisch``).
"""

from __future__ import annotations

import numpy as np

from etl.demo.config import DemoConfig, target
from etl.demo.status import ABGELEITET, AUSLAENDER
from etl.demo.table import Table, household_index


def district_shares(cfg: DemoConfig, year: int) -> tuple[np.ndarray, np.ndarray]:
    """Population weights (sum 1) and target shares with migration background per district."""
    weight = cfg.districts["einwohner_gewicht"].to_numpy(float)
    weight = weight / weight.sum()
    profile = cfg.districts["mh_profil"].to_numpy(float)
    slope = target(cfg, year, "kontrast") * np.log(profile / (1 - profile))
    mean = target(cfg, year, "anteil_mh")
    lo, hi = -10.0, 10.0
    for _ in range(60):  # bisection for delta
        mid = (lo + hi) / 2
        share = 1 / (1 + np.exp(-(slope + mid)))
        lo, hi = (mid, hi) if weight @ share < mean else (lo, mid)
    return weight, share


def _household_kinds(t: Table, status: np.ndarray, hh: np.ndarray, n_hh: int):
    """Per household: persons with / without migration background and a foreign flag."""
    mb = status <= ABGELEITET
    with_mb = np.bincount(hh, weights=mb, minlength=n_hh)
    without = np.bincount(hh, minlength=n_hh) - with_mb
    foreign = np.bincount(hh, weights=status == AUSLAENDER, minlength=n_hh) * 2 > with_mb
    return with_mb, without, foreign


def _pick(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    cdf = np.cumsum(weights)
    return np.minimum(np.searchsorted(cdf, rng.random(n) * cdf[-1]), len(weights) - 1)


def allocate(
    rng: np.random.Generator,
    cfg: DemoConfig,
    t: Table,
    status: np.ndarray,
    year: int,
    initial: bool = False,
) -> None:
    """Give every household with ``district == -1`` a district (edits ``t`` in place).

    ``initial`` marks the first cross-section, which uses its own foreign tilt
    (``alpha_auslaendisch_start``): the panel dynamics dilute the initial concentration.
    """
    hh, starts = household_index(t)
    district = t["district"][starts].copy()
    open_hh = np.flatnonzero(district < 0)
    if len(open_hh) == 0:
        return
    weight, share = district_shares(cfg, year)
    capacity = weight * len(hh)
    free_mb, free_no = _free_places(t, status <= ABGELEITET, capacity, share)
    with_mb, without, foreign = _household_kinds(t, status, hh, len(starts))
    tilt = _tilts(cfg, share, initial)
    for chunk in np.array_split(rng.permutation(open_hh), cfg.params["segregation"]["runden"]):
        is_mb = with_mb[chunk] >= without[chunk]
        for kind, rows in _kinds(chunk, is_mb, foreign):
            free = np.maximum(free_mb if kind != "ohne" else free_no, 0) + 1e-3 * capacity
            district[rows] = _pick(rng, free * tilt.get(kind, 1.0), len(rows))
        free_mb -= np.bincount(district[chunk], weights=with_mb[chunk], minlength=len(weight))
        free_no -= np.bincount(district[chunk], weights=without[chunk], minlength=len(weight))
    t["district"] = district[hh]


def _free_places(t: Table, mb: np.ndarray, capacity: np.ndarray, share: np.ndarray):
    """Free places per district for persons with / without migration background."""
    placed = t["district"] >= 0
    n = len(capacity)
    taken_mb = np.bincount(t["district"][placed & mb], minlength=n)
    taken_no = np.bincount(t["district"][placed & ~mb], minlength=n)
    return capacity * share - taken_mb, capacity * (1 - share) - taken_no


def _tilts(cfg: DemoConfig, share: np.ndarray, initial: bool) -> dict[str, np.ndarray]:
    p = cfg.params["segregation"]
    rel = share / share.mean()
    alpha = p["alpha_auslaendisch_start" if initial else "alpha_auslaendisch"]
    return {"auslaendisch": rel**alpha, "deutsch_mh": rel ** p["alpha_deutsch_mh"]}


def _kinds(chunk: np.ndarray, is_mb: np.ndarray, foreign: np.ndarray):
    yield "ohne", chunk[~is_mb]
    yield "auslaendisch", chunk[is_mb & foreign[chunk]]
    yield "deutsch_mh", chunk[is_mb & ~foreign[chunk]]
