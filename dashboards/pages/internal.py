"""Intern (``/intern``): for logged-in users of the instance only.

* ``commission`` and ``office``: the plausibility report of the staged and of the
  published snapshot (what ``imon refresh`` wrote);
* ``office`` only: the attack audit's summary of both, and publish and rollback (each
  behind a confirmation; the same functions as ``imon publish``/``imon rollback``; each
  recorded in the access log), the access log's latest lines; in an internal server
  (``imon serve --internal``) also the unprotected values beside the published ones,
  marked "intern – nicht zur Veröffentlichung" on screen and in every export, each export
  logged (:mod:`dashboards.data.unprotected`).

Enforced where the data is read, not in the menu: :mod:`dashboards.access` sends a page
request without a login to the login page, and every callback here calls
:func:`dashboards.access.require` first (401 without a login, 403 for the commission's
office-only callbacks). Contents: :mod:`dashboards.data.internal`.
"""

from __future__ import annotations

import dash
import flask
from dash import Input, Output, State, callback, dcc, html

from dashboards import access, access_log, context, formatting, ids, notes
from dashboards.components import common as components
from dashboards.components import internal as parts
from dashboards.data import boundaries_choice, catalogue, internal, unprotected
from dashboards.export import internal as internal_export
from dashboards.i18n import t
from dashboards.pages import register_page
from etl.errors import ImonError

register_page(__name__, "/intern", 90, "internal", login=True)
ROLES = ("commission", "office")
LOG_LINES = 100  # of the access log on the page


def layout(**_other: str) -> html.Div:
    """The sections the user's role may see."""
    lang, user = context.lang(), access.current_user()
    if flask.request.environ.get(access.WARM_UP):
        return _skeleton()
    if user is None:  # a page request of a stranger never gets here (dashboards.access)
        return html.Div(components.page_header(t("internal.heading", lang), ""))
    office = user["role"] == "office"
    sections = [
        components.page_header(
            t("internal.heading", lang),
            t("internal.intro" if office else "internal.intro_commission", lang),
        ),
        html.P(t("internal.mark", lang), className="notice internal-mark"),
        _section(
            t("internal.report_heading", lang),
            [
                dcc.RadioItems(
                    id=ids.INTERNAL_REPORT_CHOICE,
                    options=[
                        {"label": t(f"internal.{w}", lang), "value": w} for w in internal.WHICH
                    ],
                    value="staged",
                    inline=True,
                    className="report-choice",
                ),
                html.Div(id=ids.INTERNAL_REPORT, **{"aria-live": "polite"}),
            ],
        ),
        dcc.Store(id=ids.INTERNAL_VERSION, data=0),
        _section(t("internal.notes_heading", lang), parts.notes_controls(lang, _indicators(lang))),
        _section(t("internal.lineage_heading", lang), _lineage(lang)),
    ]
    if office:
        names = internal.names(context.curated_dir())
        sections += [
            _section(
                t("internal.audit_heading", lang),
                [
                    html.P(t("internal.audit_intro", lang), className="hint"),
                    html.Div(id=ids.INTERNAL_AUDIT),
                ],
            ),
            _section(
                t("internal.actions_heading", lang),
                [
                    html.P(t("internal.actions_intro", lang), className="hint"),
                    *parts.actions(lang, names.get("staged"), names.get("published")),
                ],
            ),
            _section(t("internal.qa_heading", lang), _unprotected_section(lang)),
            _section(
                t("internal.log_heading", lang),
                [
                    html.P(
                        t(
                            "internal.log_intro",
                            lang,
                            n=LOG_LINES,
                            file=access_log.log_path(access.users_file()).name,
                        ),
                        className="hint",
                    ),
                    html.Div(id=ids.INTERNAL_LOG),
                ],
            ),
        ]
    return html.Div(sections, className="internal-page")


