"""Login, roles and closed instances: enforced for every request, not only in the menu.

:func:`protect` is called by ``create_app`` next to :func:`dashboards.security.secure`.
For each instance it gets the profile's ``access:`` section (:class:`etl.profile.Access`,
its ``users_file`` resolved) and:

* **closed instance** (``public: false``): every request of that instance — pages,
  ``_dash-layout``, ``_dash-dependencies``, callbacks (downloads are callbacks too) —
  needs a logged-in user of the instance. A page request without one is redirected to
  the login page, anything else gets ``401`` with no data. The instance is the one the
  request will read (:func:`dashboards.context.instance`, from ``?instance=`` or the
  ``Referer``): the check and the read resolve it once, in the same way, so no
  ``?instance=``/``Referer`` combination reads an instance the check did not judge.
  Open: the login and logout routes, Dash's scripts and ``/assets/``; the legal pages
  (Impressum, Datenschutz, Barrierefreiheit) as plain HTML without Dash.
* **login** (``/anmelden``): a plain HTML form (no script; the CSP stays as it is) with a
  CSRF token kept in the session; passwords checked with argon2 (:mod:`dashboards.users`,
  an unknown name costs the same), a failed attempt waits :data:`FAILURE_DELAY_S`, and
  after :data:`MAX_FAILURES` failures from one address in :data:`LOCKOUT_S` seconds the
  address gets 429 until the oldest failure is that old.
* **requests from other sites**: with a login, a POST that a browser marks as coming
  from another site (``Sec-Fetch-Site`` other than ``same-origin``/``none``; older
  browsers: an ``Origin`` other than the server's own) gets 403 before anything runs —
  the login and logout forms carry their own token as well, and callbacks (publish,
  rollback, notes) are JSON, which no cross-site form can send. Clients that are not
  browsers send neither header and hold no user's cookie.
* **session**: Flask's signed cookie ``imon_session`` (HttpOnly, SameSite=Lax, Secure
  when the request came over HTTPS, directly or through a trusted proxy). It holds, per
  instance, the user, role, a fingerprint of the password hash and the time of the last
  request: after ``session_minutes`` without a request, or once the user is removed or
  the password changed, the login is gone. The key: ``IMON_SECRET_KEY`` or a random key
  stored with mode 0600 next to the first users file (:data:`SECRET_FILE`), shared by
  all workers.

**Preview** (``?snapshot=staged``, kept in every link like ``?instance=``): a logged-in
user of the instance sees the staged snapshot (built, not yet published; its public file
only, :func:`dashboards.data.snapshot.open_staged`) under a banner; anyone else gets 403
for every request that asks for it.

An app whose instances are all public and have no users file sets no cookie and has no
login at all (``make demo``).
"""

from __future__ import annotations

import hmac
import os
import secrets
import tempfile
import threading
import time
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import dash
import flask
from dash import html
from flask.sessions import SecureCookieSessionInterface
from markdown_it import MarkdownIt
from markupsafe import Markup
from werkzeug.exceptions import BadRequest, Forbidden, NotFound, Unauthorized

from dashboards import access_log, context, legal, users
from dashboards.i18n import t
from etl.errors import ImonError
from etl.profile import Access

ACCESS_KEY = "IMON_ACCESS"  # {instance: etl.profile.Access}, users_file resolved
ENABLED_KEY = "IMON_LOGIN"  # True when the app has a login
PREFIX_KEY = "IMON_PREFIX"  # the public path of the app (server.path_prefix)
WARM_UP = "imon.warm_up"  # WSGI environ key of create_app's own start-up request
SESSION_KEY = "imon_auth"  # {instance: {user, role, fp, seen}}
CSRF_KEY = "imon_csrf"
LOGIN_PATH = "/anmelden"
LOGOUT_PATH = "/abmelden"
OPEN_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_favicon.ico")
SECRET_FILE = "secret_key"
SECRET_ENV = "IMON_SECRET_KEY"
FAILURE_DELAY_S = 1.0
MAX_FAILURES = 5  # failed logins from one address (per worker) ...
LOCKOUT_S = 300  # ... within this time: 429 until the oldest is this old
_LEGAL_PATHS = {path: page for page, path in legal.PAGES.items()}
clock = time.time  # tests replace it


class _SessionInterface(SecureCookieSessionInterface):
    """The session cookie is ``Secure`` whenever the request came over HTTPS (also as
    told by a trusted proxy's ``X-Forwarded-Proto``)."""

    def get_cookie_secure(self, app: flask.Flask) -> bool:
        return flask.request.is_secure or bool(app.config["SESSION_COOKIE_SECURE"])


