"""Draw migration streams, arrival years and origin countries (``zuzugsstroeme.csv``,
``laender.csv``)."""

from __future__ import annotations

import numpy as np

from etl.demo.config import STREAMS, DemoConfig, interpolate

FIRST_ARRIVAL_YEAR = 1950


def stream_index(name: str) -> int:
    """Position of a stream name in :data:`etl.demo.config.STREAMS`."""
    return STREAMS.index(name)


def _history(cfg: DemoConfig, year: int, stream: str, min_gap: int):
    """Arrival years up to ``year - min_gap`` and their weights among today's residents."""
    years = np.arange(FIRST_ARRIVAL_YEAR, year - min_gap + 1)
    intensity = interpolate(cfg.flows[[stream]], years)[stream].to_numpy()
    retention = cfg.params["stroeme"][stream]["verbleib"]
    return years, intensity * np.exp(-(year - years) / retention)


def draw_history(
    rng: np.random.Generator,
    cfg: DemoConfig,
    n: int,
    year: int,
    streams: tuple[str, ...],
    min_gap: int = 0,
    propensity: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw streams and arrival years of ``n`` migrant households still living in the city.

    Streams are weighted by their retained arrivals up to ``year - min_gap`` (times the
    stream parameter ``propensity``, e.g. the propensity to naturalise).

    Returns
    -------
    stream, arrival : stream positions (in ``STREAMS``) and arrival years per household
    """
    histories = [_history(cfg, year, s, min_gap) for s in streams]
    mass = np.array([w.sum() for _, w in histories])
    if propensity:
        mass = mass * np.array([cfg.params["stroeme"][s][propensity] for s in streams])
    pick = rng.choice(len(streams), size=n, p=mass / mass.sum())
    arrival = np.zeros(n, dtype=np.int16)
    for i, (years, weights) in enumerate(histories):
        chosen = pick == i
        if not chosen.any():
            continue
        arrival[chosen] = rng.choice(years, size=chosen.sum(), p=weights / weights.sum())
    return np.array([stream_index(s) for s in streams])[pick], arrival


def draw_current(
    rng: np.random.Generator, cfg: DemoConfig, n: int, year: int, streams: tuple[str, ...]
) -> np.ndarray:
    """Draw the stream of ``n`` households arriving from abroad in ``year``."""
    intensity = interpolate(cfg.flows[list(streams)], year).iloc[0].to_numpy()
    pick = rng.choice(len(streams), size=n, p=intensity / intensity.sum())
    return np.array([stream_index(s) for s in streams])[pick]


def draw_country(rng: np.random.Generator, cfg: DemoConfig, column: np.ndarray) -> np.ndarray:
    """Draw an origin country per household from the weight column given by name or stream.

    ``column`` holds stream positions (int) or weight column names (str) per household.
    """
    names = np.asarray(STREAMS)[column] if column.dtype.kind == "i" else column.astype(str)
    out = np.zeros(len(names), dtype=np.int16)
    for name in np.unique(names):
        chosen = names == name
        weights = cfg.countries.weights[name].to_numpy()
        out[chosen] = rng.choice(len(weights), size=chosen.sum(), p=weights / weights.sum())
    return out
