"""The attacker's term algebra, derived only from the catalogue's group filters.

A term (an intersection of groups, e.g. ``foreigners&under_18``) is the set of person types
its filters admit: a subset of the product of the column domains
(``etl/indicators/population_domains.yaml``), held as a bit mask. Terms that carry measures
(employees, moves) live in their own universe per set of measures. From these sets the audit
derives, without knowing any group name:

* complements: for every nested pair outer ⊋ inner, the cell ``outer - inner`` (an unknown
  ≥ 0 of its own, identified with an existing term when the sets coincide);
* covers: every way a term is the sum of pairwise disjoint terms whose union it is
  (``total = germans + foreigners``, ``total = under_18 + age_18_64 + age_65_plus``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import numpy as np

from etl.indicators.spec import Catalogue, domains, term_name

MAX_PARTS = 8  # largest cover searched (a term as the sum of at most 8 disjoint terms)
MAX_NODES = 20_000  # search steps per term and cover size


@cache
def _types() -> np.ndarray:
    """Every person type: one row per combination of the domains' values (column codes)."""
    columns = list(domains())
    return np.array(list(itertools.product(*(range(len(domains()[c])) for c in columns))))


@dataclass(frozen=True)
class Term:
    """One unknown per area: a catalogue term or the complement of a nested pair."""

    name: str
    measures: frozenset[str]
    atoms: int  # bit mask over person types
    key: tuple[str, ...] | None = None  # catalogue key; None for a complement
    outer: int | None = None  # complement: index of the outer term in the pool
    inner: int | None = None  # complement: index of the inner term
    combo: tuple[tuple[int, float], ...] | None = None  # region: = Σ coef · catalogue term
    region: bool = False  # a Venn region (no pool term has exactly its persons)

    def within(self, other: Term) -> bool:
        """Whether every person of this term belongs to ``other`` (same measures)."""
        return self.measures == other.measures and self.atoms & ~other.atoms == 0


@dataclass(frozen=True)
class TermPool:
    """Catalogue terms (first), their complements, and the covers among all of them."""

    terms: list[Term]
    covers: list[tuple[int, tuple[int, ...]]]  # (whole, parts): whole = Σ parts
    alias: dict[str, int]  # catalogue term name → pool index (equal sets share one cell)
    regions: list[tuple[int, tuple[int, ...]]]  # (term, regions): term = Σ its Venn regions


def term_atoms(catalogue: Catalogue, key: tuple[str, ...]) -> Term:
    """The set of person types of a term key (intersection of its groups' filters)."""
    types, columns = _types(), list(domains())
    mask = np.ones(len(types), dtype=bool)
    for name in key:
        for column, values in catalogue.groups.get(name, {}).items():
            chosen = [values] if isinstance(values, str) else list(values)
            codes = [domains()[column].index(v) for v in chosen]
            mask &= np.isin(types[:, columns.index(column)], codes)
    atoms = int.from_bytes(np.packbits(mask).tobytes(), "big")
    measures = frozenset(n for n in key if n in catalogue.measures)
    return Term(name=term_name(key), measures=measures, atoms=atoms, key=key)


def build_pool(catalogue: Catalogue, keys: Iterable[tuple[str, ...]]) -> TermPool:
    """Terms of ``keys`` (one per distinct set), complements of nested pairs, covers."""
    terms: list[Term] = []
    alias: dict[str, int] = {}
    for key in sorted(set(keys)):
        term = term_atoms(catalogue, key)
        same = [
            i for i, t in enumerate(terms) if (t.measures, t.atoms) == (term.measures, term.atoms)
        ]
        alias[term.name] = same[0] if same else len(terms)
        if not same:
            terms.append(term)
    originals = len(terms)
    for o, i in itertools.permutations(range(originals), 2):
        outer, inner = terms[o], terms[i]
        if inner.within(outer) and inner.atoms != outer.atoms:
            rest = outer.atoms & ~inner.atoms
            if not any(t.measures == outer.measures and t.atoms == rest for t in terms):
                name = f"{outer.name} - {inner.name}"
                terms.append(Term(name, outer.measures, rest, outer=o, inner=i))
    covers = _independent_covers(terms)
    regions = _add_regions(terms, originals)
    return TermPool(terms=terms, covers=covers, alias=alias, regions=regions)


