"""The systemd notify protocol (sd_notify): ready, status, watchdog, stopping.

With ``Type=notify`` systemd passes a datagram socket in ``NOTIFY_SOCKET`` and, with
``WatchdogSec=``, the period in ``WATCHDOG_USEC``. Outside systemd both are absent and every
call here does nothing. The protocol is a few lines of text on a Unix socket, so no library
is needed for it.
"""

from __future__ import annotations

import logging
import math
import os
import socket
from collections.abc import Callable, Mapping

from adapter.liveness import Liveness

log = logging.getLogger(__name__)


class Notifier:
    """Tells systemd how the daemon is; silent when not started by systemd."""

    def __init__(self, address: str | None, watchdog_seconds: float | None) -> None:
        self._address = address
        self.watchdog_seconds = watchdog_seconds
        """The watchdog period; None when systemd does not watch the daemon."""
        self._socket: socket.socket | None = None
        self._failed = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Notifier:
        """The notifier systemd's variables describe (``NOTIFY_SOCKET``, ``WATCHDOG_USEC``).

        The watchdog is ours only when ``WATCHDOG_PID`` is absent or names this process.
        """
        address = environ.get("NOTIFY_SOCKET") or None
        usec = environ.get("WATCHDOG_USEC", "")
        pid = environ.get("WATCHDOG_PID", "")
        ours = not pid or pid == str(os.getpid())
        seconds = int(usec) / 1_000_000 if usec.isdigit() and int(usec) > 0 and ours else None
        return cls(address, seconds)

    @property
    def active(self) -> bool:
        """Whether systemd listens."""
        return self._address is not None

    def ready(self, status: str) -> None:
        """The daemon takes events now."""
        self._send(f"READY=1\nSTATUS={status}")

    def status(self, status: str) -> None:
        """A one-line state for ``systemctl status``."""
        self._send(f"STATUS={status}")

    def watchdog(self) -> None:
        """All loops turn: reset the watchdog timer."""
        self._send("WATCHDOG=1")

    def stopping(self) -> None:
        """The daemon drains and stops."""
        self._send("STOPPING=1\nSTATUS=stopping")

    def _send(self, text: str) -> None:
        if self._address is None:
            return
        # A leading "@" names a socket in the abstract namespace.
        address = "\0" + self._address[1:] if self._address.startswith("@") else self._address
        try:
            if self._socket is None:
                kind = socket.SOCK_DGRAM | socket.SOCK_CLOEXEC
                self._socket = socket.socket(socket.AF_UNIX, kind)
            self._socket.sendto(text.encode(), address)
        except OSError as exc:
            if not self._failed:  # said once: a lost notification is no reason to stop
                log.warning("cannot notify systemd at %s: %s", self._address, exc)
                self._failed = True


class Watchdog:
    """Feeds systemd's watchdog from the main loop, only while every loop keeps its promise.

    A hung loop starves the watchdog: systemd then kills the daemon (SIGABRT) and restarts
    it, and the restart resends what was in flight with the same message ids.
    """

    def __init__(self, notifier: Notifier, liveness: Liveness, monotonic: Callable[[], float]):
        self._notifier = notifier
        self._liveness = liveness
        self._monotonic = monotonic
        self._last = -math.inf
        self._starving: list[str] = []
        self.readied = False

    def feed(self) -> None:
        """Ping at half the watchdog period, unless a loop is late (said once per change)."""
        period = self._notifier.watchdog_seconds
        if period is None or not self.readied:
            return
        if self._monotonic() - self._last < period / 2:
            return
        late = self._liveness.late()
        names = [entry.split(" ")[0] for entry in late]
        if names != [entry.split(" ")[0] for entry in self._starving]:
            if late:
                log.error("not feeding the systemd watchdog: loop(s) hung: %s", ", ".join(late))
            else:
                log.info("every loop turns again; feeding the systemd watchdog")
        self._starving = late
        if late:
            return
        self._notifier.watchdog()
        self._last = self._monotonic()
