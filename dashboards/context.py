"""Per-request settings: which instance (curated directory) and which UI language.

Pages and callbacks run inside a request of the app that serves them, so they read the
curated directory and UI language through this module instead of module globals. This
keeps several apps (e.g. in tests) independent in one process.

An app serves one or more instances (``create_app({"berlin": dir, ...})``); the first is
the default. The instance and the language are part of the page's URL (``?instance=berlin``,
``?lang=en``), so a copied link reproduces the view:

- a page request carries them in its own query string;
- a callback request (a POST of the page's scripts) carries the page's URL in its
  ``Referer`` header, which the browser keeps up to date as the page rewrites its query
  string (assets/imon.js keeps both parameters when it does);
- without either, the app's defaults apply.

``?snapshot=staged`` (kept like the other two) shows the staged snapshot instead of the
published one, to logged-in users only (:mod:`dashboards.access` grants it).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import flask
from werkzeug.exceptions import Forbidden, NotFound

from dashboards.data import queries, snapshot
from dashboards.i18n import LANGUAGES
from etl.profile import Legal, Profile

INSTANCES_KEY = "IMON_INSTANCES"  # {name: curated directory}, the first is the default
LEGAL_KEY = "IMON_LEGAL"  # {name: etl.profile.Legal}: the office's details per instance
LANG_KEY = "IMON_LANG"  # the default language
KEEP_KEY = "IMON_KEEP"  # {name: keep_snapshots of the profile}: for publish in the browser
KEEP_DEFAULT: int = Profile.model_fields["keep_snapshots"].default
PERSISTENT = ("instance", "lang", "snapshot")  # query parameters kept across pages
STAGED = "staged"  # ?snapshot=staged: the preview of the staged snapshot
PREVIEW_GRANTED = "imon_preview_granted"  # set in flask.g by dashboards.access


def setting(key: str) -> str | None:
    """The value of query parameter ``key`` of this request's page (see module doc)."""
    if not flask.has_request_context():
        return None
    value = flask.request.args.get(key)
    if value is None and flask.request.referrer:
        values = parse_qs(urlsplit(flask.request.referrer).query).get(key)
        value = values[-1] if values else None
    return value


def persistent_query() -> str:
    """``?instance=…&lang=…`` as this request's page chose them (``""`` if neither, an
    unknown value is left out): links to other pages keep the data set and language."""
    known = {"instance": instances(), "lang": LANGUAGES, "snapshot": (STAGED,)}
    kept = {key: setting(key) for key in PERSISTENT}
    query = urlencode({key: value for key, value in kept.items() if value in known[key]})
    return f"?{query}" if query else ""


def instances() -> dict[str, Path]:
    """The instances this app serves: name -> curated directory."""
    return {name: Path(path) for name, path in flask.current_app.config[INSTANCES_KEY].items()}


def instance() -> str:
    """The instance shown by this request (an unknown name falls back to the default)."""
    if "imon_instance" not in flask.g:
        known = instances()
        chosen = setting("instance")
        flask.g.imon_instance = chosen if chosen in known else next(iter(known))
    return flask.g.imon_instance


def legal() -> Legal:
    """The office's details on the legal pages of the instance shown (none: all unset)."""
    return flask.current_app.config[LEGAL_KEY].get(instance()) or Legal()


def curated_dir() -> Path:
    """The curated directory of the instance shown by this request."""
    return instances()[instance()]


def keep_snapshots() -> int:
    """How many published snapshots a publish keeps (the profile's ``keep_snapshots``)."""
    return flask.current_app.config.get(KEEP_KEY, {}).get(instance(), KEEP_DEFAULT)


def lang() -> str:
    """The UI language of this request (``?lang=``, else the app's default)."""
    chosen = setting("lang")
    return chosen if chosen in LANGUAGES else flask.current_app.config[LANG_KEY]


def warehouse() -> queries.Warehouse:
    """The published snapshot, resolved once per request.

    The ``current`` link may be swapped by a build at any time; resolving it once per
    request (kept in ``flask.g``) means one response never mixes two snapshots, and the
    next request sees the new one.
    """
    if "imon_warehouse" not in flask.g:
        flask.g.imon_warehouse = _staged() if preview() else queries.open_warehouse(curated_dir())
    return flask.g.imon_warehouse


def preview() -> bool:
    """This request asks for the staged snapshot (``?snapshot=staged``, page or Referer)."""
    return setting("snapshot") == STAGED


def _staged() -> queries.Warehouse:
    """The staged snapshot, only if dashboards.access granted the preview (403 else)."""
    if not flask.g.get(PREVIEW_GRANTED):
        raise Forbidden("the preview of the staged snapshot needs a login")
    try:
        return snapshot.open_staged(curated_dir())
    except snapshot.WarehouseNotFoundError as exc:
        raise NotFound("there is no staged snapshot to preview") from exc
