"""``vsb-adapter console``: the console served by waitress, a kept pure-Python WSGI server.

A process of its own, not a thread of the daemon: a crash, a slow page or a flood of
log-ins there never touches delivery, the daemon's hardened unit keeps listening on its
metrics port only, and the console can be stopped or run on another host of the store.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from waitress.server import create_server

from adapter.console.app import BrokerDeadLetters, create_app
from adapter.console.users import Users
from adapter.daemon import broker_address
from adapter.dlq import DeadLetterQueue
from adapter.errors import ConfigError
from adapter.filemodes import check_file_modes
from adapter.settings import Settings
from adapter.status import Thresholds
from adapter.store.sealing import load_keyring
from adapter.support import SupportDesk

_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def session_secret(settings: Settings) -> bytes:
    """The key that signs session cookies: ``console.session_secret_file``'s content, or
    derived from the store keyring's index secret (the same on every instance; rotating
    that file, or the keyring's index key, logs everyone out)."""
    path = settings.console.session_secret_file
    if path:
        check_file_modes([Path(path)], "the console's session key")
        try:
            secret = Path(path).read_bytes().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read console.session_secret_file: {exc.strerror}") from exc
        if len(secret) < 32:
            raise ConfigError("console.session_secret_file must hold at least 32 bytes")
        return secret
    keyring, _ = load_keyring(settings.store.key_file)
    if keyring.index_secret is None:
        raise ConfigError(
            "the store keyring has no @index key to derive the console's session key from:"
            " run vsb-adapter store-key create, or set console.session_secret_file"
        )
    return hmac.new(keyring.index_secret, b"vsb-adapter console session", hashlib.sha256).digest()


def console_app(settings: Settings, desk: SupportDesk) -> Flask:
    """The console over ``desk`` with the users and session key of ``settings``, its
    status judged as the metrics judge it, and the broker's dead-letter queue of
    ``settings`` (reached only when its pages are asked for)."""
    users = Users(Path(settings.console.users_file))
    users.get("")  # reads the file now: a bad line or loose modes stop the start
    b = settings.broker
    dead = DeadLetterQueue(broker_address(settings), b.dead_letter_queue, b.events_exchange)
    return create_app(
        desk,
        users,
        session_secret(settings),
        settings.console,
        thresholds=Thresholds.of(settings),
        dead_letter_queue=BrokerDeadLetters(dead, b.dead_letter_queue),
    )


def serve(settings: Settings, desk: SupportDesk, on_ready: Callable[[str], None] = print) -> None:
    """Serve the console until interrupted; ``on_ready`` gets a line with its URL."""
    console = settings.console
    if not console.enabled:
        raise ConfigError("the web console is off: set console.enabled = true (docs/sysadmin.md)")
    server = create_server(
        console_app(settings, desk), host=console.host, port=console.port, threads=4, ident=""
    )
    port = server.effective_port
    where = f"[{console.host}]" if ":" in console.host else console.host
    note = "" if console.host in _LOOPBACK else " (put a TLS reverse proxy in front of it)"
    on_ready(f"console at http://{where}:{port}/{note}")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
