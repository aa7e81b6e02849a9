"""Decoding raw text files and checking their text, with errors that point at the
offending line and column.

* :func:`decode_file` decodes strictly in the declared encoding; a UTF-8 byte-order mark
  is dropped (for UTF-8) or refused (for any other encoding: the mark says UTF-8).
* :func:`decode_detected` is for files whose encoding is not declared (GENESIS exports
  come as UTF-8 or ISO-8859-1): UTF-8 if the bytes are UTF-8, ISO-8859-1 only if the file
  is ISO-8859-1 throughout; a file with both (mixed encodings) or with bytes that are
  control codes in ISO-8859-1 is an error naming the first bad line, never decoded
  wholesale as ISO-8859-1.
* :func:`control_problem` and the ``check_*`` helpers: a C0 control character (NUL …
  U+001F) other than tab in a text field is an error naming file, line and column. Such a
  character is invisible in most viewers but splits or changes keys (a NUL inside a
  household id makes two households).
* :func:`check_line_lengths` and :func:`read_bounded`: no line of a text delivery is
  longer than :data:`MAX_LINE_BYTES` bytes. The file is scanned in chunks before anything
  (pandas, DuckDB, a decode) holds it whole, so a 50 MB line or a file without line
  breaks stops with file, line and the limit in bounded memory, also under a memory limit.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from etl.errors import InputError

UTF8_BOM = b"\xef\xbb\xbf"
LATIN1 = "iso-8859-1"
# C0 control characters except tab (U+0009); the same pattern for Python and DuckDB (RE2)
CONTROL_PATTERN = r"[\x00-\x08\x0a-\x1f]"
_CONTROL = re.compile(CONTROL_PATTERN)
# fmt: off
C0_NAMES = (
    "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL",
    "BS", "HT", "LF", "VT", "FF", "CR", "SO", "SI",
    "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB",
    "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US",
)
# fmt: on
# a multi-byte UTF-8 sequence: evidence that a file that is not all UTF-8 is mixed
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_C1 = re.compile(rb"[\x80-\x9f]")  # control codes in ISO-8859-1 (printable in cp1252)
MAX_LINE_BYTES = 1 << 20  # 1 MiB: the longest line a text delivery may have
SCAN_BYTES = 1 << 20  # bytes read at a time while checking line lengths
NEWLINE = 0x0A


def check_line_lengths(path: Path, limit: int | None = None) -> None:
    """Raise an :class:`InputError` naming the first line of ``path`` longer than
    ``limit`` bytes (default :data:`MAX_LINE_BYTES`; the line break not counted). Reads
    :data:`SCAN_BYTES` at a time and stops inside the long line: memory stays bounded."""
    limit = MAX_LINE_BYTES if limit is None else limit
    try:
        with Path(path).open("rb") as handle:
            _scan_lines(path, handle, limit)
    except OSError as exc:
        raise InputError(path, f"cannot be read: {exc.strerror}") from exc


def _scan_lines(path: Path, handle: BinaryIO, limit: int) -> None:
    line, open_length = 1, 0  # the current line and its bytes so far
    while chunk := handle.read(SCAN_BYTES):
        ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == NEWLINE)
        if ends.size:
            lengths = np.diff(ends, prepend=-1) - 1
            lengths[0] += open_length
            long = np.flatnonzero(lengths > limit)
            if long.size:
                raise _too_long(path, line + int(long[0]), limit)
            line += int(ends.size)
            open_length = len(chunk) - int(ends[-1]) - 1
        else:
            open_length += len(chunk)
        if open_length > limit:
            raise _too_long(path, line, limit)


def _too_long(path: Path, line: int, limit: int) -> InputError:
    return InputError(
        path,
        f"line is longer than {limit:_} bytes, the limit for one line; expected one "
        "record per line (a missing line break, or not a table?)".replace("_", "."),
        line=line,
    )


def read_bounded(path: Path, limit: int | None = None) -> bytes:
    """The bytes of ``path`` after :func:`check_line_lengths`."""
    check_line_lengths(path, limit)
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot be read: {exc.strerror}") from exc


def decode_file(path: Path, encoding: str, bounded: bool = False) -> str:
    """The text of ``path``; bytes that are not valid ``encoding`` raise an
    :class:`InputError` naming the line and byte column of the first bad byte. With
    ``bounded``, lines are first checked against :data:`MAX_LINE_BYTES` (every table;
    not GeoJSON, which may be one line)."""
    data = read_bounded(path) if bounded else path.read_bytes()
    return decode_bytes(path, data, encoding)


def decode_bytes(path: Path, data: bytes, encoding: str) -> str:
    """``data`` (the bytes of ``path``) decoded strictly as ``encoding`` (see module doc)."""
    data = check_declared(path, data, encoding)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line, column = line_and_column(data, exc.start)
        raise InputError(
            path,
            f"byte 0x{data[exc.start]:02x} at byte column {column} is not "
            f"valid {encoding}; expected a file encoded as {encoding} (declare "
            "the file's real encoding in the profile)",
            line=line,
        ) from exc


def check_declared(path: Path, data: bytes, encoding: str) -> bytes:
    """``data`` without a UTF-8 byte-order mark, checked against the declared
    ``encoding``: known, no byte-order mark unless UTF-8, and for ISO-8859-1 no byte that
    is a control code there (0x80–0x9f: Windows-1252 text declared as ISO-8859-1)."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError as exc:
        raise InputError(path, f"unknown encoding '{encoding}' in the profile") from exc
    if data.startswith(UTF8_BOM) and name not in ("utf-8", "utf-8-sig"):
        raise InputError(
            path,
            f"the file starts with a UTF-8 byte-order mark, but the profile declares "
            f"{encoding}; expected a file encoded as {encoding} (or declare utf-8)",
            line=1,
        )
    if name == codecs.lookup(LATIN1).name:
        _check_latin1(path, data, f"declared {encoding}")
    return data.removeprefix(UTF8_BOM)


