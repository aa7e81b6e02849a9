"""The users of an instance: one JSON file per instance, written by ``imon users``.

The file (``access.users_file`` of the profile, default ``<curated_dir>/users.json``) holds
``{"users": {name: {"role": ..., "hash": ...}}}`` with argon2id hashes
(argon2-cffi's ``PasswordHasher``), never a password. It is written atomically (a
temporary file in the same folder, then ``os.replace``) with mode 0600, so a reader sees
the old or the new file, never half of one, and only the owner of the server reads it.

The server reads the file again when it changes (:func:`load`, keyed by its mtime and
size), so ``imon users`` takes effect without a restart: a removed user or a changed
password ends that user's sessions (:func:`fingerprint`).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from etl.errors import ImonError
from etl.profile import Profile

ROLES = ("commission", "office")  # Kommission, Statistikstelle
USERS_FILE = "users.json"
NAME_PATTERN = "letters, digits, '.', '_', '-' and '@', 1 to 64 characters"
_HASHER = PasswordHasher()  # argon2id with the library's recommended parameters
_CACHE: dict[Path, tuple[tuple[int, int, int], dict[str, User]]] = {}


class UsersError(ImonError):
    """A users file that cannot be read, or a change that cannot be made."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    hash: str


def users_path(profile: Profile) -> Path:
    """The instance's users file: ``access.users_file`` (relative to the profile's folder)
    or ``<curated_dir>/users.json``."""
    given = profile.access.users_file
    if given is None:
        return profile.curated_dir / USERS_FILE
    base = profile.path.parent if profile.path else Path.cwd()
    return (base / given).resolve()


def load(path: Path) -> dict[str, User]:
    """The users in ``path`` (none if the file does not exist yet)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)  # every write is a new inode
    cached = _CACHE.get(path)
    if cached and cached[0] == key:
        return cached[1]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        users = {
            name: User(name, entry["role"], entry["hash"]) for name, entry in data["users"].items()
        }
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UsersError(f"{path}: not a users file of imon users ({exc})") from exc
    _CACHE[path] = (key, users)
    return users


def add(path: Path, name: str, role: str, password: str) -> None:
    """Add user ``name`` with ``role``; an existing name or unknown role is an error."""
    check_name(name)
    if role not in ROLES:
        raise UsersError(f"unknown role '{role}' (known: {', '.join(ROLES)})")
    hashed = _hash(password)
    with _locked(path):
        users = load(path)
        if name in users:
            raise UsersError(f"{path}: user '{name}' exists already (imon users passwd {name})")
        _save(path, {**users, name: User(name, role, hashed)})


def remove(path: Path, name: str) -> None:
    with _locked(path):
        users = _existing(path, name)
        del users[name]
        _save(path, users)


def set_password(path: Path, name: str, password: str) -> None:
    hashed = _hash(password)
    with _locked(path):
        users = _existing(path, name)
        users[name] = User(name, users[name].role, hashed)
        _save(path, users)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One change at a time (two ``imon users`` at once would lose one's change)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.with_name(path.name + ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def verify(path: Path, name: str, password: str) -> User | None:
    """The user if ``password`` is theirs, else None. An unknown name costs a hash check
    too, so the answer's timing does not tell which names exist."""
    user = load(path).get(name)
    try:
        _HASHER.verify(user.hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def fingerprint(user: User) -> str:
    """A short digest of the user's role and hash: kept in the session, it changes (and
    ends the session) when the password or role changes."""
    return hashlib.sha256(f"{user.role}\n{user.hash}".encode()).hexdigest()[:16]


def check_name(name: str) -> None:
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@")
    if not 1 <= len(name) <= 64 or not set(name) <= allowed:
        raise UsersError(f"user name '{name}': use {NAME_PATTERN}")


def check_password(password: str) -> None:
    if len(password) < 10:
        raise UsersError("the password needs at least 10 characters")


def _hash(password: str) -> str:
    check_password(password)
    return _HASHER.hash(password)


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(_HASHER.hash(os.urandom(16).hex()))
    return _DUMMY[0]


def _existing(path: Path, name: str) -> dict[str, User]:
    users = dict(load(path))
    if name not in users:
        raise UsersError(f"{path}: no user '{name}' (imon users list)")
    return users


def _save(path: Path, users: dict[str, User]) -> None:
    """Write atomically with mode 0600 (see module doc)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"users": {u.name: {"role": u.role, "hash": u.hash} for u in users.values()}}
    fd, tmp = tempfile.mkstemp(prefix=".users-", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2, sort_keys=True)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
