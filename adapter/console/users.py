"""The console's users: ``NAME ROLE HASH`` lines in a file, passwords hashed with Argon2id.

A viewer reads; an operator reads and acts. The file is read again whenever it changes, so
removing a user or changing a role takes effect at that user's next request.
"""

from __future__ import annotations

import enum
import functools
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from adapter.errors import ConfigError
from adapter.filemodes import check_file_modes

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_HASHER = PasswordHasher()


@functools.cache
def _dummy() -> str:
    """Verified for an unknown name, so a log-in takes as long whether the name exists or
    not (made on first use: hashing costs tens of milliseconds, every CLI start would pay)."""
    return _HASHER.hash("not a password of anyone")


class Role(enum.StrEnum):
    """What a console user may do."""

    VIEWER = "viewer"
    OPERATOR = "operator"


@dataclass(frozen=True)
class User:
    """One console user as the users file names them."""

    name: str
    role: Role
    password_hash: str

    @property
    def may_act(self) -> bool:
        """Operators replay, discard and unmask; viewers only read."""
        return self.role is Role.OPERATOR


def check_name(name: str) -> str:
    """``name`` if it is a user name the file can hold (letters, digits, ``._@-``)."""
    if not _NAME.match(name):
        raise ConfigError(f"user name {name!r}: 1-64 letters, digits, '.', '_', '@' or '-'")
    return name


def read_users(path: Path) -> dict[str, User]:
    """The users of the file at ``path`` (``ConfigError`` for a bad line or loose modes)."""
    check_file_modes([path], "the console's password hashes")
    users: dict[str, User] = {}
    try:
        text = path.read_text()
    except FileNotFoundError:
        return users
    except OSError as exc:
        raise ConfigError(f"cannot read console users file {path}: {exc.strerror}") from exc
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 3 or parts[1] not in {r.value for r in Role} or not _NAME.match(parts[0]):
            raise ConfigError(f"{path}, line {number}: expected NAME viewer|operator HASH")
        users[parts[0]] = User(parts[0], Role(parts[1]), parts[2])
    return users


def write_user(path: Path, name: str, role: Role, password: str) -> bool:
    """Add ``name`` (or replace their role and password); True if they were new.

    The file is replaced atomically and created with mode 600.
    """
    check_name(name)
    if len(password) < 12:
        raise ConfigError("a console password needs at least 12 characters")
    users = read_users(path)
    new = name not in users
    users[name] = User(name, role, _HASHER.hash(password))
    _write(path, users)
    return new


def remove_user(path: Path, name: str) -> bool:
    """Remove ``name``; False if the file has no such user."""
    users = read_users(path)
    if users.pop(name, None) is None:
        return False
    _write(path, users)
    return True


def _write(path: Path, users: dict[str, User]) -> None:
    lines = ["# vsb-adapter console users: NAME ROLE ARGON2-HASH (vsb-adapter console-user)"]
    lines += [f"{u.name} {u.role.value} {u.password_hash}" for u in users.values()]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as fh:  # mkstemp creates it 600
            fh.write("\n".join(lines) + "\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class Users:
    """The users file, re-read when it changes; checks passwords."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._seen: tuple[int, int] | None = None
        self._users: dict[str, User] = {}

    def get(self, name: str) -> User | None:
        """The user called ``name`` as the file says now, or None."""
        self._refresh()
        return self._users.get(name)

    def authenticate(self, name: str, password: str) -> User | None:
        """The user if ``password`` is theirs, else None (same work for an unknown name)."""
        user = self.get(name)
        try:
            _HASHER.verify(user.password_hash if user else _dummy(), password)
        except (VerificationError, InvalidHashError):
            return None
        return user

    def _refresh(self) -> None:
        try:
            info = self._path.stat()
            seen = (info.st_mtime_ns, info.st_ino)
        except FileNotFoundError:
            seen = (0, 0)
        if seen != self._seen:
            self._users = read_users(self._path)
            self._seen = seen
