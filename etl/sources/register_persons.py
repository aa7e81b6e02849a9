"""Source adapter: person-level register extract (Melderegister) -> staging table.

Reads one raw extract unchanged - the default layout or a vendor's layout
(``register_layout``: CSV in any encoding, XLSX, other column names and codes) -
renames and recodes it to the canonical columns of ``register_persons.yaml``, checks
every cell's type and code list in one set-based query, and writes the TEMP table
``stg_persons`` (typed, renamed to English, no business logic). Person-level rows live
only in TEMP tables: they never reach the published warehouse. Line numbers in errors
are file lines (the header is line 1) or, for XLSX, sheet rows; columns are named as
the vendor names them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from functools import cache
from pathlib import Path
from typing import NamedTuple

import duckdb
import yaml

from etl.errors import InputError, and_more, quoted
from etl.sources.register_layout import (
    ROW_COLUMN,
    Layout,
    binary_kind,
    default_layout,
    drop_cells,
    load_layout,
    quote_ident,
    read_cells,
)
from etl.text import CONTROL_PATTERN, control_problem


@cache
def columns() -> list[dict]:
    """The canonical register columns (register_persons.yaml), read once when first needed."""
    spec = Path(__file__).with_suffix(".yaml").read_text(encoding="utf-8")
    return yaml.safe_load(spec)["columns"]


def canonical() -> tuple[tuple[str, bool], ...]:
    """(name, required) of every canonical column."""
    return tuple((c["name"], bool(c.get("required"))) for c in columns())


VENDOR_SUFFIX = "#vendor"  # raw_persons column with the vendor's value of a recoded column
PRESENT_SUFFIX = "#present"  # persons column: the cell holds more than white space
MAX_REPORTED = 5
WHOLE_NUMBER = "[+-]?[0-9]+"  # canonical text of an int column
CONTROL_COLUMN = "__imon_control__"  # a cell of the row holds a control character


class Rule(NamedTuple):
    """A condition every row must meet; ``value`` is the column shown when it fails.
    ``window``: the condition compares rows (checked exactly only when a cheap count
    says it may fail)."""

    condition: str
    expected: str
    value: str | None = None
    window: bool = False


class Params(dict):
    """Named parameters of one generated statement: ``params(value)`` is its placeholder."""

    def __call__(self, value: object) -> str:
        name = f"p{len(self)}"
        self[name] = value
        return f"${name}"


STAGE_COLUMNS = """
    personen_id                          AS person_id,
    stadtteil                            AS area_id,
    CAST(geburtsjahr AS INTEGER)         AS birth_year,
    geschlecht                           AS sex,
    staatsangehoerigkeit_1               AS citizenship_1,
    staatsangehoerigkeit_2               AS citizenship_2,
    geburtsland                          AS country_of_birth,
    CAST(zuzugsjahr AS INTEGER)          AS arrival_year,
    eingebuergert = '1'                  AS naturalised,
    spaetaussiedler = '1'                AS repatriate,
    haushalt_id                          AS household_id,
    stellung_im_haushalt                 AS household_position
