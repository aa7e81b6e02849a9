"""WSGI entry point: ``gunicorn app:server`` (or ``python app.py`` for a local server).

``imon serve`` is the usual way (gunicorn started for you, without its ``Server``
header); this module is for running gunicorn or another WSGI server yourself.

Environment:
    IMON_PROFILE      instance profile (YAML): curated directory, ``server:`` settings
                      (headers, limits, proxy) and ``legal:`` details of the legal pages
    IMON_CURATED_DIR  without a profile: curated directory with ``current/``
                      (default ``data/curated/musterstadt``)
    IMON_LANG         UI language, ``de`` (default) or ``en``
    IMON_INTERNAL     ``1``: an internal server (as ``imon serve --internal``; with a profile)

With a profile its ``access:`` section applies (login, closed instance, users file) exactly
as under ``imon serve``. Under gunicorn the ``Server: gunicorn`` header is removed as under
``imon serve``; other WSGI servers may add their own.
"""

from __future__ import annotations

import os
from pathlib import Path

from dashboards.app import create_app
from dashboards.serving import hide_gunicorn_banner
from dashboards.users import users_path
from etl.profile import load_profile

hide_gunicorn_banner()
LANG = os.environ.get("IMON_LANG", "de")
PROFILE = os.environ.get("IMON_PROFILE")

if PROFILE:
    profile = load_profile(PROFILE)
    app = create_app(
        {profile.instance: profile.curated_dir},
        lang=LANG,
        settings=profile.server,
        legal_details=profile.legal,
        # the profile's login and roles, as imon serve applies them
        access=profile.access.model_copy(update={"users_file": users_path(profile)}),
        keep_snapshots={profile.instance: profile.keep_snapshots},
        internal=os.environ.get("IMON_INTERNAL") == "1",
    )
else:
    app = create_app(Path(os.environ.get("IMON_CURATED_DIR", "data/curated/musterstadt")), LANG)
server = app.server

if __name__ == "__main__":
    app.run(
        host=os.environ.get("IMON_HOST", "127.0.0.1"),
        port=int(os.environ.get("IMON_PORT", "8050")),
        debug=False,
    )
