"""Sidecar ``<file>.meta.yml`` for every raw file written by the demo generator."""

from __future__ import annotations

from pathlib import Path

import yaml

from etl.files import sha256_of

SOURCE = "Demo-Daten Musterstadt (synthetisch, erzeugt von imon demo-data)"
LICENCE = "CC0 1.0 (synthetische Daten)"


def write_meta(path: Path, received: str, description: str, seed: int, persons: int) -> Path:
    """Write ``path.meta.yml`` describing ``path`` and return the sidecar's path."""
    meta = {
        "source": SOURCE,
        "received": received,
        "licence": LICENCE,
        "sha256": sha256_of(path),
        "description": description,
        "generator": {"seed": int(seed), "persons": int(persons)},
    }
    sidecar = path.with_name(path.name + ".meta.yml")
    text = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)
    sidecar.write_text(text, encoding="utf-8", newline="\n")
    return sidecar
