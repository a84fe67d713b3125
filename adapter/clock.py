"""Time as the engine sees it: an injectable clock, so tests can hold or move it.

``now`` is wall-clock time (stored, compared with stored times); ``monotonic`` measures
intervals (the circuit breaker's probe time, a send's duration); ``sleep`` waits (the
sender's quick tries). A test clock moves only when told, and its ``sleep`` moves it
instead of waiting, so the engine's decisions are tested without a real pause.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Gives the current time and waits."""

    def now(self) -> datetime:
        """The current time as an aware UTC datetime."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for intervals only)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current time (UTC)."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """``time.sleep(seconds)``."""
        time.sleep(seconds)
