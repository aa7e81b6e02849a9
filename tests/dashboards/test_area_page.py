"""The area page (/gebiet) and the "Mein Stadtteil" search (#19): search, key figures with
both changes, generated sentences (rise, fall, no change, withheld, series break),
similar areas, locator map; one browser test on Berlin.

Expected values are computed by hand from the synthetic city's counts
(tests/dashboards/conftest.py: COUNTS), or taken from issue #19 for Berlin.
"""

from __future__ import annotations

import math
import re
import sys

import numpy as np
import pytest

from dashboards.app import create_app
from dashboards.data import area as area_data
from dashboards.data import catalogue, queries
from dashboards.data import overview as overview_data
from dashboards.data import profile as profile_data
from dashboards.data.area import AreaFigure, Development, Point
from dashboards.figures import area as area_figures
from tests.dashboards.conftest import COUNTS
from tests.dashboards.test_dash_browser import browser, open_page, serve  # noqa: F401

LAST = "2024-12-31"


@pytest.fixture(scope="module")
def wh(synthetic_curated_dir):
    return queries.open_warehouse(synthetic_curated_dir)


@pytest.fixture(scope="module")
def choices(wh):
    return profile_data.area_choices(wh, LAST, "de")


def _figures(wh, choices, area_id: str) -> dict[str, AreaFigure]:
    area = profile_data.resolve_area(wh, choices, area_id)
    indicators = overview_data.table_indicators(wh, "de")
    found = area_data.area_figures(wh, area, indicators, LAST)
    return {f.indicator.indicator_id: f for f in found}


def test_the_search_finds_names_without_umlauts_and_codes_coarse_levels_first(choices):
    def ids(text):
        return area_data.search(choices, text)["area_id"].tolist()

    assert ids("sud") == ["2", "21"]  # Süd (borough), Südviertel (district)
    assert ids("Nord") == ["1", "12"]
    assert ids("2") == ["2", "21", "22"]  # the code itself, then codes starting with it
    assert ids("stadt nord") == ["12"]  # every word
    assert ids("xyz") == [] and ids("  ") == []


def test_key_figures_have_both_changes_and_the_parent_and_city(wh, choices):
    figure = _figures(wh, choices, "21")["migration_background_share"]
    dev = figure.area
    assert (dev.start.ref_date, dev.previous.ref_date, dev.current.ref_date) == (
        "2022-12-31",
        "2023-12-31",
        LAST,
    )
    share = [100 * m / p for m, p in zip(COUNTS["21"]["mig"], COUNTS["21"]["pop"], strict=True)]
    assert dev.change("start", "points") == pytest.approx(share[2] - share[0])  # 48,65 − 46,67
    assert dev.change("previous", "points") == pytest.approx(share[2] - share[1])
    assert figure.parent.name == "Süd"
    # Süd = districts 21 + 22: (720 + 90) / (1480 + 510)
    assert figure.parent.current.value == pytest.approx(100 * 810 / 1990)
    assert figure.city.start.value == pytest.approx(100 * 1650 / 5000)


def test_sentences_rise_fall_and_withheld(wh, choices):
    figures = _figures(wh, choices, "21")
    assert area_data.sentence(figures["migration_background_share"], "de") == (
        "Der Anteil der Einwohnerinnen und Einwohner mit Migrationshintergrund ist in "
        "Südviertel von 46,7\u00a0% (31.12.2022) auf 48,6\u00a0% (31.12.2024) gestiegen; "
        "in Teststadt stieg er von 33,0\u00a0% auf 34,5\u00a0%."  # 1650/5000 → 1740/5050
    )
    assert area_data.sentence(figures["population"], "de") == (
        "Die Zahl der Einwohnerinnen und Einwohner ist in Südviertel von 1.500 (31.12.2022) "
        "auf 1.480 (31.12.2024) gesunken; in Teststadt stieg sie von 5.000 auf 5.050."
    )
    assert area_data.sentence(figures["population"], "en") == (
        "The number of residents in Südviertel fell from 1.500 (31.12.2022) to 1.480 "
        "(31.12.2024); in Teststadt it rose from 5.000 to 5.050."
    )
    withheld = _figures(wh, choices, "22")["foreigner_share"]  # suppressed on the last date
    assert area_data.sentence(withheld, "de") == (
        "Der Anteil der Ausländerinnen und Ausländer wird für Weststadt am 31.12.2024 nicht "
        "ausgewiesen (geheim gehalten)."
    )


def test_the_start_is_the_first_published_value():
    def row(value, flag=None):
        return {"value": value, "flag": flag, "definition_id": "d"}

    rows = {"2001": row(None, "nil"), "2002": row(None, "nil"), "2003": row(5.0), "2004": row(6.0)}
    assert area_data.page_dates(rows, "2004") == ("2003", "2003", "2004")
    assert area_data.page_dates(rows, "2003") == ("2001", "2002", "2003")  # none before
    assert area_data.page_dates(rows, "2000") is None


