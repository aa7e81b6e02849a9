"""Indikatoren (/indikatoren): the facts of each indicator on Teststadt (and on a copy that
records disclosure thresholds and a change of definition), the page in headless Chromium,
and a smoke render on the Berlin build."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import page_calls
import pytest
from dash_tree import find, texts
from test_dash_browser import browser, open_page, serve, wait_text, wait_url  # noqa: F401

from dashboards.app import create_app
from dashboards.data import catalogue, queries
from dashboards.data import indicators as indicators_data
from etl.warehouse import PUBLICATION


@pytest.fixture(scope="module")
def wh(synthetic_curated_dir):
    return queries.open_warehouse(synthetic_curated_dir)


@pytest.fixture(scope="module")
def facts(wh):
    return indicators_data.facts(wh, "de")


def test_coverage_levels_and_units(facts):
    share = facts["foreigner_share"]
    assert (share.first_date, share.last_date, share.n_dates) == (
        "2022-12-31",
        "2024-12-31",
        3,
    )
    assert share.levels == (("Stadt", None), ("Stadtbezirk", None), ("Stadtteil", None))
    index = facts["segregation_is_migration_background"]
    assert index.levels == (("Stadtbezirk", 2), ("Stadtteil", 4))  # units per level
    assert share.flag_counts == (("suppressed", 1),)  # district 22 on 31.12.2024
    assert facts["population"].flag_counts == ()


def test_related_by_topic_and_by_group(facts):
    share = facts["foreigner_share"]
    assert [i.indicator_id for i in share.same_topic] == [
        "population",
        "migration_background_share",
    ]
    # same whole-city numerator (the number of foreigners) on the same date
    group = {i.indicator_id for i in share.same_group}
    assert "location_quotient_foreigners" in group  # numerator 950 foreigners on 31.12.2024
    assert any(i.startswith("segregation_is_foreigners") for i in group)  # X = 950, too
    assert "migration_background_share" not in group and "population" not in group
    assert facts["population"].same_group == ()


def test_caveats(facts):
    index = indicators_data.caveats(facts["segregation_is_migration_background"], {}, "de")
    assert len(index) == 1 and "MAUP" in index[0] and "Zahl der Gebiete" in index[0]
    share = indicators_data.caveats(facts["foreigner_share"], {}, "de")
    assert share == [
        "Werte mit Hinweis: geheim gehalten (1) – zu kleine Fallzahl, der Wert wird zum "
        "Schutz der Betroffenen nicht veröffentlicht (statistische Geheimhaltung)."
    ]
    quotient = indicators_data.caveats(facts["location_quotient_foreigners"], {}, "de")
    assert any("Gesamtstadt am selben Stichtag" in c for c in quotient)


def test_disclosure_thresholds_come_from_meta(facts):
    meta = {"disclosure_min_denominator": "30", "disclosure_min_count": "3"}
    share = indicators_data.disclosure_caveat(facts["foreigner_share"].indicator, meta, "de")
    assert share == (
        "Geheimhaltung: Werte mit einem Nenner unter 30 oder einem Zähler von 1 bis 2 "
        "werden nicht veröffentlicht."
    )
    count = indicators_data.disclosure_caveat(facts["population"].indicator, meta, "de")
    assert count == "Geheimhaltung: Anzahlen von 1 bis 2 werden nicht veröffentlicht."
    index = facts["segregation_is_migration_background"].indicator
    assert indicators_data.disclosure_caveat(index, meta, "de") is None
    assert indicators_data.disclosure_caveat(facts["population"].indicator, {}, "de") is None


def test_cell_key_caveat_says_totals_need_not_add_up(facts):
    meta = {
        "disclosure_min_denominator": "30",
        "disclosure_min_count": "3",
        "disclosure_method": "cell_key",
        "disclosure_max_deviation": "3",
    }
    share = indicators_data.disclosure_caveat(facts["foreigner_share"].indicator, meta, "de")
    assert "Cell-Key-Verfahren" in share and "±3" in share
    assert "Summen können daher von der Summe ihrer Teile abweichen" in share
    assert "Nenner unter 30" in share


@pytest.fixture(scope="module")
def redefined_dir(synthetic_curated_dir, tmp_path_factory) -> Path:
    """Teststadt whose migration-background share changes definition in 2024 and whose
    build recorded its disclosure thresholds."""
    curated = tmp_path_factory.mktemp("redefined") / "curated"
    shutil.copytree(synthetic_curated_dir, curated, symlinks=True)
    with duckdb.connect(str(curated / "current" / PUBLICATION)) as con:
        con.execute(
            "UPDATE indicator_values SET definition_id = 'einwanderungsgeschichte' "
            "WHERE indicator_id = 'migration_background_share' AND ref_date = DATE '2024-12-31'"
        )
        con.execute(
            "INSERT INTO meta VALUES ('disclosure_min_denominator', '50'), "
            "('disclosure_min_count', '5')"
        )
    return curated


def test_series_break_and_recorded_thresholds(redefined_dir):
    wh = queries.open_warehouse(redefined_dir)
    fact = indicators_data.facts(wh, "de")["migration_background_share"]
    assert [(p.key, p.first, p.last) for p in fact.definitions] == [
        ("register_migrapro", "2022-12-31", "2023-12-31"),
        ("einwanderungsgeschichte", "2024-12-31", "2024-12-31"),
    ]
    notes = indicators_data.caveats(fact, catalogue.meta(wh), "de")
    assert notes == [
        "Reihenbruch – die Definition wechselt (register_migrapro: 31.12.2022 bis "
        "31.12.2023; einwanderungsgeschichte: 31.12.2024 bis 31.12.2024); Werte davor und "
        "danach sind nicht direkt vergleichbar.",
        "Geheimhaltung: Werte mit einem Nenner unter 50 oder einem Zähler von 1 bis 4 "
        "werden nicht veröffentlicht.",
    ]


# --- page (server side) -------------------------------------------------------------------
@pytest.fixture(scope="module")
def app(synthetic_curated_dir):
    return create_app(synthetic_curated_dir)


def _page():
    return page_calls.page("indicators")


def test_layout_takes_the_indicator_from_the_url(app):
    layout = page_calls.run(app, _page().layout, indicator="migration_background_share")
    assert find(layout, "catalogue-indicator").value == "migration_background_share"
    default = page_calls.run(app, _page().layout, indicator="nonsense")
    assert find(default, "catalogue-indicator").value == "population"
    assert "„nonsense“" in str(default)


def test_card_and_links(app):
    card = page_calls.run(app, _page().update_detail, "foreigner_share")
    words = texts(card)
    assert words[0] == "Ausländeranteil"

    def fact(label: str) -> str:
        return words[words.index(label) + 1]

    assert fact("Zähler") == "Ausländerinnen und Ausländer"
    assert fact("Nenner") == "Einwohner insgesamt"
    assert fact("Einheit") == "%"
    assert fact("Quelle") == "Einwohnermelderegister Teststadt"
    assert fact("Datenstand") == "31.12.2022 bis 31.12.2024 (3 Stichtage mit Werten)"
    hrefs = [c.href for c in _links(card)]
    assert "/karte?indicator=foreigner_share" in hrefs
    assert "/zeitreihen?indicator=foreigner_share" in hrefs
    assert "/vergleich?indicator=foreigner_share" in hrefs
    assert "/indikatoren?indicator=location_quotient_foreigners" in hrefs
    index = page_calls.run(app, _page().update_detail, "segregation_is_migration_background")
    index_links = [c.href for c in _links(index)]
    assert "/karte?indicator=segregation_is_migration_background" not in index_links
    assert "/zeitreihen?indicator=segregation_is_migration_background" in index_links


def test_links_keep_the_language_of_the_view(app):
    with app.server.test_request_context("/indikatoren?indicator=foreigner_share&lang=en"):
        card = _page().update_detail("foreigner_share")
    hrefs = [c.href for c in _links(card)]
    assert "/karte?indicator=foreigner_share&lang=en" in hrefs
    assert "Ausländeranteil (en)" in texts(card)  # the English title of the warehouse


def _links(component) -> list:
    """Every link (dcc.Link, html.A) in a component tree."""
    found = [component] if type(component).__name__ in ("Link", "A") else []
    children = getattr(component, "children", None)
    if not isinstance(children, list | tuple):
        children = [children]
    for child in children:
        if child is not None and not isinstance(child, str | int | float):
            found += _links(child)
    return found


def test_table_of_all_indicators(app, wh):
    table = texts(page_calls.run(app, _page().update_table, None))
    n = len(catalogue.indicators(wh, "de"))
    assert f"Indikatorenkatalog: {n} Indikatoren; Stichtage mit Werten" in table
    row = table.index("Ausländeranteil")
    assert table[row + 1 : row + 6] == ["Bevölkerung", "%", "31.12.2022", "31.12.2024", "3"]


# --- browser ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def url(synthetic_curated_dir):
    with serve(synthetic_curated_dir) as base:
        yield base


def test_catalogue_in_the_browser(browser, url):  # noqa: F811
    with open_page(browser, url) as page:
        page.goto(f"{url}/indikatoren?indicator=foreigner_share")
        wait_text(page, "#catalogue-detail h2", "Ausländeranteil")
        wait_text(page, "#catalogue-detail", "geheim gehalten (1)")
        page.wait_for_selector("#catalogue-table-table tbody tr")
        # keyboard: open the selector, search, choose with Enter
        page.focus("#catalogue-indicator")
        page.keyboard.press("Enter")
        page.fill(".dash-dropdown-search", "Migrationshintergrund")
        page.get_by_role("option", name="Anteil mit Migrationshintergrund").click()
        wait_text(page, "#catalogue-detail h2", "Anteil mit Migrationshintergrund")
        wait_url(page, "indicator=migration_background_share")
        copied = page.url
        # a related indicator's link opens its entry
        page.locator("#catalogue-detail .related-list a", has_text="Ausländeranteil").click()
        wait_text(page, "#catalogue-detail h2", "Ausländeranteil")
        page.get_by_role("link", name="Karte", exact=True).nth(1).click()  # 0 = navbar
        page.wait_for_selector("#map-graph path.choroplethlocation")
        wait_url(page, "/karte?indicator=foreigner_share")
        assert page.problems == []
    with open_page(browser, url) as page:
        page.goto(copied)
        wait_text(page, "#catalogue-detail h2", "Anteil mit Migrationshintergrund")
        detail = page.locator("#catalogue-detail").inner_text()
        assert "31.12.2022 bis 31.12.2024" in detail
        page.wait_for_load_state("networkidle")  # the table drawn (a redraw moves the focus)
        sort = page.locator("#catalogue-table-table thead .sort-button").nth(3)
        sort.focus()
        page.keyboard.press("Enter")  # sort by the first date, by keyboard
        page.wait_for_selector("#catalogue-table-table thead th[aria-sort='ascending']")
        assert page.problems == []


# --- Berlin -------------------------------------------------------------------------------
def test_berlin_catalogue_renders(berlin_curated_dir):
    berlin = create_app(berlin_curated_dir)
    wh = queries.open_warehouse(berlin_curated_dir)
    layout = page_calls.run(berlin, _page().layout, indicator="segregation_is_foreigners")
    assert "„" not in str(layout)
    words = " ".join(
        texts(page_calls.run(berlin, _page().update_detail, "segregation_is_foreigners"))
    )
    assert "Bezirk (n = 12)" in words and "MAUP" in words
    assert "30.06.2015 bis 31.12.2024 (20 Stichtage mit Werten)" in words
    assert "Isolationsindex Ausländer" in words  # same group: foreigners
    share = " ".join(texts(page_calls.run(berlin, _page().update_detail, "foreigner_share")))
    with duckdb.connect(wh.path, read_only=True) as con:
        withheld = con.execute(
            "SELECT count(*) FROM indicator_values "
            "WHERE indicator_id = 'foreigner_share' AND flag = 'suppressed'"
        ).fetchall()[0][0]
    assert withheld > 100  # primary and secondary suppression, areas under 300 residents
    assert "Segregationsindex Ausländer" in share and f"geheim gehalten ({withheld})" in share
    table = texts(page_calls.run(berlin, _page().update_table, None))
    assert f"Indikatorenkatalog: {len(catalogue.indicators(wh, 'de'))} Indikatoren" in table[0]
