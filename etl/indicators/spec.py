"""Typed schema of ``indicators.yaml``; every error names the indicator and the field."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from etl.errors import ConfigError


@cache
def domains() -> dict[str, list[str]]:
    """Every value the ETL can write per column of ``population`` that groups may filter on
    (population_domains.yaml), read once when first needed."""
    path = Path(__file__).parent / "population_domains.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# indices over the units of a level, reported for the top-level area (etl/indicators/segregation.py)
UNIT_INDICES = (
    "segregation_is",
    "dissimilarity",
    "isolation",
    "exposure",
    "entropy",
    "gini",
    "concentration_share",
)
FUNCTIONS = ("count", "share", "ratio", *UNIT_INDICES, "location_quotient", "observed")
DEFAULT_UNIT = {
    "count": "persons",
    "share": "percent",
    "ratio": "per_100",
    **dict.fromkeys(UNIT_INDICES, "index"),
    "concentration_share": "percent",
    "location_quotient": "quotient",
}
DEFAULT_DECIMALS = {
    "count": 0,
    "share": 1,
    "ratio": 1,
    **dict.fromkeys(UNIT_INDICES, 3),
    "concentration_share": 1,
    "location_quotient": 2,
    "observed": 1,
}
RESIDENTS = "total"  # the group whose count decides a unit's size (min_unit_population)

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


class _UnitIndex(_Indicator):
    """An index of the group's distribution over the units of a level (formulas in
    :mod:`etl.indicators.segregation`). ``total`` is the reference population of a unit;
    ``min_unit_population`` drops units with fewer residents (group ``total``)."""

    group: GroupRef
    total: GroupRef = "total"
    min_unit_population: int | None = Field(default=None, ge=1)
    scale: ClassVar[float] = 1.0

    def terms(self) -> dict[str, GroupRef]:
        terms = {"group": self.group, "total": self.total}
        if getattr(self, "other", None) is not None:
            terms["other"] = self.other
        if self.min_unit_population is not None:
            terms["residents"] = RESIDENTS
        return terms


class SegregationIS(_UnitIndex):
    """Segregationsindex: dissimilarity of the group and the rest of ``total``."""

    function: Literal["segregation_is"]


class Dissimilarity(_UnitIndex):
    """Dissimilarity of the group and another, disjoint group."""

    function: Literal["dissimilarity"]
    other: GroupRef


class Isolation(_UnitIndex):
    function: Literal["isolation"]


class Exposure(_UnitIndex):
    """Exposure of the group to ``other`` (a disjoint group) or, if omitted, to the rest."""

    function: Literal["exposure"]
    other: GroupRef | None = None


class Entropy(_UnitIndex):
    function: Literal["entropy"]


class Gini(_UnitIndex):
    function: Literal["gini"]


class ConcentrationShare(_UnitIndex):
    """Percentage of the group living in the units with the highest group shares that
    together hold ``top_share`` of the reference population."""

    function: Literal["concentration_share"]
    top_share: float = Field(default=0.1, gt=0, lt=1)
    scale: ClassVar[float] = 100.0  # percent


class LocationQuotient(_Indicator):
    """(x_i / t_i) / (X / T) per area, the top-level area as reference."""

    function: Literal["location_quotient"]
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


Indicator = Annotated[
    Count
    | Share
    | Ratio
    | SegregationIS
    | Dissimilarity
    | Isolation
    | Exposure
    | Entropy
    | Gini
    | ConcentrationShare
    | LocationQuotient
    | Observed,
    Field(discriminator="function"),
]
_INDICATOR = TypeAdapter(Indicator)


class Defaults(_Strict):
    source: str
    definition_id: str


class Measure(_Strict):
    """A quantity that is not a head count of residents (employees, moves, a rate).
    Additive measures are summed over areas; the others exist only where published."""

    label: Text
    additive: bool = True
    # a balance (e.g. net migration = arrivals - departures) is never delivered as such:
    # it is computed from its two components [plus, minus] after they are protected, so
    # it reveals nothing they do not (docs/DISCLOSURE.md, "Balances")
    balance: tuple[str, str] | None = None


class RandomAllocation(_Strict):
    """Random-allocation benchmark of the city-wide indices (etl/indicators/
    random_allocation.py): ``draws`` seeded simulations per index, date and level; 0 = off."""

    draws: int = Field(default=100, ge=0, le=10_000)
    seed: int = Field(default=20071231, ge=0)


class Catalogue(_Strict):
    version: Literal[1]
    defaults: Defaults
    random_allocation: RandomAllocation = RandomAllocation()
    units: dict[str, Text]
    groups: dict[str, dict[str, str | list[str]]]
    measures: dict[str, Measure] = {}
    indicators: list[Indicator]

    def from_population(self, key: tuple[str, ...]) -> bool:
        """Whether the term can be counted from person-level register data."""
        return all(name in self.groups for name in key)

    def additive(self, key: tuple[str, ...]) -> bool:
        return all(self.measures[n].additive for n in key if n in self.measures)

    def balance(self, key: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        """The component terms (plus, minus) of a balance term, e.g. [net_migration_abroad,
        foreigners] -> ([arrivals_abroad, foreigners], [departures_abroad, foreigners])."""
        name = next((n for n in key if n in self.measures and self.measures[n].balance), None)
        if name is None:
            return None
        plus, minus = self.measures[name].balance  # type: ignore[misc]
        rest = [n for n in key if n != name]
        return term_key([plus, *rest]), term_key([minus, *rest])

    def balances(self) -> dict[str, tuple[str, str]]:
        """Every balance term the indicators use: name -> (plus term, minus term) names."""
        found = {}
        for ind in self.indicators:
            for ref in ind.terms().values():
                parts = self.balance(term_key(ref))
                if parts:
                    found[term_name(term_key(ref))] = (term_name(parts[0]), term_name(parts[1]))
        return found

    def contains(self, outer: tuple[str, ...], inner: tuple[str, ...]) -> bool:
        """Whether every person/unit of term ``inner`` also belongs to term ``outer``
        (same measures; each filter of ``outer`` is at least as wide as ``inner``'s)."""
        if {n for n in outer if n in self.measures} != {n for n in inner if n in self.measures}:
            return False
        wide, narrow = self._filters(outer), self._filters(inner)
        return all(col in narrow and narrow[col] <= values for col, values in wide.items())

    def disjoint(self, one: tuple[str, ...], two: tuple[str, ...]) -> bool:
        """Whether no person/unit can belong to both terms (same measures; some column
        filtered to values without overlap)."""
        if {n for n in one if n in self.measures} != {n for n in two if n in self.measures}:
            return False
        first, second = self._filters(one), self._filters(two)
        return any(col in second and not values & second[col] for col, values in first.items())

    def _filters(self, key: tuple[str, ...]) -> dict[str, set[str]]:
        combined: dict[str, set[str]] = {}
        for name in key:
            for column, values in self.groups.get(name, {}).items():
                chosen = {values} if isinstance(values, str) else set(values)
                combined[column] = combined.get(column, chosen) & chosen
        return combined


def read_yaml_mapping(path: Path, keys: str) -> dict:
    """The YAML mapping in ``path`` (``keys``: what it must hold, for the message); a file
    that cannot be read or is no mapping is a ConfigError naming it."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with {keys}")
    return data


def load_catalogue(path: Path) -> Catalogue:
    """Read, validate and complete ``indicators.yaml`` (defaults filled in)."""
    data = read_yaml_mapping(path, "'groups' and 'indicators'")
    entries = data.get("indicators") or []
    data["indicators"] = [
        _indicator(path, number, entry) for number, entry in enumerate(entries, start=1)
    ]
    try:
        catalogue = Catalogue(**data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_fields(exc)}") from exc
    _check_groups(path, catalogue.groups)
    if set(catalogue.groups) & set(catalogue.measures):
        raise ConfigError(
            f"{path}: names used both as group and measure: "
            f"{', '.join(sorted(set(catalogue.groups) & set(catalogue.measures)))}"
        )
    _check_references(path, catalogue)
    _check_balances(path, catalogue)
    return _with_defaults(catalogue)


def _indicator(path: Path, number: int, entry: object) -> object:
    name = entry.get("id", f"#{number}") if isinstance(entry, dict) else f"#{number}"
    if isinstance(entry, dict) and entry.get("function") not in FUNCTIONS:
        raise ConfigError(
            f"{path}: indicator '{name}', field 'function': unknown function "
            f"'{entry.get('function')}' (known: {', '.join(FUNCTIONS)})"
        )
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
            if column not in domains():
                raise ConfigError(
                    f"{path}: group '{name}': unknown column '{column}' "
                    f"(known: {', '.join(domains())})"
                )
            for value in [values] if isinstance(values, str) else values:
                if value not in domains()[column]:
                    raise ConfigError(
                        f"{path}: group '{name}', column '{column}': unknown "
                        f"value '{value}' (known: {', '.join(domains()[column])})"
                    )


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
                    raise ConfigError(
                        f"{path}: indicator '{ind.id}', field '{role}': unknown "
                        f"group or measure '{group}' (known: {', '.join(known)})"
                    )
        if isinstance(ind, _UnitIndex | LocationQuotient):
            _check_index(path, catalogue, ind)
        if ind.function in ("share", "ratio"):
            for role in ("numerator_label", "denominator_label"):
                if getattr(ind, role) is None:
                    raise ConfigError(
                        f"{path}: indicator '{ind.id}', field '{role}': required "
                        f"for function '{ind.function}' (German and English)"
                    )
        if ind.unit is None and ind.function not in DEFAULT_UNIT:
            raise ConfigError(
                f"{path}: indicator '{ind.id}', field 'unit': required for "
                f"function '{ind.function}'"
            )
        unit = ind.unit or DEFAULT_UNIT[ind.function]
        if unit not in catalogue.units:
            raise ConfigError(
                f"{path}: indicator '{ind.id}', field 'unit': unknown unit "
                f"'{unit}' (known: {', '.join(catalogue.units)})"
            )


def _check_balances(path: Path, catalogue: Catalogue) -> None:
    """A balance's components are additive measures that are no balances; a balance is used
    only as a count or a rate's numerator, and both its components are published as count
    indicators (so the balance, their difference, reveals nothing they do not and the
    attack audit can check it: etl/audit/balances.py)."""
    for name, measure in catalogue.measures.items():
        if measure.balance is None:
            continue
        for part in measure.balance:
            known = catalogue.measures.get(part)
            if known is None or not known.additive or known.balance is not None:
                raise ConfigError(
                    f"{path}: measure '{name}', field 'balance': '{part}' is not an "
                    "additive measure (the components of a balance are counts such as "
                    "arrivals and departures)"
                )
    counted = {term_name(term_key(i.of)) for i in catalogue.indicators if i.function == "count"}
    for ind in catalogue.indicators:
        for role, ref in ind.terms().items():
            parts = catalogue.balance(term_key(ref))
            if parts is None:
                continue
            if role not in ("of", "numerator") or ind.function not in ("count", "ratio"):
                raise ConfigError(
                    f"{path}: indicator '{ind.id}', field '{role}': the balance "
                    f"'{term_name(term_key(ref))}' can only be counted or be a ratio's "
                    "numerator"
                )
            for part in parts:
                if term_name(part) not in counted:
                    raise ConfigError(
                        f"{path}: indicator '{ind.id}' uses the balance "
                        f"'{term_name(term_key(ref))}': add a count indicator of its "
                        f"component {list(part)} (a balance is published only beside "
                        "its components)"
                    )


def _check_index(path: Path, catalogue: Catalogue, ind: _UnitIndex | LocationQuotient) -> None:
    """The group (and the comparison group) must lie within ``total``; the comparison group
    must share no one with the group (otherwise D and xPy have no meaning)."""
    terms = {role: term_key(ref) for role, ref in ind.terms().items()}
    for role in ("group", "other"):
        if role in terms and not catalogue.contains(terms["total"], terms[role]):
            raise ConfigError(
                f"{path}: indicator '{ind.id}', field '{role}': "
                f"'{term_name(terms[role])}' is not part of the total "
                f"'{term_name(terms['total'])}'"
            )
    if "other" in terms and not catalogue.disjoint(terms["group"], terms["other"]):
        raise ConfigError(
            f"{path}: indicator '{ind.id}', field 'other': "
            f"'{term_name(terms['other'])}' overlaps the group "
            f"'{term_name(terms['group'])}' (the groups must be disjoint)"
        )


def _with_defaults(catalogue: Catalogue) -> Catalogue:
    filled = [
        ind.model_copy(
            update={
                "unit": ind.unit or DEFAULT_UNIT[ind.function],
                "decimals": DEFAULT_DECIMALS[ind.function]
                if ind.decimals is None
                else ind.decimals,
                "source": ind.source or catalogue.defaults.source,
                "definition_id": ind.definition_id or catalogue.defaults.definition_id,
            }
        )
        for ind in catalogue.indicators
    ]
    return catalogue.model_copy(update={"indicators": filled})


def term_key(ref: GroupRef) -> tuple[str, ...]:
    """Canonical key of a group reference (intersection of groups)."""
    return tuple(sorted({ref} if isinstance(ref, str) else set(ref)))


def term_name(key: tuple[str, ...]) -> str:
    """The term's id in ``area_counts``, e.g. ``foreigners&under_18``."""
    return "&".join(key)
