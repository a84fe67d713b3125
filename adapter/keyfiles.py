"""The facility's key files at rest: who may read them, and loading them (again) into a Signer.

The keystore holds the eHealth private key of the facility and the passphrase file opens it;
either one readable by any local account is a leaked key. So, checked before every load (at
start, on ``SIGHUP``, by ``vsb-adapter check``):

* readable, writable or executable by others (``mode & 0o007``): refused, ``ConfigError``;
* writable by the group (``mode & 0o020``): refused too, a group member could swap the key;
* readable by the group (``mode & 0o040``): allowed with a warning, for the common layout
  where a ``vsb-adapter`` group owns ``/etc/vsb-adapter`` (docs/sysadmin.md, "Keys and
  secrets").

Only POSIX permission bits are judged (ACLs and SELinux labels are the host's business).
"""

from __future__ import annotations

import logging
import stat
from collections.abc import Mapping
from pathlib import Path

from adapter.errors import ConfigError
from adapter.settings import BrokerSettings, SigningSettings
from adapter.signing import Signer, read_passphrase

log = logging.getLogger(__name__)

_REFUSED = 0o027
"""Any bit for others, or group write."""
_WARNED = 0o040
"""Group read."""


def key_files(settings: SigningSettings) -> list[Path]:
    """The files holding the key or what opens it (the passphrase may come from a variable)."""
    files = [Path(settings.keystore)]
    if settings.passphrase_file:
        files.append(Path(settings.passphrase_file))
    return files


def check_key_files(settings: SigningSettings) -> list[str]:
    """Warnings for group-readable key files; ``ConfigError`` for looser ones.

    A file that does not exist is left to the loader, which names it.
    """
    return check_file_modes(key_files(settings))


def check_broker_key(settings: BrokerSettings) -> list[str]:
    """The same check for the broker's TLS client key (``broker.client_key``), if any."""
    return check_file_modes([Path(settings.client_key)] if settings.client_key else [])


def check_file_modes(paths: list[Path]) -> list[str]:
    """Warnings for group-readable files; ``ConfigError`` for looser ones (see above)."""
    warnings: list[str] = []
    for path in paths:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise ConfigError(f"cannot inspect {path}: {exc.strerror}") from exc
        if mode & _REFUSED:
            raise ConfigError(
                f"{path} has mode {mode:04o}: other accounts (or its group, writing) could"
                f" read or replace the facility's key; run: chmod 600 {path}"
                " (or 640 with a group of the adapter's own)"
            )
        if mode & _WARNED:
            warnings.append(
                f"{path} has mode {mode:04o}: readable by its group; 600 is safer"
                " unless that group is the adapter's own"
            )
    return warnings


def load_signer(settings: SigningSettings, environ: Mapping[str, str]) -> tuple[Signer, list[str]]:
    """Check the key files' permissions, then open the keystore; returns the warnings too.

    Raises ``ConfigError`` (loose permissions) or ``KeystoreError`` (cannot open).
    """
    warnings = check_key_files(settings)
    signer = Signer.from_keystore(settings.keystore, read_passphrase(settings, environ))
    return signer, warnings
