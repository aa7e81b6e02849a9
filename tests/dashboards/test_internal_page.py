"""The internal page (/intern) and the access log (dashboards/pages/internal.py,
dashboards/access_log.py).

HTTP level through Flask's test client: the page's callbacks sent anonymously, as the
commission and as the office (401/403 and no values for those not allowed); publish and
rollback through the callback change the published snapshot and are logged, like logins,
logouts and ``imon publish``/``imon rollback``. One test publishes in real Chromium.
"""

from __future__ import annotations

import json
import re
import shutil
import stat
from pathlib import Path

import pytest

from dashboards import access, access_log, notes, users
from dashboards.app import create_app
from etl import audit_summary, deliveries, plausibility, warehouse
from etl.build import FINDINGS
from etl.profile import Access
from imon.cli import main
from tests.dashboards.test_access import CALLBACK, MAP_TABLE, PASSWORD, REFUSED, log_in
from tests.dashboards.test_accessibility import assert_no_violations, inject_axe
from tests.dashboards.test_dash_browser import (  # noqa: F401
    TIMEOUT_MS,
    browser,
    open_page,
    serve_wsgi,
    wait_text,
)
from tests.dashboards.test_server import CSP_RECORDER, write_profile
from tests.etl.test_audit_summary import fake_report

STAGED_VALUE = "77,7"  # the foreigner share of Altstadt on the last date, staged only
REPORT_MARK = "Prüfbericht s2"  # the title of s2's plausibility report
AUDIT_CELLS = 4711  # cells checked by the audit of s2 (s1: 815)


pytestmark = pytest.mark.usefixtures("fresh_logins")


@pytest.fixture(scope="module")
def template(tmp_path_factory, warehouse_builder) -> Path:
    """``current -> s1`` (the synthetic city), ``staged -> s2`` (one value changed) with a
    plausibility report, both with an audit summary; their internal files are no
    databases (nothing here may read them)."""
    import duckdb

    curated = tmp_path_factory.mktemp("internal") / "curated"
    for name, cells in (("s1", 815), ("s2", AUDIT_CELLS)):
        folder = curated / "snapshots" / name
        (folder / warehouse.INTERNAL).mkdir(parents=True)
        warehouse_builder(folder / warehouse.PUBLICATION)
        (folder / warehouse.DATABASE).write_text("not a database")
        audit_summary.write(fake_report(cells_checked=cells), folder)
    con = duckdb.connect(str(curated / "snapshots" / "s2" / warehouse.PUBLICATION))
    con.execute(
        "UPDATE indicator_values SET value = 77.7 WHERE indicator_id = 'foreigner_share' "
        "AND area_id = '11' AND ref_date = DATE '2024-12-31'"
    )
    con.close()
    report = plausibility.Report("s2", "s1", [("Neue Lieferung", "<script>alert(1)</script>")], [])
    plausibility.write_html(report, curated / "snapshots" / "s2" / warehouse.REPORT)
    (curated / "current").symlink_to(Path("snapshots/s1"), target_is_directory=True)
    (curated / "staged").symlink_to(Path("snapshots/s2"), target_is_directory=True)
    return curated


@pytest.fixture
def curated(template, tmp_path) -> Path:
    """A fresh copy of the template per test (publish and rollback change it)."""
    copy = tmp_path / "curated"
    shutil.copytree(template, copy, symlinks=True)
    return copy


@pytest.fixture
def app(curated):
    """A public instance with an office user (anna) and a commission user (bert); the
    users file beside the curated directory, so the access log is there too."""
    path = curated.parent / "users.json"
    users.add(path, "anna", "office", PASSWORD)
    users.add(path, "bert", "commission", PASSWORD)
    return create_app(curated, access=Access(public=True, users_file=path))


def _log(curated: Path) -> list[dict]:
    return access_log.read(curated.parent / "users.json")


