"""Layout pieces of the Vergleich page (``/vergleich``): the legend of the comparison
statuses and the accessible table of the change (rows from :mod:`dashboards.data.compare`).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from dash import html

from dashboards import formatting, labels
from dashboards.components import tables
from dashboards.components.tables import Column
from dashboards.data.catalogue import Indicator
from dashboards.data.compare import (
    BOUNDARY,
    _none,
    change_unit,
    status_counts,
    status_explanation,
    status_label,
)
from dashboards.data.profile import difference_text
from dashboards.i18n import t


# --- layout pieces ------------------------------------------------------------------------
def legend(frame: pd.DataFrame, lang: str) -> html.Div | None:
    """Below the change map: the areas without a comparable change (by reason) and the
    outlined ones (change of a value with a flag), with counts and explanations."""
    parts = []
    missing = frame[frame["status"].isin(("no_value", BOUNDARY))]
    if not missing.empty:
        items = [_legend_item(flag, n, lang) for flag, n in status_counts(missing["flag"])]
        parts.append(html.Div([html.P(t("compare.legend.not_comparable", lang)), html.Ul(items)]))
    outlined = frame[frame["status"] == "flagged"]
    if not outlined.empty:
        items = [_legend_item(flag, n, lang) for flag, n in status_counts(outlined["flag"])]
        parts.append(html.Div([html.P(t("map.flagged_note", lang)), html.Ul(items)]))
    if not parts:
        return None
    return html.Div(parts, className="map-note", role="note", id="compare-legend")


def _legend_item(flag: str, n: int, lang: str) -> html.Li:
    text = t(
        "compare.legend.item",
        lang,
        label=status_label(flag, lang),
        n=n,
        explain=status_explanation(flag, lang),
    )
    return html.Li(html.Span(text), className="legend-item", **{"data-flag": flag})


def _change_row(
    row: dict, indicator: Indicator, lang: str, href: Callable[[str], str] | None = None
) -> dict[str, tables.Cell]:
    note = status_label(row["flag"], lang) if row.get("flag") else ""
    name = tables.Link(row["name"], href(row["area_id"])) if href else row["name"]
    cells = {"name": (name, row["name"])}
    for suffix in ("a", "b"):
        value = _none(row[f"value_{suffix}"])
        text = labels.value_text(value, row[f"flag_{suffix}"], indicator, lang)
        cells[f"value_{suffix}"] = (text, value)
    change = _none(row["change"])
    cells["change"] = (difference_text(change, indicator, lang), change)
    cells["flag"] = (note, note)
    return cells


def change_table(
    table_id: str,
    frame: pd.DataFrame,
    city: pd.DataFrame,
    indicator: Indicator,
    dates: tuple[str, str],
    caption: str,
    state: dict | None,
    lang: str,
    href: Callable[[str], str] | None = None,
) -> html.Div:
    """Areas with both values and the change; the whole city in the footer row.
    ``href``: the area names link to ``href(area_id)`` (their area page)."""
    columns = [
        Column("name", t("table.area", lang)),
        Column("value_a", formatting.format_date(dates[0]), True),
        Column("value_b", formatting.format_date(dates[1]), True),
        Column("change", t("compare.col.change", lang, unit=change_unit(indicator, lang)), True),
        Column("flag", t("table.flag", lang)),
    ]
    rows = [_change_row(r, indicator, lang, href) for r in frame.to_dict("records")]
    footer = [_change_row(r, indicator, lang) for r in city.to_dict("records")]
    notes = _notes(pd.concat([frame, city]), lang)
    return tables.data_table(table_id, caption, columns, rows, state, lang, footer, notes)


def _notes(frame: pd.DataFrame, lang: str) -> html.Div | None:
    """Table notes for the value flags and, if any, the boundary status."""
    used = [*frame["flag_a"], *frame["flag_b"], *frame["flag"].where(frame["flag"] != BOUNDARY)]
    notes = tables.flag_notes(used, lang)
    if BOUNDARY not in set(frame["flag"]):
        return notes
    item = html.Li(
        t(
            "table.note_item",
            lang,
            label=status_label(BOUNDARY, lang),
            explain=status_explanation(BOUNDARY, lang),
        )
    )
    if notes is None:
        return html.Div([html.P(t("table.notes", lang)), html.Ul([item])], className="table-notes")
    notes.children[1].children.append(item)
    return notes
