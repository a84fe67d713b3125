"""A circuit breaker in front of the central application.

After ``threshold`` consecutive transient failures it opens: no message is sent, so no
message spends an attempt on an outage. After ``probe_seconds`` it lets one message through
as a probe; any HTTP answer (even a refusal or a client fault) closes it. The time spent
open is reported to ``on_close`` so retry age caps can leave it out.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable

from adapter.clock import Clock


class BreakerState(enum.Enum):
    """The breaker's three states."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitBreaker:
    """Thread-safe circuit breaker; time from the clock's ``monotonic``."""

    def __init__(
        self,
        threshold: int,
        probe_seconds: float,
        clock: Clock,
        *,
        on_change: Callable[[BreakerState], None] | None = None,
        on_close: Callable[[float], None] | None = None,
    ) -> None:
        self._threshold = threshold
        self._probe_seconds = probe_seconds
        self._monotonic = clock.monotonic
        self._on_change = on_change or (lambda _s: None)
        self._on_close = on_close or (lambda _d: None)
        self._lock = threading.Lock()
        self._failures = 0
        self._state = BreakerState.CLOSED
        self._opened_at = 0.0
        self._first_opened_at = 0.0
        self._probe_out = False

    @property
    def state(self) -> BreakerState:
        """The current state (OPEN turns HALF_OPEN once the probe time has passed)."""
        with self._lock:
            self._tick()
            return self._state

    def permits(self, wanted: int) -> int:
        """How many of ``wanted`` sends may start now (all, none, or one probe)."""
        with self._lock:
            self._tick()
            if self._state is BreakerState.CLOSED:
                return wanted
            if self._state is BreakerState.HALF_OPEN and not self._probe_out and wanted > 0:
                self._probe_out = True
                return 1
            return 0

    def unused(self, permits: int) -> None:
        """Give back permits that found nothing to send (a probe with no message to probe)."""
        if permits > 0:
            with self._lock:
                self._probe_out = (
                    False if self._state is BreakerState.HALF_OPEN else self._probe_out
                )

    def success(self) -> None:
        """The central application answered."""
        closed_after: float | None = None
        with self._lock:
            self._failures = 0
            self._probe_out = False
            if self._state is not BreakerState.CLOSED:
                closed_after = self._monotonic() - self._first_opened_at
                self._set(BreakerState.CLOSED)
        if closed_after is not None:
            self._on_close(closed_after)

    def failure(self) -> None:
        """The central application could not be reached or failed transiently."""
        with self._lock:
            self._failures += 1
            if self._state is BreakerState.HALF_OPEN:
                self._probe_out = False
                self._opened_at = self._monotonic()
                self._set(BreakerState.OPEN)
            elif self._state is BreakerState.CLOSED and self._failures >= self._threshold:
                self._opened_at = self._first_opened_at = self._monotonic()
                self._set(BreakerState.OPEN)

    def _tick(self) -> None:
        if (
            self._state is BreakerState.OPEN
            and self._monotonic() - self._opened_at >= self._probe_seconds
        ):
            self._set(BreakerState.HALF_OPEN)

    def _set(self, state: BreakerState) -> None:
        self._state = state
        self._on_change(state)
