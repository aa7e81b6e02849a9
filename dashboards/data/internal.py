"""What the internal page (``/intern``) reads and does: the staged and the published
snapshot's plausibility report and audit summary, publish and rollback.

Only for logged-in users: the page's callbacks call :func:`dashboards.access.require`
before they call anything here. Nothing heavy runs in a request: the plausibility report
is the ``report.html`` ``imon refresh`` wrote into the snapshot
(:mod:`etl.deliveries`, :mod:`etl.plausibility`), the audit summary the
``internal/audit.json`` the build wrote (:mod:`etl.audit_summary`). Publish and rollback
are the functions ``imon publish`` and ``imon rollback`` call.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from etl import audit_summary, warehouse

WHICH = ("staged", "published")


@dataclass(frozen=True)
class Snapshot:
    """The staged or the published snapshot: its id and what was kept with it."""

    which: str  # staged | published
    name: str
    report_html: str | None  # None: built without a report (imon build)
    audit: dict[str, Any] | None  # None: built before summaries were kept
    audit_error: str | None = None  # the summary exists but cannot be read


def snapshot(curated_dir: Path, which: str) -> Snapshot | None:
    """The ``which`` snapshot of the instance, or None if there is none."""
    if which not in WHICH:
        raise ValueError(f"unknown snapshot {which!r} (known: {', '.join(WHICH)})")
    find = warehouse.staged if which == "staged" else warehouse.published
    folder = find(Path(curated_dir))
    if folder is None:
        return None
    report = folder / warehouse.REPORT
    text = report.read_text(encoding="utf-8") if report.is_file() else None
    try:
        summary, error = audit_summary.read(folder), None
    except (OSError, ValueError) as exc:  # e.g. the server may not read the internal folder
        summary, error = None, f"{type(exc).__name__}: {exc}"
    return Snapshot(which, folder.name, text, summary, error)


def names(curated_dir: Path) -> dict[str, str | None]:
    """The ids of the staged and the published snapshot (None: there is none)."""
    found = {"staged": warehouse.staged(Path(curated_dir))}
    found["published"] = warehouse.published(Path(curated_dir))
    return {which: folder.name if folder else None for which, folder in found.items()}


def publish(
    curated_dir: Path, keep: int, accept_warnings: bool = False, user: str | None = None
) -> tuple[str | None, str]:
    """``imon publish``: the staged snapshot goes live; (id before, id now). A snapshot
    with build warnings needs ``accept_warnings`` (``imon publish --accept-warnings``)."""
    from etl.deliveries import publish_staged  # imports the build: only when needed

    before, now = publish_staged(Path(curated_dir), keep, accept_warnings, user)
    return (before.name if before else None), now.name


def staged_warnings(curated_dir: Path) -> list[str]:
    """The staged snapshot's build warnings (tolerated with ``warn``), [] if none."""
    from etl.deliveries import staged_warnings as read

    snapshot = warehouse.staged(Path(curated_dir))
    return read(snapshot) if snapshot is not None else []


def rollback(curated_dir: Path) -> tuple[str, str]:
    """``imon rollback``: the previous snapshot goes live again; (id before, id now)."""
    from etl.deliveries import rollback_current

    before, now = rollback_current(Path(curated_dir))
    return before.name, now.name
