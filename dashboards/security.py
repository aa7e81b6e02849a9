"""HTTP hardening of the dashboard: security headers, request limits, checked callbacks.

:func:`secure` is called by ``create_app`` before the app's first request;
:func:`trust_inline_scripts` after it, once Dash knows all its inline scripts.

**Content-Security-Policy** (checked in headless Chromium, tests/dashboards/test_server.py):

* ``script-src 'self'`` plus the sha256 hashes of Dash's inline scripts
  (``app.csp_hashes()``): the renderer start ``var renderer = new DashRenderer();`` and
  the Dash Pages title callback. No ``'unsafe-inline'``, no nonce, no ``'unsafe-eval'``:
  Dash 4, dcc and plotly.js (geo traces) run without ``eval``. The ``_dash-config``
  script is ``type="application/json"``: data, never executed, so CSP does not apply.
* ``style-src 'self' 'unsafe-inline'``: dcc's dropdowns and plotly.js insert ``<style>``
  elements at run time (Chromium reports ``style-src-elem`` violations and unstyled
  controls without it). Styles cannot run scripts.
* ``img-src data: blob:`` for plotly's images and downloads; everything else ``'self'``
  (nothing is fetched from elsewhere); ``frame-ancestors`` from the profile
  (``server.frame_ancestors``, default ``'self'``; embeddable charts ``/embed/…``:
  ``server.embed_frame_ancestors``, default the same).

**Referrer-Policy: same-origin**: callbacks learn the page's ``?lang=`` and
``?instance=`` from the ``Referer`` of their request (dashboards/context.py), so the
header must reach our own server; other sites get nothing.

**Limits**: bodies over ``server.max_request_bytes`` (default 1 MiB) are refused with 413
before they are read; a callback request is checked against the callback it names before
Dash runs it: malformed JSON, unknown outputs, missing or mistyped keys, inputs that do not
match the callback's -> 400; a list or object with more than ``server.max_list_items``
entries anywhere in it -> 413, so no request makes a callback work for seconds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any

import dash
import flask
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    InternalServerError,
    RequestEntityTooLarge,
)
from werkzeug.middleware.proxy_fix import ProxyFix

from etl.profile import Server

LOG = logging.getLogger(__name__)
SETTINGS_KEY = "IMON_SERVER"  # etl.profile.Server of this app
POLICY_KEY = "IMON_CSP"  # the policy with the inline scripts' hashes
CALLBACK_ROUTE = "_dash-update-component"
MAX_DEPTH = 32  # nesting of lists and objects in a callback request

SCALAR = (str, int, float, bool)
VALUE_TYPES = {"value": SCALAR, "n_clicks": int, "href": str, "pathname": str, "search": str}
PERMISSIONS = "camera=(), geolocation=(), microphone=(), payment=(), usb=()"
EMBED_ENDPOINT = "imon_embed"  # dashboards/embed.py: framed by server.embed_frame_ancestors
X_FRAME_OPTIONS = {("'self'",): "SAMEORIGIN", ("'none'",): "DENY"}  # older browsers


def secure(app: dash.Dash, settings: Server) -> None:
    """Limits, the callback check, error answers, headers and (optionally) the trusted
    proxy headers; before the app's first request."""
    server = app.server
    server.config[SETTINGS_KEY] = settings
    server.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    route = app.config.routes_pathname_prefix + CALLBACK_ROUTE

    @server.before_request
    def check_callback() -> None:
        request = flask.request
        if request.method == "POST" and request.path == route:
            status, problem = callback_problem(
                _json_body(), app.callback_map, settings.max_list_items
            )
            if problem:
                error = RequestEntityTooLarge if status == 413 else BadRequest
                raise error(f"callback request: {problem}")

    def callback_failed(error: Exception) -> tuple[str, int, dict[str, str]]:
        """A callback that fails on the values it was sent (an indicator, date or level this
        view does not know: LookupError, ValueError, TypeError) answers 400, not 500;
        anything else 500. Both logged with the traceback, never sent to the client."""
        if isinstance(error, HTTPException):
            return _plain_error(error)
        request = flask.request
        if request.path == route and isinstance(error, LookupError | ValueError | TypeError):
            LOG.warning("callback refused: %r", error, exc_info=error)
            return _plain_error(BadRequest("callback request: a value this view does not know"))
        LOG.error("request failed: %s %s", request.method, request.path, exc_info=error)
        return _plain_error(InternalServerError())

    server.after_request(_add_headers)
    server.register_error_handler(HTTPException, _plain_error)
    server.register_error_handler(Exception, callback_failed)
    if settings.proxy_hops:
        hops = settings.proxy_hops
        server.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            server.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )


def trust_inline_scripts(app: dash.Dash) -> None:
    """Allow Dash's inline scripts by their hashes (after every callback is registered)."""
    settings = app.server.config[SETTINGS_KEY]
    app.server.config[POLICY_KEY] = content_security_policy(
        app.csp_hashes(), settings.frame_ancestors
    )


def content_security_policy(script_hashes: Iterable[str], frame_ancestors: Sequence[str]) -> str:
    """The policy of every response (module docstring: why each source is there)."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": list(frame_ancestors),
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def _add_headers(response: flask.Response) -> flask.Response:
    config = flask.current_app.config
    settings: Server = config[SETTINGS_KEY]
    # before trust_inline_scripts (the warm-up request only): no inline script at all
    policy = config.get(POLICY_KEY) or content_security_policy((), settings.frame_ancestors)
    ancestors = settings.frame_ancestors
    if flask.request.url_rule is not None and flask.request.url_rule.endpoint == EMBED_ENDPOINT:
        ancestors = settings.embed_frame_ancestors or ancestors  # dashboards/embed.py
        policy = content_security_policy((), ancestors)  # no inline script on that page
    headers = response.headers
    headers["Content-Security-Policy"] = policy
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["Permissions-Policy"] = PERMISSIONS
    legacy = X_FRAME_OPTIONS.get(tuple(ancestors))
    if legacy:
        headers["X-Frame-Options"] = legacy
    return response


def _plain_error(error: HTTPException) -> tuple[str, int, dict[str, str]]:
    """One line of text instead of Werkzeug's HTML page (also for callback requests)."""
    text = f"{error.code} {error.name}: {error.description}\n"
    return text, error.code or 500, {"Content-Type": "text/plain; charset=utf-8"}


