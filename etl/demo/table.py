"""Column-oriented person table (a dict of equally long numpy arrays) and its helpers.

Country columns hold positions in ``laender.csv`` (0 = ``DE``, -1 = none/unknown); the
arrival year is 0 when none is recorded. Households are kept contiguous and sorted by
household id and position, so household aggregates are cheap (see :func:`household_index`).
"""

from __future__ import annotations

import numpy as np

Table = dict[str, np.ndarray]

HV, EP, K, S = 0, 1, 2, 3
POSITIONS = ("HV", "EP", "K", "S")
MALE, FEMALE, DIVERSE = 0, 1, 2
SEXES = ("m", "w", "d")
DE = 0
NONE = -1

SCHEMA: dict[str, type] = {
    "pid": np.int64,
    "hid": np.int64,
    "district": np.int16,
    "birth": np.int16,
    "sex": np.int8,
    "cit1": np.int16,
    "cit2": np.int16,
    "bcountry": np.int16,
    "arrival": np.int16,
    "natur": np.bool_,
    "repat": np.bool_,
    "pos": np.int8,
}
DEFAULTS = {"district": NONE, "cit1": DE, "cit2": NONE, "bcountry": DE}


def empty(n: int) -> Table:
    """Return a table of ``n`` native Germans without district (other fields zero)."""
    return {k: np.full(n, DEFAULTS.get(k, 0), dtype=t) for k, t in SCHEMA.items()}


def take(t: Table, index: np.ndarray) -> Table:
    """Return the rows selected by an index or boolean mask (copies)."""
    return {k: v[index] for k, v in t.items()}


def concat(tables: list[Table]) -> Table:
    """Stack tables row-wise."""
    return {
        k: np.concatenate([t[k] for t in tables]).astype(d, copy=False) for k, d in SCHEMA.items()
    }


def size(t: Table) -> int:
    """Number of rows."""
    return len(t["pid"])


def sort_households(t: Table) -> Table:
    """Sort rows by household id, then position (HV first), then birth year."""
    return take(t, np.lexsort((t["birth"], t["pos"], t["hid"])))


def household_index(t: Table) -> tuple[np.ndarray, np.ndarray]:
    """Dense household number per row and the first row of each household.

    Requires the table to be sorted by ``hid`` (see :func:`sort_households`).
    """
    hid = t["hid"]
    new = np.ones(len(hid), dtype=bool)
    new[1:] = hid[1:] != hid[:-1]
    return np.cumsum(new) - 1, np.flatnonzero(new)


def ages(t: Table, year: int) -> np.ndarray:
    """Age at the end of ``year`` (reference year minus birth year)."""
    return year - t["birth"].astype(np.int32)


def is_german(t: Table) -> np.ndarray:
    """True where ``DE`` is the first or the second citizenship."""
    return (t["cit1"] == DE) | (t["cit2"] == DE)


def resident_since(t: Table) -> np.ndarray:
    """Year since which a person lives in Germany (arrival year, else birth year)."""
    return np.where(t["arrival"] > 0, t["arrival"], t["birth"]).astype(np.int32)


class IdCounter:
    """Hands out consecutive person and household numbers."""

    def __init__(self) -> None:
        self.person = 0
        self.household = 0

    def persons(self, n: int) -> np.ndarray:
        """Return ``n`` new person numbers."""
        out = np.arange(self.person, self.person + n, dtype=np.int64)
        self.person += n
        return out

    def households(self, n: int) -> np.ndarray:
        """Return ``n`` new household numbers."""
        out = np.arange(self.household, self.household + n, dtype=np.int64)
        self.household += n
        return out
