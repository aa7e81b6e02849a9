"""Language switch and several instances in one dashboard (dashboards/context.py).

The language and the instance are part of the page's URL (``?lang=en``, ``?instance=``):
page requests carry them in their query string, callback requests in the ``Referer``.
"""

from __future__ import annotations

import json
import re
import shutil
from contextlib import contextmanager

import duckdb
import pytest

from dashboards.app import create_app
from dashboards.i18n import t
from etl.warehouse import PUBLICATION
from tests.dashboards.test_dash_browser import (  # noqa: F401
    TIMEOUT_MS,
    browser,
    open_page,
    select,
    serve_wsgi,
    wait_url,
)

SECOND_TITLE = "Zweitstadt"


@pytest.fixture(scope="module")
def two_instances(synthetic_curated_dir, tmp_path_factory):
    """The synthetic city and a copy of it titled "Zweitstadt" (meta.title)."""
    second = tmp_path_factory.mktemp("second") / "curated"
    shutil.copytree(synthetic_curated_dir, second, symlinks=True)
    with duckdb.connect(str(second / "current" / PUBLICATION)) as con:
        con.execute("UPDATE meta SET value = ? WHERE key = 'title'", [SECOND_TITLE])
    with duckdb.connect(
        str(synthetic_curated_dir / "current" / PUBLICATION), read_only=True
    ) as con:
        first_title = con.execute("SELECT value FROM meta WHERE key = 'title'").fetchall()[0][0]
    return {"teststadt": synthetic_curated_dir, "zweitstadt": second}, first_title


def layout_text(client, referrer: str) -> str:
    response = client.get("/_dash-layout", headers={"Referer": referrer})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_language_from_the_url(synthetic_curated_dir):
    client = create_app(synthetic_curated_dir).server.test_client()
    assert '<html lang="de">' in client.get("/karte").get_data(as_text=True)
    assert '<html lang="en">' in client.get("/karte?lang=en").get_data(as_text=True)
    assert '<html lang="de">' in client.get("/karte?lang=xx").get_data(as_text=True)
    german = layout_text(client, "http://localhost/karte")
    english = layout_text(client, "http://localhost/karte?indicator=x&lang=en")
    assert t("nav.label", "de") in german and "English" in german
    assert t("nav.label", "en") in english and "Deutsch" in english
    assert t("nav.label", "de") not in english


def test_instance_from_the_url(two_instances):
    instances, first_title = two_instances
    client = create_app(instances).server.test_client()
    default = layout_text(client, "http://localhost/")
    second = layout_text(client, "http://localhost/karte?instance=zweitstadt")
    unknown = layout_text(client, "http://localhost/?instance=nowhere")
    # the brand shows the instance's title; every instance is offered as a link
    assert brand(default) == first_title and brand(second) == SECOND_TITLE
    assert links(default) == links(second) == [first_title, SECOND_TITLE]
    assert unknown == default


def brand(layout: str) -> str:
    return json_nodes(layout, lambda n: n.get("className") == "brand-place")[0]["children"]


def links(layout: str) -> list[str]:
    return [
        n["children"]
        for n in json_nodes(
            layout, lambda n: isinstance(n.get("id"), dict) and n["id"].get("key") == "instance"
        )
    ]


def json_nodes(layout: str, keep) -> list[dict]:
    """The props of every component in a layout response that ``keep`` accepts."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if "props" in node and keep(node["props"]):
                found.append(node["props"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(layout))
    return found


def test_a_single_instance_offers_no_instance_links(synthetic_curated_dir):
    client = create_app(synthetic_curated_dir).server.test_client()
    assert '"instance"' not in layout_text(client, "http://localhost/")


@contextmanager
def serve_instances(instances):
    with serve_wsgi(create_app(instances).server) as url:
        yield url


def test_switches_keep_the_view_in_the_browser(browser, two_instances):  # noqa: F811
    instances, _ = two_instances
    with serve_instances(instances) as url:
        with open_page(browser, url) as page:
            page.goto(f"{url}/karte?level=district", wait_until="networkidle")
            page.wait_for_selector("#main h1", timeout=TIMEOUT_MS)
            assert page.locator("html").get_attribute("lang") == "de"
            assert not page.problems, page.problems
            # a view changed on the page (the address rewritten, dcc.Location not told)
            select(page, "map-level", "Stadtbezirk")
            wait_url(page, "level=borough")
            page.get_by_role("link", name="English").click()
            page.wait_for_url(re.compile(r"lang=en"), timeout=TIMEOUT_MS)
            page.wait_for_selector("#main h1", timeout=TIMEOUT_MS)
            assert page.locator("html").get_attribute("lang") == "en"
            wait_url(page, "level=borough")
            assert page.locator("nav.nav").get_attribute("aria-label") == t("nav.label", "en")
            # navigating keeps the language
            page.get_by_role("link", name=t("nav.trends", "en"), exact=True).click()
            page.wait_for_url(re.compile(r"/zeitreihen\?.*lang=en"), timeout=TIMEOUT_MS)
            page.wait_for_selector("#main h1", timeout=TIMEOUT_MS)
            assert page.locator("html").get_attribute("lang") == "en"
            # the other instance, same page and language
            page.wait_for_load_state("networkidle")
            page.get_by_role("link", name=SECOND_TITLE).click()
            page.wait_for_url(re.compile(r"instance=zweitstadt"), timeout=TIMEOUT_MS)
            page.wait_for_selector(".brand-place", timeout=TIMEOUT_MS)
            assert page.locator(".brand-place").inner_text() == SECOND_TITLE
            wait_url(page, "/zeitreihen", "lang=en")
            copied = page.url
        # the copied URL in a new browser context gives the same view, without a fault
        with open_page(browser, url) as fresh:
            fresh.goto(copied, wait_until="networkidle")
            fresh.wait_for_selector(".brand-place", timeout=TIMEOUT_MS)
            assert fresh.locator(".brand-place").inner_text() == SECOND_TITLE
            assert fresh.locator("html").get_attribute("lang") == "en"
            assert not fresh.problems, fresh.problems