def _made_up(start: float, now: float, city: tuple[float, float], crossed: str | None = None):
    """A figure of the migration share with the given values (two dates)."""

    def dev(name, a, b, brk=None):
        return Development(
            name, Point("2015-06-30", a, None), Point("2024-06-30", a, None),
            Point("2024-12-31", b, None), brk, None,
        )  # fmt: skip

    return dev("Nordstadt", start, now, crossed), dev("Teststadt", *city)


def test_sentences_no_change_when_rounded_equal_and_no_change_across_a_break(wh):
    indicator = catalogue.indicators(wh, "de")["migration_background_share"]
    area, city = _made_up(25.04, 24.96, (30.0, 30.04))  # both 25,0 % and 30,0 %
    same = area_data.sentence(AreaFigure(indicator, area, None, city), "de")
    assert same == (
        "Der Anteil der Einwohnerinnen und Einwohner mit Migrationshintergrund lag in "
        "Nordstadt am 31.12.2024 wie am 30.06.2015 bei 25,0\u00a0%; in Teststadt blieb er "
        "bei 30,0\u00a0%."
    )
    area, city = _made_up(20.0, 30.0, (30.0, 31.0), crossed="boundaries")
    broken = area_data.sentence(AreaFigure(indicator, area, None, city), "de")
    assert broken == (
        "Der Anteil der Einwohnerinnen und Einwohner mit Migrationshintergrund liegt in "
        "Nordstadt am 31.12.2024 bei 30,0\u00a0%; ein Vergleich mit dem 30.06.2015 ist nicht "
        "möglich, weil die Gebietsgrenzen dazwischen neu gezogen wurden."
    )
    assert area.change("start", "points") is None


def test_similar_areas_are_the_nearest_on_standardised_features(wh, choices):
    area = profile_data.resolve_area(wh, choices, "11")
    found = area_data.similar_areas(wh, area, LAST, "de")
    # the synthetic city has the size and two of the structure shares; district 22's
    # foreigner share is withheld on the last date, so 22 is not compared
    features = {
        d: [math.log(c["pop"][2]), 100 * c["for"][2] / c["pop"][2], 100 * c["mig"][2] / c["pop"][2]]
        for d, c in COUNTS.items()
        if d != "22"
    }
    x = np.array(list(features.values()))
    z = (x - x.mean(axis=0)) / x.std(axis=0)  # population standard deviation
    by_id = dict(zip(features, z, strict=True))
    expected = {d: float(np.linalg.norm(by_id["11"] - by_id[d])) for d in ("12", "21")}
    assert found["area_id"].tolist() == sorted(expected, key=expected.get)
    assert found.set_index("area_id")["distance"].to_dict() == pytest.approx(expected)
    assert found.set_index("area_id").loc["12", "population"] == 2040
    withheld = profile_data.resolve_area(wh, choices, "22")  # lacks a feature: no neighbours
    assert area_data.similar_areas(wh, withheld, LAST, "de").empty


def test_the_locator_map_highlights_the_area_and_shades_its_parent(wh):
    shapes = queries.geometries(wh, "district", LAST)
    svg = area_figures.locator_svg(shapes, "21", frozenset({"22"}))  # Süd = 21 + 22
    assert svg.count(f'fill="{area_figures.AREA_FILL}"') == 1
    assert svg.count(f'fill="{area_figures.SIBLING_FILL}"') == 1
    assert svg.count(f'fill="{area_figures.OTHER_FILL}"') == 2
    assert 'fill="none"' in svg  # the parent's outline
    assert area_figures.locator_svg(shapes, "99") is None


def test_the_overview_table_links_each_area_to_its_page(synthetic_curated_dir):
    app = create_app(synthetic_curated_dir)
    with app.server.test_request_context("/?lang=en"):
        table = str(sys.modules["pages.overview"].update_table(LAST, "district", None))
    links = re.findall(r'href="([^"]+)"', table)
    expected = [f"/gebiet?area={d}&amp;date={LAST}&amp;lang=en" for d in ("11", "12", "21", "22")]
    assert [link for link in links if link.startswith("/gebiet")] == expected


def test_berlin_neukoelln_from_the_start_page_in_two_actions(browser, berlin_curated_dir):  # noqa: F811
    """Issue #19: type "Neuk" on the start page (it goes into the search without a click),
    choose Neukölln: the sentence answers the question (42,5 % → 51,4 %; Berlin 29,0 % →
    41,1 %)."""
    with serve(berlin_curated_dir) as url, open_page(browser, url) as page:
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{url}/")
        page.locator("#overview-search").wait_for()
        page.keyboard.type("Neuk")  # action 1: no click into the field first
        page.locator(".area-search-link", has_text="(08)").click()  # action 2
        sentence = page.locator(".area-sentence", has_text="Migrationshintergrund")
        sentence.wait_for()
        assert sentence.inner_text() == (
            "Der Anteil der Einwohnerinnen und Einwohner mit Migrationshintergrund ist in "
            "Neukölln von 42,5\u00a0% (30.06.2015) auf 51,4\u00a0% (31.12.2024) gestiegen; "
            "in Berlin stieg er von 29,0\u00a0% auf 41,1\u00a0%."
        )
        assert "/gebiet?area=08" in page.url
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the area page is {width} px wide on a 390 px phone"
        assert page.problems == []
