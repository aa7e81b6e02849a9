"""Statistics-office tables -> ``observations`` and ``area_counts``.

1. :func:`stage_tables` reads every file of every ``tables:`` entry of the profile through
   its adapter into the TEMP table ``stg_observations`` (tidy cells with file and line).
2. :func:`write_counts` keeps the cells of this instance's areas in ``observations``,
   turns the profile's count mappings (term = sum of cells − sum of cells) into
   ``area_counts`` in one set-based pass, and checks them: every cell of a count is a
   non-negative number, all cells a count needs exist, two tables giving the same count
   agree, and no subgroup exceeds its group (e.g. foreigners under 18 <= under 18).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd

from etl.errors import JSON_ROOT, ConfigError, Finding, InputError
from etl.indicators.spec import Catalogue, term_name
from etl.profile import AreaTable, CodeHierarchyGeography, LongTable, Profile
from etl.sources import area_table, genesis_csv, long_table
from etl.transform.reconcile import add_unassigned, reconcile

STAGE_COLUMNS = [
    "source_id",
    "table_id",
    "ref_date",
    "area_id",
    "variable",
    "dims",
    "unit",
    "value",
    "flag",
    "file",
    "line",
    "column",
]


def discover_tables(profile: Profile) -> list[tuple[AreaTable, Path]]:
    """(table entry, file) for every file of every table of the profile, sorted."""
    found = []
    for table in profile.tables:
        files = sorted(profile.raw_dir.glob(table.files))
        if not files:
            raise InputError(
                profile.raw_dir, f"table '{table.id}': no file matches '{table.files}'"
            )
        found += [(table, path) for path in files]
    return found


def stage_tables(
    con: duckdb.DuckDBPyConnection,
    profile: Profile,
    files: list[tuple[AreaTable, Path]],
    track: Callable,
) -> list[tuple]:
    """Read every table file into ``stg_observations``; return (source, path, rows, date)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE stg_observations (source_id VARCHAR, "
        "table_id VARCHAR, ref_date DATE, area_id VARCHAR, variable VARCHAR, "
        "dims VARCHAR, unit VARCHAR, value DOUBLE, flag VARCHAR, file VARCHAR, "
        'line INTEGER, "column" VARCHAR)'
    )
    con.execute("CREATE OR REPLACE TEMP TABLE stg_area_names (area_id VARCHAR, name VARCHAR)")
    con.execute("CREATE OR REPLACE TEMP TABLE stg_table_warnings (message VARCHAR)")
    loads = []
    for table, path in track(files, "Tabellen lesen", len(files)):
        cells, ref_date = _read(con, profile, table, path)
        if "area_name" in cells:  # names of a long table's areas (code_hierarchy uses them)
            _area_names(con, cells)
        frame = cells.assign(source_id=table.id, file=str(path))[STAGE_COLUMNS]
        con.register("new_cells", frame)
        con.execute("INSERT INTO stg_observations SELECT * FROM new_cells")
        con.unregister("new_cells")
        loads.append((table.id, path, len(frame), ref_date))
    add_unassigned(con, profile)
    return loads


def _area_names(con: duckdb.DuckDBPyConnection, cells: pd.DataFrame) -> None:
    names = cells[["area_id", "area_name"]].dropna().drop_duplicates("area_id")
    con.register("new_names", names)
    con.execute("INSERT INTO stg_area_names SELECT * FROM new_names")
    con.unregister("new_names")


