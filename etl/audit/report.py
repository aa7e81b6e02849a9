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

from etl.audit.intervals import intervals
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
        return not self.failures


def run_audit(
    publication: Path,
    internal: Path,
    catalogue: Catalogue,
    protection: int = 3,
    min_count: int = 3,
    method: str = "suppression",
    max_deviation: int | None = None,
    min_denominator: int | None = None,
) -> AuditReport:
    """Attack the publication file with every linear relation derivable from the public
    tables and the catalogue; judge each protected cell against the internal true counts."""
    if method not in ("suppression", "cell_key"):
        raise ValueError(f"unknown method {method!r} (suppression, cell_key)")
    if method == "cell_key" and max_deviation is None:
        raise ValueError("method 'cell_key' needs max_deviation")
    start = time.perf_counter()
    rules = Rules(protection, min_count, method, max_deviation, min_denominator)
    pub = read_publication(publication, catalogue)
    truth = read_truth(internal, catalogue)
    report = AuditReport(rules=rules, not_covered=pub.uncovered)
    pools: dict[frozenset, TermPool] = {}
    losses: list[pd.DataFrame] = []
    for ref_date, values in pub.values.groupby("ref_date"):
        keys = frozenset(_keys(values))
        if keys not in pools:
            pools[keys] = build_pool(catalogue, keys)
        model = build_model(ref_date, values, pub.areas, pools[keys], truth, rules)
        _audit_date(model, rules, report)
        losses.append(_loss_frame(model))
    report.loss = _level_loss(losses)
    report.seconds = time.perf_counter() - start
    return report


def _keys(values: pd.DataFrame) -> set[tuple[str, ...]]:
    names = set(values.num_term) | set(values.den_term.dropna())
    return {tuple(name.split("&")) for name in names}


def _audit_date(model: DateModel, rules: Rules, report: AuditReport) -> None:
    """Targets of one date, their intervals and the verdicts."""
    true = model.truth
    small = (true >= 1) & (true <= rules.min_count - 1)
    targets = np.flatnonzero(model.withheld | small | model.sensitive)
    low, high, findings = intervals(model, targets)
    report.cells_checked += len(true)
    report.relations += model.a.shape[0]
    date = model.ref_date.date().isoformat()
    report.findings.extend(f"{date}: {f}" for f in model.findings + findings)
    for t, lo, hi in zip(targets, low, high, strict=True):
        report.results.append(_verdict(model, int(t), lo, hi, rules, date))


def _verdict(
    model: DateModel, cell: int, low: float, high: float, rules: Rules, date: str
) -> TargetResult:
    """Whether one target's interval meets its requirement."""
    v = float(model.truth[cell])
    p = rules.protection
    if model.sensitive[cell] or 1 <= v <= rules.min_count - 1:
        kind, need_low, need_high = "sensitive", max(0.0, v - p), v + p
        ok = low <= need_low and high >= need_high
    elif v == 0 or (math.isnan(v) and high < 0.5):  # unknown truth forced to 0: true 0
        kind, need_low, need_high, ok = "zero", math.nan, math.nan, True
    else:
        kind, need_low, need_high = "withheld", math.nan, math.nan
        ok = not (high - low < 0.5)
    term, area, level = model.cell(cell)
    ok = ok and not (math.isnan(low) or math.isnan(high))
    return TargetResult(
        date, term, area, level, v, low, high, need_low, need_high, kind,
        bool(model.published[cell]), bool(model.withheld[cell]), bool(ok),
    )  # fmt: skip


def _loss_frame(model: DateModel) -> pd.DataFrame:
    """Per published count cell of the date: level, withheld, perturbed."""
    shown = model.published | model.withheld
    cells = np.flatnonzero(shown)
    area = cells % len(model.areas)
    return pd.DataFrame(
        {
            "level": model.areas.level.to_numpy()[area],
            "withheld": model.withheld[cells],
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
        "cells": "Zellen geprüft: {n:,}; geschützt (Zielzellen): {t:,}; Relationen: {r:,}",
        "fail": "Verstöße: {f:,}",
        "none": "Keine Verstöße.",
        "narrow": "Engstes Intervall: [{lo:g}, {hi:g}] für {term} in {area} ({level}, {date}), "
        "wahr {v:g}",
        "item": "  {date} {term} in {area} ({level}): wahr {v:g}, Intervall [{lo:g}, {hi:g}], "
        "nötig {need}",
        "point": "kein Einzelwert",
        "loss": "Informationsverlust (gesperrt/verändert je Ebene): {levels}",
        "uncovered": "Nicht vom LP abgedeckt (nicht linear; gerundet / aus geschützten "
        "Zählungen veröffentlicht): {ids}",
        "findings": "Auffälligkeiten: {n}",
        "time": "Laufzeit: {s:.1f} s",
    },
    "en": {
        "head": "Attack audit ({method}, minimum count {k}, protection interval {p})",
        "cells": "Cells checked: {n:,}; protected (targets): {t:,}; relations: {r:,}",
        "fail": "Failures: {f:,}",
        "none": "No failures.",
        "narrow": "Narrowest interval: [{lo:g}, {hi:g}] for {term} in {area} ({level}, "
        "{date}), true {v:g}",
        "item": "  {date} {term} in {area} ({level}): true {v:g}, interval [{lo:g}, {hi:g}], "
        "required {need}",
        "point": "not a single value",
        "loss": "Information loss (withheld/perturbed per level): {levels}",
        "uncovered": "Not covered by the LP (non-linear; published rounded / from protected "
        "counts): {ids}",
        "findings": "Findings: {n}",
        "time": "Runtime: {s:.1f} s",
    },
}


def format_report(report: AuditReport, lang: str = "de", limit: int = 10) -> str:
    """A short human-readable summary (the first ``limit`` failures and findings)."""
    text = _TEXT[lang]
    rules = report.rules
    lines = [
        text["head"].format(method=rules.method, k=rules.min_count, p=rules.protection),
        text["cells"].format(n=report.cells_checked, t=report.cells_protected, r=report.relations),
    ]
    failures = report.failures
    lines.append(text["fail"].format(f=len(failures)) if failures else text["none"])
    for r in failures[:limit]:
        need = (
            f"[{r.required_low:g}, {r.required_high:g}]" if r.kind == "sensitive" else text["point"]
        )
        lines.append(text["item"].format(**_fields(r), need=need))
    if report.narrowest is not None:
        lines.append(text["narrow"].format(**_fields(report.narrowest)))
    levels = ", ".join(f"{lv} {x.share:.1%}" for lv, x in report.loss.items())
    lines.append(text["loss"].format(levels=levels))
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
