"""Column layouts of person-level register extracts (docs/REGISTER_LAYOUTS.md).

A layout file describes how one vendor writes the extract: CSV (encoding, separator)
or XLSX (sheet), the header row, the number format, which vendor column holds each
canonical column of ``register_persons.yaml`` and how the vendor's codes translate into
the canonical ones. This module validates layout files and reads an extract *as the
vendor wrote it* into the TEMP table ``raw_cells`` (every cell as text, under the
vendor's column names). Renaming, recoding and validating are ``register_persons``'s job.
"""

from __future__ import annotations

import codecs
import csv
import functools
import posixpath
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import islice
from pathlib import Path
from typing import IO, Any, Literal, TextIO
from xml.etree import ElementTree

import duckdb
import numpy as np
import openpyxl
import pyarrow as pa
import yaml
from openpyxl.utils import get_column_letter, range_boundaries
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from etl.errors import InputError, and_more, quoted
from etl.text import UTF8_BOM, check_line_lengths

Canonical = tuple[tuple[str, bool], ...]  # (name, required) of every canonical column
CHUNK_BYTES = 1 << 20
BATCH_ROWS = 50_000
MAX_REPORTED = 5
MAX_REJECTS = 1000  # rows DuckDB stores in its reject table at most (bounded memory, #20)
ROW_COLUMN = "__imon_row__"  # sheet row of an XLSX row in raw_cells
MERGE_REF = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*?ref="([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)"')
SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
ASCII_PROBE = '\r\n;,."aZ09'
PARQUET_MAGIC = b"PAR1"  # at the start and the end of a Parquet file
ARROW_MAGIC = b"ARROW1"  # at the start and the end of an Arrow IPC file (Feather v2)
ARROW_VIEW = "raw_arrow"  # the memory-mapped Arrow table, registered with DuckDB
BINARY = {PARQUET_MAGIC: "Parquet", ARROW_MAGIC: "Arrow IPC"}  # what each magic begins
BINARY_SUFFIXES = {".parquet": PARQUET_MAGIC, ".parq": PARQUET_MAGIC, ".arrow": ARROW_MAGIC,
                   ".feather": ARROW_MAGIC, ".ipc": ARROW_MAGIC}  # fmt: skip


def quote_ident(name: str) -> str:
    """``name`` as a quoted SQL identifier (vendor column names may hold any character)."""
    return '"' + name.replace('"', '""') + '"'


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CodeMap(_Strict):
    """Recode of one column: vendor code -> canonical code (an empty target = empty cell)."""

    values: dict[str, str] | None = None
    file: Path | None = None  # CSV with the columns from,to; relative to the layout file
    keep_unmapped: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> CodeMap:
        if (self.values is None) == (self.file is None):
            raise ValueError(
                "give exactly one of 'values' (an inline mapping) and 'file' "
                "(a CSV file with the columns from,to)"
            )
        if self.values is not None and "" in self.values:
            raise ValueError("empty cells are never recoded; remove the empty code")
        return self


@dataclass(frozen=True)
class Recode:
    """A loaded :class:`CodeMap`; ``source`` names where the codes were listed."""

    values: dict[str, str]
    keep_unmapped: bool
    source: str


