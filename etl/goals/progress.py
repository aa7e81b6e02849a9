"""Progress status of a goal indicator, computed from published values, never typed in.

The method is Statistics Canada's progress measure as Open SDG implements it
(open-sdg ``docs/progress-methodology.md``), applied from the goal's baseline:

* Time ``t`` in years between two dates from the calendar: whole years, plus months/12,
  plus days/365.25 (31 Dec 2019 → 31 Dec 2024 is exactly 5).
* Observed growth: the compound annual growth rate since the baseline,
  ``CAGR = (y / y0) ** (1 / t) - 1`` with ``y`` the latest published value.
  Where a compound rate is undefined (a baseline, latest value or target of 0 or below —
  counts starting from zero, milestones 0 → 1) the average annual *change* is used:
  ``(y - y0) / t``.

**With a target** (value ``yT`` at ``tT``): the target is *achieved* once the latest value
reaches it in the desired direction. Otherwise the ratio of observed to required growth,
``R = g_obs / g_req`` with ``g_req`` the rate reaching ``yT`` at ``tT`` (same kind of rate as
``g_obs``; the model ensures the target lies in the desired direction, so ``g_req`` has the
desired sign):

=================  ============================
R ≥ 0.95           substantial (Deutlicher Fortschritt)
0.60 ≤ R < 0.95    moderate (Mäßiger Fortschritt)
0 ≤ R < 0.60       limited (Geringer Fortschritt)
R < 0              deterioration (Verschlechterung)
=================  ============================

**Without a target**: the direction and size of the observed change,
``g = d · CAGR`` (``d`` = +1 for a desired rise, −1 for a desired fall):
g ≥ 1.5 % a year substantial, 0.5 % ≤ g < 1.5 % moderate, 0 ≤ g < 0.5 % limited, g < 0
deterioration. Where the compound rate is undefined only the sign is known: a change in
the desired direction is substantial, none limited, the other way deterioration.

**Not assessable** (nicht bewertbar): no published value after the baseline (fewer than two
values: the baseline and one later), or a series break (new division of the level, changed
definition) after the baseline up to the latest value. Withheld values (``None``) count
as missing.

A goal's status is that of its least favourable assessable indicator
(:func:`goal_status`); a goal none of whose indicators is assessable is not assessable.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from etl.goals.model import GoalIndicator

ACHIEVED = "achieved"
SUBSTANTIAL = "substantial"
MODERATE = "moderate"
LIMITED = "limited"
DETERIORATION = "deterioration"
NOT_ASSESSABLE = "not_assessable"
# from most to least favourable; the order of cards, legends and goal aggregation
STATUSES = (ACHIEVED, SUBSTANTIAL, MODERATE, LIMITED, DETERIORATION, NOT_ASSESSABLE)
LABELS = {
    "de": {
        ACHIEVED: "Ziel erreicht",
        SUBSTANTIAL: "Deutlicher Fortschritt",
        MODERATE: "Mäßiger Fortschritt",
        LIMITED: "Geringer Fortschritt",
        DETERIORATION: "Verschlechterung",
        NOT_ASSESSABLE: "nicht bewertbar",
    },
    "en": {
        ACHIEVED: "Target achieved",
        SUBSTANTIAL: "Substantial progress",
        MODERATE: "Moderate progress",
        LIMITED: "Limited progress",
        DETERIORATION: "Deterioration",
        NOT_ASSESSABLE: "Not assessable",
    },
}
# thresholds (documented above): ratio R with a target, growth g a year without
RATIO_SUBSTANTIAL, RATIO_MODERATE = 0.95, 0.60
GROWTH_SUBSTANTIAL, GROWTH_MODERATE = 0.015, 0.005


@dataclass(frozen=True)
class Progress:
    """The progress of one goal indicator on a date.

    ``status``: one of :data:`STATUSES`; ``method``: ``target`` (ratio R), ``trend``
    (growth without target) or None (achieved / not assessable); ``latest``: the latest
    published (date, value) after the baseline, or None; ``growth``: observed annual
    growth (a rate, or a change per year where ``relative`` is False); ``required``: the
    growth needed to reach the target; ``ratio``: R; ``reason``: a German sentence why it
    is not assessable."""

    status: str
    method: str | None = None
    latest: tuple[date, float] | None = None
    growth: float | None = None
    required: float | None = None
    ratio: float | None = None
    relative: bool = True
    reason: str | None = None

    def label(self, lang: str = "de") -> str:
        return LABELS[lang][self.status]


def years_between(start: date, end: date) -> float:
    """Whole years + months/12 + days/365.25 (see module doc)."""
    return (end.year - start.year) + (end.month - start.month) / 12 + (end.day - start.day) / 365.25


def status(
    indicator: GoalIndicator,
    values: Iterable[tuple[date, float | None]],
    breaks: Iterable[date] = (),
    as_of: date | None = None,
) -> Progress:
    """The progress of ``indicator`` from its published ``values`` ((date, value); None =
    withheld), ``breaks`` (first dates after a series break) and the state on ``as_of``
    (default: the latest value)."""
    base = indicator.baseline
    later = sorted(
        (d, float(v))
        for d, v in values
        if v is not None and d > base.date and (as_of is None or d <= as_of)
    )
    if not later:
        return Progress(NOT_ASSESSABLE, reason="weniger als zwei Werte seit dem Ausgangswert")
    latest = later[-1]
    crossed = sorted(b for b in breaks if base.date < b <= latest[0])
    if crossed:
        return Progress(
            NOT_ASSESSABLE,
            latest=latest,
            reason=f"Reihenbruch am {crossed[0].strftime('%d.%m.%Y')} seit dem Ausgangswert",
        )
    if indicator.target is not None:
        return _with_target(indicator, latest)
    return _trend(indicator, latest)


def _rate(y0: float, y: float, years: float, relative: bool) -> float:
    return (y / y0) ** (1 / years) - 1 if relative else (y - y0) / years


def _with_target(indicator: GoalIndicator, latest: tuple[date, float]) -> Progress:
    base, target, sign = indicator.baseline, indicator.target, indicator.sign
    if sign * (latest[1] - target.value) >= 0:
        return Progress(ACHIEVED, latest=latest)
    relative = min(base.value, latest[1], target.value) > 0
    growth = _rate(base.value, latest[1], years_between(base.date, latest[0]), relative)
    required = _rate(base.value, target.value, years_between(base.date, target.date), relative)
    ratio = growth / required
    found = (
        SUBSTANTIAL
        if ratio >= RATIO_SUBSTANTIAL
        else MODERATE
        if ratio >= RATIO_MODERATE
        else LIMITED
        if ratio >= 0
        else DETERIORATION
    )
    return Progress(found, "target", latest, growth, required, ratio, relative)


def _trend(indicator: GoalIndicator, latest: tuple[date, float]) -> Progress:
    base, sign = indicator.baseline, indicator.sign
    relative = base.value > 0 and latest[1] > 0
    if not relative:
        change = sign * (latest[1] - base.value)
        found = SUBSTANTIAL if change > 0 else LIMITED if change == 0 else DETERIORATION
        growth = _rate(base.value, latest[1], years_between(base.date, latest[0]), False)
        return Progress(found, "trend", latest, growth, relative=False)
    growth = _rate(base.value, latest[1], years_between(base.date, latest[0]), True)
    directed = sign * growth
    found = (
        SUBSTANTIAL
        if directed >= GROWTH_SUBSTANTIAL
        else MODERATE
        if directed >= GROWTH_MODERATE
        else LIMITED
        if directed >= 0
        else DETERIORATION
    )
    return Progress(found, "trend", latest, growth)


def goal_status(progresses: Sequence[Progress]) -> str:
    """A goal's status: its least favourable assessable indicator's (module doc)."""
    assessed = [p.status for p in progresses if p.status != NOT_ASSESSABLE]
    if not assessed:
        return NOT_ASSESSABLE
    return max(assessed, key=STATUSES.index)
