"""Class breaks for choropleth maps: quantiles, equal intervals, natural breaks (Jenks).

Every method returns the ``k + 1`` class edges ``[min, b1, ..., max]`` of the known
values; class ``i`` holds the values in ``(edge[i], edge[i + 1]]`` (the first class also
its lower edge). Duplicate edges are merged, so fewer distinct values than ``k`` give fewer
classes. NaN values are ignored. Pure numpy, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

METHODS = ("quantile", "equal", "jenks")
DEFAULT_METHOD = "quantile"
K = 5


def _known(values: Sequence[float]) -> np.ndarray:
    data = np.asarray(values, dtype=float)
    return np.sort(data[~np.isnan(data)])


def quantile_breaks(values: Sequence[float], k: int = K) -> list[float]:
    """Edges at the ``i/k`` quantiles (linear interpolation between order statistics,
    Hyndman & Fan 1996 type 7, numpy's default): about as many areas in each class."""
    data = _known(values)
    return _edges(np.quantile(data, np.linspace(0, 1, k + 1))) if data.size else []


def equal_breaks(values: Sequence[float], k: int = K) -> list[float]:
    """Edges ``min + i * (max - min) / k``: classes of equal width."""
    data = _known(values)
    return _edges(np.linspace(data[0], data[-1], k + 1)) if data.size else []


def jenks_breaks(values: Sequence[float], k: int = K) -> list[float]:
    """Natural breaks: the partition of the sorted values into ``k`` runs with the least
    total within-class sum of squared deviations (Fisher 1958, "On grouping for maximum
    homogeneity"; Jenks 1977). Exact dynamic programme, O(k n²) time; edges are the
    minimum and each class's maximum."""
    data = _known(values)
    if not data.size:
        return []
    distinct = np.unique(data)
    if distinct.size <= k:
        return _edges(np.concatenate([[data[0]], distinct]))
    cuts = _fisher_cuts(data, k)
    return _edges(np.array([data[0], *(data[c - 1] for c in cuts), data[-1]]))


def _fisher_cuts(data: np.ndarray, k: int) -> list[int]:
    """Start indices of classes 2..k of the optimal partition of sorted ``data``."""
    n = data.size
    s1 = np.concatenate([[0.0], np.cumsum(data)])
    s2 = np.concatenate([[0.0], np.cumsum(data**2)])

    def sse(i: np.ndarray, j: int) -> np.ndarray:  # cost of data[i:j] for every i
        m = j - i
        return s2[j] - s2[i] - (s1[j] - s1[i]) ** 2 / m

    cost = np.full((k + 1, n + 1), np.inf)
    start = np.zeros((k + 1, n + 1), dtype=int)
    cost[1, 1:] = [sse(np.array([0]), j)[0] for j in range(1, n + 1)]
    for c in range(2, k + 1):
        for j in range(c, n + 1):
            i = np.arange(c - 1, j)  # the last class is data[i:j]
            total = cost[c - 1, i] + sse(i, j)
            best = int(np.argmin(total))
            cost[c, j], start[c, j] = total[best], i[best]
    cuts, j = [], n
    for c in range(k, 1, -1):
        j = start[c, j]
        cuts.append(int(j))
    return cuts[::-1]


def _edges(edges: np.ndarray) -> list[float]:
    unique = [float(e) for e in np.unique(edges)]
    return unique * 2 if len(unique) == 1 else unique  # one value: one class [v, v]


BREAKS: dict[str, Callable[[Sequence[float], int], list[float]]] = {
    "quantile": quantile_breaks,
    "equal": equal_breaks,
    "jenks": jenks_breaks,
}


def breaks(values: Sequence[float], method: str, k: int = K) -> list[float]:
    """Class edges of ``values`` by ``method`` (one of :data:`METHODS`)."""
    if method not in BREAKS:
        raise ValueError(f"unknown classification {method!r}; choose from {list(METHODS)}")
    return BREAKS[method](values, k)


def classes(values: Sequence[float], edges: Sequence[float]) -> np.ndarray:
    """Class index (0-based) of each value for ``edges``; -1 for NaN. A value equal to an
    inner edge belongs to the lower class."""
    data = np.asarray(values, dtype=float)
    index = np.searchsorted(np.asarray(edges[1:-1], dtype=float), data, side="left")
    return np.where(np.isnan(data), -1, index)