class Layout(_Strict):
    """Base of the layout model; ``columns``/``codes`` are typed by :func:`layout_model`."""

    format: Literal["csv", "xlsx"] = "csv"
    encoding: str = "utf-8"
    separator: str = ";"
    decimal: Literal[".", ","] = "."
    thousands: Literal[".", ",", " ", "'"] | None = None
    header_row: int = Field(1, ge=1)
    sheet: str | None = None
    sheet_number: int | None = Field(None, ge=1)
    ignore: tuple[str, ...] = ()
    columns: Any
    codes: Any = None
    _file: Path | None = PrivateAttr(None)
    _recodes: dict[str, Recode] = PrivateAttr(default_factory=dict)

    @property
    def file(self) -> Path | None:
        """The layout file; None for the default layout."""
        return self._file

    @property
    def column_map(self) -> dict[str, str]:
        """Canonical column -> vendor column, for the canonical columns the extract has."""
        return {name: vendor for name, vendor in self.columns if vendor is not None}

    @property
    def recodes(self) -> dict[str, Recode]:
        """Canonical column -> its recode, for the recoded columns."""
        return self._recodes

    @field_validator("encoding")
    @classmethod
    def _ascii_compatible_codec(cls, value: str) -> str:
        try:
            codec = codecs.lookup(value)
            compatible = ASCII_PROBE.encode(codec.name) == ASCII_PROBE.encode("ascii")
        except LookupError:
            raise ValueError(
                f"unknown encoding '{value}'; use a Python codec name such as "
                "utf-8, utf-8-sig, cp1252 or iso-8859-1"
            ) from None
        if not compatible:
            raise ValueError(
                f"'{value}' writes line breaks and separators with more than "
                "one byte; convert the file to utf-8 first"
            )
        return value

    @field_validator("separator")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if len(value) != 1 or value in '"\r\n':
            raise ValueError("must be one character other than a quote or a line break")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Layout:
        own = {"csv": {"encoding", "separator"}, "xlsx": {"sheet", "sheet_number"}}
        foreign = (own["csv"] | own["xlsx"]) - own[self.format]
        misplaced = sorted(foreign & self.model_fields_set)
        if misplaced:
            raise ValueError(f"'{misplaced[0]}' does not apply to format {self.format}")
        if self.sheet is not None and self.sheet_number is not None:
            raise ValueError("give either 'sheet' (a name) or 'sheet_number', not both")
        if self.thousands == self.decimal:
            raise ValueError("'thousands' and 'decimal' must differ")
        mapped = set(self.column_map.values())
        if mapped & set(self.ignore):
            raise ValueError(
                f"column '{sorted(mapped & set(self.ignore))[0]}' is both "
                "mapped in 'columns' and listed in 'ignore'"
            )
        unmapped = [name for name, code in self.codes if code and name not in self.column_map]
        if unmapped:
            raise ValueError(f"codes are given for '{unmapped[0]}', which 'columns' does not map")
        return self


@functools.cache
def layout_model(canonical: Canonical) -> type[Layout]:
    """The layout model for these canonical columns (unknown names are errors)."""
    columns = create_model(
        "Columns",
        __base__=_Strict,
        **{name: (str, ...) if required else (str | None, None) for name, required in canonical},
    )
    codes = create_model(
        "Codes", __base__=_Strict, **{name: (CodeMap | None, None) for name, _ in canonical}
    )
    return create_model(
        "RegisterLayout", __base__=Layout, columns=(columns, ...), codes=(codes, codes())
    )


def default_layout(canonical: Canonical, encoding: str = "utf-8", separator: str = ";") -> Layout:
    """The default layout: canonical column names, a CSV file, no recoding."""
    return layout_model(canonical)(
        encoding=encoding, separator=separator, columns={name: name for name, _ in canonical}
    )


def load_layout(path: Path, canonical: Canonical) -> Layout:
    """Read and validate a layout file; code files are read relative to it.

    Every problem raises :class:`InputError` naming the layout file, the field and,
    where it can be found, the line of the field.
    """
    path = Path(path)
    node, data = _read_yaml(path)
    if not isinstance(data, dict):
        raise InputError(path, "expected a mapping of settings (format, columns, codes, …)")
    try:
        layout, problem = layout_model(canonical).model_validate(data), None
    except ValidationError as exc:
        layout, problem = None, _invalid(path, exc, node, canonical)
    if problem:  # raised outside the handler: a ValidationError as __context__ would keep
        raise problem  # the callers' frames alive past the garbage collector (pydantic-core)
    layout._file = path
    layout._recodes = {
        name: _recode(path, name, code) for name, code in layout.codes if code is not None
    }
    return layout


def _read_yaml(path: Path) -> tuple[yaml.Node | None, Any]:
    """The node tree (for line numbers) and the data; every scalar stays text, so codes
    such as ``01``, ``NO`` or ``1`` are read exactly as written."""
    if not path.is_file():
        raise InputError(path, "layout file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            path,
            f"not valid utf-8 text ({exc.reason} at byte {exc.start}); "
            "save the layout file as UTF-8",
        ) from exc
    loader = yaml.BaseLoader(text)
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            path, f"not valid YAML: {exc}", line=mark.line + 1 if mark else None
        ) from exc
    finally:
        loader.dispose()


def _invalid(
    path: Path, exc: ValidationError, node: yaml.Node | None, canonical: Canonical
) -> InputError:
    problems, lines = [], []
    for err in exc.errors():
        loc = err["loc"]
        field = ".".join(str(part) for part in loc)
        message = _explain(err, canonical)
        problems.append(f"field '{field}': {message}" if field else message)
        lines.append(_line_of(node, loc))
    return InputError(path, "; ".join(problems), line=next((x for x in lines if x), None))


