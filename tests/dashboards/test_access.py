"""Login, roles and closed instances (dashboards/access.py, dashboards/users.py, imon users).

HTTP level through Flask's test client: every callback the dashboard registers is sent
anonymously to a closed instance (401, no values) and by a logged-in user; wrong
passwords, missing CSRF tokens, expired sessions, the ``?instance=``/``Referer`` trick,
public instances; the users CLI round trip. One test logs in and out in real Chromium.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from dashboards import access, security, users
from dashboards.app import create_app
from etl.errors import ConfigError
from etl.profile import Access, load_profile
from imon.cli import main
from tests.dashboards.test_accessibility import assert_no_violations, inject_axe
from tests.dashboards.test_dash_browser import (  # noqa: F401
    browser,
    open_page,
    serve_wsgi,
    wait_text,
    wait_url,
)
from tests.dashboards.test_server import CSP_RECORDER, _map_table_request, write_profile

PASSWORD = "richtig-geheim-1"
CALLBACK = "/_dash-update-component"
REFUSED = "401 Unauthorized: login required\n"
MAP_TABLE = _map_table_request()  # the map table of the city, as the page asks


pytestmark = pytest.mark.usefixtures("fresh_logins")


@pytest.fixture(scope="module")
def users_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("access") / "users.json"
    users.add(path, "anna", "office", PASSWORD)
    users.add(path, "bert", "commission", PASSWORD)
    return path


@pytest.fixture(scope="module")
def closed_app(synthetic_curated_dir, users_file):
    return create_app(
        synthetic_curated_dir,
        access=Access(public=False, session_minutes=30, users_file=users_file),
    )


def csrf(client, query: str = "") -> str:
    page = client.get(f"/anmelden{query}").get_data(as_text=True)
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def log_in(client, name: str = "anna", password: str = PASSWORD, query: str = ""):
    token = csrf(client, query)
    return client.post(
        f"/anmelden{query}", data={"csrf": token, "user": name, "password": password}
    )


def callback_bodies(app) -> dict[str, dict]:
    """A well-formed request for every server callback (inputs without values)."""

    def dep(declared: dict):
        dep_id = security._parse_id(declared["id"])
        if security._is_multi(dep_id):
            return []
        return {"id": dep_id, "property": declared["property"], "value": None}

    bodies = {}
    for key, spec in app.callback_map.items():
        outputs = [
            {"id": security._parse_id(o.component_id_str()), "property": o.component_property}
            for o in security._as_list(spec["output"])
        ]
        bodies[key] = {
            "output": key,
            "outputs": outputs if isinstance(spec["output"], list) else outputs[0],
            "inputs": [dep(d) for d in spec["inputs"]],
            "state": [dep(d) for d in spec["state"]],
            "changedPropIds": [],
        }
    return bodies


# --- a closed instance ------------------------------------------------------------------
def test_every_callback_is_refused_to_a_stranger(closed_app):
    client = closed_app.server.test_client()
    bodies = callback_bodies(closed_app)
    assert len(bodies) > 40  # every page's callbacks, downloads included
    assert any(key.endswith("-download.data") for key in bodies)
    for key, body in bodies.items():
        response = client.post(CALLBACK, json=body)
        assert response.status_code == 401, key
        assert response.get_data(as_text=True) == REFUSED, key  # no value, no figure
        assert "Set-Cookie" not in response.headers
    response = client.post(CALLBACK, json=MAP_TABLE)
    assert response.status_code == 401
    assert "Altstadt" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/_dash-layout", "/_dash-dependencies", "/_reload-hash"])
def test_dash_requests_are_refused_to_a_stranger(closed_app, path):
    response = closed_app.server.test_client().get(path)
    assert response.status_code == 401
    assert response.get_data(as_text=True) == REFUSED


@pytest.mark.parametrize("path", ["/", "/karte?indicator=foreigner_share", "/unbekannt"])
def test_pages_send_a_stranger_to_the_login(closed_app, path):
    response = closed_app.server.test_client().get(path)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/anmelden?")
    assert "next=" + path.replace("/", "%2F").replace("?", "%3F").replace("=", "%3D") in location


def test_login_page_scripts_and_assets_stay_open(closed_app):
    client = closed_app.server.test_client()
    login = client.get("/anmelden")
    assert login.status_code == 200
    page = login.get_data(as_text=True)
    assert '<html lang="de">' in page and "Anmelden" in page
    assert "<script" not in page  # nothing the CSP would have to allow
    assert "default-src 'self'" in login.headers["Content-Security-Policy"]
    assert "Benutzername" in page and 'type="password"' in page
    english = client.get("/anmelden?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and "User name" in english
    assert client.get("/assets/style.css").status_code == 200
    scripts = re.findall(r'src="(/_dash-component-suites/[^"]+)"', _index_html(closed_app))
    assert scripts
    assert all(client.get(src).status_code == 200 for src in scripts)


@pytest.mark.parametrize(
    "path, heading",
    [
        ("/impressum", "<h1>Impressum</h1>"),
        ("/datenschutz", "<h1>Datenschutzerklärung</h1>"),
        ("/barrierefreiheit?lang=en", "<h1>Accessibility statement</h1>"),
    ],
)
def test_legal_pages_of_a_closed_instance_stay_readable(closed_app, path, heading):
    client = closed_app.server.test_client()
    response = client.get(path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert heading in page
    assert "<script" not in page and "_dash" not in page  # plain HTML, no Dash
    assert "nicht gesetzt: legal." in page or "not set: legal." in page
    assert 'href="/anmelden' in page
    login = client.get("/anmelden?lang=en").get_data(as_text=True)
    assert '<a href="/impressum?lang=en">' in login


def _index_html(app) -> str:
    client = app.server.test_client()
    log_in(client)
    return client.get("/").get_data(as_text=True)


def test_a_logged_in_user_reaches_every_callback(closed_app):
    client = closed_app.server.test_client()
    response = log_in(client, "bert", query="?next=%2Fkarte%3Flevel%3Ddistrict")
    assert response.status_code == 303
    assert response.headers["Location"] == "/karte?level=district"
    for key, body in callback_bodies(closed_app).items():
        response = client.post(CALLBACK, json=body)
        # inputs without values may make a callback fail, but never the login check
        assert response.status_code != 401, key
        assert "login required" not in response.get_data(as_text=True), key
    table = client.post(CALLBACK, json=MAP_TABLE)
    assert table.status_code == 200
    assert "Altstadt" in table.get_data(as_text=True)
    layout = client.get("/_dash-layout").get_data(as_text=True)
    assert "Angemeldet: bert (Kommission)" in layout
    assert client.get("/karte").status_code == 200


@pytest.mark.parametrize("value", [None, "x"])
def test_no_callback_fails_with_500_on_values_it_does_not_know(closed_app, value):
    """Every server callback, logged in, with every input and state None or "x" (an
    indicator, date, level or area that does not exist): refused (400, 403) or answered,
    never a server error."""
    client = closed_app.server.test_client()
    assert log_in(client, "anna").status_code == 303
    failed, statuses = {}, set()
    for key, body in callback_bodies(closed_app).items():
        for item in body["inputs"] + body["state"]:
            if item and item["property"] == "value":
                item["value"] = value
        response = client.post(CALLBACK, json=body)
        statuses.add(response.status_code)
        if response.status_code >= 500:
            failed[key] = response.get_data(as_text=True)[:200]
    assert failed == {}
    assert 200 in statuses and 401 not in statuses


def test_wrong_password_and_unknown_user_fail(closed_app, monkeypatch):
    waited = []
    monkeypatch.setattr(access.time, "sleep", waited.append)
    monkeypatch.setattr(access, "FAILURE_DELAY_S", 0.5)
    client = closed_app.server.test_client()
    for name, password in [("anna", "falsch-falsch"), ("niemand", PASSWORD), ("anna", "")]:
        response = log_in(client, name, password)
        assert response.status_code == 401
        assert "Benutzername oder Passwort ist falsch." in response.get_data(as_text=True)
    assert waited == [0.5, 0.5, 0.5]  # every failure waits
    assert client.get("/_dash-layout").status_code == 401


def test_many_failures_from_one_address_lock_it_out_for_a_while(closed_app, monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(access, "clock", lambda: now[0])
    client = closed_app.server.test_client()
    for _ in range(access.MAX_FAILURES):
        assert log_in(client, "anna", "falsch-falsch").status_code == 401
        now[0] += 10
    locked = log_in(client)  # even the right password: not now
    assert locked.status_code == 429
    assert "Zu viele fehlgeschlagene Anmeldungen" in locked.get_data(as_text=True)
    other = closed_app.server.test_client()
    response = other.post(  # another address is not locked out
        "/anmelden",
        data={"csrf": csrf(other), "user": "anna", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert response.status_code == 303
    now[0] += access.LOCKOUT_S  # the first failure is old enough now
    assert log_in(client).status_code == 303


def test_answers_behind_the_login_are_not_cached(closed_app):
    client = closed_app.server.test_client()
    assert client.get("/anmelden").headers["Cache-Control"] == "no-store"
    assert client.get("/_dash-layout").headers["Cache-Control"] == "no-store"
    log_in(client)
    assert client.get("/_dash-layout").headers["Cache-Control"] == "no-store"
    assert client.post(CALLBACK, json=MAP_TABLE).headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("token", [None, "", "erfunden"])
def test_login_without_the_forms_token_fails(closed_app, token):
    client = closed_app.server.test_client()
    csrf(client)  # the session has a token, the request does not send it
    data = {"user": "anna", "password": PASSWORD} | ({"csrf": token} if token is not None else {})
    response = client.post("/anmelden", data=data)
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert client.get("/_dash-layout").status_code == 401


@pytest.mark.parametrize(
    "headers, status",
    [
        ({"Sec-Fetch-Site": "cross-site"}, 403),
        ({"Sec-Fetch-Site": "same-site"}, 403),  # a neighbour subdomain of the city's site
        ({"Origin": "https://evil.example"}, 403),  # older browsers send only Origin
        ({"Origin": "http://localhost", "Sec-Fetch-Site": "cross-site"}, 403),
        ({"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"}, 200),
        ({"Origin": "http://localhost"}, 200),
        ({}, 200),  # no browser: no victim's cookie to ride along
    ],
)
def test_posts_from_other_sites_are_refused(closed_app, headers, status):
    client = closed_app.server.test_client()
    log_in(client)
    response = client.post(CALLBACK, json=MAP_TABLE, headers=headers)
    assert response.status_code == status
    assert ("Altstadt" in response.get_data(as_text=True)) == (status == 200)
    if status == 403:  # the login form too, token or not
        token = csrf(client)
        data = {"csrf": token, "user": "anna", "password": PASSWORD}
        assert client.post("/anmelden", data=data, headers=headers).status_code == 403


def test_a_session_ends_after_session_minutes_without_a_request(closed_app, monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(access, "clock", lambda: now[0])
    client = closed_app.server.test_client()
    log_in(client)
    now[0] += 29 * 60  # within 30 minutes: still logged in, and the clock starts again
    assert client.get("/_dash-layout").status_code == 200
    now[0] += 29 * 60
    assert client.get("/_dash-layout").status_code == 200
    now[0] += 30 * 60 + 1
    assert client.post(CALLBACK, json=MAP_TABLE).status_code == 401
    assert client.get("/_dash-layout").status_code == 401  # and it stays gone


def test_logout_ends_the_session(closed_app):
    client = closed_app.server.test_client()
    log_in(client)
    layout = client.get("/_dash-layout").get_data(as_text=True)
    token = re.search(r'"name": ?"csrf",.*?"value": ?"([^"]+)"', layout)
    token = token or re.search(r'"value": ?"([^"]+)",[^{}]*"name": ?"csrf"', layout)
    assert token, "the logout button carries the CSRF token"
    assert client.post("/abmelden", data={}).status_code == 400  # no token: refused
    response = client.post("/abmelden", data={"csrf": token.group(1)})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/anmelden")
    assert client.get("/_dash-layout").status_code == 401


def test_the_session_cookie(closed_app):
    client = closed_app.server.test_client()
    cookie = log_in(client).headers["Set-Cookie"]
    assert cookie.startswith("imon_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert PASSWORD not in cookie
    secure = closed_app.server.test_client()
    token = csrf(secure)
    response = secure.post(
        "/anmelden",
        data={"csrf": token, "user": "anna", "password": PASSWORD},
        base_url="https://localhost",
    )
    assert "Secure" in response.headers["Set-Cookie"]


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "\\\\evil"])
def test_login_never_sends_the_user_elsewhere(closed_app, target):
    client = closed_app.server.test_client()
    from urllib.parse import quote

    response = log_in(client, query=f"?next={quote(target, safe='')}")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_the_secret_key_is_kept_private(users_file, closed_app, monkeypatch, tmp_path):
    key = users_file.parent / access.SECRET_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert access.secret_key(users_file.parent) == key.read_text().strip()  # made once
    monkeypatch.setenv(access.SECRET_ENV, "kurz")
    with pytest.raises(Exception, match="32 characters"):
        access.secret_key(tmp_path)
    monkeypatch.delenv(access.SECRET_ENV)
    shared = tmp_path / access.SECRET_FILE
    shared.write_text("x" * 64)
    shared.chmod(0o644)
    with pytest.raises(Exception, match="chmod 600"):
        access.secret_key(tmp_path)


# --- several instances: the ?instance= / Referer trick ---------------------------------
@pytest.fixture(scope="module")
def mixed_app(synthetic_curated_dir, users_file):
    return create_app(
        {"offen": synthetic_curated_dir, "intern": synthetic_curated_dir},
        access={"intern": Access(public=False, users_file=users_file)},
    )


@pytest.mark.parametrize(
    "url, referer",
    [
        ("?instance=intern", None),
        ("", "http://localhost/karte?instance=intern"),
        ("?instance=intern", "http://localhost/karte?instance=offen"),
    ],
)
def test_a_closed_instance_is_closed_whatever_the_request_names(mixed_app, url, referer):
    client = mixed_app.server.test_client()
    headers = {"Referer": referer} if referer else {}
    response = client.post(CALLBACK + url, json=MAP_TABLE, headers=headers)
    assert response.status_code == 401
    assert client.get("/_dash-layout" + url, headers=headers).status_code == 401


def test_the_public_instance_beside_it_stays_open(mixed_app):
    client = mixed_app.server.test_client()
    headers = {"Referer": "http://localhost/karte?instance=offen"}
    response = client.post(CALLBACK, json=MAP_TABLE, headers=headers)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    layout = client.get("/_dash-layout?instance=offen").get_data(as_text=True)
    assert '"value": "offen"' in layout.replace('"value":"', '"value": "')
    assert "intern" not in re.findall(r'"key": ?"instance", ?"value": ?"(\w+)"', layout)
    # logged in for the closed one: reads it, and its name appears in the menu
    log_in(client, query="?instance=intern")
    assert client.post(CALLBACK + "?instance=intern", json=MAP_TABLE).status_code == 200
    layout = client.get("/_dash-layout?instance=offen").get_data(as_text=True)
    assert "intern" in re.findall(r'"key": ?"instance", ?"value": ?"(\w+)"', layout)


# --- public instances ------------------------------------------------------------------
def test_a_public_instance_without_users_has_no_login(synthetic_curated_dir):
    app = create_app(synthetic_curated_dir)
    client = app.server.test_client()
    response = client.post(CALLBACK, json=MAP_TABLE)
    assert response.status_code == 200 and "Altstadt" in response.get_data(as_text=True)
    assert client.get("/anmelden").status_code in (200, 404)  # a Dash page or nothing
    assert "Set-Cookie" not in client.get("/karte").headers


def test_a_public_instance_with_users_stays_open_to_everyone(synthetic_curated_dir, users_file):
    app = create_app(synthetic_curated_dir, access=Access(public=True, users_file=users_file))
    client = app.server.test_client()
    response = client.post(CALLBACK, json=MAP_TABLE)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers  # no cookie for anonymous visitors
    assert client.get("/karte").status_code == 200
    assert log_in(client).status_code == 303  # the office may still log in
    assert "Angemeldet: anna" in client.get("/_dash-layout").get_data(as_text=True)


# --- the profile's access: section ------------------------------------------------------
def test_access_section_of_the_profile(tmp_path):
    profile = write_profile(tmp_path / "p.yaml", tmp_path / "curated")
    loaded = load_profile(profile)
    assert loaded.access == Access()  # public, 60 minutes
    assert users.users_path(loaded) == tmp_path / "curated" / "users.json"
    given = write_profile(
        tmp_path / "q.yaml",
        tmp_path / "curated",
        access={"public": False, "session_minutes": 15, "users_file": "secret/users.json"},
    )
    loaded = load_profile(given)
    assert not loaded.access.public and loaded.access.session_minutes == 15
    assert users.users_path(loaded) == tmp_path / "secret" / "users.json"
    for wrong, field in [
        ({"session_minutes": 0}, "access.session_minutes"),
        ({"public": "vielleicht"}, "access.public"),
        ({"roles": []}, "access.roles"),
    ]:
        bad = write_profile(tmp_path / "bad.yaml", tmp_path / "curated", access=wrong)
        with pytest.raises(ConfigError, match=re.escape(field)):
            load_profile(bad)


# --- imon users -------------------------------------------------------------------------
def test_users_cli_round_trip(tmp_path, synthetic_curated_dir, monkeypatch, capsys):
    profile = write_profile(
        tmp_path / "p.yaml", tmp_path / "curated", access={"users_file": "users.json"}
    )
    path = tmp_path / "users.json"
    monkeypatch.setenv("IMON_PASSWORD", PASSWORD)
    args = ["--profile", str(profile)]
    assert main(["users", "add", "--role", "commission", *args, "carla"]) == 0
    assert main(["users", "add", "--role", "office", *args, "dora"]) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert PASSWORD not in text and "$argon2id$" in text
    assert json.loads(text)["users"]["carla"]["role"] == "commission"
    capsys.readouterr()
    assert main(["users", "list", *args]) == 0
    assert capsys.readouterr().out.splitlines() == ["carla\tcommission", "dora\toffice"]

    app = create_app(synthetic_curated_dir, access=Access(public=False, users_file=path))
    client = app.server.test_client()
    assert log_in(client, "carla").status_code == 303
    assert client.post(CALLBACK, json=MAP_TABLE).status_code == 200
    monkeypatch.setenv("IMON_PASSWORD", "ein-neues-passwort")
    assert main(["users", "passwd", *args, "carla"]) == 0
    assert client.post(CALLBACK, json=MAP_TABLE).status_code == 401  # the session ended
    assert log_in(client, "carla").status_code == 401
    assert log_in(client, "carla", "ein-neues-passwort").status_code == 303
    assert main(["users", "remove", *args, "carla"]) == 0
    assert client.post(CALLBACK, json=MAP_TABLE).status_code == 401
    assert log_in(client, "carla", "ein-neues-passwort").status_code == 401
    capsys.readouterr()
    assert main(["users", "list", *args]) == 0
    assert capsys.readouterr().out.splitlines() == ["dora\toffice"]


@pytest.mark.parametrize(
    "command, message",
    [
        (["add", "--role", "admin", "erik"], "unknown role 'admin'"),
        (["add", "--role", "office", "dora"], "user 'dora' exists already"),
        (["add", "--role", "office", "x y"], "user name 'x y'"),
        (["remove", "niemand"], "no user 'niemand'"),
        (["passwd", "niemand"], "no user 'niemand'"),
    ],
)
def test_users_cli_errors(tmp_path, monkeypatch, capsys, command, message):
    profile = write_profile(tmp_path / "p.yaml", tmp_path / "curated")
    monkeypatch.setenv("IMON_PASSWORD", PASSWORD)
    assert main(["users", "add", "--role", "office", "--profile", str(profile), "dora"]) == 0
    capsys.readouterr()
    assert main(["users", command[0], "--profile", str(profile), *command[1:]]) == 2
    assert message in " ".join(capsys.readouterr().err.split())


def test_users_cli_asks_twice_and_refuses_short_passwords(tmp_path, monkeypatch, capsys):
    profile = write_profile(tmp_path / "p.yaml", tmp_path / "curated")
    monkeypatch.delenv("IMON_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO()))
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)  # a person at a terminal
    answers = iter(["erstes-passwort", "zweites-passwort"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["users", "add", "--role", "office", "--profile", str(profile), "eva"]) == 2
    assert "the two passwords differ" in capsys.readouterr().err
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "kurz")
    assert main(["users", "add", "--role", "office", "--profile", str(profile), "eva"]) == 2
    assert "at least 10 characters" in capsys.readouterr().err
    monkeypatch.setattr("getpass.getpass", lambda prompt="": PASSWORD)
    assert main(["users", "add", "--role", "office", "--profile", str(profile), "eva"]) == 0
    assert users.verify(tmp_path / "curated" / "users.json", "eva", PASSWORD)


def test_users_cli_reads_the_password_from_a_pipe(tmp_path):
    profile = write_profile(tmp_path / "p.yaml", tmp_path / "curated")
    env = {k: v for k, v in os.environ.items() if k != "IMON_PASSWORD"}
    imon = "import sys; from imon.cli import main; sys.exit(main())"
    command = [sys.executable, "-c", imon, "users", "add", "--role", "office"]
    command += ["--profile", str(profile)]
    done = subprocess.run(
        [*command, "eva"], input=f"{PASSWORD}\n", env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert users.verify(tmp_path / "curated" / "users.json", "eva", PASSWORD)
    empty = subprocess.run([*command, "udo"], input="", env=env, capture_output=True, text=True)
    assert empty.returncode == 2
    assert "no password on standard input" in empty.stderr
    assert "udo" not in users.load(tmp_path / "curated" / "users.json")


# --- in Chromium -------------------------------------------------------------------------
def test_log_in_and_out_in_the_browser(browser, closed_app):  # noqa: F811
    with serve_wsgi(closed_app.server) as url, open_page(browser, url) as page:
        page.add_init_script(CSP_RECORDER)
        page.goto(f"{url}/karte?indicator=foreigner_share")
        page.wait_for_selector("#login-submit")  # sent to the login page
        assert page.title().startswith("Anmelden")
        assert_no_violations(page)
        page.fill("#login-user", "anna")
        page.fill("#login-password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector("#map-graph path.choroplethlocation")  # back on the map
        wait_url(page, "/karte?", "indicator=foreigner_share")
        wait_text(page, "#access-user", "Angemeldet: anna (Statistikstelle)")
        inject_axe(page)
        assert_no_violations(page)  # the header with the user and the logout button
        page.click("#access-logout")
        page.wait_for_selector("#login-submit")
        assert "/anmelden" in page.url
        assert page.evaluate("window.__csp") == []
        assert page.problems == []
        page.goto(f"{url}/karte")  # the map is closed again
        page.wait_for_selector("#login-submit")
        page.goto(f"{url}/impressum")  # the legal pages are not
        page.wait_for_selector("#legal-text h1")
        assert_no_violations(page)


# --- preview of the staged snapshot -------------------------------------------------------
STAGED_VALUE = 77.7  # the foreigner share of Altstadt on the last date, staged only


@pytest.fixture(scope="module")
def with_staged(tmp_path_factory, warehouse_builder) -> Path:
    """``current -> s1`` (the synthetic city) and ``staged -> s2`` (another title and one
    other value); s2's internal file is no database: reading it would fail."""
    import duckdb

    from etl.warehouse import DATABASE, PUBLICATION

    curated = tmp_path_factory.mktemp("preview") / "curated"
    for name in ("s1", "s2"):
        (curated / "snapshots" / name).mkdir(parents=True)
        warehouse_builder(curated / "snapshots" / name / PUBLICATION)
    con = duckdb.connect(str(curated / "snapshots" / "s2" / PUBLICATION))
    con.execute("UPDATE meta SET value = 'Teststadt (neuer Stand)' WHERE key = 'title'")
    con.execute(
        "UPDATE indicator_values SET value = ? WHERE indicator_id = 'foreigner_share' "
        "AND area_id = '11' AND ref_date = DATE '2024-12-31'",
        [STAGED_VALUE],
    )
    con.close()
    internal = curated / "snapshots" / "s2" / DATABASE
    internal.parent.mkdir()
    internal.write_text("not a database")
    (curated / "current").symlink_to(Path("snapshots/s1"), target_is_directory=True)
    (curated / "staged").symlink_to(Path("snapshots/s2"), target_is_directory=True)
    return curated


