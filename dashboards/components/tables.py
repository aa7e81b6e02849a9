"""Accessible, sortable HTML tables: the table alternative to every chart.

A table is a real ``<table>`` with a caption and header buttons. Sorting happens on the
server: each header and pager button carries the state it asks for (``data-state``), a
click puts it into the table's state store (``assets/keyboard.js``, ``set_props``), and
the page callback that builds the table re-renders it in that order. Texts are
preformatted (German numbers); sorting uses the raw values, with empty values last.

The table is one ``dcc.Markdown`` holding escaped HTML, not a tree of Dash components:
Dash's renderer slows down more than linearly with the number of components (a 100-row
table of ``html.Td`` took 1.3 s to appear on the Berlin map page, and blocked the map
meanwhile; as HTML it takes about 50 ms). Long tables are still paged (:data:`PAGE_SIZE`
rows); sorting always covers all rows. Flags in a table are explained in notes below it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

import pandas as pd
from dash import dcc, html

from dashboards import flags, formatting, ids, labels
from dashboards.data.breaks import Break
from dashboards.data.catalogue import Indicator
from dashboards.i18n import t


@dataclass(frozen=True)
class Link:
    """A cell linking to another view of the dashboard."""

    text: str
    href: str


@dataclass(frozen=True)
class Noted:
    """A cell with a second line in small print (e.g. the unit below a title)."""

    text: str
    note: str


Cell = tuple[str | Link | Noted, object]  # (what is shown, sort key)
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


def _tag(name: str, content: str = "", **attributes: object) -> str:
    """``<name attributes>content</name>``; attribute values escaped, ``None`` and
    ``False`` left out, ``True`` as ``key="key"`` (the markup is also well-formed XML).
    ``content`` is HTML already."""
    parts = [name]
    for key, value in attributes.items():
        if value is None or value is False:
            continue
        key = key.rstrip("_").replace("_", "-")
        parts.append(f'{key}="{escape(key if value is True else str(value))}"')
    return f"<{' '.join(parts)}>{content}</{name}>"


def _button(table_id: str, key: str, state: dict, content: str, **attributes: object) -> str:
    """A table button: a click stores ``state`` for ``table_id`` (assets/keyboard.js);
    ``key`` names the button across redraws (the focus returns to it)."""
    return _tag(
        "button",
        content,
        type="button",
        data_table=table_id,
        data_key=key,
        data_state=json.dumps(state, separators=(",", ":")),
        **attributes,
    )


def _pager(table_id: str, state: dict | None, page: int, pages: int, total: int, lang: str) -> str:
    first, last = page * PAGE_SIZE + 1, min(total, (page + 1) * PAGE_SIZE)
    here = {**(state or {}), "page": page}
    return _tag(
        "nav",
        _button(
            table_id,
            "page:-1",
            next_page_state(here, -1),
            escape(t("table.previous", lang)),
            class_="page-button",
            disabled=page == 0,
        )
        + _tag(
            "span",
            escape(t("table.page", lang, first=first, last=last, total=total)),
            class_="page-info",
            aria_live="polite",
        )
        + _button(
            table_id,
            "page:1",
            next_page_state(here, 1),
            escape(t("table.next", lang)),
            class_="page-button",
            disabled=page >= pages - 1,
        ),
        class_="pager",
        aria_label=t("table.pages", lang),
    )


def with_break_notes(notes: html.Div | None, breaks: Sequence[Break], lang: str) -> html.Div | None:
    """``notes`` followed by one paragraph per series break (class ``break-note``)."""
    texts = labels.break_notes(breaks, lang)
    if not texts:
        return notes
    paragraphs = [html.P(text, className="break-note") for text in texts]
    return html.Div([*([notes] if notes is not None else []), *paragraphs])


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


def _header(table_id: str, column: Column, state: dict | None, lang: str) -> str:
    active = (state or {}).get("col") == column.key
    desc = bool((state or {}).get("desc"))
    aria = ("descending" if desc else "ascending") if active else "none"
    arrow = ("▼" if desc else "▲") if active else "↕"
    button = _button(
        table_id,
        f"sort:{column.key}",
        next_sort_state(state, column.key),
        escape(column.label) + _tag("span", arrow, class_="sort-arrow", aria_hidden="true"),
        class_="sort-button",
        title=t("table.sort", lang, column=column.label),
    )
    return _tag("th", button, scope="col", class_="num" if column.numeric else None, aria_sort=aria)


def _cell(display: str | Link | Noted) -> str:
    if isinstance(display, Link):
        return _tag("a", escape(display.text), href=display.href)
    if isinstance(display, Noted):
        note = _tag("span", escape(display.note), class_="unit-note")
        return f"{escape(display.text)}<br/>{note}"
    if isinstance(display, str | int | float):
        return escape(str(display))
    raise TypeError(f"a table cell shows text, a Link or a Noted, not {type(display).__name__}")


def _row(columns: Sequence[Column], row: dict[str, Cell], header_first: bool) -> str:
    cells = []
    for i, column in enumerate(columns):
        text = _cell(row[column.key][0])
        class_name = "num" if column.numeric else None
        if i == 0 and header_first:
            cells.append(_tag("th", text, scope="row", class_=class_name))
        else:
            cells.append(_tag("td", text, class_=class_name))
    return _tag("tr", "".join(cells))


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
    parts = [
        _tag("caption", escape(caption)),
        _tag("thead", _tag("tr", "".join(_header(table_id, c, state, lang) for c in columns))),
        _tag("tbody", "".join(_row(columns, row, True) for row in shown)),
    ]
    if footer_rows:
        parts.append(_tag("tfoot", "".join(_row(columns, row, True) for row in footer_rows)))
    markup = _tag(
        "div",
        _tag("table", "".join(parts), class_="data-table", id=f"{table_id}-table"),
        class_="table-scroll",
    )
    if pages > 1:
        markup += _pager(table_id, state, page, pages, len(rows), lang)
    table = dcc.Markdown(
        markup, dangerously_allow_html=True, dedent=False, className="table-markup"
    )
    return html.Div([table, notes] if notes is not None else [table])


# --- table builders ----------------------------------------------------------------------
def _value_cells(row: dict, indicator: Indicator, lang: str) -> dict[str, Cell]:
    numerator, denominator = row["numerator"], row["denominator"]
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
    href: Callable[[str], str] | None = None,
) -> html.Div:
    """Areas of one level on one date: name, value, numerator, denominator, note.
    ``href``: the area names link to ``href(area_id)`` (the map's areas to their page)."""
    columns = [Column("name", t("table.area", lang)), *value_columns(indicator, lang)]
    rows = [
        {
            "name": (Link(r["name"], href(r["area_id"])) if href else r["name"], r["name"]),
            **_value_cells(r, indicator, lang),
        }
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
    breaks: Sequence[Break] = (),
) -> html.Div:
    """A time series in long form: series label, date, (units,) value, counts, note; the
    ``breaks`` (:func:`dashboards.data.breaks.chart_breaks`) as footnotes."""
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
    notes = with_break_notes(flag_notes(frame["flag"].tolist(), lang), breaks, lang)
    return data_table(table_id, caption, columns, rows, state, lang, notes=notes)
