"""The production server: ``imon serve`` runs gunicorn (real subprocess, free port) on the
tiny city built by the ETL; security headers, request limits, checked callback requests,
the reverse proxy (``--proxy``, ``server.path_prefix``) and the CSP in real Chromium.

Every server is started on port 0 and the test reads the address it announces, so no
port is guessed and nothing waits on a timer.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from werkzeug.middleware.http_proxy import ProxyMiddleware

from dashboards import users
from dashboards.app import create_app
from dashboards.data import catalogue, queries
from etl.build import build
from etl.profile import Server, load_profile
from imon.cli import main
from tests.dashboards.test_dash_browser import (  # noqa: F401
    browser,
    open_page,
    select,
    serve_wsgi,
    wait_count,
    wait_text,
)

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "tests" / "fixtures" / "tiny" / "profile.yaml"
ANCESTORS = ["'self'", "https://www.kleinstadt.example"]
LEGAL = {
    "office_name": "Stadt Kleinstadt, Amt für Statistik",
    "address": "Rathausplatz 1\n99999 Kleinstadt",
    "email": "statistik@kleinstadt.example",
    "conformance": "partial",
}
PREFIX = "/integrationsmonitor/"
PUBLIC_HOST = "statistik.kleinstadt.example"
START_TIMEOUT_S = 120
# records every CSP violation the page reports (the console shows them too)
CSP_RECORDER = (
    "window.__csp = []; document.addEventListener('securitypolicyviolation', e => "
    "window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile));"
)


def write_profile(path: Path, curated: Path, instance: str = "tiny", **sections) -> Path:
    """The tiny city's profile with absolute paths, its warehouse in ``curated``."""
    data = yaml.safe_load(TINY.read_text(encoding="utf-8"))
    data.update(
        instance=instance,
        raw_dir=str((TINY.parent / data["raw_dir"]).resolve()),
        indicators=str((TINY.parent / data["indicators"]).resolve()),
        curated_dir=str(curated),
        **sections,
    )
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """Profile of the tiny city, built, with a server: and a legal: section."""
    folder = tmp_path_factory.mktemp("served")
    profile = write_profile(
        folder / "tiny.yaml",
        folder / "curated",
        server={"frame_ancestors": ANCESTORS},
        legal=LEGAL,
    )
    build(load_profile(profile))
    return profile


@contextmanager
def running(
    command: list[str],
    ready: str,
    env: dict[str, str] | None = None,
    stop: signal.Signals = signal.SIGTERM,
) -> Iterator[str]:
    """Run ``command``; yield the first group of the regex ``ready`` in its stderr (the
    address it announces). Stopped with ``stop`` afterwards; it must exit with 0."""
    process = subprocess.Popen(
        command,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )
    lines: queue.Queue[str | None] = queue.Queue()
    log: list[str] = []

    def drain() -> None:  # keep reading, or a full pipe would block the server
        for line in process.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=drain, daemon=True).start()
    try:
        yield _announced(lines, log, re.compile(ready))
    finally:
        process.send_signal(stop)
        code = process.wait(timeout=60)
        assert code == 0, "".join(log)


def _announced(lines: queue.Queue, log: list[str], ready: re.Pattern) -> str:
    while True:
        try:
            line = lines.get(timeout=START_TIMEOUT_S)
        except queue.Empty:
            pytest.fail("server did not start:\n" + "".join(log))
        if line is None:
            pytest.fail("server exited:\n" + "".join(log))
        log.append(line)
        found = ready.search(line)
        if found:
            return found.group(1)


def imon_serve(profile: Path, *options: str):
    command = [sys.executable, "-m", "imon.cli", "serve", "--profile", str(profile)]
    command += ["--port", "0", "--workers", "2", "--threads", "2", *options]
    return running(command, r"Dashboard: (http://\S+?)/? ")


@pytest.fixture(scope="module")
def server_url(site) -> Iterator[str]:
    with imon_serve(site) as url:
        yield url


