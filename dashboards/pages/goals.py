"""Ziele (``/ziele``): the instance's integration goals and their progress.

Action fields as cards with the number of goals per status; per action field its goals,
per goal a table of its indicators (baseline, latest published value, target, status)
and per indicator a trend chart with baseline and target, with its values as a table.
Everything comes from the published snapshot (:mod:`dashboards.data.goals`); the status
is computed there (:mod:`etl.goals.progress`), never typed in.

Internal notes per goal: with a login (commission or office) each goal shows its notes and
a field for a new one, kept like the notes on indicators (:mod:`dashboards.notes`, under
the key ``goal:<id>``). Without a login the page has no trace of them; no export or report
reads them.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import dash
from dash import ALL, MATCH, Input, Output, State, callback, dcc, html

from dashboards import access, context, formatting, notes
from dashboards.components import common as components
from dashboards.components import internal as internal_parts
from dashboards.data import goals as goals_data
from dashboards.export import render
from dashboards.export.formats import IMAGE_FORMATS
from dashboards.figures import common as figures
from dashboards.figures import goals as goals_figures
from dashboards.i18n import t
from dashboards.pages import register_page
from etl.goals import LABELS, STATUSES, ActionField, Goal
from etl.goals.progress import NOT_ASSESSABLE

register_page(__name__, "/ziele", 4, "goals")

EXPORT = "goal-export"  # pattern id of a chart's export buttons
DOWNLOAD = "goals-download"
NOTE_LIST, NOTE_TEXT, NOTE_SAVE, NOTE_STATUS = (
    "goal-note-list",
    "goal-note-text",
    "goal-note-save",
    "goal-note-status",
)  # pattern ids ({"type": …, "goal": goal id}) of a goal's internal notes
NOTE_ROLES = ("commission", "office")  # who reads and writes them (as on the page Intern)


def note_key(goal_id: str) -> str:
    """The goal's key in the notes file (indicator ids hold no colon)."""
    return f"goal:{goal_id}"


def layout(**_query: str) -> html.Div:
    """Cards, then one section per action field (no parameters)."""
    wh, lang = context.warehouse(), context.lang()
    goals = goals_data.published_goals(wh)
    header = components.page_header(t("goals.heading", lang), t("goals.intro", lang))
    if not goals.action_fields:  # the download stays: Dash checks its callback on every page
        return html.Div(
            [header, html.P(t("goals.none", lang), className="notice"), dcc.Download(id=DOWNLOAD)]
        )
    items = goals_data.assess(wh, goals)
    statuses = goals_data.goal_statuses(items)
    demo = html.P(t("goals.demo", lang), className="notice goal-demo") if goals.demo else None
    return html.Div(
        [
            header,
            demo,
            html.Ul(
                [_card(field, statuses, lang) for field in goals.action_fields],
                className="goal-cards",
                **{"aria-label": t("goals.cards_label", lang)},
            ),
            _method(lang),
            dcc.Loading(dcc.Download(id=DOWNLOAD), type="dot"),
            *[_field_section(field, items, statuses, lang) for field in goals.action_fields],
        ]
    )


def _badge(status: str, lang: str) -> html.Span:
    label = LABELS[lang][status]
    return html.Span(label, className=f"goal-status status-{status}")


def _card(field: ActionField, statuses: dict[str, str], lang: str) -> html.Li:
    counts = Counter(statuses[g.id] for g in field.goals)
    n = len(field.goals)
    return html.Li(
        [
            html.A(getattr(field.title, lang), href=f"#hf-{field.id}", className="goal-card-title"),
            html.P(t("goals.goal_count_one" if n == 1 else "goals.goal_count", lang, n=n)),
            html.Ul(
                [
                    html.Li([html.Span(str(counts[s]), className="goal-count"), _badge(s, lang)])
                    for s in STATUSES
                    if counts[s]
                ],
                className="goal-card-statuses",
            ),
        ],
        className="goal-card",
        id=f"card-{field.id}",
    )


def _method(lang: str) -> html.Details:
    return html.Details(
        [html.Summary(t("goals.method_summary", lang)), html.P(t("goals.method", lang))],
        className="goal-method",
    )


def _field_section(field, items, statuses, lang: str) -> html.Section:
    mine = [i for i in items if i.field.id == field.id]
    return html.Section(
        [
            html.H2(getattr(field.title, lang)),
            *[
                _goal(goal, [i for i in mine if i.goal.id == goal.id], statuses, lang)
                for goal in field.goals
            ],  # fmt: skip
        ],
        id=f"hf-{field.id}",
        className="goal-field",
    )


def _goal(goal: Goal, items: list, statuses: dict[str, str], lang: str) -> html.Article:
    wh = context.warehouse()
    shown = [goals_data.presentation(wh, i.indicator, lang) for i in items]
    description = getattr(goal.description, lang) if goal.description else None
    return html.Article(
        [
            html.H3([getattr(goal.title, lang), " ", _badge(statuses[goal.id], lang)]),
            html.P(description) if description else None,
            _relations(goal, lang),
            _indicator_table(goal, items, shown, lang),
            *[_indicator_chart(item, s, lang) for item, s in zip(items, shown, strict=True)],
            _notes(goal.id, lang),
        ],
        className="goal",
        id=f"ziel-{goal.id}",
    )


