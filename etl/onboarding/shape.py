"""What a table's columns are: area code or name, date or year, variable and value
(long shape) or one column per variable (wide shape); the city's own rows; the levels
from the lengths of hierarchical codes; the reference date in the file name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from etl.onboarding.sniff import NUMBER, TableText
from etl.sources.id_map import normalise
from etl.sources.value_flags import symbols

DATE_WORDS = re.compile(r"^(?:jahr|year|stichtag|datum|date|berichtsjahr|zeit|zeitraum|stand)$")
CODE_WORDS = re.compile(
    r"(?:schluessel|code|nr|nummer|kennziffer|id|gebiet|raum|bezirk|stadtteil|ortsteil|"
    r"viertel|quartier|lor|ags|gemeinde|sozialraum|planungsraum|bereich|einheit)"
)
NAME_WORDS = re.compile(r"(?:name|bezeichnung|gebiet|raum|bezirk|stadtteil|ortsteil|viertel)")
VARIABLE_WORDS = re.compile(
    r"(?:merkmal|variable|indikator|kennzahl|auspraegung|kategorie|gruppe|thema|inhalt)"
)
CITY_NAME = re.compile(r"(?<![a-z])(?:insgesamt|gesamt|gesamtstadt|stadt gesamt)(?![a-z])")
YEAR = re.compile(r"^(?:19[5-9]\d|20\d\d)$")
DATE = re.compile(r"^(?:\d{4}-\d{2}-\d{2}|\d{1,2}\.\d{1,2}\.\d{4})(?: 00:00:00)?$")


@dataclass
class Shape:
    area_column: str | None = None
    code_column: bool = True  # False: the area column holds names
    name_column: str | None = None
    date_column: str | None = None
    variable_column: str | None = None
    value_column: str | None = None
    value_columns: list[str] = field(default_factory=list)
    city_codes: list[str] = field(default_factory=list)
    city_name: str | None = None
    code_lengths: list[int] = field(default_factory=list)  # coarse to fine
    notes: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)

    more_variables: list[str] = field(default_factory=list)  # e.g. a sex column
    parent_column: str | None = None  # the code of each area's parent
    recode: dict[str, str] = field(default_factory=dict)  # raw code -> hierarchical code

    @property
    def long(self) -> bool:
        return self.variable_column is not None

    @property
    def variable_columns(self) -> list[str]:
        return [self.variable_column, *self.more_variables] if self.variable_column else []


def _column(table: TableText, index: int) -> list[str]:
    return [r[index] for r in table.rows if index < len(r)]


def _numeric(cells: list[str]) -> bool:
    cells = [c for c in cells if c]
    flags = symbols()
    return bool(cells) and all(NUMBER.match(c) or c in flags for c in cells)


def find_shape(table: TableText) -> Shape:
    """The roles of ``table``'s columns (see module doc)."""
    shape = Shape()
    roles = _key_columns(table, shape)
    for i, header in enumerate(table.header):
        cells, key = _column(table, i), normalise(header)
        if i in roles or _numeric(cells):
            continue
        if shape.variable_column is None and VARIABLE_WORDS.search(key):
            shape.variable_column, roles[i] = header, "variable"
        elif shape.name_column is None and NAME_WORDS.search(key):
            shape.name_column, roles[i] = header, "name"
    numbers = [
        h for i, h in enumerate(table.header) if i not in roles and _numeric(_column(table, i))
    ]
    texts = [  # other text columns with repeated values: more dimensions of a variable
        h
        for i, h in enumerate(table.header)
        if i not in roles and h not in numbers and _repeated(_column(table, i))
    ]
    _variables(table.path.name, shape, numbers, texts)
    _city_and_levels(table, shape)
    return shape


