"""Known-answer tests of dashboards/classify.py (breaks computed by hand / brute force)."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from dashboards.figures import classify

VALUES = [1, 2, 3, 4, 10, 11, 12, 20]


def test_quantile_breaks_by_hand():
    # type 7: position 7 * p; p = 0.2 -> 1.4 -> 2 + 0.4 * (3 - 2) = 2.4, 0.4 -> 2.8 -> 3.8,
    # 0.6 -> 4.2 -> 10.2, 0.8 -> 5.6 -> 11.6
    assert classify.quantile_breaks(VALUES, 5) == pytest.approx([1, 2.4, 3.8, 10.2, 11.6, 20])
    # quartiles: 1.75 -> 2.75, 3.5 -> 7, 5.25 -> 11.25
    assert classify.quantile_breaks(VALUES, 4) == pytest.approx([1, 2.75, 7, 11.25, 20])


def test_equal_breaks_by_hand():
    # width (20 - 1) / 5 = 3.8
    assert classify.equal_breaks(VALUES, 5) == pytest.approx([1, 4.8, 8.6, 12.4, 16.2, 20])


def test_classes_upper_edge_inclusive():
    edges = classify.equal_breaks(VALUES, 5)
    assert classify.classes(VALUES, edges).tolist() == [0, 0, 0, 0, 2, 2, 2, 4]
    assert classify.classes([4.8, float("nan")], edges).tolist() == [0, -1]


def test_jenks_textbook_by_hand():
    # three obvious groups: {1,2,3,4}, {10,11,12}, {20}
    assert classify.jenks_breaks(VALUES, 3) == [1, 4, 12, 20]


def _brute_force(data: list[float], k: int) -> float:
    """Least total within-class sum of squares over all partitions into k runs."""
    data = sorted(data)
    best = np.inf
    for cuts in combinations(range(1, len(data)), k - 1):
        runs = np.split(np.array(data), cuts)
        best = min(best, sum(((r - r.mean()) ** 2).sum() for r in runs))
    return best


def _sse(data: list[float], edges: list[float]) -> float:
    index = classify.classes(data, edges)
    arr = np.asarray(data, dtype=float)
    return sum(((arr[index == c] - arr[index == c].mean()) ** 2).sum() for c in set(index))


@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_jenks_is_optimal_against_brute_force(k):
    # Jenks' 1977 example style data: irregular, with ties
    data = [4, 5, 9, 10, 10, 11, 17, 18, 25, 26, 27, 40, 41, 43, 70]
    edges = classify.jenks_breaks(data, k)
    assert len(edges) == k + 1
    assert _sse(data, edges) == pytest.approx(_brute_force(data, k))


def test_jenks_matches_mapclassify():
    mapclassify = pytest.importorskip("mapclassify")
    rng = np.random.default_rng(5)
    data = rng.lognormal(2, 0.8, 120).round(1)
    ours = classify.jenks_breaks(data, 5)
    theirs = mapclassify.FisherJenks(data, k=5).bins
    assert ours[1:] == pytest.approx(list(theirs))


def test_fewer_distinct_values_than_classes():
    assert classify.jenks_breaks([3, 3, 7], 5) == [3, 7]
    assert classify.quantile_breaks([2, 2, 2], 5) == [2, 2]
    assert classify.classes([2, 2], [2, 2]).tolist() == [0, 0]
    assert classify.breaks([float("nan")], "equal") == []


def test_unknown_method():
    with pytest.raises(ValueError, match="unknown classification"):
        classify.breaks(VALUES, "natural")