def _relations(goal: Goal, lang: str) -> html.P | None:
    """The goals it supports and those supporting it, as links (None without)."""
    goals = goals_data.published_goals(context.warehouse())
    every = {g.id: g for field in goals.action_fields for g in field.goals}
    helped = [every[i] for i in goal.supports if i in every]
    helpers = [g for g in every.values() if goal.id in g.supports]
    parts = []
    for key, found in (("goals.supports", helped), ("goals.supported_by", helpers)):
        if found:
            links = [html.A(getattr(g.title, lang), href=f"#ziel-{g.id}") for g in found]
            joined = [x for link in links for x in (", ", link)][1:]
            parts.append(html.Span([t(key, lang), " ", *joined], className="goal-relation"))
    if not parts:
        return None
    return html.P([x for part in parts for x in (" · ", part)][1:], className="hint")


def _notes(goal_id: str, lang: str) -> html.Details | None:
    """The goal's internal notes and a field for a new one — only for a logged-in user of
    a role that may read them; None (nothing on the page) otherwise."""
    user = access.current_user()
    if user is None or user["role"] not in NOTE_ROLES:
        return None
    found = notes.of_indicator(access.users_file(), context.instance(), note_key(goal_id))
    return html.Details(
        [
            html.Summary(t("goals.notes_heading", lang, n=len(found))),
            html.P(t("goals.notes_hint", lang), className="hint"),
            html.Div(
                _notes_list(found, lang),
                id={"type": NOTE_LIST, "goal": goal_id},
                **{"aria-live": "polite"},
            ),
            html.Label(
                [
                    html.Span(t("internal.notes_text", lang), className="control-label"),
                    dcc.Textarea(
                        id={"type": NOTE_TEXT, "goal": goal_id},
                        maxLength=notes.MAX_LENGTH,
                        className="notes-text",
                    ),
                ]
            ),
            html.Div(
                [
                    html.Button(
                        t("internal.notes_save", lang),
                        id={"type": NOTE_SAVE, "goal": goal_id},
                        className="action-button",
                    ),
                    html.P(
                        id={"type": NOTE_STATUS, "goal": goal_id},
                        role="status",
                        className="action-status",
                    ),
                ],
                className="actions",
            ),
        ],
        className="goal-notes",
        open=bool(found),
    )


def _notes_list(found: list[dict], lang: str) -> html.Div:
    if not found:
        return html.Div(html.P(t("goals.notes_none", lang), className="hint"))
    return internal_parts.notes_list(found, lang)


def _value_at(value: float | None, day: date | None, s: goals_data.Shown, lang: str) -> str:
    if value is None or day is None:
        return "–"
    shown = goals_figures.value_text(value, s, lang)
    text = shown if s.milestone else f"{shown} {s.unit}"
    return t("goals.value_at", lang, value=text, date=formatting.format_date(day.isoformat()))


def _indicator_table(goal: Goal, items: list, shown: list, lang: str) -> html.Table:
    head = ["indicator", "baseline", "latest", "target", "status"]
    rows = []
    for item, s in zip(items, shown, strict=True):
        ind, progress = item.indicator, item.progress
        latest = progress.latest or (None, None)
        target = (
            _value_at(ind.target.value, ind.target.date, s, lang)
            if ind.target
            else t(f"goals.no_target.{ind.direction}", lang)
        )
        cells = [
            html.Th([s.title, html.Br(), html.Small(s.area)] if s.area else s.title, scope="row"),
            html.Td(_value_at(ind.baseline.value, ind.baseline.date, s, lang)),
            html.Td(_value_at(latest[1], latest[0], s, lang)),
            html.Td(target),
            html.Td(
                [_badge(progress.status, lang), html.Br(), html.Small(_detail(progress, lang))]
            ),
        ]
        rows.append(html.Tr(cells))
    return html.Div(
        html.Table(
            [
                html.Caption(t("goals.table_caption", lang, goal=getattr(goal.title, lang))),
                html.Thead(
                    html.Tr([html.Th(t(f"goals.col.{k}", lang), scope="col") for k in head])
                ),
                html.Tbody(rows),
            ],
            className="data-table goal-table",
        ),
        className="table-scroll",
    )


def _percent(rate: float) -> str:
    return f"{formatting.format_signed(rate * 100, 1)} %"


def _detail(progress, lang: str) -> str:
    """One sentence: why not assessable, or the growth behind the status."""
    if progress.status == NOT_ASSESSABLE:
        if lang == "de":
            return progress.reason or ""
        return t("goals.reason.values" if progress.latest is None else "goals.reason.break", lang)
    if progress.method is None:
        return ""
    rate = _percent if progress.relative else lambda v: formatting.format_signed(v, 1)
    key = "goals.detail.rate" if progress.relative else "goals.detail.change"
    if progress.method == "trend":
        return t(f"{key}.trend", lang, growth=rate(progress.growth))
    return t(
        f"{key}.target",
        lang,
        growth=rate(progress.growth),
        required=rate(progress.required),
        ratio=formatting.format_number(progress.ratio * 100, 0),
    )


