"""Accessible, sortable HTML tables: the table alternative to every chart.

A table is a real ``<table>`` with a caption and header buttons. Sorting happens on the
server: header buttons (pattern-matching ids) update a per-table state store through one
generic callback (:func:`register_callbacks`), and the page callback that builds the
table re-renders it in that order. Texts are preformatted (German numbers); sorting uses
the raw values, with empty values last.

Long tables are paged (:data:`PAGE_SIZE` rows; pager buttons update the same state store):
Dash's renderer slows down more than linearly with the number of components (a 500-row
table took about 25 s to appear in Chromium), and Berlin has 542 planning areas. Sorting
always covers all rows. Flags in a table are explained in notes below it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import dash
import pandas as pd
from dash import MATCH, Input, Output, State, dcc, html

from dashboards import flags, formatting, ids, labels
from dashboards.catalogue import Indicator
from dashboards.i18n import t

Cell = tuple[str, object]  # (display text, sort key)
PAGE_SIZE = 100


@dataclass(frozen=True)
class Column:
    """A table column: key in the row dicts, header label, numeric (right-aligned)."""

    key: str
    label: str
    numeric: bool = False


def sort_store(table_id: str, column: str | None = None, desc: bool = False) -> dcc.Store:
    """The store holding the sort state of ``table_id`` (place it outside the table)."""
    return dcc.Store(id=ids.sort_state(table_id), data={"col": column, "desc": desc})


def table_section(heading: str, table_id: str, controls: object = None) -> html.Section:
    """A panel with heading, optional controls, the sort store and the table's container."""
    children = [html.H2(heading), controls, sort_store(table_id), html.Div(id=table_id)]
    return html.Section([c for c in children if c is not None], className="panel")


def next_sort_state(state: dict | None, column: str) -> dict:
    """Clicking a header: same column toggles the direction, a new column sorts ascending."""
    state = state or {}
    if state.get("col") == column:
        return {"col": column, "desc": not state.get("desc", False)}
    return {"col": column, "desc": False}


def next_page_state(state: dict | None, step: int) -> dict:
    """A pager click: the page moves by ``step`` (clamped to the table when rendered)."""
    state = dict(state or {})
    state["page"] = max(0, int(state.get("page", 0)) + step)
    return state


def _page_of(rows: list, state: dict | None) -> tuple[list, int, int]:
    """The rows of the current page, the page index (clamped) and the number of pages."""
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(0, int((state or {}).get("page") or 0)), pages - 1)
    return rows[page * PAGE_SIZE : (page + 1) * PAGE_SIZE], page, pages


def _pager(table_id: str, page: int, pages: int, total: int, lang: str) -> html.Nav:
    first, last = page * PAGE_SIZE + 1, min(total, (page + 1) * PAGE_SIZE)
    return html.Nav(
        [
            html.Button(
                t("table.previous", lang),
                id=ids.page_button(table_id, -1),
                className="page-button",
                disabled=page == 0,
            ),
            html.Span(
                t("table.page", lang, first=first, last=last, total=total),
                className="page-info",
                **{"aria-live": "polite"},
            ),
            html.Button(
                t("table.next", lang),
                id=ids.page_button(table_id, 1),
                className="page-button",
                disabled=page >= pages - 1,
            ),
        ],
        className="pager",
        **{"aria-label": t("table.pages", lang)},
    )


def flag_notes(flag_values: Sequence[object], lang: str) -> html.Div | None:
    """Notes below a table explaining every flag that occurs in it (None if none)."""
    present = sorted({f for f in flag_values if flags.is_flag(f)}, key=flags.order)
    if not present:
        return None
    items = [
        html.Li(
            t(
                "table.note_item",
                lang,
                label=labels.flag_label(f, lang),
                explain=flags.explanation(f, lang),
            )
        )
        for f in present
    ]
    return html.Div([html.P(t("table.notes", lang)), html.Ul(items)], className="table-notes")


def _sort_key(value: object) -> tuple:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return (1, 0, "")
    if isinstance(value, int | float):
        return (0, float(value), "")
    return (0, 0, str(value).casefold())


def sort_rows(rows: list[dict[str, Cell]], state: dict | None) -> list[dict[str, Cell]]:
    """Rows in the order of ``state``; empty values last in both directions."""
    column = (state or {}).get("col")
    if not column or not rows or column not in rows[0]:
        return rows
    filled = [r for r in rows if _sort_key(r[column][1])[0] == 0]
    empty = [r for r in rows if _sort_key(r[column][1])[0] == 1]
    filled.sort(key=lambda r: _sort_key(r[column][1]), reverse=bool(state.get("desc")))
    return filled + empty


def _header(table_id: str, column: Column, state: dict | None, lang: str) -> html.Th:
    active = (state or {}).get("col") == column.key
    desc = bool((state or {}).get("desc"))
    aria = ("descending" if desc else "ascending") if active else "none"
    arrow = ("▼" if desc else "▲") if active else "↕"
    button = html.Button(
        [column.label, html.Span(arrow, className="sort-arrow", **{"aria-hidden": "true"})],
        id=ids.sort_button(table_id, column.key),
        className="sort-button",
        title=t("table.sort", lang, column=column.label),
    )
    return html.Th(
        button, scope="col", className="num" if column.numeric else None, **{"aria-sort": aria}
    )


def _row(columns: Sequence[Column], row: dict[str, Cell], header_first: bool) -> html.Tr:
    cells = []
    for i, column in enumerate(columns):
        text = row[column.key][0]
        class_name = "num" if column.numeric else None
        if i == 0 and header_first:
            cells.append(html.Th(text, scope="row", className=class_name))
        else:
            cells.append(html.Td(text, className=class_name))
    return html.Tr(cells)