def decode_detected(path: Path, data: bytes) -> tuple[str, str]:
    """(text, encoding) of a file whose encoding is not declared: UTF-8 (a BOM dropped),
    else ISO-8859-1 if no line is UTF-8 and no byte is an ISO-8859-1 control code;
    otherwise an :class:`InputError` naming the first bad line."""
    try:
        return data.removeprefix(UTF8_BOM).decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        line, column = line_and_column(data, exc.start)
        utf8 = _UTF8_SEQUENCE.search(data)
        if data.startswith(UTF8_BOM) or utf8 is not None:
            where = (
                "a UTF-8 byte-order mark"
                if utf8 is None
                else (f"UTF-8 text in line {line_and_column(data, utf8.start())[0]}")
            )
            raise InputError(
                path,
                f"byte 0x{data[exc.start]:02x} at byte column {column} is not valid UTF-8, "
                f"but the file has {where}: mixed encodings; expected the whole file in "
                "one encoding (save it again as UTF-8)",
                line=line,
            ) from exc
    _check_latin1(path, data, "not UTF-8, so read as ISO-8859-1")
    return data.decode(LATIN1), LATIN1


def _check_latin1(path: Path, data: bytes, why: str) -> None:
    bad = _C1.search(data)
    if bad is not None:
        line, column = line_and_column(data, bad.start())
        raise InputError(
            path,
            f"byte 0x{data[bad.start()]:02x} at byte column {column} is a control code in "
            f"ISO-8859-1 (the file is {why}); expected text (is it Windows-1252? declare "
            "encoding: cp1252 in the profile)",
            line=line,
        )


def line_and_column(data: bytes, position: int) -> tuple[int, int]:
    """1-based line and byte column of byte ``position`` of ``data``."""
    return data.count(b"\n", 0, position) + 1, position - (data.rfind(b"\n", 0, position) + 1) + 1


# --- control characters ---------------------------------------------------------------------


def control_problem(text: str) -> str | None:
    """What is wrong if ``text`` holds a control character other than tab, else None."""
    found = _CONTROL.search(text)
    if found is None:
        return None
    code = ord(found.group())
    if code in (0x0A, 0x0D):  # only a quoted field holds a line break
        return (
            f"control character {C0_NAMES[code]} (U+{code:04X}) at character "
            f'{found.start() + 1} of the field, a line break: a quote (") opened in the '
            "field and not closed?; expected text without control characters (tab is the "
            "only one allowed)"
        )
    return (
        f"control character {C0_NAMES[code]} (U+{code:04X}) at character {found.start() + 1}"
        " of the field; expected text without control characters (tab is the only one allowed)"
    )


def check_text(path: Path, text: str, line: int | None = None, column: str | None = None) -> None:
    """Raise an :class:`InputError` if ``text`` holds a control character (see module doc)."""
    problem = control_problem(text)
    if problem is not None:
        raise InputError(path, problem, line=line, column=column)


def check_rows(
    path: Path, rows: Sequence[Sequence[str]], lines: Sequence[int], header: Sequence[str]
) -> None:
    """Every cell of ``rows`` (row ``i`` on file line ``lines[i]``), columns named by
    ``header`` (by number where the header has no name)."""
    for row, line in zip(rows, lines, strict=True):
        if _CONTROL.search("\t".join(row)) is None:  # tab is allowed, so it joins safely
            continue
        for number, cell in enumerate(row):
            name = header[number] if number < len(header) and header[number] else str(number + 1)
            check_text(path, cell, line=line, column=name)


def check_frame(path: Path, frame: pd.DataFrame, columns: Sequence[str], lines: pd.Series) -> None:
    """Every cell of the text ``columns`` of ``frame``; its file lines in ``lines``; the
    first bad cell in file order is reported."""
    bad = pd.DataFrame(
        {c: frame[c].astype(str).str.contains(CONTROL_PATTERN, regex=True) for c in columns}
    )
    hits = bad.to_numpy().nonzero()
    if not len(hits[0]):
        return
    row, col = min(zip(*hits, strict=True), key=lambda rc: (int(lines.iat[rc[0]]), rc[1]))
    column = columns[col]
    check_text(path, str(frame[column].iat[row]), line=int(lines.iat[row]), column=column)
