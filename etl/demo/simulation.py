"""Household panel simulation of Musterstadt's population, one register extract per year.

The first extract is drawn as a cross-section whose composition meets the year's targets
(``ziele.csv``). Each further year ages that population: deaths, births, children leaving
home, households moving away, naturalisations, moves within the city and in-movers. The
in-movers' mix (foreign / German with / without migration background) is solved so that
the year's targets for population, foreigners and migration background are met.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import numpy as np

from etl.demo import events
from etl.demo.allocation import allocate
from etl.demo.config import DemoConfig, load_config, target
from etl.demo.mix import draw_mix
from etl.demo.pools import foreign_pool, german_mb_pool, native_pool
from etl.demo.status import ABGELEITET, AUSLAENDER, migration_status
from etl.demo.table import NONE, IdCounter, Table, concat, household_index, size, sort_households


def _targets(cfg: DemoConfig, year: int, persons: int, first_year: int) -> np.ndarray:
    """Wanted (persons, foreigners, persons with migration background) at the end of ``year``."""
    growth = target(cfg, year, "einwohner_index") / target(cfg, first_year, "einwohner_index")
    total = persons * growth
    return np.array(
        [
            total,
            total * target(cfg, year, "anteil_auslaender"),
            total * target(cfg, year, "anteil_mh"),
        ]
    )


def _makers(rng, cfg: DemoConfig, year: int, ids: IdCounter, arriving: bool):
    return [
        partial(make, rng, cfg, year=year, ids=ids, arriving=arriving)
        for make in (foreign_pool, german_mb_pool, native_pool)
    ]


def initial_population(rng, cfg: DemoConfig, year: int, persons: int, ids: IdCounter) -> Table:
    """Cross-section of about ``persons`` residents at the end of ``year``."""
    need = _targets(cfg, year, persons, year)
    t = sort_households(draw_mix(_makers(rng, cfg, year, ids, False), need, year))
    allocate(rng, cfg, t, migration_status(t, year), year, initial=True)
    return t


def _move_within_city(rng, cfg: DemoConfig, t: Table) -> None:
    hh, starts = household_index(t)
    moving = rng.random(len(starts)) < cfg.params["umzug"]["rate"]
    t["district"][moving[hh]] = NONE


def advance(rng, cfg: DemoConfig, t: Table, year: int, need: np.ndarray, ids: IdCounter) -> Table:
    """Simulate ``year`` starting from the population at the end of ``year - 1``."""
    t = events.deaths(rng, cfg, t, year)
    t = events.leave_home(rng, cfg, t, year, ids)
    t = events.emigrate(rng, cfg, t, year)
    t = events.naturalise(rng, cfg, t, year)
    t = events.births(rng, cfg, t, year, ids)
    _move_within_city(rng, cfg, t)
    status = migration_status(t, year)
    have = np.array([size(t), np.sum(status == AUSLAENDER), np.sum(status <= ABGELEITET)])
    newcomers = draw_mix(_makers(rng, cfg, year, ids, True), need - have, year)
    t = sort_households(concat([t, newcomers]))
    allocate(rng, cfg, t, migration_status(t, year), year)
    return t


def simulate(
    seed: int, persons: int, first_year: int, last_year: int
) -> Iterator[tuple[int, Table]]:
    """Yield ``(year, persons table)`` for every year from ``first_year`` to ``last_year``."""
    if last_year < first_year:
        raise ValueError(f"last_year {last_year} is before first_year {first_year}")
    if persons < 100:
        raise ValueError(f"persons must be at least 100, got {persons}")
    cfg = load_config()
    rng = np.random.default_rng([seed, 1])
    ids = IdCounter()
    t = initial_population(rng, cfg, first_year, persons, ids)
    yield first_year, t
    for year in range(first_year + 1, last_year + 1):
        t = advance(rng, cfg, t, year, _targets(cfg, year, persons, first_year), ids)
        yield year, t
