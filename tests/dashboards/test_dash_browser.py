"""Browser tests: the three pages in real headless Chromium (Playwright, sync API).

The app for the ``curated_dir`` fixture runs in a background thread; expectations (number
of areas, dates, labels) are read from the same warehouse, so the tests also run against a
real built city when ``curated_dir`` is overridden. Every test fails on browser console
errors, page errors, failed or non-local requests and HTTP errors. Screenshots go to
``test-artifacts/`` for a human look.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from dashboards import catalogue, formatting, keyfigures, queries
from dashboards.app import create_app

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def server_url(curated_dir):
    app = create_app(curated_dir)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (no `playwright install`)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser, server_url):
    """A fresh page that records every problem a user or the console would see."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
    problems: list[str] = []

    def only_local(route):
        if route.request.url.startswith(server_url):
            route.continue_()
        else:
            problems.append(f"non-local request: {route.request.url}")
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status}: {r.url}"))
    page.problems = problems
    yield page
    context.close()


@pytest.fixture(scope="module")
def wh(curated_dir):
    return queries.open_warehouse(curated_dir)


def select(page, dropdown_id: str, label: str) -> None:
    """Choose ``label`` in a dcc.Dropdown the way a person does."""
    page.click(f"#{dropdown_id}")
    page.get_by_role("option", name=label, exact=True).click()


def wait_count(page, selector: str, count: int) -> None:
    page.wait_for_function(
        "([s, n]) => document.querySelectorAll(s).length === n", arg=[selector, count]
    )


def wait_text(page, selector: str, text: str) -> None:
    page.wait_for_function(
        "([s, t]) => Array.from(document.querySelectorAll(s)).some(e => e.textContent.includes(t))",
        arg=[selector, text],
    )


def screenshot(page, name: str) -> None:
    page.wait_for_load_state("networkidle")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def finish(page, name: str) -> None:
    """Let pending callbacks settle, save a screenshot, fail on recorded problems."""
    screenshot(page, name)
    assert page.problems == []


def test_overview(page, server_url, wh):
    dates = catalogue.ref_dates(wh)
    levels = [lvl for lvl in catalogue.levels(wh, "de").values() if lvl.rank > 0]
    figures = keyfigures.key_figures(wh, dates[-1], "de")
    page.goto(server_url + "/")
    wait_count(page, ".kpi .kpi-value", len(figures))
    for figure in figures:
        value = page.locator(f"#kpi-{figure.indicator.indicator_id} .kpi-value").inner_text()
        assert value and value != formatting.MISSING
    stand = f"Stand: {formatting.format_date(dates[-1])}"
    assert page.locator(".kpi-date").first.inner_text() == stand
    n_areas = len(queries.areas(wh, levels[0].level, dates[-1]))
    wait_count(page, "#overview-table-table tbody tr", n_areas)
    if len(dates) > 1:
        select(page, "overview-date", formatting.format_date(dates[-2]))
        wait_text(page, ".kpi-date", formatting.format_date(dates[-2]))
        assert "date=" + dates[-2] in page.url
    if len(levels) > 1:
        select(page, "overview-level", levels[1].label)
        wait_count(
            page,
            "#overview-table-table tbody tr",
            len(queries.areas(wh, levels[1].level, dates[-1])),
        )
    page.locator("#overview-table-table thead .sort-button").nth(1).click()
    page.wait_for_selector("#overview-table-table thead th[aria-sort='ascending']")
    screenshot(page, "overview")
    page.get_by_role("link", name="Karte", exact=True).click()  # client-side navigation
    page.wait_for_selector("#map-graph path.choroplethlocation")
    assert page.locator(".nav-link.active").inner_text() == "Karte"
    finish(page, "overview-to-map")


def test_map(page, server_url, wh):
    dates = catalogue.ref_dates(wh)
    levels = catalogue.map_levels(wh, "de")
    fine, coarse = levels[-1], levels[0]
    indicators = [i for i in catalogue.indicators(wh, "de").values() if not i.is_segregation]
    shown = catalogue.default_indicator(indicators)
    page.goto(f"{server_url}/karte?indicator={shown}&level={fine.level}")
    paths = "#map-graph path.choroplethlocation"
    wait_count(page, paths, len(queries.geometries(wh, fine.level, dates[-1])))
    assert (
        page.locator("#map-graph .gtitle")
        .text_content()
        .startswith(catalogue.indicators(wh, "de")[shown].title)
    )
    _check_hover(page, paths)
    select(page, "map-level", coarse.label)
    wait_count(page, paths, len(queries.geometries(wh, coarse.level, dates[-1])))
    wait_count(
        page,
        "#map-table-table tbody tr",
        len(queries.area_values(wh, (shown,), dates[-1], coarse.level)),
    )
    assert f"level={coarse.level}" in page.url
    other = next(i for i in indicators if i.indicator_id != shown)
    select(page, "map-indicator", other.title)
    wait_text(page, "#map-graph .gtitle", other.title)
    assert f"indicator={other.indicator_id}" in page.url
    select(page, "map-indicator", catalogue.indicators(wh, "de")[shown].title)
    select(page, "map-level", fine.label)
    wait_count(page, paths, len(queries.geometries(wh, fine.level, dates[-1])))
    finish(page, "map")


def _check_hover(page, paths: str) -> None:
    """Hovering an area shows its name and a German-formatted value."""
    box = page.locator(paths).first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#map-graph g.hovertext")
    text = page.locator("#map-graph g.hovertext").text_content()
    assert re.search(r"\d,\d+ %|geheim gehalten|nicht definiert", text), text
    assert not re.search(r"\d\.\d+ %", text), text  # no English decimal point
    page.mouse.move(5, 5)


def test_trends(page, server_url, wh):
    dates = catalogue.ref_dates(wh)
    levels = [lvl for lvl in catalogue.levels(wh, "de").values() if lvl.rank > 0]
    legend = "#trends-graph g.legend g.traces"
    page.goto(server_url + "/zeitreihen")
    n_fine = len(queries.areas(wh, levels[-1].level, dates[-1]))
    wait_count(page, legend, 1 + min(3, n_fine))
    wait_count(page, "#trends-graph g.scatterlayer g.trace", 1 + min(3, n_fine))
    points = page.locator("#trends-graph g.scatterlayer g.trace").first.locator("path.point")
    assert points.count() == len(dates)
    screenshot(page, "trends")
    if len(levels) > 1:
        select(page, "trends-level", levels[0].label)
        wait_count(page, legend, 1 + min(3, len(queries.areas(wh, levels[0].level, dates[-1]))))
    segregation = [i for i in catalogue.indicators(wh, "de").values() if i.is_segregation]
    if segregation:
        city = catalogue.city(wh).area_id
        series = queries.series(wh, segregation[0].indicator_id, (city,))
        select(page, "trends-indicator", segregation[0].title)
        wait_count(page, legend, series["level"].nunique())
        assert page.locator("#trends-areas").is_disabled()
    finish(page, "trends-segregation")
