"""Logging a run of repeated failures once, instead of a traceback at every retry.

A loop that retries every few seconds while the store or the broker is away would otherwise
write the same traceback thousands of times, and bury the first one, which matters. The
first failure of a run is logged as an error, a failure of another kind as a warning, and
the end of the run once, with the count and how long it lasted.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from adapter.clock import Clock


class FailureLog:
    """Tells the log when ``what`` starts failing, when the error changes, and when it recovers.

    Thread-safe: the threads sharing one store may report to one log.
    """

    def __init__(self, logger: logging.Logger, what: str, clock: Clock) -> None:
        self._log = logger
        self._what = what
        self._clock = clock
        self._lock = threading.Lock()
        self._count = 0
        self._since: datetime | None = None
        self._kind = ""

    @property
    def failing(self) -> int:
        """Failures in the current run (0 when the last attempt succeeded)."""
        with self._lock:
            return self._count

    def failed(self, exc: BaseException) -> None:
        """One more failure; logged only if it starts a run or differs from the last one."""
        kind = f"{exc.__class__.__name__}: {exc}"
        with self._lock:
            self._count += 1
            first, changed = self._count == 1, kind != self._kind
            if first:
                self._since = self._clock.now()
            self._kind = kind
            count = self._count
        if first:
            self._log.error(
                "%s failed: %s; retrying, logged again when it recovers", self._what, kind
            )
        elif changed:
            self._log.warning("%s still failing (%d times), now: %s", self._what, count, kind)

    def succeeded(self) -> None:
        """The run of failures (if any) is over."""
        with self._lock:
            count, since = self._count, self._since
            self._count, self._since, self._kind = 0, None, ""
        if count and since is not None:
            seconds = (self._clock.now() - since).total_seconds()
            self._log.warning(
                "%s works again after %d failure(s) over %.0f s", self._what, count, seconds
            )
