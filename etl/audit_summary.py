"""The attack audit's summary, kept in its snapshot for the dashboard's internal page.

The build audits every snapshot (:func:`etl.publication.audit`); its summary — what
``imon audit`` prints at the top: cells checked, protected, the narrowest interval, the
indices and draws recomputed — is written to ``internal/audit.json`` (mode 0600, in the
internal folder: the narrowest interval names a true count). The office's internal page
reads it instead of running the audit in a request. The build's audit stops optimising an
interval once it passes (``exact: false``), so the narrowest interval may be narrower
still; ``imon audit`` optimises every interval to both ends.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from etl import warehouse

SUMMARY = f"{warehouse.INTERNAL}/audit.json"


def summarise(report: Any, exact: bool = False) -> dict[str, Any]:
    """The summary of an :class:`etl.audit.AuditReport` as plain JSON values."""
    narrowest = report.narrowest
    return {
        "passed": report.passed,
        "exact": exact,
        "method": report.rules.method,
        "min_count": report.rules.min_count,
        "protection": report.rules.protection,
        "cells_checked": report.cells_checked,
        "cells_protected": report.cells_protected,
        "relations": report.relations,
        "failures": len(report.failures),
        "narrowest": None
        if narrowest is None
        else {
            "ref_date": str(narrowest.ref_date),
            "term": narrowest.term,
            "area_id": narrowest.area_id,
            "level": narrowest.level,
            "truth": float(narrowest.truth),
            "low": float(narrowest.low),
            "high": float(narrowest.high),
        },
        "indices_checked": report.indices_checked,
        "draws_checked": report.draws_checked,
        "index_failures": len(report.index_failures),
        "balances_checked": report.balances_checked,
        "balance_failures": len(report.balance_failures),
        "boundaries_checked": report.boundaries_checked,
        "boundary_failures": len(report.boundary_failures),
        "projects_checked": report.projects_checked,
        "project_failures": len(report.project_failures),
        "seconds": round(float(report.seconds), 1),
    }


def write(report: Any, snapshot: Path) -> Path:
    """Write the summary of ``report`` into the (building) snapshot folder."""
    path = snapshot / SUMMARY
    warehouse.write_durably(path, json.dumps(summarise(report), indent=1))
    os.chmod(path, 0o600)
    return path


def read(snapshot: Path) -> dict[str, Any] | None:
    """The summary kept in ``snapshot``; None for a snapshot built before it was kept."""
    path = snapshot / SUMMARY
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))
