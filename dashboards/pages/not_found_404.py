"""Shown for unknown paths (Dash Pages uses the module named ``not_found_404``)."""

from __future__ import annotations

import dash
from dash import dcc, html

from dashboards import context
from dashboards.components import common as components
from dashboards.i18n import t

dash.register_page(__name__, path="/404", title=lambda **_: t("page.not_found", context.lang()))


def layout(**_other: str) -> html.Div:
    """A short explanation and a way back."""
    lang = context.lang()
    return html.Div(
        [
            components.page_header(t("not_found.heading", lang), t("not_found.intro", lang)),
            dcc.Link(t("not_found.back", lang), href=dash.get_relative_path("/")),
        ]
    )
