"""Calling the layout and callbacks of a Dash page the way Dash does: inside a request of
the app that serves it (pages read the warehouse and language from that request)."""

from __future__ import annotations

import sys
from types import ModuleType


def page(name: str) -> ModuleType:
    """The module of a Dash page (loaded by ``create_app``), e.g. ``page("compare")``."""
    return sys.modules[f"pages.{name}"]


def run(app, func, *args, **kwargs):
    """Call a layout or callback inside a request of ``app``."""
    with app.server.test_request_context("/"):
        return func(*args, **kwargs)
