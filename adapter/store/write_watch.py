"""Whether the store takes writes: readiness must not say "ok" while every write fails.

A read (``SELECT 1``) succeeds on a full disk; only writes tell. Every write transaction
reports here whether it failed for the store's sake (``StoreUnavailable``: not refused data,
not a lost race), and ``/health`` asks.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class WriteHealth:
    """What the store's writes look like now."""

    status: str
    """``ok``; ``degraded`` (some writes failed lately); ``down`` (the last write failed)."""
    text: str


class WriteWatch:
    """Remembers the last write's outcome and the failures of the last ``window_seconds``."""

    def __init__(
        self, window_seconds: float = 30.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._window = window_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._failures: deque[float] = deque()
        self._last_error: str | None = None
        self._kind = ""

    def failed(self, kind: str) -> None:
        """A write failed with an error of class ``kind`` (connection, disk full …)."""
        with self._lock:
            self._failures.append(self._monotonic())
            self._last_error = self._kind = kind

    def succeeded(self) -> None:
        """A write was committed."""
        with self._lock:
            self._last_error = None

    def health(self) -> WriteHealth:
        """``down`` if the last write failed, ``degraded`` if one failed within the window."""
        with self._lock:
            horizon = self._monotonic() - self._window
            while self._failures and self._failures[0] < horizon:
                self._failures.popleft()
            if self._last_error is not None:
                return WriteHealth("down", f"error: writes fail ({self._last_error})")
            if self._failures:
                return WriteHealth(
                    "degraded",
                    f"writes failed {len(self._failures)} time(s) in the last"
                    f" {self._window:.0f} s ({self._kind})",
                )
            return WriteHealth("ok", "ok")