def data_table(
    table_id: str,
    caption: str,
    columns: Sequence[Column],
    rows: list[dict[str, Cell]],
    state: dict | None,
    lang: str,
    footer_rows: Sequence[dict[str, Cell]] = (),
    notes: html.Div | None = None,
) -> html.Div:
    """A sortable, paged table; ``footer_rows`` (e.g. the whole city) stay below the body
    on every page; ``notes`` (e.g. :func:`flag_notes`) follow the table."""
    if not rows and not footer_rows:
        return html.P(t("table.empty", lang), className="table-empty")
    shown, page, pages = _page_of(sort_rows(rows, state), state)
    body = [_row(columns, row, True) for row in shown]
    table = [
        html.Caption(caption),
        html.Thead(html.Tr([_header(table_id, c, state, lang) for c in columns])),
        html.Tbody(body),
    ]
    if footer_rows:
        table.append(html.Tfoot([_row(columns, row, True) for row in footer_rows]))
    children = [
        html.Div(
            html.Table(table, className="data-table", id=f"{table_id}-table"),
            className="table-scroll",
        ),
    ]
    if pages > 1:
        children.append(_pager(table_id, page, pages, len(rows), lang))
    return html.Div([*children, notes] if notes is not None else children)


def register_callbacks(app: dash.Dash) -> None:
    """One generic callback for all tables: header click → new sort state (first page);
    pager click → next or previous page. A clientside one keeps the keyboard focus on the
    button pressed while the table is redrawn."""

    @app.callback(
        Output(ids.sort_state(MATCH), "data"),
        Input({"type": ids.SORT_BUTTON, "table": MATCH, "col": dash.ALL}, "n_clicks"),
        Input({"type": ids.PAGE_BUTTON, "table": MATCH, "step": dash.ALL}, "n_clicks"),
        State(ids.sort_state(MATCH), "data"),
        prevent_initial_call=True,
    )
    def _sort(_sorts: list, _pages: list, state: dict | None) -> dict:
        trigger = dash.ctx.triggered_id
        if not trigger or not dash.ctx.triggered[0]["value"]:
            raise dash.exceptions.PreventUpdate
        if trigger["type"] == ids.PAGE_BUTTON:
            return next_page_state(state, int(trigger["step"]))
        return next_sort_state(state, trigger["col"])

    app.clientside_callback(  # the redrawn table gives the focus back (assets/keyboard.js)
        dash.ClientsideFunction(namespace="keyboard", function_name="keepTableFocus"),
        Output(ids.sort_state(MATCH), "data", allow_duplicate=True),
        Input({"type": ids.SORT_BUTTON, "table": MATCH, "col": dash.ALL}, "n_clicks"),
        Input({"type": ids.PAGE_BUTTON, "table": MATCH, "step": dash.ALL}, "n_clicks"),
        prevent_initial_call=True,
    )


# --- table builders ----------------------------------------------------------------------
def _value_cells(row: dict, indicator: Indicator, lang: str) -> dict[str, Cell]:
    numerator, denominator = labels.disclosed_counts(
        row["numerator"], row["denominator"], row["flag"]
    )
    value = row["value"]
    return {
        "value": (labels.value_text(value, None, indicator, lang), value),
        "numerator": (formatting.format_count(numerator), numerator),
        "denominator": (formatting.format_count(denominator), denominator),
        "flag": (labels.flag_label(row["flag"], lang), labels.flag_label(row["flag"], lang)),
    }


def value_columns(indicator: Indicator, lang: str) -> list[Column]:
    """Value (with unit), published numerator and denominator, note."""
    columns = [Column("value", t("table.value", lang, unit=indicator.unit_label), True)]
    names = labels.count_labels(indicator, lang)
    if names is not None:
        columns += [Column("numerator", names[0], True), Column("denominator", names[1], True)]
    return [*columns, Column("flag", t("table.flag", lang))]


def area_table(
    table_id: str,
    values: pd.DataFrame,
    indicator: Indicator,
    caption: str,
    state: dict | None,
    lang: str,
) -> html.Div:
    """Areas of one level on one date: name, value, numerator, denominator, note."""
    columns = [Column("name", t("table.area", lang)), *value_columns(indicator, lang)]
    rows = [
        {"name": (r["name"], r["name"]), **_value_cells(r, indicator, lang)}
        for r in values.to_dict("records")
    ]
    notes = flag_notes(values["flag"].tolist(), lang)
    return data_table(table_id, caption, columns, rows, state, lang, notes=notes)


def series_table(
    table_id: str,
    frame: pd.DataFrame,
    indicator: Indicator,
    caption: str,
    state: dict | None,
    lang: str,
) -> html.Div:
    """A time series in long form: series label, date, (units,) value, counts, note."""
    columns = [Column("label", t("table.series", lang)), Column("date", t("table.date", lang))]
    if indicator.is_segregation:
        columns.append(Column("n_units", t("table.n_units", lang), True))
    columns += value_columns(indicator, lang)
    rows = [
        {
            "label": (r["label"], r["label"]),
            "date": (formatting.format_date(r["ref_date"]), r["ref_date"]),
            "n_units": (formatting.format_count(r["n_units"]), r["n_units"]),
            **_value_cells(r, indicator, lang),
        }
        for r in frame.to_dict("records")
    ]
    notes = flag_notes(frame["flag"].tolist(), lang)
    return data_table(table_id, caption, columns, rows, state, lang, notes=notes)
