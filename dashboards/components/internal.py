"""Pieces of the internal page: the plausibility report, the audit table, the actions,
the access log.

The report is the self-contained HTML page ``imon refresh`` wrote (every value escaped by
:func:`etl.plausibility.to_html`), shown in an ``<iframe srcdoc>`` with an empty
``sandbox``: no script, no form, no access to the dashboard's page or cookies, whatever
the file holds.
"""

from __future__ import annotations

from dash import dcc, html

from dashboards import access_log, formatting, ids, notes
from dashboards.data.internal import Snapshot
from dashboards.data.unprotected import COLUMNS
from dashboards.i18n import t


def report(snapshot: Snapshot | None, which: str, lang: str) -> html.Div:
    """The report of the staged or published snapshot, or why there is none."""
    if snapshot is None:
        return html.Div(html.P(t(f"internal.no_{which}", lang), className="hint"))
    if snapshot.report_html is None:
        return html.Div(html.P(t("internal.no_report", lang, name=snapshot.name), className="hint"))
    return html.Div(
        [
            html.P(t("internal.report_of", lang, name=snapshot.name), className="hint"),
            html.Iframe(
                srcDoc=snapshot.report_html,
                sandbox="",  # nothing in it runs or reaches the dashboard
                title=t("internal.report_frame", lang, name=snapshot.name),
                className="report-frame",
                id=f"{ids.INTERNAL_REPORT}-frame",
            ),
        ]
    )


def audit_table(snapshots: dict[str, Snapshot | None], lang: str) -> html.Div:
    """One column per snapshot (staged, published), one row per figure of the summary."""
    head = html.Tr(
        [html.Td("")] + [html.Th(t(f"internal.{which}", lang), scope="col") for which in snapshots]
    )
    body = [
        html.Tr(
            [html.Th(t(f"internal.audit.{row}", lang), scope="row")]
            + [html.Td(_cell(snap, which, row, lang)) for which, snap in snapshots.items()]
        )
        for row in _ROWS
    ]
    table = html.Table(
        [html.Caption(t("internal.audit_caption", lang)), html.Thead(head), html.Tbody(body)],
        className="data-table audit-table",
    )
    return html.Div(table, className="table-scroll")


_COUNTS = {  # row -> figure of etl.audit_summary
    "cells": "cells_checked",
    "protected": "cells_protected",
    "indices": "indices_checked",
    "draws": "draws_checked",
    "balances": "balances_checked",
    "boundaries": "boundaries_checked",
    "projects": "projects_checked",
}
_ROWS = (
    "snapshot", "result", "cells", "protected", "narrowest", "indices", "draws", "balances",
    "boundaries", "projects", "seconds",
)  # fmt: skip


def actions(lang: str, staged: str | None, published: str | None) -> list:
    """Publish and rollback, each behind a confirmation, and the line that reports them."""
    return [
        html.Div(
            [
                dcc.ConfirmDialogProvider(
                    html.Button(
                        t("internal.publish", lang),
                        id=ids.INTERNAL_PUBLISH_BUTTON,
                        disabled=staged is None,
                        className="action-button",
                    ),
                    id=ids.INTERNAL_PUBLISH,
                    message=confirm_publish(lang, staged, published),
                ),
                dcc.ConfirmDialogProvider(
                    html.Button(t("internal.rollback", lang), className="action-button"),
                    id=ids.INTERNAL_ROLLBACK,
                    message=confirm_rollback(lang, published),
                ),
            ],
            className="actions",
        ),
        html.Div(
            [
                html.H3(t("internal.warnings_heading", lang)),
                html.Ul(id=ids.INTERNAL_WARNINGS_LIST),
                dcc.Checklist(
                    id=ids.INTERNAL_ACCEPT_WARNINGS,
                    options=[{"label": t("internal.accept_warnings", lang), "value": "accept"}],
                    value=[],
                ),
            ],
            id=ids.INTERNAL_WARNINGS,
            hidden=True,
            className="notice",
        ),
        html.P(id=ids.INTERNAL_STATUS, role="status", className="action-status"),
    ]


def warnings_list(warnings: list[str]) -> list:
    """The staged build's warnings, one list item each."""
    return [html.Li(w) for w in warnings]


def confirm_publish(lang: str, staged: str | None, published: str | None, warnings: int = 0) -> str:
    message = t("internal.confirm_publish", lang, staged=staged or "–", published=published or "–")
    if warnings:
        message += " " + t("internal.confirm_publish_warnings", lang, n=warnings)
    return message