def _unprotected_section(lang: str) -> list:
    if not unprotected.enabled():
        return [html.P(t("internal.qa_unavailable", lang), className="hint")]
    wh = context.warehouse()
    indicators = {
        i.indicator_id: i.title
        for i in catalogue.indicators(wh, lang).values()
        if not i.is_segregation
    }
    levels = {level.level: level.label for level in catalogue.levels(wh, lang).values()}
    return [
        html.P(t("internal.qa_intro", lang), className="hint"),
        *parts.qa_controls(lang, indicators, levels, catalogue.ref_dates(wh)),
    ]


def _indicators(lang: str) -> dict[str, str]:
    """Every indicator of the published snapshot: id -> title."""
    return {i: ind.title for i, ind in catalogue.indicators(context.warehouse(), lang).items()}


def _lineage(lang: str) -> list:
    """Which correspondence lists and overlap estimates placed the older units on today's
    boundaries (published snapshot, #18); a hint where there is only one vintage."""
    rows = boundaries_choice.lineage(context.warehouse())
    if not rows:
        return [html.P(t("internal.lineage_none", lang), className="hint")]
    headers = t("internal.lineage_columns", lang).split("|")
    table = html.Table(
        [
            html.Thead(html.Tr([html.Th(h, scope="col") for h in headers])),
            html.Tbody([html.Tr([html.Td(str(v)) for v in row]) for row in rows]),
        ],
        className="data-table lineage-table",
        id="internal-lineage",
    )
    return [html.P(t("internal.lineage_intro", lang), className="hint"), table]


def _skeleton() -> html.Div:
    """Every component the callbacks name, without a word or a value: Dash checks the
    callbacks against it (its validation layout, sent to every visitor with the page)."""
    return html.Div(
        [
            dcc.RadioItems(id=ids.INTERNAL_REPORT_CHOICE, options=[]),
            html.Div(id=ids.INTERNAL_REPORT),
            dcc.Store(id=ids.INTERNAL_VERSION),
            html.Div(id=ids.INTERNAL_AUDIT),
            dcc.ConfirmDialogProvider(
                html.Button(id=ids.INTERNAL_PUBLISH_BUTTON), id=ids.INTERNAL_PUBLISH
            ),
            dcc.ConfirmDialogProvider(id=ids.INTERNAL_ROLLBACK),
            html.P(id=ids.INTERNAL_STATUS),
            html.Div(id=ids.INTERNAL_WARNINGS),
            html.Ul(id=ids.INTERNAL_WARNINGS_LIST),
            dcc.Checklist(id=ids.INTERNAL_ACCEPT_WARNINGS, options=[]),
            dcc.RadioItems(id=ids.INTERNAL_QA_CHOICE, options=[]),
            dcc.Dropdown(id=ids.INTERNAL_QA_INDICATOR),
            dcc.Dropdown(id=ids.INTERNAL_QA_DATE),
            dcc.Dropdown(id=ids.INTERNAL_QA_LEVEL),
            html.Div(id=ids.INTERNAL_QA_TABLE),
            html.Button(id=ids.INTERNAL_QA_CSV),
            html.Button(id=ids.INTERNAL_QA_XLSX),
            dcc.Download(id=ids.INTERNAL_QA_DOWNLOAD),
            dcc.Dropdown(id=ids.INTERNAL_NOTES_INDICATOR),
            html.Div(id=ids.INTERNAL_NOTES_LIST),
            dcc.Textarea(id=ids.INTERNAL_NOTES_TEXT),
            html.Button(id=ids.INTERNAL_NOTES_SAVE),
            html.P(id=ids.INTERNAL_NOTES_STATUS),
            html.Div(id=ids.INTERNAL_LOG),
        ]
    )


def _section(heading: str, children: list) -> html.Section:
    return html.Section([html.H2(heading), *children], className="panel")


@callback(
    Output(ids.INTERNAL_REPORT, "children"),
    Input(ids.INTERNAL_REPORT_CHOICE, "value"),
    Input(ids.INTERNAL_VERSION, "data"),
)
def show_report(which: str | None, _version: int | None) -> html.Div:
    access.require(*ROLES)
    which = which if which in internal.WHICH else "staged"
    lang = context.lang()
    return parts.report(internal.snapshot(context.curated_dir(), which), which, lang)


