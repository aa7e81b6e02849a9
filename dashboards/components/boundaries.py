"""The control of the reader's boundary choice (#18): "wie veröffentlicht" or "auf heutigem
Gebietsstand" (:mod:`dashboards.data.boundaries_choice`), the same on every page; hidden
where the snapshot has one boundary vintage only. Its value goes into the URL as
``boundaries`` like the page's other choices."""

from __future__ import annotations

from dash import html

from dashboards.components import common as components
from dashboards.data import boundaries, compare
from dashboards.data.snapshot import Warehouse
from dashboards.i18n import t


def control(component_id: str, offered: list[str], value: str | None, lang: str) -> html.Div:
    """A labelled dropdown "Gebietsstand" with the ``offered`` choices."""
    options = [{"label": t(f"trends.boundaries_{key}", lang), "value": key} for key in offered]
    label = t("trends.boundaries", lang)
    dropdown = components.control(label, component_id, options, value, lang)
    return html.Div(dropdown, hidden=len(offered) < 2)


def note(text: str | None) -> html.P | None:
    """A note under the charts about the boundaries shown (None: nothing to say)."""
    return html.P(text, className="hint boundaries-note") if text else None


def earlier_date_note(wh: Warehouse, ref_date: str, today: bool, lang: str) -> html.P | None:
    """Under a map on today's boundaries of a date before them: how its values were
    recomputed (None on a date of today's boundaries or as published)."""
    if not today or ref_date >= compare.today_date(wh):
        return None
    vintage = boundaries.newest_vintage(wh)
    return note(t("trends.boundaries_note", lang, vintage=vintage))
