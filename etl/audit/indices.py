"""Do the published unit indices say more than the published counts? Recompute them.

A segregation index is non-linear in the counts of its units, so it is no row of the LP.
Instead the audit asks whether an attacker could have computed the published value
himself: from the published counts of the units (and what the catalogue's covers derive
from them, e.g. germans = total − foreigners), where every unit with a count that is not
published is replaced by one remainder unit per top-level area, date and level, holding the
area's published count minus the units known — which anyone can work out by subtraction.
If the published value equals the value so computed (at its rounding), it is a function of
published numbers and reveals nothing about a protected cell; otherwise the audit fails.
A withheld index (NULL) is always safe.

The formulas are written here again from their definitions (Massey & Denton 1988; the
catalogue's definitions), independently of :mod:`etl.indicators.segregation`:
dissimilarity D = ½ Σ|x_i/X − y_i/Y|, isolation Σ (x_i/X)(x_i/t_i), exposure
Σ (x_i/X)(y_i/t_i), Theil's H, the Gini index over all pairs of units, and the
concentration share of the top q of the population (linear interpolation). y_i = the
named comparison group or the rest t_i − x_i. Units used: t_i > 0 and, with a minimum unit
population, at least that many residents.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from etl.audit.terms import build_pool
from etl.indicators.spec import UNIT_INDICES, Catalogue, term_key, term_name

PROTECTION_FLAGS = ("suppressed", "undefined")  # flags that are no source symbol
# a published index is compared at its rounding: half the step of 3 decimals, plus noise
TOLERANCE = 0.5e-3 + 1e-9


@dataclass(frozen=True)
class IndexCheck:
    """The recomputation of the published unit indices."""

    checked: int  # published (non-NULL) index values recomputed
    failures: list[str]  # one line per value that is not a function of published counts


def check_indices(
    catalogue: Catalogue, values: pd.DataFrame, published: pd.DataFrame, areas: pd.DataFrame
) -> IndexCheck:
    """``values``: published linear values with num_term/den_term (the public counts);
    ``published``: all published indicator_values; ``areas``: areas with level rank."""
    specs = _specs(catalogue)
    failures, checked = [], 0
    for row, units in public_units(catalogue, values, published, areas):
        checked += 1
        value = None if units is None else _index(specs[row.indicator_id], *units)
        if value is None or not abs(value - row.value) <= TOLERANCE:  # NaN fails
            shown = (
                "nicht aus veröffentlichten Zahlen berechenbar"
                if value is None
                else f"aus veröffentlichten Zahlen {value:.6f}"
            )
            failures.append(
                f"{row.indicator_id} {pd.Timestamp(row.ref_date).date()} {row.area_id} "
                f"({row.level}): veröffentlicht {row.value}, {shown}"
            )
    return IndexCheck(checked, failures)


def public_units(
    catalogue: Catalogue, values: pd.DataFrame, published: pd.DataFrame, areas: pd.DataFrame
) -> Iterator[tuple[object, tuple[np.ndarray, np.ndarray, np.ndarray] | None]]:
    """Per published (non-NULL) index row: the units anyone can derive for it — (x, y, t)
    of the units used, the remainder unit included — or None when a unit used has a count
    that is not published."""
    specs = _specs(catalogue)
    for part, frame in unit_tables(catalogue, values, published, areas):
        for row in part[part.value.notna()].itertuples(index=False):
            yield row, _unit_counts(specs[row.indicator_id], frame)


def unit_tables(
    catalogue: Catalogue, values: pd.DataFrame, published: pd.DataFrame, areas: pd.DataFrame
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Per top-level area, date and level of the published unit indices: their rows, and
    the units anyone can derive — one row per unit (the remainder ``<area>~<level>`` last),
    one column per term of the indices, NaN where no count is published."""
    specs = _specs(catalogue)
    shown = published[published.indicator_id.isin(specs)]
    if shown.empty:
        return
    # the units pooled are those with an unpublished count of any term of the indices
    # published (one set of units for all of them, as the publication computes them)
    needed = {t for i in set(shown.indicator_id) for t in specs[i]["terms"] if t}
    cells, unknown = _public_cells(catalogue, values, needed)
    pooling = sorted(needed & set(cells.columns))
    tops = _top_areas(areas)
    for (ref_date, level, root), part in shown.groupby(["ref_date", "level", "area_id"]):
        units = _units(tops, areas, ref_date, level, root)
        table = cells.reindex(pd.MultiIndex.from_product([[ref_date], units + [root]]))
        table = table.droplevel(0)
        source = pd.DataFrame(
            [[(ref_date, u, t) in unknown for t in pooling] for u in units],
            index=units, columns=pooling, dtype=bool,
        )  # fmt: skip
        withheld = (table.loc[units, pooling].isna() & ~source).any(axis=1)
        frame = table.loc[[u for u in units if not withheld[u]]].copy()
        if withheld.any():  # the remainder: the area's count minus the units kept
            frame.loc[f"{root}~{level}"] = table.loc[root] - frame.sum(axis=0, min_count=0)
        yield part, frame