"""


def stage(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    ref_date: date,
    layout: Path | None = None,
    encoding: str = "utf-8",
    separator: str = ";",
) -> int:
    """Read ``path`` into ``stg_persons``; return its row count.

    ``layout`` is a column layout file (docs/REGISTER_LAYOUTS.md); None reads the default
    layout with ``encoding`` and ``separator``. A Parquet extract (recognised by its
    magic bytes) is read with the layout's column names and codes, every cell as text;
    its line numbers count as a CSV's would (the first row is line ``header_row + 1``).
    Requires the TEMP tables ``valid_areas(area_id)`` (finest-level areas valid at
    ``ref_date``) and ``countries(code)``. Raises :class:`InputError` naming file, line
    and (the vendor's) column on the first problems found; nothing is kept on failure.

    The rows are read once into ``raw_cells`` (text), checked in one pass (control
    characters, every rule of every column) and typed into ``stg_persons``; the
    renamed, recoded rows in between are a query, not a table.
    """
    spec = _layout(layout, encoding, separator)
    try:
        line = read_cells(con, path, spec)
        _load_codes(con, spec)
        persons, params = _canonical_sql(spec, line, _cell_names(con))
        with _damaged_file(path):
            rows = _validate(con, path, ref_date, spec, line, persons, params)
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE stg_persons AS {persons} SELECT "
                f"{STAGE_COLUMNS} FROM persons",
                params,
            )
    finally:
        drop_cells(con)
        con.execute("DROP TABLE IF EXISTS layout_codes")
    return rows


# failures of the database, not of the file read (build.STORAGE_ERRORS, an interrupt)
NOT_THE_FILE = (
    duckdb.OutOfMemoryException,
    duckdb.FatalException,
    duckdb.TransactionException,
    duckdb.InterruptException,
)


@contextmanager
def _damaged_file(path: Path) -> Iterator[None]:
    """A Parquet file whose footer reads but whose data does not (a damaged page) fails
    only when its rows are read: one :class:`InputError` naming the file and what was
    expected instead of DuckDB's message alone."""
    kind = binary_kind(path)
    try:
        yield
    except duckdb.Error as exc:
        text = str(exc)
        if kind is None or isinstance(exc, NOT_THE_FILE):
            raise
        if isinstance(exc, duckdb.IOException) and str(path) not in text:
            raise  # e.g. the spill folder's disk is full
        first = " ".join(text.split())[:300]
        raise InputError(
            path,
            f"cannot be read as a {kind} file: {first}; expected a complete, undamaged "
            f"{kind} file (export it again)",
        ) from exc


def _load_codes(con: duckdb.DuckDBPyConnection, layout: Layout) -> None:
    """The layout's recodes as the TEMP table ``layout_codes(col, code, canonical)``."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE layout_codes (col VARCHAR, code VARCHAR, canonical VARCHAR)"
    )
    pairs = [
        (name, code, canonical or None)
        for name, recode in layout.recodes.items()
        for code, canonical in recode.values.items()
    ]
    if pairs:
        con.executemany("INSERT INTO layout_codes VALUES (?, ?, ?)", pairs)


def _validate(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    ref_date: date,
    layout: Layout,
    line: str,
    persons: str,
    params: Params,
) -> int:
    """One pass over the rows: their number, the first line with a control character and
    the number of violations of every rule (per cell only its first failing rule); a
    rule comparing rows (``unique``) is counted as values minus distinct values. Only if
    something failed are the first problems looked up. Returns the number of rows."""
    params = Params(params)
    checks = _checks(ref_date, layout, params)
    kinds = ", ".join(f"{c.kind_sql(windows=False)} AS k{c.position}" for c in checks)
    counts = [
        f"count(*) FILTER (WHERE k{c.position} = {seq})"
        for c in checks
        for seq, rule in enumerate(c.rules)
        if not rule.window
    ]
    repeats = [  # the persons CTE is not materialised: this reads one column
        f"(SELECT count(*) - count(DISTINCT {c.name}) - max(({c.name} IS NULL)::INTEGER) "
        "FROM persons)"
        for c in checks
        if c.rules and c.rules[-1].window
    ]
    found = con.execute(
        f"{persons}, checked AS (SELECT line, {CONTROL_COLUMN}, {kinds} FROM persons) "
        f"SELECT count(*), min(CASE WHEN {CONTROL_COLUMN} THEN line END), "
        f"{', '.join(counts + repeats)} FROM checked",
        params,
    ).fetchall()[0]
    rows, control, *failed = found
    if control is not None:
        _control_error(con, path, line, int(control))
    if rows == 0:
        raise InputError(path, "file has a header but no data rows", line=layout.header_row + 1)
    if any(failed):
        violations, kinds = _violations(con, persons, params, checks)
        if violations:
            raise _violation_error(path, violations, kinds, layout)
    return rows


def _cell_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The columns of the file, as the vendor names them."""
    return [r[0] for r in con.execute("DESCRIBE raw_cells").fetchall() if r[0] != ROW_COLUMN]


def _control_error(con: duckdb.DuckDBPyConnection, path: Path, line: str, number: int) -> None:
    """The cell of line ``number`` that holds a control character other than tab (a NUL
    in a household id would split the household)."""
    names = _cell_names(con)
    values = con.execute(
        f"SELECT {', '.join(quote_ident(n) for n in names)} FROM raw_cells WHERE {line} = ?",
        [number],
    ).fetchall()[0]
    column, problem = next(
        (n, control_problem(v))
        for n, v in zip(names, values, strict=True)
        if v is not None and control_problem(v)
    )
    raise InputError(path, str(problem), line=number, column=column)


class Check(NamedTuple):
    """The rules of one canonical column in order (a layout's code check comes first)."""

    name: str  # the column, quoted
    column: str
    position: int
    rules: list[Rule]
    written: str  # the vendor's value of a recoded column, else NULL

    def kind_sql(self, windows: bool = True) -> str:
        """The number of the first rule the cell fails, NULL if none."""
        whens = [
            f"WHEN NOT coalesce(({rule.condition}), false) THEN {seq}"
            for seq, rule in enumerate(self.rules)
            if windows or not rule.window
        ]
        return f"CASE {' '.join(whens)} END" if whens else "NULL"

    def value_sql(self) -> str:
        """The value shown for the cell's first failing rule."""
        whens = [f"WHEN {seq} THEN {r.value or self.name}" for seq, r in enumerate(self.rules)]
        return f"CASE k{self.position} {' '.join(whens)} END" if whens else "NULL"


def _checks(ref_date: date, layout: Layout, params: Params) -> list[Check]:
    checks = []
    for position, column in enumerate(columns()):
        name = column["name"]
        written = quote_ident(name + VENDOR_SUFFIX) if name in layout.recodes else "NULL"
        rules = _code_rules(column, layout, params) + _rules(column, ref_date, params)
        checks.append(Check(quote_ident(name), name, position, rules, written))
    return checks


def _violations(
    con: duckdb.DuckDBPyConnection, persons: str, params: Params, checks: list[Check]
) -> tuple[list[tuple], dict[tuple[str, str], int]]:
    """The first :data:`MAX_REPORTED` rule violations as (line, column, value, vendor
    value, expected) in file order, and the number of all violations per (column,
    expected); per cell only the first failing rule."""
    kinds = ", ".join(f"{c.kind_sql()} AS k{c.position}" for c in checks)
    checked = f"{persons}, checked AS (SELECT *, {kinds} FROM persons)"
    any_failed = " OR ".join(f"k{c.position} IS NOT NULL" for c in checks)
    shown = ", ".join(f"k{c.position}, {c.value_sql()}, {c.written}" for c in checks)
    rows = con.execute(
        f"{checked} SELECT line, {shown} FROM checked WHERE {any_failed} "
        f"ORDER BY line LIMIT {MAX_REPORTED}",
        params,
    ).fetchall()
    first = []
    for line, *cells in rows:
        for check in checks:
            seq, value, written = cells[3 * check.position : 3 * check.position + 3]
            if seq is not None:
                expected = check.rules[seq].expected
                first.append((line, check.column, value, written, expected))
    counts = ", ".join(
        f"count(*) FILTER (WHERE k{c.position} = {seq})"
        for c in checks for seq in range(len(c.rules))
    )  # fmt: skip
    totals = con.execute(f"{checked} SELECT {counts} FROM checked", params).fetchall()[0]
    kinds_found: dict[tuple[str, str], int] = {}
    numbers = iter(totals)
    for check in checks:
        for rule in check.rules:
            n = next(numbers)
            if n:
                key = (check.column, rule.expected)
                kinds_found[key] = kinds_found.get(key, 0) + n
    return first[:MAX_REPORTED], kinds_found


def _layout(layout: Path | None, encoding: str, separator: str) -> Layout:
    if layout is None:
        return default_layout(canonical(), encoding, separator)
    if (encoding, separator) != ("utf-8", ";"):
        raise ValueError("with a layout file, encoding and separator are set in that file")
    return load_layout(Path(layout), canonical())


def _canonical_sql(layout: Layout, line: str, cells: list[str]) -> tuple[str, Params]:
    """The CTEs ``cells`` (``raw_cells`` with each row's ``line``) and ``persons``: canonical
    names, recoded codes, whole numbers as plain digits; a recoded column keeps the
    vendor's value in ``<name>#vendor``; :data:`CONTROL_COLUMN` tells whether any cell
    of the row (every column of the file) holds a control character other than tab."""
    params = Params()
    every = ", ".join(f"cells.{quote_ident(n)}" for n in cells) or "NULL"
    selects = [
        "__imon_line__ AS line",
        f"regexp_matches(concat({every}), {params(CONTROL_PATTERN)}) AS {CONTROL_COLUMN}",
    ]
    joins = []
    for i, column in enumerate(columns()):
        name, vendor = column["name"], layout.column_map.get(column["name"])
        value = f"cells.{quote_ident(vendor)}" if vendor else "CAST(NULL AS VARCHAR)"
        if name in layout.recodes:
            selects.append(f"{value} AS {quote_ident(name + VENDOR_SUFFIX)}")
            joins.append(
                f"LEFT JOIN layout_codes AS m{i} ON m{i}.col = {params(name)} "
                f"AND m{i}.code = {value}"
            )
            value = f"CASE WHEN m{i}.code IS NULL THEN {value} ELSE m{i}.canonical END"
        if column["type"] == "int":
            value = (
                f"CASE WHEN regexp_full_match(trim({value}), {params(_number_pattern(layout))}) "
                f"THEN regexp_extract(replace(trim({value}), {params(layout.thousands or '')}, "
                f"''), '^{WHOLE_NUMBER}') ELSE {value} END"
            )
        selects.append(f"{value} AS {quote_ident(name)}")
    present = ", ".join(
        f"{_present_sql(quote_ident(c['name']))} AS {quote_ident(c['name'] + PRESENT_SUFFIX)}"
        for c in columns()
    )
    sql = (
        f"WITH cells AS NOT MATERIALIZED (SELECT {line} AS __imon_line__, * FROM raw_cells), "
        "canonical AS NOT MATERIALIZED ("
        f"SELECT {', '.join(selects)} FROM cells {' '.join(joins)}), "
        f"persons AS NOT MATERIALIZED (SELECT *, {present} FROM canonical)"
    )
    return sql, params


def _present_sql(name: str) -> str:
    """The cell holds more than white space: ``trim(…) <> ''``, with the trim (costly on
    millions of cells) only where the first character is not printable ASCII."""
    return (
        f"({name} IS NOT NULL AND CASE WHEN ascii({name}) BETWEEN 33 AND 126 THEN true "
        f"ELSE ltrim({name}) <> '' END)"
    )


def _number_pattern(layout: Layout) -> str:
    """Whole numbers as the layout writes them: ``1985``, ``1985,0``, ``1.985`` …"""
    number = WHOLE_NUMBER
    if layout.thousands:
        number = f"[+-]?(?:[0-9]+|[0-9]{{1,3}}(?:[{layout.thousands}][0-9]{{3}})+)"
    return f"{number}(?:[{layout.decimal}]0*)?"


def _code_rules(column: dict, layout: Layout, params: Params) -> list[Rule]:
    """A recoded column's vendor value must be listed in the layout's codes."""
    recode = layout.recodes.get(column["name"])
    if recode is None or recode.keep_unmapped:
        return []
    vendor = quote_ident(column["name"] + VENDOR_SUFFIX)
    listed = sorted(recode.values)
    sample = ", ".join(listed[:10]) + (", …" if len(listed) > 10 else "")
    return [
        Rule(
            f"{vendor} IS NULL OR trim({vendor}) = '' OR {vendor} IN "
            f"(SELECT code FROM layout_codes WHERE col = {params(column['name'])})",
            f"a code listed in {recode.source} ({sample})",
            vendor,
        )
    ]


def _rules(column: dict, ref_date: date, params: Params) -> list[Rule]:
    """The rules of one canonical column from the YAML spec."""
    present = quote_ident(column["name"] + PRESENT_SUFFIX)  # computed once per cell
    rules = []
    if column.get("required"):
        rules.append(Rule(present, "a value (the column is required)"))
    rule = _type_rule(column, ref_date, params)
    if rule is not None:
        rules.append(rule._replace(condition=f"NOT ({present}) OR ({rule.condition})"))
    rules.extend(_range_rules(column, ref_date, present))
    if column.get("unique"):
        rules.append(
            Rule(
                f"line = min(line) OVER (PARTITION BY {quote_ident(column['name'])})",
                "a value not used in an earlier row",
                window=True,
            )
        )
    return rules


def _type_rule(column: dict, ref_date: date, params: Params) -> Rule | None:
    """The rule of the column's ``type`` for a non-empty cell; None for text."""
    name, kind = quote_ident(column["name"]), column["type"]
    if kind == "int":
        return Rule(
            f"regexp_full_match(trim({name}), '{WHOLE_NUMBER}') AND "
            f"TRY_CAST({name} AS INTEGER) IS NOT NULL",
            "a whole number",
        )
    if kind == "flag":
        return Rule(f"{name} IN ('0', '1')", "0 or 1")
    if kind == "code":
        codes = column.get("codes", [])
        return Rule(f"list_contains({params(codes)}, {name})", "one of " + ", ".join(codes))
    if kind == "country":
        return Rule(
            f"{name} IN (SELECT code FROM countries)",
            "an ISO 3166-1 alpha-2 country code listed in etl/transform/countries.csv",
        )
    if kind == "area":
        return Rule(
            f"{name} IN (SELECT area_id FROM valid_areas)",
            f"an area id of the finest level valid on {ref_date.isoformat()}",
        )
    return None


def _range_rules(column: dict, ref_date: date, present: str) -> list[Rule]:
    """The column's ``range`` from the YAML spec; unparsable values are the int rule's job."""
    if "range" not in column:
        return []
    value = f'TRY_CAST("{column["name"]}" AS INTEGER)'
    lower, upper = (_bound(b, ref_date) for b in column["range"])
    cond = (
        f"NOT ({present}) OR {value} IS NULL OR "
        f"(({lower}) IS NULL OR {value} >= ({lower})) AND "
        f"(({upper}) IS NULL OR {value} <= ({upper}))"
    )
    return [Rule(cond, column["expected"])]


def _bound(bound: str, ref_date: date) -> str:
    """SQL for one range bound: ``ref_year[±N]`` or another int column of the row."""
    match = re.fullmatch(r"ref_year(?:([+-])(\d+))?", str(bound).replace(" ", ""))
    if match:
        sign, offset = match.groups()
        return str(ref_date.year + (int(offset) if sign == "+" else -int(offset or 0)))
    if bound in {c["name"] for c in columns() if c["type"] == "int"}:
        return f'TRY_CAST("{bound}" AS INTEGER)'
    raise ValueError(f"register_persons.yaml: invalid range bound {bound!r}")


def _violation_error(
    path: Path, violations: list[tuple], kinds: dict[tuple[str, str], int], layout: Layout
) -> InputError:
    """The first violation in full, the next ones by line and column, the rest counted
    per kind (column and what it expects): a file of a million bad rows gives a short
    message."""
    line, column, value, written, expected = violations[0]
    label = layout.column_map.get(column, column)
    shown = "" if value is None else f"'{quoted(value)}'"
    message = f"found {shown or 'an empty cell'}, expected {expected}"
    if written is not None and written != value:
        message += (
            f" (the file has '{quoted(written)}', recoded by {layout.recodes[column].source})"
        )
    others = [
        f"line {v[0]} column '{layout.column_map.get(v[1], v[1])}'"
        for v in violations[1:MAX_REPORTED]
    ]
    if others:
        message += f" (also: {'; '.join(others)})"
    per_kind = {
        f"column '{layout.column_map.get(col, col)}': {quoted(exp, 60)}": n
        for (col, exp), n in kinds.items()
    }
    message += and_more(len(violations), sum(kinds.values()), per_kind)
    return InputError(path, message, line=line, column=label)
