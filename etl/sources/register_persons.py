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
    default_layout,
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
MAX_REPORTED = 5
WHOLE_NUMBER = "[+-]?[0-9]+"  # canonical text of an int column


class Rule(NamedTuple):
    """A condition every row must meet; ``value`` is the column shown when it fails."""

    condition: str
    expected: str
    args: list = []
    value: str | None = None


STAGE_SQL = """
CREATE OR REPLACE TEMP TABLE stg_persons AS
SELECT
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
FROM raw_persons
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
    layout with ``encoding`` and ``separator``. Requires the TEMP tables
    ``valid_areas(area_id)`` (finest-level areas valid at ``ref_date``) and
    ``countries(code)``. Raises :class:`InputError` naming file, line and (the vendor's)
    column on the first problems found; nothing is kept on failure.
    """
    spec = _layout(layout, encoding, separator)
    try:
        line = read_cells(con, path, spec)
        _check_controls(con, path, line)
        _to_canonical(con, path, spec, line)
        violations, kinds = _violations(con, ref_date, spec)
        if violations:
            raise _violation_error(path, violations, kinds, spec)
        con.execute(STAGE_SQL)
    finally:
        con.execute(
            "DROP TABLE IF EXISTS raw_cells; DROP TABLE IF EXISTS raw_persons; "
            "DROP TABLE IF EXISTS layout_codes"
        )
    return con.execute("SELECT count(*) FROM stg_persons").fetchall()[0][0]


def _check_controls(con: duckdb.DuckDBPyConnection, path: Path, line: str) -> None:
    """No cell of ``raw_cells`` (every column of the file, in the vendor's names) holds a
    control character other than tab: a NUL in a household id would split the household.
    One scan; the first bad row in file order is reported."""
    names = [r[0] for r in con.execute("DESCRIBE raw_cells").fetchall() if r[0] != ROW_COLUMN]
    if not names:
        return
    cells = [quote_ident(n) for n in names]
    found = con.execute(
        f"SELECT {line}, {', '.join(cells)} FROM raw_cells WHERE "
        + " OR ".join(f"regexp_matches({c}, $pattern)" for c in cells)
        + " ORDER BY 1 LIMIT 1",
        {"pattern": CONTROL_PATTERN},
    ).fetchall()
    if found:
        number, *values = found[0]
        column, problem = next(
            (n, control_problem(v))
            for n, v in zip(names, values, strict=True)
            if v is not None and control_problem(v)
        )
        raise InputError(path, str(problem), line=int(number), column=column)


def _layout(layout: Path | None, encoding: str, separator: str) -> Layout:
    if layout is None:
        return default_layout(canonical(), encoding, separator)
    if (encoding, separator) != ("utf-8", ";"):
        raise ValueError("with a layout file, encoding and separator are set in that file")
    return load_layout(Path(layout), canonical())


def _to_canonical(con: duckdb.DuckDBPyConnection, path: Path, layout: Layout, line: str) -> None:
    """``raw_cells`` -> ``raw_persons``: canonical names, recoded codes, whole numbers as
    plain digits; a recoded column keeps the vendor's value in ``<name>#vendor``."""
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
    sql, params = _canonical_sql(layout, line)
    con.execute(sql, params)
    con.execute("DROP TABLE raw_cells")
    if con.execute("SELECT count(*) FROM raw_persons").fetchall()[0][0] == 0:
        raise InputError(path, "file has a header but no data rows", line=layout.header_row + 1)


def _canonical_sql(layout: Layout, line: str) -> tuple[str, list]:
    selects, joins, params, join_params = ["__imon_line__ AS line"], [], [], []
    for i, column in enumerate(columns()):
        name, vendor = column["name"], layout.column_map.get(column["name"])
        value = f"cells.{quote_ident(vendor)}" if vendor else "CAST(NULL AS VARCHAR)"
        if name in layout.recodes:
            selects.append(f"{value} AS {quote_ident(name + VENDOR_SUFFIX)}")
            joins.append(f"LEFT JOIN layout_codes AS m{i} ON m{i}.col = ? AND m{i}.code = {value}")
            join_params.append(name)
            value = f"CASE WHEN m{i}.code IS NULL THEN {value} ELSE m{i}.canonical END"
        if column["type"] == "int":
            value = (
                f"CASE WHEN regexp_full_match(trim({value}), ?) THEN regexp_extract("
                f"replace(trim({value}), ?, ''), '^{WHOLE_NUMBER}') ELSE {value} END"
            )
            params.extend([_number_pattern(layout), layout.thousands or ""])
        selects.append(f"{value} AS {quote_ident(name)}")
    sql = (
        f"CREATE OR REPLACE TEMP TABLE raw_persons AS WITH cells AS (SELECT {line} AS "
        f"__imon_line__, * FROM raw_cells) SELECT {', '.join(selects)} FROM cells "
        + " ".join(joins)
    )
    return sql, params + join_params


