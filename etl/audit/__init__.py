"""Attack audit of a publication: what a careful attacker can derive by linear programming.

Independent of the protection code on purpose: it reads only the publication file, the
internal (true) counts and the catalogue, never ``etl/protect``.

What is read
    publication: ``indicator_values``, ``indicators`` (function), ``areas``, ``levels``.
    internal: ``indicator_values`` numerators/denominators (true counts); cells missing
    there are summed from ``area_counts`` over ``area_closure`` when the file has them.
    catalogue: group filters (terms as sets of person types), indicator roles, scales.

Model, per reference date (no published relation crosses dates), :mod:`etl.audit.model`
    unknowns ≥ 0: one per (term, area of the vintage valid at the date), where the terms are
    the catalogue terms of the published linear indicators (count, share, ratio, location
    quotient; plus group/total of unit indices), the complements ``outer - inner`` of every
    nested pair, and the Venn regions of the terms (persons with the same membership in
    every term: each ≥ 0, so the model knows what a person-level attacker knows).
    bounds: published counts fixed (``suppression``), |x − p| ≤ D (``cell_key``), or the
    counts that round to p (``suppression`` with ``rounding`` to base b).
    rows: children sum to the parent (catalogue terms, public hierarchy); every term = Σ of
    its regions; every cover of a term by disjoint terms (for elimination); published rate
    values: numerator = c · denominator within the value's precision (share/ratio:
    c = v/scale; quotient: c = v·X/T with the city's published X, T); unit indices: Σ over
    the units used (decided from published residents) = published numerator/denominator.

Targets and requirement, :mod:`etl.audit.report`
    every withheld count cell and every cell (complements and computable regions included)
    whose true value is 1..k−1. True 1..k−1 (or ``min_denominator`` numerators): the
    interval must contain [max(0, v − p), v + p]. Withheld with v ≥ k: not a single point
    (a complementary cell need not hide its value, but must not be recoverable exactly).
    Withheld with v = 0: reported, nothing required.

Intervals, :mod:`etl.audit.intervals`
    integer bound rounding and single-unknown elimination to a fixed point, connected
    components (scipy.sparse.csgraph), one HiGHS model per component re-solved warm per
    target; the LP bound is rounded inward (counts are integers).

Unit indices, :mod:`etl.audit.indices`
    non-linear, so no LP rows: every published index value is recomputed from the published
    counts alone (units with an unpublished count pooled into a remainder unit, as anyone
    can by subtraction); a value that cannot be so reproduced at its rounding fails the
    audit — it would carry information beyond the published counts. The random-allocation
    draws are drawn again from the same units with the published seed
    (:mod:`etl.audit.allocation`).
"""

from etl.audit.model import Rules
from etl.audit.report import AuditReport, LevelLoss, TargetResult, format_report, run_audit

__all__ = ["AuditReport", "LevelLoss", "Rules", "TargetResult", "format_report", "run_audit"]
