"""The audit: run the attacker's model over every reference date and judge the intervals.

Requirement per target cell with true value v (p = protection interval, k = min_count):

* sensitive (1 ≤ v ≤ k−1, or the optional ``min_denominator`` rule): the feasible interval
  must contain [max(0, v − p), v + p];
* withheld with v ≥ k (or v unknown): the interval must not be a single point — a
  complementary cell need not hide its value, but it must not be recoverable exactly;
* withheld with v = 0: reported, nothing required (a zero is not protected by a minimum
  count; undefined rates withhold numerators of empty areas).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from etl.audit.allocation import check_allocations
from etl.audit.balances import balance_rows, check_balances
from etl.audit.boundaries import check_boundary_values
from etl.audit.goals import check_project_values
from etl.audit.indices import check_indices
from etl.audit.intervals import Need, intervals
from etl.audit.model import DateModel, Rules, build_model
from etl.audit.publication import read_publication, read_truth
from etl.audit.terms import TermPool, build_pool
from etl.indicators.spec import Catalogue


@dataclass(frozen=True)
class TargetResult:
    """One protected cell and its feasible interval."""

    ref_date: str
    term: str
    area_id: str
    level: str
    truth: float
    low: float
    high: float
    required_low: float
    required_high: float
    kind: str  # sensitive | withheld | zero
    published: bool
    withheld: bool
    passed: bool
    exact: bool = True  # False: a passing interval only witnessed, not optimised to its ends

    @property
    def width(self) -> float:
        return self.high - self.low


@dataclass(frozen=True)
class LevelLoss:
    """Published count cells of a level and how many of them are withheld or perturbed."""

    cells: int
    withheld: int
    perturbed: int

    @property
    def share(self) -> float:
        return (self.withheld + self.perturbed) / self.cells if self.cells else 0.0


@dataclass
class AuditReport:
    """Outcome of :func:`run_audit`."""

    rules: Rules
    cells_checked: int = 0
    relations: int = 0
    results: list[TargetResult] = field(default_factory=list)
    loss: dict[str, LevelLoss] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)
    not_covered: dict[str, str] = field(default_factory=dict)
    raw_tables: dict[str, int] = field(default_factory=dict)  # unprotected tables → rows
    indices_checked: int = 0  # published unit indices recomputed from published counts
    draws_checked: int = 0  # random-allocation draws drawn again from published counts
    index_failures: list[str] = field(default_factory=list)  # not so recomputable
    balances_checked: int = 0  # published balances recomputed from their components
    balance_failures: list[str] = field(default_factory=list)
    boundaries_checked: int = 0  # values on today's boundaries recomputed from published ones
    boundary_failures: list[str] = field(default_factory=list)
    projects_checked: int = 0  # published person counts of the goals' project indicators
    project_failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def cells_protected(self) -> int:
        return len(self.results)

    @property
    def failures(self) -> list[TargetResult]:
        """Failed targets, narrowest interval first."""
        failed = [r for r in self.results if not r.passed]
        return sorted(failed, key=lambda r: (r.width, r.truth, r.ref_date, r.term, r.area_id))

    @property
    def narrowest(self) -> TargetResult | None:
        """The narrowest interval of a target with a requirement."""
        judged = [r for r in self.results if r.kind != "zero"]
        return min(judged, key=lambda r: (r.width, r.truth), default=None)

    @property
    def passed(self) -> bool:
        return not (
            self.failures
            or self.index_failures
            or self.balance_failures
            or self.boundary_failures
            or self.project_failures
        )


def run_audit(
    publication: Path,
    internal: Path,
    catalogue: Catalogue,
    protection: int = 3,
    min_count: int = 3,
    method: str = "suppression",
    max_deviation: int | None = None,
    min_denominator: int | None = None,
    rounding: int | None = None,
    *,
    exact: bool = False,
) -> AuditReport:
    """Attack the publication file with every linear relation derivable from the public
    tables and the catalogue; judge each protected cell against the internal true counts.
    ``exact``: optimise every interval to both ends (otherwise a passing end already shown
    by an LP solution found on the way is not optimised further)."""
    if method not in ("suppression", "cell_key"):
        raise ValueError(f"unknown method {method!r} (suppression, cell_key)")
    if method == "cell_key" and max_deviation is None:
        raise ValueError("method 'cell_key' needs max_deviation")
    start = time.perf_counter()
    rules = Rules(protection, min_count, method, max_deviation, min_denominator, rounding)
    pub = read_publication(publication, catalogue)
    truth = read_truth(internal, catalogue)
    # balances are no cells: checked against their published components (etl.audit.balances)
    balance = balance_rows(pub.values, catalogue)
    report = AuditReport(rules=rules, not_covered=pub.uncovered, raw_tables=pub.raw_tables)
    report.balances_checked, report.balance_failures = check_balances(pub.values, catalogue)
    report.boundaries_checked, report.boundary_failures = check_boundary_values(
        publication, catalogue
    )
    report.projects_checked, report.project_failures = check_project_values(publication, min_count)
    pools: dict[frozenset, TermPool] = {}
    losses: list[pd.DataFrame] = []
    units = dict(list(pub.units.groupby("ref_date")))
    for ref_date, values in pub.values[~balance].groupby("ref_date"):
        sums = units.get(ref_date, pub.units.iloc[:0])
        keys = frozenset(_keys(values) | _keys(sums))
        if keys not in pools:
            pools[keys] = build_pool(catalogue, keys)
        model = build_model(ref_date, values, pub.areas, pools[keys], truth, rules, sums)
        _audit_date(model, rules, report, exact)
        losses.append(_loss_frame(model))
    report.loss = _level_loss(losses)
    indices = check_indices(catalogue, pub.values, pub.indices, pub.areas)
    report.indices_checked, report.index_failures = indices.checked, indices.failures
    report.draws_checked, failures = check_allocations(
        catalogue, pub.values, pub.indices, pub.areas, pub.draws
    )
    report.index_failures += failures
    report.seconds = time.perf_counter() - start
    return report


def _keys(values: pd.DataFrame) -> set[tuple[str, ...]]:
    names = set(values.num_term) | set(values.den_term.dropna())
    return {tuple(name.split("&")) for name in names}


def _audit_date(model: DateModel, rules: Rules, report: AuditReport, exact: bool) -> None:
    """Targets of one date, their intervals and the verdicts."""
    true = model.truth
    small = (true >= 1) & (true <= rules.min_count - 1)
    # withheld for protection and shown nowhere (an undefined rate's hidden numerator, or a
    # count shown by another indicator, is not a protected cell)
    targets = np.flatnonzero(model.lost | small | model.sensitive)
    kind, need = _requirements(model, targets, rules)
    result = intervals(model, targets, None if exact else need)
    regions = sum(t.region for t in model.pool.terms)
    report.cells_checked += len(true) - regions * len(model.areas)
    report.relations += model.a.shape[0]
    date = model.ref_date.date().isoformat()
    report.findings.extend(f"{date}: {f}" for f in model.findings + result.findings)
    for k, cell in enumerate(targets):
        term, area, level = model.cell(int(cell))
        low, high = float(result.low[k]), float(result.high[k])
        this = kind[k]
        if this == "withheld" and np.isnan(true[cell]) and high < 0.5:
            this = "zero"  # unknown truth, but forced to 0: it is 0
        if this == "sensitive":
            ok = low <= need.low[k] and high >= need.high[k]
        else:
            ok = this == "zero" or high - low >= 0.5
        report.results.append(
            TargetResult(
                date, term, area, level, float(true[cell]), low, high,
                float(need.low[k]) if this == "sensitive" else math.nan,
                float(need.high[k]) if this == "sensitive" else math.nan,
                this, bool(model.published[cell]), bool(model.withheld[cell]),
                bool(ok and not (math.isnan(low) or math.isnan(high))), bool(result.exact[k]),
            )
        )  # fmt: skip


def _requirements(model: DateModel, targets: np.ndarray, rules: Rules) -> tuple[list[str], Need]:
    """Kind and requirement of each target (see the module docstring)."""
    v = model.truth[targets]
    sensitive = model.sensitive[targets] | ((v >= 1) & (v <= rules.min_count - 1))
    zero = ~sensitive & (v == 0)
    kind = np.where(sensitive, "sensitive", np.where(zero, "zero", "withheld")).tolist()
    need = Need(
        low=np.where(sensitive, np.maximum(0.0, v - rules.protection), np.inf),
        high=np.where(sensitive, v + rules.protection, -np.inf),
        spread=~sensitive & ~zero,
    )
    return kind, need


def _loss_frame(model: DateModel) -> pd.DataFrame:
    """Per count cell of the date in the publication: level, withheld (for protection, not
    as the numerator of an undefined rate), perturbed."""
    shown = model.published | model.withheld
    cells = np.flatnonzero(shown)
    area = cells % len(model.areas)
    return pd.DataFrame(
        {
            "level": model.areas.level.to_numpy()[area],
            "withheld": model.lost[cells],
            "perturbed": model.perturbed[cells] & ~model.withheld[cells],
        }
    )


def _level_loss(frames: list[pd.DataFrame]) -> dict[str, LevelLoss]:
    if not frames:
        return {}
    data = pd.concat(frames)
    out = data.groupby("level", sort=False).agg(
        cells=("withheld", "size"), withheld=("withheld", "sum"), perturbed=("perturbed", "sum")
    )
    return {
        lv: LevelLoss(int(r.cells), int(r.withheld), int(r.perturbed)) for lv, r in out.iterrows()
    }


_TEXT = {
    "de": {
        "head": "Angriffsprüfung ({method}, Mindestfallzahl {k}, Schutzintervall {p})",
        "rounding": "gerundet auf",
        "cells": "Zellen geprüft: {n:,}; geschützt (Zielzellen): {t:,}; Relationen: {r:,}",
        "fail": "Verstöße: {f:,}",
        "none": "Keine Verstöße.",
        "narrow": "Engstes Intervall: [{lo:g}, {hi:g}] für {term} in {area} ({level}, {date}), "
        "wahr {v:g}",
        "item": "  {date} {term} in {area} ({level}): wahr {v:g}, Intervall [{lo:g}, {hi:g}], "
        "nötig {need}",
        "point": "kein Einzelwert",
        "loss": "Informationsverlust (gesperrt/verändert je Ebene): {levels}",
        "uncovered": "Werte weder vom LP noch von der Nachrechnung abgedeckt: {ids}",
        "indices": "Indizes aus veröffentlichten Zahlen nachgerechnet: {n:,}, "
        "Zufallsverteilungen neu gezogen: {d:,}; nicht nachrechenbar: {f:,}",
        "balances": "Salden aus veröffentlichten Komponenten nachgerechnet: {n:,}; "
        "nicht nachrechenbar: {f:,}",
        "boundaries": "Werte auf heutigem Gebietsstand aus veröffentlichten Werten "
        "nachgerechnet: {n:,}; nicht nachrechenbar: {f:,}",
        "projects": "Personenzahlen der Projektindikatoren geprüft: {n:,}; Verstöße: {f:,}",
        "recovered": "Gesperrte Zellen (wahr > 0) exakt rekonstruiert: {r:,} von {w:,}",
        "findings": "Auffälligkeiten: {n}",
        "raw": "WARNUNG: die Veröffentlichung enthält ungeschützte Zählungen: {tables}",
        "time": "Laufzeit: {s:.1f} s",
    },
    "en": {
        "head": "Attack audit ({method}, minimum count {k}, protection interval {p})",
        "rounding": "rounded to",
        "cells": "Cells checked: {n:,}; protected (targets): {t:,}; relations: {r:,}",
        "fail": "Failures: {f:,}",
        "none": "No failures.",
        "narrow": "Narrowest interval: [{lo:g}, {hi:g}] for {term} in {area} ({level}, "
        "{date}), true {v:g}",
        "item": "  {date} {term} in {area} ({level}): true {v:g}, interval [{lo:g}, {hi:g}], "
        "required {need}",
        "point": "not a single value",
        "loss": "Information loss (withheld/perturbed per level): {levels}",
        "uncovered": "Values covered neither by the LP nor by the recomputation: {ids}",
        "indices": "Indices recomputed from published counts: {n:,}, random-allocation draws "
        "drawn again: {d:,}; not recomputable: {f:,}",
        "balances": "Balances recomputed from published components: {n:,}; not recomputable: {f:,}",
        "boundaries": "Values on today's boundaries recomputed from published values: {n:,}; "
        "not recomputable: {f:,}",
        "projects": "Person counts of project indicators checked: {n:,}; failures: {f:,}",
        "recovered": "Withheld cells (true > 0) recovered exactly: {r:,} of {w:,}",
        "findings": "Findings: {n}",
        "raw": "WARNING: the publication holds unprotected counts: {tables}",
        "time": "Runtime: {s:.1f} s",
    },
}


def format_report(report: AuditReport, lang: str = "de", limit: int = 10) -> str:
    """A short human-readable summary (the first ``limit`` failures and findings)."""
    text = _TEXT[lang]
    rules = report.rules
    lines = [
        text["head"].format(
            method=rules.method
            + (f" + {text['rounding']} {rules.rounding}" if rules.rounding else ""),
            k=rules.min_count,
            p=rules.protection,
        ),
        text["cells"].format(n=report.cells_checked, t=report.cells_protected, r=report.relations),
    ]
    failures = report.failures
    lines.append(text["fail"].format(f=len(failures)) if failures else text["none"])
    for r in failures[:limit]:
        need = (
            f"[{r.required_low:g}, {r.required_high:g}]" if r.kind == "sensitive" else text["point"]
        )
        lines.append(text["item"].format(**_fields(r), need=need))
    hidden = [r for r in report.results if r.withheld and r.kind != "zero"]
    exact = sum(r.width < 0.5 for r in hidden)
    lines.append(text["recovered"].format(r=exact, w=len(hidden)))
    if report.narrowest is not None:
        lines.append(text["narrow"].format(**_fields(report.narrowest)))
    levels = ", ".join(f"{lv} {x.share:.1%}" for lv, x in report.loss.items())
    lines.append(text["loss"].format(levels=levels))
    if report.raw_tables:
        tables = ", ".join(f"{t} ({n:,})" for t, n in report.raw_tables.items())
        lines.append(text["raw"].format(tables=tables))
    lines.append(
        text["indices"].format(
            n=report.indices_checked, d=report.draws_checked, f=len(report.index_failures)
        )
    )
    lines.extend(f"  {f}" for f in report.index_failures[:limit])
    if report.balances_checked or report.balance_failures:
        lines.append(
            text["balances"].format(n=report.balances_checked, f=len(report.balance_failures))
        )
        lines.extend(f"  {f}" for f in report.balance_failures[:limit])
    if report.boundaries_checked or report.boundary_failures:
        lines.append(
            text["boundaries"].format(n=report.boundaries_checked, f=len(report.boundary_failures))
        )
        lines.extend(f"  {f}" for f in report.boundary_failures[:limit])
    if report.projects_checked or report.project_failures:
        lines.append(
            text["projects"].format(n=report.projects_checked, f=len(report.project_failures))
        )
        lines.extend(f"  {f}" for f in report.project_failures[:limit])
    if report.not_covered:
        lines.append(text["uncovered"].format(ids=", ".join(sorted(report.not_covered))))
    if report.findings:
        lines.append(text["findings"].format(n=len(report.findings)))
        lines.extend(f"  {f}" for f in report.findings[:limit])
    lines.append(text["time"].format(s=report.seconds))
    return "\n".join(lines)


def _fields(r: TargetResult) -> dict:
    return {
        "date": r.ref_date, "term": r.term, "area": r.area_id, "level": r.level,
        "v": r.truth, "lo": r.low, "hi": r.high,
    }  # fmt: skip