@pytest.fixture(scope="module")
def preview_app(with_staged, users_file):
    return create_app(with_staged, access=Access(users_file=users_file))  # public


def test_strangers_get_no_preview(preview_app):
    client = preview_app.server.test_client()
    assert client.get("/karte").status_code == 200  # the published snapshot: public
    assert client.get("/karte?snapshot=staged").status_code == 403
    assert client.get("/_dash-layout?snapshot=staged").status_code == 403
    staged_page = {"Referer": "http://localhost/karte?snapshot=staged"}
    response = client.post(CALLBACK, json=MAP_TABLE, headers=staged_page)
    assert response.status_code == 403
    assert "77,7" not in response.get_data(as_text=True)


def test_a_logged_in_user_previews_the_staged_snapshot(preview_app):
    client = preview_app.server.test_client()
    log_in(client, "bert")
    staged = _text(client.get("/_dash-layout?snapshot=staged"))
    assert "Vorschau – noch nicht veröffentlicht" in staged
    assert "Teststadt (neuer Stand)" in staged
    published = _text(client.get("/_dash-layout"))
    assert "Vorschau" not in published and "neuer Stand" not in published
    staged_page = {"Referer": "http://localhost/karte?snapshot=staged"}
    table = client.post(CALLBACK, json=MAP_TABLE, headers=staged_page)
    assert table.status_code == 200 and "77,7" in table.get_data(as_text=True)
    table = client.post(CALLBACK, json=MAP_TABLE)
    assert table.status_code == 200 and "77,7" not in table.get_data(as_text=True)
    assert "snapshot=staged" in staged  # the footer's links keep the preview


