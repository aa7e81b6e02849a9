"""Demographic events of one simulated year: deaths, children leaving home, households
moving away, naturalisations and births. Each takes and returns a household-sorted table."""

from __future__ import annotations

import numpy as np

from etl.demo.config import DemoConfig
from etl.demo.origins import naturalise_members
from etl.demo.table import (
    DE,
    EP,
    FEMALE,
    HV,
    MALE,
    NONE,
    IdCounter,
    K,
    Table,
    ages,
    concat,
    empty,
    household_index,
    is_german,
    resident_since,
    size,
    sort_households,
    take,
)


def _step_rate(values: np.ndarray, edges: list[float], rates: list[float]) -> np.ndarray:
    """Rate of the last edge <= value (0 below the first edge)."""
    index = np.searchsorted(np.asarray(edges), values, side="right") - 1
    return np.where(index >= 0, np.asarray(rates)[np.maximum(index, 0)], 0.0)


def deaths(rng: np.random.Generator, cfg: DemoConfig, t: Table, year: int) -> Table:
    """Remove persons dying in ``year`` (Gompertz mortality, lower for women)."""
    p = cfg.params["sterblichkeit"]
    age = ages(t, year)
    q = np.exp(p["gompertz_a"] + p["gompertz_b"] * age)
    q = np.where(t["sex"] == FEMALE, q * p["faktor_w"], q)
    q = np.where(age <= 1, p["saeuglinge"], np.minimum(q, 0.7))
    q[age > p["max_alter"]] = 1.0
    return repair_households(take(t, rng.random(len(q)) >= q), year)


def repair_households(t: Table, year: int) -> Table:
    """Give households that lost their reference person a new one (partner, else eldest).

    Households left with minors only are removed (the children move to relatives).
    """
    hh, starts = household_index(t)
    has_hv = np.bincount(hh, weights=t["pos"] == HV, minlength=len(starts)) > 0
    if has_hv.all():
        return t
    order = np.lexsort((t["birth"], t["pos"] != EP, hh))
    candidate = order[starts][~has_hv]
    adult = year - t["birth"][candidate].astype(np.int32) >= 18
    t["pos"][candidate[adult]] = HV
    orphaned = np.zeros(len(starts), dtype=bool)
    orphaned[np.flatnonzero(~has_hv)[~adult]] = True
    return sort_households(take(t, ~orphaned[hh]))


def leave_home(
    rng: np.random.Generator, cfg: DemoConfig, t: Table, year: int, ids: IdCounter
) -> Table:
    """Adult children leave; some found a household in the city (district to be allocated)."""
    p = cfg.params["auszug"]
    n = size(t)
    rate = _step_rate(ages(t, year), p["alter"], p["rate"])
    leave = (t["pos"] == K) & (rng.random(n) < rate)
    stay = leave & (rng.random(n) < p["anteil_bleibt"])
    rows = np.flatnonzero(stay)
    t["hid"][rows] = ids.households(len(rows))
    t["pos"][rows] = HV
    t["district"][rows] = NONE
    return sort_households(take(t, ~leave | stay))


def emigrate(rng: np.random.Generator, cfg: DemoConfig, t: Table, year: int) -> Table:
    """Whole households move away (rate by age of the reference person; higher for recent
    foreign arrivals)."""
    p = cfg.params["fortzug"]
    hh, starts = household_index(t)
    rate = _step_rate(ages(t, year)[starts], p["alter"], p["rate"])
    foreign = ~is_german(t)[starts]
    recent = t["arrival"][starts] >= year - p["jahre_neu"]
    rate = rate * np.where(foreign, p["faktor_auslaendisch"], 1.0)
    rate = rate * np.where(recent, p["faktor_neu"], 1.0)
    leaving = rng.random(len(starts)) < rate
    return take(t, ~leaving[hh])