def fetch(
    url: str, path: str, method: str = "GET", body: bytes | None = None, **headers: str
) -> tuple[int, http.client.HTTPMessage, str]:
    """One HTTP request (any status is returned, none raised)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        names = {key.replace("_", "-"): value for key, value in headers.items()}
        connection.request(method, path, body=body, headers=names)
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def post_callback(url: str, body: bytes) -> tuple[int, http.client.HTTPMessage, str]:
    return fetch(url, "/_dash-update-component", "POST", body, Content_Type="application/json")


def inline_scripts(html: str) -> list[str]:
    """Bodies of the page's inline scripts that a browser executes."""
    scripts = re.findall(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", html, re.S)
    return [body for attrs, body in scripts if "src=" not in attrs and "json" not in attrs]


# --- headers ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/karte?indicator=foreigner_share"),
        ("GET", "/assets/style.css"),
        ("GET", "/_dash-layout"),
        ("GET", "/_dash-dependencies"),
        ("POST", "/"),  # 405
    ],
)
def test_every_response_has_the_security_headers(server_url, method, path):
    status, headers, _ = fetch(server_url, path, method)
    assert status in (200, 405)
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "object-src 'none'" in csp
    assert f"frame-ancestors {' '.join(ANCESTORS)}" in csp  # from the profile
    assert "'unsafe-eval'" not in csp and "script-src 'self' 'sha256-" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "X-Frame-Options" not in headers  # cannot say "self and the city's site"
    assert "Server" not in headers  # no banner, no version


def test_the_policy_allows_exactly_the_pages_inline_scripts(server_url):
    status, headers, html = fetch(server_url, "/karte")
    assert status == 200
    scripts = inline_scripts(html)
    assert any("new DashRenderer" in s for s in scripts)
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in headers["Content-Security-Policy"]
    assert (
        "'unsafe-inline'"
        not in headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    )


@pytest.mark.parametrize(
    ("ancestors", "legacy"),
    [(["'self'"], "SAMEORIGIN"), (["'none'"], "DENY"), (ANCESTORS, None)],
)
def test_framing_follows_the_profile(synthetic_curated_dir, ancestors, legacy):
    app = create_app(synthetic_curated_dir, settings=Server(frame_ancestors=ancestors))
    headers = app.server.test_client().get("/").headers
    assert headers["Content-Security-Policy"].endswith(f"frame-ancestors {' '.join(ancestors)}")
    assert headers.get("X-Frame-Options") == legacy  # for browsers without CSP 2


def test_the_path_prefix_is_in_every_link_dash_writes(synthetic_curated_dir):
    app = create_app(synthetic_curated_dir, settings=Server(path_prefix=PREFIX))
    client = app.server.test_client()
    html = client.get("/karte").get_data(as_text=True)  # the proxy removed the prefix
    sources = re.findall(r'<(?:script src|link rel="stylesheet" href)="([^"]+)"', html)
    assert sources and all(s.startswith(PREFIX) for s in sources)
    config = json.loads(re.search(r'id="_dash-config"[^>]*>(.*?)</script>', html, re.S)[1])
    assert config["requests_pathname_prefix"] == PREFIX
    assert client.get("/assets/style.css").status_code == 200  # routes stay at "/"


# --- limits and malformed callback requests ---------------------------------------------
def test_an_oversized_body_is_refused_before_it_is_read(server_url):
    parts = urlsplit(server_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:  # announce 2 MiB, send none of it: the answer comes from the length alone
        connection.putrequest("POST", "/_dash-update-component")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(2 << 20))
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413
        assert "Server" not in response.headers
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    finally:
        connection.close()


def _map_table_request(**changes) -> dict:
    """A callback request as the map page sends it (values of the tiny city)."""
    body = {
        "output": "map-table.children",
        "outputs": {"id": "map-table", "property": "children"},
        "inputs": [
            {"id": "map-indicator", "property": "value", "value": "foreigner_share"},
            {"id": "map-date", "property": "value", "value": "2024-12-31"},
            {"id": "map-level", "property": "value", "value": "district"},
            {"id": "map-table-sort", "property": "data", "value": {"col": None, "desc": False}},
            {"id": "map-boundaries", "property": "value", "value": "published"},
        ],
        "changedPropIds": [],
    }
    body.update(changes)
    return body