def _explain(err: dict, canonical: Canonical) -> str:
    loc, kind = err["loc"], err["type"]
    if kind == "extra_forbidden" and len(loc) == 2 and loc[0] in ("columns", "codes"):
        names = ", ".join(name for name, _ in canonical)
        return f"'{loc[1]}' is not a canonical column (canonical columns: {names})"
    if kind == "extra_forbidden":
        return "unknown setting (see docs/REGISTER_LAYOUTS.md)"
    if kind == "missing" and len(loc) == 2 and loc[0] == "columns":
        return "required canonical column: name the vendor's column that holds it"
    return err["msg"].removeprefix("Value error, ")


def _line_of(node: yaml.Node | None, loc: tuple) -> int | None:
    """Line (1-based) of the deepest key of ``loc`` present in the YAML node tree."""
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
            line = node.start_mark.line + 1 if node else line
        else:
            break
    return line


def _recode(layout_path: Path, name: str, code: CodeMap) -> Recode:
    if code.values is not None:
        return Recode(code.values, code.keep_unmapped, f"codes.{name}.values of {layout_path.name}")
    file = code.file if code.file.is_absolute() else layout_path.parent / code.file
    if not file.is_file():
        raise InputError(layout_path, f"field 'codes.{name}.file': code file {file} not found")
    return Recode(_read_code_file(file), code.keep_unmapped, file.name)


def _read_code_file(path: Path) -> dict[str, str]:
    """``from,to`` pairs of a code file (UTF-8; further columns are comments)."""
    values: dict[str, str] = {}
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = csv.reader(handle)
            if [cell.strip() for cell in next(rows, [])[:2]] != ["from", "to"]:
                raise InputError(
                    path, "expected the header from,to (further columns are comments)", line=1
                )
            for number, row in enumerate(rows, start=2):
                cells = [cell.strip() for cell in row]
                if not any(cells):
                    continue
                if len(cells) < 2 or not cells[0]:
                    raise InputError(
                        path,
                        "expected a vendor code and its canonical code",
                        line=number,
                        column="from",
                    )
                if cells[0] in values:
                    raise InputError(
                        path, f"code '{cells[0]}' is listed twice", line=number, column="from"
                    )
                values[cells[0]] = cells[1]
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not valid utf-8 text ({exc.reason})") from exc
    return values


# --- reading an extract as written ---------------------------------------------------


def read_cells(con: duckdb.DuckDBPyConnection, path: Path, layout: Layout) -> str:
    """Load ``path`` into ``raw_cells`` (text cells, vendor column names) after checking
    its header; return the SQL expression, over ``raw_cells``, of each row's file line
    (CSV), sheet row (XLSX) or row number as a CSV's line (Parquet, Arrow). A Parquet or
    Arrow IPC (Feather v2) file is recognised by its magic bytes, whatever its name or
    the layout's format; its ``raw_cells`` is a view (:func:`drop_cells` removes
    either)."""
    magic = _magic(path)
    if magic is None:
        _check_not_damaged(path)
    if magic == PARQUET_MAGIC:
        return _read_parquet(con, path, layout)
    if magic == ARROW_MAGIC:
        return _read_arrow(con, path, layout)
    if layout.format == "xlsx":
        return _read_xlsx(con, path, layout)
    return _read_csv(con, path, layout)


def drop_cells(con: duckdb.DuckDBPyConnection) -> None:
    """Remove ``raw_cells``, a table or a view (and the Arrow table it may read)."""
    kinds = con.execute(
        "SELECT 'TABLE' FROM duckdb_tables() WHERE table_name = 'raw_cells' AND temporary "
        "UNION ALL SELECT 'VIEW' FROM duckdb_views() WHERE view_name = 'raw_cells' AND temporary"
    ).fetchall()
    for (kind,) in kinds:
        con.execute(f"DROP {kind} raw_cells")
    con.unregister(ARROW_VIEW)


