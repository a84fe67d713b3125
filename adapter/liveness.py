"""Whether the daemon's loops still turn: what the systemd watchdog is fed from.

Each loop (consumer, dispatcher, outbox, mailbox, gauges) holds a ``Beat`` and, on every
turn, promises when it will turn again: ``beat(within=seconds)`` before it waits. A loop
that breaks its promise (hung in a call that never returns, dead of an uncaught error) is
late; while one is late the daemon stops feeding the watchdog, and systemd restarts it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

_GRACE = 5.0
"""Slack on every promise: a loop busy with a large batch is not hung."""


class Beat:
    """One loop's heartbeat."""

    def __init__(self, name: str, monotonic: Callable[[], float]) -> None:
        self.name = name
        self._monotonic = monotonic
        self._deadline = monotonic() + 60.0  # time to start
        self._lock = threading.Lock()

    def beat(self, within: float) -> None:
        """Turned just now; the next turn comes within ``within`` seconds."""
        with self._lock:
            self._deadline = self._monotonic() + within + _GRACE

    def late_by(self) -> float:
        """Seconds past its promise (0 or less: on time)."""
        with self._lock:
            return self._monotonic() - self._deadline


class Liveness:
    """The beats of all loops."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._beats: dict[str, Beat] = {}

    def beat_for(self, name: str) -> Beat:
        """The beat of the loop ``name`` (made on first use)."""
        beat = self._beats.get(name)
        if beat is None:
            beat = self._beats[name] = Beat(name, self._monotonic)
        return beat

    def late(self) -> list[str]:
        """The loops that broke their promise, as ``name (N s late)``."""
        found = []
        for beat in self._beats.values():
            late = beat.late_by()
            if late > 0:
                found.append(f"{beat.name} ({late:.0f} s late)")
        return found
