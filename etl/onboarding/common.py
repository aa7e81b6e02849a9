"""Small helpers the drafts of ``imon init`` share (draft.py, genesis.py)."""

from __future__ import annotations

import json
from pathlib import Path


def flow(value: object) -> str:
    """``value`` in YAML flow style (JSON is valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def below(path: Path, raw_dir: Path) -> str:
    """``path`` relative to ``raw_dir``."""
    return path.resolve().relative_to(raw_dir).as_posix()
