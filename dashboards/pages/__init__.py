"""Dash Pages: only ``register_page``, ``layout(**query_params)`` and thin callbacks."""

from __future__ import annotations

import dash

from dashboards import context
from dashboards.i18n import t


def register_page(module: str, path: str, order: int, key: str, login: bool = False) -> None:
    """Register a page of the navigation (Dash imports a page module only if its text
    contains ``register_page``): link text ``nav.<key>``, window title
    ``page.<key>`` (in the request's language), position ``order``. ``login``: for
    logged-in users only (in the menu, and :mod:`dashboards.access` refuses it to others)."""
    dash.register_page(
        module,
        path=path,
        order=order,
        name=t(f"nav.{key}"),
        nav_key=f"nav.{key}",
        title=lambda **_: t(f"page.{key}", context.lang()),
        login_only=login,
    )
