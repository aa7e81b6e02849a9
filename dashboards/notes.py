"""Internal notes on indicators: what the commission and the office tell each other about a
number ("Sprung 2018: neue Zuordnung der Herkunftsländer", "mit AG Bildung besprechen").

Kept beside the instance's users file in ``notes.jsonl`` (outside every snapshot, mode
0600, only appended to, like the access log: :mod:`dashboards.access_log`), so a rebuild,
publish or rollback keeps them. One JSON line per note: ``at`` (UTC), ``instance``,
``indicator_id``, ``user``, ``role``, ``text``. Read and written only through the internal
page, whose callbacks require a login (:func:`dashboards.access.require`); never part of a
publication or an export.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from dashboards.access_log import append_line, read_lines

NOTES_FILE = "notes.jsonl"
MAX_LENGTH = 2000  # characters of one note
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # C0 except tab and line breaks


def notes_path(users_file: Path) -> Path:
    return Path(users_file).parent / NOTES_FILE


def add(
    users_file: Path, instance: str, indicator_id: str, user: str, role: str, text: str
) -> dict:
    """Append a note and return it; ``ValueError`` for an empty or too long text."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n")).strip()
    if not text:
        raise ValueError("empty note")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"a note has at most {MAX_LENGTH} characters, this one {len(text)}")
    note = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "instance": instance,
        "indicator_id": indicator_id,
        "user": user,
        "role": role,
        "text": text,
    }
    append_line(notes_path(users_file), note)
    return note


def of_indicator(users_file: Path, instance: str, indicator_id: str) -> list[dict]:
    """The notes on one indicator of the instance, newest first."""
    found = [
        n
        for n in read_lines(notes_path(users_file))
        if n.get("instance") == instance and n.get("indicator_id") == indicator_id
    ]
    return found[::-1]