def _key_columns(table: TableText, shape: Shape) -> dict[int, str]:
    """Date and area (and parent) columns: {column index: role}."""
    roles = {}
    for i, header in enumerate(table.header):
        cells, key = _column(table, i), normalise(header)
        if shape.date_column is None and (
            DATE_WORDS.match(key) or (cells and all(YEAR.match(c) or DATE.match(c) for c in cells))
        ):
            shape.date_column, roles[i] = header, "date"
            shape.notes.append(f"{table.path.name}: date or year in column '{header}'")
        elif CODE_WORDS.search(key) and _codes(cells):
            roles[i] = "code"
    _area_and_parent(table, shape, [i for i, role in roles.items() if role == "code"], roles)
    return roles


def _variables(name: str, shape: Shape, numbers: list[str], texts: list[str]) -> None:
    """Long (a variable and a value column) or wide (one number column per variable)."""
    if texts and (shape.long or len(numbers) == 1):
        shape.variable_column = shape.variable_column or texts.pop(0)
        shape.more_variables = texts
    elif texts:
        shape.questions.append(
            f"{name}: the column(s) {', '.join(texts)} split the rows further (e.g. by sex); "
            "such a table needs its variables named by hand"
        )
    if shape.area_column is None and shape.name_column:
        shape.area_column, shape.code_column, shape.name_column = shape.name_column, False, None
        shape.questions.append(
            f"{name}: areas by name only ('{shape.area_column}'): an id map name -> code is "
            "needed (--geometry with codes and names writes one)"
        )
    if shape.area_column is None:
        shape.questions.append(f"{name}: no column with area codes or names recognised")
    if not shape.long:
        shape.value_columns = numbers
        shape.notes.append(
            f"{name}: wide shape — area '{shape.area_column}', {len(numbers)} number columns"
        )
        return
    if len(numbers) != 1:
        shape.questions.append(
            f"{name}: long table with {len(numbers)} number columns ({', '.join(numbers)}); "
            "the first is taken as the value"
        )
    shape.value_column = numbers[0] if numbers else None
    shape.notes.append(
        f"{name}: long shape — area '{shape.area_column}', variable "
        f"'{' | '.join(shape.variable_columns)}', value '{shape.value_column}'"
    )


def _area_and_parent(table: TableText, shape: Shape, coded: list[int], roles: dict) -> None:
    """The code column with the most distinct values is the area; another one whose value
    each area determines, with fewer values, is its parent (e.g. the borough's number)."""
    if not coded:
        return
    distinct = {i: len(set(_column(table, i))) for i in coded}
    area = max(coded, key=lambda i: distinct[i])
    shape.area_column = table.header[area]
    for i in coded:
        pairs = {(r[area], r[i]) for r in table.rows if len(r) > max(area, i)}
        if i != area and distinct[i] < distinct[area] and len(pairs) == distinct[area]:
            shape.parent_column = table.header[i]
            return
        if i != area:
            del roles[i]


def _recode(table: TableText, shape: Shape, codes: set[str]) -> bool:
    """Codes that do not start with their parent's code get one that does (parent code +
    own code, each padded with zeros to a fixed length): {raw code: new code}."""
    at, up = table.header.index(shape.area_column), table.header.index(shape.parent_column)
    parent = {r[at]: r[up] for r in table.rows if r[at] in codes and r[up]}
    if not parent or all(c.startswith(p) for c, p in parent.items()):
        return False
    if set(parent) != codes:
        shape.questions.append(
            f"{table.path.name}: '{shape.parent_column}' is empty for some areas; levels "
            "from a parent column need it on every row"
        )
        return False
    wide_parent = max(len(p) for p in parent.values())
    wide_own = max(len(c) for c in codes)
    shape.recode = {c: p.zfill(wide_parent) + c.zfill(wide_own) for c, p in parent.items()}
    shape.code_lengths = [wide_parent, wide_parent + wide_own]
    shape.notes.append(
        f"{table.path.name}: levels from the parent column '{shape.parent_column}': codes "
        f"rewritten as parent + own code (e.g. {next(iter(shape.recode.items()))}) through "
        "an id map"
    )
    return True


