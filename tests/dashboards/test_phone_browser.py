"""On a phone (390 × 844, Chromium): the menu folds behind a button, no page is wider than
the screen, and a table wider than its box says so (#19; assets/phone.js, style.css).

Charts are not checked here: they keep the server's layout (their boxes scroll or the
plot shrinks), see the issue."""

from __future__ import annotations

from tests.dashboards.test_dash_browser import (  # noqa: F401
    browser,
    open_page,
    serve,
    wait_text,
    wait_url,
)

PHONE = {"width": 390, "height": 844}
# every element of a page's own text and controls, outside boxes that scroll sideways
OUTSIDE_JS = """
() => Array.from(document.querySelectorAll(
        '#main h1, #main h2, #main p, #main label, #main button, #main a, .topbar *, .footer *'))
    .filter(e => e.getClientRects().length
                 && !e.closest('.table-scroll, .js-plotly-plot, [style*="overflow"]'))
    .filter(e => {
        const r = e.getBoundingClientRect();
        return r.right > innerWidth + 0.5 || r.left < -0.5;
    })
    .map(e => e.tagName + '.' + e.className + ': ' + (e.textContent || '').slice(0, 40))
"""


def test_the_menu_folds_and_no_page_is_wider_than_the_phone(browser, synthetic_curated_dir):  # noqa: F811
    with serve(synthetic_curated_dir) as url, open_page(browser, url) as page:
        page.set_viewport_size(PHONE)
        page.goto(f"{url}/")
        toggle = page.locator(".nav-toggle")
        toggle.wait_for(state="visible")
        assert not page.locator("#nav-menu").is_visible()  # folded
        assert toggle.get_attribute("aria-expanded") == "false"
        toggle.click()
        page.locator("#nav-menu").wait_for(state="visible")
        assert toggle.get_attribute("aria-expanded") == "true"
        paths = page.eval_on_selector_all(
            "#nav-menu a.nav-link", "links => links.map(a => new URL(a.href).pathname)"
        )
        assert len(paths) >= 8 and "/karte" in paths
        page.locator("#nav-menu a.nav-link", has_text="Karte").click()
        wait_url(page, "/karte")
        page.locator("#nav-menu").wait_for(state="hidden")  # folded again after the choice
        assert toggle.get_attribute("aria-expanded") == "false"
        page.wait_for_load_state("networkidle")  # the Karte's scripts, before leaving it

        for path in paths:
            page.goto(f"{url}{path}")
            page.locator("#main h1").first.wait_for()
            page.wait_for_load_state("networkidle")
            wider = page.evaluate("document.documentElement.scrollWidth")
            assert wider <= PHONE["width"], f"{path}: the page is {wider} px wide"
            assert page.evaluate(OUTSIDE_JS) == [], path
        assert page.problems == []


def test_a_table_wider_than_the_phone_says_so(browser, synthetic_curated_dir):  # noqa: F811
    with serve(synthetic_curated_dir) as url, open_page(browser, url) as page:
        page.set_viewport_size(PHONE)
        page.goto(f"{url}/vergleich")
        wait_text(page, ".table-scroll[data-scrolls]", "")  # the hint is set
        box = page.locator(".table-scroll[data-scrolls]").first
        assert box.get_attribute("data-hint") == "Weitere Spalten: seitlich wischen →"
        assert box.evaluate("b => b.scrollWidth > b.clientWidth")
        hint = box.evaluate("b => getComputedStyle(b, '::before').content")
        assert hint == '"Weitere Spalten: seitlich wischen →"'
        page.set_viewport_size({"width": 1280, "height": 900})  # wide enough: no hint
        page.wait_for_function(
            "() => !document.querySelector('.table-scroll[data-scrolls]') "
            "|| Array.from(document.querySelectorAll('.table-scroll[data-scrolls]'))"
            ".every(b => b.scrollWidth > b.clientWidth + 1)"
        )
