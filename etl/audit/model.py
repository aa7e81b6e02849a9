"""The attacker's linear model of one reference date.

Unknowns: one non-negative count per cell = (pool term, area of the date's vintage), where
the pool holds the catalogue terms of the published linear indicators and the complements
of their nested pairs (:mod:`etl.audit.terms`). Cell index = term · n_areas + area.

Known to the attacker:

* bounds: published counts (method ``suppression``: fixed; ``cell_key``: |x − p| ≤ D);
* rows ``lo ≤ a·x ≤ hi``: children sum to their parent (catalogue terms, public hierarchy of
  the vintage); every cover of a term by disjoint terms at every area (complements included);
  published share/ratio/location-quotient values: numerator − c·denominator = 0 within the
  precision of the published value (two rows, c ± δ).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from etl.audit.terms import TermPool
from etl.indicators.spec import RESIDENTS

EXACT = 1e-9  # relative precision assumed for an unrounded published value


@dataclass(frozen=True)
class Rules:
    """What must hold: cells with true value 1..min_count−1 need [v−p, v+p] ⊆ interval."""

    protection: int = 3
    min_count: int = 3
    method: str = "suppression"  # or "cell_key"
    max_deviation: int | None = None  # D of the cell-key method
    min_denominator: int | None = None  # numerators of rates with smaller true denominators
    # are sensitive as well (optional rule)
    rounding: int | None = None  # suppression: published counts rounded to this base

    def spread(self) -> tuple[float, float] | None:
        """How far below and above a published count its true value may lie (None: it is
        the true value): cell key ±D; rounding half up to base b: b//2 below,
        ceil(b/2) − 1 above (b = 5: ±2; b = 10: −5 … +4)."""
        if self.method == "cell_key":
            return float(self.max_deviation or 0), float(self.max_deviation or 0)
        if self.rounding:
            return float(self.rounding // 2), float(-(-self.rounding // 2) - 1)
        return None


@dataclass
class Rows:
    """Linear rows in COO form with a label each (kind, term, area, indicator)."""

    row: list[np.ndarray] = field(default_factory=list)
    col: list[np.ndarray] = field(default_factory=list)
    coef: list[np.ndarray] = field(default_factory=list)
    lo: list[np.ndarray] = field(default_factory=list)
    hi: list[np.ndarray] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    implied: list[bool] = field(default_factory=list)  # implied by other rows (not in the LP)
    count: int = 0

    def add(self, rows, cols, coefs, lo, hi, labels: list[str], implied: bool = False) -> None:
        """Append rows numbered 0..len(lo)−1 locally."""
        self.implied.extend([implied] * len(labels))
        self.row.append(np.asarray(rows, dtype=np.int64) + self.count)
        self.col.append(np.asarray(cols, dtype=np.int64))
        self.coef.append(np.asarray(coefs, dtype=float))
        self.lo.append(np.asarray(lo, dtype=float))
        self.hi.append(np.asarray(hi, dtype=float))
        self.labels.extend(labels)
        self.count += len(labels)

    def matrix(self, n: int) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
        """The rows as a CSR matrix (duplicates summed) and their bounds."""
        if not self.count:
            return sparse.csr_matrix((0, n)), np.zeros(0), np.zeros(0)
        a = sparse.coo_matrix(
            (np.concatenate(self.coef), (np.concatenate(self.row), np.concatenate(self.col))),
            shape=(self.count, n),
        ).tocsr()
        a.sum_duplicates()
        return a, np.concatenate(self.lo), np.concatenate(self.hi)


@dataclass
class DateModel:
    """Everything about one reference date the interval computation needs."""

    ref_date: pd.Timestamp
    pool: TermPool
    areas: pd.DataFrame  # area_id, level, parent_id, rank (valid at the date)
    a: sparse.csr_matrix
    lo: np.ndarray
    hi: np.ndarray
    labels: list[str]
    implied: np.ndarray  # bool per row: kept for elimination only (the LP has the rest)
    lb: np.ndarray
    ub: np.ndarray
    truth: np.ndarray  # NaN where unknown
    withheld: np.ndarray  # bool: some published appearance is NULL
    published: np.ndarray  # bool: some published appearance has a value
    perturbed: np.ndarray  # bool: published value differs from the truth
    lost: np.ndarray  # bool: withheld for protection (not as an undefined rate), nowhere shown
    sensitive: np.ndarray  # bool: extra rule (min_denominator)
    findings: list[str]

    def cell(self, index: int) -> tuple[str, str, str]:
        """(term, area_id, level) of a cell index."""
        term, area = divmod(index, len(self.areas))
        row = self.areas.iloc[area]
        return self.pool.terms[term].name, row.area_id, row.level


def valid_areas(areas: pd.DataFrame, ref_date: pd.Timestamp) -> pd.DataFrame:
    """Areas whose vintage is valid at the date (valid_to inclusive)."""
    start = pd.to_datetime(areas.valid_from)
    end = pd.to_datetime(areas.valid_to)
    ok = (start <= ref_date) & (end.isna() | (ref_date <= end))
    return areas[ok].sort_values(["rank", "area_id"]).reset_index(drop=True)


def build_model(
    ref_date: pd.Timestamp,
    values: pd.DataFrame,
    areas: pd.DataFrame,
    pool: TermPool,
    truth: dict[tuple, float],
    rules: Rules,
    units: pd.DataFrame | None = None,
) -> DateModel:
    """The linear model of one date from its published rows (``values``) and the sums over
    units published with the unit indices (``units``)."""
    areas = valid_areas(areas, ref_date)
    n_areas = len(areas)
    n = len(pool.terms) * n_areas
    findings: list[str] = []
    rows = Rows()
    _hierarchy(rows, pool, areas)
    _cover_rows(rows, pool, n_areas)
    apps = _appearances(values, pool, areas, findings)
    lb, ub = _bounds(apps, n, rules, findings)
    _ratio_relations(rows, values, apps, pool, areas, rules, (lb, ub), findings)
    if units is not None and len(units):
        shown_p = apps[apps.value.notna()].groupby("cell").value.first()
        p_value = np.full(n, np.nan)
        p_value[shown_p.index.to_numpy()] = shown_p.to_numpy()
        _unit_sums(rows, units, pool, areas, rules, (lb, ub, p_value), findings)
    a, lo, hi = rows.matrix(n)
    true = _truth_array(ref_date, pool, areas, truth)
    withheld, published, perturbed, lost = _flags(apps, true)
    sensitive = _small_denominators(values, pool, areas, true, rules)
    implied = np.array(rows.implied, dtype=bool)
    return DateModel(
        ref_date, pool, areas, a, lo, hi, rows.labels, implied, lb, ub, true, withheld,
        published, perturbed, lost, sensitive, findings,
    )  # fmt: skip


def _flags(apps: pd.DataFrame, true: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per cell: withheld somewhere, published somewhere, published ≠ true value, lost
    (withheld for protection, i.e. not only as part of an undefined rate, and nowhere shown)."""
    withheld, published, perturbed, lost = (np.zeros(len(true), dtype=bool) for _ in range(4))
    hidden = apps[apps.value.isna()]
    withheld[hidden.cell.to_numpy()] = True
    lost[hidden.cell[hidden.flag != "undefined"].to_numpy()] = True
    shown = apps[apps.value.notna()]
    published[shown.cell.to_numpy()] = True
    off = np.abs(shown.value.to_numpy() - true[shown.cell.to_numpy()]) > 0.5
    perturbed[shown.cell.to_numpy()[off]] = True
    return withheld, published, perturbed, lost & ~published