def internal_bodies(app) -> dict[str, dict]:
    """A request for every callback of the internal page, with the values it sends."""
    values = {
        "internal-report-choice.value": "staged",
        "internal-version.data": 0,
        "internal-publish.submit_n_clicks": 1,
        "internal-rollback.submit_n_clicks": None,
        "internal-accept-warnings.value": [],
        "internal-qa-choice.value": "published",
        "internal-qa-indicator.value": "foreigner_share",
        "internal-qa-date.value": "2024-12-31",
        "internal-qa-level.value": "district",
        "internal-qa-csv.n_clicks": 1,
        "internal-qa-xlsx.n_clicks": None,
        "internal-notes-indicator.value": "foreigner_share",
        "internal-notes-status.children": None,
        "internal-notes-save.n_clicks": 1,
        "internal-notes-text.value": "Sprung 2018 prüfen",
    }
    bodies = {}
    for key, spec in app.callback_map.items():
        if "internal-" not in key:
            continue
        outputs = [
            {"id": o.component_id_str(), "property": o.component_property}
            for o in (spec["output"] if isinstance(spec["output"], list) else [spec["output"]])
        ]

        def dep(d):
            return {**d, "value": values[f"{d['id']}.{d['property']}"]}

        bodies[key] = {
            "output": key,
            "outputs": outputs if isinstance(spec["output"], list) else outputs[0],
            "inputs": [dep(d) for d in spec["inputs"]],
            "state": [dep(d) for d in spec["state"]],
            "changedPropIds": [f"{d['id']}.{d['property']}" for d in spec["inputs"][:1]],
        }
    return bodies


def _publish_body(app, action: str = "publish") -> dict:
    key = next(k for k in internal_bodies(app) if "internal-status" in k)
    return {**internal_bodies(app)[key], "changedPropIds": [f"internal-{action}.submit_n_clicks"]}


def _body(app, part: str) -> dict:
    return next(b for k, b in internal_bodies(app).items() if part in k)


# --- who sees the page -----------------------------------------------------------------
def test_the_menu_shows_the_page_to_logged_in_users_only(app):
    client = app.server.test_client()
    assert '"href": "/intern"' not in _json(client.get("/_dash-layout"))
    log_in(client, "bert")
    assert '"children": "Intern", "href": "/intern"' in _json(client.get("/_dash-layout"))


def _json(response) -> str:
    assert response.status_code == 200
    return json.dumps(response.get_json(), ensure_ascii=False)


def test_a_stranger_is_sent_to_the_login(app):
    client = app.server.test_client()
    response = client.get("/intern?lang=en")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/anmelden?lang=en&next=%2Fintern")
    log_in(client, "bert")
    assert client.get("/intern").status_code == 200


def test_without_users_there_is_no_internal_page(synthetic_curated_dir, curated):
    app = create_app(synthetic_curated_dir)  # make demo: public, nobody can log in
    assert app.server.test_client().get("/intern").status_code == 404
    users_file = curated.parent / "users.json"
    users.add(users_file, "anna", "office", PASSWORD)
    both = create_app(  # "offen" has no users file of its own
        {"offen": synthetic_curated_dir, "intern": curated},
        access={"intern": Access(public=False, users_file=users_file)},
    )
    client = both.server.test_client()
    assert client.get("/intern?instance=offen").status_code == 404
    assert client.get("/intern?instance=intern").status_code == 303  # to the login


def test_every_internal_callback_is_refused_to_a_stranger(app, curated):
    client = app.server.test_client()
    bodies = internal_bodies(app)
    # report; audit; publish and rollback; unprotected values, export; notes, a new note;
    # the access log
    assert len(bodies) == 8
    for key, body in bodies.items():
        response = client.post(CALLBACK, json=body)
        assert response.status_code == 401, key
        assert response.get_data(as_text=True) == REFUSED, key
    assert warehouse.published(curated).name == "s1"  # nothing published
    assert [line["action"] for line in _log(curated)] == []


