"""Pools of households by migration type, for the initial population and for in-movers.

Every pool function draws ``n`` households living in the city at the end of ``year`` and
returns them in random order (so that any prefix is a random sample).
"""

from __future__ import annotations

import numpy as np

from etl.demo import origins
from etl.demo.config import STREAMS, DemoConfig
from etl.demo.flows import draw_country, draw_current, draw_history
from etl.demo.households import build_households
from etl.demo.table import IdCounter, Table, concat, household_index, take

FOREIGN_STOCK = ("gast", "eu", "asyl_alt", "asyl", "sonstige", "ukraine")
FOREIGN_ARRIVALS = FOREIGN_STOCK
NATURALISED = ("gast", "eu", "asyl_alt", "asyl", "sonstige")
MIXED = ("eu", "sonstige", "gast", "asyl_alt")


def shuffle_households(rng: np.random.Generator, t: Table) -> Table:
    """Put the (contiguous) households of ``t`` in random order."""
    hh, starts = household_index(t)
    key = rng.permutation(len(starts))[hh]
    return take(t, np.argsort(key, kind="stable"))


def native_pool(
    rng: np.random.Generator, cfg: DemoConfig, n: int, year: int, ids: IdCounter, arriving: bool
) -> Table:
    """Germans without migration background (stock or in-movers from elsewhere in Germany)."""
    t, _ = build_households(rng, cfg, "deutsch_zuzug" if arriving else "deutsch", n, year, ids)
    origins.native(rng, cfg, t)
    return t


def _foreign_block(rng, cfg, group: str, stream, arrival, year: int, ids) -> Table:
    t, hh = build_households(rng, cfg, group, len(stream), year, ids)
    origins.foreign(rng, cfg, t, hh, draw_country(rng, cfg, stream), arrival)
    return t


def foreign_pool(
    rng: np.random.Generator, cfg: DemoConfig, n: int, year: int, ids: IdCounter, arriving: bool
) -> Table:
    """Foreign households: resident stock, or this year's in-movers (from abroad or Germany)."""
    if not arriving:
        stream, arrival = draw_history(rng, cfg, n, year, FOREIGN_STOCK)
        return shuffle_households(
            rng, _foreign_block(rng, cfg, "migration", stream, arrival, year, ids)
        )
    domestic = rng.random(n) < cfg.params["zuzug"]["anteil_inland_auslaendisch"]
    stream, arrival = draw_history(rng, cfg, int(domestic.sum()), year - 1, FOREIGN_STOCK)
    blocks = [_foreign_block(rng, cfg, "migration_zuzug", stream, arrival, year, ids)]
    stream = draw_current(rng, cfg, int((~domestic).sum()), year, FOREIGN_ARRIVALS)
    groups = np.array([cfg.params["stroeme"][s]["profil"] for s in STREAMS])[stream]
    for group in np.unique(groups):
        chosen = stream[groups == group]
        arrival = np.full(len(chosen), year, dtype=np.int16)
        blocks.append(_foreign_block(rng, cfg, str(group), chosen, arrival, year, ids))
    return shuffle_households(rng, concat(blocks))


def _naturalised(rng, cfg, n, year, ids, group) -> Table:
    gap = cfg.params["einbuergerung"]["mindestaufenthalt"]
    stream, arrival = draw_history(rng, cfg, n, year, NATURALISED, gap, "einbuergerung")
    t, hh = build_households(rng, cfg, group, n, year, ids)
    nat_year = rng.integers(arrival.astype(np.int64) + gap, year + 1).astype(np.int16)
    origins.naturalised(rng, cfg, t, hh, draw_country(rng, cfg, stream), arrival, nat_year)
    return t


def _repatriates(rng, cfg, n, year, ids, group) -> Table:
    stream, arrival = draw_history(rng, cfg, n, year, ("aussiedler",))
    t, hh = build_households(rng, cfg, group, n, year, ids)
    origins.repatriate(rng, cfg, t, hh, draw_country(rng, cfg, stream), arrival)
    return t


def _mixed(rng, cfg, n, year, ids, group) -> Table:
    stream, arrival = draw_history(rng, cfg, n, year, MIXED)
    t, hh = build_households(rng, cfg, group, n, year, ids, require_partner=True)
    origins.mixed(rng, cfg, t, hh, draw_country(rng, cfg, stream), arrival, year)
    return t


def _returnees(rng, cfg, n, year, ids, group) -> Table:
    _, arrival = draw_history(rng, cfg, n, year, ("sonstige",))
    t, hh = build_households(rng, cfg, group, n, year, ids)
    country = draw_country(rng, cfg, np.full(n, "zugewandert"))
    origins.returnee(rng, cfg, t, hh, country, arrival)
    return t


GERMAN_MB_TYPES = {
    "eingebuergert": _naturalised,
    "aussiedler": _repatriates,
    "gemischt": _mixed,
    "zugewandert": _returnees,
}


def german_mb_pool(
    rng: np.random.Generator, cfg: DemoConfig, n: int, year: int, ids: IdCounter, arriving: bool
):
    """Germans with migration background: naturalised, repatriates, mixed couples, returnees."""
    mix = cfg.params["deutsche_mh_mix_zuzug" if arriving else "deutsche_mh_mix"]
    group = "migration_zuzug" if arriving else "migration"
    probs = np.array([mix[k] for k in GERMAN_MB_TYPES], dtype=float)
    counts = rng.multinomial(n, probs / probs.sum())
    blocks = [
        make(rng, cfg, int(count), year, ids, group)
        for make, count in zip(GERMAN_MB_TYPES.values(), counts, strict=True)
    ]
    return shuffle_households(rng, concat(blocks))
