"""The audit summary kept in each snapshot (etl/audit_summary.py) for the internal page."""

from __future__ import annotations

import stat
from types import SimpleNamespace

from etl import audit_summary, warehouse


def fake_report(**changes):
    """What the summary reads of an etl.audit.AuditReport (also for the internal page)."""
    narrowest = SimpleNamespace(
        ref_date="2024-12-31", term="foreigners", area_id="11", level="district",
        truth=2, low=0.0, high=5.0,
    )  # fmt: skip
    values = dict(
        passed=True, rules=SimpleNamespace(method="suppression", min_count=3, protection=3),
        cells_checked=708, cells_protected=12, relations=1876, failures=[],
        narrowest=narrowest, indices_checked=68, draws_checked=9600, index_failures=[],
        balances_checked=42, balance_failures=["x"], boundaries_checked=7,
        boundary_failures=[], projects_checked=5, project_failures=["y", "z"], seconds=3.94,
    )  # fmt: skip
    return SimpleNamespace(**(values | changes))


def test_summary_round_trip_is_private(tmp_path):
    (tmp_path / warehouse.INTERNAL).mkdir()
    assert audit_summary.read(tmp_path) is None  # built before summaries were kept
    path = audit_summary.write(fake_report(), tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    summary = audit_summary.read(tmp_path)
    assert summary["cells_checked"] == 708 and summary["cells_protected"] == 12
    assert summary["narrowest"] == {
        "ref_date": "2024-12-31", "term": "foreigners", "area_id": "11",
        "level": "district", "truth": 2.0, "low": 0.0, "high": 5.0,
    }  # fmt: skip
    assert summary["indices_checked"] == 68 and summary["draws_checked"] == 9600
    assert summary["balances_checked"] == 42 and summary["balance_failures"] == 1
    assert summary["boundaries_checked"] == 7 and summary["boundary_failures"] == 0
    assert summary["projects_checked"] == 5 and summary["project_failures"] == 2
    assert summary["passed"] and not summary["exact"] and summary["seconds"] == 3.9
    audit_summary.write(fake_report(narrowest=None), tmp_path)
    assert audit_summary.read(tmp_path)["narrowest"] is None


def test_the_build_keeps_the_summary(tiny_warehouse):
    snapshot = tiny_warehouse.parents[1]  # snapshots/<id>/internal/warehouse.duckdb
    summary = audit_summary.read(snapshot)
    assert summary is not None and summary["passed"]
    assert summary["cells_checked"] > 0 and summary["draws_checked"] > 0
