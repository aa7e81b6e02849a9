"""The dashboard on the real instances: Berlin LOR and the Rhineland-Palatinate counties.

Server side: layouts and callbacks are called inside a request of the app serving the
instance (as Dash does), and their output is checked against the built warehouse.
"""

from __future__ import annotations

import sys

import pytest
from dash_tree import find as _find
from dash_tree import texts

from dashboards import formatting, labels
from dashboards.app import create_app
from dashboards.data import catalogue, queries
from dashboards.data import overview as overview_data


def _page(name: str):
    """The module of a Dash page (loaded by ``create_app``)."""
    return sys.modules[f"pages.{name}"]


def _run(app, func, *args, **kwargs):
    """Call a layout or callback inside a request of ``app``."""
    with app.server.test_request_context("/"):
        return func(*args, **kwargs)


def _map(app, indicator: str, ref_date: str, level: str) -> tuple:
    """The server's map callback: figure, panel style, legend, definition."""
    return _run(app, _page("map").update_map, indicator, level, ref_date=ref_date)


# --- Berlin --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def berlin(berlin_curated_dir):
    return create_app(berlin_curated_dir)


@pytest.fixture(scope="module")
def berlin_wh(berlin_curated_dir):
    return queries.open_warehouse(berlin_curated_dir)


def test_berlin_levels_and_geometry_by_date(berlin_wh):
    levels = catalogue.levels(berlin_wh, "de")
    assert list(levels) == ["city", "district", "forecast_area", "district_region", "planning_area"]
    assert levels["planning_area"].label == "Planungsraum"
    assert [lvl.level for lvl in catalogue.map_levels(berlin_wh, "de")] == list(levels)[1:]
    assert catalogue.has_geometry(berlin_wh, "planning_area", "2020-12-31")
    assert not catalogue.has_geometry(berlin_wh, "planning_area", "2021-06-30")
    assert not catalogue.has_geometry(berlin_wh, "district_region", "2024-12-31")
    assert catalogue.has_geometry(berlin_wh, "forecast_area", "2024-12-31")
    dates = catalogue.indicator_dates(berlin_wh, "foreigner_share")
    assert len(dates) == 20 and dates[:2] == ["2015-06-30", "2015-12-31"]


def test_berlin_map_defaults_to_the_finest_level_with_a_map(berlin):
    layout = _run(berlin, _page("map").layout)
    assert _find(layout, "map-date").value == "2024-12-31"
    assert _find(layout, "map-level").value == "forecast_area"
    old = _run(berlin, _page("map").layout, date="2015-12-31")
    assert _find(old, "map-level").value == "planning_area"


def test_berlin_planning_areas_2015_are_mapped_with_a_lean_payload(berlin, berlin_wh):
    figure, style, legend, _ = _map(berlin, "foreigner_share", "2015-12-31", "planning_area")
    assert style is None
    areas = [trace for trace in figure.data if trace.type == "choropleth"]
    assert sum(len(trace.locations) for trace in areas) >= 440
    # the districts' outlines drawn over the planning areas (#19), from their boundaries
    assert [trace.name for trace in figure.data if trace.type != "choropleth"] == ["outlines"]
    shapes = queries.geometries(berlin_wh, "planning_area", "2015-12-31")
    districts = queries.geometries(berlin_wh, "district", "2015-12-31")
    geometry = int(shapes["geojson"].str.len().sum() + districts["geojson"].str.len().sum())
    payload = len(figure.to_json())
    assert payload < 1.5 * geometry, (payload, geometry)  # geometry sent once, not per trace
    meta = figure.layout.meta
    frames = _run(
        berlin, _page("map").update_frames, {"key": meta["key"], "geometry": meta["geometry"]}
    )
    # a date change on the same boundaries is drawn in the browser: every half-year from
    # 30.06.2015 to 31.12.2020 (boundaries lor-2006), without the geometry
    assert sorted(frames["dates"]) == [
        f"{y}-{md}" for y in range(2015, 2021) for md in ("06-30", "12-31")
    ]
    assert all("geojson" not in frame["data"][0] for frame in frames["dates"].values())
    lon, lat = figure.layout.geo.lonaxis.range, figure.layout.geo.lataxis.range
    assert 13.0 < lon[0] < 13.2 < 13.7 < lon[1] < 13.9 and 52.3 < lat[0] < lat[1] < 52.7


