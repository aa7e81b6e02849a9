"""The legal pages: Impressum (``/impressum``), Datenschutzerklärung (``/datenschutz``) and
Erklärung zur Barrierefreiheit (``/barrierefreiheit``), linked from every page's footer.

Their text is :mod:`dashboards.legal` (templates filled from the profile's ``legal:``
section of the instance shown); fields the profile lacks are named in a notice on top.
"""

from __future__ import annotations

from functools import partial

import dash
from dash import dcc, html

from dashboards import context, ids, legal
from dashboards.components import common as components
from dashboards.i18n import t


def layout(page: str, **_other: str) -> html.Div:
    """The legal page ``page`` in the request's language."""
    lang = context.lang()
    text = legal.page_text(page, context.legal(), lang)
    missing = ", ".join(f"legal.{name}" for name in text.missing)
    notice = t("legal.incomplete", lang, fields=missing) if missing else None
    return html.Div(
        [
            components.notices([notice]),
            dcc.Markdown(text.markdown, id=ids.LEGAL_TEXT, className="legal-text"),
        ]
    )


def _title(page: str) -> str:
    return t(f"page.{page}", context.lang())


for _page, _path in legal.PAGES.items():
    dash.register_page(
        f"{__name__}.{_page}",
        path=_path,
        name=t(f"legal.{_page}"),
        title=partial(_title, _page),
        layout=partial(layout, _page),
    )