def _indicator_chart(item, shown: goals_data.Shown, lang: str) -> html.Div:
    figure = goals_figures.goal_trend(item, shown, lang)
    return html.Div(
        [
            _export_menu(item.indicator.id, lang),
            dcc.Graph(
                figure=figure,
                id=f"goal-chart-{item.indicator.id}",
                config=components.graph_config(lang=lang),
                className="goal-chart",
            ),
            html.Details(
                [html.Summary(t("goals.table_summary", lang)), _values_table(item, shown, lang)],
                className="goal-values",
            ),
        ],
        className="panel",
    )


def _values_table(item, shown: goals_data.Shown, lang: str) -> html.Table:
    rows = [
        html.Tr(
            [
                html.Th(formatting.format_date(day.isoformat()), scope="row"),
                html.Td(goals_figures.value_text(value, shown, lang)),
            ]
        )
        for day, value, _flag in item.values
    ]
    return html.Table(
        [
            html.Caption(t("goals.values_caption", lang, title=shown.title, unit=shown.unit)),
            html.Thead(
                html.Tr(
                    [
                        html.Th(t("goals.col.date", lang), scope="col"),
                        html.Th(t("goals.col.value", lang), scope="col"),
                    ]
                )  # fmt: skip
            ),
            html.Tbody(rows),
        ],
        className="data-table",
        id=f"goal-values-{item.indicator.id}",
    )


def _export_menu(indicator_id: str, lang: str) -> html.Div:
    """PNG, SVG and PDF of one goal chart, print-ready (:mod:`dashboards.export.render`)."""
    buttons = [
        html.Button(
            fmt.upper(),
            id={"type": EXPORT, "indicator": indicator_id, "format": fmt},
            className="page-button export-button",
            title=t(f"export.title.{fmt}", lang),
            type="button",
        )
        for fmt in IMAGE_FORMATS
    ]
    return html.Div(
        [html.Span(t("export.label", lang), className="export-label"), *buttons],
        className="export-menu",
        role="group",
        **{"aria-label": t("export.group", lang)},
    )


@callback(
    Output(DOWNLOAD, "data"),
    Input({"type": EXPORT, "indicator": ALL, "format": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def download_chart(_clicks: list) -> dict:
    """The clicked goal chart as a print-ready file."""
    trigger = dash.ctx.triggered_id
    if not trigger or not dash.ctx.triggered[0]["value"]:
        raise dash.exceptions.PreventUpdate
    wh, lang = context.warehouse(), context.lang()
    wanted = trigger if isinstance(trigger, dict) else {}
    found = [
        a
        for a in goals_data.assess(wh, goals_data.published_goals(wh))
        if a.indicator.id == wanted.get("indicator")
    ]
    fmt = wanted.get("format")
    if not found or fmt not in IMAGE_FORMATS:
        raise ValueError(f"unknown goal chart {trigger!r}")
    item = found[0]
    shown = goals_data.presentation(wh, item.indicator, lang)
    with figures.printing():  # the print layout, whatever the screen
        figure = render.print_ready(goals_figures.goal_trend(item, shown, lang))
    stand = item.values[-1][0] if item.values else item.indicator.baseline.date
    chart = render.Chart(figure, render.file_stem(item.indicator.id, "ziel", stand.isoformat()))
    return dcc.send_bytes(render.chart_bytes(chart, fmt), chart.filename(fmt))


@callback(
    Output({"type": NOTE_LIST, "goal": MATCH}, "children"),
    Output({"type": NOTE_STATUS, "goal": MATCH}, "children"),
    Output({"type": NOTE_TEXT, "goal": MATCH}, "value"),
    Input({"type": NOTE_SAVE, "goal": MATCH}, "n_clicks"),
    State({"type": NOTE_TEXT, "goal": MATCH}, "value"),
    prevent_initial_call=True,
)
def save_goal_note(_clicks: int | None, text: str | None) -> tuple:
    """A new internal note on the goal, signed with the user's name and role (401/403
    without a login of a role in :data:`NOTE_ROLES`); a goal the published snapshot does
    not have gets none."""
    user = access.require(*NOTE_ROLES)
    lang = context.lang()
    trigger = dash.ctx.triggered_id
    goal_id = trigger.get("goal") if isinstance(trigger, dict) else None
    goals = goals_data.published_goals(context.warehouse())
    if goal_id not in {g.id for field in goals.action_fields for g in field.goals}:
        raise dash.exceptions.PreventUpdate
    users_file, instance = access.users_file(), context.instance()
    try:
        notes.add(
            users_file, instance, note_key(goal_id), user["user"], user["role"], str(text or "")
        )
    except ValueError as exc:
        return dash.no_update, t("internal.notes_failed", lang, error=str(exc)), dash.no_update
    found = notes.of_indicator(users_file, instance, note_key(goal_id))
    return _notes_list(found, lang), t("internal.notes_saved", lang), ""