def protect(app: dash.Dash, access: Mapping[str, Access]) -> None:
    """Install the login and the check of every request (see module doc)."""
    server = app.server
    server.config[ACCESS_KEY] = dict(access)
    with_login = [a for a in access.values() if not a.public or _has_users(a)]
    server.config[ENABLED_KEY] = bool(with_login)
    server.config[PREFIX_KEY] = app.config.requests_pathname_prefix
    server.before_request(_check)
    server.after_request(_no_store)
    if not with_login:
        return
    server.secret_key = secret_key(Path(with_login[0].users_file).parent)
    server.session_interface = _SessionInterface()
    server.config.update(
        SESSION_COOKIE_NAME="imon_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    server.add_url_rule(LOGIN_PATH, "imon_login", _login, methods=["GET", "POST"])
    server.add_url_rule(LOGOUT_PATH, "imon_logout", _logout, methods=["POST"])


def secret_key(folder: Path) -> str:
    """``IMON_SECRET_KEY``, else the key in ``folder/secret_key`` (made once, mode 0600;
    several workers starting at once all read the one that was linked first)."""
    given = os.environ.get(SECRET_ENV)
    if given:
        if len(given) < 32:
            raise ImonError(f"{SECRET_ENV} needs at least 32 characters")
        return given
    path = folder / SECRET_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".secret-", dir=folder)  # mode 0600
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    if path.stat().st_mode & 0o077:
        raise ImonError(f"{path}: readable by others; chmod 600 {path}")
    return path.read_text(encoding="ascii").strip()


def current_user(instance: str | None = None) -> dict[str, Any] | None:
    """``{user, role}`` logged in for ``instance`` (default: this request's), or None;
    an expired, removed or re-passworded login is dropped from the session here."""
    config = flask.current_app.config
    if not config.get(ENABLED_KEY) or not flask.has_request_context():
        return None
    name = context.instance() if instance is None else instance
    entry = flask.session.get(SESSION_KEY, {}).get(name)
    if not entry:
        return None
    access: Access = config[ACCESS_KEY][name]
    user = users.load(Path(access.users_file)).get(entry.get("user"))
    now = clock()
    if (
        user is None
        or not hmac.compare_digest(users.fingerprint(user), str(entry.get("fp")))
        or now - float(entry.get("seen", 0)) > access.session_minutes * 60
    ):
        _forget(name)
        return None
    if now - entry["seen"] >= 1:
        _remember(name, {**entry, "seen": now})
    return {"user": user.name, "role": user.role}


def require(*roles: str) -> dict[str, Any]:
    """The logged-in user of this request's instance, if their role is one of ``roles``:
    401 without a login, 403 with another role. Callbacks of the internal page call it
    before they read or change anything."""
    user = current_user()
    if user is None:
        raise Unauthorized("login required")
    if user["role"] not in roles:
        raise Forbidden("this role may not see or do this")
    return user


def login_only(path: str) -> bool:
    """A page for logged-in users only (registered with ``login=True``, e.g. /intern)."""
    return any(p.get("login_only") and p.get("path") == path for p in dash.page_registry.values())


def may_see(instance: str) -> bool:
    access = flask.current_app.config[ACCESS_KEY].get(instance)
    return access is None or access.public or current_user(instance) is not None


def user_bar(lang: str) -> html.Div | None:
    """Who is logged in and the logout button (a POST form with the CSRF token: Dash has
    no hidden input, so the button carries it), or None."""
    user = current_user()
    if user is None:
        return None
    role = t(f"role.{user['role']}", lang)
    return html.Div(
        [
            html.Span(t("access.signed_in", lang, user=user["user"], role=role), id="access-user"),
            html.Form(
                html.Button(  # the submitting button sends its name and value: the token
                    t("access.logout", lang),
                    type="submit",
                    name="csrf",
                    value=_csrf_token(),
                    id="access-logout",
                ),
                method="POST",
                action=_path(LOGOUT_PATH) + context.persistent_query(),
                className="access-logout",
            ),
        ],
        className="access-bar",
    )


# --- the check of every request -------------------------------------------------------
def _check() -> flask.Response | None:
    request = flask.request
    path = request.path
    if request.method == "POST" and flask.current_app.config[ENABLED_KEY] and _cross_site():
        raise Forbidden("requests from other sites are refused")
    if request.environ.get(WARM_UP) or path in (LOGIN_PATH, LOGOUT_PATH):
        return None
    if path.startswith(OPEN_PREFIXES):
        return None
    access = flask.current_app.config[ACCESS_KEY].get(context.instance())
    if context.preview() or (access and not access.public):
        flask.g.imon_private = True  # no shared cache may keep the answer
    if context.preview():  # the staged snapshot: logged-in users of the instance only
        user = current_user()
        if user is None or user["role"] not in users.ROLES:
            raise Forbidden("the preview of the staged snapshot needs a login")
        flask.g.setdefault(context.PREVIEW_GRANTED, True)
        return None
    internal = login_only(path) and current_user() is None
    if internal and not (access and _has_users(access)):
        raise NotFound()  # nobody can log in to this instance: it has no internal page
    if may_see(context.instance()) and not internal:
        return None
    page = _LEGAL_PATHS.get(path)
    if page and request.method == "GET":  # Impressum & Co. stay readable, as plain HTML
        return _legal_page(page, context.lang())
    if request.method == "GET" and not path.startswith("/_"):
        target = path + (f"?{request.query_string.decode()}" if request.query_string else "")
        return flask.redirect(_login_url(next_path=target), code=303)
    raise Unauthorized("login required")


