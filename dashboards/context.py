"""Per-request access to the settings ``create_app`` stored on the Flask server.

Pages and callbacks run inside a request of the app that serves them, so they read the
curated directory and UI language from ``flask.current_app.config`` instead of module
globals. This keeps several apps (e.g. in tests) independent in one process.
"""

from __future__ import annotations

from pathlib import Path

import flask

from dashboards import queries

CURATED_DIR_KEY = "IMON_CURATED_DIR"
LANG_KEY = "IMON_LANG"


def curated_dir() -> Path:
    """The curated directory of the app serving the current request."""
    return Path(flask.current_app.config[CURATED_DIR_KEY])


def lang() -> str:
    """The UI language of the app serving the current request."""
    return flask.current_app.config[LANG_KEY]


def warehouse() -> queries.Warehouse:
    """The published snapshot, resolved once per request.

    The ``current`` link may be swapped by a build at any time; resolving it once per
    request (kept in ``flask.g``) means one response never mixes two snapshots, and the
    next request sees the new one.
    """
    if "imon_warehouse" not in flask.g:
        flask.g.imon_warehouse = queries.open_warehouse(curated_dir())
    return flask.g.imon_warehouse
