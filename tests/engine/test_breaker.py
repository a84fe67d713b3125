"""The circuit breaker stops sends during an outage and probes its way back."""

from __future__ import annotations

from datetime import UTC, datetime

from adapter.engine.breaker import BreakerState, CircuitBreaker
from adapter.testing import FixedClock


def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 20, tzinfo=UTC))


def at(time: FixedClock, seconds: float) -> None:
    """Move the clock to ``seconds`` after it was made."""
    time.advance(seconds - time.monotonic())


def breaker(time: FixedClock, closed: list[float] | None = None) -> CircuitBreaker:
    sink = closed if closed is not None else []
    return CircuitBreaker(3, 10.0, time, on_close=sink.append)


def test_it_opens_after_consecutive_failures() -> None:
    """Three transient failures in a row stop every send."""
    b = breaker(clock())
    for _ in range(3):
        assert b.permits(8) == 8
        b.failure()
    assert b.state is BreakerState.OPEN
    assert b.permits(8) == 0


def test_a_success_resets_the_count() -> None:
    """Failures separated by a success do not open it."""
    b = breaker(clock())
    b.failure()
    b.failure()
    b.success()
    b.failure()
    assert b.state is BreakerState.CLOSED


def test_it_lets_one_probe_through_after_the_probe_time() -> None:
    """Once the probe time passed, exactly one send may go."""
    t = clock()
    b = breaker(t)
    for _ in range(3):
        b.failure()
    at(t, 10.0)
    assert b.permits(8) == 1
    assert b.permits(8) == 0


def test_an_unused_probe_is_given_back() -> None:
    """A probe permit that found nothing to send may be taken again."""
    t = clock()
    b = breaker(t)
    for _ in range(3):
        b.failure()
    at(t, 10.0)
    assert b.permits(8) == 1
    b.unused(1)
    assert b.permits(8) == 1


def test_a_failed_probe_opens_it_again() -> None:
    """A probe that fails waits another probe time."""
    t = clock()
    b = breaker(t)
    for _ in range(3):
        b.failure()
    at(t, 10.0)
    b.permits(1)
    b.failure()
    assert b.state is BreakerState.OPEN
    at(t, 15.0)
    assert b.permits(1) == 0


def test_closing_reports_how_long_it_was_open() -> None:
    """The open time goes to on_close, so retry age caps can leave it out."""
    t = clock()
    closed: list[float] = []
    b = breaker(t, closed)
    for _ in range(3):
        b.failure()
    at(t, 10.0)
    b.permits(1)
    b.failure()
    at(t, 25.0)
    b.permits(1)
    b.success()
    assert b.state is BreakerState.CLOSED
    assert closed == [25.0]