def _magic(path: Path) -> bytes | None:
    """:data:`PARQUET_MAGIC` or :data:`ARROW_MAGIC` if the file starts and ends with it."""
    try:
        with path.open("rb") as handle:
            start = handle.read(8)
            for magic in (PARQUET_MAGIC, ARROW_MAGIC):
                if start.startswith(magic) and handle.seek(0, 2) >= 2 * len(magic):
                    handle.seek(-len(magic), 2)
                    if handle.read(len(magic)) == magic:
                        return magic
    except OSError:
        return None
    return None


def binary_kind(path: Path) -> str | None:
    """``"Parquet"`` or ``"Arrow IPC"`` if :func:`read_cells` reads ``path`` as such a
    file (by its magic bytes), else None."""
    return BINARY.get(_magic(path))


def _check_not_damaged(path: Path) -> None:
    """A file that starts as a Parquet or Arrow file but does not end as one (cut off
    while copied), or is named like one but does not start as one, is an error naming
    what was expected, not a CSV with unreadable lines."""
    try:
        with path.open("rb") as handle:
            start = handle.read(8)
    except OSError:
        return  # the reader names what it cannot read
    for magic, kind in BINARY.items():
        if start.startswith(magic):
            raise InputError(
                path,
                f"starts as a {kind} file ('{magic.decode()}') but does not end with "
                f"'{magic.decode()}': the file is truncated or damaged; expected a complete "
                f"{kind} file (copy or export it again)",
            )
    magic = BINARY_SUFFIXES.get(path.suffix.lower())
    if magic is not None:
        raise InputError(
            path,
            f"named like a {BINARY[magic]} file but it does not start with "
            f"'{magic.decode()}' (it starts with {start[:4]!r}); expected a {BINARY[magic]} "
            "file (or a CSV under a name that does not end in "
            f"'{path.suffix}')",
        )


def _read_arrow(con: duckdb.DuckDBPyConnection, path: Path, layout: Layout) -> str:
    """A view ``raw_cells`` over the Arrow IPC file (memory-mapped, not copied), as
    :func:`_read_parquet` makes one over a Parquet file."""
    try:
        table = pa.ipc.open_file(pa.memory_map(str(path))).read_all()
    except (pa.ArrowException, OSError) as exc:
        raise InputError(path, f"cannot be read as an Arrow file: {exc}") from exc
    check_header(path, table.column_names, layout, layout.header_row)
    first = layout.header_row + 1
    rows = pa.array(np.arange(first, first + table.num_rows, dtype=np.int64))
    con.register(ARROW_VIEW, table.append_column(ROW_COLUMN, rows))
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW raw_cells AS SELECT {quote_ident(ROW_COLUMN)}, "
        f"{_text_cells(table.column_names)} FROM {ARROW_VIEW}"
    )
    return quote_ident(ROW_COLUMN)


def _text_cells(names: list[str]) -> str:
    """Every column as text, an empty string as an empty cell (as in a CSV)."""
    return ", ".join(
        f"nullif(CAST({quote_ident(n)} AS VARCHAR), '') AS {quote_ident(n)}" for n in names
    )


def _read_parquet(con: duckdb.DuckDBPyConnection, path: Path, layout: Layout) -> str:
    """A view ``raw_cells`` over the Parquet file: every column as text (an empty string
    as an empty cell), the row number counted as a CSV's line below ``header_row``."""
    try:
        schema = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    except duckdb.Error as exc:
        raise InputError(
            path, f"cannot be read as a Parquet file: {_first_lines(str(exc))}"
        ) from exc
    header = [row[0] for row in schema]
    check_header(path, header, layout, layout.header_row)
    cells = _text_cells(header)
    literal = "'" + str(path).replace("'", "''") + "'"
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW raw_cells AS SELECT file_row_number + "
        f"{layout.header_row + 1} AS {quote_ident(ROW_COLUMN)}, {cells} "
        f"FROM read_parquet({literal}, file_row_number = true)"
    )
    return quote_ident(ROW_COLUMN)


def check_header(path: Path, header: list[str], layout: Layout, line: int) -> None:
    """Every mapped vendor column present, nothing unexpected, no name twice."""
    expected = list(dict.fromkeys(layout.column_map.values()))
    named_in = f" (layout {layout.file.name})" if layout.file else ""
    missing = [c for c in expected if c not in header]
    if missing:
        raise InputError(
            path,
            f"missing column(s) {', '.join(missing)}; expected columns: "
            f"{';'.join(expected)}{named_in}",
            line=line,
            column=missing[0],
        )
    unexpected = [c for c in header if c not in expected and c not in layout.ignore]
    if unexpected:
        names = ", ".join(
            name or f"(no name, column {header.index(name) + 1})" for name in unexpected
        )
        raise InputError(
            path,
            f"unexpected column(s) {names}; expected columns: "
            f"{';'.join(expected)}{named_in}; list further columns of the "
            "export under 'ignore' in a layout",
            line=line,
            column=unexpected[0],
        )
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise InputError(path, "column named twice in the header", line=line, column=duplicated[0])