def table_warnings(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Warnings of the table adapters while staging (GENESIS totals with ``totals: warn``)."""
    return [r[0] for r in con.execute("SELECT message FROM stg_table_warnings").fetchall()]


def _read(
    con: duckdb.DuckDBPyConnection, profile: Profile, table, path: Path
) -> tuple[pd.DataFrame, object]:
    if isinstance(table, LongTable):
        return _read_long(profile, table, path)
    if isinstance(table, AreaTable):
        columns = sorted(
            {v for m in table.counts for s in m.add + m.subtract for v in s.variables()}
            | {c for group in table.sums for c in group}
        )
        cells = area_table.read(path, table, columns)
        _check_code_lengths(profile, path, cells)
        return cells.assign(table_id=path.name), cells["ref_date"].iloc[0]
    parsed = genesis_csv.read_table(path, table.encoding)
    members = _members(profile, parsed.rows["region_code"])
    # the totals of the instance's regions in the columns it reads against the sums of
    # their areas (totals: warn lists them)
    used = {v for m in table.counts for s in m.add + m.subtract for v in s.variables()}
    checked = members & parsed.rows["variable"].isin(used)
    warnings = genesis_csv.check_totals(path, parsed, checked, profile.consistency.totals)
    if warnings:
        con.executemany("INSERT INTO stg_table_warnings VALUES (?)", [[w] for w in warnings])
    # the region names name areas without a boundary file (code_hierarchy)
    names = {"region_code": "area_id", "region_name": "area_name"}
    cells = parsed.rows[members].rename(columns=names).copy()
    cells["column"] = cells["variable"]
    return cells, None


def _read_long(profile: Profile, table: LongTable, path: Path) -> tuple[pd.DataFrame, object]:
    """A long table's cells of every level (coarser rows reconcile, etl/transform/reconcile)."""
    variables = sorted({v for m in table.counts for s in m.add + m.subtract for v in s.variables()})
    geo = profile.geography
    root = geo.root.id if isinstance(geo, CodeHierarchyGeography) else ""
    cells = long_table.read(path, table, variables, root)
    if isinstance(geo, CodeHierarchyGeography):
        lengths = set(geo.code_lengths.values())
        prefix = geo.member_prefix or ""
        codes = cells["area_id"]
        bad = (codes != root) & (~codes.str.len().isin(lengths) | ~codes.str.startswith(prefix))
        if bad.any():
            row = cells[bad].iloc[0]
            raise InputError(
                path,
                f"unknown area '{row['area_id']}': expected a code of "
                f"{' or '.join(str(n) for n in sorted(lengths))} digits"
                + (f" starting with {prefix}" if prefix else "")
                + f", or one of city_codes {table.city_codes} for the whole city",
                line=int(row["line"]),
                column=table.area_column,
            )
    dates = sorted(set(cells["ref_date"]))
    return cells.assign(table_id=path.name), dates[0] if len(dates) == 1 else None


def _members(profile: Profile, codes: pd.Series) -> pd.Series:
    """Rows of a multi-region table (e.g. all of Germany) that belong to this instance."""
    geo = profile.geography
    if not isinstance(geo, CodeHierarchyGeography):
        return pd.Series(True, index=codes.index)
    prefix = geo.member_prefix or ""
    lengths = set(geo.code_lengths.values())
    return (codes == geo.root.id) | (codes.str.startswith(prefix) & codes.str.len().isin(lengths))


def _check_code_lengths(profile: Profile, path: Path, cells: pd.DataFrame) -> None:
    geo = profile.geography
    if not isinstance(geo, CodeHierarchyGeography):
        return
    finest = geo.code_lengths[profile.level_ids()[-1]]
    prefix = geo.member_prefix or ""
    bad = (cells["area_id"].str.len() != finest) | ~cells["area_id"].str.startswith(prefix)
    if bad.any():
        row = cells[bad].iloc[0]
        raise InputError(
            path,
            f"unknown area code '{row['area_id']}': expected a "
            f"{finest}-digit code of level '{profile.level_ids()[-1]}'"
            + (f" starting with {prefix}" if prefix else ""),
            line=int(row["line"]),
            column=area_table_column(profile, path),
        )


def area_table_column(profile: Profile, path: Path) -> str | None:
    for table in profile.tables:
        if isinstance(table, AreaTable | LongTable) and path.match(table.files):
            return table.area_column
    return None


def data_codes(con: duckdb.DuckDBPyConnection, profile: Profile) -> pd.DataFrame:
    """Finest-level area codes in the staged tables with date, file and first line."""
    geo = profile.geography
    finest = geo.code_lengths[profile.level_ids()[-1]]
    codes = con.execute(
        "SELECT area_id, ref_date, min(file) AS file, arg_min(line, (file, line)) AS line "
        "FROM stg_observations WHERE length(area_id) = ? GROUP BY area_id, ref_date "
        "ORDER BY ref_date, file, line",
        [finest],
    ).df()
    columns = {f: area_table_column(profile, Path(f)) or "region code" for f in set(codes["file"])}
    found = codes.assign(
        ref_date=pd.to_datetime(codes["ref_date"]).dt.date, column=codes["file"].map(columns)
    )
    # area names from the data rows (long tables' name_column), for areas without boundary
    found.attrs["names"] = dict(
        con.execute("SELECT area_id, min(name) FROM stg_area_names GROUP BY 1").fetchall()
    )
    return found


SELECTED_SQL = """
CREATE OR REPLACE TEMP TABLE term_cells AS
SELECT o.ref_date, o.area_id, s.term, s.source_id, s.mapping, s.priority, s.conflicts,
       sum(s.sign * o.value) AS value, min(o.flag) AS flag, count(*) AS cells,
       min(o.file) AS file, min(o.line) AS line,
       string_agg(DISTINCT o."column", ' + ' ORDER BY o."column") AS columns
FROM stg_observations AS o
INNER JOIN selectors AS s
    ON s.source_id = o.source_id AND s.variable = o.variable AND s.dims = o.dims
INNER JOIN areas AS a
    ON a.area_id = o.area_id
   AND o.ref_date BETWEEN a.valid_from AND coalesce(a.valid_to, DATE '9999-12-31')
INNER JOIN terms_known AS t ON t.term = s.term
WHERE t.additive = (a.level = $finest) OR NOT t.additive
GROUP BY ALL
"""

CHECK_SQL = {
    "negative": """
        SELECT o.file, o.line, o."column", o.value FROM stg_observations AS o
        INNER JOIN selectors AS s
            ON s.source_id = o.source_id AND s.variable = o.variable AND s.dims = o.dims
        WHERE o.value < 0 ORDER BY o.file, o.line LIMIT 1""",
    "difference": """
        SELECT file, line, columns, value, term, area_id, ref_date, source_id, mapping
        FROM term_cells WHERE value < 0 ORDER BY file, line LIMIT 1""",
    "incomplete": """
        SELECT c.file, c.line, c.columns, c.term, c.area_id, c.ref_date, c.cells, m.expected
        FROM term_cells AS c INNER JOIN mapping_sizes AS m USING (source_id, mapping)
        WHERE c.cells < m.expected ORDER BY c.file, c.line LIMIT 1""",
    "conflict": """
        SELECT a.file, a.line, a.columns, a.value, b.file, b.line, b.columns, b.value,
               a.term, a.area_id, b.conflicts = 'warn' AS tolerated, b.source_id, a.source_id,
               count(*) OVER (PARTITION BY b.source_id, a.source_id) AS cases,
               max(abs(a.value - b.value)) OVER (PARTITION BY b.source_id, a.source_id) AS most,
               b.ref_date
        FROM term_cells AS a INNER JOIN term_cells AS b
            ON a.ref_date = b.ref_date AND a.area_id = b.area_id AND a.term = b.term
           AND a.priority < b.priority
        WHERE a.value IS DISTINCT FROM b.value
        QUALIFY row_number() OVER (PARTITION BY b.source_id, a.source_id
                                   ORDER BY b.ref_date, b.file, b.line) = 1
        ORDER BY tolerated, b.file, b.line""",
    "subgroup": """
        SELECT i.file, i.line, i.columns, i.value, o.columns, o.value, o.file
        FROM term_cells AS i
        INNER JOIN nesting AS n ON n.inner_term = i.term
        INNER JOIN term_cells AS o
            ON o.term = n.outer_term AND o.ref_date = i.ref_date AND o.area_id = i.area_id
        WHERE i.value > o.value ORDER BY i.file, i.line LIMIT 1""",
}


def write_counts(
    con: duckdb.DuckDBPyConnection, profile: Profile, catalogue: Catalogue
) -> tuple[dict[str, set[str]], list[str]]:
    """Fill ``observations`` and ``area_counts`` from ``stg_observations``; return the
    table ids behind every term (for the indicators' source line) and warnings."""
    _unknown_areas(con, profile)
    con.execute(
        "INSERT INTO observations SELECT o.source_id, o.table_id, o.ref_date, "
        "o.area_id, o.variable, o.dims, o.unit, o.value, o.flag "
        "FROM stg_observations AS o WHERE EXISTS (SELECT 1 FROM areas AS a "
        "WHERE a.area_id = o.area_id)"
    )
    _mapping_tables(con, profile, catalogue)
    con.execute(SELECTED_SQL, {"finest": profile.level_ids()[-1]})
    _check(con)
    warnings = _conflicts(con) + reconcile(con, profile)
    con.execute(
        "INSERT INTO area_counts SELECT ref_date, area_id, term, "
        "CASE WHEN flag IS NULL THEN value END, flag, source_id, NULL FROM term_cells "
        "QUALIFY row_number() OVER (PARTITION BY ref_date, area_id, term "
        "ORDER BY priority) = 1"
    )
    rows = con.execute("SELECT DISTINCT term, source_id FROM term_cells").fetchall()
    sources: dict[str, set[str]] = {}
    for term, source in rows:
        sources.setdefault(term, set()).add(source)
    return sources, warnings


def _unknown_areas(con: duckdb.DuckDBPyConnection, profile: Profile) -> None:
    """District-table rows must name an area valid on the reference date."""
    area_tables = [t.id for t in profile.tables if isinstance(t, AreaTable)]
    row = con.execute(
        "SELECT o.file, o.line, o.area_id, o.ref_date FROM stg_observations AS o "
        "WHERE list_contains(?, o.source_id) AND NOT EXISTS (SELECT 1 FROM areas AS a "
        "WHERE a.area_id = o.area_id AND a.level = ? AND o.ref_date BETWEEN a.valid_from "
        "AND coalesce(a.valid_to, DATE '9999-12-31')) ORDER BY o.file, o.line LIMIT 1",
        [area_tables, profile.level_ids()[-1]],
    ).fetchone()
    if row:
        path = Path(row[0])
        raise InputError(
            path,
            f"unknown area code '{row[2]}': not an area of level "
            f"'{profile.level_ids()[-1]}' valid on {row[3]}",
            line=row[1],
            column=area_table_column(profile, path),
        )
    long_tables = [t.id for t in profile.tables if isinstance(t, LongTable)]
    row = con.execute(  # long tables: coarser rows must be ancestors of the finest rows
        "SELECT o.file, o.line, o.area_id, o.ref_date FROM stg_observations AS o "
        "WHERE list_contains(?, o.source_id) AND NOT EXISTS (SELECT 1 FROM areas AS a "
        "WHERE a.area_id = o.area_id AND o.ref_date BETWEEN a.valid_from "
        "AND coalesce(a.valid_to, DATE '9999-12-31')) ORDER BY o.file, o.line LIMIT 1",
        [long_tables],
    ).fetchone()
    if row:
        path = Path(row[0])
        raise InputError(
            path,
            f"unknown area '{row[2]}' on {row[3]}: no finer area of the table lies in it "
            "and no boundary file has it",
            line=row[1],
            column=area_table_column(profile, path),
        )


def _mapping_tables(con: duckdb.DuckDBPyConnection, profile: Profile, catalogue: Catalogue) -> None:
    """TEMP tables ``selectors``, ``mapping_sizes``, ``terms_known`` and ``nesting``."""
    known = {**catalogue.groups, **catalogue.measures}
    selectors, sizes, keys = [], [], set()
    for priority, table in enumerate(profile.tables):
        for number, mapping in enumerate(table.counts):
            key = mapping.term_key()
            unknown = [name for name in key if name not in known]
            if unknown:
                raise ConfigError(
                    f"{profile.path}: table '{table.id}', counts entry "
                    f"{number + 1}: unknown group or measure '{unknown[0]}' "
                    f"(known: {', '.join(known)})"
                )
            parts = catalogue.balance(key)
            if parts:
                raise ConfigError(
                    f"{profile.path}: table '{table.id}', counts entry {number + 1}: "
                    f"'{term_name(key)}' is a balance, computed from its components after "
                    f"protection; map {list(parts[0])} and {list(parts[1])} instead"
                )
            keys.add(key)
            cells = [
                (sign, v, d)
                for sign, chosen in ((1, mapping.add), (-1, mapping.subtract))
                for s in chosen
                for v in s.variables()
                for d in s.dim_values()
            ]
            conflicts = "warn" if profile.consistency.totals == "warn" else table.conflicts
            selectors += [
                (table.id, number, priority, conflicts, term_name(key), *cell) for cell in cells
            ]
            sizes.append((table.id, number, len(cells)))
    _temp_table(
        con,
        "selectors",
        "source_id VARCHAR, mapping INTEGER, priority INTEGER, "
        "conflicts VARCHAR, term VARCHAR, sign INTEGER, variable VARCHAR, dims VARCHAR",
        selectors,
    )
    _temp_table(con, "mapping_sizes", "source_id VARCHAR, mapping INTEGER, expected INTEGER", sizes)
    _temp_table(
        con,
        "terms_known",
        "term VARCHAR, additive BOOLEAN",
        [(term_name(k), catalogue.additive(k)) for k in keys],
    )
    nesting = [
        (term_name(a), term_name(b))
        for a in keys
        for b in keys
        if a != b and catalogue.additive(a) and catalogue.contains(b, a)
    ]
    _temp_table(con, "nesting", "inner_term VARCHAR, outer_term VARCHAR", nesting)


def _conflicts(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Disagreements tolerated by ``conflicts: warn``, one line per pair of tables."""
    return [
        Finding(
            f"table '{r[11]}' disagrees with '{r[12]}' on {r[13]} count(s), by up to "
            f"{r[14]:g} (first: {Path(r[4]).name} line {r[5]}, {r[6]} = {r[7]:g}, but "
            f"{Path(r[0]).name} gives {r[3]:g}); the value of '{r[12]}' is used"
        )
        for r in con.execute(CHECK_SQL["conflict"]).fetchall()
    ]


def _temp_table(con: duckdb.DuckDBPyConnection, name: str, columns: str, rows: list[tuple]) -> None:
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({columns})")
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        con.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)


def _check(con: duckdb.DuckDBPyConnection) -> None:
    row = con.execute(CHECK_SQL["negative"]).fetchone()
    if row:
        raise InputError(
            Path(row[0]),
            f"found {row[3]:g}, expected a count (not negative)",
            line=row[1],
            column=row[2],
        )
    row = con.execute(CHECK_SQL["difference"]).fetchone()
    if row:
        raise InputError(
            Path(row[0]),
            f"count '{row[4]}' for area {row[5]} on {row[6]} is {row[3]:g} ({row[2]}; "
            f"table '{row[7]}', counts entry {row[8] + 1}: add minus subtract), expected a "
            "count (not negative); a balance such as net migration is computed from its "
            "components (indicators.yaml, measures: balance)",
            line=row[1],
            column=row[2] if row[2].startswith(JSON_ROOT) else None,  # a JSON value's path
        )
    row = con.execute(CHECK_SQL["incomplete"]).fetchone()
    if row:
        raise InputError(
            Path(row[0]),
            f"count '{row[3]}' for area {row[4]} on {row[5]} needs "
            f"{row[7]} cells, found {row[6]} ({row[2]})",
            line=row[1],
        )
    row = con.execute(CHECK_SQL["conflict"]).fetchone()
    if row and not row[10]:
        raise InputError(
            Path(row[0]),
            f"{row[2]} = {row[3]:g} for area {row[9]}, but "
            f"{Path(row[4]).name} line {row[5]} ({row[6]}) gives {row[7]:g} for "
            f"the same count '{row[8]}'",
            line=row[1],
            column=row[2],
        )
    row = con.execute(CHECK_SQL["subgroup"]).fetchone()
    if row:
        raise InputError(
            Path(row[0]),
            f"{row[2]} = {row[3]:g} is larger than its total "
            f"{row[4]} = {row[5]:g}" + ("" if row[6] == row[0] else f" (in {Path(row[6]).name})"),
            line=row[1],
            column=row[2],
        )
