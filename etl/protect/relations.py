"""Linear relations between the terms of one area, derived from the catalogue's group filters.

A term (an intersection of groups, :func:`etl.indicators.spec.term_key`) is a set of
*atoms*: the cells of the product of the domains of every column a group filters on
(etl/indicators/population_domains.yaml), tagged with the term's measures. Then

* a *partition* ``outer = part_1 + ... + part_m`` holds when the parts are pairwise
  disjoint and their atoms together are exactly the outer term's atoms (exact cover,
  found by depth-first search over the terms covering the smallest uncovered atom,
  Knuth's "Algorithm X"); e.g. ``total = germans + foreigners``;
* a *nested pair* ``(outer, inner)`` (``Catalogue.contains``) makes the difference
  ``outer - inner`` derivable: it is modelled as an unpublished *virtual* cell with
  ``outer = inner + virtual`` (Cox 1980, "complementary" disclosure).

Some identities rest on register logic rather than on the filters (MigraPro: every
foreigner has a migration background, so ``migration_background =
germans_with_migration_background + foreigners``). :func:`verified_partitions` finds such
two-part identities in the data: a pair of filter-disjoint terms whose sum equals a third
term in every cell. Adding a relation the attacker may not know only narrows the modelled
feasible set, so protection proven on the model still holds (it may cost extra cells).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import duckdb
import numpy as np

from etl.indicators.spec import Catalogue, domains

SAMPLE = 2000  # cells on which candidate identities are tried before the full check
MAX_PARTITIONS = 64  # per outer term: enough for every catalogue seen; bounds the search
MAX_REGIONS = 16  # derivable groups: all 2^regions unions up to this many regions, beyond
MAX_TERMS = 4  # signed sums of up to this many terms


@dataclass(frozen=True)
class Relations:
    """``partitions``: (outer, parts); ``nested``: (outer, inner) pairs, term names."""

    partitions: tuple[tuple[str, tuple[str, ...]], ...]
    nested: tuple[tuple[str, str], ...]


def term_relations(catalogue: Catalogue, terms: list[str]) -> Relations:
    """Partitions and nested pairs among ``terms`` (names joined with '&'), derived from
    the group filters alone."""
    atoms = _atoms(catalogue, terms)
    partitions = []
    for outer in terms:
        inside = [t for t in terms if t != outer and atoms[t] and atoms[t] <= atoms[outer]]
        for parts in _covers(atoms[outer], inside, atoms):
            partitions.append((outer, tuple(sorted(parts))))
    nested = [
        (outer, inner)
        for outer, inner in itertools.permutations(terms, 2)
        if catalogue.contains(_key(outer), _key(inner)) and atoms[inner] < atoms[outer]
    ]
    return Relations(tuple(sorted(set(partitions))), tuple(sorted(nested)))


def term_regions(catalogue: Catalogue, terms: list[str]) -> tuple[tuple[str, ...], ...]:
    """The *regions* of the terms: the classes of atoms that lie in the same terms (the
    cells of their Venn diagram that hold any atom), each named by the sorted tuple of the
    terms containing it. Every term is the disjoint union of its regions, and no region
    can hold fewer than 0 persons: the full linear knowledge an attacker has about the
    terms of one area (Fréchet bounds included)."""
    signatures: dict[tuple, set[str]] = {}
    for term, members in _atoms(catalogue, terms).items():
        for atom in members:
            signatures.setdefault(atom, set()).add(term)
    return tuple(sorted({tuple(sorted(found)) for found in signatures.values()}))


def empty_regions(
    regions: tuple[tuple[str, ...], ...], partitions: list[tuple[str, tuple[str, ...]]]
) -> set[tuple[str, ...]]:
    """Regions that an identity ``outer = sum of disjoint parts`` forces to 0: those of the
    parts outside the outer term when the parts cover it (and vice versa). E.g.
    ``migration_background = germans_with_migration_background + foreigners`` empties the
    foreigners without migration background."""
    empty: set[tuple[str, ...]] = set()
    for outer, parts in partitions:
        inner = {r for r in regions if outer in r}
        covered = {r for r in regions if set(parts) & set(r)}
        if inner <= covered:
            empty |= covered - inner
        elif covered <= inner:
            empty |= inner - covered
    return empty


def derivable_groups(
    terms: list[str],
    regions: tuple[tuple[str, ...], ...],
    nested: tuple[tuple[str, str], ...] = (),
) -> list[tuple[str, dict[str, float]]]:
    """Groups of persons whose count one area's published cells determine, beyond the terms
    and the differences of the ``nested`` pairs (the complement rule's cells), as
    (name, {term: coefficient}); e.g. ``total-age_65_plus-under_18`` (the 18-64 year
    olds). A group is a union of regions whose indicator vector is a linear combination
    of the terms' (:func:`_row_space`: all 2^R unions, up to MAX_REGIONS regions;
    beyond, :func:`_signed_sums`: sums of up to MAX_TERMS terms with signs ±1), within one
    universe (persons, or one measure)."""
    if not regions:
        return []
    incidence = np.array([[t in region for region in regions] for t in terms], dtype=float)
    small = len(regions) <= MAX_REGIONS
    found = _row_space(incidence) if small else _signed_sums(incidence)
    known = {_mask(row) for row in incidence}
    index = {t: i for i, t in enumerate(terms)}
    known |= {_mask(incidence[index[o]] - incidence[index[i]]) for o, i in nested}
    universes = _universes(incidence)
    groups = []
    for mask, row in found.items():
        if mask not in known and any(mask & u == mask for u in universes):
            combination = {terms[i]: round(float(c), 9) for i, c in enumerate(row) if abs(c) > 1e-9}
            groups.append((_combination_name(combination), combination))
    return sorted(groups)


def _row_space(incidence: np.ndarray) -> dict[int, np.ndarray]:
    """Every 0/1 union of regions in the row space of ``incidence`` (mask -> coefficients
    per term, on a basis of the terms chosen greedily, widest terms first)."""
    basis: list[int] = []
    for t in sorted(range(len(incidence)), key=lambda t: -incidence[t].sum()):
        if np.linalg.matrix_rank(incidence[[*basis, t]]) > len(basis):
            basis.append(t)
    unions = np.array(list(itertools.product((0.0, 1.0), repeat=incidence.shape[1]))[1:])
    on_basis = unions @ np.linalg.pinv(incidence[basis])
    keep = np.abs(on_basis @ incidence[basis] - unions).max(axis=1) < 1e-9
    coefficients = np.zeros((len(unions), len(incidence)))
    coefficients[:, basis] = on_basis
    return {_mask(u): c for u, c in zip(unions[keep], coefficients[keep], strict=True)}


def _signed_sums(incidence: np.ndarray) -> dict[int, np.ndarray]:
    """0/1 unions of regions that are sums of 2..MAX_TERMS terms with signs ±1 (fewest
    terms first), for catalogues with too many regions to enumerate their unions."""
    found: dict[int, np.ndarray] = {}
    for size in range(2, MAX_TERMS + 1):
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=size)))
        every = np.array(list(itertools.combinations(range(len(incidence)), size)))
        for chosen in np.array_split(every, max(1, len(every) // 2048)):
            sums = np.einsum("sk,ckr->csr", signs, incidence[chosen])
            for c, g in zip(*np.nonzero(np.all((sums == 0) | (sums == 1), axis=2)), strict=True):
                mask = _mask(sums[c, g])
                if mask and mask not in found:
                    found[mask] = np.zeros(len(incidence))
                    found[mask][chosen[c]] = signs[g]
    return found


def _universes(incidence: np.ndarray) -> list[int]:
    """The regions joined by common terms (persons; each measure, e.g. employees), as masks:
    a group lies in one of them."""
    masks = [_mask(row) for row in incidence]
    universes: list[int] = []
    for mask in masks:
        joined = [u for u in universes if u & mask]
        universes = [u for u in universes if not u & mask] + [mask | sum(joined)]
    return universes


def _mask(indicator: np.ndarray) -> int:
    return int(sum(1 << i for i, v in enumerate(indicator) if v > 0.5))


def _combination_name(combination: dict[str, float]) -> str:
    """``a-b+c``: positive terms first; a coefficient other than ±1 as ``2*a``."""
    parts = []
    for term, coef in sorted(combination.items(), key=lambda item: (item[1] < 0, item[0])):
        size = "" if abs(coef) == 1 else f"{abs(coef):g}*"
        parts.append(("-" if coef < 0 else "+") + size + term)
    return "".join(parts).lstrip("+")


def _key(term: str) -> tuple[str, ...]:
    return tuple(term.split("&"))


def _atoms(catalogue: Catalogue, terms: list[str]) -> dict[str, frozenset]:
    """Each term as the set of atoms (measures, one value per filtered column) it covers."""
    columns = sorted({c for t in terms for g in _key(t) for c in catalogue.groups.get(g, {})})
    universe = list(itertools.product(*(domains()[c] for c in columns)))
    result = {}
    for term in terms:
        key = _key(term)
        measures = tuple(sorted(n for n in key if n in catalogue.measures))
        filters = _filters(catalogue, key)
        chosen = [
            atom
            for atom in universe
            if all(atom[i] in filters.get(c, (atom[i],)) for i, c in enumerate(columns))
        ]
        result[term] = frozenset((measures, atom) for atom in chosen)
    return result


def _filters(catalogue: Catalogue, key: tuple[str, ...]) -> dict[str, set[str]]:
    """Allowed values per column of an intersection of groups."""
    combined: dict[str, set[str]] = {}
    for name in key:
        for column, values in catalogue.groups.get(name, {}).items():
            chosen = {values} if isinstance(values, str) else set(values)
            combined[column] = combined.get(column, chosen) & chosen
    return combined


def _covers(target: frozenset, candidates: list[str], atoms: dict[str, frozenset]) -> list:
    """Every set of pairwise disjoint candidates whose atoms are exactly ``target``."""
    found: list[list[str]] = []

    def search(left: frozenset, chosen: list[str], allowed: list[str]) -> None:
        if len(found) >= MAX_PARTITIONS:
            return
        if not left:
            found.append(list(chosen))
            return
        atom = min(left)
        for term in allowed:
            if atom in atoms[term] and atoms[term] <= left:
                rest = [t for t in allowed if not atoms[t] & atoms[term]]
                search(left - atoms[term], [*chosen, term], rest)

    search(target, [], candidates)
    return found


def verified_partitions(
    con: duckdb.DuckDBPyConnection, catalogue: Catalogue, terms: list[str]
) -> list[tuple[str, tuple[str, str]]]:
    """Two-part identities ``outer = a + b`` (a, b disjoint by their filters) that hold in
    every cell of ``term_counts`` with known values, and are not all zero."""
    if len(terms) < 3:
        return []
    wide = _wide(con, terms)
    if wide.size == 0:
        return []
    sample = wide[: min(len(wide), SAMPLE)]
    nonzero = np.nansum(np.abs(wide), axis=0) > 0
    found = []
    for i, j in itertools.combinations(range(len(terms)), 2):
        if not catalogue.disjoint(_key(terms[i]), _key(terms[j])):
            continue
        candidates = nonzero & _equal(sample, sample[:, i] + sample[:, j])
        candidates[[i, j]] = False
        for o in np.flatnonzero(candidates):
            if _equal(wide[:, [o]], wide[:, i] + wide[:, j])[0]:
                found.append((terms[o], tuple(sorted((terms[i], terms[j])))))
    return found


def _equal(columns: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Per column: equal to ``total`` wherever both are known."""
    return np.all((columns == total[:, None]) | np.isnan(columns) | np.isnan(total)[:, None], 0)


def _wide(con: duckdb.DuckDBPyConnection, terms: list[str]) -> np.ndarray:
    """Cells × terms matrix of ``term_counts`` (NaN where a value is unknown or missing)."""
    rows = con.execute(
        """
        SELECT dense_rank() OVER (ORDER BY ref_date, area_id) - 1 AS place, term, n
        FROM term_counts WHERE term IN (SELECT unnest($terms))
        """,
        {"terms": terms},
    ).fetchnumpy()
    index = {t: i for i, t in enumerate(terms)}
    keys = np.asarray(rows["term"], dtype=object)
    if len(keys) == 0:
        return np.empty((0, len(terms)))
    place = np.asarray(rows["place"], dtype=np.int64)
    wide = np.full((int(place.max()) + 1, len(terms)), np.nan)
    values = np.asarray(rows["n"], dtype=float)
    wide[place, [index[k] for k in keys]] = values
    return wide
