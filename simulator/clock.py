"""The simulator's clock: real time by default, with a settable "today" for tests.

Dates are local dates in Europe/Brussels (DOMAIN.md). Setting "today" keeps the wall-clock
time of day, so answers still carry a realistic ``CreatedAt`` on the simulated day.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")


def system_now() -> datetime:
    """The current time as an aware datetime in Europe/Brussels."""
    return datetime.now(BRUSSELS)


class Clock:
    """Tells the simulator what time and day it is.

    ``now`` is injectable (a callable returning an aware datetime) so tests can pin the time;
    ``set_today`` overrides only the date.
    """

    def __init__(self, now: Callable[[], datetime] | None = None, today: date | None = None):
        self._now = now or system_now
        self._today = today
        self._lock = threading.Lock()

    def set_today(self, today: date | None) -> None:
        """Pin the simulated date, or go back to the real date with ``None``."""
        with self._lock:
            self._today = today

    @property
    def pinned(self) -> bool:
        """Whether "today" is pinned by ``set_today`` (or the configuration)."""
        with self._lock:
            return self._today is not None

    def now(self) -> datetime:
        """The current time in Europe/Brussels, moved onto the pinned date if there is one."""
        real = self._now().astimezone(BRUSSELS)
        with self._lock:
            pinned = self._today
        if pinned is None:
            return real
        # Re-localise rather than replace the date: the UTC offset may differ (DST).
        return datetime.combine(pinned, real.time(), BRUSSELS)

    def today(self) -> date:
        """The current local date in Europe/Brussels."""
        return self.now().date()
