"""The facility's key files at rest: their permissions (``adapter.filemodes``), and loading
them (again) into a Signer: at start, on ``SIGHUP``, by ``vsb-adapter check``.

The keystore holds the eHealth private key of the facility and the passphrase file opens it;
the broker's TLS client key (``broker.client_key``) is judged by the same rule.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from adapter.filemodes import check_file_modes
from adapter.settings import BrokerSettings, SigningSettings
from adapter.signing import Signer, read_passphrase

log = logging.getLogger(__name__)


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
    return check_file_modes(key_files(settings), "the facility's key")


def check_broker_key(settings: BrokerSettings) -> list[str]:
    """The same check for the broker's TLS client key (``broker.client_key``), if any."""
    paths = [Path(settings.client_key)] if settings.client_key else []
    return check_file_modes(paths, "the broker's TLS key")


def load_signer(settings: SigningSettings, environ: Mapping[str, str]) -> tuple[Signer, list[str]]:
    """Check the key files' permissions, then open the keystore; returns the warnings too.

    Raises ``ConfigError`` (loose permissions) or ``KeystoreError`` (cannot open).
    """
    warnings = check_key_files(settings)
    signer = Signer.from_keystore(settings.keystore, read_passphrase(settings, environ))
    return signer, warnings