def _number_pattern(layout: Layout) -> str:
    """Whole numbers as the layout writes them: ``1985``, ``1985,0``, ``1.985`` …"""
    number = WHOLE_NUMBER
    if layout.thousands:
        number = f"[+-]?(?:[0-9]+|[0-9]{{1,3}}(?:[{layout.thousands}][0-9]{{3}})+)"
    return f"{number}(?:[{layout.decimal}]0*)?"


def _violations(
    con: duckdb.DuckDBPyConnection, ref_date: date, layout: Layout
) -> tuple[list[tuple], dict[tuple[str, str], int]]:
    """The first :data:`MAX_REPORTED` rule violations as (line, column, value, vendor
    value, expected) in file order, and the number of all violations per (column,
    expected); set-based in one pass; per cell only the first failing rule (a layout's
    code check comes first)."""
    parts, params = [], []
    for position, column in enumerate(columns()):
        name = column["name"]
        written = quote_ident(name + VENDOR_SUFFIX) if name in layout.recodes else "NULL"
        rules = _code_rules(column, layout) + _rules(column, ref_date)
        for seq, rule in enumerate(rules):
            clause = "QUALIFY" if " OVER " in rule.condition else "WHERE"
            parts.append(
                f"SELECT line, '{name}' AS col, {rule.value or quote_ident(name)} AS value, "
                f"{written} AS written, ? AS expected, {position} AS pos, {seq} AS seq "
                f"FROM raw_persons "
                f"{clause} NOT coalesce(({rule.condition}), false)"
            )
            params.extend([rule.expected, *rule.args])
    con.execute(
        "CREATE OR REPLACE TEMP TABLE raw_violations AS SELECT line, col, value, written, "
        f"expected, pos FROM ({' UNION ALL '.join(parts)}) "
        "QUALIFY row_number() OVER (PARTITION BY line, col ORDER BY seq) = 1",
        params,
    )
    try:
        first = con.execute(
            "SELECT line, col, value, written, expected FROM raw_violations "
            f"ORDER BY line, pos LIMIT {MAX_REPORTED}"
        ).fetchall()
        kinds = con.execute(
            "SELECT col, expected, count(*) FROM raw_violations GROUP BY ALL"
        ).fetchall()
    finally:
        con.execute("DROP TABLE IF EXISTS raw_violations")
    return first, {(col, expected): n for col, expected, n in kinds}


def _code_rules(column: dict, layout: Layout) -> list[Rule]:
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
            "(SELECT code FROM layout_codes WHERE col = ?)",
            f"a code listed in {recode.source} ({sample})",
            [column["name"]],
            vendor,
        )
    ]


def _rules(column: dict, ref_date: date) -> list[Rule]:
    """The rules of one canonical column from the YAML spec."""
    name, kind = quote_ident(column["name"]), column["type"]
    present = f"{name} IS NOT NULL AND trim({name}) <> ''"
    rules = []
    if column.get("required"):
        rules.append(Rule(present, "a value (the column is required)"))
    typed = {
        "int": Rule(
            f"regexp_full_match(trim({name}), '{WHOLE_NUMBER}') AND "
            f"TRY_CAST({name} AS INTEGER) IS NOT NULL",
            "a whole number",
        ),
        "flag": Rule(f"{name} IN ('0', '1')", "0 or 1"),
        "code": Rule(
            f"list_contains(?, {name})",
            "one of " + ", ".join(column.get("codes", [])),
            [column.get("codes", [])],
        ),
        "country": Rule(
            f"{name} IN (SELECT code FROM countries)",
            "an ISO 3166-1 alpha-2 country code listed in etl/transform/countries.csv",
        ),
        "area": Rule(
            f"{name} IN (SELECT area_id FROM valid_areas)",
            f"an area id of the finest level valid on {ref_date.isoformat()}",
        ),
    }
    if kind in typed:
        rule = typed[kind]
        rules.append(rule._replace(condition=f"NOT ({present}) OR ({rule.condition})"))
    rules.extend(_range_rules(column, ref_date, present))
    if column.get("unique"):
        rules.append(
            Rule(
                f"line = min(line) OVER (PARTITION BY {name})", "a value not used in an earlier row"
            )
        )
    return rules


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
