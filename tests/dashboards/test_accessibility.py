"""Accessibility of every page in headless Chromium: a WCAG 2.x A/AA audit with axe-core
and keyboard-only use, on the synthetic Teststadt.

axe-core comes bundled in the ``axe-playwright-python`` package (nothing is fetched). It
checks the contrast of HTML text, but reports plotly's SVG chart text as "incomplete" (the
background cannot be determined over the plot's layers), so :func:`assert_chart_contrast`
measures those texts against the chart's paper colour with axe's own colour functions; the
focus ring check uses them too (WCAG 1.4.11: at least 3:1 against the colour around it).

Violations in markup that Dash renders itself, and that no option of ours changes, are
listed in ``DASH_MARKUP`` with the reason; nothing else is left out.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from test_dash_browser import browser, finish, open_page, serve, wait_text, wait_url  # noqa: F401

from dashboards import legal
from dashboards.components import common as components
from dashboards.components import tables
from dashboards.i18n import t

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE = Axe()

# path -> (graphs that must have drawn their traces, table that must have rows)
PAGES = {
    "/": ((), "overview-table"),
    "/karte": (("map-graph",), "map-table"),
    "/zeitreihen": (("trends-graph",), "trends-table"),
    "/segregation": (("seg-levels-graph", "seg-map-graph", "seg-curve-graph"), "seg-index-table"),
    "/profil": (("profile-dots", "profile-multiples"), "profile-table"),
    "/vergleich": (("compare-map", "compare-slope", "compare-bars"), "compare-change-table"),
    "/indikatoren": ((), "catalogue-table"),
    "/daten": ((), "data-table"),
}

# (axe rule, CSS selector of the node): violations in Dash 4's own markup, with the reason.
DASH_MARKUP = {
    # dcc.Dropdown puts a hidden <input tabindex=0 aria-hidden> before its button as a tab
    # stop for Safari; on focus it hands the focus straight to the named <button> (asserted
    # in test_keyboard_only: Tab lands on the dropdown's button).
    ("aria-hidden-focus", ".dash-dropdown-focus-target"): "Dash's Safari focus proxy",
    # dcc.Dropdown's open list and dcc.Checklist render role=listbox without a name, and each
    # role=option <label> wraps a native radio or checkbox input (named by the option text).
    # Neither component takes aria-* props; a dropdown's <label> names its role=group.
    ("aria-input-field-name", ".dash-options-list"): "Dash's unnamed options listbox",
    ("nested-interactive", ".dash-options-list-option"): "Dash's input inside role=option",
}

RENDERED = """([graphs, table]) => graphs.every(id => {
        const gd = document.querySelector(`#${id} .js-plotly-plot`);
        if (!gd || !gd.data || !gd.data.length || !gd.querySelector('g.trace')) return false;
        return !gd.data.some(trace => trace.type === 'choropleth')
            || gd.querySelector('path.choroplethlocation') !== null;
    }) && document.querySelectorAll(`#${table}-table tbody tr`).length > 0
    && document.querySelector('[data-dash-is-loading]') === null"""

KNOWN_DASH_NODES = """([violations, known]) => violations.map(v => ({...v, nodes: v.nodes.filter(
        node => {
            const el = document.querySelector(node.target[0]);
            return !(el && known.some(([rule, selector]) => rule === v.id && el.matches(selector)));
        })})).filter(v => v.nodes.length > 0)"""

# Colour helpers on top of axe.commons.color (axe must be injected first).
HELPERS = """() => {
    const {Color, getContrast, flattenColors, hasValidContrastRatio} = axe.commons.color;
    const parse = css => { const c = new Color(); c.parseString(css); return c; };
    const background = start => {  // what shows through at `start`: its opaque ancestors
        const layers = [];
        for (let el = start; el; el = el.parentElement) {
            const c = parse(getComputedStyle(el).backgroundColor);
            if (c.alpha > 0) layers.push(c);
            if (c.alpha >= 1) break;
        }
        return layers.reverse().reduce((under, c) => flattenColors(c, under), parse('white'));
    };
    const opacity = (el, stop) => {
        let o = 1;
        for (; el && el !== stop; el = el.parentElement) {
            o *= parseFloat(getComputedStyle(el).opacity);
        }
        return o;
    };
    const css = c => `rgba(${c.red}, ${c.green}, ${c.blue}, ${c.alpha})`;
    window.imonA11y = {
        focusRing() {  // in an open dropdown: the option or the search box shows it
            const active = document.activeElement;
            const el = active.closest('.dash-dropdown-option, .dash-dropdown-search-container')
                || active;
            const s = getComputedStyle(el);
            const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
            const shadow = s.boxShadow !== 'none' ? s.boxShadow.match(/rgba?\\([^)]*\\)/) : null;
            const color = outline ? s.outlineColor : (shadow ? shadow[0] : null);
            const around = background(el.parentElement);
            return {
                element: `${el.tagName} ${el.id} "${el.textContent.trim().slice(0, 40)}"`,
                outline: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`,
                boxShadow: s.boxShadow, around: css(around),
                contrast: color ? getContrast(around, parse(color)) : 0,
            };
        },
        chartContrast() {
            const failures = [];
            for (const gd of document.querySelectorAll('.js-plotly-plot')) {
                if (!gd.offsetParent || !gd._fullLayout) continue;
                let paper = parse(gd._fullLayout.paper_bgcolor);
                if (paper.alpha < 1) paper = flattenColors(paper, background(gd));
                for (const text of gd.querySelectorAll('svg text')) {
                    // labels drawn on the data (areas, bars) and hover boxes have other grounds
                    if (!text.textContent.trim() || text.closest('g.trace, .hoverlayer')) continue;
                    const s = getComputedStyle(text);
                    if (s.display === 'none' || s.visibility === 'hidden') continue;
                    const fg = parse(s.fill);
                    fg.alpha *= parseFloat(s.fillOpacity) * opacity(text, gd);
                    const bold = parseInt(s.fontWeight, 10) >= 700;
                    const check = hasValidContrastRatio(paper, fg, parseFloat(s.fontSize), bold);
                    if (!check.isValid) {
                        failures.push(`${gd.parentElement.id}: "${text.textContent}" ${css(fg)} `
                            + `on ${css(paper)}: ${check.contrastRatio.toFixed(2)} `
                            + `< ${check.expectedContrastRatio}`);
                    }
                }
            }
            return failures;
        },
        toolbarContrast() {  // plotly's modebar icons: 3:1 for graphics (WCAG 1.4.11)
            return [...document.querySelectorAll('.modebar-btn')].flatMap(button => {
                const ratio = getContrast(background(button),
                    parse(getComputedStyle(button.querySelector('path')).fill));
                return ratio >= 3 ? [] : [`"${button.dataset.title}": ${ratio.toFixed(2)} < 3`];
            });
        },
        labelContrast() {  // area names on a map against the fill of the area under them
            const failures = [];
            for (const text of document.querySelectorAll('g.trace.scattergeo text')) {
                const box = text.getBoundingClientRect();
                const centre = new DOMPoint(box.x + box.width / 2, box.y + box.height / 2);
                const area = [...text.closest('.js-plotly-plot')
                    .querySelectorAll('path.choroplethlocation')].find(path => path
                    .isPointInFill(centre.matrixTransform(path.getScreenCTM().inverse())));
                if (!text.textContent.trim()) continue;
                if (!area) {
                    failures.push(`"${text.textContent}" lies on no area`);
                    continue;
                }
                const s = getComputedStyle(text);
                const fill = parse(getComputedStyle(area).fill);
                fill.alpha = parseFloat(getComputedStyle(area).fillOpacity);
                const ground = flattenColors(fill, background(area.closest('.js-plotly-plot')));
                const check = hasValidContrastRatio(ground, parse(s.fill), parseFloat(s.fontSize),
                    parseInt(s.fontWeight, 10) >= 700);
                if (!check.isValid) {
                    failures.push(`"${text.textContent}" ${s.fill} on ${css(ground)}: `
                        + `${check.contrastRatio.toFixed(2)} < ${check.expectedContrastRatio}`);
                }
            }
            return failures;
        },
    };
}"""


@pytest.fixture(scope="module")
def url(synthetic_curated_dir):
    with serve(synthetic_curated_dir) as base_url:
        yield base_url


@pytest.fixture()
def page(browser, url):  # noqa: F811
    with open_page(browser, url) as new_page:
        yield new_page


def wait_rendered(page, path: str) -> None:
    """Until the page's charts have drawn their traces, its table has rows and no
    callback is pending."""
    graphs, table = PAGES[path]
    page.wait_for_function(RENDERED, arg=[list(graphs), table])
    page.wait_for_load_state("networkidle")


def inject_axe(page) -> None:
    page.evaluate(AXE.axe_script)
    page.evaluate(HELPERS)


def assert_no_violations(page) -> None:
    """axe-core's WCAG 2.0–2.2 A/AA rules find nothing but ``DASH_MARKUP``."""
    response = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}}).response
    known = [list(key) for key in DASH_MARKUP]
    violations = page.evaluate(KNOWN_DASH_NODES, [response["violations"], known])
    assert violations == [], "\n".join(_report(v) for v in violations)


def _report(violation: dict) -> str:
    lines = [f"{violation['id']} ({violation['impact']}): {violation['help']}"]
    for node in violation["nodes"]:
        summary = " ".join(node["failureSummary"].split())
        lines.append(f"    {', '.join(map(str, node['target']))}: {summary}")
    return "\n".join(lines)


def assert_chart_contrast(page) -> None:
    """Chart text (titles, axes, legends, colour bars) against the paper: 4.5:1, 3:1 large."""
    failures = page.evaluate("() => imonA11y.chartContrast()")
    assert failures == [], "\n".join(failures)


def assert_toolbar_language(page, lang: str, charts: bool) -> None:
    """WCAG 3.1.2: the chart toolbar's buttons are named in the page's language."""
    titles = page.eval_on_selector_all(".modebar-btn", "bs => bs.map(b => b.dataset.title)")
    assert bool(titles) == charts
    texts = components.plotly_locale(lang)["locales"][lang]["dictionary"].values()
    assert set(titles) <= set(texts), set(titles) - set(texts)
    # every toolbar button is a tab stop: only zoom in, zoom out and reset (keyboard-usable)
    per_chart = page.eval_on_selector_all(
        ".modebar", "ms => ms.map(m => m.querySelectorAll('.modebar-btn').length)"
    )
    assert all(n <= 3 for n in per_chart), per_chart


def assert_tables_fit(page) -> None:
    """At 1280 px every table fits its panel: no sideways scrolling to read a column."""
    wide = page.eval_on_selector_all(
        ".table-scroll",
        "ss => ss.filter(s => s.scrollWidth > s.clientWidth + 1)"
        ".map(s => `${s.querySelector('table').id}: ${s.scrollWidth} > ${s.clientWidth}`)",
    )
    assert wide == []


@pytest.mark.parametrize("path", [*PAGES, "/karte?lang=en"])
def test_page_passes_axe_wcag_aa(page, url, path):
    base = path.split("?")[0]
    page.goto(url + path)
    wait_rendered(page, base)
    inject_axe(page)
    assert_no_violations(page)
    assert_chart_contrast(page)
    assert_toolbar_language(page, "en" if "lang=en" in path else "de", bool(PAGES[base][0]))
    assert_tables_fit(page)
    finish(page, "a11y" + path.replace("/", "-").replace("?", "-"))


@pytest.mark.parametrize("path", [*legal.PAGES.values(), "/barrierefreiheit?lang=en"])
def test_legal_page_passes_axe_wcag_aa(page, url, path):
    """Impressum, Datenschutz, Barrierefreiheit, with the notice of the fields not set."""
    page.goto(url + path)
    page.wait_for_selector("#legal-text h2")
    page.wait_for_load_state("networkidle")
    inject_axe(page)
    assert_no_violations(page)
    finish(page, "a11y" + path.replace("/", "-").replace("?", "-"))


def test_map_labels_pass_contrast(page, url):
    """Area names drawn on the map (``labels=1``) against their area's class colour."""
    failures = []
    for query in ("labels=1", "labels=1&classes=equal", "labels=1&level=borough"):
        page.goto(f"{url}/karte?{query}")
        wait_rendered(page, "/karte")
        page.wait_for_selector("#map-graph g.trace.scattergeo text")
        inject_axe(page)
        failures += [f"{query}: {f}" for f in page.evaluate("() => imonA11y.labelContrast()")]
    assert failures == [], "\n".join(failures)


def test_chart_toolbar_icons_pass_contrast(page, url):
    """The chart toolbar's icons, shown on hover and keyboard focus."""
    page.goto(url + "/zeitreihen")
    wait_rendered(page, "/zeitreihen")
    page.hover("#trends-graph")
    page.wait_for_selector("#trends-graph .modebar-btn")
    inject_axe(page)
    failures = page.evaluate("() => imonA11y.toolbarContrast()")
    assert failures == [], "\n".join(failures)


def test_open_dropdowns_pass_axe_wcag_aa(page, url):
    """The open option lists (single choice on the map, multiple choice on Daten)."""
    for path, dropdown in (("/karte", "map-indicator"), ("/daten", "data-areas")):
        page.goto(url + path)
        wait_rendered(page, path)
        page.click(f"#{dropdown}")
        page.wait_for_selector(f"#{dropdown}[aria-expanded=true]")
        page.wait_for_selector(".dash-dropdown-content [role=option]")
        inject_axe(page)
        assert_no_violations(page)
        page.keyboard.press("Escape")
    finish(page, "a11y-open-dropdown")


# --- keyboard only -------------------------------------------------------------------------
FOCUSED = """() => { const e = document.activeElement; return {
    id: e.id, tag: e.tagName, text: e.textContent.trim(), cls: String(e.className),
    group: e.closest('[role=group]')?.getAttribute('aria-labelledby') || null,
    option: e.closest('[role=option]')?.textContent.trim() || null,
    head: e.closest('thead') !== null} }"""
FOCUS_ON = "id => document.activeElement.id === id"
FOCUS_TEXT = "text => document.activeElement.textContent.trim() === text"
SETTLED = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
# the page in Dash Pages' container, marked to tell whether the router has rebuilt it
MARK_PAGE = "() => { document.getElementById('_pages_content').firstChild.imonMark = 1; }"
PAGE_MARKED = "() => document.getElementById('_pages_content').firstChild.imonMark === 1"


def focused(page) -> dict:
    return page.evaluate(FOCUSED)


def assert_focus_ring(page) -> None:
    """WCAG 2.4.7 and 1.4.11: the focused control shows an outline or box shadow with at
    least 3:1 against the colour around it."""
    ring = page.evaluate("() => imonA11y.focusRing()")
    assert ring["contrast"] >= 3, ring


def press_until(page, key: str, condition, limit: int = 60) -> dict:
    """Press ``key`` until the focused element satisfies ``condition``; every element on
    the way must show its focus ring."""
    for _ in range(limit):
        page.keyboard.press(key)
        page.evaluate(SETTLED)  # scripts (the dropdown's list) move the focus a frame later
        element = focused(page)
        if element["tag"] != "BODY":
            assert_focus_ring(page)
        if condition(element):
            return element
    raise AssertionError(f"{key} × {limit} did not reach the element; last: {element}")


def test_keyboard_only(page, url, monkeypatch):
    """Skip link, navigation, a dropdown, the export buttons and a table's sort and pager
    buttons with Tab, Shift+Tab, Enter, Space, the arrow keys and Escape only."""
    monkeypatch.setattr(tables, "PAGE_SIZE", 2)  # Teststadt's 4 districts: two pages
    page.goto(url + "/")
    wait_rendered(page, "/")
    inject_axe(page)
    _skip_to_content(page, "de", "overview-search")  # "Mein Stadtteil" (#19)
    press_until(page, "Shift+Tab", lambda e: e["text"] == "Karte" and "nav-link" in e["cls"])
    page.keyboard.press("Enter")
    wait_url(page, "/karte")
    wait_rendered(page, "/karte")
    assert page.locator(".nav-link.active").inner_text() == "Karte"

    _dropdown(page)
    _exports(page)
    _sort_and_pages(page)
    finish(page, "a11y-keyboard")


def _skip_to_content(page, lang: str, first_control: str) -> None:
    """The first Tab reaches the skip link, shown while focused; Enter focuses <main>
    (without Dash rebuilding the page), so the next Tab reaches the page's first control."""
    skip = press_until(page, "Tab", lambda e: True, limit=1)
    assert (skip["tag"], skip["text"]) == ("A", t("nav.skip", lang))
    box = page.locator(".skip-link").bounding_box()
    assert box["x"] >= 0 and box["y"] >= 0 and box["height"] > 10
    page.evaluate(MARK_PAGE)
    page.keyboard.press("Enter")
    page.wait_for_function(FOCUS_ON, arg="main")
    page.wait_for_load_state("networkidle")
    assert page.evaluate(PAGE_MARKED), "the skip link made Dash rebuild the page"
    first = press_until(page, "Tab", lambda e: True, limit=1)
    assert first["id"] == first_control, first
    assert page.locator(".skip-link").bounding_box()["x"] < 0  # hidden again


def _dropdown(page) -> None:
    """Open the indicator dropdown with Enter, pick the next option with the arrow keys and
    Enter; ArrowDown opens it again and Escape closes it; the focus stays on the button."""
    button = press_until(page, "Tab", lambda e: e["id"] == "map-indicator")
    assert button["tag"] == "BUTTON"  # not Dash's hidden focus proxy before it
    assert page.locator(f"#{button['group']}").inner_text() == t("control.indicator", "de")
    page.keyboard.press("Enter")
    page.wait_for_selector("#map-indicator[aria-expanded=true]")
    press_until(page, "ArrowDown", lambda e: e["option"] not in (None, button["text"]))
    page.keyboard.press("Enter")
    page.wait_for_selector("#map-indicator[aria-expanded=false]")
    chosen = page.locator("#map-indicator").inner_text()
    assert chosen != button["text"]
    wait_text(page, "#map-graph .gtitle", chosen)
    page.wait_for_function(FOCUS_ON, arg="map-indicator")
    page.keyboard.press("ArrowDown")
    page.wait_for_selector("#map-indicator[aria-expanded=true]")
    page.keyboard.press("Escape")
    page.wait_for_selector("#map-indicator[aria-expanded=false]")
    page.wait_for_function(FOCUS_ON, arg="map-indicator")
    assert_focus_ring(page)
    wait_rendered(page, "/karte")


def _exports(page) -> None:
    """CSV with Enter, XLSX with Space."""
    for key, fmt in (("Enter", "csv"), (" ", "xlsx")):
        press_until(page, "Tab", lambda e, fmt=fmt: e["text"] == fmt.upper())
        with page.expect_download() as download:
            page.keyboard.press(key)
        assert download.value.suggested_filename.endswith(f".{fmt}")


def _sort_and_pages(page) -> None:
    """Sort the map table by its first column (Enter: ascending, Space: descending), then
    page forward and back; the redrawn table keeps the focus on its buttons."""
    header = press_until(page, "Tab", lambda e: e["head"] and "sort-button" in e["cls"])
    column = page.locator("#map-table-table thead th").first
    for key, order in (("Enter", "ascending"), (" ", "descending")):
        page.keyboard.press(key)
        page.wait_for_function(
            "o => document.querySelector('#map-table-table thead th')"
            ".getAttribute('aria-sort') === o",
            arg=order,
        )
        page.wait_for_function(FOCUS_ON, arg=header["id"])
        assert_focus_ring(page)
    assert column.get_attribute("aria-sort") == "descending"
    press_until(page, "Tab", lambda e: e["text"] == t("table.next", "de"))
    page.keyboard.press("Enter")
    wait_text(page, "#map-table .page-info", t("table.page", "de", first=3, last=4, total=4))
    # "Nächste" is disabled on the last page: the focus moves to "Vorherige"
    page.wait_for_function(FOCUS_TEXT, arg=t("table.previous", "de"))
    assert_focus_ring(page)
    page.keyboard.press(" ")
    wait_text(page, "#map-table .page-info", t("table.page", "de", first=1, last=2, total=4))
    page.wait_for_function(FOCUS_TEXT, arg=t("table.next", "de"))
    # a redraw for another reason than a press (here: the state store set by a script, as
    # the page's own callbacks do) keeps the focus on the table's buttons too
    page.evaluate(
        "() => dash_clientside.set_props('map-table-sort', {data: JSON.parse("
        "document.activeElement.getAttribute('data-state'))})"
    )
    wait_text(page, "#map-table .page-info", t("table.page", "de", first=3, last=4, total=4))
    page.wait_for_function(FOCUS_TEXT, arg=t("table.previous", "de"))


def test_skip_link_in_english(page, url):
    assert t("nav.skip", "en") == "Skip to content"
    page.goto(url + "/karte?lang=en")
    wait_rendered(page, "/karte")
    inject_axe(page)
    _skip_to_content(page, "en", "map-indicator")
    finish(page, "a11y-skip-link-en")