@callback(
    Output(ids.INTERNAL_AUDIT, "children"),
    Output(ids.INTERNAL_PUBLISH, "message"),
    Output(ids.INTERNAL_ROLLBACK, "message"),
    Output(ids.INTERNAL_PUBLISH_BUTTON, "disabled"),
    Output(ids.INTERNAL_WARNINGS_LIST, "children"),
    Output(ids.INTERNAL_WARNINGS, "hidden"),
    Input(ids.INTERNAL_VERSION, "data"),
)
def show_audit(_version: int | None) -> tuple:
    access.require("office")
    lang = context.lang()
    snapshots = {w: internal.snapshot(context.curated_dir(), w) for w in internal.WHICH}
    names = {w: s.name if s else None for w, s in snapshots.items()}
    warnings = internal.staged_warnings(context.curated_dir())
    return (
        parts.audit_table(snapshots, lang),
        parts.confirm_publish(lang, names["staged"], names["published"], len(warnings)),
        parts.confirm_rollback(lang, names["published"]),
        names["staged"] is None,  # nothing to publish
        parts.warnings_list(warnings),
        not warnings,
    )


@callback(Output(ids.INTERNAL_LOG, "children"), Input(ids.INTERNAL_VERSION, "data"))
def show_access_log(_version: int | None) -> html.Div:
    """The access log's latest lines (again after a publish or rollback here)."""
    access.require("office")
    entries = access_log.latest(access.users_file(), LOG_LINES)
    return parts.access_log_table(
        [e for e in entries if e.get("instance") in (None, context.instance())], context.lang()
    )


@callback(
    Output(ids.INTERNAL_STATUS, "children"),
    Output(ids.INTERNAL_VERSION, "data"),
    Input(ids.INTERNAL_PUBLISH, "submit_n_clicks"),
    Input(ids.INTERNAL_ROLLBACK, "submit_n_clicks"),
    State(ids.INTERNAL_VERSION, "data"),
    State(ids.INTERNAL_ACCEPT_WARNINGS, "value"),
    prevent_initial_call=True,
)
def publish_or_roll_back(
    _publish: int | None, _rollback: int | None, version: int | None, accept: list | None = None
):
    """Publish the staged snapshot or roll back, as confirmed; log who did it. A staged
    snapshot with build warnings is published only with the box ticked that accepts
    them (else the status says why, as ``imon publish`` does)."""
    user = access.require("office")
    action = {ids.INTERNAL_PUBLISH: "publish", ids.INTERNAL_ROLLBACK: "rollback"}.get(
        dash.ctx.triggered_id
    )
    if action is None:
        raise dash.exceptions.PreventUpdate
    lang, curated = context.lang(), context.curated_dir()
    warnings: list[str] = []
    try:
        if action == "publish":
            accepted = isinstance(accept, list) and "accept" in accept
            warnings = internal.staged_warnings(curated) if accepted else []
            before, now = internal.publish(
                curated, context.keep_snapshots(), accepted, user=user["user"]
            )
        else:
            before, now = internal.rollback(curated)
    except ImonError as exc:
        return t("internal.action_failed", lang, error=str(exc)), dash.no_update
    accepted_warnings = {"accepted_warnings": str(len(warnings))} if warnings else {}
    access.log(
        action,
        user=user["user"],
        role=user["role"],
        snapshot=now,
        before=before,
        **accepted_warnings,
    )
    done = "internal.published_now" if action == "publish" else "internal.rolled_back"
    return t(done, lang, now=now, before=before or "–"), (version or 0) + 1


def _internal_table(which: str, indicator_id: str, ref_date: str, level: str):
    """The unprotected values of the choice (office, internal server: checked first)."""
    user = access.require("office")
    unprotected.check_enabled()
    lang, wh = context.lang(), context.warehouse()
    indicator = catalogue.indicators(wh, lang).get(indicator_id)
    levels = catalogue.levels(wh, lang)
    if indicator is None or level not in levels or which not in internal.WHICH:
        raise dash.exceptions.PreventUpdate
    curated = context.curated_dir()
    snapshot = internal.names(curated).get(which) or "–"
    rows = unprotected.values(curated, which, indicator_id, ref_date, level)
    table = internal_export.InternalTable(
        rows, indicator_id, indicator.title, ref_date, level, snapshot, indicator.decimals
    )
    return user, lang, indicator, levels[level].label, table


