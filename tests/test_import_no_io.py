"""No module of etl, dashboards or imon reads a file when it is imported (the pages, which
Dash registers by name from the strings file when the app is made, aside)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SCRIPT = """
import importlib, pkgutil, sys
from pathlib import Path
ours = [Path(p).resolve() for p in sys.argv[1:]]
opened = []

def hook(event, args):
    if event == "open" and args and isinstance(args[0], str):
        path = Path(args[0]).resolve()
        if any(d in path.parents for d in ours) and path.suffix not in (".py", ".pyc", ".so"):
            opened.append(str(path))

sys.addaudithook(hook)
import dashboards, etl, imon
for package in (etl, dashboards, imon):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if not module.name.startswith("dashboards.pages"):
            importlib.import_module(module.name)
assert not opened, opened
"""


def test_importing_any_module_reads_no_file():
    folders = [str(REPO / name) for name in ("etl", "dashboards", "imon")]
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *folders], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
