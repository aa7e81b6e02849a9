"""App shell: pages, URL state in layouts, start-up errors, the top-level entry point."""

import os
import subprocess
import sys
from pathlib import Path

import dash
import pytest
from dash_tree import find as _find

from dashboards.app import create_app
from dashboards.data import queries

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def app(synthetic_curated_dir):
    return create_app(synthetic_curated_dir)


def _layout(app, module, **params):
    with app.server.test_request_context("/"):
        return dash.page_registry[module]["layout"](**params)


def test_pages_and_index(app):
    paths = {page["path"] for page in dash.page_registry.values()}
    assert paths == {
        "/",
        "/karte",
        "/zeitreihen",
        "/profil",
        "/gebiet",  # not in the menu: reached by the search and by map clicks (#19)
        "/vergleich",
        "/indikatoren",
        "/segregation",
        "/ziele",
        "/daten",
        "/intern",  # logged-in users only (test_internal_page.py)
        "/impressum",
        "/datenschutz",
        "/barrierefreiheit",
        "/404",
    }
    html = app.server.test_client().get("/karte").get_data(as_text=True)
    assert '<html lang="de">' in html
    assert "https://" not in html.split("<footer>")[1]  # scripts are served locally


def test_map_layout_takes_state_from_url(app):
    layout = _layout(app, "pages.map", indicator="population", level="borough", date="2023-12-31")
    assert _find(layout, "map-indicator").value == "population"
    assert _find(layout, "map-level").value == "borough"
    assert _find(layout, "map-date").value == "2023-12-31"
    options = [o["value"] for o in _find(layout, "map-indicator").options]
    assert "segregation_is_migration_background" not in options


def test_map_layout_defaults_and_unknown_values(app):
    layout = _layout(app, "pages.map", indicator="nonsense")
    assert _find(layout, "map-indicator").value == "foreigner_share"  # first percent indicator
    assert _find(layout, "map-level").value == "district"  # finest level with geometry
    assert _find(layout, "map-date").value == "2024-12-31"
    assert "„nonsense“" in str(layout)


def test_trends_layout_areas_from_url(app):
    layout = _layout(
        app, "pages.trends", indicator="foreigner_share", level="district", areas="21,22"
    )
    assert _find(layout, "trends-areas").value == ["21", "22"]
    default = _layout(app, "pages.trends")
    assert _find(default, "trends-areas").value == ["11", "12", "21"]


def test_overview_layout_defaults(app):
    layout = _layout(app, "pages.overview")
    assert _find(layout, "overview-date").value == "2024-12-31"
    assert _find(layout, "overview-level").value == "borough"


def test_not_found_page_is_german(app):
    assert "Seite nicht gefunden" in str(_layout(app, "pages.not_found_404"))


def test_missing_warehouse_fails_at_start(tmp_path):
    with pytest.raises(queries.WarehouseNotFoundError, match="build the curated data"):
        create_app(tmp_path)


def test_unsupported_language_fails_at_start(synthetic_curated_dir):
    with pytest.raises(ValueError, match="supported: de, en"):
        create_app(synthetic_curated_dir, lang="fr")


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter at the repository root."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_top_level_entry_point_reads_env(synthetic_curated_dir):
    code = "import app; print(type(app.server).__name__, app.app.config.update_title)"
    result = _python(code, IMON_CURATED_DIR=str(synthetic_curated_dir))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Flask", "None"]


def test_importing_the_package_does_no_io():
    code = (
        "import dashboards, dashboards.data.queries, dashboards.figures.common, "
        "dashboards.components.common, "
        "dashboards.data.overview, dashboards.components.tables, dashboards.i18n;"
        "assert dashboards.i18n.strings.cache_info().currsize == 0"
    )
    result = _python(code)
    assert result.returncode == 0, result.stderr