def _read_csv(con: duckdb.DuckDBPyConnection, path: Path, layout: Layout) -> str:
    check_line_lengths(path)  # before DuckDB or the transcoder hold a giant line (#20)
    with _as_utf8(path, layout) as text_path:
        header = _csv_header(path, text_path, layout)
        check_header(path, header, layout, layout.header_row)
        _load_csv(con, path, text_path, header, layout)
    # rowid follows insertion order, which DuckDB keeps for a plain scan (tested)
    return f"rowid + {layout.header_row + 1}"


@contextmanager
def _as_utf8(path: Path, layout: Layout) -> Iterator[Path]:
    """``path`` itself if it is meant to be UTF-8 (DuckDB checks it while reading), else
    a temporary UTF-8 copy in the system temp directory, deleted afterwards."""
    if codecs.lookup(layout.encoding).name == "utf-8":
        yield path
        return
    with path.open("rb") as raw:
        if raw.read(len(UTF8_BOM)) == UTF8_BOM:
            raise InputError(
                path,
                f"the file starts with a UTF-8 byte-order mark, but the layout declares "
                f"{layout.encoding}; {_encoding_hint(layout)} (utf-8)",
                line=1,
            )
    handle, name = tempfile.mkstemp(prefix="imon-register-", suffix=".csv")
    try:
        with open(handle, "w", encoding="utf-8", newline="") as out:
            _transcode(path, layout, out)
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def _transcode(path: Path, layout: Layout, out: TextIO) -> None:
    """Decode ``path`` chunk by chunk into ``out``; line breaks are kept as they are."""
    decoder = codecs.getincrementaldecoder(layout.encoding)()
    done = 0
    with path.open("rb") as raw:
        while True:
            chunk = raw.read(CHUNK_BYTES)
            try:
                out.write(decoder.decode(chunk, final=not chunk))
            except UnicodeDecodeError as exc:
                raise _decode_error(path, layout, max(0, done - 8)) from exc
            if not chunk:
                return
            done += len(chunk)


def _decode_error(path: Path, layout: Layout, start: int) -> InputError:
    """The first line at or after byte ``start`` that is not valid in the layout's encoding."""
    position = 0
    with path.open("rb") as raw:
        for number, line in enumerate(raw, start=1):
            if position + len(line) > start:
                try:
                    line.decode(layout.encoding)
                except UnicodeDecodeError as exc:
                    return InputError(path, _decode_message(layout, line, exc), line=number)
            position += len(line)
    return InputError(path, f"not valid {layout.encoding} text after byte {start}")


def _decode_message(layout: Layout, line: bytes, exc: UnicodeDecodeError) -> str:
    return (
        f"not valid {layout.encoding} text: byte 0x{line[exc.start]:02x} at byte column "
        f"{exc.start + 1} ({exc.reason}); {_encoding_hint(layout)}"
    )


def _encoding_hint(layout: Layout) -> str:
    if layout.file is None:
        return "the default layout reads UTF-8; describe other encodings in a layout file"
    return f"declare the file's real encoding in {layout.file.name}"


def _csv_header(path: Path, text_path: Path, layout: Layout) -> list[str]:
    with text_path.open("rb") as raw:
        lines = [raw.readline() for _ in range(layout.header_row)]
    if not lines[-1].strip():
        what = "file is empty" if not any(lines) else f"line {layout.header_row} is empty"
        raise InputError(path, f"{what} (expected a header row)", line=layout.header_row)
    try:
        text = lines[-1].decode("utf-8")
    except UnicodeDecodeError as exc:  # only an original utf-8 file gets here undecoded
        raise InputError(
            path, _decode_message(layout, lines[-1], exc), line=layout.header_row
        ) from exc
    text = text.removeprefix("\ufeff")  # a UTF-8 byte-order mark; DuckDB skips it too
    return [
        name.strip() for name in next(csv.reader([text.rstrip("\r\n")], delimiter=layout.separator))
    ]


