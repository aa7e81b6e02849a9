"""Serving the dashboard: gunicorn in production, Werkzeug's development server for trying
things out (``imon serve --dev``).

**gunicorn** runs through its programmatic API (:class:`Gunicorn`, a ``BaseApplication``):
``imon serve`` hands it a function that builds the app from the profiles, and each worker
calls it after the fork, so every worker opens its own DuckDB connection (a connection
must not cross a fork). Workers use the ``gthread`` class: on 2 cores, 2 processes × 4
threads (DuckDB and pandas release the GIL while they work). Neither server names itself:
the ``Server`` header is left out. gunicorn trusts no ``X-Forwarded-*`` header itself;
that is the app's ``server.proxy_hops`` (werkzeug ``ProxyFix``, dashboards/security.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash
from gunicorn.app.base import BaseApplication
from gunicorn.http import wsgi as gunicorn_wsgi
from werkzeug.serving import WSGIRequestHandler

WSGIApp = Callable[..., Any]

WORKERS = 2  # for 2 cores; --workers for more
THREADS = 4
TIMEOUT_S = 60  # a worker silent for longer is restarted (a chart export takes a few s)


class _ResponseWithoutBanner(gunicorn_wsgi.Response):
    """gunicorn's response without its ``Server: gunicorn`` line."""

    def default_headers(self) -> list[str]:
        return [h for h in super().default_headers() if not h.lower().startswith("server:")]


def hide_gunicorn_banner() -> None:
    """gunicorn's responses in this process (and workers forked from it) without the
    ``Server`` line; app.py calls it too, so ``gunicorn app:server`` sends none either
    (its workers import app.py before their first response)."""
    gunicorn_wsgi.Response = _ResponseWithoutBanner


class Gunicorn(BaseApplication):
    """gunicorn with its settings from ``options`` (no config file, no command line) and
    the app from ``make_app``, called in each worker."""

    def __init__(self, make_app: Callable[[], WSGIApp], options: dict[str, Any]) -> None:
        self._make_app = make_app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> WSGIApp:
        return self._make_app()


def run_production(
    make_app: Callable[[], WSGIApp],
    host: str,
    port: int,
    workers: int = WORKERS,
    threads: int = THREADS,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve ``make_app()`` with gunicorn until SIGINT/SIGTERM; ``announce`` gets the
    address once the socket listens (port 0: the port the system chose)."""

    def when_ready(arbiter: Any) -> None:
        announce(", ".join(f"{listener}/" for listener in arbiter.LISTENERS))

    hide_gunicorn_banner()
    Gunicorn(
        make_app,
        {
            "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": threads,
            "timeout": TIMEOUT_S,
            "graceful_timeout": 30,
            "keepalive": 5,
            "forwarded_allow_ips": "",  # proxies are trusted by the app (ProxyFix) only
            "secure_scheme_headers": {},
            "when_ready": when_ready,
            "control_socket_disable": True,  # no admin socket in ~/.gunicorn (gunicorn 27)
            "proc_name": "imon-serve",
        },
    ).run()


class _QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler without the ``Server: Werkzeug/… Python/…`` header."""

    def send_response(self, code: int, message: str | None = None) -> None:
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())


def run_development(app: dash.Dash, host: str, port: int) -> None:
    """Werkzeug's development server, one process (``imon serve --dev``)."""
    app.run(host=host, port=port, debug=False, request_handler=_QuietRequestHandler)