def test_the_commission_reads_the_report_but_not_the_audit_nor_publishes(app, curated):
    client = app.server.test_client()
    log_in(client, "bert")
    text = _json(client.post(CALLBACK, json=_body(app, "internal-report")))
    assert REPORT_MARK in text and '"sandbox": ""' in text
    assert "&lt;script&gt;" in text and "<script>" not in text  # the report's values escaped
    for part in ("internal-audit", "internal-status"):
        response = client.post(CALLBACK, json=_body(app, part))
        assert response.status_code == 403, part
        body = response.get_data(as_text=True)
        assert str(AUDIT_CELLS) not in body and "4.711" not in body and "s2" not in body
    response = client.post(CALLBACK, json=_publish_body(app))
    assert response.status_code == 403
    assert warehouse.published(curated).name == "s1"
    page = _json(client.post(CALLBACK, json=_page_request("/intern")))
    assert "Plausibilitätsbericht" in page and "internal-report" in page
    assert "internal-publish" not in page and "internal-audit" not in page
    assert "veröffentlichen" not in client.get("/intern").get_data(as_text=True)


def _page_request(path: str) -> dict:
    """The request of Dash's page router for ``path`` (what a click on a link sends)."""
    return {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [
            {"id": "_pages_content", "property": "children"},
            {"id": "_pages_store", "property": "data"},
        ],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": path},
            {"id": "_pages_location", "property": "search", "value": ""},
        ],
        "changedPropIds": ["_pages_location.pathname"],
    }


def test_the_office_sees_the_audit_of_both_snapshots(app):
    client = app.server.test_client()
    log_in(client, "anna")
    text = _json(client.post(CALLBACK, json=_body(app, "internal-audit")))
    assert "4.711" in text and "815" in text  # cells checked: staged, published
    assert "[0,0; 5,0], wahr 2 – foreigners, Gebiet 11 (district), 31.12.2024" in text
    assert "9.600" in text and "bestanden" in text
    assert "Den vorgemerkten Stand s2 jetzt veröffentlichen?" in text  # the confirmation
    assert '"internal-publish-button": {"disabled": false}' in text
    page = _json(client.post(CALLBACK, json=_page_request("/intern")))
    assert "internal-publish" in page and "Vorgemerkten Stand veröffentlichen" in page


def test_the_page_router_gives_a_stranger_nothing_internal(app):
    page = _json(app.server.test_client().post(CALLBACK, json=_page_request("/intern")))
    assert "internal-report" not in page and "Plausibilitätsbericht" not in page


def test_publish_and_rollback_through_the_callback(app, curated):
    client = app.server.test_client()
    assert STAGED_VALUE not in client.post(CALLBACK, json=MAP_TABLE).get_data(as_text=True)
    log_in(client, "anna")
    response = client.post(CALLBACK, json=_publish_body(app))
    assert response.status_code == 200
    answer = response.get_json()["response"]
    assert answer["internal-status"]["children"] == "Veröffentlicht: s2 (bisher: s1)."
    assert answer["internal-version"]["data"] == 1
    assert warehouse.published(curated).name == "s2" and warehouse.staged(curated) is None
    public = app.server.test_client()  # everyone reads the new snapshot at once
    assert STAGED_VALUE in public.post(CALLBACK, json=MAP_TABLE).get_data(as_text=True)
    again = client.post(CALLBACK, json=_publish_body(app)).get_json()["response"]
    assert again["internal-status"]["children"].startswith("Nicht ausgeführt:")  # none staged
    response = client.post(CALLBACK, json=_publish_body(app, "rollback"))
    status = response.get_json()["response"]["internal-status"]["children"]
    assert status == "Zurückgesetzt: veröffentlicht ist wieder s1 (bisher: s2)."
    assert warehouse.published(curated).name == "s1"
    assert STAGED_VALUE not in public.post(CALLBACK, json=MAP_TABLE).get_data(as_text=True)
    actions = [(x["action"], x["user"], x.get("snapshot")) for x in _log(curated)]
    assert actions == [
        ("login", "anna", None),
        ("publish", "anna", "s2"),
        ("rollback", "anna", "s1"),
    ]
    publish = _log(curated)[1]
    assert publish["role"] == "office" and publish["via"] == "web"
    assert publish["address"] == "127.0.0.1" and publish["before"] == "s1"


