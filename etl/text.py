"""Decoding raw text files with errors that point at the offending line and column."""

from __future__ import annotations

from pathlib import Path

from etl.errors import InputError


def decode_file(path: Path, encoding: str) -> str:
    """The text of ``path``; bytes that are not valid ``encoding`` raise an
    :class:`InputError` naming the line and byte column of the first bad byte."""
    data = path.read_bytes()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(
            path,
            f"byte 0x{data[exc.start]:02x} at byte column {column} is not "
            f"valid {encoding}; expected a file encoded as {encoding} (declare "
            "the file's real encoding in the profile)",
            line=line,
        ) from exc
    except LookupError as exc:
        raise InputError(path, f"unknown encoding '{encoding}' in the profile") from exc
