"""Series breaks in real headless Chromium on the Berlin build (issue #18): no sentence
claims a change across the 2021 LOR break, the break is drawn and named, and Vergleich,
Segregation and Zeitreihen open on a view with values (districts, first year vs latest).

Every wait is on the element that is read afterwards (``expect``), never a fixed sleep.
Screenshots at 1280 and 390 px go to ``test-artifacts/``.
"""

from __future__ import annotations

import re

import pytest
from test_dash_browser import TIMEOUT_MS, finish, open_page, screenshot, serve

from dashboards.components.tables import PAGE_SIZE

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

REAL_CHANGE = "tatsächliche Veränderung"
REDRAWN = ("forecast_area", "district_region", "planning_area")


@pytest.fixture(scope="module")
def berlin_url(berlin_curated_dir):
    with serve(berlin_curated_dir) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from test_dash_browser import BROWSER_ARGS, CHROMIUM

    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        yield browser
        browser.close()


def _narrow(browser, url: str, path: str, ready: str, name: str) -> None:
    """The page as on a phone (390 px wide from the start, so the charts are laid out
    for it): wait for ``ready`` (the last thing drawn), screenshot, no problems."""
    with open_page(browser, url) as page:
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(url + path)
        expect(page.locator(ready).first).to_be_visible()
        finish(page, name)


def test_segregation_states_no_change_across_the_2021_break(browser, berlin_url):
    with open_page(browser, berlin_url) as page:
        expect.set_options(timeout=TIMEOUT_MS)
        page.goto(f"{berlin_url}/segregation")  # defaults: first date vs latest
        items = page.locator("#seg-change li.change")
        expect(items).to_have_count(4)
        district = page.locator("#seg-change li[data-level='district']")
        expect(district).to_have_class(re.compile(r"change-(exceeds|within|no_benchmark)"))
        expect(district).to_contain_text("30.06.2015")
        for level in REDRAWN:
            item = page.locator(f"#seg-change li[data-level='{level}']")
            expect(item).to_have_class(re.compile(r"\bchange-break\b"))
            expect(item).to_contain_text("Reihenbruch")
            expect(item).not_to_contain_text(REAL_CHANGE)
        breaks = page.locator("#seg-levels-graph .annotation-text", has_text="Reihenbruch")
        expect(breaks).to_have_count(3)  # one per redrawn level's panel
        expect(
            page.locator("#seg-levels-graph .annotation-text", has_text="ab 30.06.2021: 531")
        ).to_have_count(1)
        expect(page.locator("#seg-level")).to_contain_text("Bezirk")  # map level comparable
        expect(page.locator("#seg-index-table")).to_contain_text("Reihenbruch am 01.01.2021")
        screenshot(page, "breaks-segregation-berlin")
        # within the new boundaries the statements come back
        page.goto(f"{berlin_url}/segregation?start=2021-06-30&end=2024-12-31")
        item = page.locator("#seg-change li[data-level='planning_area']")
        expect(item).to_have_class(re.compile(r"change-(exceeds|within|no_benchmark)"))
        expect(page.locator("#seg-change li.change-break")).to_have_count(0)
        finish(page, "breaks-segregation-berlin-after-2021")
    ready = "#seg-levels-graph .annotation-text >> text=Reihenbruch"
    _narrow(browser, berlin_url, "/segregation", ready, "breaks-segregation-berlin-390")


def test_compare_opens_on_districts_and_names_the_break(browser, berlin_url):
    with open_page(browser, berlin_url) as page:
        expect.set_options(timeout=TIMEOUT_MS)
        page.goto(f"{berlin_url}/vergleich")
        expect(page.locator("#compare-level")).to_contain_text("Bezirk")
        expect(page.locator("#compare-map path.choroplethlocation")).to_have_count(12)
        expect(page.locator("#compare-map .gtitle")).to_contain_text("Veränderung")
        expect(page.locator("#compare-note .break-note")).to_have_count(0)
        screenshot(page, "breaks-compare-berlin")
        page.goto(f"{berlin_url}/vergleich?level=forecast_area")
        note = page.locator("#compare-note .break-note")
        expect(note).to_contain_text("Reihenbruch: Die Gebietsgliederung der Ebene Prognoseraum")
        expect(note).to_contain_text("Mit gleichen Grenzen an beiden Stichtagen: Bezirk.")
        finish(page, "breaks-compare-berlin-forecast-areas")
    ready = "#compare-map path.choroplethlocation"
    _narrow(browser, berlin_url, "/vergleich", ready, "breaks-compare-berlin-390")


def test_trends_open_on_named_districts_and_mark_the_break(browser, berlin_url):
    with open_page(browser, berlin_url) as page:
        expect.set_options(timeout=TIMEOUT_MS)
        page.goto(f"{berlin_url}/zeitreihen")
        expect(page.locator("#trends-level")).to_contain_text("Bezirk")
        expect(page.locator("#trends-areas")).to_contain_text("Mitte")
        expect(page.locator("#trends-graph .legendtext")).to_have_count(4)  # Berlin + 3
        expect(page.locator("#trends-definition .break-note")).to_have_count(0)
        screenshot(page, "breaks-trends-berlin")
        page.goto(
            f"{berlin_url}/zeitreihen?indicator=foreigner_share&level=planning_area&areas=01100101"
        )
        note = page.locator("#trends-definition .break-note")
        expect(note).to_contain_text("Reihenbruch am 01.01.2021: neue Gebietsgliederung")
        mark = page.locator("#trends-graph .annotation-text", has_text="Reihenbruch")
        expect(mark).to_have_count(1)
        finish(page, "breaks-trends-berlin-planning-area")
    path = "/zeitreihen?indicator=foreigner_share&level=planning_area&areas=01100101"
    ready = "#trends-graph .annotation-text >> text=Reihenbruch"
    _narrow(browser, berlin_url, path, ready, "breaks-trends-berlin-planning-area-390")