def _no_store(response: flask.Response) -> flask.Response:
    """Answers that need a login, and the login form (its token), are never cached."""
    if flask.g.get("imon_private") or flask.request.path == LOGIN_PATH:
        response.headers["Cache-Control"] = "no-store"
    return response


def _login_url(next_path: str | None = None) -> str:
    query = {k: v for k in context.PERSISTENT if (v := context.setting(k))}
    if next_path:
        query["next"] = next_path
    return _path(LOGIN_PATH) + (f"?{urlencode(query)}" if query else "")


# --- login and logout -------------------------------------------------------------------
def _login() -> flask.Response | tuple[str, int]:
    request, lang, name = flask.request, context.lang(), context.instance()
    if request.method == "GET":
        return _login_page(lang, None, 200)
    _check_csrf()
    if _failures.too_many(request.remote_addr or ""):
        log("login_locked", user=request.form.get("user", "")[:64], role=None)
        return _login_page(lang, t("login.too_many", lang, minutes=LOCKOUT_S // 60), 429)
    access: Access = flask.current_app.config[ACCESS_KEY][name]
    user = users.verify(
        Path(access.users_file), request.form.get("user", ""), request.form.get("password", "")
    )
    if user is None:
        _failures.add(request.remote_addr or "")
        log("login_failed", user=request.form.get("user", "")[:64], role=None)
        time.sleep(FAILURE_DELAY_S)
        return _login_page(lang, t("login.failed", lang), 401)
    _remember(name, {"user": user.name, "role": user.role, "fp": users.fingerprint(user)})
    log("login", user=user.name, role=user.role)
    flask.session[CSRF_KEY] = secrets.token_urlsafe(32)  # a new token for the new login
    return flask.redirect(_next_url(request.args.get("next")), code=303)


def _logout() -> flask.Response:
    _check_csrf()
    user = current_user()
    if user is not None:
        log("logout", user=user["user"], role=user["role"])
    _forget(context.instance())
    return flask.redirect(_login_url(), code=303)


def users_file() -> Path:
    """The users file of this request's instance (the access log and the internal notes
    are kept beside it)."""
    access: Access = flask.current_app.config[ACCESS_KEY][context.instance()]
    return Path(access.users_file)


def log(action: str, user: str | None, role: str | None, **details: str | None) -> None:
    """One line of the instance's access log (:mod:`dashboards.access_log`) for this
    request: its instance and client address."""
    name = context.instance()
    access_log.record(
        users_file(),
        action,
        user=user,
        role=role,
        instance=name,
        address=flask.request.remote_addr,
        **details,
    )


class _Failures:
    """Failed logins per client address in the last :data:`LOCKOUT_S` seconds (kept in
    the worker's memory: a restart forgets them; each worker counts its own)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._times: dict[str, deque[float]] = {}

    def too_many(self, address: str) -> bool:
        with self._lock:
            recent = self._recent(address)
            return len(recent) >= MAX_FAILURES

    def add(self, address: str) -> None:
        with self._lock:
            self._recent(address).append(clock())
            for stale in [a for a, times in self._times.items() if not times]:
                del self._times[stale]  # addresses without recent failures

    def _recent(self, address: str) -> deque[float]:
        times = self._times.setdefault(address, deque())
        while times and clock() - times[0] > LOCKOUT_S:
            times.popleft()
        return times


_failures = _Failures()


def _cross_site() -> bool:
    """The browser says this request comes from another site (see module doc)."""
    headers = flask.request.headers
    site = headers.get("Sec-Fetch-Site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = headers.get("Origin")
    own = f"{flask.request.scheme}://{flask.request.host}"
    return origin is not None and origin.lower() != own.lower()


def _check_csrf() -> None:
    sent, kept = flask.request.form.get("csrf", ""), flask.session.get(CSRF_KEY, "")
    if not kept or not hmac.compare_digest(sent, kept):
        raise BadRequest("the form's CSRF token is missing or wrong: load the page again")


def _csrf_token() -> str:
    if CSRF_KEY not in flask.session:
        flask.session[CSRF_KEY] = secrets.token_urlsafe(32)
    return flask.session[CSRF_KEY]


def _next_url(next_path: str | None) -> str:
    """Back to the page that sent the visitor here; only a path of this app."""
    if not next_path or not next_path.startswith("/") or next_path.startswith("//"):
        next_path = "/" + context.persistent_query()
    if "\\" in next_path:
        next_path = "/"
    return _path("/") + next_path.lstrip("/")


def _path(path: str) -> str:
    """``path`` of this app as the browser must ask for it (behind the path prefix)."""
    return flask.current_app.config[PREFIX_KEY] + path.lstrip("/")


def _remember(instance: str, entry: dict[str, Any]) -> None:
    flask.session[SESSION_KEY] = {
        **flask.session.get(SESSION_KEY, {}),
        instance: {**entry, "seen": entry.get("seen", clock())},
    }


def _forget(instance: str) -> None:
    kept = {k: v for k, v in flask.session.get(SESSION_KEY, {}).items() if k != instance}
    flask.session[SESSION_KEY] = kept


def _has_users(access: Access) -> bool:
    return bool(access.users_file and users.load(Path(access.users_file)))


# --- the two pages without Dash: login, and the legal pages of a closed instance ----------
_DOCUMENT = Markup("""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{css}">
</head>
<body>
{body}
</body>
</html>
""")
_LOGIN = Markup("""<main class="page login-page" id="main">
<h1>{heading}</h1>
<p>{intro}</p>
{error}
<form method="POST" action="{action}" class="login-form">
<input type="hidden" name="csrf" value="{csrf}">
<label for="login-user">{user_label}</label>
<input id="login-user" name="user" autocomplete="username" required autofocus>
<label for="login-password">{password_label}</label>
<input id="login-password" name="password" type="password"
 autocomplete="current-password" required>
<button type="submit" id="login-submit">{submit}</button>
</form>
<p><a href="{other_href}" lang="{other}">{other_label}</a></p>
</main>
<footer class="login-footer"><nav id="footer-legal">{legal_links}</nav></footer>""")
_LEGAL = Markup("""<main class="page legal-text" id="legal-text">
{notice}
{body}
<p><a href="{login_href}">{login_label}</a></p>
</main>""")


def _document(lang: str, title: str, body: Markup) -> str:
    """A whole HTML page with the dashboard's style sheet (every value escaped)."""
    return str(_DOCUMENT.format(lang=lang, title=title, css=_path("/assets/style.css"), body=body))


def _login_page(lang: str, error: str | None, status: int) -> tuple[str, int]:
    other = "en" if lang == "de" else "de"
    query = {k: v for k in ("instance", "next") if (v := flask.request.args.get(k))}
    body = _LOGIN.format(
        heading=t("login.heading", lang),
        intro=t("login.intro", lang),
        error=Markup('<p class="notice" role="alert" id="login-error">{}</p>').format(error)
        if error
        else "",
        action=_path(LOGIN_PATH) + "?" + urlencode({**query, "lang": lang}),
        csrf=_csrf_token(),
        user_label=t("login.user", lang),
        password_label=t("login.password", lang),
        submit=t("login.submit", lang),
        other=other,
        other_href=_path(LOGIN_PATH) + "?" + urlencode({**query, "lang": other}),
        other_label=t("nav.language_switch", lang),
        legal_links=_legal_links(lang),
    )
    return _document(lang, t("login.title", lang), body), status


def _legal_links(lang: str) -> Markup:
    """Links to Impressum, Datenschutz and Barrierefreiheit (same instance, language)."""
    query = {k: v for k in ("instance",) if (v := flask.request.args.get(k))} | {"lang": lang}
    return Markup(" · ").join(
        Markup('<a href="{}">{}</a>').format(
            _path(path) + "?" + urlencode(query), t(f"legal.{page}", lang)
        )
        for page, path in legal.PAGES.items()
    )


def _legal_page(page: str, lang: str) -> tuple[str, int]:
    """A legal page of a closed instance for anyone: its Markdown as plain HTML (no
    Dash: the instance's layout and callbacks stay closed; raw HTML in it is escaped)."""
    text = legal.page_text(page, context.legal(), lang)
    missing = ", ".join(f"legal.{name}" for name in text.missing)
    notice = t("legal.incomplete", lang, fields=missing) if missing else ""
    body = _LEGAL.format(
        notice=Markup('<p class="notice">{}</p>').format(notice) if notice else "",
        body=Markup(MarkdownIt("commonmark", {"html": False}).render(text.markdown)),
        login_href=_login_url(),
        login_label=t("login.heading", lang),
    )
    return _document(lang, t(f"page.{page}", lang), body), 200