def _unpadded(table: TableText, shape: Shape, codes: set[str]) -> bool:
    """Numbers 1 … N of one level written without leading zeros (9 and 10 are not parent
    and child): padded to one length through an id map."""
    if len({len(c) for c in codes}) < 2 or not all(c.isdigit() for c in codes):
        return False
    numbers = sorted(int(c) for c in codes)
    if numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        return False
    width = max(len(c) for c in codes)
    shape.recode = {c: c.zfill(width) for c in codes}
    shape.code_lengths = [width]
    shape.questions.append(
        f"{table.path.name}: area numbers {numbers[0]} … {numbers[-1]} without leading "
        f"zeros, read as one level and padded to {width} digits through an id map; if "
        "they are two levels, say so with codes that start with their parent's"
    )
    return True


def _repeated(cells: list[str]) -> bool:
    """Text (not numbers) with few distinct values, each on several rows."""
    values = {c for c in cells if c}
    return bool(values) and not _numeric(cells) and len(values) <= max(2, len(cells) // 3)


def _codes(cells: list[str]) -> bool:
    cells = [c for c in cells if c]
    return bool(cells) and all(
        re.fullmatch(r"[0-9A-Za-z]{1,16}", c) and re.search(r"\d", c) for c in cells
    )


def _city_and_levels(table: TableText, shape: Shape) -> None:
    if shape.area_column is None:
        return
    at = table.header.index(shape.area_column)
    named = table.header.index(shape.name_column) if shape.name_column else at
    codes = set()
    for row in table.rows:
        code, name = row[at], row[named]
        zeros = shape.code_column and re.fullmatch(r"0+", code)
        if zeros or CITY_NAME.search(normalise(name)):
            if code not in shape.city_codes:
                shape.city_codes.append(code)
                shape.city_name = shape.city_name or name or None
        elif code:
            codes.add(code)
    if not shape.code_column:
        shape.notes.append(f"{table.path.name}: city rows {shape.city_codes} (not read as data)")
        return
    if shape.parent_column and _recode(table, shape, codes):
        return
    if _unpadded(table, shape, codes):
        return
    lengths = sorted({len(c) for c in codes})
    for shorter, longer in zip(lengths, lengths[1:], strict=False):
        parents = {c for c in codes if len(c) == shorter}
        children = [c for c in codes if len(c) == longer]
        if parents and not all(c[:shorter] in parents for c in children):
            shape.questions.append(
                f"{table.path.name}: codes of {shorter} and {longer} characters do not nest "
                f"(e.g. {next(c for c in children if c[:shorter] not in parents)}); "
                "codes without leading zeros? levels need codes of fixed length"
            )
    shape.code_lengths = lengths
    if shape.city_codes:
        shape.notes.append(
            f"{table.path.name}: city rows {shape.city_codes} (compared with the sum of the "
            "districts, not read as data)"
        )
    if len(lengths) > 1:
        shape.notes.append(
            f"{table.path.name}: {len(lengths)} levels from code lengths {lengths}; rows of "
            "coarser levels are compared with the sum of their parts"
        )


def date_in_name(name: str) -> tuple[str, str] | None:
    """(glob, regex with named groups) of the reference date in a file name, if any; a
    year followed by ``-NN`` (a half-year, quarter or month) gives the group ``part``."""
    forms = [
        (
            r"(?<!\d)((?:19|20)\d{2})-(\d{2})-(\d{2})(?!\d)",
            r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})",
        ),
        (r"(?<!\d)((?:19|20)\d{2})-(\d{2})(?!\d)", r"(?P<year>\d{4})-(?P<part>\d{2})"),
        (r"(\d{2})\.(\d{2})\.(\d{4})", r"(?P<day>\d{2})\.(?P<month>\d{2})\.(?P<year>\d{4})"),
        (
            r"(?<!\d)((?:19|20)\d{2})(\d{2})(\d{2})(?!\d)",
            r"(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})",
        ),
        (r"(?<!\d)((?:19|20)\d{2})(?!\d)", r"(?P<year>\d{4})"),
    ]
    for found, regex in forms:
        match = re.search(found, name)
        if match:
            glob = name[: match.start()] + "*" + name[match.end() :]
            before = re.escape(name[: match.start()][-20:])
            return glob, before + regex
    return None
