"""Error types the command line turns into clear messages and a non-zero exit."""

from __future__ import annotations

from pathlib import Path


class ImonError(Exception):
    """Base class: a problem a person can fix; printed without a traceback."""


class ConfigError(ImonError):
    """A profile or indicators.yaml is invalid."""


class InputError(ImonError):
    """A raw input file is malformed.

    The message always names the file and, where known, the line and column.
    """

    def __init__(
        self, file: Path | str, message: str, line: int | None = None, column: str | None = None
    ) -> None:
        self.file, self.line, self.column = str(file), line, column
        where = self.file
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {message}")


class CheckError(ImonError):
    """The built warehouse violates a contract (keys, sums, ranges); nothing is published."""