def naturalise(rng: np.random.Generator, cfg: DemoConfig, t: Table, year: int) -> Table:
    """Foreign households with long enough residence are naturalised (all foreign members)."""
    p = cfg.params["einbuergerung"]
    reform = year >= p["reform_jahr"]
    minimum = p["mindestaufenthalt_ab_reform" if reform else "mindestaufenthalt"]
    rate = p["rate_ab_reform" if reform else "rate"]
    hh, starts = household_index(t)
    eligible = ~is_german(t)[starts] & (year - resident_since(t)[starts] >= minimum)
    chosen = eligible & (rng.random(len(starts)) < rate)
    naturalise_members(rng, cfg, t, chosen[hh], year)
    return t


def _mothers(rng, cfg: DemoConfig, t: Table, year: int, hh, starts) -> np.ndarray:
    """Rows of women giving birth in ``year`` (at most one per household)."""
    p = cfg.params["fruchtbarkeit"]
    age = ages(t, year)
    members = np.bincount(hh, minlength=len(starts))
    eligible = (
        (t["sex"] == FEMALE)
        & (t["pos"] <= EP)
        & (age >= p["alter_min"])
        & (age <= p["alter_max"])
        & (members[hh] < p["max_haushalt"])
    )
    tfr = np.where(is_german(t), p["tfr_deutsch"], p["tfr_auslaendisch"])
    density = np.exp(-0.5 * ((age - p["mittleres_alter"]) / p["streuung"]) ** 2)
    rate = tfr * density / (p["streuung"] * np.sqrt(2 * np.pi))
    mothers = np.flatnonzero(eligible & (rng.random(size(t)) < rate))
    _, first = np.unique(hh[mothers], return_index=True)
    return mothers[first]


def _newborn_citizenship(rng, cfg: DemoConfig, t: Table, year: int, mothers, hh, starts):
    """First and second citizenship of the newborns (descent, else ius soli)."""
    german = is_german(t)
    adult = t["pos"] <= EP
    german_adults = np.bincount(hh, weights=adult & german, minlength=len(starts))
    foreign_parent = np.full(len(starts), NONE, dtype=np.int16)
    rows = np.flatnonzero(adult & ~german)
    foreign_parent[hh[rows]] = t["cit1"][rows]
    m_german = german[mothers]
    father_german = german_adults[hh[mothers]] - m_german > 0
    ius_p = cfg.params["ius_soli"]
    ius = year - resident_since(t)[mothers] >= ius_p["mindestaufenthalt"]
    ius &= year >= ius_p["ab_geburtsjahr"]
    child_german = m_german | father_german | ius
    passed = np.where(m_german, foreign_parent[hh[mothers]], t["cit1"][mothers])
    p_dual = np.where(m_german | father_german, cfg.params["gemischt"]["anteil_doppelt"], 0.0)
    p_dual = np.where(ius & ~(m_german | father_german), ius_p["anteil_doppelt"], p_dual)
    dual = child_german & (passed != NONE) & (rng.random(len(mothers)) < p_dual)
    cit1 = np.where(child_german, DE, t["cit1"][mothers]).astype(np.int16)
    return cit1, np.where(dual, passed, NONE).astype(np.int16)


def births(rng: np.random.Generator, cfg: DemoConfig, t: Table, year: int, ids: IdCounter) -> Table:
    """Add the children born in ``year`` to their mothers' households."""
    hh, starts = household_index(t)
    mothers = _mothers(rng, cfg, t, year, hh, starts)
    child = empty(len(mothers))
    child["pid"] = ids.persons(len(mothers))
    child["hid"] = t["hid"][mothers]
    child["district"] = t["district"][mothers]
    child["birth"][:] = year
    child["pos"][:] = K
    boys = rng.random(len(mothers)) < cfg.params["geschlecht"]["anteil_jungen"]
    child["sex"][:] = np.where(boys, MALE, FEMALE)
    child["cit1"][:], child["cit2"][:] = _newborn_citizenship(
        rng, cfg, t, year, mothers, hh, starts
    )
    return sort_households(concat([t, child]))