def _add_regions(terms: list[Term], originals: int) -> list[tuple[int, tuple[int, ...]]]:
    """Append the Venn regions of the terms (persons with the same membership in every
    term) that are not pool terms already; return every pool term's regions. With them, the
    model knows what an attacker reasoning about persons knows: each region ≥ 0."""
    first = len(terms)
    members: dict[int, list[int]] = {i: [] for i in range(first)}
    for universe in sorted({t.measures for t in terms[:first]}, key=sorted):
        inside = [i for i in range(first) if terms[i].measures == universe]
        bits = np.array([_bits(terms[i].atoms) for i in inside], dtype=bool)
        signatures, where = np.unique(bits, axis=1, return_inverse=True)
        found = []  # (signature, mask, atoms, index of an existing pool term or None)
        for column, signature in enumerate(signatures.T):
            if not signature.any():
                continue  # persons in no term
            mask = where.ravel() == column
            atoms = int.from_bytes(np.packbits(mask).tobytes(), "big")
            index = next((i for i in inside if terms[i].atoms == atoms), None)
            found.append((signature, mask, atoms, index))
        new = [mask for _, mask, _, index in found if index is None]
        combos = iter(_combos(terms, inside, originals, new))
        for signature, _mask, atoms, index in found:
            if index is None:
                index = len(terms)
                terms.append(_region(terms, inside, signature, originals, atoms, next(combos)))
            for k, i in enumerate(inside):
                if signature[k]:
                    members[i].append(index)
    return [(i, tuple(parts)) for i, parts in members.items() if parts != [i]]


def _region(
    terms: list[Term],
    inside: list[int],
    signature: np.ndarray,
    originals: int,
    atoms: int,
    combo: tuple[tuple[int, float], ...] | None,
) -> Term:
    """A new region cell, named after the catalogue terms it belongs to; with its catalogue
    term combination when it is one (then its true count is known)."""
    within = [terms[i].name for k, i in enumerate(inside) if signature[k] and i < originals]
    name = f"Region #{len(terms)} ({' & '.join(within)})"
    return Term(name, terms[inside[0]].measures, atoms, combo=combo, region=True)


def _combos(
    terms: list[Term], inside: list[int], originals: int, masks: list[np.ndarray]
) -> list[tuple[tuple[int, float], ...] | None]:
    """Each region (mask over the person types) as a combination of the catalogue terms
    of its universe, where it is one (then its true count follows from theirs): one
    least-squares solve for all regions of the universe, not one per region (each solve
    of a 7,000 × 20 system costs a multi-threaded BLAS as much on busy cores as the
    whole batch)."""
    if not masks:
        return []
    names = [i for i in inside if i < originals]
    basis = np.array([_bits(terms[i].atoms) for i in names], dtype=float)
    wanted = np.array(masks, dtype=float).T
    coefs, *_ = np.linalg.lstsq(basis.T, wanted, rcond=None)
    fits = np.isclose(basis.T @ coefs, wanted, atol=1e-9).all(axis=0)
    coefs = np.round(coefs, 9)
    return [
        tuple((names[j], float(c)) for j, c in enumerate(coefs[:, k]) if abs(c) > 1e-9)
        if fits[k]
        else None
        for k in range(len(masks))
    ]


def relation_rank(terms: list[Term]) -> int:
    """Number of independent linear equalities among the terms' counts that hold for every
    population: terms minus the rank of the term × person-type-block incidence matrix."""
    total = 0
    for universe in {t.measures for t in terms}:
        rows = [_bits(t.atoms) for t in terms if t.measures == universe]
        incidence = np.unique(np.array(rows, dtype=np.int8), axis=1)
        total += len(rows) - np.linalg.matrix_rank(incidence)
    return total


def _bits(atoms: int) -> np.ndarray:
    raw = np.frombuffer(atoms.to_bytes(len(_types()) // 8, "big"), dtype=np.uint8)
    return np.unpackbits(raw)


def _independent_covers(terms: list[Term]) -> list[tuple[int, tuple[int, ...]]]:
    """Covers with the fewest parts first, keeping only linearly independent ones, until
    they span every linear equality among the terms (or the part limit is reached)."""
    wanted = relation_rank(terms)
    kept: list[tuple[int, tuple[int, ...]]] = []
    basis = np.zeros((0, len(terms)))
    for size in range(2, MAX_PARTS + 1):
        for whole in range(len(terms)):
            for parts in _covers(terms, whole, size):
                row = np.zeros(len(terms))
                row[whole], row[list(parts)] = 1.0, -1.0
                stacked = np.vstack([basis, row])
                if np.linalg.matrix_rank(stacked) > len(basis):
                    basis, kept = stacked, [*kept, (whole, parts)]
                if len(kept) == wanted:
                    return kept
    return kept


def _covers(terms: list[Term], whole: int, size: int) -> list[tuple[int, ...]]:
    """Sets of 2..``size`` pairwise disjoint pool terms whose union is term ``whole``."""
    target = terms[whole]
    parts = [
        i
        for i, t in enumerate(terms)
        if i != whole and t.atoms and t.within(target) and t.atoms != target.atoms
    ]
    found: set[tuple[int, ...]] = set()
    budget = [MAX_NODES]

    def search(remaining: int, chosen: tuple[int, ...]) -> None:
        budget[0] -= 1
        if remaining == 0:
            found.add(tuple(sorted(chosen)))
            return
        if len(chosen) == size or budget[0] <= 0:
            return
        lowest = remaining & -remaining
        for i in parts:
            atoms = terms[i].atoms
            if atoms & lowest and atoms & ~remaining == 0:
                search(remaining & ~atoms, (*chosen, i))

    if target.atoms:
        search(target.atoms, ())
    return sorted(found, key=lambda c: (len(c), c))