def test_a_staged_snapshot_with_warnings_needs_the_extra_confirmation(app, curated):
    """The staged build's warnings are listed beside the publish button; publishing
    without ticking the box that accepts them is refused (nothing changes), with it the
    snapshot goes live and the acceptance is recorded (accepted.jsonl, access log)."""
    warning = "v2020: 2024-12-31: area 01100311 has no row in table 'alter'"
    (curated / "snapshots" / "s2" / FINDINGS).write_text(json.dumps([warning]), encoding="utf-8")
    client = app.server.test_client()
    log_in(client, "anna")
    shown = client.post(CALLBACK, json=_body(app, "internal-audit")).get_json()["response"]
    assert shown["internal-warnings"]["hidden"] is False
    assert warning in json.dumps(shown["internal-warnings-list"]["children"], ensure_ascii=False)
    assert "1 Hinweise" in shown["internal-publish"]["message"]
    refused = client.post(CALLBACK, json=_publish_body(app)).get_json()["response"]
    status = refused["internal-status"]["children"]
    assert status.startswith("Nicht ausgeführt: not published: the staged snapshot s2 has 1")
    assert warning in status and "--accept-warnings" in status
    assert warehouse.published(curated).name == "s1" and warehouse.staged(curated).name == "s2"
    body = _publish_body(app)
    body["state"] = [
        {**s, "value": ["accept"]} if s["id"] == "internal-accept-warnings" else s
        for s in body["state"]
    ]
    done = client.post(CALLBACK, json=body).get_json()["response"]
    assert done["internal-status"]["children"] == "Veröffentlicht: s2 (bisher: s1)."
    assert warehouse.published(curated).name == "s2"
    [accepted] = deliveries.accepted(curated)
    assert accepted["snapshot"] == "s2" and accepted["user"] == "anna"
    assert accepted["warnings"] == [warning]
    publish = [x for x in _log(curated) if x["action"] == "publish"]
    assert [(x["snapshot"], x.get("accepted_warnings")) for x in publish] == [("s2", "1")]


# --- the access log ----------------------------------------------------------------------
def test_logins_failures_and_logouts_are_logged(app, curated):
    client = app.server.test_client()
    assert log_in(client, "anna", "falsch-falsch").status_code == 401
    assert log_in(client, "niemand", PASSWORD).status_code == 401
    log_in(client, "bert")
    layout = client.get("/_dash-layout").get_data(as_text=True)
    token = re.search(r'"name": ?"csrf",.*?"value": ?"([^"]+)"', layout)
    token = token or re.search(r'"value": ?"([^"]+)",[^{}]*"name": ?"csrf"', layout)
    assert client.post("/abmelden", data={"csrf": token.group(1)}).status_code == 303
    lines = _log(curated)
    assert [(x["action"], x["user"], x["role"]) for x in lines] == [
        ("login_failed", "anna", None),
        ("login_failed", "niemand", None),
        ("login", "bert", "commission"),
        ("logout", "bert", "commission"),
    ]
    assert all(x["address"] == "127.0.0.1" and x["instance"] == "" for x in lines)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", x["at"]) for x in lines)
    path = access_log.log_path(curated.parent / "users.json")
    assert path == curated.parent / "access.jsonl"  # next to the users file
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert PASSWORD not in path.read_text() and "falsch-falsch" not in path.read_text()


