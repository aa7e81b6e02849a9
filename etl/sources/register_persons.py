"""Source adapter: person-level register extract (Melderegister) -> staging table.

Reads one raw CSV unchanged, checks its header, every cell's type and code list, and
writes the TEMP table ``stg_persons`` (typed, renamed to English, no business logic).
Person-level rows live only in TEMP tables: they never reach the published warehouse.
Line numbers in errors are file lines (the header is line 1).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import yaml

from etl.errors import InputError

SPEC = yaml.safe_load((Path(__file__).with_suffix(".yaml")).read_text(encoding="utf-8"))
COLUMNS: list[dict] = SPEC["columns"]
MAX_REPORTED = 5

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


def stage(con: duckdb.DuckDBPyConnection, path: Path, ref_date: date,
          layout: Path | None = None, encoding: str = "utf-8", separator: str = ";") -> int:
    """Read ``path`` into ``stg_persons``; return its row count.

    Requires the TEMP tables ``valid_areas(area_id)`` (finest-level areas valid at
    ``ref_date``) and ``countries(code)``. Raises :class:`InputError` naming file, line
    and column on the first problems found; nothing is kept on failure.
    """
    _check_header(path, _read_header(path, encoding, separator))
    _read_raw(con, path, encoding, separator)
    violations = _violations(con, ref_date)
    if violations:
        con.execute("DROP TABLE raw_persons")
        raise _violation_error(path, violations)
    con.execute(STAGE_SQL)
    con.execute("DROP TABLE raw_persons")
    return con.execute("SELECT count(*) FROM stg_persons").fetchall()[0][0]


def _read_header(path: Path, encoding: str, separator: str) -> list[str]:
    try:
        with path.open(encoding=encoding, newline="") as fh:
            first = fh.readline()
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not valid {encoding} text ({exc.reason} at byte {exc.start})",
                          line=1) from exc
    if not first.strip():
        raise InputError(path, "file is empty (expected a header row)", line=1)
    return [name.strip().strip('"') for name in first.rstrip("\r\n").split(separator)]


def _check_header(path: Path, header: list[str]) -> None:
    expected = [c["name"] for c in COLUMNS]
    missing = [c for c in expected if c not in header]
    if missing:
        raise InputError(path, f"missing column(s) {', '.join(missing)}; expected columns: "
                         f"{';'.join(expected)}", line=1, column=missing[0])
    unexpected = [c for c in header if c not in expected]
    if unexpected:
        raise InputError(path, f"unexpected column(s) {', '.join(unexpected)}; expected "
                         f"columns: {';'.join(expected)}", line=1, column=unexpected[0])
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise InputError(path, "column named twice in the header", line=1, column=duplicated[0])


def _read_raw(con: duckdb.DuckDBPyConnection, path: Path, encoding: str, sep: str) -> None:
    """Load every cell as text; ``line`` is the file line (insertion order is kept)."""
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE raw_cells AS SELECT * FROM read_csv(?, header = true,"
            " delim = ?, all_varchar = true, encoding = ?, quote = '\"', strict_mode = true,"
            " null_padding = false)",
            [str(path), sep, encoding.lower().replace("_", "-")],
        )
    except duckdb.Error as exc:
        raise InputError(path, f"cannot be read as a '{sep}'-separated {encoding} table: "
                         f"{_first_lines(str(exc))}") from exc
    # rowid follows insertion order, which DuckDB keeps for a plain scan (tested)
    con.execute("CREATE OR REPLACE TEMP TABLE raw_persons AS "
                "SELECT rowid + 2 AS line, * FROM raw_cells")
    con.execute("DROP TABLE raw_cells")
    if con.execute("SELECT count(*) FROM raw_persons").fetchall()[0][0] == 0:
        raise InputError(path, "file has a header but no data rows", line=2)


def _first_lines(message: str, n: int = 3) -> str:
    return " ".join(message.strip().splitlines()[:n])


def _violations(con: duckdb.DuckDBPyConnection, ref_date: date) -> list[tuple]:
    """All rule violations as (line, column, value, expected), set-based in one query."""
    parts, params = [], []
    for column in COLUMNS:
        for condition, expected, args in _rules(column, ref_date):
            clause = "QUALIFY" if " OVER " in condition else "WHERE"
            parts.append(
                f"SELECT line, '{column['name']}' AS col, \"{column['name']}\" AS value, "
                f"? AS expected FROM raw_persons {clause} NOT coalesce(({condition}), false)"
            )
            params.extend([expected, *args])
    sql = " UNION ALL ".join(parts) + f" ORDER BY line, col LIMIT {MAX_REPORTED + 1}"
    return con.execute(sql, params).fetchall()


def _rules(column: dict, ref_date: date) -> list[tuple[str, str, list]]:
    """(SQL condition that must hold, what was expected, parameters) for one column."""
    name, kind = f'"{column["name"]}"', column["type"]
    present = f"{name} IS NOT NULL AND trim({name}) <> ''"
    rules = []
    if column.get("required"):
        rules.append((present, "a value (the column is required)", []))
    typed = {
        "int": (f"TRY_CAST({name} AS INTEGER) IS NOT NULL", "a whole number", []),
        "flag": (f"{name} IN ('0', '1')", "0 or 1", []),
        "code": (f"list_contains(?, {name})", "one of " + ", ".join(column.get("codes", [])),
                 [column.get("codes", [])]),
        "country": (f"{name} IN (SELECT code FROM countries)",
                    "an ISO 3166-1 alpha-2 country code listed in etl/transform/countries.csv", []),
        "area": (f"{name} IN (SELECT area_id FROM valid_areas)",
                 f"an area id of the finest level valid on {ref_date.isoformat()}", []),
    }
    if kind in typed:
        condition, expected, args = typed[kind]
        rules.append((f"NOT ({present}) OR ({condition})", expected, args))
    rules.extend(_range_rules(column, ref_date, present))
    if column.get("unique"):
        rules.append((f"line = min(line) OVER (PARTITION BY {name})",
                      "a value not used in an earlier row", []))
    return rules


def _range_rules(column: dict, ref_date: date, present: str) -> list[tuple[str, str, list]]:
    """The column's ``range`` from the YAML spec; unparsable values are the int rule's job."""
    if "range" not in column:
        return []
    value = f'TRY_CAST("{column["name"]}" AS INTEGER)'
    lower, upper = (_bound(b, ref_date) for b in column["range"])
    cond = (f"NOT ({present}) OR {value} IS NULL OR "
            f"(({lower}) IS NULL OR {value} >= ({lower})) AND "
            f"(({upper}) IS NULL OR {value} <= ({upper}))")
    return [(cond, column["expected"], [])]


def _bound(bound: str, ref_date: date) -> str:
    """SQL for one range bound: ``ref_year[±N]`` or another int column of the row."""
    match = re.fullmatch(r"ref_year(?:([+-])(\d+))?", str(bound).replace(" ", ""))
    if match:
        sign, offset = match.groups()
        return str(ref_date.year + (int(offset) if sign == "+" else -int(offset or 0)))
    if bound in {c["name"] for c in COLUMNS if c["type"] == "int"}:
        return f'TRY_CAST("{bound}" AS INTEGER)'
    raise ValueError(f"register_persons.yaml: invalid range bound {bound!r}")


def _violation_error(path: Path, violations: list[tuple]) -> InputError:
    line, column, value, expected = violations[0]
    shown = "" if value is None else f"'{value}'"
    message = f"found {shown or 'an empty cell'}, expected {expected}"
    others = [f"line {v[0]} column '{v[1]}'" for v in violations[1:MAX_REPORTED]]
    if others:
        more = " and more" if len(violations) > MAX_REPORTED else ""
        message += f" (also: {'; '.join(others)}{more})"
    return InputError(path, message, line=line, column=column)
