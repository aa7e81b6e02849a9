"""Figure functions: trace values, titles, captions, German hover texts, disclosure."""

from dataclasses import replace

import pandas as pd
import pytest

from dashboards import labels
from dashboards.data import catalogue, queries
from dashboards.figures import common as figures
from dashboards.figures import map as map_figures
from dashboards.figures import trends as trends_figures


@pytest.fixture()
def wh(synthetic_curated_dir):
    return queries.open_warehouse(synthetic_curated_dir)


@pytest.fixture()
def indicators(wh):
    return catalogue.indicators(wh, "de")


def _map(wh, indicators, indicator_id="foreigner_share", date="2024-12-31", level="district"):
    values = queries.area_values(wh, (indicator_id,), date, level)
    shapes = queries.geometries(wh, level, date)
    return map_figures.choropleth(values, shapes, indicators[indicator_id], "Stadtteil", date, "de")


def test_choropleth_values_and_grey_suppressed_area(wh, indicators):
    fig = _map(wh, indicators)
    shown, grey = fig.data
    assert list(shown.locations) == ["11", "12", "21"]
    # 100·120/1020, 100·330/2040, 100·470/1480 in the hover; colour = quantile class (k = 5)
    assert [c[1] for c in shown.customdata] == ["11,8 %", "16,2 %", "31,8 %"]
    assert list(shown.z) == [0, 2, 4]
    assert shown.colorscale[0][1].lower() != grey.colorscale[0][1].lower()
    assert list(grey.locations) == ["22"] and grey.showscale is False
    assert shown.colorbar.title.text == "%<br>(Quantile, 5 Klassen)"
    features = shown.geojson["features"]
    assert [f["id"] for f in features] == ["11", "12", "21", "22"]


def test_choropleth_texts(wh, indicators):
    fig = _map(wh, indicators)
    assert "Ausländeranteil" in fig.layout.title.text
    assert fig.layout.title.subtitle.text == "Stadtteil · Stichtag 31.12.2024 · Einheit: %"
    caption = fig.layout.annotations[0].text
    assert caption == "Quelle: Einwohnermelderegister Teststadt · Stand: 31.12.2024"
    assert fig.layout.separators == ",."
    assert fig.layout.geo.fitbounds == "locations" and fig.layout.geo.visible is False


def test_choropleth_hover_is_german_and_hides_suppressed_counts(wh, indicators):
    shown, grey = _map(wh, indicators).data
    name, value, counts = shown.customdata[0]
    assert (name, value) == ("Altstadt", "11,8 %")
    assert counts == "<br>Ausländerinnen und Ausländer: 120<br>Einwohner insgesamt: 1.020"
    # the warehouse holds numerator 30 / denominator 510 for the suppressed cell
    assert list(grey.customdata[0]) == ["Weststadt", "geheim gehalten", ""]


def test_choropleth_of_counts_has_no_count_lines(wh, indicators):
    shown = _map(wh, indicators, "population", level="borough").data[0]
    assert list(shown.z) == [4, 0]  # two boroughs, five quantile classes: top, bottom
    assert list(shown.customdata[0]) == ["Nord", "3.060 Personen", ""]  # a count: no counts
    assert list(shown.customdata[1]) == ["Süd", "1.990 Personen", ""]


def test_choropleth_hover_without_count_labels_uses_generic_ones(wh, indicators):
    unlabelled = replace(
        indicators["foreigner_share"],
        numerator_label=None,
        denominator_label=None,
        function="ratio",
        unit="per_100",
        unit_label="je 100",
    )
    values = queries.area_values(wh, ("foreigner_share",), "2024-12-31", "district")
    shapes = queries.geometries(wh, "district", "2024-12-31")
    shown = map_figures.choropleth(
        values, shapes, unlabelled, "Stadtteil", "2024-12-31", "de"
    ).data[0]
    assert list(shown.customdata[0]) == [
        "Altstadt",
        "11,8 je 100",
        "<br>Zähler: 120<br>Nenner: 1.020",
    ]


def test_choropleth_without_geometry_says_so(wh, indicators):
    values = queries.area_values(wh, ("foreigner_share",), "2024-12-31", "district")
    fig = map_figures.choropleth(
        values,
        values.iloc[0:0].assign(geojson=[]),
        indicators["foreigner_share"],
        "Stadtteil",
        "2024-12-31",
        "de",
    )
    assert "keine Gebietsgrenzen" in fig.layout.annotations[0].text


def _trend(wh, indicators, indicator_id, area_ids):
    frame = queries.series(wh, indicator_id, area_ids)
    level_labels = {"city": "Stadt", "borough": "Stadtbezirk", "district": "Stadtteil"}
    frame = labels.series_labels(frame, indicators[indicator_id], level_labels, "de")
    return trends_figures.trend(frame, indicators[indicator_id], "de", city_id="00")


def test_trend_city_and_areas(wh, indicators):
    fig = _trend(wh, indicators, "migration_background_share", ("00", "11", "21"))
    assert [t.name for t in fig.data] == ["Teststadt", "Altstadt", "Südviertel"]
    city = fig.data[0]
    assert city.line.color == figures.CITY_COLOR and city.line.width > fig.data[1].line.width
    assert list(city.x) == ["2022-12-31", "2023-12-31", "2024-12-31"]
    assert list(fig.data[1].y) == pytest.approx([25.0, 100 * 260 / 1010, 100 * 280 / 1020])
    assert fig.layout.annotations[0].text.endswith("Stand: 31.12.2024")
    assert list(fig.layout.xaxis.ticktext) == ["31.12.2022", "31.12.2023", "31.12.2024"]
    assert fig.data[1].customdata[0][2] == "25,0 %"


