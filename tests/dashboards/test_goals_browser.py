"""The Ziele page in real Chromium (#15): the small goal city of tests/etl/test_goals_intake.py
with its filled workbook taken in and published; what a person reads, checked against
values computed by hand there (statuses) and the delivered workbook (numbers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dashboards import access_log, notes, users
from dashboards.app import create_app
from etl import deliveries, warehouse
from etl.profile import Access
from tests.dashboards.test_access import CALLBACK, PASSWORD, log_in
from tests.dashboards.test_accessibility import (
    assert_chart_contrast,
    assert_no_violations,
    inject_axe,
)
from tests.dashboards.test_dash_browser import (  # noqa: F401
    browser,
    open_page,
    screenshot,
    serve_wsgi,
    wait_count,
    wait_text,
)
from tests.dashboards.test_internal_page import _page_request
from tests.etl.test_goals_intake import FIRST, filled, make_goal_city


@pytest.fixture(scope="module")
def goal_profile(tmp_path_factory):
    root = tmp_path_factory.mktemp("goal_page")
    profile = make_goal_city(root)
    workbook = filled(profile, root / "inbox", FIRST, "projektindikatoren_2024.xlsx")
    deliveries.refresh(profile, [workbook], publish=True)
    return profile


@pytest.fixture(scope="module")
def goal_url(goal_profile):
    with serve_wsgi(create_app(goal_profile.curated_dir).server) as url:
        yield url


def _note_request(goal: str, text: str) -> dict:
    """What the save button of a goal's notes sends (pattern ids, MATCH)."""
    ident = {"type": "goal-note-save", "goal": goal}
    return {
        "output": "..{}.children...{}.children...{}.value..".format(
            *(
                json.dumps({"goal": ["MATCH"], "type": kind}, separators=(",", ":"))
                for kind in ("goal-note-list", "goal-note-status", "goal-note-text")
            )
        ),
        "outputs": [
            {"id": {"goal": goal, "type": "goal-note-list"}, "property": "children"},
            {"id": {"goal": goal, "type": "goal-note-status"}, "property": "children"},
            {"id": {"goal": goal, "type": "goal-note-text"}, "property": "value"},
        ],
        "inputs": [{"id": ident, "property": "n_clicks", "value": 1}],
        "state": [{"id": {"type": "goal-note-text", "goal": goal}, "property": "value",
                   "value": text}],
        "changedPropIds": [json.dumps(ident, separators=(",", ":"), sort_keys=True) + ".n_clicks"],
    }  # fmt: skip


def _find(node, class_name: str) -> list[dict]:
    """The components of a Dash JSON answer with ``class_name``."""
    if isinstance(node, list):
        return [found for item in node for found in _find(item, class_name)]
    if not isinstance(node, dict):
        return []
    props = node.get("props", {})
    here = [props] if props.get("className") == class_name else []
    return here + [f for value in node.values() for f in _find(value, class_name)]


def _texts(props: dict) -> list:
    """A span's children: strings, and links as (text, href)."""
    return [
        (c["props"]["children"], c["props"]["href"]) if isinstance(c, dict) else c
        for c in props["children"]
    ]


def test_internal_notes_per_goal_only_with_a_login(goal_profile, tmp_path):
    """The commission writes a note to a goal; the office reads it on the Ziele page; a
    stranger's page has no trace of it and may not write one; the public exports do not
    carry it (they are built from the publication, which it is never written to)."""
    users_file = tmp_path / "users.json"
    users.add(users_file, "anna", "office", PASSWORD)
    users.add(users_file, "bert", "commission", PASSWORD)
    app = create_app(goal_profile.curated_dir, access=Access(public=True, users_file=users_file))
    stranger = app.server.test_client()
    page = stranger.post(CALLBACK, json=_page_request("/ziele")).get_data(as_text=True)
    assert "ziel-mentoren" in page and "goal-note" not in page and "Interne Notizen" not in page
    # the relation between goals, both ways, as links (GOALS: mentoren supports einwohner)
    relations = [_texts(span) for span in _find(json.loads(page), "goal-relation")]
    assert relations == [
        ["Unterstützt:", " ", ("Wachsende Stadt", "#ziel-einwohner")],
        ["Unterstützt von:", " ", ("Mentorenprogramm", "#ziel-mentoren")],
    ]
    refused = stranger.post(CALLBACK, json=_note_request("mentoren", "heimlich"))
    assert refused.status_code == 401
    bert = app.server.test_client()
    log_in(bert, "bert")
    answer = bert.post(CALLBACK, json=_note_request("mentoren", "Mit AG Ehrenamt\r\nbesprechen"))
    assert answer.status_code == 200
    response = answer.get_json()["response"]
    status = response['{"goal":"mentoren","type":"goal-note-status"}']["children"]
    assert status == "Notiz gespeichert."
    unknown = bert.post(CALLBACK, json=_note_request("gibt-es-nicht", "x"))
    assert unknown.status_code == 204  # no goal of the snapshot: nothing kept
    kept = access_log.read_lines(notes.notes_path(users_file))
    assert [(n["indicator_id"], n["user"], n["role"], n["text"]) for n in kept] == [
        ("goal:mentoren", "bert", "commission", "Mit AG Ehrenamt\nbesprechen")
    ]
    anna = app.server.test_client()
    log_in(anna, "anna")
    page = anna.post(CALLBACK, json=_page_request("/ziele")).get_data(as_text=True)
    assert "Interne Notizen zu diesem Ziel (1)" in page and "Mit AG Ehrenamt" in page
    assert page.count("Interne Notizen zu diesem Ziel (0)") >= 2  # the other goals: none
    assert "Mit AG Ehrenamt" not in stranger.post(CALLBACK, json=_page_request("/ziele")).get_data(
        as_text=True
    )
    snapshot = warehouse.published(goal_profile.curated_dir)
    for path in snapshot.rglob("*"):
        assert path.is_dir() or b"Mit AG Ehrenamt" not in path.read_bytes()


