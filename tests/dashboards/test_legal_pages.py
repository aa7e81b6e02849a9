"""Impressum, Datenschutzerklärung and Erklärung zur Barrierefreiheit (dashboards/legal/,
pages/legal.py): templates filled from the profile's ``legal:`` section, fields not set
named on the page, per instance and language, linked from every page's footer.

In the browser: tests/dashboards/test_server.py (under the production server) and
test_accessibility.py (axe).
"""

from __future__ import annotations

import json
from datetime import date

import dash
import pytest
from plotly.utils import PlotlyJSONEncoder

from dashboards import legal
from dashboards.app import create_app
from dashboards.i18n import t
from etl.profile import Legal

FULL = Legal(
    office_name="Stadt Teststadt, Statistikstelle",
    address="Markt 1\n12345 Teststadt",
    email="statistik@teststadt.example",
    phone="+49 1234 5678-0",
    responsible="Die Oberbürgermeisterin",
    data_protection_officer="Datenschutzbeauftragte der Stadt, datenschutz@teststadt.example",
    supervisory_authority="Landesbeauftragte für den Datenschutz",
    log_retention="7 Tage",
    feedback_contact="barrierefrei@teststadt.example",
    enforcement_body="Durchsetzungsstelle des Landes",
    conformance="partial",
    statement_date=date(2026, 11, 30),
    assessment="Selbstbewertung mit axe-core und Tastaturtest",
    known_issues=["Die Tabellen der Karten sind *sehr* lang"],
)


@pytest.mark.parametrize("page", legal.PAGES)
def test_both_languages_have_the_same_placeholders(page):
    german = legal.placeholders(legal._template(page, "de"))
    assert german == legal.placeholders(legal._template(page, "en"))


def test_every_field_of_the_profile_appears_on_a_page():
    templates = [legal._template(page, "de") for page in legal.PAGES]
    used = {name for template in templates for name in legal.placeholders(template)}
    assert used == set(Legal.model_fields)


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("page", legal.PAGES)
def test_a_complete_profile_fills_every_placeholder(page, lang):
    text = legal.page_text(page, FULL, lang)
    assert text.missing == ()
    assert "{" not in text.markdown and "nicht gesetzt" not in text.markdown


def test_fields_not_set_are_named_never_made_up():
    text = legal.page_text("imprint", Legal(office_name="Stadt Teststadt"), "de")
    assert text.missing == ("address", "phone", "email", "responsible")
    assert "Stadt Teststadt" in text.markdown
    assert "**\\[nicht gesetzt: legal.address\\]**" in text.markdown
    english = legal.page_text("imprint", Legal(), "en")
    assert "**\\[not set: legal.office_name\\]**" in english.markdown
    blank = legal.page_text("imprint", Legal(email="  "), "de")
    assert "email" in blank.missing  # an empty value is no value


def test_values_are_plain_text_with_their_line_breaks():
    details = Legal(office_name="Amt *für* [Statistik] #1", address="Markt 1\n- 2. OG\n3. Tür")
    markdown = legal.page_text("imprint", details, "de").markdown
    assert "Amt \\*für\\* \\[Statistik\\] \\#1" in markdown
    assert "Markt 1  \n\\- 2. OG  \n3\\. Tür" in markdown  # no list, one line each


def test_accessibility_statement_follows_the_model_structure():
    markdown = legal.page_text("accessibility", FULL, "de").markdown
    headings = [line for line in markdown.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Stand der Vereinbarkeit mit den Anforderungen",
        "## Nicht barrierefreie Inhalte",
        "## Erstellung dieser Erklärung",
        "## Feedback und Kontaktangaben",
        "## Durchsetzungsverfahren",
    ]
    assert "(BITV 2.0) teilweise vereinbar" in markdown
    assert "am 30.11.2026 erstellt" in markdown
    assert "* Die Tabellen der Karten sind \\*sehr\\* lang" in markdown  # the profile's
    assert "partially compliant" in legal.page_text("accessibility", FULL, "en").markdown


# --- in the app -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def two_offices(synthetic_curated_dir):
    """One snapshot served as two instances with different offices (b lacks details)."""
    instances = {"a": synthetic_curated_dir, "b": synthetic_curated_dir}
    return create_app(instances, legal_details={"a": FULL, "b": Legal(office_name="Amt B")})


def _page(app, path: str, query: str = "") -> str:
    """The text a legal page's layout renders for ``path?query``."""
    page = next(p for p in dash.page_registry.values() if p["path"] == path)
    with app.server.test_request_context(f"{path}?{query}"):
        return json.dumps(page["layout"](), cls=PlotlyJSONEncoder, ensure_ascii=False)


def test_each_instance_shows_its_office(two_offices):
    imprint = _page(two_offices, "/impressum", "instance=a")
    assert "Stadt Teststadt, Statistikstelle" in imprint and "legal-text" in imprint
    assert "notice" not in imprint  # complete: no notice
    other = _page(two_offices, "/impressum", "instance=b&lang=en")
    assert "Amt B" in other and "Legal notice" in other
    missing = "legal.address, legal.phone, legal.email, legal.responsible"
    assert t("legal.incomplete", "en", fields=missing) in other


def test_footer_links_keep_the_instance_and_language(two_offices):
    client = two_offices.server.test_client()
    layout = client.get(
        "/_dash-layout", headers={"Referer": "http://localhost/karte?instance=b&lang=en&x=1"}
    ).get_data(as_text=True)
    for path in legal.PAGES.values():
        assert json.dumps(f"{path}?instance=b&lang=en") in layout.replace("\\u002f", "/")
    assert '"footer-legal"' in layout and "Legal information" in layout


def test_legal_details_for_an_unknown_instance_are_refused(synthetic_curated_dir):
    with pytest.raises(ValueError, match="unknown instances: c"):
        create_app({"a": synthetic_curated_dir}, legal_details={"c": FULL})
