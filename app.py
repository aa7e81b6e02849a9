"""WSGI entry point: ``gunicorn app:server`` (or ``python app.py`` for a local server).

Environment:
    IMON_CURATED_DIR  curated directory with ``current/warehouse.duckdb``
                      (default ``data/curated/musterstadt``)
    IMON_LANG         UI language, ``de`` (default) or ``en``
"""

from __future__ import annotations

import os
from pathlib import Path

from dashboards.app import create_app

CURATED_DIR = Path(os.environ.get("IMON_CURATED_DIR", "data/curated/musterstadt"))

app = create_app(CURATED_DIR, lang=os.environ.get("IMON_LANG", "de"))
server = app.server

if __name__ == "__main__":
    app.run(
        host=os.environ.get("IMON_HOST", "127.0.0.1"),
        port=int(os.environ.get("IMON_PORT", "8050")),
        debug=False,
    )