def test_the_office_reads_the_log_newest_first_the_commission_does_not(app, curated):
    log_in(app.server.test_client(), "bert", "falsch-falsch")
    commission, office = app.server.test_client(), app.server.test_client()
    log_in(commission, "bert")
    log_in(office, "anna")
    body = _body(app, "internal-log")
    response = commission.post(CALLBACK, json=body)
    assert response.status_code == 403 and "bert" not in response.get_data(as_text=True)
    cells = _rows(_answer(office, body))
    assert cells[0][:7] == [
        "Zeit (UTC)",
        "Aktion",
        "Benutzer",
        "Rolle",
        "Adresse",
        "Über",
        "Einzelheiten",
    ]
    assert all(re.fullmatch(r"\d\d\.\d\d\.\d{4}, \d\d:\d\d:\d\d", c[0]) for c in cells[1:])
    assert [c[1:4] for c in cells[1:]] == [
        ["Anmeldung", "anna", "Statistikstelle"],
        ["Anmeldung", "bert", "Kommission"],
        ["Anmeldung fehlgeschlagen", "bert", "–"],
    ]


def _rows(tree) -> list[list[str]]:
    """The cells' texts of every table row in a Dash component tree (as JSON)."""
    found = []
    if isinstance(tree, dict):
        if tree.get("type") == "Tr":
            found.append([str(cell["props"].get("children")) for cell in tree["props"]["children"]])
        for value in tree.values():
            found += _rows(value)
    elif isinstance(tree, list):
        for value in tree:
            found += _rows(value)
    return found


