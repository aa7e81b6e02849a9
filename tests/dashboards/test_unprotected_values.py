"""Unprotected values for the office (dashboards/data/unprotected.py, the internal page):
served only by an internal server (every instance closed), only to the office role, marked
"intern – nicht zur Veröffentlichung" on screen and in every export, each export logged;
a public server never opens the internal warehouse, not even for the office."""

from __future__ import annotations

import base64
import csv
import io
import json
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest

from dashboards import access_log, users
from dashboards.app import create_app
from dashboards.formatting import format_count
from etl import warehouse
from etl.build import build
from etl.profile import Access, load_profile
from tests.dashboards.test_access import CALLBACK, PASSWORD, REFUSED, log_in
from tests.dashboards.test_accessibility import assert_no_violations, inject_axe
from tests.dashboards.test_dash_browser import browser, open_page, serve_wsgi, wait_text  # noqa: F401
from tests.dashboards.test_server import CSP_RECORDER
from tests.etl.test_area_table import FIXTURE, write_profile

INDICATOR, LEVEL = "foreigner_share", "quarter"
MARK = "intern – nicht zur Veröffentlichung"


pytestmark = pytest.mark.usefixtures("fresh_logins")


@pytest.fixture(scope="module")
def protected_tiny(tmp_path_factory) -> Path:
    """The district-table fixture (quarters of 100 to 400 residents) published with a
    minimum denominator of 150, so the shares of quarter 0101 (100 residents) and its
    complement are withheld: a curated folder with one published snapshot."""
    folder = tmp_path_factory.mktemp("unprotected")

    def rules(data: dict) -> None:
        data["disclosure"] = {"min_denominator": 150, "min_count": 3}

    build(load_profile(write_profile(folder, FIXTURE / "raw", rules)))
    return folder / "curated"


@pytest.fixture
def curated(protected_tiny, tmp_path) -> Path:
    copy = tmp_path / "curated"
    shutil.copytree(protected_tiny, copy, symlinks=True)
    users_file = copy.parent / "users.json"
    users.add(users_file, "anna", "office", PASSWORD)
    users.add(users_file, "bert", "commission", PASSWORD)
    return copy


def make_app(curated: Path, internal: bool):
    rules = Access(public=True, users_file=curated.parent / "users.json")
    return create_app(curated, access=rules, internal=internal)


def truth(curated: Path) -> dict[str, tuple]:
    """(value, numerator, denominator) per area from the internal warehouse, and the dates."""
    path = warehouse.published(curated) / warehouse.DATABASE
    with duckdb.connect(str(path), read_only=True) as con:
        (date,) = con.execute(
            "SELECT max(ref_date)::VARCHAR FROM indicator_values WHERE indicator_id = ?",
            [INDICATOR],
        ).fetchone()
        rows = con.execute(
            "SELECT area_id, value, numerator, denominator FROM indicator_values "
            "WHERE indicator_id = ? AND level = ? AND ref_date = ?",
            [INDICATOR, LEVEL, date],
        ).fetchall()
    return date, {r[0]: r[1:] for r in rows}


def body(output: str, date: str, trigger: str | None = None) -> dict:
    """The request of the unprotected-values table (or, with ``trigger``, a download)."""
    choice = [
        {"id": "internal-qa-choice", "property": "value", "value": "published"},
        {"id": "internal-qa-indicator", "property": "value", "value": INDICATOR},
        {"id": "internal-qa-date", "property": "value", "value": date},
        {"id": "internal-qa-level", "property": "value", "value": LEVEL},
    ]
    if trigger is None:
        return {
            "output": f"{output}.children",
            "outputs": {"id": output, "property": "children"},
            "inputs": choice,
            "changedPropIds": ["internal-qa-indicator.value"],
        }
    return {
        "output": f"{output}.data",
        "outputs": {"id": output, "property": "data"},
        "inputs": [
            {"id": "internal-qa-csv", "property": "n_clicks", "value": 1},
            {"id": "internal-qa-xlsx", "property": "n_clicks", "value": None},
        ]
        if trigger == "csv"
        else [
            {"id": "internal-qa-csv", "property": "n_clicks", "value": None},
            {"id": "internal-qa-xlsx", "property": "n_clicks", "value": 1},
        ],
        "state": choice,
        "changedPropIds": [f"internal-qa-{trigger}.n_clicks"],
    }


def test_the_internal_server_closes_every_instance(curated):
    app = make_app(curated, internal=True)  # the profile says public
    client = app.server.test_client()
    assert client.get("/").status_code == 303  # to the login
    date, _ = truth(curated)
    response = client.post(CALLBACK, json=body("internal-qa-table", date))
    assert response.status_code == 401 and response.get_data(as_text=True) == REFUSED