def confirm_rollback(lang: str, published: str | None) -> str:
    return t("internal.confirm_rollback", lang, published=published or "–")


def _cell(snap: Snapshot | None, which: str, row: str, lang: str) -> str:
    if snap is None:
        return "–"
    if row == "snapshot":
        return snap.name
    audit = snap.audit
    if audit is None:  # say why once, in the result row
        if row != "result":
            return "–"
        if snap.audit_error:
            return t("internal.audit.unreadable", lang, error=snap.audit_error)
        return t("internal.audit.missing", lang, flag=" --staged" if which == "staged" else "")
    if row == "result":
        if audit["passed"]:
            return t("internal.audit.passed", lang)
        failed = (
            audit["failures"]
            + audit["index_failures"]
            + sum(
                audit.get(key, 0)
                for key in ("balance_failures", "boundary_failures", "project_failures")
            )
        )
        return t("internal.audit.failed", lang, n=failed)
    if row == "narrowest":
        return _interval(audit.get("narrowest"), lang)
    if row == "seconds":
        return f"{formatting.format_number(audit['seconds'], 1)} s"
    figure = audit.get(_COUNTS[row])  # None: a summary from before the figure was kept
    return "–" if figure is None else formatting.format_count(figure)


def _interval(cell: dict | None, lang: str) -> str:
    if not cell:
        return "–"
    return t(
        "internal.audit.interval",
        lang,
        low=formatting.format_number(cell["low"], 1),
        high=formatting.format_number(cell["high"], 1),
        truth=formatting.format_number(cell["truth"]),
        term=cell["term"],
        area=cell["area_id"],
        level=cell["level"],
        date=formatting.format_date(cell["ref_date"]),
    )


# --- unprotected values (office, internal server only) ----------------------------------
def qa_controls(
    lang: str, indicators: dict[str, str], levels: dict[str, str], dates: list[str]
) -> list:
    """Snapshot, indicator, date and level of the unprotected values; the table; the
    internal downloads."""

    def field(label: str, control: object) -> html.Label:
        return html.Label([html.Span(label, className="control-label"), control])

    latest = dates[-1] if dates else None
    return [
        html.Div(
            [
                field(
                    t("internal.qa.snapshot", lang),
                    dcc.RadioItems(
                        id=ids.INTERNAL_QA_CHOICE,
                        options=[
                            {"label": t(f"internal.{w}", lang), "value": w}
                            for w in ("published", "staged")
                        ],
                        value="published",
                        inline=True,
                    ),
                ),
                _dropdown(
                    t("internal.qa.indicator", lang),
                    ids.INTERNAL_QA_INDICATOR,
                    indicators,
                    next(iter(indicators), None),
                ),
                _dropdown(
                    t("internal.qa.date", lang),
                    ids.INTERNAL_QA_DATE,
                    {d: formatting.format_date(d) for d in reversed(dates)},
                    latest,
                ),
                _dropdown(
                    t("internal.qa.level", lang),
                    ids.INTERNAL_QA_LEVEL,
                    levels,
                    next(reversed(list(levels)), None),
                ),
            ],
            className="controls qa-controls",
        ),
        html.Div(id=ids.INTERNAL_QA_TABLE, **{"aria-live": "polite"}),
        html.Div(
            [
                html.Button(
                    t("internal.qa_csv", lang), id=ids.INTERNAL_QA_CSV, className="action-button"
                ),
                html.Button(
                    t("internal.qa_xlsx", lang), id=ids.INTERNAL_QA_XLSX, className="action-button"
                ),
                dcc.Download(id=ids.INTERNAL_QA_DOWNLOAD),
            ],
            className="actions",
        ),
    ]


def _dropdown(
    label: str, dropdown_id: str, options: dict[str, str], value: str | None, **extra: str
) -> html.Label:
    """A labelled selector of ``options`` (value -> label, in order); always one chosen."""
    return html.Label(
        [
            html.Span(label, className="control-label"),
            dcc.Dropdown(
                id=dropdown_id,
                options=[{"label": text, "value": key} for key, text in options.items()],
                value=value,
                clearable=False,
            ),
        ],
        **extra,
    )


