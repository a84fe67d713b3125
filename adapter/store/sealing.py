"""Personal data at rest: the store's payloads and answer bodies sealed with AES-256-GCM.

A sealed value is text, so it fits the existing ``Text`` columns on both backends::

    vsb1:<key id>:<base64url(nonce | ciphertext and tag)>

* a random 96-bit nonce per value (``os.urandom``), so one key may seal about 2**32 values
  before the chance of a repeated nonce matters: rotate well before (docs/sysadmin.md);
* the row's identity (``events.payload`` and the event id, ``answers.body`` and the answer
  id) as associated data: a sealed value copied into another row does not open;
* the key id in clear, so a value names the key it needs and rotation can keep old keys.

Text without the ``vsb1:`` prefix is a row written before sealing existed and is read as
it is; ``vsb-adapter store-rekey`` seals such rows and moves old keys' rows to the current
key.

The keys live in a keyring file (``store.key_file``), one ``<key id> <base64 of 32 bytes>``
per line; the first key seals new values, every key opens. Its permissions are judged like
the keystore's (``adapter.keyfiles``).

The same file may hold one ``@index <base64 of 32 bytes>`` line: the secret of the blind
index (``BlindIndex``), which finds a person's row by a keyed hash of the INSZ without
the INSZ being stored. It is apart from the sealing keys on purpose: a rotation adds and
removes sealing keys, and an index key that changed would lose every row it found (a keyed
hash cannot be recomputed without the value it hides).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from adapter.errors import ConfigError, SealError
from adapter.filemodes import check_file_modes

PREFIX = "vsb1:"
"""Marks a sealed value (format version 1)."""
_NONCE_BYTES = 12
_KEY_BYTES = 32
_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,40}")
INDEX_MARK = "@index"
"""First field of the index key's line ('@' is no key id's, so no sealing key is taken for it)."""
_RELOAD_PAUSE = 5.0
"""Least seconds between two reloads of the keyring file on an unknown key id."""


@dataclass(frozen=True)
class StoreKey:
    """One AES-256 key of the keyring and its id."""

    key_id: str
    secret: bytes

    def __repr__(self) -> str:  # never the secret, whatever prints it
        return f"StoreKey({self.key_id!r})"


@dataclass(frozen=True)
class Keyring:
    """The store keys: the first seals, every one opens."""

    keys: tuple[StoreKey, ...]
    source: str = ""
    """Where the keys were read from (a path), for messages."""
    index_secret: bytes | None = field(default=None, repr=False)
    """The ``@index`` line's secret, which the blind index derives its key from (or None)."""

    def __post_init__(self) -> None:
        if not self.keys:
            raise ConfigError(f"store keyring {self.source or '(empty)'} holds no key")

    @property
    def current(self) -> StoreKey:
        """The key new values are sealed under."""
        return self.keys[0]

    def get(self, key_id: str) -> StoreKey | None:
        """The key of ``key_id``, if the keyring holds it."""
        return next((key for key in self.keys if key.key_id == key_id), None)


def new_key_id(now: datetime | None = None) -> str:
    """A fresh key id: the UTC date and six random hex digits (``20261202-3f9a1c``)."""
    day = (now or datetime.now(UTC)).strftime("%Y%m%d")
    return f"{day}-{secrets.token_hex(3)}"


def parse_keyring(text: str, source: str) -> Keyring:
    """The keyring in ``text``; ``ConfigError`` naming the line for anything malformed.

    Lines: ``<key id> <base64 of 32 bytes>``; blank lines and ``#`` comments are ignored.
    The error never quotes a line: it may hold a key.
    """
    keys: list[StoreKey] = []
    index_secret: bytes | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"store keyring {source}, line {number}"
        parts = line.split()
        if len(parts) != 2:
            raise ConfigError(f"{where}: expected '<key id> <base64 key>'")
        key_id, encoded = parts
        if key_id == INDEX_MARK:
            if index_secret is not None:
                raise ConfigError(f"{where}: a second {INDEX_MARK} line")
            index_secret = _secret(encoded, where, "the index key", "HMAC-SHA256 takes 32")
            continue
        if not _KEY_ID.fullmatch(key_id):
            raise ConfigError(f"{where}: a key id is 1-40 letters, digits, '.', '_' or '-'")
        secret = _secret(encoded, where, f"the key of {key_id}", "AES-256 needs 32")
        if any(key.key_id == key_id for key in keys):
            raise ConfigError(f"{where}: key id {key_id} appears twice")
        keys.append(StoreKey(key_id, secret))
    return Keyring(tuple(keys), source, index_secret)


def _secret(encoded: str, where: str, what: str, need: str) -> bytes:
    try:
        secret = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(f"{where}: {what} is not base64") from exc
    if len(secret) != _KEY_BYTES:
        raise ConfigError(f"{where}: {what} is {len(secret)} bytes; {need}")
    return secret


