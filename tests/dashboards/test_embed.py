"""Embeddable charts (#19, dashboards/embed.py): the chart of a page's choices and nothing
else, the same figure as the download, framed only where the profile allows, never past a
login (the browser draws it in tests/dashboards/test_share_browser.py)."""

from __future__ import annotations

import json
import pkgutil
import re

import brotli
import plotly.io as pio
import pytest

from dashboards import users
from dashboards.app import create_app
from dashboards.data import queries
from dashboards.export import profile as profile_export
from dashboards.export import trends as trends_export
from etl.profile import Access, Server

MAP = "/embed/karte?indicator=foreigner_share&date=2023-12-31&level=district"


@pytest.fixture(scope="module")
def client(synthetic_curated_dir):
    settings = Server(embed_frame_ancestors=["https://www.teststadt.de"])
    return create_app(synthetic_curated_dir, settings=settings).server.test_client()


def _figure(response) -> dict:
    text = response.get_data(as_text=True)
    data = re.search(r'<script type="application/json" id="embed-figure">(.*?)</script>', text)
    return json.loads(data[1].replace("<\\/", "</"))


def test_the_embedded_chart_is_the_download_s_figure(client, synthetic_curated_dir):
    wh = queries.open_warehouse(synthetic_curated_dir)
    cases = [
        (
            "/embed/zeitreihen?indicator=foreigner_share&areas=21,11",
            trends_export.trend_chart(wh, "foreigner_share", ["21", "11"], "de"),
        ),
        (
            "/embed/profil?area=21&date=2023-12-31",
            profile_export.dots_chart(wh, "21", "2023-12-31", "de"),
        ),
    ]
    for path, chart in cases:
        response = client.get(path)
        assert response.status_code == 200, path
        shown = _figure(response)
        expected = json.loads(pio.to_json(chart.figure))
        assert shown["layout"]["title"] == expected["layout"]["title"]
        assert [t.get("y") for t in shown["data"]] == [t.get("y") for t in expected["data"]]
        assert shown["layout"].get("width") is None  # resizes with the frame
    page = client.get(MAP).get_data(as_text=True)
    assert "Ausländeranteil" in _figure(client.get(MAP))["layout"]["title"]["text"]
    assert "<a " not in page and "<nav" not in page  # the chart, nothing else


def test_framing_follows_embed_frame_ancestors(client, synthetic_curated_dir):
    embedded = client.get(MAP).headers
    assert embedded["Content-Security-Policy"].endswith("frame-ancestors https://www.teststadt.de")
    assert "X-Frame-Options" not in embedded
    assert "sha256-" not in embedded["Content-Security-Policy"]  # no inline script at all
    page = client.get("/karte").headers  # the dashboard itself: frame_ancestors ('self')
    assert page["Content-Security-Policy"].endswith("frame-ancestors 'self'")
    default = create_app(synthetic_curated_dir).server.test_client().get(MAP).headers
    assert default["Content-Security-Policy"].endswith("frame-ancestors 'self'")
    assert default["X-Frame-Options"] == "SAMEORIGIN"


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/embed/karte?indicator=foreigner_share", 400, "missing: date, level"),
        ("/embed/tabelle?indicator=foreigner_share", 404, "known: karte, zeitreihen, profil"),
        ("/embed/karte?indicator=nope&date=2023-12-31&level=district", 404, "nope"),
        ("/embed/profil?area=99&date=2023-12-31", 404, "no such chart"),
    ],
)
def test_a_wrong_address_gets_a_plain_answer(client, path, status, says):
    response = client.get(path)
    assert response.status_code == status
    assert says in response.get_data(as_text=True)


def test_a_closed_instance_embeds_nothing_without_a_login(synthetic_curated_dir, tmp_path):
    users_file = tmp_path / "users.json"
    users.add(users_file, "anna", "office", "richtig-geheim-1")
    app = create_app(synthetic_curated_dir, access=Access(public=False, users_file=users_file))
    response = app.server.test_client().get(MAP)
    assert response.status_code in (303, 401)  # to the login page, or refused
    assert "embed-figure" not in response.get_data(as_text=True)


def test_plotly_s_bundle_is_served_compressed_once(client):
    """dashboards/bundles.py: brotli of the package's own file, the same bytes each time;
    the embed page registers the empty world map before plotly.js runs."""
    path = "/_dash-component-suites/plotly/package_data/plotly.min.js"
    first = client.get(path, headers={"Accept-Encoding": "gzip, br"})
    again = client.get(path, headers={"Accept-Encoding": "br"})
    assert first.headers["Content-Encoding"] == "br"
    assert brotli.decompress(first.data) == pkgutil.get_data("plotly", "package_data/plotly.min.js")
    assert again.data == first.data and len(first.data) < 1_300_000  # quality 4 gives 1.41 MB
    plain = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert plain.headers["Content-Encoding"] == "gzip"  # flask-compress as before
    page = client.get(MAP).get_data(as_text=True)
    assert page.index("assets/geo_assets.js") < page.index("plotly.min.js")


def test_a_failure_of_the_export_is_an_error_not_a_missing_chart(client, monkeypatch):
    """Only an unknown choice is a 404; a bug inside the export (here a KeyError) is the
    server's error, not disguised as "no such chart"."""
    from dashboards import embed

    def broken(wh, args, lang):
        raise KeyError("a bug, not a wrong address")

    monkeypatch.setitem(embed.CHARTS, "karte", broken)
    assert client.get(MAP).status_code == 500
    wrong = client.get("/embed/karte?indicator=foreigner_share&date=1999-12-31&level=district")
    assert wrong.status_code == 404 and "unknown date '1999-12-31'" in wrong.get_data(as_text=True)


def test_a_narrow_frame_gets_texts_wrapped_for_it(client):
    """The page carries a narrow layout: no line of title, subtitle or footer longer than
    fits 360 px at the print fonts (the page's 16 cm lines scaled: 605 px → 360 px), and
    the figure higher by the extra lines."""
    shown = json.loads(
        re.search(r'id="embed-figure">(.*?)</script>', client.get(MAP).get_data(as_text=True))[
            1
        ].replace("<\\/", "</")
    )
    layout, narrow = shown["layout"], shown["narrow"]
    share = (360 - 20) / (605 - 20)
    footer = next(a for a in narrow["annotations"] if a.get("name") == "caption")["text"]
    wide_footer = next(a for a in layout["annotations"] if a.get("name") == "caption")["text"]
    assert max(map(len, footer.split("<br>"))) <= int(100 * share) < 60
    assert max(map(len, wide_footer.split("<br>"))) > int(100 * share)  # the page's: wider
    title = re.sub(r"</?b>", "", narrow["title"]["text"]).split("<br>")
    assert max(map(len, title)) <= int(56 * share)
    extra = 14 * (footer.count("<br>") - wide_footer.count("<br>"))
    extra += 21 * (len(title) - len(layout["title"]["text"].split("<br>")))
    extra += 16 * (
        narrow["title"]["subtitle"]["text"].count("<br>")
        - layout["title"]["subtitle"]["text"].count("<br>")
    )
    assert narrow["height"] == layout["height"] + extra