def test_berlin_planning_areas_2024_have_no_map_but_a_table(berlin):
    figure, style, notice, _ = _map(berlin, "foreigner_share", "2024-12-31", "planning_area")
    assert style == {"display": "none"}
    words = " ".join(texts(notice))
    assert "keine Gebietsgrenzen" in words and "31.12.2024" in words
    assert "30.06.2015 bis 31.12.2020" in words
    table = _run(
        berlin, _page("map").update_table, "foreigner_share", "2024-12-31", "planning_area", None
    )
    assert "Zeilen 1–100 von 542" in texts(table)
    second = _run(
        berlin,
        _page("map").update_table,
        "foreigner_share",
        "2024-12-31",
        "planning_area",
        {"col": None, "page": 5},
    )
    assert "Zeilen 501–542 von 542" in texts(second)


def test_berlin_districts_2024(berlin):
    figure, style, _, _ = _map(berlin, "foreigner_share", "2024-12-31", "district")
    assert style is None and len(figure.data[0].locations) == 12
    assert "Amt für Statistik Berlin-Brandenburg" in figure.layout.annotations[0].text


def test_berlin_trend_is_half_yearly(berlin, berlin_wh):
    figure, _ = _run(berlin, _page("trends").update_chart, "foreigner_share", ["01"])
    city = figure.data[0]
    assert len(city.x) == 20 and city.x[0] == "2015-06-30" and city.x[-1] == "2024-12-31"
    assert all(tick.startswith("31.12.") for tick in figure.layout.xaxis.ticktext)
    assert figure.layout.xaxis.ticktext[-1] == "31.12.2024"


def test_berlin_key_figures(berlin_wh):
    shown = overview_data.key_figures(berlin_wh, "2024-12-31", "de")
    assert [f.indicator.indicator_id for f in shown] == [
        "population",
        "foreigner_share",
        "migration_background_share",
        "germans_with_migration_background_share",
        "segregation_is_migration_background",
        "segregation_is_foreigners",
    ]
    assert all(f.ref_date == "2024-12-31" and f.previous_date == "2024-06-30" for f in shown)
    assert {f.level for f in shown if f.indicator.is_segregation} == {"district"}


# --- Rhineland-Palatinate ------------------------------------------------------------------
@pytest.fixture(scope="module")
def rlp(rlp_curated_dir):
    return create_app(rlp_curated_dir)


@pytest.fixture(scope="module")
def rlp_wh(rlp_curated_dir):
    return queries.open_warehouse(rlp_curated_dir)


def test_rlp_date_selector_offers_the_dates_of_the_indicator(rlp):
    layout = _run(rlp, _page("map").layout, indicator="foreigner_share")
    date = _find(layout, "map-date")
    assert [o["value"] for o in date.options] == ["2015-12-31"] and date.value == "2015-12-31"
    assert _find(layout, "map-level").value == "kreis"
    options, value = _run(
        rlp, _page("map").update_dates, "unemployment_rate_foreigners", "2015-12-31"
    )
    assert [o["value"] for o in options][::-1] == [f"{y}-12-31" for y in range(2001, 2017)]
    assert value == "2015-12-31"  # kept: the new indicator has it
    options, value = _run(rlp, _page("map").update_dates, "employees_foreigner_share", value)
    assert value == "2015-06-30" and len(options) == 4  # its latest date


def test_rlp_county_map_and_table(rlp):
    figure, style, legend, _ = _map(rlp, "foreigner_share", "2015-12-31", "kreis")
    assert style is None and len(figure.data[0].locations) == 36 and legend is None
    table = texts(
        _run(rlp, _page("map").update_table, "foreigner_share", "2015-12-31", "kreis", None)
    )
    koblenz = table.index("Koblenz, Kreisfreie Stadt")
    assert table[koblenz + 1] == "10,5 %"


def test_rlp_source_flags_on_map_and_table(rlp):
    figure, _, legend, _ = _map(rlp, "unemployment_rate_foreigners", "2005-12-31", "kreis")
    nil = figure.data[1]
    assert len(nil.locations) == 36 and nil.name == "nichts vorhanden"
    words = " ".join(texts(legend))
    assert "nichts vorhanden (36)" in words and "Zeichen „-“" in words
    table = texts(
        _run(
            rlp,
            _page("map").update_table,
            "unemployment_rate_foreigners",
            "2005-12-31",
            "kreis",
            None,
        )
    )
    assert table.count("nichts vorhanden") == 36
    assert any(w.startswith("nichts vorhanden: Zeichen") for w in table)


