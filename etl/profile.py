"""Instance profiles: which raw files make up an instance and where its warehouse goes.

A profile is a YAML file (see ``profiles/musterstadt.yaml``). Relative paths in it are
resolved against the directory of the profile file.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from etl.errors import ConfigError
from etl.profile_lines import describe

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PROFILE = REPO_ROOT / "profiles" / "musterstadt.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Level(_Strict):
    id: str
    label_de: str
    label_en: str


# areas drawn on maps but left out of their frame (an island): area ids of any level, or
# per level {level id: [area ids of that level]}
MapExtentExclude = list[str] | dict[str, list[str]]


class AreaListGeography(_Strict):
    """Explicit area lists with finest-level boundaries, one folder per vintage."""

    adapter: Literal["area_list"] = "area_list"
    areas: str  # glob below raw_dir, one match per vintage folder
    geometry: str  # glob below raw_dir, next to the area list
    level_names: dict[str, str]  # raw level name -> level id
    simplify_tolerance: float = 0.0002  # degrees, for the web geometry
    map_extent_exclude: MapExtentExclude = []


class IdCorrection(_Strict):
    """A documented fix of a wrong area code in a delivered boundary file."""

    feature: int  # 1-based feature number in the file
    found: str  # the id the file has
    id: str  # the correct id
    reason: str


class Boundary(_Strict):
    """One boundary file of one level (see etl/sources/geometry.py)."""

    level: str
    file: str  # path below raw_dir: GeoJSON, GeoPackage, Shapefile or CSV with WKT
    layer: str | None = None  # GeoPackage layer, if the file has several
    id: str  # property holding the area code
    name: str | None = None  # property holding the name ...
    name_template: str | None = None  # ... or a template such as "{GEN}, {BEZ}"
    id_prefix: str | None = None  # keep only features whose code starts with it
    strict: bool = False  # data codes of this level missing here are errors
    corrections: list[IdCorrection] = []
    crs: str | None = None  # the file's CRS where it declares none (e.g. EPSG:25832)
    encoding: str | None = None  # text of a WKT CSV or a shapefile's DBF (e.g. ISO-8859-1)
    geometry_column: str | None = None  # WKT CSV: the column with the boundaries
    swap_xy: bool = False  # the file gives latitude before longitude


class Correspondence(_Strict):
    """The office's list of which units of the previous vintage became which units of this
    one (etl/crosswalk.py): a JSON object code -> list of codes, in either direction (each
    code is found among the units of one of the two vintages)."""

    file: str  # path below raw_dir
    level: str  # the level whose codes the list links (the finest level)


class GeoVintage(_Strict):
    id: str
    valid_from: date
    boundaries: list[Boundary] = []
    correspondence: Correspondence | None = None  # to the previous vintage


class RootArea(_Strict):
    id: str
    name: str


class CombinedArea(_Strict):
    """Areas the office publishes together (one row "A und B"): one unit with the code
    ``id`` (the code of one member, or a code of the same length and parent of its own),
    its boundary the union of the members' boundaries; the members get no unit of their
    own, so their residents are counted once in every coarser total."""

    id: str
    members: list[str] = Field(min_length=2)
    name: str | None = None  # default: the data row's name, else "A und B" from the boundaries


class CodeHierarchyGeography(_Strict):
    """Areas identified by hierarchical codes (the parent code is a prefix of the child's),
    e.g. Berlin's LOR (BBPPRRPP) or AGS/ARS (LL KKK). Areas come from the data and the
    boundary files; geometry vintages say which boundaries apply from when."""

    adapter: Literal["code_hierarchy"]
    root: RootArea
    code_lengths: dict[str, int]  # level id -> code length, every level below the root
    member_prefix: str | None = None  # codes of the instance start with it (e.g. "07")
    # A finest area of a vintage that has no row in the data on one of its dates: an error
    # (default), or 'zero' where the office knows the area had no residents then.
    absent_units: Literal["error", "zero"] = "error"
    vintages: list[GeoVintage]
    simplify_tolerance: float = 0.0002
    combined: list[CombinedArea] = []  # areas published together, dissolved into one unit
    map_extent_exclude: MapExtentExclude = []

    @model_validator(mode="after")
    def _combined_codes(self) -> CodeHierarchyGeography:
        lengths = sorted(self.code_lengths.values())
        seen: set[str] = set()
        for unit in self.combined:
            codes = [unit.id, *unit.members]
            if len({len(c) for c in codes}) != 1 or len(unit.id) not in lengths:
                raise ValueError(
                    f"combined unit '{unit.id}': its code and its members {unit.members} "
                    f"must have the same length, one of the code lengths {lengths}"
                )
            parent = max((n for n in lengths if n < len(unit.id)), default=0)
            if len({c[:parent] for c in codes}) != 1:
                raise ValueError(
                    f"combined unit '{unit.id}': its members {unit.members} must share the "
                    f"parent code (the first {parent} characters) with the unit's code"
                )
            if seen & set(codes):
                raise ValueError(
                    f"combined unit '{unit.id}': area {sorted(seen & set(codes))[0]} is "
                    "already part of another combined unit"
                )
            seen |= set(codes)
        return self


Geography = Annotated[AreaListGeography | CodeHierarchyGeography, Field(discriminator="adapter")]


class Selector(_Strict):
    """Cells of a table: a column/variable (or several, summed) and row dimension labels."""

    variable: str | list[str]
    dims: str | list[str] = ""

    def variables(self) -> list[str]:
        return [self.variable] if isinstance(self.variable, str) else list(self.variable)

    def dim_values(self) -> list[str]:
        return [self.dims] if isinstance(self.dims, str) else list(self.dims)


class CountMapping(_Strict):
    """``term`` (a group, a measure or their intersection) = sum(add) - sum(subtract)."""

    term: str | list[str]
    add: list[Selector]
    subtract: list[Selector] = []

    @field_validator("add", "subtract", mode="before")
    @classmethod
    def _selectors(cls, value: object) -> object:
        items = value if isinstance(value, list) else [value]
        return [{"variable": item} if isinstance(item, str) else item for item in items]

    def term_key(self) -> tuple[str, ...]:
        return tuple(sorted({self.term} if isinstance(self.term, str) else set(self.term)))


class DateFromName(_Strict):
    """Reference date from the file name: ``regex`` with the named group ``year`` and
    either ``month`` and ``day``, or ``part`` (looked up in ``parts`` -> "MM-DD"), or
    nothing else (the year's 31 December)."""

    regex: str
    parts: dict[str, str] = {}

    @model_validator(mode="after")
    def _named_groups(self) -> DateFromName:
        try:
            groups = set(re.compile(self.regex).groupindex)
        except re.error as exc:
            raise ValueError(
                f"ref_date.regex '{self.regex}' is not a regular expression: {exc}"
            ) from exc
        if groups not in ({"year", "month", "day"}, {"year", "part"}, {"year"}):
            raise ValueError(
                f"ref_date.regex '{self.regex}' has the named groups "
                f"{sorted(groups) or 'none'}; it needs the named groups year, month and day "
                r"(e.g. '(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})'), or year and "
                "part (with parts: {part: MM-DD}), or only year (-> 31 Dec); or give a "
                "fixed date (ref_date: 2023-12-31)"
            )
        if "part" in groups and not self.parts:
            raise ValueError(f"ref_date.regex '{self.regex}' has a group 'part' but no 'parts'")
        return self


class _Table(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    files: str  # glob below raw_dir
    attribution: str
    encoding: str | None = None
    counts: list[CountMapping]
    # A count this table shares with an earlier table of the profile must agree with it;
    # 'warn' reports disagreements and keeps the earlier table's value.
    conflicts: Literal["error", "warn"] = "error"


class AreaTable(_Table):
    """Counts per area as offices publish them: one row per area, one column per count."""

    adapter: Literal["area_table"]
    area_column: str
    # the date in the file name, or one fixed date for every file (ref_date: 2023-12-31)
    ref_date: DateFromName | date
    # CSV (name;code) next to the profile when area_column holds names, not codes
    id_map: Path | None = None
    sheet: str | int | None = None  # XLSX only
    header_row: int = 1
    separator: str = ","
    decimal: Literal[".", ","] = "."
    # thousands separator of the numbers ("." for German "1.480"); None: a count has none,
    # and "1.480" is an error, never read as 1480 or 1.48
    thousands: Literal[".", ",", " ", "'"] | None = None
    # columns holding rates or averages (decimals allowed); every other column is a count
    rate_columns: list[str] = []
    footer_lines: int = Field(default=0, ge=0)  # last non-empty lines that are notes, not data
    sums: list[list[str]] = []  # consistency: first column = sum of the other columns

    @model_validator(mode="after")
    def _distinct_separators(self) -> AreaTable:
        if self.thousands is not None and self.thousands in (self.decimal, self.separator):
            raise ValueError(
                f"table '{self.id}': thousands '{self.thousands}' is also the "
                f"{'decimal sign' if self.thousands == self.decimal else 'field separator'}"
            )
        return self


class LongTable(_Table):
    """One row per area x date x variable (etl/sources/long_table.py); rows of coarser
    areas (city, boroughs) are kept to reconcile with the sum of their parts."""

    adapter: Literal["long_table"]
    area_column: str
    variable_column: str | list[str] | None = None  # several: values joined with " | "
    value_column: str | None = None
    # wide rows instead (one column per variable, its header the variable's name)
    value_columns: list[str] = []
    name_column: str | None = None  # area names: used where no boundary file names the area
    date_column: str | None = None  # a date (YYYY-MM-DD, DD.MM.YYYY) or a year (-> 31 Dec)
    ref_date: DateFromName | date | None = None  # without date_column: file name or fixed
    id_map: Path | None = None  # CSV (name;code) when area_column holds names
    city_codes: list[str] = []  # values of area_column meaning the whole city (the root)
    # an office total larger than the sum of its parts: the difference becomes a unit of
    # residents not assigned to a finer area, named with this label (published totals then
    # equal the office's); None: the difference is only listed
    unassigned: str | None = None
    sheet: str | int | None = None  # XLSX only
    header_row: int = 1
    separator: str = ","
    decimal: Literal[".", ","] = "."
    thousands: Literal[".", ",", " ", "'"] | None = None
    rate_variables: list[str] = []  # variables holding rates or averages; others are counts
    footer_lines: int = Field(default=0, ge=0)  # last non-empty lines that are notes, not data
    # JSON (etl/sources/json_table.py): the names of the nesting levels, outermost first
    # (e.g. [Jahr, Merkmal, Stadtteil]); none: a list of records; json_root: the member
    # holding the table ("daten.stadtteile")
    json_keys: list[str] = []
    json_root: str | None = None
    # with value_columns: the columns are named "<variable> | <year>" (XLSX header cells
    # merged over the years, etl/sources/xlsx_header.py), the date comes from the column
    date_in_column: bool = False

    @model_validator(mode="after")
    def _one_date(self) -> LongTable:
        if bool(self.value_columns) == bool(self.variable_column or self.value_column) or (
            not self.value_columns and not (self.variable_column and self.value_column)
        ):
            raise ValueError(
                f"table '{self.id}': give variable_column and value_column (one row per "
                "variable), or value_columns (one column per variable)"
            )
        dates = [self.date_column is not None, self.ref_date is not None, self.date_in_column]
        if sum(dates) != 1:
            raise ValueError(
                f"table '{self.id}': give either date_column (a column with the date or "
                "year of each row), ref_date (the date in the file name, or a fixed date) "
                "or date_in_column: true (with value_columns: columns '<variable> | <year>')"
            )
        if self.date_in_column and not self.value_columns:
            raise ValueError(f"table '{self.id}': date_in_column needs value_columns")
        if self.thousands is not None and self.thousands in (self.decimal, self.separator):
            raise ValueError(
                f"table '{self.id}': thousands '{self.thousands}' is also the decimal sign "
                "or the field separator"
            )
        return self


class GenesisTable(_Table):
    """GENESIS / Regionaldatenbank table CSV (etl/sources/genesis_csv.py)."""

    adapter: Literal["genesis_csv"]


Table = Annotated[AreaTable | LongTable | GenesisTable, Field(discriminator="adapter")]


class Register(_Strict):
    adapter: str = "register_persons"
    files: str  # glob below raw_dir; the parent folder is the reference date
    attribution: str
    layout: Path | None = None  # column layout YAML (docs/REGISTER_LAYOUTS.md); None = default
    # `imon refresh`: the reference date in a delivered file's name; None = an ISO date
    # (YYYY-MM-DD or YYYYMMDD) anywhere in the name
    ref_date: DateFromName | None = None


class CellKey(_Strict):
    """Parameters of the cell-key method (etl/protect/cellkey.py; Destatis census 2022,
    ONS census 2021): each person gets a record key from a keyed hash of the person id;
    a cell's key is the sum of its persons' keys mod 1; a perturbation table (ptable)
    maps (count, cell key) to a deviation."""

    max_deviation: int = Field(default=3, ge=1, le=10)  # |published - true| <= D
    variance: float = Field(default=1.5, gt=0)  # variance of the deviation of large counts
    # secret mixed into every record key; keep it outside the published snapshot in
    # production (environment variable IMON_CELL_KEY_SECRET overrides it)
    secret: str = "imon-demo-secret"


class Disclosure(_Strict):
    """Statistical disclosure control of everything published (etl/protect, docs/DISCLOSURE.md).

    ``suppression``: primary rules, then secondary suppression over the linked tables;
    ``cell_key``: every published count perturbed by the cell-key method (person-level
    registers only)."""

    method: Literal["suppression", "cell_key"] = "suppression"
    min_denominator: int = Field(default=30, ge=1)  # shares/ratios with a smaller base: none
    min_count: int = Field(default=3, ge=1)  # k: counts 1..k-1 are sensitive
    # a share of 0 % or 100 % of a group smaller than this discloses an attribute of all
    # members (group disclosure): its numerator cell is sensitive
    group_disclosure_below: int = Field(default=100, ge=0)
    # an area with fewer residents publishes no value at all (0 = rule off)
    min_area_population: int = Field(default=0, ge=0)
    # protection interval of a sensitive cell: feasible values must reach at least
    # value - protection (or 0) and value + protection; default min_count
    protection: int | None = Field(default=None, ge=1)
    # suppression: every published count (after suppression) rounded to a multiple of this
    # base — 5 as the Central Register of Foreigners (AZR) publishes, 10 as the Federal
    # Employment Agency; shares are then computed from the rounded counts
    rounding: int | None = Field(default=None, ge=2)
    cell_key: CellKey = CellKey()

    @model_validator(mode="after")
    def _rounding_with_suppression(self) -> Disclosure:
        if self.rounding and self.method != "suppression":
            raise ValueError(
                "disclosure.rounding: only with method 'suppression' (the cell-key method "
                "perturbs the counts itself)"
            )
        return self

    @property
    def max_deviation(self) -> int | None:
        """How far a published count may lie from the true one (cell key: D; rounding half
        up to base b: b // 2, e.g. 2 for base 5 and 5 for base 10; else None)."""
        if self.method == "cell_key":
            return self.cell_key.max_deviation
        return self.rounding // 2 if self.rounding else None

    @property
    def protection_interval(self) -> int:
        """How far the attacker's feasible range of a sensitive cell must reach on either
        side of its true value. Suppression: ``protection`` or k. Cell key: a count of 1
        or 2 is published as 0 or 3 (|d| <= 2), so the perturbation alone guarantees
        D - 2 on either side; the audit checks that no published relation narrows it."""
        if self.protection:
            return self.protection
        if self.method == "cell_key":
            return max(1, self.cell_key.max_deviation - 2)
        return self.min_count


class Plausibility(_Strict):
    """Thresholds of the refresh report (etl/plausibility.py): changes against the previous
    reference date beyond them are listed for a person to look at."""

    population_change_percent: float = Field(default=15.0, gt=0)  # an area's residents, ±%
    share_change_points: float = Field(default=5.0, gt=0)  # a share, ± percentage points


class GoalsSource(_Strict):
    """The instance's integration goals (etl/goals/): ``file`` is its goals.yaml (relative
    to the profile); ``files`` the glob below raw_dir where ``imon refresh`` places the
    integration office's filled project workbook (``imon goals template``)."""

    file: Path
    files: str = "ziele/projektindikatoren_*.xlsx"
    attribution: str


class NewArea(_Strict):
    """A finest-level area first delivered after its vintage began, declared so that a
    mistyped code is not taken for a new area (etl/transform/consistency.py)."""

    id: str
    parent: str  # the code of its parent area (must be the code's prefix)
    since: date  # the first reference date with a row for it
    reason: str = ""


class Consistency(_Strict):
    """Checks across tables and time (etl/transform/consistency.py): ``error`` stops the
    build, ``warn`` lists the finding in the build output and the plausibility report."""

    unknown_areas: Literal["error", "warn"] = "error"  # code neither bounded nor delivered
    missing_rows: Literal["error", "warn"] = "error"  # an area missing from one table
    totals: Literal["error", "warn"] = "error"  # two tables giving one count disagree
    same_population: list[list[str]] | None = None  # table ids; default: all tables
    new_areas: list[NewArea] = []


MEMORY_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.I)
MEMORY_UNITS = {
    "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4,
}  # fmt: skip
DEFAULT_MEMORY_LIMIT = 4 * 1024**3  # or half the machine's memory, whichever is less
SPILL_FOLDER = ".spill"  # default temp_directory: <curated_dir>/.spill, beside the snapshots


def memory_bytes(text: str) -> int:
    """``4GB`` -> 4,000,000,000, ``4GiB`` -> 4,294,967,296 (as DuckDB reads them)."""
    match = MEMORY_SIZE.match(text)
    if match is None:
        raise ValueError(
            f"'{text}' is no memory size; write a number and a unit, e.g. 4GB, 4GiB or 512MB"
        )
    return int(float(match[1]) * MEMORY_UNITS[match[2].lower()])


def machine_memory() -> int:
    """Bytes of memory this process may use: the RAM, or a smaller cgroup (container) limit."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
    except OSError:
        return total
    return min(total, int(limit)) if limit.isdigit() else total


def machine_cores() -> int:
    """Cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


class Resources(_Strict):
    """What a build may use of the machine (DuckDB's settings of every connection a build
    opens, etl/warehouse.py: connect). ``memory_limit``: DuckDB's limit (``4GB``, ``4GiB``);
    default the smaller of 4 GiB and half the machine's memory. ``threads``: default one per
    core. ``temp_directory``: where DuckDB spills what does not fit (a folder per build,
    removed after it; relative to the profile's folder); default ``<curated_dir>/.spill``,
    outside every snapshot."""

    memory_limit: str | None = None
    threads: int | None = Field(default=None, ge=1, le=1024)
    temp_directory: Path | None = None

    @field_validator("memory_limit")
    @classmethod
    def _memory_size(cls, value: str | None) -> str | None:
        if value is not None and memory_bytes(value) < 64 * 1024**2:
            raise ValueError(f"'{value}' is less than the 64 MiB a build needs at the least")
        return value

    def memory_limit_bytes(self) -> int:
        if self.memory_limit is not None:
            return memory_bytes(self.memory_limit)
        return min(DEFAULT_MEMORY_LIMIT, machine_memory() // 2)

    def thread_count(self) -> int:
        return self.threads or machine_cores()

    def spill_root(self, curated_dir: Path) -> Path:
        return self.temp_directory or curated_dir / SPILL_FOLDER


class Profile(_Strict):
    instance: str
    title: str
    raw_dir: Path
    curated_dir: Path
    indicators: Path
    keep_snapshots: int = 3
    levels: list[Level]
    geography: Geography
    register_source: Register | None = Field(default=None, alias="register")
    tables: list[Table] = []
    disclosure: Disclosure = Disclosure()
    plausibility: Plausibility = Plausibility()
    consistency: Consistency = Consistency()
    goals: GoalsSource | None = None
    resources: Resources = Resources()
    server: Server = Field(default_factory=lambda: Server())
    legal: Legal = Field(default_factory=lambda: Legal())
    access: Access = Field(default_factory=lambda: Access())
    path: Path | None = None

    def level_ids(self) -> list[str]:
        """Level ids from coarsest (rank 0) to finest."""
        return [level.id for level in self.levels]

    def level_label(self, level: str) -> str:
        return next(lv.label_de for lv in self.levels if lv.id == level)


def load_profile(path: Path | str | None = None) -> Profile:
    """Read and validate a profile; ``None`` means the demo city."""
    path = Path(path) if path is not None else DEFAULT_PROFILE
    if not path.is_file():
        raise ConfigError(f"{path}: profile file not found")
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    base = path.resolve().parent
    for key in ("raw_dir", "curated_dir", "indicators"):
        if key in data:
            data[key] = (base / expand_env(path, str(data[key]))).resolve()
    if isinstance(data.get("geography"), dict):
        data["geography"].setdefault("adapter", "area_list")
    for table in data.get("tables") or []:
        if isinstance(table, dict) and table.get("id_map"):
            table["id_map"] = (base / str(table["id_map"])).resolve()
    goals = data.get("goals")
    if isinstance(goals, dict) and goals.get("file"):
        goals["file"] = (base / str(goals["file"])).resolve()
    resources = data.get("resources")
    if isinstance(resources, dict) and resources.get("temp_directory"):
        spill = expand_env(path, str(resources["temp_directory"]))
        resources["temp_directory"] = (base / spill).resolve()
    register = data.get("register")
    if isinstance(register, dict) and register.get("layout"):
        register["layout"] = (base / register["layout"]).resolve()
    try:
        profile = Profile(**data, path=path.resolve())
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe(exc, text, Profile)}") from exc
    _check_consistency(path, profile)
    _check_extent_levels(path, profile)
    return profile


def extent_excluded(profile: Profile) -> dict[str | None, list[str]]:
    """``geography.map_extent_exclude`` by level (``None``: ids of any level)."""
    wanted = profile.geography.map_extent_exclude
    return dict(wanted) if isinstance(wanted, dict) else {None: list(wanted)}


def profile_line(path: Path, *keys: str) -> str:
    """'line N, ' of the key at ``keys`` in the profile (its last key's own line, e.g.
    geography > map_extent_exclude > a level), or '' where the YAML has no such key."""
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return ""
    line = None
    for key in keys:
        found = (
            [(k, v) for k, v in node.value if k.value == key]
            if isinstance(node, yaml.MappingNode)
            else []
        )
        if not found:
            return ""
        line, node = found[0][0].start_mark.line + 1, found[0][1]
    return f"line {line}, " if line else ""


def _check_extent_levels(path: Path, profile: Profile) -> None:
    """Every level of a per-level ``geography.map_extent_exclude`` is a level of the profile."""
    levels = profile.level_ids()[1:]
    for level in extent_excluded(profile):
        if level is not None and level not in levels:
            raise ConfigError(
                f"{path}: {profile_line(path, 'geography', 'map_extent_exclude', level)}field "
                f"'geography.map_extent_exclude.{level}': unknown level '{level}'; expected "
                f"a level below the root ({', '.join(levels)}) or a list of area ids"
            )


ENV_REFERENCE = re.compile(r"\$\{(?P<name>[A-Z_][A-Z0-9_]*)(?::-(?P<default>[^}]*))?\}")


def expand_env(path: Path, value: str) -> str:
    """Replace ``${NAME}`` / ``${NAME:-default}`` by the environment variable's value, so a
    profile can point at data kept elsewhere (e.g. ``${IMON_SHARED_DATA:-../../shared/data}``)."""

    def replace(match: re.Match) -> str:
        found = os.environ.get(match["name"]) or match["default"]
        if found is None:
            raise ConfigError(
                f"{path}: environment variable {match['name']} is not set and "
                "the reference has no default (${NAME:-default})"
            )
        return found

    return ENV_REFERENCE.sub(replace, value)


def _check_consistency(path: Path, profile: Profile) -> None:
    levels = profile.level_ids()
    if profile.register_source is None and not profile.tables:
        raise ConfigError(f"{path}: neither 'register' nor 'tables': the profile names no data")
    geo = profile.geography
    if isinstance(geo, CodeHierarchyGeography):
        if sorted(geo.code_lengths) != sorted(levels[1:]):
            raise ConfigError(
                f"{path}: field 'geography.code_lengths': expected one code length "
                f"for each level below the root ({', '.join(levels[1:])})"
            )
        for vintage in geo.vintages:
            for boundary in vintage.boundaries:
                if boundary.level not in levels:
                    raise ConfigError(
                        f"{path}: vintage '{vintage.id}': unknown level "
                        f"'{boundary.level}' (known: {', '.join(levels)})"
                    )
    ids = [table.id for table in profile.tables]
    if len(ids) != len(set(ids)):
        raise ConfigError(f"{path}: field 'tables': table ids must be unique")


# --- serving the dashboard: `server:` and `legal:` (imon serve) -------------------------
# Kept after the build's sections; Profile refers to them by name (model_rebuild below).

CSP_SOURCE = re.compile(
    r"^(?:'self'|'none'|[a-z][a-z0-9+.-]*:|"  # keywords, a scheme such as https:
    r"(?:[a-z][a-z0-9+.-]*://)?(?:\*\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::(?:\d+|\*))?"
    r"(?:/[^\s;,']*)?)$"  # host with optional scheme, wildcard subdomain, port and path
)


class Server(_Strict):
    """How ``imon serve`` answers on the web (dashboards/security.py; README, Production).

    ``frame_ancestors``: who may show the dashboard in a frame (CSP ``frame-ancestors``),
    e.g. ``["'self'", "https://www.musterstadt.de"]``; ``["'none'"]`` forbids it.
    ``embed_frame_ancestors``: the same for the embeddable charts ``/embed/…``
    (dashboards/embed.py; default: ``frame_ancestors``), e.g. ``["https:"]`` for any site.
    ``proxy_hops``: reverse proxies in front whose ``X-Forwarded-*`` headers are trusted
    (0: the headers are ignored). ``path_prefix``: the dashboard's path on the public
    site when the proxy strips it (``/integrationsmonitor/``); Dash writes it into every
    link, script and callback address."""

    frame_ancestors: list[str] = Field(default=["'self'"], min_length=1)
    embed_frame_ancestors: list[str] | None = Field(default=None, min_length=1)
    proxy_hops: int = Field(default=0, ge=0, le=5)
    path_prefix: str = Field(default="/", pattern=r"^/(?:[A-Za-z0-9._~-]+/)*$")
    max_request_bytes: int = Field(default=1 << 20, ge=1 << 14)  # larger bodies: 413
    max_list_items: int = Field(default=1000, ge=10)  # per list in a callback request: 413

    @field_validator("frame_ancestors", "embed_frame_ancestors")
    @classmethod
    def _sources(cls, sources: list[str] | None) -> list[str] | None:
        if sources is None:
            return None
        for source in sources:
            if source in ("self", "none"):
                raise ValueError(f"write '{source}' with its single quotes (YAML: \"'{source}'\")")
            if not CSP_SOURCE.match(source):
                raise ValueError(
                    f"{source!r} is no CSP source ('self', 'none', https:, "
                    "https://www.example.de, *.example.de)"
                )
        if "'none'" in sources and len(sources) > 1:
            raise ValueError("'none' cannot be combined with other sources")
        return sources


class Legal(_Strict):
    """The office's details on the legal pages (dashboards/legal/): Impressum,
    Datenschutzerklärung and Erklärung zur Barrierefreiheit. A field left out is shown
    on the page as not set (``[nicht gesetzt: legal.<field>]``), never made up."""

    office_name: str | None = None  # e.g. "Stadt Musterstadt, Amt für Statistik und Wahlen"
    address: str | None = None  # postal address, lines separated by newlines
    email: str | None = None
    phone: str | None = None
    responsible: str | None = None  # represented by / responsible under § 18 (2) MStV
    data_protection_officer: str | None = None  # name and contact
    supervisory_authority: str | None = None  # the Land's data protection authority
    log_retention: str | None = None  # how long the web server keeps its logs
    feedback_contact: str | None = None  # accessibility feedback: who and how
    enforcement_body: str | None = None  # the Land's arbitration / enforcement body
    conformance: Literal["full", "partial", "none"] | None = None  # with BITV 2.0
    statement_date: date | None = None  # when the accessibility statement was made
    assessment: str | None = None  # how: self-assessment, test by ..., method
    known_issues: list[str] = []  # further content that is not accessible, with reason


class Access(_Strict):
    """Who may see the instance (dashboards/access.py; README, Production).

    ``public``: false closes the instance to anonymous visitors: every page, layout,
    callback and download needs a logged-in user of the instance (``imon users``).
    ``session_minutes``: a login ends after this long without a request.
    ``users_file``: the instance's users (``imon users``); relative to the profile's
    folder; default ``<curated_dir>/users.json``."""

    public: bool = True
    session_minutes: int = Field(default=60, ge=1, le=24 * 60)
    users_file: Path | None = None


Profile.model_rebuild()
