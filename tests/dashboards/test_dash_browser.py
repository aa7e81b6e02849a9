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
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from dashboards import formatting
from dashboards.app import create_app
from dashboards.data import catalogue, queries
from dashboards.data import overview as overview_data

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


@contextmanager
def serve(curated_dir: Path):
    """The dashboard of ``curated_dir`` on a free local port (yields its base URL)."""
    with serve_wsgi(create_app(curated_dir).server) as url:
        yield url


@contextmanager
def serve_wsgi(app):
    """A WSGI app on a free local port in a background thread (yields its base URL)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def server_url(curated_dir):
    with serve(curated_dir) as url:
        yield url


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
    with open_page(browser, server_url) as new_page:
        yield new_page


@contextmanager
def open_page(browser, server_url: str):
    """A fresh page for ``server_url`` that records every problem a user or the console
    would see (``page.problems``); requests elsewhere are blocked and recorded."""
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
    documents = [0]  # main-frame navigations so far
    issued: dict = {}  # request -> the document that issued it

    def on_request(request):
        if request.is_navigation_request() and request.frame == page.main_frame:
            documents[0] += 1
        issued[request] = documents[0]

    def on_failed(request):
        # Leaving a page aborts its callbacks still in flight; that is the browser
        # doing its job, not a failure of the app. So is a script it stops loading (dcc's
        # lazy chunks): Chromium may report that cancel before the next page's navigation
        # request, so it is not told by the document (a missing script is a 404 response).
        left = issued.get(request, documents[0]) < documents[0]
        cancelled = left or request.resource_type == "script"
        if not (cancelled and request.failure == "net::ERR_ABORTED"):
            problems.append(f"failed: {request.url} {request.failure}")

    page.on("request", on_request)
    page.on("requestfailed", on_failed)
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status}: {r.url}"))
    page.problems = problems
    try:
        yield page
    finally:
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


def wait_url(page, *fragments: str) -> None:
    """Wait until the address bar holds every fragment: the URL sync runs after
    the view update, so reading ``page.url`` right after the view races it."""
    page.wait_for_function(
        "fs => fs.every(f => decodeURIComponent(window.location.href).includes(f))",
        arg=list(fragments),
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
    figures = overview_data.key_figures(wh, dates[-1], "de")
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
        wait_url(page, "date=" + dates[-2])
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
    wait_url(page, f"level={coarse.level}")
    other = next(i for i in indicators if i.indicator_id != shown)
    select(page, "map-indicator", other.title)
    wait_text(page, "#map-graph .gtitle", other.title)
    wait_url(page, f"indicator={other.indicator_id}")
    select(page, "map-indicator", catalogue.indicators(wh, "de")[shown].title)
    select(page, "map-level", fine.label)
    wait_count(page, paths, len(queries.geometries(wh, fine.level, dates[-1])))
    finish(page, "map")


def test_map_date_change_is_drawn_in_the_browser(browser, synthetic_curated_dir):
    """Another date on the same boundaries re-colours the map without asking the server
    for a figure (frames, pages/map.py); the colours are those of that date's classes."""
    wh = queries.open_warehouse(synthetic_curated_dir)
    dates = [
        d
        for d in catalogue.indicator_dates(wh, "population")
        if catalogue.has_geometry(wh, "district", d)
    ]
    with serve(synthetic_curated_dir) as server_url, open_page(browser, server_url) as page:
        _recolour_in_the_browser(page, server_url, wh, dates)


def _recolour_in_the_browser(page, server_url: str, wh, dates: list[str]) -> None:
    page.goto(f"{server_url}/karte?indicator=population&level=district&date={dates[-1]}")
    paths = "#map-graph path.choroplethlocation"
    wait_count(page, paths, len(queries.geometries(wh, "district", dates[-1])))
    page.wait_for_load_state("networkidle")
    figure_requests = []
    page.on(
        "request",
        lambda r: (
            "_dash-update-component" in r.url
            and "map-graph.figure" in (r.post_data or "")
            and figure_requests.append(r)
        ),
    )
    select(page, "map-date", formatting.format_date(dates[0]))
    wait_text(page, "#map-graph .gtitle-subtitle", f"Stichtag {formatting.format_date(dates[0])}")
    wait_url(page, f"date={dates[0]}")
    page.wait_for_load_state("networkidle")
    assert figure_requests == []
    # residents 2022: 500, 1000, 1500, 2000 in districts 11, 12, 21, 22 -> quantile classes
    # 1, 4, 3, 0 (tests/dashboards/test_map_classes.py): four different colours, in the
    # order of the class colours the server gives that date
    fills = page.eval_on_selector_all(paths, "ps => ps.map(p => getComputedStyle(p).fill)")
    assert dates[0] == "2022-12-31" and len(set(fills)) == 4
    scale = page.evaluate(
        "document.getElementById('map-graph').querySelector('.js-plotly-plot').data[0].colorscale"
    )
    colours = list(dict.fromkeys(_rgb(colour) for _, colour in scale))  # class 0 .. 4
    assert [_rgb(f) for f in fills] == [colours[c] for c in (1, 4, 3, 0)]
    finish(page, "map-date-client-side")