def _today_values(curated_dir, level: str) -> tuple[int, set[str]]:
    """From the publication, independently of the page: the areas of ``level`` on today's
    boundaries, and the names of those whose 2015 value is an estimate with a value."""
    import duckdb

    path = curated_dir / "current" / "publication.duckdb"
    with duckdb.connect(str(path), read_only=True) as con:
        n = con.execute(
            "SELECT count(*) FROM areas WHERE level = ? AND valid_to IS NULL", [level]
        ).fetchall()[0][0]
        names = con.execute(
            """
            SELECT a.name FROM boundary_values AS v
            JOIN areas AS a ON a.area_id = v.area_id AND a.vintage = v.vintage
            WHERE v.indicator_id = 'foreigner_share' AND v.level = ?
              AND v.ref_date = DATE '2015-06-30' AND v.estimated AND v.value IS NOT NULL
            """,
            [level],
        ).fetchall()
    return n, {r[0] for r in names}


def test_compare_on_todays_boundaries_has_values_and_marks_estimates(
    browser, berlin_url, berlin_curated_dir
):
    query = "indicator=foreigner_share&date_a=2015-06-30&date_b=2024-12-31&boundaries=today"
    with open_page(browser, berlin_url) as page:
        expect.set_options(timeout=TIMEOUT_MS)
        for level, least in (("forecast_area", 50), ("district_region", 120)):
            n, estimated = _today_values(berlin_curated_dir, level)
            page.goto(f"{berlin_url}/vergleich?level={level}&{query}")
            expect(page.locator("#compare-note")).to_contain_text("Auf heutigem Gebietsstand")
            expect(page.locator("#compare-note .break-note")).to_have_count(0)
            rows = page.locator("#compare-change-table tbody tr")
            cells = []
            for shown in range(0, n, PAGE_SIZE):  # the table shows 100 rows a page
                if shown:
                    page.locator("#compare-change-table button.page-button").last.click()
                if n > PAGE_SIZE:
                    info = page.locator("#compare-change-table .page-info").first
                    expect(info).to_contain_text(f"Zeilen {shown + 1}–")
                expect(rows).to_have_count(min(PAGE_SIZE, n - shown))
                cells += [r.locator("td, th").all_inner_texts() for r in rows.all()]
            assert len({c[0] for c in cells}) == n
            with_change = [c for c in cells if re.search(r"\d", c[3])]
            assert len(with_change) >= least, (level, len(with_change), n)
            marked = {c[0] for c in cells if c[4] == "geschätzt"}
            assert marked == estimated, level
            if level == "forecast_area":
                assert n == 58
                expect(page.locator("#compare-map .gtitle")).to_contain_text("Veränderung")
            else:
                assert estimated  # district regions: the inferred and split ones
        finish(page, "breaks-compare-berlin-today")


def _area_change_2015(curated_dir, area_id: str, indicator_id: str) -> str:
    """From the publication, independently of the page: the change of ``indicator_id`` in
    ``area_id`` from its 2015 value on today's boundaries (an estimate) to 31.12.2024, as
    the area page words it ("+2,1 Pp. seit 30.06.2015 (geschätzt)")."""
    import duckdb

    path = curated_dir / "current" / "publication.duckdb"
    with duckdb.connect(str(path), read_only=True) as con:
        ((before, estimated),) = con.execute(
            "SELECT value, estimated FROM boundary_values WHERE indicator_id = ? AND area_id = ?"
            " AND ref_date = DATE '2015-06-30'",
            [indicator_id, area_id],
        ).fetchall()
        (after,) = con.execute(
            "SELECT value FROM indicator_values WHERE indicator_id = ? AND area_id = ?"
            " AND ref_date = DATE '2024-12-31'",
            [indicator_id, area_id],
        ).fetchall()[0]
    assert estimated
    amount = f"{abs(after - before):.1f}".replace(".", ",")
    sign = "±" if amount == "0,0" else "+" if after > before else "−"
    return f"{sign}{amount} Pp. seit 30.06.2015 (geschätzt)"


def test_area_page_switches_to_todays_boundaries_and_flags_the_estimate(
    browser, berlin_url, berlin_curated_dir
):
    from test_dash_browser import select, wait_url

    area = "081001"  # a district region of 2021 with an estimated 2015 value
    expected = _area_change_2015(berlin_curated_dir, area, "foreigner_share")
    with open_page(browser, berlin_url) as page:
        expect.set_options(timeout=TIMEOUT_MS)
        page.goto(f"{berlin_url}/gebiet?area={area}&date=2024-12-31")
        since = page.locator("#area-kpi-foreigner_share .area-changes li").first
        expect(since).to_contain_text("seit 30.06.2021")  # as published: the region is new
        select(page, "area-boundaries", "auf heutigem Gebietsstand")
        expect(since).to_have_text(expected)
        expect(page.locator(".area-glance .boundaries-note")).to_contain_text(
            "Auf heutigem Gebietsstand"
        )
        wait_url(page, "boundaries=today")
        finish(page, "breaks-area-berlin-today")
