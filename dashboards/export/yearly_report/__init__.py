"""``imon report``: the integration commission's yearly report in one command (issue #15).

One content model (:mod:`.model`: sections of paragraphs, tables and charts), built from
the published snapshot through the dashboard's read path (:mod:`dashboards.data`), written
either as **PDF** (HTML/CSS typeset by WeasyPrint, charts as SVG vector graphics from
Kaleido, :mod:`.pdf`) or as an editable **DOCX** (python-docx, charts as 300-dpi PNG,
:mod:`.word`).

Sections: title page (instance, Stand, publication date); table of contents; "Das
Wichtigste in Kürze" and the key figures (:mod:`.summary`); per action field its goals
with status, when the instance has goals (:mod:`.goals`); district maps and the district
table (:mod:`.districts`); segregation with the random-allocation band
(:mod:`.segregation`); methods and sources (:mod:`.methods`).

Only the publication is read. ``internal=True`` (the statistics office's ``--internal``)
reads the snapshot's unprotected warehouse instead (:func:`open_internal`) and marks every
page with :data:`dashboards.data.unprotected.MARK`; nothing else here opens that file.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from dashboards import formatting
from dashboards.data import catalogue, overview, queries
from dashboards.data import goals as goals_data
from dashboards.data.queries import Warehouse
from dashboards.data.unprotected import MARK
from dashboards.export.yearly_report.districts import district_section
from dashboards.export.yearly_report.goals import goals_sections
from dashboards.export.yearly_report.methods import methods_sections
from dashboards.export.yearly_report.model import ExportError, Paragraph, Report, ReportRequest, tr
from dashboards.export.yearly_report.segregation import segregation_sections
from dashboards.export.yearly_report.summary import key_section, key_statements, summary_section
from etl import warehouse as warehouse_files
from etl.goals import Goals
from etl.profile import Profile

__all__ = ["ReportRequest", "build_report", "open_internal", "report_date", "run_report"]


def open_internal(curated_dir: Path) -> Warehouse:
    """The published snapshot's unprotected warehouse (``--internal`` only): the same
    tables, values before disclosure control."""
    folder = warehouse_files.published(Path(curated_dir))
    path = folder / warehouse_files.DATABASE if folder else None
    if path is None or not path.is_file():
        raise queries.WarehouseNotFoundError(f"{curated_dir}: no published internal warehouse")
    return Warehouse(str(path.resolve()), path.stat().st_mtime_ns)


def report_date(wh: Warehouse, wanted: date | None) -> str:
    """The report's Stand: ``wanted`` (a reference date of the snapshot) or the latest date
    of the key figures."""
    dates = overview.overview_dates(wh, "de")
    if wanted is None:
        return dates[-1]
    iso = wanted.isoformat()
    known = catalogue.ref_dates(wh)
    if iso not in known:
        raise ExportError(f"no values on {iso} (reference dates: {', '.join(known)})")
    return iso


def publication_date(curated_dir: Path) -> str | None:
    """When the published snapshot went live: its latest publish (or rollback) in the
    instance's history (``history.jsonl``), None if the history does not say."""
    current = warehouse_files.published(Path(curated_dir))
    events = warehouse_files.history_events(Path(curated_dir)) or []
    times = [
        e.get("at")
        for e in events
        if current is not None
        and e["snapshot"] == current.name
        and e["action"] in ("publish", "rollback")
    ]
    return next((at for at in reversed(times) if at), None)


def build_report(
    wh: Warehouse,
    ref_date: str,
    lang: str,
    internal: bool = False,
    goals: Goals | None = None,
    published: str | None = None,
    now: datetime | None = None,
) -> Report:
    """The report's content (charts built, not yet rendered); ``published``: when the
    snapshot went live (ISO; default: its build time)."""
    meta = catalogue.meta(wh)
    statements = key_statements(wh, ref_date, lang)
    sections = [
        summary_section(statements, ref_date, lang, catalogue.city(wh).name),
        key_section(statements, wh, ref_date, lang),
    ]
    sections += goals_sections(wh, goals, ref_date, lang)
    sections += district_section(wh, ref_date, lang)
    sections += segregation_sections(wh, statements, ref_date, lang)
    sections += methods_sections(wh, statements, lang, goals)
    if internal:
        sections[0].blocks.insert(0, Paragraph(tr("internal_note", lang), "note"))
    else:
        sections[0].blocks.insert(1, Paragraph(tr("protected", lang), "note"))
    published = published or meta.get("built_at")
    created = (now or datetime.now(UTC)).astimezone()
    return Report(
        lang=lang,
        instance=meta.get("title") or catalogue.city(wh).name,
        title=tr("title", lang, year=ref_date[:4]),
        subtitle=tr("subtitle", lang),
        as_of=formatting.format_date(ref_date),
        published=formatting.format_date(published) if published else formatting.MISSING,
        created=formatting.format_date(created),
        sources=meta.get("attribution", ""),
        mark=MARK[lang] if internal else None,
        sections=sections,
    )


def run_report(
    profile: Profile, request: ReportRequest, progress: Callable[[str], None] = print
) -> Path:
    """Build the report of the instance's published snapshot (with its goals, if it has
    any) and write it to ``request.out``."""
    from dashboards.export import render

    fmt = request.fmt
    curated = profile.curated_dir
    wh = open_internal(curated) if request.internal else queries.open_warehouse(curated)
    ref_date = report_date(wh, request.ref_date)
    # the goals as published with the snapshot (kept in the publication's meta only; with
    # --internal their values are then read from the unprotected warehouse)
    goals = goals_data.published_goals(queries.open_warehouse(curated))
    published = publication_date(curated)
    report = build_report(wh, ref_date, request.lang, request.internal, goals, published)
    request.out.parent.mkdir(parents=True, exist_ok=True)
    partial = request.out.with_name(f".{request.out.name}.partial")
    try:
        if fmt == "pdf":
            from dashboards.export.yearly_report.pdf import write_pdf

            write_pdf(report, partial)
        else:
            from dashboards.export.yearly_report.word import write_docx

            write_docx(report, partial)
        partial.replace(request.out)  # a failed report leaves no half-written file
    finally:
        partial.unlink(missing_ok=True)
        render.close_renderer()
    progress(f"{request.out}  ({request.out.stat().st_size / 1024:,.0f} KB)".replace(",", "."))
    return request.out
