"""On a phone (390 × 844, Chromium): the menu folds behind a button, no page is wider than
the screen, a table wider than its box says so, and no chart text is cut at the chart's
edge or printed over another (#19; assets/phone.js, style.css, figures.common.narrow)."""

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


# Texts inside each chart: title, subtitle, source line, legend, tick labels, colour bar.
CHART_TEXTS = (
    ".gtitle, .g-gtitle text, .annotation-text, .legendtext, .xtick text, .ytick text, "
    ".cbtitle text, .cbaxis text"
)
# every chart text outside its chart's box, and every pair of chart texts that overprint
CHART_JS = """
(selector) => {
  const out = [];
  for (const g of document.querySelectorAll('#main .js-plotly-plot')) {
    const box = g.getBoundingClientRect();
    if (!box.width) continue;
    const texts = Array.from(g.querySelectorAll(selector))
      .filter(e => e.getClientRects().length && (e.textContent || '').trim())
      .map(e => [(e.getAttribute('class') || e.tagName) + ' ' + e.textContent.slice(0, 30),
                 e.getBoundingClientRect()]);
    const name = (g.closest('[id]') || g).id;
    for (const [text, r] of texts)
      if (r.left < box.left - 1 || r.right > box.right + 1
          || r.top < box.top - 1 || r.bottom > box.bottom + 1)
        out.push(`${name}: "${text}" cut`);
    texts.forEach(([a, ra], i) => texts.slice(i + 1).forEach(([b, rb]) => {
      const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (w > 2 && h > 2) out.push(`${name}: "${a}" over "${b}"`);
    }));
  }
  return out;
}
"""
# every chart on the page drawn (a figure, not Dash's loading state)
CHARTS_DRAWN_JS = """
() => !document.querySelector('#main [data-dash-is-loading]')
      && Array.from(document.querySelectorAll('#main .js-plotly-plot'))
           .every(g => g.querySelector('.main-svg .gtitle, .main-svg .annotation-text'))
"""


def test_charts_on_a_phone_keep_their_texts_inside_and_apart(browser, synthetic_curated_dir):  # noqa: F811
    """#19: at 390 px no chart text is cut at the chart's edge or printed over another
    (the figures are laid out for phones on the server: dashboards/figures/common.narrow)."""
    with serve(synthetic_curated_dir) as url, open_page(browser, url) as page:
        page.set_viewport_size(PHONE)
        page.goto(f"{url}/")
        page.locator("#main h1").first.wait_for()
        paths = page.eval_on_selector_all(
            "#nav-menu a.nav-link", "links => links.map(a => new URL(a.href).pathname)"
        )
        found = {}
        for path in paths:
            page.goto(f"{url}{path}")
            page.locator("#main h1").first.wait_for()
            page.wait_for_load_state("networkidle")
            page.wait_for_function(CHARTS_DRAWN_JS)
            found[path] = page.evaluate(CHART_JS, CHART_TEXTS)
            page.wait_for_load_state("networkidle")  # lazy scripts, before leaving the page
        assert {path: texts for path, texts in found.items() if texts} == {}
        assert page.problems == []
