"""HTTPS for the simulator: its server certificate and, for mutual TLS, the client CA.

The handshake runs in each connection's own thread (not in ``accept``), so a client that
connects and never speaks TLS, or fails the handshake, holds up nobody else. A failed
handshake is logged at INFO with OpenSSL's reason and the connection closed: that is what
the real central application does, and what the adapter's TLS tests look for.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
from pathlib import Path

log = logging.getLogger("simulator.tls")

HANDSHAKE_SECONDS = 10.0
"""How long a client may take over the handshake before its connection is closed."""
LINGER_SECONDS = 2.0
"""How long a refused client may take to read our alert and hang up."""


def server_context(
    cert: str | Path | None, key: str | Path | None, client_ca: str | Path | None
) -> ssl.SSLContext | None:
    """The server side of TLS; None (plain HTTP) without a certificate.

    With ``client_ca`` a client must show a certificate issued by it (mutual TLS).
    """
    if cert is None:
        if key is not None or client_ca is not None:
            raise ValueError("a TLS key or client CA needs a TLS certificate (tls_cert)")
        return None
    if key is None:
        raise ValueError("tls_cert needs tls_key")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert), str(key))
    if client_ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=str(client_ca))
    return context


def handshake(context: ssl.SSLContext, request: socket.socket, peer: str) -> ssl.SSLSocket | None:
    """The connection with TLS on it, or None (logged, closed) when the handshake fails."""
    request.settimeout(HANDSHAKE_SECONDS)
    wrapped = context.wrap_socket(request, server_side=True, do_handshake_on_connect=False)
    try:
        wrapped.do_handshake()
    except (ssl.SSLError, OSError) as exc:
        log.info("TLS handshake with %s failed: %s", peer, getattr(exc, "reason", None) or exc)
        _linger(wrapped)
        return None
    wrapped.settimeout(None)
    return wrapped


def _linger(wrapped: ssl.SSLSocket) -> None:
    """Close after the alert has reached the client, as web servers do ("lingering close").

    In TLS 1.3 a client without an acceptable certificate has already sent its request when
    our alert arrives. Closing with that request unread makes the kernel answer with a reset,
    which can overtake the alert: the client would see "EOF" instead of the reason. So stop
    writing, read (and drop) what the client sent until it hangs up, briefly, then close.
    """
    raw = socket.socket(fileno=wrapped.detach())
    with contextlib.suppress(OSError):
        raw.shutdown(socket.SHUT_WR)
        raw.settimeout(LINGER_SECONDS)
        while raw.recv(65536):
            pass
    raw.close()