def _specs(catalogue: Catalogue) -> dict[str, dict]:
    """Per unit index: function, terms (group, total, other, residents), parameters."""
    specs = {}
    for ind in catalogue.indicators:
        if ind.function not in UNIT_INDICES:
            continue
        refs = ind.terms()
        names = [
            term_name(term_key(refs[r])) if refs.get(r) else None
            for r in ("group", "total", "other", "residents")
        ]
        specs[ind.id] = {
            "function": ind.function,
            "terms": names,
            "min_units": ind.min_unit_population,
            "top_share": getattr(ind, "top_share", None),
            "scale": float(ind.scale),
        }
    return specs


def _public_cells(
    catalogue: Catalogue, values: pd.DataFrame, needed: set[str]
) -> tuple[pd.DataFrame, set[tuple]]:
    """Published counts as a frame indexed by (ref_date, area_id), one column per term;
    terms the indices need that no value publishes are derived where a cover of the
    catalogue (a term = the sum of disjoint terms) has every other member published (the
    simplest such cover: fewest terms, then by name — with perturbed counts the covers
    need not agree, and the publication must say which one it used: the same rule). With
    the cells the source itself did not publish (date, area, term), which are no withheld
    cells: a unit with one stays a unit (the index is incomplete if it is used)."""
    columns = ["ref_date", "area_id", "term", "n", "flag"]
    # a share of an empty group is published without its numerator: it is 0 all the same
    empty = (values.function == "share") & (values.denominator == 0) & values.numerator.isna()
    values = values.assign(numerator=values.numerator.mask(empty, 0.0))
    num = values[["ref_date", "area_id", "num_term", "numerator", "flag"]]
    den = values[["ref_date", "area_id", "den_term", "denominator", "flag"]]
    num, den = num.set_axis(columns, axis=1), den.set_axis(columns, axis=1)
    long = pd.concat([num, den[den.term.notna()]])
    wide = (
        long.dropna(subset=["n"])
        .drop_duplicates(["ref_date", "area_id", "term"])
        .pivot(index=["ref_date", "area_id"], columns="term", values="n")
    )
    # cells the source did not publish (a source symbol, not withheld for protection)
    source = long[long.n.isna() & long.flag.notna() & ~long.flag.isin(PROTECTION_FLAGS)]
    unknown = set(zip(source.ref_date, source.area_id, source.term, strict=True))
    keys = {tuple(t.split("&")) for t in set(wide.columns) | needed}
    pool = build_pool(catalogue, keys)
    names = [t.name if t.key is not None else None for t in pool.terms]
    for _ in range(2):  # a derived term can complete another cover
        for target in sorted(needed - set(wide.columns)):
            candidates = []
            for whole, parts in pool.covers:
                members = [names[whole], *(names[p] for p in parts)]
                if None in members or target not in members:
                    continue
                signs = {m: 1 for m in members[1:]}
                if target != members[0]:
                    signs = {members[0]: 1, **{m: -1 for m in members[1:] if m != target}}
                if all(m in wide.columns for m in signs):
                    candidates.append(signs)
            if candidates:  # the simplest derivation (fewest terms, then by name)
                signs = min(candidates, key=lambda c: (len(c), sorted(c.items())))
                wide[target] = sum(sign * wide[m] for m, sign in signs.items())
    return wide, unknown


