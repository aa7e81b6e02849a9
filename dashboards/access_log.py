"""The access log: who did what, when, on which instance and from where.

One JSON object per line, appended to ``access.jsonl`` next to the instance's users file
(default ``<curated_dir>/access.jsonl``: outside every snapshot, so neither a publish nor
a rollback nor pruning touches it), mode 0600. Nothing is ever rewritten or removed here;
rotate it with the system's tools (``logrotate`` with ``copytruncate``).

Recorded: logins (``login``; ``login_failed`` with the name that was tried; ``login_locked``
while an address is locked out), ``logout``, ``publish`` and ``rollback``, from the browser
(the logged-in user, the client address as the server sees it, ``via: web``) and from the
command line (the OS user, ``via: cli``, no address). A line::

    {"at": "2026-12-07T16:30:00+00:00", "action": "publish", "user": "anna",
     "role": "office", "instance": "berlin", "address": "192.0.2.7", "via": "web",
     "snapshot": "20261207T…", "before": "20261130T…"}

Each record is one ``write`` on a file opened with ``O_APPEND`` under an exclusive
``flock``, so the lines of several workers and of the CLI never interleave.
"""

from __future__ import annotations

import fcntl
import getpass
import json
import os
from datetime import UTC, datetime
from pathlib import Path

LOG_FILE = "access.jsonl"
ACTIONS = (
    "login", "login_failed", "login_locked", "logout", "publish", "rollback", "export_internal",
)  # fmt: skip


def log_path(users_file: Path) -> Path:
    """The access log of the instance whose users are in ``users_file``."""
    return Path(users_file).parent / LOG_FILE


def record(
    users_file: Path,
    action: str,
    *,
    user: str | None,
    instance: str,
    role: str | None = None,
    address: str | None = None,
    via: str = "web",
    **details: str | None,
) -> dict:
    """Append one line (see module doc) and return it."""
    if action not in ACTIONS:
        raise ValueError(f"unknown access-log action {action!r} (known: {', '.join(ACTIONS)})")
    line = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "action": action,
        "user": user,
        "role": role,
        "instance": instance,
        "address": address,
        "via": via,
        **details,
    }
    append_line(log_path(users_file), line)
    return line


COLUMNS = ("at", "action", "user", "role", "address", "via")  # then the details


def details(entry: dict) -> str:
    """What else a line records (snapshot, file, …) as ``key=value`` pairs."""
    return ", ".join(f"{k}={v}" for k, v in entry.items() if k not in COLUMNS and k != "instance")


def latest(users_file: Path, n: int) -> list[dict]:
    """The ``n`` newest records, newest first."""
    return read(users_file)[::-1][:n]


def os_user() -> str:
    """The account running the command line (``imon publish``, ``imon rollback``)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (e.g. a container)
        return f"uid {os.getuid()}"


def read(users_file: Path) -> list[dict]:
    """Every record, oldest first (a line cut short by a crash is skipped)."""
    return read_lines(log_path(users_file))


def append_line(path: Path, entry: dict) -> None:
    """Append ``entry`` as one JSON line to ``path`` (mode 0600, locked, synced); the
    append-only files beside the users file (this log, dashboards/notes.py) use it."""
    _append(path, json.dumps(entry, ensure_ascii=False) + "\n")


def read_lines(path: Path) -> list[dict]:
    """The JSON lines of ``path``, oldest first (a line cut short by a crash is skipped)."""
    if not path.is_file():
        return []
    lines = []
    for text in path.read_text(encoding="utf-8").splitlines():
        try:
            lines.append(json.loads(text))
        except json.JSONDecodeError:
            continue
    return lines


def _append(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)  # also a file made by hand or with a wider umask
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":  # a line cut short by a crash
            text = "\n" + text
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
