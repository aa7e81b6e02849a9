"""Typed schema of ``indicators.yaml``; every error names the indicator and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from etl.errors import ConfigError

DOMAINS: dict[str, list[str]] = yaml.safe_load(
    (Path(__file__).parent / "population_domains.yaml").read_text(encoding="utf-8"))
FUNCTIONS = ("count", "share", "ratio", "segregation_is", "observed")
DEFAULT_UNIT = {"count": "persons", "share": "percent", "ratio": "per_100",
                "segregation_is": "index"}
DEFAULT_DECIMALS = {"count": 0, "share": 1, "ratio": 1, "segregation_is": 3, "observed": 1}

GroupRef = str | list[str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    de: str
    en: str


class _Indicator(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    topic: str
    title: Text
    definition: Text
    unit: str | None = None
    decimals: int | None = Field(default=None, ge=0, le=6)
    source: str | None = None
    definition_id: str | None = None
    numerator_label: Text | None = None
    denominator_label: Text | None = None

    def terms(self) -> dict[str, GroupRef]:
        """Group references of this indicator by role (numerator, denominator, ...)."""
        raise NotImplementedError


class Count(_Indicator):
    function: Literal["count"]
    of: GroupRef
    scale: ClassVar[float] = 1.0

    def terms(self) -> dict[str, GroupRef]:
        return {"of": self.of}


class _Rate(_Indicator):
    numerator: GroupRef
    denominator: GroupRef

    def terms(self) -> dict[str, GroupRef]:
        return {"numerator": self.numerator, "denominator": self.denominator}


class Share(_Rate):
    function: Literal["share"]
    scale: ClassVar[float] = 100.0  # percent


class Ratio(_Rate):
    function: Literal["ratio"]
    scale: float = 100.0  # configurable, e.g. men per 100 women


class SegregationIS(_Indicator):
    function: Literal["segregation_is"]
    group: GroupRef
    total: GroupRef = "total"
    scale: ClassVar[float] = 1.0

    def terms(self) -> dict[str, GroupRef]:
        return {"group": self.group, "total": self.total}


class Observed(_Indicator):
    """A value published as such by a statistics office (e.g. an unemployment rate): taken
    over unchanged for the areas it is published for, never summed or recomputed."""

    function: Literal["observed"]
    of: GroupRef
    scale: ClassVar[float] = 1.0

    def terms(self) -> dict[str, GroupRef]:
        return {"of": self.of}


Indicator = Annotated[Count | Share | Ratio | SegregationIS | Observed,
                      Field(discriminator="function")]
_INDICATOR = TypeAdapter(Indicator)


class Defaults(_Strict):
    source: str
    definition_id: str


class Measure(_Strict):
    """A quantity that is not a head count of residents (employees, moves, a rate).
    Additive measures are summed over areas; the others exist only where published."""

    label: Text
    additive: bool = True


class Catalogue(_Strict):
    version: Literal[1]
    defaults: Defaults
    units: dict[str, Text]
    groups: dict[str, dict[str, str | list[str]]]
    measures: dict[str, Measure] = {}
    indicators: list[Indicator]

    def from_population(self, key: tuple[str, ...]) -> bool:
        """Whether the term can be counted from person-level register data."""
        return all(name in self.groups for name in key)

    def additive(self, key: tuple[str, ...]) -> bool:
        return all(self.measures[n].additive for n in key if n in self.measures)

    def contains(self, outer: tuple[str, ...], inner: tuple[str, ...]) -> bool:
        """Whether every person/unit of term ``inner`` also belongs to term ``outer``
        (same measures; each filter of ``outer`` is at least as wide as ``inner``'s)."""
        if {n for n in outer if n in self.measures} != {n for n in inner if n in self.measures}:
            return False
        wide, narrow = self._filters(outer), self._filters(inner)
        return all(col in narrow and narrow[col] <= values for col, values in wide.items())

    def _filters(self, key: tuple[str, ...]) -> dict[str, set[str]]:
        combined: dict[str, set[str]] = {}
        for name in key:
            for column, values in self.groups.get(name, {}).items():
                chosen = {values} if isinstance(values, str) else set(values)
                combined[column] = combined.get(column, chosen) & chosen
        return combined


def load_catalogue(path: Path) -> Catalogue:
    """Read, validate and complete ``indicators.yaml`` (defaults filled in)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with 'groups' and 'indicators'")
    entries = data.get("indicators") or []
    data["indicators"] = [_indicator(path, number, entry) for number, entry in
                          enumerate(entries, start=1)]
    try:
        catalogue = Catalogue(**data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_fields(exc)}") from exc
    _check_groups(path, catalogue.groups)
    if set(catalogue.groups) & set(catalogue.measures):
        raise ConfigError(f"{path}: names used both as group and measure: "
                          f"{', '.join(sorted(set(catalogue.groups) & set(catalogue.measures)))}")
    _check_references(path, catalogue)
    return _with_defaults(catalogue)


def _indicator(path: Path, number: int, entry: object) -> object:
    name = entry.get("id", f"#{number}") if isinstance(entry, dict) else f"#{number}"
    if isinstance(entry, dict) and entry.get("function") not in FUNCTIONS:
        raise ConfigError(f"{path}: indicator '{name}', field 'function': unknown function "
                          f"'{entry.get('function')}' (known: {', '.join(FUNCTIONS)})")
    try:
        return _INDICATOR.validate_python(entry)
    except ValidationError as exc:
        raise ConfigError(f"{path}: indicator '{name}', {_fields(exc, skip=1)}") from exc


def _fields(exc: ValidationError, skip: int = 0) -> str:
    parts = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"][skip:]]
        what = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
        parts.append(f"field '{'.'.join(loc)}': {what}")
    return "; ".join(parts)


def _check_groups(path: Path, groups: dict[str, dict[str, str | list[str]]]) -> None:
    for name, filters in groups.items():
        for column, values in filters.items():
            if column not in DOMAINS:
                raise ConfigError(f"{path}: group '{name}': unknown column '{column}' "
                                  f"(known: {', '.join(DOMAINS)})")
            for value in [values] if isinstance(values, str) else values:
                if value not in DOMAINS[column]:
                    raise ConfigError(f"{path}: group '{name}', column '{column}': unknown "
                                      f"value '{value}' (known: {', '.join(DOMAINS[column])})")


def _check_references(path: Path, catalogue: Catalogue) -> None:
    seen: set[str] = set()
    for ind in catalogue.indicators:
        if ind.id in seen:
            raise ConfigError(f"{path}: indicator '{ind.id}', field 'id': used twice")
        seen.add(ind.id)
        known = {**catalogue.groups, **catalogue.measures}
        for role, ref in ind.terms().items():
            for group in [ref] if isinstance(ref, str) else ref:
                if group not in known:
                    raise ConfigError(f"{path}: indicator '{ind.id}', field '{role}': unknown "
                                      f"group or measure '{group}' (known: {', '.join(known)})")
        if ind.function in ("share", "ratio"):
            for role in ("numerator_label", "denominator_label"):
                if getattr(ind, role) is None:
                    raise ConfigError(f"{path}: indicator '{ind.id}', field '{role}': required "
                                      f"for function '{ind.function}' (German and English)")
        if ind.unit is None and ind.function not in DEFAULT_UNIT:
            raise ConfigError(f"{path}: indicator '{ind.id}', field 'unit': required for "
                              f"function '{ind.function}'")
        unit = ind.unit or DEFAULT_UNIT[ind.function]
        if unit not in catalogue.units:
            raise ConfigError(f"{path}: indicator '{ind.id}', field 'unit': unknown unit "
                              f"'{unit}' (known: {', '.join(catalogue.units)})")


def _with_defaults(catalogue: Catalogue) -> Catalogue:
    filled = [ind.model_copy(update={
        "unit": ind.unit or DEFAULT_UNIT[ind.function],
        "decimals": DEFAULT_DECIMALS[ind.function] if ind.decimals is None else ind.decimals,
        "source": ind.source or catalogue.defaults.source,
        "definition_id": ind.definition_id or catalogue.defaults.definition_id,
    }) for ind in catalogue.indicators]
    return catalogue.model_copy(update={"indicators": filled})


def term_key(ref: GroupRef) -> tuple[str, ...]:
    """Canonical key of a group reference (intersection of groups)."""
    return tuple(sorted({ref} if isinstance(ref, str) else set(ref)))


def term_name(key: tuple[str, ...]) -> str:
    """The term's id in ``area_counts``, e.g. ``foreigners&under_18``."""
    return "&".join(key)