def test_map_date_before_the_frames_arrive_is_drawn_by_the_server(browser, synthetic_curated_dir):
    """The frames come after the map is drawn; a date chosen before they arrive is drawn
    by the server (map-fetch), and the map shows that date."""
    wh = queries.open_warehouse(synthetic_curated_dir)
    dates = [
        d
        for d in catalogue.indicator_dates(wh, "population")
        if catalogue.has_geometry(wh, "district", d)
    ]
    held, figure_requests, released = [], [], []

    def hold_frames(route):
        if not released and "map-frames.data" in (route.request.post_data or ""):
            held.append(route)
        else:
            route.fallback()

    with serve(synthetic_curated_dir) as server_url, open_page(browser, server_url) as page:
        page.route("**/_dash-update-component*", hold_frames)
        page.on(
            "request",
            lambda r: "map-graph.figure" in (r.post_data or "") and figure_requests.append(r),
        )
        page.goto(f"{server_url}/karte?indicator=population&level=district&date={dates[-1]}")
        wait_count(page, "#map-graph path.choroplethlocation", 4)
        for _ in range(200):
            if held:
                break
            page.wait_for_timeout(50)
        assert len(held) == 1 and len(figure_requests) == 1  # the first map, then frames
        select(page, "map-date", formatting.format_date(dates[0]))
        wait_text(
            page, "#map-graph .gtitle-subtitle", f"Stichtag {formatting.format_date(dates[0])}"
        )
        assert len(figure_requests) == 2
        released.append(True)
        for route in held:  # the frames asked for after the first map (and the second)
            route.fallback()
        page.wait_for_load_state("networkidle")
        assert page.problems == []


def _rgb(colour: str) -> tuple:
    """'rgb(1, 2, 3)' or '#010203' -> (1, 2, 3)."""
    if colour.startswith("#"):
        return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return tuple(int(float(v)) for v in re.findall(r"[\d.]+", colour)[:3])


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


# --- the real instances ----------------------------------------------------------------
@pytest.fixture(scope="module")
def berlin_url(berlin_curated_dir):
    with serve(berlin_curated_dir) as url:
        yield url


@pytest.fixture(scope="module")
def rlp_url(rlp_curated_dir):
    with serve(rlp_curated_dir) as url:
        yield url


@pytest.fixture()
def berlin_page(browser, berlin_url):
    with open_page(browser, berlin_url) as new_page:
        yield new_page


@pytest.fixture()
def rlp_page(browser, rlp_url):
    with open_page(browser, rlp_url) as new_page:
        yield new_page


PATHS = "#map-graph path.choroplethlocation"
MAP_ROWS = "#map-table-table tbody tr"


def wait_at_least(page, selector: str, count: int) -> None:
    page.wait_for_function(
        "([s, n]) => document.querySelectorAll(s).length >= n", arg=[selector, count]
    )


def test_berlin_planning_areas_mapped_until_2020_table_only_after(berlin_page, berlin_url):
    page = berlin_page
    page.goto(f"{berlin_url}/karte?indicator=foreigner_share&level=planning_area&date=2015-12-31")
    wait_at_least(page, PATHS, 440)
    assert page.locator(PATHS).count() <= 448
    wait_text(page, "#map-graph .gtitle", "Ausländeranteil")
    wait_text(page, "#map-graph .annotation-text", "Amt für Statistik Berlin-Brandenburg")
    assert page.locator("#map-graph .colorbar").count() == 1
    wait_count(page, MAP_ROWS, 100)  # first page of 448
    screenshot(page, "berlin-map-planning-areas-2015")
    select(page, "map-date", "31.12.2024")
    page.wait_for_selector("#map-no-geometry")
    notice = page.locator("#map-no-geometry").inner_text()
    assert "Planungsraum" in notice and "31.12.2024" in notice and "bis 31.12.2020" in notice
    assert not page.locator("#map-graph-panel").is_visible()
    wait_text(page, "#map-table .page-info", "von 542")
    wait_count(page, MAP_ROWS, 100)
    wait_url(page, "date=2024-12-31", "level=planning_area")
    finish(page, "berlin-map-planning-areas-2024-table-only")