def check_keyring_file(path: Path) -> list[str]:
    """Warnings for a group-readable keyring; ``ConfigError`` for a looser or missing one."""
    if not path.exists():
        raise ConfigError(
            f"store.key_file {path} does not exist: the store's personal data is encrypted"
            " under its keys; create one with `vsb-adapter store-key create`"
            " (docs/sysadmin.md, Encryption at rest)"
        )
    return check_file_modes([path], "the store's keys")


def load_keyring(path: str | Path) -> tuple[Keyring, list[str]]:
    """Check the keyring file's permissions, then read it; returns the warnings too."""
    path = Path(path)
    warnings = check_keyring_file(path)
    try:
        text = path.read_text(encoding="ascii")
    except OSError as exc:
        raise ConfigError(f"cannot read store.key_file {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"store keyring {path} is not ASCII text") from exc
    return parse_keyring(text, str(path)), warnings


def add_key(path: str | Path, now: datetime | None = None) -> StoreKey:
    """Create a new key and write it first in the keyring at ``path`` (created 0600).

    The old keys stay below it (still opening their rows), and so does the index key
    (``add_index_key`` adds one). Written aside and renamed into place, so a reader never
    sees half a file.
    """
    path = Path(path)
    lines: list[str] = []
    index_secret: bytes | None = None
    if path.exists():
        keyring, _ = load_keyring(path)
        lines = [f"{key.key_id} {_b64(key.secret)}" for key in keyring.keys]
        index_secret = keyring.index_secret
    key = StoreKey(new_key_id(now), AESGCM.generate_key(bit_length=256))
    index_lines = [] if index_secret is None else [f"{INDEX_MARK} {_b64(index_secret)}"]
    write_keyring(path, [f"{key.key_id} {_b64(key.secret)}", *lines, *index_lines])
    return key


def add_index_key(path: str | Path) -> bool:
    """Give the keyring at ``path`` its ``@index`` key if it has none; True if one was added.

    An existing index key is never replaced: the rows it indexes would be lost.
    """
    path = Path(path)
    keyring, _ = load_keyring(path)
    if keyring.index_secret is not None:
        return False
    lines = [f"{key.key_id} {_b64(key.secret)}" for key in keyring.keys]
    write_keyring(path, [*lines, f"{INDEX_MARK} {_b64(os.urandom(_KEY_BYTES))}"])
    return True


def remove_key(path: str | Path, key_id: str) -> None:
    """Drop ``key_id`` from the keyring file; the current key cannot be removed."""
    path = Path(path)
    keyring, _ = load_keyring(path)
    if keyring.get(key_id) is None:
        raise ConfigError(f"store keyring {path} holds no key {key_id}")
    if keyring.current.key_id == key_id:
        raise ConfigError(f"key {key_id} is the current key; create a new one first")
    lines = [f"{k.key_id} {_b64(k.secret)}" for k in keyring.keys if k.key_id != key_id]
    if keyring.index_secret is not None:
        lines.append(f"{INDEX_MARK} {_b64(keyring.index_secret)}")
    write_keyring(path, lines)


def write_keyring(path: Path, lines: Sequence[str]) -> None:
    """Write keyring lines to ``path`` with mode 0600 (aside, then renamed into place)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.{os.getpid()}.new")
    descriptor = os.open(aside, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(
            "# vsb-adapter store keys: <key id> <base64 key>; the first seals new values\n"
        )
        if any(line.startswith(f"{INDEX_MARK} ") for line in lines):
            handle.write(f"# {INDEX_MARK} <base64 key>: the blind index; never change it\n")
        handle.write("".join(f"{line}\n" for line in lines))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(aside, path)


def _b64(secret: bytes) -> str:
    return base64.b64encode(secret).decode("ascii")


def key_id_of(value: str) -> str | None:
    """The key id a stored value is sealed under; None for a plain (legacy) value."""
    if not value.startswith(PREFIX):
        return None
    key_id, sep, _ = value[len(PREFIX) :].partition(":")
    return key_id if sep else None


class Sealer:
    """Seals and opens the store's personal values under a keyring; thread-safe.

    ``reload`` reads the keyring file again (on SIGHUP, and at most every few seconds when
    a value names a key id this process does not know yet: a key created and used by
    ``store-rekey`` while the daemon runs).
    """

    def __init__(self, keyring: Keyring, path: Path | None = None) -> None:
        self._keyring = keyring
        self._ciphers = {key.key_id: AESGCM(key.secret) for key in keyring.keys}
        self._path = path
        self._lock = threading.Lock()
        self._reloaded_at = float("-inf")

    @classmethod
    def from_file(cls, path: str | Path) -> tuple[Sealer, list[str]]:
        """A sealer on the keyring file at ``path``, and the file's permission warnings."""
        keyring, warnings = load_keyring(path)
        return cls(keyring, Path(path)), warnings

    @property
    def keyring(self) -> Keyring:
        """The keys in use."""
        return self._keyring

    def reload(self) -> list[str]:
        """Read the keyring file again and use it from now on; returns warnings.

        ``ConfigError`` (the keys in use stay) if it cannot be read.
        """
        if self._path is None:
            return []
        keyring, warnings = load_keyring(self._path)
        with self._lock:
            self._keyring = keyring
            self._ciphers = {key.key_id: AESGCM(key.secret) for key in keyring.keys}
            self._reloaded_at = time.monotonic()
        return warnings

    def seal(self, plain: str, column: str, row_id: str) -> str:
        """``plain`` sealed under the current key, bound to ``column`` of row ``row_id``."""
        with self._lock:
            key_id = self._keyring.current.key_id
            cipher = self._ciphers[key_id]
        nonce = os.urandom(_NONCE_BYTES)
        sealed = cipher.encrypt(nonce, plain.encode("utf-8"), _associated(column, row_id))
        return f"{PREFIX}{key_id}:{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"

    def open(self, stored: str, column: str, row_id: str) -> str:
        """The plain text of a stored value; a value without the prefix is returned as it is.

        ``SealError`` names the row, the column and the key id (never the value) when the key
        is unknown or the value was altered or belongs to another row.
        """
        if not stored.startswith(PREFIX):
            return stored
        key_id, sep, encoded = stored[len(PREFIX) :].partition(":")
        where = f"{column} of {row_id}"
        if not sep:
            raise SealError(f"{where}: a sealed value without a key id")
        cipher = self._cipher(key_id)
        if cipher is None:
            raise SealError(
                f"{where} is sealed under key {key_id}, which store.key_file does not hold"
                " (a removed key? restore it from the keyring's backup)"
            )
        try:
            raw = base64.urlsafe_b64decode(encoded.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
            raise SealError(f"{where}: the sealed value is not base64 (altered)") from exc
        if len(raw) < _NONCE_BYTES + 16:
            raise SealError(f"{where}: the sealed value is truncated (altered)")
        try:
            plain = cipher.decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _associated(column, row_id)
            )
        except InvalidTag as exc:
            raise SealError(
                f"{where} does not open under key {key_id}: altered, or moved from another row"
            ) from exc
        return plain.decode("utf-8")

    def blind_index(self) -> BlindIndex:
        """The blind index under the keyring's ``@index`` key.

        ``ConfigError`` when the keyring has none (one written before invoicing):
        ``add_index_key`` adds one.
        """
        with self._lock:
            secret = self._keyring.index_secret
            source = self._keyring.source
        if secret is None:
            raise ConfigError(
                f"store keyring {source or '(in memory)'} holds no {INDEX_MARK} key, which the"
                " invoicing ledger needs: add an '@index <base64 of 32 random bytes>' line"
                " (docs/sysadmin.md, Encryption at rest)"
            )
        return BlindIndex(secret)

    def is_current(self, stored: str) -> bool:
        """Whether ``stored`` is sealed under the current key (nothing for a rekey to do)."""
        return key_id_of(stored) == self._keyring.current.key_id

    def _cipher(self, key_id: str) -> AESGCM | None:
        with self._lock:
            cipher = self._ciphers.get(key_id)
            now = time.monotonic()
            pause_over = now - self._reloaded_at >= _RELOAD_PAUSE
            if cipher is None and pause_over:
                self._reloaded_at = now  # a failing reload is not tried on every value
        if cipher is not None or self._path is None or not pause_over:
            return cipher
        try:
            self.reload()
        except ConfigError:
            return None
        with self._lock:
            return self._ciphers.get(key_id)


def _associated(column: str, row_id: str) -> bytes:
    return f"{column}\x00{row_id}".encode()


class BlindIndex:
    """A keyed hash (HMAC-SHA256) that finds a row by a personal value without storing it.

    A plain hash of an INSZ would not hide it: there are fewer than 10**11 of them, and
    every one can be hashed in hours. Under a secret key the index tells nothing to whoever
    lacks the key (a dump, a backup). The HMAC key is derived with HKDF from the keyring's
    ``@index`` secret, bound to this use, so the secret could serve another index later
    without two indexes of the same value matching.
    """

    def __init__(self, secret: bytes, purpose: str = "insz") -> None:
        self._key = HKDF(
            algorithm=SHA256(),
            length=_KEY_BYTES,
            salt=None,
            info=f"vsb-adapter blind index v1 {purpose}".encode(),
        ).derive(secret)

    def __repr__(self) -> str:  # never the key, whatever prints it
        return "BlindIndex()"

    def of(self, value: str) -> str:
        """The index of ``value``: 64 hex digits, the same for the same value and key."""
        return hmac.new(self._key, value.encode("utf-8"), hashlib.sha256).hexdigest()