@callback(
    Output(ids.INTERNAL_QA_TABLE, "children"),
    Input(ids.INTERNAL_QA_CHOICE, "value"),
    Input(ids.INTERNAL_QA_INDICATOR, "value"),
    Input(ids.INTERNAL_QA_DATE, "value"),
    Input(ids.INTERNAL_QA_LEVEL, "value"),
)
def show_unprotected(which: str, indicator_id: str, ref_date: str, level: str) -> html.Div:
    _user, lang, indicator, level_label, table = _internal_table(
        which, indicator_id, ref_date, level
    )
    caption = t(
        "internal.qa_caption",
        lang,
        title=indicator.title,
        level=level_label,
        date=formatting.format_date(ref_date),
        snapshot=table.snapshot,
    )
    return parts.qa_table(table.rows, caption, indicator.unit, indicator.decimals, lang)


@callback(
    Output(ids.INTERNAL_QA_DOWNLOAD, "data"),
    Input(ids.INTERNAL_QA_CSV, "n_clicks"),
    Input(ids.INTERNAL_QA_XLSX, "n_clicks"),
    State(ids.INTERNAL_QA_CHOICE, "value"),
    State(ids.INTERNAL_QA_INDICATOR, "value"),
    State(ids.INTERNAL_QA_DATE, "value"),
    State(ids.INTERNAL_QA_LEVEL, "value"),
    prevent_initial_call=True,
)
def download_unprotected(
    _csv: int | None, _xlsx: int | None, which: str, indicator_id: str, ref_date: str, level: str
) -> dict:
    """The unprotected values as a marked file; the export is written to the access log."""
    fmt = {ids.INTERNAL_QA_CSV: "csv", ids.INTERNAL_QA_XLSX: "xlsx"}.get(dash.ctx.triggered_id)
    if fmt is None:
        raise dash.exceptions.PreventUpdate
    user, lang, _indicator, _label, table = _internal_table(which, indicator_id, ref_date, level)
    content = internal_export.file_bytes(table, fmt, lang)
    access.log(
        "export_internal",
        user=user["user"],
        role=user["role"],
        snapshot=table.snapshot,
        file=table.filename(fmt),
    )
    return dcc.send_bytes(content, table.filename(fmt))


@callback(
    Output(ids.INTERNAL_NOTES_LIST, "children"),
    Input(ids.INTERNAL_NOTES_INDICATOR, "value"),
    Input(ids.INTERNAL_NOTES_STATUS, "children"),
)
def show_notes(indicator_id: str | None, _status: object) -> html.Div:
    access.require(*ROLES)
    lang = context.lang()
    found = notes.of_indicator(access.users_file(), context.instance(), str(indicator_id))
    return parts.notes_list(found, lang)


@callback(
    Output(ids.INTERNAL_NOTES_STATUS, "children"),
    Output(ids.INTERNAL_NOTES_TEXT, "value"),
    Input(ids.INTERNAL_NOTES_SAVE, "n_clicks"),
    State(ids.INTERNAL_NOTES_INDICATOR, "value"),
    State(ids.INTERNAL_NOTES_TEXT, "value"),
    prevent_initial_call=True,
)
def save_note(_clicks: int | None, indicator_id: str | None, text: str | None) -> tuple:
    """A new note on the chosen indicator, signed with the user's name and role."""
    user = access.require(*ROLES)
    lang = context.lang()
    if indicator_id not in catalogue.indicators(context.warehouse(), lang):
        raise dash.exceptions.PreventUpdate
    try:
        notes.add(
            access.users_file(), context.instance(), indicator_id, user["user"], user["role"],
            str(text or ""),
        )  # fmt: skip
    except ValueError as exc:
        return t("internal.notes_failed", lang, error=str(exc)), dash.no_update
    return t("internal.notes_saved", lang), ""