def test_goals_page(browser, goal_url):  # noqa: F811
    with open_page(browser, goal_url) as page:
        page.goto(goal_url + "/")
        page.get_by_role("link", name="Ziele", exact=True).click()  # the menu entry
        wait_count(page, ".goal-card", 2)
        card = page.locator("#card-ehrenamt")
        wait_text(page, "#card-ehrenamt", "Ziel erreicht")
        assert card.locator("p").inner_text() == "2 Ziele"
        # goal 'schulungen': both indicators substantial; 'mentoren': achieved
        assert card.locator(".goal-card-statuses li").all_inner_texts() == [
            "1\nZiel erreicht",
            "1\nDeutlicher Fortschritt",
        ]
        wait_text(page, "#card-zusammenleben", "nicht bewertbar")
        row = page.locator("#ziel-schulungen .goal-table tbody tr").first
        wait_text(page, "#ziel-schulungen .goal-table tbody td", "22 Personen (31.12.2024)")
        cells = row.locator("td").all_inner_texts()
        assert cells[:3] == [
            "10 Personen (31.12.2022)",
            "22 Personen (31.12.2024)",
            "30 Personen (31.12.2026)",
        ]
        # sqrt(22/10) − 1 = +48,3 % a year, 3 ** (1/4) − 1 = +31,6 % needed: 153 %
        assert cells[3] == (
            "Deutlicher Fortschritt\n+48,3 % pro Jahr, nötig +31,6 % pro Jahr (153 % des Tempos)"
        )
        wait_text(page, "#ziel-mentoren .goal-table tbody td", "ja (31.12.2024)")
        milestone = page.locator("#ziel-mentoren .goal-table tbody td").all_inner_texts()
        assert milestone == [
            "nein (31.12.2022)",
            "ja (31.12.2024)",
            "ja (31.12.2025)",
            "Ziel erreicht\n",
        ]
        reason = page.locator("#ziel-einwohner .goal-table tbody td").nth(3)
        wait_text(page, "#ziel-einwohner .goal-table tbody td", "weniger als zwei Werte")
        assert reason.inner_text() == (
            "nicht bewertbar\nweniger als zwei Werte seit dem Ausgangswert"
        )
        # the trend chart with its target line; the withheld count in the table below it
        wait_text(page, "#goal-chart-teilnehmende .legendtext", "Zielwert bis Zieldatum")
        legend = page.locator("#goal-chart-teilnehmende .legendtext").all_text_contents()
        assert legend == ["Veröffentlichte Werte", "Ausgangswert", "Zielwert bis Zieldatum"]
        wait_text(page, "#goal-chart-teilnehmende .gtitle", "Teilnehmende")
        title = page.locator("#goal-chart-teilnehmende .gtitle").text_content()
        assert title.startswith("Teilnehmende")
        page.locator("#ziel-schulungen details.goal-values summary").nth(1).click()
        wait_text(page, "#goal-values-lotsen tbody", "geheim gehalten")
        assert page.locator("#goal-values-lotsen tbody tr").all_inner_texts() == [
            "31.12.2023\tgeheim gehalten",
            "31.12.2024\t6",
        ]
        with page.expect_download() as download:  # the chart, print-ready
            page.locator("#ziel-schulungen .export-button", has_text="SVG").first.click()
        assert download.value.suggested_filename == "teilnehmende_ziel_2024-12-31.svg"
        svg = Path(download.value.path()).read_text(encoding="utf-8")
        assert "Teilnehmende" in svg and "Quelle: Integrationsbüro Kleinstadt (Testdaten)" in svg
        inject_axe(page)  # WCAG 2.x A/AA, chart text against the paper
        assert_no_violations(page)
        assert_chart_contrast(page)
        screenshot(page, "goals")
        page.goto(goal_url + "/ziele?lang=en")  # English: labels from strings.yaml
        wait_text(page, "#card-ehrenamt", "Target achieved")
        assert page.locator("h1").inner_text() == "Integration goals"
        wait_text(page, "#ziel-einwohner .goal-table tbody td", "fewer than two values")
        reason = page.locator("#ziel-einwohner .goal-table tbody td").nth(3).inner_text()
        assert reason == "Not assessable\nfewer than two values since the baseline"
        assert page.problems == []