def test_a_well_formed_callback_request_runs(server_url):
    status, _, text = post_callback(server_url, json.dumps(_map_table_request()).encode())
    assert status == 200
    assert json.loads(text)["response"]["map-table"]["children"]


def _input(index: int, **item) -> list[dict]:
    inputs = _map_table_request()["inputs"]
    inputs[index] = {**inputs[index], **item}
    return inputs


MALFORMED = {
    "not JSON": b"{not json",
    "empty": b"",
    "a list": b"[]",
    "nested 100000 deep": b"[" * 100_000 + b"]" * 100_000,
    "no output": json.dumps({"inputs": []}).encode(),
    "unknown output": json.dumps(_map_table_request(output="nope.children")).encode(),
    "browser-side callback": json.dumps(_map_table_request(output="map-url.data")).encode(),
    "output a number": json.dumps(_map_table_request(output=5)).encode(),
    "inputs missing": json.dumps({**_map_table_request(), "inputs": None}).encode(),
    "inputs an object": json.dumps(_map_table_request(inputs={})).encode(),
    "one input short": json.dumps(_map_table_request(inputs=_input(0)[:3])).encode(),
    "input of another id": json.dumps(_map_table_request(inputs=_input(0, id="x"))).encode(),
    "input without property": json.dumps(
        _map_table_request(inputs=[{"id": "map-indicator"}] + _input(0)[1:])
    ).encode(),
    "value an object": json.dumps(_map_table_request(inputs=_input(0, value={"a": 1}))).encode(),
    "value a nested list": json.dumps(
        _map_table_request(inputs=_input(1, value=[["2024-12-31"]]))
    ).encode(),
    "outputs missing": json.dumps({**_map_table_request(), "outputs": None}).encode(),
    "outputs of another id": json.dumps(
        _map_table_request(outputs={"id": "x", "property": "children"})
    ).encode(),
    "changedPropIds a number": json.dumps(_map_table_request(changedPropIds=3)).encode(),
    "an unknown indicator": json.dumps(_map_table_request(inputs=_input(0, value="x"))).encode(),
    "a date that is none": json.dumps(_map_table_request(inputs=_input(1, value="x"))).encode(),
    "an unknown level": json.dumps(_map_table_request(inputs=_input(2, value="x"))).encode(),
    "one button for a pattern of all": json.dumps(
        {
            "output": "data-table-download.data",
            "outputs": {"id": "data-table-download", "property": "data"},
            "inputs": [
                {
                    "id": {"format": "csv", "target": "data-table", "type": "export-button"},
                    "property": "n_clicks",
                    "value": 1,
                }
            ],
            "state": [],
        }
    ).encode(),
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_callback_requests_get_400(server_url, body):
    status, headers, text = post_callback(server_url, body)
    assert status == 400, text
    assert text.startswith("400 Bad Request: ") and "Traceback" not in text
    assert headers["Content-Type"].startswith("text/plain")


def test_a_huge_list_in_a_callback_is_refused_at_once(server_url):
    areas = [f"{i:08d}" for i in range(50_000)]  # 550 kB: below the body limit
    body = _map_table_request(inputs=_input(0, value=areas))
    status, _, text = post_callback(server_url, json.dumps(body).encode())
    assert status == 413
    assert "50000 entries (at most 1000)" in text


# --- the page in Chromium under the policy ------------------------------------------------
def test_pages_render_and_callbacks_run_under_the_policy(browser, server_url, site):  # noqa: F811
    wh = queries.open_warehouse(load_profile(site).curated_dir)
    levels = catalogue.map_levels(wh, "de")
    with open_page(browser, server_url) as page:
        page.add_init_script(CSP_RECORDER)
        page.goto(f"{server_url}/karte?indicator=foreigner_share&level={levels[-1].level}")
        paths = "#map-graph path.choroplethlocation"
        last = catalogue.ref_dates(wh)[-1]
        wait_count(page, paths, len(queries.geometries(wh, levels[-1].level, last)))
        select(page, "map-level", levels[0].label)  # a server callback draws the map again
        wait_count(page, paths, len(queries.geometries(wh, levels[0].level, last)))
        wait_count(
            page,
            "#map-table-table tbody tr",
            len(queries.area_values(wh, ("foreigner_share",), last, levels[0].level)),
        )
        assert page.evaluate("window.__csp") == []
        page.goto(f"{server_url}/daten")
        page.wait_for_selector("#data-table-table tbody tr")
        with page.expect_download() as download:  # dcc.Download: a blob: URL
            page.get_by_role("button", name="CSV", exact=True).click()
        assert download.value.suggested_filename.endswith(".csv")
        assert page.evaluate("window.__csp") == []
        assert page.problems == []
        # the policy is enforced: an injected inline script is blocked and reported
        page.evaluate(
            "() => { const s = document.createElement('script');"
            " s.textContent = 'window.__ran = true'; document.body.appendChild(s); }"
        )
        page.wait_for_function("window.__csp.length > 0")
        assert page.evaluate("window.__ran === undefined")
        # the one cookie the privacy notice names: narrow window or not, for this session
        [cookie] = page.context.cookies()
        assert (cookie["name"], cookie["value"], cookie["expires"]) == ("imon_narrow", "0", -1)
        assert page.evaluate("localStorage.length + sessionStorage.length") == 0


def test_legal_pages_are_linked_from_the_footer(browser, server_url):  # noqa: F811
    with open_page(browser, server_url) as page:
        page.add_init_script(CSP_RECORDER)
        page.goto(f"{server_url}/")
        footer = page.locator("#footer-legal")
        footer.get_by_role("link", name="Impressum", exact=True).click()  # client-side
        wait_text(page, "#legal-text h1", "Impressum")
        text = page.locator("#legal-text").inner_text()
        assert LEGAL["office_name"] in text
        assert "Rathausplatz 1\n99999 Kleinstadt" in text  # one line per address line
        assert LEGAL["email"] in text
        assert "[nicht gesetzt: legal.phone]" in text  # not in the profile: said so
        assert "legal.phone" in page.locator(".notice").inner_text()
        assert page.title().startswith("Impressum")
        footer.get_by_role("link", name="Datenschutz", exact=True).click()
        wait_text(page, "#legal-text h1", "Datenschutzerklärung")
        footer.get_by_role("link", name="Barrierefreiheit", exact=True).click()
        wait_text(page, "#legal-text h1", "Erklärung zur Barrierefreiheit")
        assert "(BITV 2.0) teilweise vereinbar" in page.locator("#legal-text").inner_text()
        assert page.evaluate("window.__csp") == []
        page.goto(f"{server_url}/barrierefreiheit?lang=en")
        wait_text(page, "#legal-text h1", "Accessibility statement")
        assert "partially compliant" in page.locator("#legal-text").inner_text()
        english = page.locator("#footer-legal").get_by_role("link", name="Privacy")
        assert english.get_attribute("href") == "/datenschutz?lang=en"
        assert page.evaluate("window.__csp") == []
        assert page.problems == []


# --- behind a reverse proxy ----------------------------------------------------------------
def test_forwarded_headers_are_ignored_without_proxy(server_url):
    _, _, html = fetch(
        server_url,
        "/karte",
        X_Forwarded_Host="evil.example",
        X_Forwarded_Proto="https",
        X_Forwarded_Prefix="/x",
    )
    assert 'property="twitter:url" content="http://127.0.0.1:' in html
    assert "evil.example" not in html


@contextmanager
def reverse_proxy(target: str) -> Iterator[str]:
    """A proxy in the way nginx is configured in the README: ``PREFIX`` is stripped and
    the client's scheme, host and the prefix go along as X-Forwarded-* headers."""
    forwarded = {
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": PUBLIC_HOST,
        "X-Forwarded-Prefix": PREFIX.rstrip("/"),
    }

    def not_found(environ, start_response):
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not behind the prefix"]

    app = ProxyMiddleware(
        not_found,
        {PREFIX: {"target": target + "/", "remove_prefix": True, "headers": forwarded}},
    )
    with serve_wsgi(app) as url:
        yield url


def test_behind_a_reverse_proxy_with_a_path_prefix(browser, site, tmp_path):  # noqa: F811
    profile = write_profile(
        tmp_path / "prefixed.yaml",
        load_profile(site).curated_dir,
        server={"path_prefix": PREFIX},
    )
    with imon_serve(profile, "--proxy") as upstream, reverse_proxy(upstream) as proxy:
        status, headers, html = fetch(proxy, PREFIX + "karte")
        assert status == 200 and "frame-ancestors 'self'" in headers["Content-Security-Policy"]
        # absolute links from the forwarded scheme, host and prefix (ProxyFix)
        url = f"https://{PUBLIC_HOST}{PREFIX}karte"
        assert f'property="twitter:url" content="{url}"' in html
        sources = re.findall(r'<script src="([^"]+)"', html)
        assert sources and all(s.startswith(PREFIX) for s in sources)
        with open_page(browser, proxy) as page:
            page.add_init_script(CSP_RECORDER)
            page.goto(proxy + PREFIX + "karte?indicator=foreigner_share")
            page.wait_for_selector("#map-graph path.choroplethlocation")
            page.locator("#footer-legal").get_by_role("link", name="Impressum").click()
            wait_text(page, "#legal-text h1", "Impressum")
            assert page.url == proxy + PREFIX + "impressum"
            assert page.evaluate("window.__csp") == []
            assert page.problems == []


# --- the command line ------------------------------------------------------------------------
def test_serve_fails_fast_without_a_published_snapshot(tmp_path, capsys):
    profile = write_profile(tmp_path / "empty.yaml", tmp_path / "curated")
    assert main(["serve", "--profile", str(profile)]) == 2
    assert "No published warehouse" in capsys.readouterr().err


def test_one_server_section_for_all_instances(tmp_path, capsys):
    first = write_profile(tmp_path / "a.yaml", tmp_path / "a", "a", server={"proxy_hops": 1})
    second = write_profile(tmp_path / "b.yaml", tmp_path / "b", "b", server={"proxy_hops": 2})
    assert main(["serve", "--profile", str(first), "--profile", str(second)]) == 2
    assert "server: section differs" in capsys.readouterr().err


def test_development_server_has_the_headers_without_a_banner(site):
    command = [sys.executable, "-m", "imon.cli", "serve", "--dev", "--profile", str(site)]
    command += ["--port", str(free_port())]
    ready = r"Running on (http://127\.0\.0\.1:\d+)"
    with running(command, ready, stop=signal.SIGINT) as url:  # Ctrl+C
        status, headers, _ = fetch(url, "/impressum")
    assert status == 200
    assert "Server" not in headers
    assert f"frame-ancestors {' '.join(ANCESTORS)}" in headers["Content-Security-Policy"]


def test_gunicorn_app_server_with_a_profile(site):
    command = [sys.executable, "-m", "gunicorn", "app:server", "--bind", "127.0.0.1:0"]
    command += ["--workers", "1", "--no-control-socket"]
    with running(command, r"Listening at: (http://\S+)", {"IMON_PROFILE": str(site)}) as url:
        status, headers, _ = fetch(url, "/karte")
    assert status == 200
    assert f"frame-ancestors {' '.join(ANCESTORS)}" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Server" not in headers  # app.py drops gunicorn's banner as imon serve does


def test_gunicorn_app_server_keeps_a_closed_instance_closed(site, tmp_path):
    """``gunicorn app:server`` applies the profile's access: section as imon serve does."""
    data = yaml.safe_load(site.read_text(encoding="utf-8"))
    closed = tmp_path / "closed.yaml"
    closed.write_text(yaml.safe_dump({**data, "access": {"public": False}}), encoding="utf-8")
    users.add(users.users_path(load_profile(closed)), "anna", "office", "richtig-geheim-1")
    command = [sys.executable, "-m", "gunicorn", "app:server", "--bind", "127.0.0.1:0"]
    command += ["--workers", "1", "--no-control-socket"]
    with running(command, r"Listening at: (http://\S+)", {"IMON_PROFILE": str(closed)}) as url:
        page, headers, _ = fetch(url, "/karte")
        answer, _, text = fetch(url, "/_dash-update-component", "POST", b"{}")
    assert page == 303 and headers["Location"].startswith("/anmelden")
    assert answer == 401 and "login required" in text


def free_port() -> int:
    """A port free right now (Werkzeug's server announces only the port it was given)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