def test_the_commission_gets_no_unprotected_value(curated):
    client = make_app(curated, internal=True).server.test_client()
    log_in(client, "bert")
    date, values = truth(curated)
    for request in (body("internal-qa-table", date), body("internal-qa-download", date, "csv")):
        response = client.post(CALLBACK, json=request)
        assert response.status_code == 403
        assert "Wert (intern)" not in response.get_data(as_text=True)
    assert [x["action"] for x in access_log.read(curated.parent / "users.json")] == ["login"]


def test_the_office_sees_unprotected_values_beside_the_published_ones(curated):
    client = make_app(curated, internal=True).server.test_client()
    log_in(client, "anna")
    date, values = truth(curated)
    response = client.post(CALLBACK, json=body("internal-qa-table", date))
    assert response.status_code == 200
    text = json.dumps(response.get_json(), ensure_ascii=False)
    assert text.count(MARK) == 1 and "Wert (intern)" in text
    for _value, numerator, denominator in values.values():
        assert f'"{format_count(numerator)}"' in text and f'"{format_count(denominator)}"' in text
    # withheld in the publication, shown here with its true numerator
    pub = warehouse.published(curated) / warehouse.PUBLICATION
    with duckdb.connect(str(pub), read_only=True) as con:
        withheld = con.execute(
            "SELECT area_id FROM indicator_values WHERE indicator_id = ? AND level = ? "
            "AND ref_date = ? AND flag = 'suppressed'",
            [INDICATOR, LEVEL, date],
        ).fetchall()
    assert withheld, "the fixture must withhold something"
    assert "differs" in text


def test_every_export_is_marked_and_logged(curated):
    client = make_app(curated, internal=True).server.test_client()
    log_in(client, "anna")
    date, values = truth(curated)
    answer = client.post(CALLBACK, json=body("internal-qa-download", date, "csv")).get_json()
    download = answer["response"]["internal-qa-download"]["data"]
    assert download["filename"].startswith("INTERN_nicht_zur_Veroeffentlichung_foreigner_share")
    text = base64.b64decode(download["content"]).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == [MARK.upper()]
    header = next(i for i, r in enumerate(rows) if r and r[0] == "Gebiet")
    data = rows[header + 1 :]
    assert len(data) == len(values) and all(r[-1] == MARK for r in data)
    for row in data:
        value, numerator, denominator = values[row[0]]
        assert row[3] == f"{numerator:.0f}" and row[4] == f"{denominator:.0f}"
    answer = client.post(CALLBACK, json=body("internal-qa-download", date, "xlsx")).get_json()
    content = base64.b64decode(answer["response"]["internal-qa-download"]["data"]["content"])
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet["A1"].value == MARK.upper()
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c for c in cells if c.data_type == "f"]
    log = access_log.read(curated.parent / "users.json")
    exports = [x for x in log if x["action"] == "export_internal"]
    assert [x["user"] for x in exports] == ["anna", "anna"]
    assert exports[0]["file"].endswith(".csv") and exports[1]["file"].endswith(".xlsx")


def test_a_public_server_never_opens_the_internal_warehouse(curated, opened_databases):
    """Not even for a logged-in office user: 403, and no connection to the file."""
    opened = opened_databases
    client = make_app(curated, internal=False).server.test_client()
    assert client.get("/").status_code == 200  # public
    log_in(client, "anna")
    date, _ = truth(curated)
    opened.clear()
    for request in (body("internal-qa-table", date), body("internal-qa-download", date, "csv")):
        response = client.post(CALLBACK, json=request)
        assert response.status_code == 403
    page = client.get("/intern").get_data(as_text=True)
    assert "internal-qa-table" not in page or "Wert (intern)" not in page
    assert all(Path(p).name != warehouse.DATABASE.split("/")[-1] for p in opened), opened


def test_the_office_reads_unprotected_values_in_the_browser(browser, curated):  # noqa: F811
    """Real Chromium on the internal server: login, the marked table, no CSP report, WCAG."""
    app = make_app(curated, internal=True)
    date, values = truth(curated)
    with serve_wsgi(app.server) as url, open_page(browser, url) as page:
        page.add_init_script(CSP_RECORDER)
        page.goto(f"{url}/intern")
        page.wait_for_selector("#login-submit")
        page.fill("#login-user", "anna")
        page.fill("#login-password", PASSWORD)
        page.click("#login-submit")
        wait_text(page, "#internal-qa-table", "Wert (intern)")
        table = page.locator("#internal-qa-table")
        assert table.locator("tbody tr").count() == len(values)  # the first indicator, finest level
        assert MARK in table.inner_text()
        inject_axe(page)
        assert_no_violations(page)
        assert page.evaluate("window.__csp") == []
        assert page.problems == []