def test_rlp_net_migration_is_a_balance(rlp, rlp_wh):
    indicator = catalogue.indicators(rlp_wh, "de")["net_migration_abroad_foreigners"]
    assert indicator.change_kind == "absolute"
    assert labels.value_text(-34.0, None, indicator, "de", with_unit=True) == (
        "−34 Personen (Saldo)"
    )
    rate = catalogue.indicators(rlp_wh, "de")["net_migration_abroad_foreigners_rate"]
    assert labels.value_text(13.549, None, rate, "de", with_unit=True) == "13,5 je 1.000 Einw."
    figure, *_ = _map(rlp, "net_migration_abroad_foreigners", "2007-12-31", "kreis")
    values = figure.data[0]
    # classes below 0 orange, above 0 purple (PuOr at the class middles); legend with "−"
    hues = [_hue(colour) for _, colour in values.colorscale[::2]]
    assert hues[0] == "orange" and hues[-1] == "purple"
    assert values.colorbar.ticktext[0].startswith("−")
    assert values.colorbar.exponentformat == "none"


def _hue(rgb: str) -> str:
    red, _, blue = (int(part) for part in rgb.removeprefix("rgb(").rstrip(")").split(","))
    return "orange" if red > blue else "purple" if blue > red else "grey"


def test_rlp_trend_unemployment_of_foreigners_in_koblenz(rlp):
    figure, _ = _run(rlp, _page("trends").update_chart, "unemployment_rate_foreigners", ["07111"])
    lines = [t for t in figure.data if t.mode == "lines+markers"]
    assert [t.name for t in lines] == ["Rheinland-Pfalz", "Koblenz, Kreisfreie Stadt"]
    assert all(list(t.x) == [f"{y}-12-31" for y in range(2001, 2017)] for t in lines)
    rug = figure.data[-1]
    assert rug.yaxis == "y2" and len(rug.x) == 16  # 2001–2008 flagged 'nil', both series
    assert rug.customdata[0][2] == "nichts vorhanden"
    assert "Statistik der Bundesagentur für Arbeit" in figure.layout.annotations[0].text
    table = texts(
        _run(rlp, _page("trends").update_table, "unemployment_rate_foreigners", ["07111"], None)
    )
    koblenz_dates = [table[i + 1] for i, w in enumerate(table) if w == "Koblenz, Kreisfreie Stadt"]
    assert koblenz_dates == [f"31.12.{y}" for y in range(2001, 2017)]


def test_rlp_trend_defaults_to_an_indicator_with_a_series(rlp):
    layout = _run(rlp, _page("trends").layout)
    assert _find(layout, "trends-indicator").value == "employees_foreigner_share"
    _, _, note = _run(rlp, _page("trends").update_controls, "foreigner_share")
    assert "nur einen Stichtag (31.12.2015)" in " ".join(texts(note))


def test_rlp_overview_uses_the_latest_value_of_each_indicator(rlp, rlp_wh):
    dates = overview_data.overview_dates(rlp_wh, "de")
    assert dates[0] == "2001-12-31" and dates[-1] == "2016-12-31" and "2012-06-30" in dates
    shown = {
        f.indicator.indicator_id: f for f in overview_data.key_figures(rlp_wh, dates[-1], "de")
    }
    assert list(shown) == [
        "population",
        "foreigner_share",
        "segregation_is_foreigners",
        "employees_foreigner_share",
        "unemployment_rate_foreigners",
    ]
    assert shown["population"].ref_date == "2015-12-31"
    assert shown["employees_foreigner_share"].ref_date == "2015-06-30"
    assert shown["unemployment_rate_foreigners"].ref_date == "2016-12-31"
    assert shown["segregation_is_foreigners"].level == "kreis"
    assert formatting.format_value(shown["foreigner_share"].value, "percent", 1) == "9,5 %"
    layout = _run(rlp, _page("overview").layout)
    assert _find(layout, "overview-date").value == "2016-12-31"
    cards = _run(rlp, _page("overview").update_cards, "2016-12-31")
    assert "Stand: 31.12.2015" in texts(cards) and "Stand: 31.12.2016" in texts(cards)
    table = texts(_run(rlp, _page("overview").update_table, "2016-12-31", "kreis", None))
    assert any("Stand 31.12.2015" in w for w in table)
    assert "Koblenz, Kreisfreie Stadt" in table