def _load_csv(
    con: duckdb.DuckDBPyConnection, path: Path, text_path: Path, header: list[str], layout: Layout
) -> None:
    """Every cell as text; rows DuckDB cannot split into the header's cells are errors."""
    con.execute("DROP TABLE IF EXISTS raw_rejects; DROP TABLE IF EXISTS raw_reject_scans")
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE raw_cells AS SELECT * FROM read_csv(?, header = true,"
            " skip = ?, delim = ?, quote = '\"', escape = '\"', auto_detect = false, "
            "columns = ?, strict_mode = true, null_padding = false, store_rejects = true, "
            "rejects_table = 'raw_rejects', rejects_scan = 'raw_reject_scans', "
            f"rejects_limit = {MAX_REJECTS})",
            [
                str(text_path),
                layout.header_row - 1,
                layout.separator,
                dict.fromkeys(header, "VARCHAR"),
            ],
        )
        rejects = con.execute(
            "SELECT line, column_name, error_type, error_message, byte_position - "
            "line_byte_position + 1 FROM raw_rejects QUALIFY row_number() OVER (PARTITION BY"
            " line ORDER BY column_idx) = 1 ORDER BY line LIMIT ?",
            [MAX_REPORTED],
        ).fetchall()
        kinds = dict(
            con.execute(
                "SELECT error_type, count(DISTINCT line) FROM raw_rejects GROUP BY ALL"
            ).fetchall()
        )
    except duckdb.Error as exc:
        raise InputError(
            path,
            f"cannot be read as a '{layout.separator}'-separated "
            f"{layout.encoding} table: {_first_lines(str(exc))}",
        ) from exc
    finally:
        con.execute("DROP TABLE IF EXISTS raw_rejects; DROP TABLE IF EXISTS raw_reject_scans")
    if rejects:
        raise _reject_error(path, layout, rejects, kinds)


def _reject_error(
    path: Path, layout: Layout, rejects: list[tuple], kinds: dict[str, int]
) -> InputError:
    """The first reject in full, the next lines named, the rest counted per kind (DuckDB's
    error type; DuckDB stores at most :data:`MAX_REJECTS`, so the count may say 'at
    least')."""
    line, column, kind, message, byte_column = rejects[0]
    if kind == "INVALID ENCODING":
        message = (
            f"not valid {layout.encoding} text in the cell starting at byte column "
            f"{byte_column}; {_encoding_hint(layout)}"
        )
    text = (
        f"cannot be read as a '{layout.separator}'-separated {layout.encoding} table: "
        f"{_first_lines(message)}"
    )
    others = [f"line {r[0]}" for r in rejects[1:MAX_REPORTED]]
    if others:
        text += f" (also: {'; '.join(others)})"
    total = sum(kinds.values())
    capped = total >= MAX_REJECTS
    text += and_more(len(rejects), total, {k.lower(): n for k, n in kinds.items()}, capped)
    return InputError(path, text, line=line, column=quoted(column) if column else column)


def _first_lines(message: str, n: int = 3) -> str:
    return " ".join(message.strip().splitlines()[:n])


def _read_xlsx(con: duckdb.DuckDBPyConnection, path: Path, layout: Layout) -> str:
    workbook = _open_workbook(path)
    try:
        sheet = _sheet(path, workbook, layout)
        _check_merged(path, sheet.title, layout.header_row)
        sheet.reset_dimensions()  # a stale <dimension> must not cut rows or columns
        rows = sheet.iter_rows(min_row=layout.header_row, values_only=True)
        header = _xlsx_header(path, sheet.title, next(rows, ()), layout.header_row)
        check_header(path, header, layout, layout.header_row)
        _load_rows(con, header, _data_rows(path, sheet.title, rows, layout, len(header)))
    finally:
        workbook.close()
    return quote_ident(ROW_COLUMN)


def _open_workbook(path: Path) -> Any:
    if path.is_file() and path.stat().st_size == 0:
        raise InputError(path, "file is empty (expected an XLSX workbook)")
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputError(path, f"cannot be read as an XLSX workbook: {exc}") from exc


