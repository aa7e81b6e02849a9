"""The layout is the data flow (docs/ARCHITECTURE.md): which package and layer may import
which, checked on the import statements of the source files."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _imports(folder: str) -> dict[str, set[str]]:
    """Module file (relative) -> the modules it imports (absolute names)."""
    found = {}
    for path in sorted((REPO / folder).rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        found[str(path.relative_to(REPO))] = names
    return found


def _offending(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{module}: {name}"
        for module, names in _imports(folder).items()
        for name in sorted(names)
        if name.startswith(forbidden)
    ]


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("etl", ("dashboards", "imon")),  # raw -> snapshot never reaches the serving side
        ("dashboards", ("imon",)),
        ("dashboards/data", ("dash.", "dashboards.figures", "dashboards.components")),
        ("dashboards/data", ("dashboards.export", "dashboards.pages")),
        ("dashboards/figures", ("dash.", "dashboards.components", "dashboards.export")),
        ("dashboards/figures", ("dashboards.pages",)),
        ("dashboards/components", ("dashboards.export.render", "dashboards.pages")),
        ("dashboards/export", ("dash.", "dashboards.components", "dashboards.pages")),
    ],
)
def test_layers_import_only_downstream(folder, forbidden):
    assert _offending(folder, forbidden) == []


def test_only_the_data_layer_writes_sql_on_the_snapshot():
    """duckdb (the connection to the published file) is used in dashboards/data only."""
    users = [m for m, names in _imports("dashboards").items() if "duckdb" in names]
    assert users and all(m.startswith("dashboards/data/") for m in users), users


def test_components_do_not_load_the_export_renderer():
    code = (
        "import sys, dashboards.components.common, dashboards.components.tables, "
        "dashboards.components.compare, dashboards.components.profile, "
        "dashboards.components.overview, dashboards.components.indicators, "
        "dashboards.components.segregation; print('kaleido' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