def _hierarchy(rows: Rows, pool: TermPool, areas: pd.DataFrame) -> None:
    """parent − Σ children = 0 for every catalogue term and every area with children."""
    pos = pd.Series(np.arange(len(areas)), index=areas.area_id)
    child = areas[areas.parent_id.isin(pos.index)]
    parents = np.unique(pos[child.parent_id].to_numpy())
    local = pd.Series(np.arange(len(parents)), index=parents)
    child_area = pos[child.area_id].to_numpy()
    child_row = local[pos[child.parent_id].to_numpy()].to_numpy()
    n_areas, ids = len(areas), areas.area_id.tolist()
    for t, term in enumerate(pool.terms):
        if term.key is None:  # complements: implied by their outer and inner terms
            continue
        cols = np.concatenate([t * n_areas + parents, t * n_areas + child_area])
        coefs = np.concatenate([np.ones(len(parents)), -np.ones(len(child_area))])
        rws = np.concatenate([np.arange(len(parents)), child_row])
        labels = [f"Summe {term.name} in {ids[p]}" for p in parents]
        zero = np.zeros(len(parents))
        rows.add(rws, cols, coefs, zero, zero, labels)


def _cover_rows(rows: Rows, pool: TermPool, n_areas: int) -> None:
    """whole − Σ parts = 0 at every area, for every term as the sum of its Venn regions and
    for every cover of the pool (implied by the region rows; they help the elimination)."""
    every = np.arange(n_areas)
    relations = [(w, p, False) for w, p in pool.regions] + [(w, p, True) for w, p in pool.covers]
    for whole, parts, implied in relations:
        cols = [whole * n_areas + every] + [p * n_areas + every for p in parts]
        coefs = [np.ones(n_areas)] + [-np.ones(n_areas)] * len(parts)
        rws = np.tile(every, 1 + len(parts))
        name = " + ".join(pool.terms[p].name for p in parts)
        labels = [f"{pool.terms[whole].name} = {name}"] * n_areas
        zero = np.zeros(n_areas)
        cols, coefs = np.concatenate(cols), np.concatenate(coefs)
        rows.add(rws, cols, coefs, zero, zero, labels, implied=implied)