def test_imon_users_log_prints_the_log(curated, tmp_path, capsys):
    users_file = tmp_path / "users.json"
    access_log.record(users_file, "login", user="anna", instance="tiny", role="office",
                      address="192.0.2.7")  # fmt: skip
    access_log.record(users_file, "publish", user="anna", instance="tiny", role="office",
                      snapshot="s2", before="s1")  # fmt: skip
    profile = write_profile(tmp_path / "p.yaml", curated, access={"users_file": "users.json"})
    assert main(["users", "log", "--profile", str(profile), "--action", "publish"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "at\taction\tuser\trole\taddress\tvia\tinstance\tdetails"
    assert len(lines) == 2
    assert lines[1].split("\t")[1:] == [
        "publish",
        "anna",
        "office",
        "",
        "web",
        "tiny",
        "snapshot=s2, before=s1",
    ]
    assert main(["users", "log", "--profile", str(profile), "--since", "2999-01-01"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1  # the header only
    assert main(["users", "log", "--profile", str(profile), "--action", "delete"]) == 2
    assert "unknown action 'delete'" in capsys.readouterr().err


def test_the_log_is_append_only_and_private(tmp_path):
    users_file = tmp_path / "users.json"
    log = access_log.log_path(users_file)
    log.write_text('{"action": "login"}\n{"cut sh')  # a line cut short by a crash
    log.chmod(0o644)
    access_log.record(users_file, "logout", user="anna", instance="x", role="office")
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert [x["action"] for x in access_log.read(users_file)] == ["login", "logout"]
    with pytest.raises(ValueError, match="unknown access-log action"):
        access_log.record(users_file, "delete", user="anna", instance="x")


def test_imon_publish_and_rollback_are_logged_with_the_os_user(curated, tmp_path, monkeypatch):
    monkeypatch.setattr(access_log, "os_user", lambda: "statistik")
    profile = write_profile(tmp_path / "p.yaml", curated, access={"users_file": "users.json"})
    assert main(["publish", "--profile", str(profile)]) == 0
    assert main(["rollback", "--profile", str(profile)]) == 0
    lines = access_log.read(tmp_path / "users.json")
    assert [(x["action"], x["user"], x["via"], x["snapshot"], x["before"]) for x in lines] == [
        ("publish", "statistik", "cli", "s2", "s1"),
        ("rollback", "statistik", "cli", "s1", "s2"),
    ]
    assert lines[0]["instance"] == "tiny" and lines[0]["address"] is None


# --- in Chromium -------------------------------------------------------------------------
def test_the_office_publishes_in_the_browser(browser, app, curated):  # noqa: F811
    from playwright.sync_api import expect

    with serve_wsgi(app.server) as url, open_page(browser, url) as page:
        page.add_init_script(CSP_RECORDER)
        page.goto(f"{url}/intern")
        page.wait_for_selector("#login-submit")  # a stranger is sent to the login
        page.fill("#login-user", "anna")
        page.fill("#login-password", PASSWORD)
        page.click("#login-submit")
        wait_text(page, "#internal-audit", "4.711")
        frame = page.frame_locator("#internal-report-frame")
        expect(frame.locator("h1")).to_have_text(REPORT_MARK, timeout=TIMEOUT_MS)
        inject_axe(page)
        assert_no_violations(page)  # WCAG A/AA
        asked: list[str] = []
        page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
        page.click("#internal-publish button")
        status = expect(page.locator("#internal-status"))
        status.to_have_text("Veröffentlicht: s2 (bisher: s1).", timeout=TIMEOUT_MS)
        assert asked == [
            "Den vorgemerkten Stand s2 jetzt veröffentlichen? Alle Besucher sehen ihn "
            "sofort. Bisher veröffentlicht: s1."
        ]
        assert warehouse.published(curated).name == "s2"
        wait_text(page, "#internal-report", "keinen vorgemerkten Stand")
        expect(page.locator("#internal-publish-button")).to_be_disabled(timeout=TIMEOUT_MS)
        assert page.evaluate("window.__csp") == []
        assert page.problems == []


def test_the_commission_in_the_browser_until_its_session_expires(
    browser,  # noqa: F811
    app,
    monkeypatch,
):
    """A stranger sees no Intern in the menu; the commission logs in, sees the report and
    the notes but no audit, publish or unprotected values; after session_minutes without a
    request the next page sends it to the login, and the menu entry is gone."""
    from playwright.sync_api import expect

    now = [1_000_000.0]
    monkeypatch.setattr(access, "clock", lambda: now[0])
    with serve_wsgi(app.server) as url, open_page(browser, url) as page:
        page.goto(f"{url}/karte")
        page.wait_for_selector("#map-graph path.choroplethlocation")
        expect(page.locator("nav a[href^='/intern']")).to_have_count(0)
        page.goto(f"{url}/anmelden")
        page.fill("#login-user", "bert")
        page.fill("#login-password", PASSWORD)
        page.click("#login-submit")
        wait_text(page, "#access-user", "Angemeldet: bert (Kommission)")
        page.click("nav a[href^='/intern']")
        frame = page.frame_locator("#internal-report-frame")
        expect(frame.locator("h1")).to_have_text(REPORT_MARK, timeout=TIMEOUT_MS)
        expect(page.locator("#internal-notes-save")).to_be_visible(timeout=TIMEOUT_MS)
        for hidden in ("#internal-audit", "#internal-publish", "#internal-qa-table"):
            expect(page.locator(hidden)).to_have_count(0)
        now[0] += 61 * 60  # past the 60 minutes of the default session
        page.goto(f"{url}/intern")
        page.wait_for_selector("#login-submit")
        page.goto(f"{url}/karte")
        page.wait_for_selector("#map-graph path.choroplethlocation")
        expect(page.locator("nav a[href^='/intern']")).to_have_count(0)
        assert page.problems == []


def test_imon_build_is_logged_as_a_publish(tmp_path, monkeypatch):
    monkeypatch.setattr(access_log, "os_user", lambda: "statistik")
    profile = write_profile(tmp_path / "p.yaml", tmp_path / "curated")
    assert main(["build", "--profile", str(profile)]) == 0
    (line,) = access_log.read(tmp_path / "curated" / "users.json")  # the default place
    assert (line["action"], line["user"], line["via"], line["command"]) == (
        "publish",
        "statistik",
        "cli",
        "build",
    )
    assert line["snapshot"] == warehouse.published(tmp_path / "curated").name


# --- internal notes on indicators (dashboards/notes.py) --------------------------------
def _request(app, part: str, **values) -> dict:
    body = next(b for k, b in internal_bodies(app).items() if part in k)
    for item in body["inputs"] + body.get("state", []):
        key = f"{item['id']}.{item['property']}"
        if key in values:
            item["value"] = values[key]
    return body


def _answer(client, body) -> dict:
    response = client.post(CALLBACK, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["response"]


def test_the_commission_writes_a_note_the_office_reads(app, curated):
    client = app.server.test_client()
    log_in(client, "bert")
    save = _request(
        app, "internal-notes-status", **{"internal-notes-text.value": "Sprung\x00 2018\r\nprüfen "}
    )
    answer = _answer(client, save)
    assert answer["internal-notes-status"]["children"] == "Notiz gespeichert."
    assert answer["internal-notes-text"]["value"] == ""  # the field is emptied
    path = notes.notes_path(curated.parent / "users.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    office = app.server.test_client()
    log_in(office, "anna")
    shown = json.dumps(_answer(office, _request(app, "internal-notes-list")), ensure_ascii=False)
    assert "Sprung 2018\\nprüfen" in shown  # control character gone, line break kept
    assert "bert (Kommission)" in shown
    other = _request(app, "internal-notes-list", **{"internal-notes-indicator.value": "population"})
    assert "noch keine Notiz" in json.dumps(_answer(office, other), ensure_ascii=False)


def test_an_empty_or_too_long_note_is_refused(app, curated):
    client = app.server.test_client()
    log_in(client, "anna")
    for text, words in (("   ", "empty note"), ("x" * 2001, "at most 2000 characters")):
        body = _request(app, "internal-notes-status", **{"internal-notes-text.value": text})
        status = _answer(client, body)["internal-notes-status"]["children"]
        assert status.startswith("Nicht gespeichert:") and words in status
    assert not notes.notes_path(curated.parent / "users.json").exists()


def test_a_note_on_an_unknown_indicator_is_not_kept(app, curated):
    client = app.server.test_client()
    log_in(client, "bert")
    body = _request(app, "internal-notes-status", **{"internal-notes-indicator.value": "nope"})
    assert client.post(CALLBACK, json=body).status_code == 204  # no update
    assert not notes.notes_path(curated.parent / "users.json").exists()


def test_the_warnings_box_in_the_browser(browser, app, curated):  # noqa: F811
    """The staged build's findings listed beside the publish button in Chromium: publishing
    without the box ticked is refused with the reason (nothing changes); ticked, the
    snapshot goes live and the acceptance is recorded; afterwards the box is gone."""
    from playwright.sync_api import expect

    warning = "v2020: 2024-12-31: area 01100311 has no row in table 'alter'"
    (curated / "snapshots" / "s2" / FINDINGS).write_text(json.dumps([warning]), encoding="utf-8")
    with serve_wsgi(app.server) as url, open_page(browser, url) as page:
        page.goto(f"{url}/anmelden?next=%2Fintern")
        page.fill("#login-user", "anna")
        page.fill("#login-password", PASSWORD)
        page.click("#login-submit")
        wait_text(page, "#internal-warnings-list li", warning)
        box = page.locator("#internal-warnings")
        expect(box).to_be_visible(timeout=TIMEOUT_MS)
        expect(box).to_contain_text("Hinweise geprüft und akzeptiert", timeout=TIMEOUT_MS)
        asked: list[str] = []
        page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
        page.click("#internal-publish button")
        status = page.locator("#internal-status")
        expect(status).to_contain_text("Nicht ausgeführt: not published", timeout=TIMEOUT_MS)
        expect(status).to_contain_text("--accept-warnings", timeout=TIMEOUT_MS)
        assert "der Build hat 1 Hinweise" in asked[0]
        assert warehouse.published(curated).name == "s1"
        page.locator("#internal-accept-warnings input[type=checkbox]").check()
        page.click("#internal-publish button")
        expect(status).to_have_text("Veröffentlicht: s2 (bisher: s1).", timeout=TIMEOUT_MS)
        expect(box).to_be_hidden(timeout=TIMEOUT_MS)
        assert warehouse.published(curated).name == "s2"
        [accepted] = deliveries.accepted(curated)
        assert (accepted["snapshot"], accepted["user"], accepted["warnings"]) == (
            "s2",
            "anna",
            [warning],
        )
        assert len(asked) == 2 and page.problems == []
