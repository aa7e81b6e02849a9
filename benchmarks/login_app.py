"""WSGI entry of the latency benchmark's login case: the curated folder IMON_CURATED_DIR as
a closed instance (every request needs a login) with the users of IMON_USERS_FILE —
``gunicorn benchmarks.login_app:server``, as ``imon serve`` serves a profile with
``access: {public: false}``."""

from __future__ import annotations

import os
from pathlib import Path

from dashboards.app import create_app
from etl.profile import Access

server = create_app(
    Path(os.environ["IMON_CURATED_DIR"]),
    access=Access(public=False, users_file=Path(os.environ["IMON_USERS_FILE"])),
).server