def _appearances(
    values: pd.DataFrame, pool: TermPool, areas: pd.DataFrame, findings: list[str]
) -> pd.DataFrame:
    """Every published count: indicator_id, cell, value (NaN = withheld)."""
    term_pos = pool.alias
    area_pos = pd.Series(np.arange(len(areas)), index=areas.area_id)
    unknown = set(values.area_id) - set(area_pos.index)
    if unknown:
        findings.append(f"Gebiete ohne gültige Gebietsversion: {', '.join(sorted(unknown))}")
    values = values[values.area_id.isin(area_pos.index)]
    num = values[["indicator_id", "area_id", "num_term", "numerator", "flag"]].to_numpy()
    den = values[values.den_term.notna()]
    den = den[["indicator_id", "area_id", "den_term", "denominator", "flag"]].to_numpy()
    columns = ["indicator_id", "area_id", "term", "value", "flag"]
    apps = pd.DataFrame(np.vstack([num, den]), columns=columns)
    apps["value"] = apps.value.astype(float)
    term = apps.term.map(term_pos).to_numpy(dtype=np.int64)
    apps["cell"] = term * len(areas) + area_pos[apps.area_id].to_numpy()
    return apps


def _bounds(
    apps: pd.DataFrame, n: int, rules: Rules, findings: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of every cell: ≥ 0, and what the published counts say."""
    lb, ub = np.zeros(n), np.full(n, np.inf)
    shown = apps[apps.value.notna()].groupby("cell").value.agg(["min", "max"])
    cells = shown.index.to_numpy()
    low, high = shown["min"].to_numpy(), shown["max"].to_numpy()
    for cell in cells[high - low > 0.5]:
        seen = apps[(apps.cell == cell) & apps.value.notna()]
        where = ", ".join(
            f"{v:g} ({i})" for i, v in zip(seen.indicator_id, seen.value, strict=True)
        )
        findings.append(
            f"{seen.term.iloc[0]} in {seen.area_id.iloc[0]} mit verschiedenen veröffentlichten "
            f"Werten: {where}"
        )
    spread = rules.spread()
    if spread is not None:
        lb[cells] = np.maximum(0.0, high - spread[0])
        ub[cells] = low + spread[1]
    else:
        lb[cells], ub[cells] = low, high
    return lb, ub


def _ratio_relations(
    rows: Rows,
    values: pd.DataFrame,
    apps: pd.DataFrame,
    pool: TermPool,
    areas: pd.DataFrame,
    rules: Rules,
    bounds: tuple[np.ndarray, np.ndarray],
    findings: list[str],
) -> None:
    """numerator ≈ c · denominator for every published share, ratio or quotient value."""
    rel = _coefficients(values, pool, areas)
    if rel.empty:
        return
    if rules.spread() is not None:
        rel = _cell_key_ratios(rel, rules, bounds, findings)
    k = np.arange(len(rel))
    num, den = rel.num_cell.to_numpy(), rel.den_cell.to_numpy()
    c, delta = rel.c.to_numpy(), rel.delta.to_numpy()
    inf = np.full(len(rel), np.inf)
    zero = np.zeros(len(rel))
    pairs = zip(rel.indicator_id.tolist(), rel.area_id.tolist(), strict=True)
    labels = [f"Wert {i} in {a}" for i, a in pairs]
    for sign, lo, hi in ((-1.0, zero, inf), (1.0, -inf, zero)):
        cols = np.concatenate([num, den])
        coefs = np.concatenate([np.ones(len(rel)), -(c + sign * delta)])
        rows.add(np.concatenate([k, k]), cols, coefs, lo, hi, labels)


def _unit_sums(
    rows: Rows,
    units: pd.DataFrame,
    pool: TermPool,
    areas: pd.DataFrame,
    rules: Rules,
    known: tuple[np.ndarray, np.ndarray, np.ndarray],
    findings: list[str],
) -> None:
    """Σ over the units used = the published numerator (group) / denominator (total) of a
    unit index. With a minimum unit population the attacker must know which units are used:
    from published resident counts; if some unit is undecidable, the sum is left out."""
    lb, ub, p_value = known
    n_areas = len(areas)
    level = areas.level.to_numpy()
    units = units.drop_duplicates(["level", "num_term", "den_term", "min_units", "numerator"])
    for row in units.itertuples(index=False):
        members = np.flatnonzero(level == row.level)
        if pd.notna(row.min_units):
            resident = pool.alias.get(RESIDENTS)
            cells = members if resident is None else resident * n_areas + members
            inside, outside = lb[cells] >= row.min_units, ub[cells] < row.min_units
            if resident is None or not (inside | outside).all():
                findings.append(f"{row.indicator_id} ({row.level}): Einheiten nicht bestimmbar")
                continue
            members = members[inside]
        for term, value in ((row.num_term, row.numerator), (row.den_term, row.denominator)):
            cols = pool.alias[term] * n_areas + members
            if np.isnan(value) or (
                rules.method == "cell_key" and abs(np.nansum(p_value[cols]) - value) <= 0.5
            ):
                continue  # nothing new: a cell-key sum of the perturbed counts
            label = f"Summe {term} über {len(cols)} Einheiten ({row.indicator_id}, {row.level})"
            below, above = rules.spread() if rules.rounding else (0.0, 0.0)  # rounded margin
            rows.add(
                np.zeros(len(cols)),
                cols,
                np.ones(len(cols)),
                [value - below],
                [value + above],
                [label],
            )


def _coefficients(values: pd.DataFrame, pool: TermPool, areas: pd.DataFrame) -> pd.DataFrame:
    """Per published rate value: cells of numerator and denominator, c and its precision δ."""
    rel = values[values.value.notna() & values.den_term.notna()].copy()
    term_pos = pool.alias
    area_pos = pd.Series(np.arange(len(areas)), index=areas.area_id)
    rel = rel[rel.area_id.isin(area_pos.index)]
    at = area_pos[rel.area_id].to_numpy()
    rel["num_cell"] = rel.num_term.map(term_pos).to_numpy() * len(areas) + at
    rel["den_cell"] = rel.den_term.map(term_pos).to_numpy() * len(areas) + at
    shifted = rel.value * 10.0 ** rel.decimals.astype(float)
    rounded = np.abs(shifted - np.round(shifted)) < 1e-6
    half = np.where(rounded, 0.5 * 10.0 ** (-rel.decimals.astype(float)), EXACT * rel.value.abs())
    factor = 1.0 / rel.scale
    lq = rel.function == "location_quotient"
    if lq.any():
        factor = factor.where(~lq, _city_ratio(values, areas).reindex(rel.indicator_id).to_numpy())
    rel["c"] = rel.value * factor
    rel["delta"] = np.maximum(half * factor, EXACT)
    return rel[rel.c.notna()]


def _city_ratio(values: pd.DataFrame, areas: pd.DataFrame) -> pd.Series:
    """X / T of every location quotient: the rank-0 area's published counts of its group and
    total, from any indicator that publishes them."""
    top = values[values.area_id.isin(set(areas.area_id[areas["rank"] == 0]))]
    counts = pd.concat(
        [
            pd.Series(top.numerator.to_numpy(), index=top.num_term),
            pd.Series(top.denominator.to_numpy(), index=top.den_term),
        ]
    ).dropna()
    counts = counts[counts.index.notna()].groupby(level=0).first()
    lq = values[values.function == "location_quotient"].drop_duplicates("indicator_id")
    x = counts.reindex(lq.num_term).to_numpy()
    t = counts.reindex(lq.den_term).to_numpy()
    return pd.Series(x / t, index=lq.indicator_id.to_numpy())


def _cell_key_ratios(
    rel: pd.DataFrame, rules: Rules, bounds: tuple[np.ndarray, np.ndarray], findings: list[str]
) -> pd.DataFrame:
    """Cell key or rounding: a value computed from the perturbed (rounded) counts only turns
    a withheld side into a perturbed count (bound ± D); a value that the perturbed counts do
    not explain was computed from the true counts and is kept as an exact relation (and
    reported)."""
    lb, ub = bounds
    deviation = max(rules.spread() or (0.0, 0.0))
    p_num, p_den = rel.numerator.to_numpy(), rel.denominator.to_numpy()
    both = ~np.isnan(p_num) & ~np.isnan(p_den)
    off = both & (np.abs(p_num - rel.c * p_den) > rel.delta * p_den + 0.5)
    for i, a in zip(rel.indicator_id[off], rel.area_id[off], strict=True):
        findings.append(f"{i} in {a}: Wert passt nicht zu den veröffentlichten Zählungen")
    only_den = np.isnan(p_num) & ~np.isnan(p_den)
    guess = (rel.c * p_den)[only_den].to_numpy()
    cells = rel.num_cell[only_den].to_numpy()
    np.maximum.at(lb, cells, guess - deviation - 0.5)
    np.minimum.at(ub, cells, guess + deviation + 0.5)
    only_num = ~np.isnan(p_num) & np.isnan(p_den) & (rel.c > 0)
    guess = (p_num / rel.c)[only_num].to_numpy()
    cells = rel.den_cell[only_num].to_numpy()
    np.maximum.at(lb, cells, guess - deviation - 0.5)
    np.minimum.at(ub, cells, guess + deviation + 0.5)
    np.maximum(lb, 0.0, out=lb)
    return rel[off]


def _truth_array(
    ref_date: pd.Timestamp, pool: TermPool, areas: pd.DataFrame, truth: dict[tuple, float]
) -> np.ndarray:
    """True count of every cell; complements from their outer and inner term."""
    n_areas = len(areas)
    out = np.full(len(pool.terms) * n_areas, np.nan)
    ids = areas.area_id.tolist()
    for t, term in enumerate(pool.terms):
        span = slice(t * n_areas, (t + 1) * n_areas)
        if term.key is not None:
            out[span] = [truth.get((ref_date, term.name, a), np.nan) for a in ids]
        elif term.region:
            out[span] = np.nan
            if term.combo is not None:
                parts = [c * out[i * n_areas : (i + 1) * n_areas] for i, c in term.combo]
                out[span] = np.sum(parts, axis=0)
        else:
            outer = out[term.outer * n_areas : (term.outer + 1) * n_areas]
            inner = out[term.inner * n_areas : (term.inner + 1) * n_areas]
            out[span] = outer - inner
    return out


def _small_denominators(
    values: pd.DataFrame, pool: TermPool, areas: pd.DataFrame, true: np.ndarray, rules: Rules
) -> np.ndarray:
    """Numerator cells of rates whose true denominator is below ``min_denominator``."""
    flags = np.zeros(len(true), dtype=bool)
    if rules.min_denominator is None:
        return flags
    rates = values[values.den_term.notna() & (values.function != "location_quotient")]
    rel = _coefficients(rates.assign(value=0.0), pool, areas)
    rel = rel.dropna(subset=["num_cell", "den_cell"])  # a side that is no count (a rate)
    den = true[rel.den_cell.to_numpy(dtype=np.int64)]
    small = (den > 0) & (den < rules.min_denominator)
    flags[rel.num_cell.to_numpy(dtype=np.int64)[small]] = True
    return flags