def _json_body() -> Any:
    """The request's JSON (Flask caches it for Dash); not JSON or too deep -> 400."""
    try:
        return flask.request.get_json()
    except RecursionError as exc:
        raise BadRequest(f"callback request: JSON nested deeper than {MAX_DEPTH}") from exc
    except BadRequest as exc:  # 413 (too large) and 415 (no JSON type) pass on
        raise BadRequest("callback request: the body is no valid JSON") from exc


# --- the callback request against the callback it names ----------------------------------
def callback_problem(
    body: Any, callbacks: dict[str, dict], max_items: int
) -> tuple[int, str | None]:
    """``(status, problem)`` of a ``POST /_dash-update-component`` body; ``(200, None)``
    when Dash may run it. Shapes as dash-renderer sends them: ``output`` names the
    callback, ``outputs`` / ``inputs`` / ``state`` hold one ``{id, property, value}`` per
    declared dependency (a list of them for a wildcard id), ``changedPropIds`` strings."""
    if not isinstance(body, dict):
        return 400, "the body is no JSON object"
    too_big = _oversized(body, max_items)
    if too_big:
        return too_big
    output = body.get("output")
    spec = callbacks.get(output) if isinstance(output, str) else None
    if spec is None or "callback" not in spec:
        return 400, "'output' names no callback of this server"
    declared = {
        "outputs": [
            (_parse_id(o.component_id_str()), o.component_property)
            for o in _as_list(spec["output"])
        ],
        "inputs": [(_parse_id(d["id"]), d["property"]) for d in spec["inputs"]],
        "state": [(_parse_id(d["id"]), d["property"]) for d in spec["state"]],
    }
    for key, deps in declared.items():
        problem = _dependencies_problem(key, body, deps)
        if problem:
            return 400, problem
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return 400, "'changedPropIds' is no list of strings"
    return 200, None


def _dependencies_problem(key: str, body: dict, declared: list[tuple[Any, str]]) -> str | None:
    given = body.get(key, [] if key == "state" else None)
    if key == "outputs" and len(declared) == 1:
        given = [given]  # a single output is sent bare (a list for a wildcard id)
    if not isinstance(given, list) or len(given) != len(declared):
        return f"'{key}' does not match the callback's {len(declared)} {key}"
    for number, (item, (dep_id, prop)) in enumerate(zip(given, declared, strict=True), 1):
        multi = _is_multi(dep_id)  # ALL / ALLSMALLER: a list of the matching components
        if multi != isinstance(item, list) or not all(
            _matches(one, dep_id, prop) for one in (item if multi else [item])
        ):
            name = json.dumps(dep_id) if isinstance(dep_id, dict) else dep_id
            return f"'{key}' entry {number} is no {name}.{prop} of the expected type"
    return None


def _matches(item: Any, dep_id: Any, prop: str) -> bool:
    """``{id, property[, value]}`` for the declared id (wildcards match any value)."""
    if not isinstance(item, dict) or not isinstance(item.get("property"), str):
        return False
    if item["property"].split("@")[0] != prop.split("@")[0]:  # @: allow_duplicate
        return False
    if not _value_fits(item["property"], item.get("value")):
        return False
    given = item.get("id")
    if not _is_wildcard(dep_id):
        return given == dep_id
    return (
        isinstance(given, dict)
        and given.keys() == dep_id.keys()
        and all(isinstance(v, list) or given[k] == v for k, v in dep_id.items())
    )


def _value_fits(prop: str, value: Any) -> bool:
    """The value has the type the browser sends for this property: a control's ``value``
    is a scalar or a list of scalars, ``n_clicks`` a count, ``href`` text; a store's
    ``data`` may be any JSON."""
    prop = prop.split("@")[0]
    if value is None or prop not in VALUE_TYPES:
        return True
    scalar = isinstance(value, VALUE_TYPES[prop])
    if prop == "value":
        return scalar or isinstance(value, list) and all(isinstance(v, SCALAR) for v in value)
    return scalar and not (prop == "n_clicks" and isinstance(value, bool))


def _oversized(body: Any, max_items: int) -> tuple[int, str] | None:
    """A list or object with too many entries (413) or nested too deeply (400)."""
    stack = [(body, 0)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, dict | list):
            continue
        if len(node) > max_items:
            return 413, f"a list or object of {len(node)} entries (at most {max_items})"
        if depth >= MAX_DEPTH:
            return 400, f"nested deeper than {MAX_DEPTH} levels"
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children)
    return None


def _parse_id(component_id: str) -> Any:
    """The declared id as the request carries it: a wildcard id is stored as JSON text."""
    return json.loads(component_id) if component_id.startswith("{") else component_id


def _is_wildcard(component_id: Any) -> bool:
    return isinstance(component_id, dict) and any(
        isinstance(v, list) for v in component_id.values()
    )


def _is_multi(component_id: Any) -> bool:
    return isinstance(component_id, dict) and any(
        v in (["ALL"], ["ALLSMALLER"]) for v in component_id.values()
    )


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]