def test_berlin_districts_2024(berlin_page, berlin_url):
    page = berlin_page
    page.goto(f"{berlin_url}/karte?indicator=foreigner_share&level=district&date=2024-12-31")
    wait_count(page, PATHS, 12)
    wait_count(page, MAP_ROWS, 12)
    assert page.locator("#map-graph-panel").is_visible()
    assert page.locator("#map-no-geometry").count() == 0
    wait_text(page, MAP_ROWS, "Friedrichshain-Kreuzberg")
    finish(page, "berlin-map-districts-2024")


def test_berlin_overview_and_half_yearly_trend(berlin_page, berlin_url):
    page = berlin_page
    page.goto(berlin_url + "/")
    wait_count(page, "#overview-table-table tbody tr", 12)
    wait_count(page, ".kpi", 6)
    screenshot(page, "berlin-overview")
    page.goto(f"{berlin_url}/zeitreihen?indicator=foreigner_share&level=district&areas=01,02")
    wait_count(page, "#trends-graph g.scatterlayer g.trace", 3)
    points = page.locator("#trends-graph g.scatterlayer g.trace").first.locator("path.point")
    assert points.count() == 20  # half-yearly 2015–2024
    ticks = page.locator("#trends-graph g.xtick text").all_text_contents()
    assert ticks and all(tick.startswith("31.12.") for tick in ticks)
    finish(page, "berlin-trends-districts")


def test_rlp_county_map(rlp_page, rlp_url):
    page = rlp_page
    page.goto(f"{rlp_url}/karte?indicator=foreigner_share&date=2015-12-31&level=kreis")
    wait_count(page, PATHS, 36)
    wait_count(page, MAP_ROWS, 36)
    row = page.locator(MAP_ROWS, has_text="Koblenz, Kreisfreie Stadt")
    assert row.locator("td").first.inner_text() == "10,5 %"
    wait_text(page, "#map-graph .annotation-text", "Regionaldatenbank Deutschland")
    assert page.locator("#map-date").inner_text().strip() == "31.12.2015"
    screenshot(page, "rlp-map-foreigner-share-2015")
    employees = "Ausländeranteil an den Beschäftigten am Wohnort"
    select(page, "map-indicator", employees)  # has no 31.12.2015: its latest date instead
    wait_text(page, "#map-date", "30.06.2015")
    wait_text(page, "#map-graph .gtitle", employees)
    wait_text(page, "#map-graph .g-gtitle", "Stichtag 30.06.2015")
    wait_url(page, "date=2015-06-30")
    page.click("#map-date")
    dates = page.locator("[role=option]:not(#map-labels *)")  # not the labels checkbox
    assert dates.all_inner_texts() == [f"30.06.{year}" for year in (2015, 2014, 2013, 2012)]
    page.keyboard.press("Escape")
    finish(page, "rlp-map-employees-2015-06")


def test_rlp_trend_unemployment_of_foreigners_in_koblenz(rlp_page, rlp_url):
    page = rlp_page
    page.goto(
        f"{rlp_url}/zeitreihen?indicator=unemployment_rate_foreigners&level=kreis&areas=07111"
    )
    rows = page.locator("#trends-table-table tbody tr", has_text="Koblenz, Kreisfreie Stadt")
    page.wait_for_function(
        "n => document.querySelectorAll('#trends-table-table tbody tr').length === n", arg=32
    )
    dates = [rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())]
    assert dates == [f"31.12.{year}" for year in range(2001, 2017)]
    # the table (HTML) is drawn before Plotly has loaded: wait for the chart itself
    legend = "#trends-graph g.legend g.traces"
    wait_text(page, legend, "Stichtag ohne Wert (Hinweis)")
    assert set(page.locator(legend).all_text_contents()) >= {
        "Koblenz, Kreisfreie Stadt",
        "Stichtag ohne Wert (Hinweis)",
    }
    wait_text(page, "#trends-table .table-notes", "nichts vorhanden")
    finish(page, "rlp-trends-unemployment-foreigners-koblenz")


def test_rlp_overview_and_net_migration_map(rlp_page, rlp_url):
    page = rlp_page
    page.goto(rlp_url + "/")
    wait_count(page, "#overview-table-table tbody tr", 36)
    wait_count(page, ".kpi", 5)
    assert "Stand: 31.12.2015" in page.locator("#kpi-population .kpi-date").inner_text()
    screenshot(page, "rlp-overview")
    page.goto(f"{rlp_url}/karte?indicator=net_migration_abroad_foreigners&date=2007-12-31")
    wait_count(page, PATHS, 36)
    wait_text(page, "#map-graph .cbaxis text", "−")  # German minus on the colour bar
    # a balance is the difference of its published components: Kusel's +2 (178 arrivals,
    # 176 departures, file 12711) is published, not withheld as a small count
    assert page.locator("#map-legend").count() == 0  # drawn with the map: nothing withheld
    finish(page, "rlp-map-net-migration-2007")
