"""Draw household skeletons (composition, ages, sex) from ``haushaltsprofile.csv``.

A skeleton is a block of native Germans; :mod:`etl.demo.origins` then adds the migration
characteristics of the household type.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from etl.demo.config import DemoConfig
from etl.demo.table import DIVERSE, EP, FEMALE, HV, MALE, IdCounter, K, S, Table, empty

MAX_CHILDREN = 4
MAX_OTHERS = 2


@dataclass(frozen=True)
class Profiles:
    """Household profile rows of one group as arrays (one entry per profile)."""

    weight: np.ndarray
    age: np.ndarray  # (n, 3): min, mode, max age of the reference person
    hv_male: np.ndarray
    partner: np.ndarray
    children_cdf: np.ndarray  # (n, MAX_CHILDREN + 1)
    others_cdf: np.ndarray  # (n, MAX_OTHERS + 1)
    parents: np.ndarray  # True: the "other" member is an elderly parent


def _cdf(texts, width: int) -> np.ndarray:
    out = np.zeros((len(texts), width))
    for row, text in enumerate(texts):
        for part in str(text).split():
            count, weight = part.split(":")
            out[row, int(count)] = float(weight)
    return np.cumsum(out / out.sum(axis=1, keepdims=True), axis=1)


def profiles(cfg: DemoConfig, group: str, require_partner: bool = False) -> Profiles:
    """Return the profile rows of ``group`` (optionally only couples)."""
    rows = cfg.profiles[cfg.profiles["gruppe"] == group]
    if require_partner:
        rows = rows[rows["partner"] == 1]
    if rows.empty:
        raise KeyError(f"no household profiles for group {group!r}")
    return Profiles(
        weight=rows["gewicht"].to_numpy(float) / rows["gewicht"].sum(),
        age=rows[["alter_min", "alter_modus", "alter_max"]].to_numpy(float),
        hv_male=rows["hv_maennlich"].to_numpy(float),
        partner=rows["partner"].to_numpy(int),
        children_cdf=_cdf(rows["kinder"], MAX_CHILDREN + 1),
        others_cdf=_cdf(rows["sonstige"], MAX_OTHERS + 1),
        parents=(rows["sonstige_art"] == "eltern").to_numpy(),
    )


def _counts(rng: np.random.Generator, cdf: np.ndarray) -> np.ndarray:
    return (rng.random(len(cdf))[:, None] > cdf[:, :-1]).sum(axis=1)


def _ages(rng: np.random.Generator, prof: Profiles, rows: np.ndarray, hv_male: np.ndarray):
    """Ages of reference person, partner and the woman of the couple (per household)."""
    lo, mode, hi = prof.age[rows].T
    hv_age = np.rint(rng.triangular(lo, mode, hi)).astype(np.int32)
    gap = np.rint(rng.normal(2.0, 3.0, len(rows))).astype(np.int32)
    ep_age = np.clip(np.where(hv_male, hv_age - gap, hv_age + gap), 18, 100)
    has_partner = prof.partner[rows] == 1
    mother_age = np.where(has_partner & hv_male, ep_age, hv_age)
    return hv_age, ep_age, mother_age


def _child_ages(rng: np.random.Generator, mother_age: np.ndarray) -> np.ndarray:
    lo = np.maximum(19, mother_age - 26)
    hi = np.maximum(np.minimum(42, mother_age), lo)
    at_birth = lo + (hi - lo) * rng.random(len(mother_age))
    return np.clip(np.rint(mother_age - at_birth), 0, None).astype(np.int32)


def _positions(partner: np.ndarray, children: np.ndarray, hh: np.ndarray, slot: np.ndarray):
    pos = np.full(len(hh), S, dtype=np.int8)
    pos[slot <= partner[hh] + children[hh]] = K
    pos[(slot == 1) & (partner[hh] == 1)] = EP
    pos[slot == 0] = HV
    return pos


def _member_ages(rng, prof: Profiles, rows, hv_male, pos, hh) -> np.ndarray:
    hv_age, ep_age, mother_age = _ages(rng, prof, rows, hv_male)
    n = len(hh)
    elder = np.minimum(hv_age[hh] + rng.integers(22, 33, n), 100)
    peer = np.maximum(hv_age[hh] + rng.integers(-4, 5, n), 18)
    other = np.where(prof.parents[rows][hh], elder, peer)
    age = np.select(
        [pos == HV, pos == EP, pos == K],
        [hv_age[hh], ep_age[hh], _child_ages(rng, mother_age[hh])],
        other,
    )
    return age


def _member_sex(rng, cfg: DemoConfig, prof: Profiles, rows, hv_male, pos, hh) -> np.ndarray:
    n = len(hh)
    p = cfg.params["geschlecht"]
    u = rng.random(n)
    same_sex_couple = u < 0.02
    male = np.select(
        [pos == HV, pos == EP, pos == K],
        [hv_male[hh], hv_male[hh] == same_sex_couple, u < p["anteil_jungen"]],
        np.where(prof.parents[rows][hh], u < 0.3, hv_male[hh]),
    )
    sex = np.where(male, MALE, FEMALE).astype(np.int8)
    sex[rng.random(n) < p["anteil_divers"]] = DIVERSE
    return sex


def build_households(
    rng: np.random.Generator,
    cfg: DemoConfig,
    group: str,
    n: int,
    year: int,
    ids: IdCounter,
    require_partner: bool = False,
) -> tuple[Table, np.ndarray]:
    """Draw ``n`` households of profile ``group`` living in the city at the end of ``year``.

    Returns
    -------
    table, hh
        Persons (native Germans, no district yet) and each person's household number
        ``0..n-1``; rows of one household are contiguous, reference person first.
    """
    prof = profiles(cfg, group, require_partner)
    rows = rng.choice(len(prof.weight), size=n, p=prof.weight)
    hv_male = rng.random(n) < prof.hv_male[rows]
    partner = prof.partner[rows]
    children = _counts(rng, prof.children_cdf[rows])
    others = _counts(rng, prof.others_cdf[rows])
    members = 1 + partner + children + others
    hh = np.repeat(np.arange(n), members)
    slot = np.arange(len(hh)) - np.repeat(np.cumsum(members) - members, members)
    pos = _positions(partner, children, hh, slot)
    t = empty(len(hh))
    t["pid"] = ids.persons(len(hh))
    t["hid"] = ids.households(n)[hh]
    t["pos"] = pos
    t["birth"] = (year - _member_ages(rng, prof, rows, hv_male, pos, hh)).astype(np.int16)
    t["sex"] = _member_sex(rng, cfg, prof, rows, hv_male, pos, hh)
    return t, hh