def qa_table(frame, caption: str, unit: str, decimals: int, lang: str) -> html.Div:
    """The unprotected values beside the published ones; a row whose published value
    differs (withheld, perturbed, rounded) is marked."""
    if frame.empty:
        return html.Div(html.P(t("internal.qa_empty", lang), className="hint"))

    def cell(column: str, value: object) -> str:
        if value is None or (isinstance(value, float) and value != value):
            return "–"
        if column in ("value", "published_value"):
            return formatting.format_value(float(value), unit, decimals)
        if column in ("numerator", "denominator"):
            return formatting.format_count(float(value))
        return str(value)

    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    differs = [
        r["published_value"] is None or abs(float(r["published_value"]) - float(r["value"])) > 1e-9
        if r["value"] is not None
        else r["published_value"] is not None
        for r in records
    ]
    head = html.Tr([html.Th(t(f"internal.qa.{c}", lang), scope="col") for c in COLUMNS])
    body = [
        html.Tr(
            [html.Td(cell(c, r[c])) for c in COLUMNS],
            className="differs" if d else None,
        )
        for r, d in zip(records, differs, strict=True)
    ]
    table = html.Table(
        [html.Caption(caption), html.Thead(head), html.Tbody(body)],
        className="data-table qa-table",
    )
    summary = t("internal.qa_summary", lang, n=len(records), k=sum(differs))
    return html.Div(
        [
            html.P(t("internal.mark", lang), className="notice internal-mark"),
            html.P(summary, className="hint"),
            html.Div(table, className="table-scroll"),
        ]
    )


# --- internal notes on indicators (commission and office) -------------------------------
def notes_controls(lang: str, indicators: dict[str, str]) -> list:
    """The indicator, its notes, and a field for a new one."""
    return [
        html.P(t("internal.notes_intro", lang), className="hint"),
        _dropdown(
            t("internal.qa.indicator", lang),
            ids.INTERNAL_NOTES_INDICATOR,
            indicators,
            next(iter(indicators), None),
            className="notes-indicator",
        ),
        html.Div(id=ids.INTERNAL_NOTES_LIST, **{"aria-live": "polite"}),
        html.Label(
            [
                html.Span(t("internal.notes_text", lang), className="control-label"),
                dcc.Textarea(
                    id=ids.INTERNAL_NOTES_TEXT, maxLength=notes.MAX_LENGTH, className="notes-text"
                ),
            ]
        ),
        html.Div(
            [
                html.Button(
                    t("internal.notes_save", lang),
                    id=ids.INTERNAL_NOTES_SAVE,
                    className="action-button",
                ),
                html.P(id=ids.INTERNAL_NOTES_STATUS, role="status", className="action-status"),
            ],
            className="actions",
        ),
    ]


def notes_list(found: list[dict], lang: str) -> html.Div:
    """The notes, newest first, each with who wrote it and when."""
    if not found:
        return html.Div(html.P(t("internal.notes_none", lang), className="hint"))
    items = [
        html.Li(
            [
                html.P(note["text"], className="note-text"),
                html.P(
                    t(
                        "internal.notes_by",
                        lang,
                        user=note["user"],
                        role=t(f"role.{note['role']}", lang),
                        at=f"{formatting.format_date(note['at'][:10])} {note['at'][11:16]} UTC",
                    ),
                    className="hint",
                ),
            ]
        )
        for note in found
    ]
    return html.Div(html.Ul(items, className="notes-list"))


def access_log_table(entries: list[dict], lang: str) -> html.Div:
    """The access log's latest lines (:func:`dashboards.access_log.latest`), newest first."""
    if not entries:
        return html.Div(html.P(t("internal.log_empty", lang), className="hint"))
    columns = (*access_log.COLUMNS, "details")

    def cell(column: str, entry: dict) -> str:
        if column == "details":
            return access_log.details(entry)
        if column == "action":
            return t(f"internal.log_action.{entry['action']}", lang)
        if column == "role" and entry.get("role"):
            return t(f"role.{entry['role']}", lang)
        if column == "at" and entry.get("at"):  # ISO in UTC → 07.12.2026, 16:30:00
            day, _, clock = str(entry["at"]).partition("T")
            return f"{formatting.format_date(day)}, {clock[:8]}"
        return str(entry.get(column) or "–")

    head = html.Tr([html.Th(t(f"internal.log.{c}", lang), scope="col") for c in columns])
    body = [html.Tr([html.Td(cell(c, e)) for c in columns]) for e in entries]
    return html.Div(
        html.Table([html.Thead(head), html.Tbody(body)], className="data-table log-table"),
        className="table-scroll",
    )
