"""Who may read a secret file: the one rule for the keystore, its passphrase, the broker's
TLS key and the store's keyring.

A secret readable by any local account is a leaked secret. So, checked before every load:

* readable, writable or executable by others (``mode & 0o007``): refused, ``ConfigError``;
* writable by the group (``mode & 0o020``): refused too, a group member could swap it;
* readable by the group (``mode & 0o040``): allowed with a warning, for the common layout
  where a ``vsb-adapter`` group owns ``/etc/vsb-adapter`` (docs/sysadmin.md, "Keys and
  secrets").

Only POSIX permission bits are judged (ACLs and SELinux labels are the host's business).
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Final

from adapter.errors import ConfigError

_REFUSED: Final = 0o027
"""Any bit for others, or group write."""
_WARNED: Final = 0o040
"""Group read."""


def check_file_modes(paths: list[Path], guards: str) -> list[str]:
    """Warnings for group-readable files; ``ConfigError`` for looser ones.

    ``guards`` says what a reader could take ("the facility's key"). A file that does not
    exist is left to its loader, which names it.
    """
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
                f" read or replace {guards}; run: chmod 600 {path}"
                " (or 640 with a group of the adapter's own)"
            )
        if mode & _WARNED:
            warnings.append(
                f"{path} has mode {mode:04o}: readable by its group; 600 is safer"
                " unless that group is the adapter's own"
            )
    return warnings
