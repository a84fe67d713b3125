"""Who may use the admin API (decide, population, faults): loopback callers, or a token.

The admin API shares the SOAP port, and it can change every verdict the simulator gives. So:

* bound to a loopback address without a token: open, as the tests and the demo use it;
* bound anywhere else: a token is required to start at all (``admin_token``), and every admin
  request must carry ``Authorization: Bearer <token>``; without it, ``401``;
* a token set on loopback is required too (a shared host's other users).

SOAP calls are never guarded here: they carry their own (XAdES, WS-Security) signatures.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Final

from simulator.errors import SimulatorError

BEARER: Final = "Bearer "


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or "localhost") is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_exposure(host: str, token: str | None) -> None:
    """Refuse to listen beyond loopback with an unguarded admin API."""
    if not token and not is_loopback(host):
        raise SimulatorError(
            f"the admin API would be open to the network on {host}: set --admin-token"
            " (or SimulatorConfig.admin_token), or bind to 127.0.0.1"
        )


def authorized(header: str | None, token: str | None) -> bool:
    """Whether a request with this ``Authorization`` header may use the admin API."""
    if not token:
        return True  # only possible on loopback (check_exposure)
    if header is None or not header.startswith(BEARER):
        return False
    # Constant time: the comparison must not tell how much of a guess was right.
    return hmac.compare_digest(header[len(BEARER) :].strip().encode(), token.encode())
