"""Instance profiles: which raw files make up an instance and where its warehouse goes.

A profile is a YAML file (see ``profiles/musterstadt.yaml``). Relative paths in it are
resolved against the directory of the profile file.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from etl.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PROFILE = REPO_ROOT / "profiles" / "musterstadt.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Level(_Strict):
    id: str
    label_de: str
    label_en: str


class Geography(_Strict):
    adapter: str = "area_list"
    areas: str                  # glob below raw_dir, one match per vintage folder
    geometry: str               # glob below raw_dir, next to the area list
    level_names: dict[str, str]  # raw level name -> level id
    simplify_tolerance: float = 0.0002  # degrees, for the web geometry


class Register(_Strict):
    adapter: str = "register_persons"
    files: str                  # glob below raw_dir; the parent folder is the reference date
    attribution: str
    layout: Path | None = None  # column layout YAML (docs/REGISTER_LAYOUTS.md); None = default


class Disclosure(_Strict):
    min_denominator: int = 30   # shares/ratios with a smaller denominator are suppressed
    min_count: int = 3          # counts 1..min_count-1 are suppressed


class Profile(_Strict):
    instance: str
    title: str
    raw_dir: Path
    curated_dir: Path
    indicators: Path
    keep_snapshots: int = 3
    levels: list[Level]
    geography: Geography
    register_source: Register = Field(alias="register")
    disclosure: Disclosure = Disclosure()
    path: Path | None = None

    def level_ids(self) -> list[str]:
        """Level ids from coarsest (rank 0) to finest."""
        return [level.id for level in self.levels]


def load_profile(path: Path | str | None = None) -> Profile:
    """Read and validate a profile; ``None`` means the demo city."""
    path = Path(path) if path is not None else DEFAULT_PROFILE
    if not path.is_file():
        raise ConfigError(f"{path}: profile file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    base = path.resolve().parent
    for key in ("raw_dir", "curated_dir", "indicators"):
        if key in data:
            data[key] = (base / data[key]).resolve()
    register = data.get("register")
    if isinstance(register, dict) and register.get("layout"):
        register["layout"] = (base / register["layout"]).resolve()
    try:
        return Profile(**data, path=path.resolve())
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_describe(exc)}") from exc


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"])
        parts.append(f"field '{field}': {err['msg']}")
    return "; ".join(parts)