def _top_areas(areas: pd.DataFrame) -> pd.Series:
    """Top-level ancestor of every (area_id, vintage), from the public parent links."""
    frame = areas.drop_duplicates(["area_id", "vintage"]).set_index(["area_id", "vintage"])
    top = pd.Series(frame.index.get_level_values(0), index=frame.index)
    parent = frame.parent_id
    for _ in range(int(areas["rank"].max()) + 1):
        keys = list(zip(parent.fillna(""), frame.index.get_level_values(1), strict=True))
        has = parent.notna().to_numpy()
        top = top.where(~has, pd.Series([k[0] for k in keys], index=frame.index))
        parent = pd.Series(frame.parent_id.reindex(keys).to_numpy(), index=frame.index).where(has)
    return top


def _units(tops: pd.Series, areas: pd.DataFrame, ref_date, level: str, root: str) -> list[str]:
    """The areas of ``level`` valid at the date below the top-level area ``root``."""
    date = pd.Timestamp(ref_date)
    start, end = pd.to_datetime(areas.valid_from), pd.to_datetime(areas.valid_to)
    valid = areas[(areas.level == level) & (start <= date) & (end.isna() | (date <= end))]
    keys = list(zip(valid.area_id, valid.vintage, strict=True))
    return sorted(
        a for a, top in zip(valid.area_id, tops.reindex(keys), strict=True) if top == root
    )


def _unit_counts(
    spec: dict, frame: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(x, y, t) of the units used (:func:`unit_tables`); None when a unit used has a count
    that is not published (the index cannot be computed from published counts)."""
    group, total, other, residents = spec["terms"]
    terms = [t for t in (group, total, other, residents) if t]
    if any(t not in frame.columns for t in terms):
        return None
    column = {t: frame[t].to_numpy(dtype=float) for t in terms}
    x, t = column[group], column[total]
    y = column[other] if other else t - x
    used = ~(t <= 0)  # an unknown size counts as used
    if spec["min_units"] is not None and not pd.isna(spec["min_units"]):
        used &= ~(column[residents or total] < spec["min_units"])
    if np.isnan(np.concatenate([x[used], y[used], t[used]])).any():
        return None
    return x[used], y[used], t[used]


def _index(spec: dict, x: np.ndarray, y: np.ndarray, t: np.ndarray) -> float:
    """The index over the units used (NaN: undefined)."""
    big_x, big_y, big_t = x.sum(), y.sum(), t.sum()
    if big_x <= 0 or big_y <= 0:
        return np.nan
    function = spec["function"]
    if function in ("dissimilarity", "segregation_is"):
        return 0.5 * np.abs(x / big_x - y / big_y).sum()
    if function == "isolation":
        return ((x / big_x) * (x / t)).sum()
    if function == "exposure":
        return ((x / big_x) * (y / t)).sum()
    p, share = x / t, big_x / big_t
    if function == "entropy":
        whole = _entropy(np.array([share]))[0]
        return (t * (whole - _entropy(p))).sum() / (whole * big_t)
    if function == "gini":
        pairs = np.outer(t, t) * np.abs(p[:, None] - p[None, :])
        return pairs.sum() / (2 * big_t**2 * share * (1 - share))
    if function == "concentration_share":
        order = np.argsort(-p, kind="stable")
        t_sorted, x_sorted = t[order], x[order]
        above = np.concatenate([[0.0], np.cumsum(t_sorted)[:-1]])
        taken = np.clip((spec["top_share"] * big_t - above) / t_sorted, 0, 1)
        return spec["scale"] * (x_sorted * taken).sum() / big_x
    raise ValueError(f"unknown index function {function!r}")


def _entropy(p: np.ndarray) -> np.ndarray:
    """p·ln(1/p) + (1−p)·ln(1/(1−p)), 0 for p = 0 or 1."""
    inner = (p > 0) & (p < 1)
    q = np.where(inner, p, 0.5)
    return np.where(inner, -(q * np.log(q) + (1 - q) * np.log(1 - q)), 0.0)
