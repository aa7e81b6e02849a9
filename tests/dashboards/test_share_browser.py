"""Teilen und zitieren (#19; components/common.share, assets/share.js): the footer's box
names the page that is shown and its address with every choice, and "Link kopieren" puts
that address on the clipboard — also after the reader moved to another page (Dash does not
draw the footer again); the Karte's chart is offered for embedding, and the embedded view
(dashboards/embed.py) draws it under the CSP without anything else."""

from __future__ import annotations

import re
from datetime import date

from tests.dashboards.test_dash_browser import (  # noqa: F401
    browser,
    open_page,
    serve,
    wait_url,
)


def test_the_citation_names_the_page_and_its_address(browser, synthetic_curated_dir):  # noqa: F811
    with serve(synthetic_curated_dir) as url, open_page(browser, url) as page:
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(f"{url}/")
        page.locator("#nav-menu a.nav-link", has_text="Karte").click()
        wait_url(page, "/karte")
        wait_url(page, "date=")  # the Karte keeps its choices in the address
        page.wait_for_load_state("networkidle")
        heading = page.locator("#main h1").first
        map_title = page.locator("#map-graph .main-svg .gtitle")
        map_title.wait_for()
        drawn = map_title.text_content()
        page.locator("#share summary").click()
        citation = page.locator("#share-citation")
        shown = page.evaluate("() => location.href")  # the URL as the page keeps it
        page.wait_for_function(
            "u => document.querySelector('#share-citation .share-url').textContent === u",
            arg=shown,
        )
        today = date.today().strftime("%d.%m.%Y")
        text = citation.inner_text()
        assert text.startswith(f"Integrationsmonitoring Teststadt: {heading.inner_text()}. ")
        assert "Veröffentlicht am " in text and text.endswith(f"(abgerufen am {today}).")
        assert re.search(r"/karte\?.*date=\d{4}-\d\d-\d\d", shown)
        page.locator("#share-copy").click()
        status = page.locator("#share-status")
        status.wait_for(state="visible")
        page.wait_for_function("() => document.querySelector('#share-status').textContent")
        assert status.inner_text().startswith("Link kopiert")
        assert page.evaluate("() => navigator.clipboard.readText()") == shown

        # the Karte's chart can be embedded: /embed/karte with the same choices
        code = page.locator("#share-embed code")
        code.wait_for(state="visible")
        src = re.search(r'src="([^"]+)"', code.inner_text()).group(1)
        assert src == shown.replace("/karte?", "/embed/karte?")
        page.goto(src)
        title = page.locator("#embed-chart .main-svg .gtitle")
        title.wait_for()
        assert title.text_content() == drawn  # the same chart as on the page
        page.locator("#embed-chart .choroplethlocation").first.wait_for()  # the map drawn
        assert page.locator("a, nav, h1").count() == 0  # the chart and its source line only
        # both maps drawn without plotly's world map (assets/geo_assets.js)
        assert [u for u in requested if "topojson" in u] == []
        assert page.problems == []