def _sheet(path: Path, workbook: Any, layout: Layout) -> Any:
    sheets = workbook.worksheets
    titles = [s.title for s in sheets]
    if layout.sheet is not None and layout.sheet not in titles:
        raise InputError(path, f"no sheet named '{layout.sheet}' (sheets: {', '.join(titles)})")
    if layout.sheet is not None:
        return sheets[titles.index(layout.sheet)]
    number = layout.sheet_number or 1
    if number > len(sheets):
        raise InputError(path, f"no sheet number {number}; the workbook has {len(sheets)}")
    return sheets[number - 1]


def _check_merged(path: Path, title: str, header_row: int) -> None:
    """Merged cells in or below the header row are errors (title rows above may merge)."""
    hits = sorted(
        (range_boundaries(ref)[1], ref)
        for ref in _merged_ranges(path, title)
        if range_boundaries(ref)[3] >= header_row
    )
    if hits:
        row, ref = hits[0]
        if row <= header_row:
            raise InputError(
                path,
                f"sheet '{title}': merged header cells {ref}; expected one column name per cell",
                line=header_row,
            )
        raise InputError(
            path, f"sheet '{title}': merged cells {ref}; expected one value per cell", line=row
        )


def _merged_ranges(path: Path, title: str) -> set[str]:
    """Merged ranges of a sheet, scanned from its XML part: openpyxl's read-only mode does
    not report them, and a normal load would hold the whole sheet in memory."""
    with zipfile.ZipFile(path) as archive, archive.open(_sheet_part(archive, title)) as xml:
        return _scan_merge_refs(xml)


def _sheet_part(archive: zipfile.ZipFile, title: str) -> str:
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    rel_id = next(
        s.get(REL_ID) for s in workbook.iter(f"{SHEET_NS}sheet") if s.get("name") == title
    )
    target = next(r.get("Target") for r in rels if r.get("Id") == rel_id)
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")


def _scan_merge_refs(xml: IO[bytes]) -> set[str]:
    refs: set[str] = set()
    tail = b""
    while chunk := xml.read(CHUNK_BYTES):
        text = tail + chunk
        refs.update(ref.decode("ascii") for ref in MERGE_REF.findall(text))
        tail = text[-256:]  # a tag cut at the chunk border is found in the next round
    return refs


def _xlsx_header(path: Path, title: str, cells: tuple, header_row: int) -> list[str]:
    names = [_cell_text(value, ".") for value in cells]
    while names and names[-1] is None:
        names.pop()
    if not names:
        raise InputError(
            path, f"sheet '{title}' has no header in row {header_row}", line=header_row
        )
    if None in names:
        cell = f"{get_column_letter(names.index(None) + 1)}{header_row}"
        raise InputError(
            path,
            f"sheet '{title}': header cell {cell} is empty; expected one column name per cell",
            line=header_row,
        )
    return [name.strip() for name in names]


def _data_rows(
    path: Path, title: str, rows: Iterable[tuple], layout: Layout, width: int
) -> Iterator[list]:
    """[sheet row, cell texts…] of every row below the header that is not empty."""
    for number, cells in enumerate(rows, start=layout.header_row + 1):
        texts = [_cell_text(value, layout.decimal) for value in cells]
        if all(text is None for text in texts):
            continue
        extra = next((i for i in range(width, len(texts)) if texts[i] is not None), None)
        if extra is not None:
            raise InputError(
                path,
                f"sheet '{title}': cell {get_column_letter(extra + 1)}"
                f"{number} has a value but no column name in the header",
                line=number,
            )
        yield [number, *texts[:width], *[None] * (width - len(texts))]


def _cell_text(value: object, decimal: str) -> str | None:
    """A cell as the text a CSV export would hold (numbers without a locale)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value).replace(".", decimal)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _load_rows(con: duckdb.DuckDBPyConnection, header: list[str], rows: Iterator[list]) -> None:
    """Stream rows into ``raw_cells`` in Arrow batches."""
    names = [ROW_COLUMN, *header]
    columns = ", ".join(f"{quote_ident(n)} VARCHAR" for n in header)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE raw_cells ({quote_ident(ROW_COLUMN)} BIGINT, {columns})"
    )
    while batch := list(islice(rows, BATCH_ROWS)):
        cells = list(zip(*batch, strict=True))
        table = pa.table(
            [pa.array(cells[0], pa.int64()), *(pa.array(c, pa.string()) for c in cells[1:])],
            names=names,
        )
        con.register("raw_cells_batch", table)
        con.execute("INSERT INTO raw_cells SELECT * FROM raw_cells_batch")
        con.unregister("raw_cells_batch")