def _text(response) -> str:
    """A JSON answer with its non-ASCII characters as they are."""
    assert response.status_code == 200
    return json.dumps(response.get_json(), ensure_ascii=False)


def test_no_staged_snapshot_no_preview(closed_app):
    client = closed_app.server.test_client()
    log_in(client)
    assert client.get("/_dash-layout?snapshot=staged").status_code == 404


def test_preview_in_the_browser(browser, preview_app):  # noqa: F811
    with serve_wsgi(preview_app.server) as url, open_page(browser, url) as page:
        page.add_init_script(CSP_RECORDER)
        page.goto(f"{url}/anmelden?next=%2Fkarte%3Fsnapshot%3Dstaged")
        page.fill("#login-user", "bert")
        page.fill("#login-password", PASSWORD)
        page.click("#login-submit")
        wait_text(page, "#preview-banner", "Vorschau – noch nicht veröffentlicht")
        wait_text(page, "#map-table-table tbody", "77,7")  # read from the staged file
        daten = page.locator('a.nav-link[href*="snapshot=staged"]', has_text="Daten")
        # the link keeps the preview; loaded afresh (leaving a page while plotly still
        # draws can raise a plotly page error on a busy machine)
        page.goto(url + daten.get_attribute("href"))
        page.wait_for_selector("#data-table-table tbody tr")
        wait_url(page, "/daten", "snapshot=staged")
        assert page.locator("#preview-banner").is_visible()
        assert page.evaluate("window.__csp") == []
        assert page.problems == []


def test_serve_names_a_closed_instance_without_users(tmp_path, monkeypatch, capsys):
    from dashboards import serving

    profile = write_profile(tmp_path / "p.yaml", tmp_path / "curated", access={"public": False})
    monkeypatch.setattr("dashboards.data.queries.open_warehouse", lambda path: None)
    monkeypatch.setattr(serving, "run_production", lambda *args, **kwargs: None)
    assert main(["serve", "--profile", str(profile)]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "Geschlossen, aber ohne Benutzer (tiny): imon users add" in err


def test_changes_at_the_same_time_are_all_kept(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "users.json"
    names = [f"user{i}" for i in range(8)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda name: users.add(path, name, "office", PASSWORD), names))
    assert sorted(users.load(path)) == names
    assert not list(tmp_path.glob(".users-*"))  # no temporary file left behind
