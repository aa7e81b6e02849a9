"""Give household skeletons the register characteristics of their migration type.

Every function takes a skeleton (``table``, person -> household number ``hh``) and
per-household origin country and arrival year, and edits the table in place:

* ``native``        Germans without own migration characteristics,
* ``foreign``       foreign households (children may be German by ius soli),
* ``naturalised``   foreign households naturalised in ``nat_year``,
* ``repatriate``    (late) repatriates (Spätaussiedler),
* ``mixed``         German reference person with a foreign or naturalised partner,
* ``returnee``      Germans born abroad who moved to Germany (status ``zugewandert``).
"""

from __future__ import annotations

import numpy as np

from etl.demo.config import DemoConfig
from etl.demo.flows import draw_country
from etl.demo.table import DE, DIVERSE, EP, FEMALE, HV, MALE, NONE, K, Table, is_german


def _household_birth(t: Table, hh: np.ndarray, n_households: int, position: int) -> np.ndarray:
    """Birth year of the member in ``position`` per household (9999 if there is none)."""
    out = np.full(n_households, 9999, dtype=np.int32)
    rows = np.flatnonzero(t["pos"] == position)
    out[hh[rows]] = t["birth"][rows]
    return out


def _born_abroad(t: Table, hh, origin, arrival, members=None) -> np.ndarray:
    """Members born before the household's arrival: born in ``origin``, arrived then."""
    members = np.ones(len(hh), dtype=bool) if members is None else members
    arr = arrival[hh]
    abroad = members & (t["birth"] < arr)
    t["bcountry"][members] = np.where(abroad, origin[hh], DE)[members]
    t["arrival"][members] = np.where(abroad, arr, 0)[members]
    return abroad


def _arrived_after_birth(t: Table, hh, arrival, position: int) -> np.ndarray:
    """Move arrival years after the birth of the member in ``position`` (where present)."""
    born = _household_birth(t, hh, len(arrival), position)
    return np.where(born < 9999, np.maximum(arrival, born + 1), arrival).astype(np.int16)


def keep_probability(cfg: DemoConfig, country: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Probability of keeping the former citizenship when naturalised in ``year``."""
    p = cfg.params["einbuergerung"]
    eu = cfg.countries.region[country] == "eu"
    before = np.where(eu, p["behaelt_eu"], p["behaelt_sonst"])
    return np.where(year >= p["reform_jahr"], p["behaelt_ab_reform"], before)


def native(rng: np.random.Generator, cfg: DemoConfig, t: Table) -> None:
    """Born-in-Germany Germans; a few expellees born abroad (no arrival) or unknown."""
    p = cfg.params["deutsche_geburt_ausland"]
    n = len(t["pid"])
    expelled = (t["birth"] < p["vertriebene_bis"]) & (rng.random(n) < p["anteil_vertriebene"])
    column = np.full(expelled.sum(), "vertriebene")
    t["bcountry"][expelled] = draw_country(rng, cfg, column)
    unknown = (t["birth"] < 1990) & (rng.random(n) < p["anteil_unbekannt"])
    t["bcountry"][unknown] = NONE


def foreign(rng: np.random.Generator, cfg: DemoConfig, t: Table, hh, origin, arrival) -> None:
    """Foreign household; children born here after 8 years' residence are German (ius soli)."""
    p = cfg.params["ius_soli"]
    abroad = _born_abroad(t, hh, origin, arrival)
    ius = (
        ~abroad
        & (t["birth"] >= p["ab_geburtsjahr"])
        & (t["birth"] - arrival[hh] >= p["mindestaufenthalt"])
    )
    dual = ius & (rng.random(len(hh)) < p["anteil_doppelt"])
    t["cit1"] = np.where(ius, DE, origin[hh]).astype(np.int16)
    t["cit2"] = np.where(dual, origin[hh], NONE).astype(np.int16)


def naturalise_members(
    rng: np.random.Generator, cfg: DemoConfig, t: Table, members: np.ndarray, year
) -> None:
    """Naturalise the foreign ``members`` (mask) in ``year`` (scalar or per row)."""
    rows = np.flatnonzero(members & ~is_german(t))
    old = t["cit1"][rows]
    when = np.broadcast_to(np.asarray(year), members.shape)[rows]
    keep = rng.random(len(rows)) < keep_probability(cfg, old, when)
    t["cit1"][rows] = DE
    t["cit2"][rows] = np.where(keep, old, NONE)
    t["natur"][rows] = True


def naturalised(
    rng: np.random.Generator, cfg: DemoConfig, t: Table, hh, origin, arrival, nat_year
) -> None:
    """Foreign household naturalised in ``nat_year``; later children are Germans by descent."""
    foreign(rng, cfg, t, hh, origin, arrival)
    later = t["birth"] > nat_year[hh]
    descent = later & ~is_german(t)
    t["cit1"][descent] = DE
    t["cit2"][descent] = NONE
    naturalise_members(rng, cfg, t, ~later, nat_year[hh])


def repatriate(rng: np.random.Generator, cfg: DemoConfig, t: Table, hh, origin, arrival) -> None:
    """(Late) repatriates: Germans born abroad; children born here have no own flag."""
    arrival = _arrived_after_birth(t, hh, arrival, HV)
    abroad = _born_abroad(t, hh, origin, arrival)
    dual = abroad & (rng.random(len(hh)) < cfg.params["aussiedler"]["anteil_doppelt"])
    t["repat"] = abroad
    t["cit1"][:] = DE
    t["cit2"] = np.where(dual, origin[hh], NONE).astype(np.int16)


def mixed(
    rng: np.random.Generator, cfg: DemoConfig, t: Table, hh, origin, arrival, year: int
) -> None:
    """German reference person, foreign (or naturalised) partner, German children."""
    p = cfg.params["gemischt"]
    arrival = _arrived_after_birth(t, hh, arrival, EP)
    partner, child = t["pos"] == EP, t["pos"] == K
    swap = (rng.random(len(arrival)) < p["anteil_auslaendischer_mann"])[hh]
    couple = swap & ((t["pos"] == HV) | partner) & (t["sex"] < DIVERSE)
    t["sex"][couple] = MALE + FEMALE - t["sex"][couple]
    _born_abroad(t, hh, origin, arrival, members=partner | child)
    t["cit1"][partner] = origin[hh][partner]
    dual = child & (rng.random(len(hh)) < p["anteil_doppelt"])
    t["cit2"][dual] = origin[hh][dual]
    nat_year = np.minimum(arrival + 8 + rng.integers(0, 12, len(arrival)), year)
    chosen = partner & (rng.random(len(hh)) < p["anteil_eingebuergert"])
    chosen &= nat_year[hh] <= year
    naturalise_members(rng, cfg, t, chosen, nat_year[hh])


def returnee(rng: np.random.Generator, cfg: DemoConfig, t: Table, hh, origin, arrival) -> None:
    """Germans born abroad who moved to Germany, often with a native partner."""
    share = cfg.params["deutsche_geburt_ausland"]["anteil_zugewandert_partner"]
    arrival = _arrived_after_birth(t, hh, arrival, HV)
    partner = (t["pos"] == EP) & (rng.random(len(hh)) < share)
    members = (t["pos"] == HV) | (t["pos"] == K) | partner
    _born_abroad(t, hh, origin, arrival, members=members)