def test_trend_segregation_one_line_per_level(wh, indicators):
    fig = _trend(wh, indicators, "segregation_is_migration_background", ("00",))
    assert [t.name for t in fig.data] == ["Stadtbezirk (n = 2)", "Stadtteil (n = 4)"]
    assert list(fig.data[1].y) == pytest.approx([0.20, 0.21, 0.23])
    assert fig.layout.title.subtitle.text == "Einheit: Index (0–1)"
    assert fig.data[1].customdata[2][2:] == ["0,23", "<br>4 Gebiete"]


def test_trend_breaks_the_line_where_the_definition_changes(indicators):
    frame = pd.DataFrame(
        {
            "series": ["00"] * 3,
            "label": ["Teststadt"] * 3,
            "area_id": ["00"] * 3,
            "ref_date": ["2022-12-31", "2023-12-31", "2024-12-31"],
            "value": [10.0, 11.0, 14.0],
            "numerator": [1.0, 1.0, 1.0],
            "denominator": [10.0, 10.0, 10.0],
            "flag": [None] * 3,
            "definition_id": ["old", "old", "new"],
            "n_units": [None] * 3,
        }
    )
    fig = trends_figures.trend(frame, indicators["foreigner_share"], "de", city_id="00")
    assert [len(t.x) for t in fig.data] == [2, 1]
    assert [t.showlegend for t in fig.data] == [True, False]
    assert fig.data[0].legendgroup == fig.data[1].legendgroup


def test_trend_without_data_says_so(indicators):
    fig = trends_figures.trend(
        pd.DataFrame(columns=["series"]), indicators["foreigner_share"], "de"
    )
    assert fig.layout.annotations[0].text == "Für diese Auswahl liegen keine Daten vor."


def test_choropleth_one_trace_per_flag_and_geometry_sent_once(wh, indicators):
    values = queries.area_values(wh, ("foreigner_share",), "2024-12-31", "district")
    values.loc[values["area_id"] == "11", ["value", "flag"]] = [None, "secret"]
    values.loc[values["area_id"] == "12", "flag"] = "unreliable"
    shapes = queries.geometries(wh, "district", "2024-12-31")
    fig = map_figures.choropleth(
        values, shapes, indicators["foreigner_share"], "S", "2024-12-31", "de"
    )
    shown, suppressed, secret = fig.data
    assert list(shown.locations) == ["12", "21"]
    assert list(shown.marker.line.width) == [2.5, 1]  # the flagged value is outlined
    assert [t.name for t in fig.data[1:]] == [
        "geheim gehalten",
        "Zahlenwert unbekannt oder geheim zu halten",
    ]
    assert [f["id"] for f in secret.geojson["features"]] == ["11"]
    assert suppressed.colorscale[0][1] != secret.colorscale[0][1]
    assert secret.customdata[0][1] == "Zahlenwert unbekannt oder geheim zu halten"
    assert "(keine Angabe" in shown.customdata[0][1]  # value text names the flag


def test_choropleth_of_a_balance_uses_a_diverging_scale(wh, indicators):
    values = queries.area_values(wh, ("population",), "2024-12-31", "district")
    values["value"] = [-120.0, 35.0, 0.0, 900.0]
    shapes = queries.geometries(wh, "district", "2024-12-31")
    shown = map_figures.choropleth(
        values, shapes, indicators["population"], "S", "2024-12-31", "de"
    )
    trace = shown.data[0]
    # classes on both sides of 0 take PuOr colours at their middle: orange below 0,
    # purple above; the legend in German number format with a real minus sign
    colour = dict(trace.colorscale[::2])
    lowest = colour[0.0].removeprefix("rgb(").rstrip(")").split(",")
    highest = colour[0.8].removeprefix("rgb(").rstrip(")").split(",")
    assert int(lowest[0]) > int(lowest[2]) and int(highest[2]) > int(highest[0])
    assert trace.z[0] == 0 and trace.z[-1] == 4  # −120 lowest class, 900 highest
    assert trace.colorbar.ticktext[0].startswith("−120 – ")


def test_long_captions_wrap_at_source_separators():
    text = "Quelle: " + "A" * 70 + "; " + "B" * 40 + " · Stand: 31.12.2016"
    assert figures.wrap_caption(text) == (
        "Quelle: " + "A" * 70 + ";<br>" + "B" * 40 + " · Stand: 31.12.2016"
    )
    assert figures.wrap_caption("Quelle: X · Stand: 1") == "Quelle: X · Stand: 1"


def test_trend_marks_flagged_dates_and_pads_a_single_date(indicators):
    frame = pd.DataFrame(
        {
            "series": ["00"] * 3,
            "label": ["Teststadt"] * 3,
            "area_id": ["00"] * 3,
            "ref_date": ["2022-06-30", "2022-12-31", "2023-06-30"],
            "value": [None, 11.0, 14.0],
            "numerator": [None] * 3,
            "denominator": [None] * 3,
            "flag": ["pending", None, None],
            "definition_id": ["d"] * 3,
            "n_units": [None] * 3,
        }
    )
    fig = trends_figures.trend(frame, indicators["foreigner_share"], "de", city_id="00")
    line, rug = fig.data
    assert rug.yaxis == "y2" and list(rug.x) == ["2022-06-30"]
    assert rug.customdata[0] == ["Teststadt", "30.06.2022", "Angabe fällt später an"]
    assert list(fig.layout.xaxis.ticktext) == ["30.06.2022", "30.06.2023"]  # same day only
    single = trends_figures.trend(frame.iloc[2:], indicators["foreigner_share"], "de", city_id="00")
    assert single.layout.xaxis.range == ("2022-06-30", "2024-06-29")
