"""Error types the command line turns into clear messages and a non-zero exit.

Messages are bounded (#20): a value quoted from a file is cut to :data:`MAX_QUOTED`
characters (:func:`quoted`), a list of problems names the first :data:`MAX_PROBLEMS` and
then counts the rest per kind (:func:`and_more`), and no :class:`InputError` message is
longer than :data:`MAX_MESSAGE_CHARS` characters, whatever a hostile file holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

MAX_PROBLEMS = 5  # problems named one by one in a message; the rest are counted per kind
MAX_QUOTED = 80  # characters of a cell's text quoted in a message
MAX_MESSAGE_CHARS = 2000  # characters of one error message at most
CUT_RESERVE = 40  # characters kept free at the end of a cut message for CUT_MARK

# The parts of a bounded message. Engine messages (profile, intake, checks) are English,
# one language by design: they quote the delivered file's German column names and
# values, and the CLI frames them in German ("Fehler: …"); the dashboard and the reports
# are the parts offered in German and English.
QUOTE_CUT = "{shown}… ({length} characters)"  # a quoted cell longer than MAX_QUOTED
CUT_MARK = " … (message cut, {length} characters)"  # a message longer than the maximum
KIND_COUNT = "{count} × {kind}"  # one kind of problem and how often it occurs
MORE_KINDS = "; {count} more kinds"  # kinds beyond MAX_PROBLEMS
AND_MORE = " … and {more} more ({total} in all: {counts})"  # the problems not named
AND_AT_LEAST = " … and at least {more} more (the first {total}: {counts})"  # capped record


class ImonError(Exception):
    """Base class: a problem a person can fix; printed without a traceback."""


class ConfigError(ImonError):
    """A profile or indicators.yaml is invalid."""


class InputError(ImonError):
    """A raw input file is malformed.

    The message always names the file and, where known, the line and column; it is cut
    to :data:`MAX_MESSAGE_CHARS` characters.
    """

    def __init__(
        self, file: Path | str, message: str, line: int | None = None, column: str | None = None
    ) -> None:
        self.file, self.line, self.column = str(file), line, column
        super().__init__(clipped(f"{located(self.file, line, column)}: {message}"))


def located(file: str, line: int | None, column: str | None) -> str:
    """'file, line N, column 'C'' — or, for a value of a JSON document (its column is a
    JSON path such as ``$["2023"]["Einwohner"]["0101"]``, etl/sources/json_table.py),
    'file, at $[…]': a JSON value has a path, not a line."""
    if column is not None and column.startswith(JSON_ROOT):
        return f"{file}, at {quoted(column, MAX_QUOTED * 2)}"
    where = file
    if line is not None:
        where += f", line {line}"
    if column is not None:
        where += f", column '{quoted(column)}'"
    return where


JSON_ROOT = "$"  # a column starting with it is the JSON path of a value


class CheckError(ImonError):
    """The built warehouse violates a contract (keys, sums, ranges); nothing is published."""


class Finding(str):
    """A build warning that is a check's finding tolerated with ``warn`` in the profile
    (consistency across tables and time, disagreeing totals); unlike other warnings
    (coverage notes), publishing it needs ``--accept-warnings``."""

    __slots__ = ()


def quoted(text: object, limit: int = MAX_QUOTED) -> str:
    """``text`` for a message: at most ``limit`` characters, the cut said."""
    text = str(text)
    if len(text) <= limit:
        return text
    return QUOTE_CUT.format(shown=text[:limit], length=_de(len(text)))


def clipped(message: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``message`` cut to ``limit`` characters, the cut said."""
    if len(message) <= limit:
        return message
    return message[: limit - CUT_RESERVE] + CUT_MARK.format(length=_de(len(message)))


def and_more(shown: int, total: int, kinds: Mapping[str, int], capped: bool = False) -> str:
    """The tail of a message that named ``shown`` of ``total`` problems: '… and K more'
    with the count of every kind (all problems, largest first), '' if all were named.
    ``capped``: only the first ``total`` problems were recorded, there may be more."""
    if total <= shown:
        return ""
    counts = "; ".join(
        KIND_COUNT.format(count=_de(n), kind=quoted(kind))
        for kind, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_PROBLEMS]
    )
    rest = len(kinds) - MAX_PROBLEMS
    if rest > 0:
        counts += MORE_KINDS.format(count=rest)
    template = AND_AT_LEAST if capped else AND_MORE
    return template.format(more=_de(total - shown), total=_de(total), counts=counts)


def _de(number: int) -> str:
    return f"{number:,}".replace(",", ".")
