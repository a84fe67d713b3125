"""The modifications that move the period: start-date change, extension, stop and their
cancellations; one row per rule and boundary (the day before, of and after), over HTTP."""

from __future__ import annotations

import pytest

from simulator import Simulator
from simulator.rules import codes

from .conftest import (
    reva_extension,
    reva_extension_cancel,
    reva_interruption,
    reva_interruption_cancel,
    reva_start_change,
    reva_stop,
    reva_stop_cancel,
)
from .scenario import ACCEPTED, Opening, Row, Run, Send, Signer, check, play, refused

SENT_BEFORE = Opening(request_date="2026-02-20")
"""Sent before its start (1 March): the limits count from the start, 30 January .. 30 April."""
SENT_AFTER = Opening(request_date="2026-03-20")
"""Sent after its start: the limits count from the request date, 18 February .. 19 May."""
SHORT = Opening(end="2026-08-31")
SHORT_DIAGNOSIS = Opening("diagnosis", end="2026-08-31")
"""A diagnosis period 1 March 2026 .. 31 August 2026: at most until 28 February 2029."""


def start_change(new_start: str, day: str = "2026-03-10") -> Send:
    """A start-date change to ``new_start`` sent on ``day``."""
    return Send(day, reva_start_change, new_start)


START = [
    Row(
        "START-EARLY sent before: 31 days before the start",
        start_change("2026-01-29"),
        refused(codes.START_TOO_EARLY),
        opening=SENT_BEFORE,
    ),
    Row("sent before: 30 days before the start", start_change("2026-01-30"), ACCEPTED, SENT_BEFORE),
    Row("sent before: 29 days before the start", start_change("2026-01-31"), ACCEPTED, SENT_BEFORE),
    Row(
        "sent before: changed 59 days after the start",
        start_change("2026-03-15", "2026-04-29"),
        ACCEPTED,
        SENT_BEFORE,
    ),
    Row(
        "sent before: changed 60 days after the start",
        start_change("2026-03-15", "2026-04-30"),
        ACCEPTED,
        SENT_BEFORE,
    ),
    Row(
        "START-LATE sent before: changed 61 days after the start",
        start_change("2026-03-15", "2026-05-01"),
        refused(codes.START_CHANGED_TOO_LATE),
        SENT_BEFORE,
    ),
    Row(
        "START-EARLY sent after: 31 days before the request",
        start_change("2026-02-17"),
        refused(codes.START_TOO_EARLY),
        SENT_AFTER,
    ),
    Row("sent after: 30 days before the request", start_change("2026-02-18"), ACCEPTED, SENT_AFTER),
    Row("sent after: 29 days before the request", start_change("2026-02-19"), ACCEPTED, SENT_AFTER),
    Row(
        "sent after: changed 59 days after the request",
        start_change("2026-03-15", "2026-05-18"),
        ACCEPTED,
        SENT_AFTER,
    ),
    Row(
        "sent after: changed 60 days after the request",
        start_change("2026-03-15", "2026-05-19"),
        ACCEPTED,
        SENT_AFTER,
    ),
    Row(
        "START-LATE sent after: changed 61 days after the request",
        start_change("2026-03-15", "2026-05-20"),
        refused(codes.START_CHANGED_TOO_LATE),
        SENT_AFTER,
    ),
    # Which date the limits count from: the request the day before, of or after the start.
    Row(
        "request the day before the start: from the start",
        start_change("2026-01-30"),
        ACCEPTED,
        Opening(request_date="2026-02-28"),
    ),
    Row(
        "START-EARLY request on the start day",
        start_change("2026-01-29"),
        refused(codes.START_TOO_EARLY),
        Opening(request_date="2026-03-01"),
    ),
    Row(
        "START-EARLY request the day after the start: from the request",
        start_change("2026-01-30"),
        refused(codes.START_TOO_EARLY),
        Opening(request_date="2026-03-02"),
    ),
    Row(
        "request the day after the start: 30 days before it",
        start_change("2026-01-31"),
        ACCEPTED,
        Opening(request_date="2026-03-02"),
    ),
    Row(
        "START-EARLY and START-LATE together",
        start_change("2026-01-29", "2026-05-01"),
        refused(codes.START_TOO_EARLY, codes.START_CHANGED_TOO_LATE),
        SENT_BEFORE,
    ),
    Row(
        "START-EARLY counted from the initial start after an earlier change",
        start_change("2026-01-29"),
        refused(codes.START_TOO_EARLY),
        SENT_BEFORE,
        before=(start_change("2026-02-15", "2026-03-05"),),
    ),
    Row("a later start", start_change("2026-04-01"), ACCEPTED),
    Row("START-END: the day before the end", start_change("2026-08-30"), ACCEPTED, SHORT),
    Row("START-END: on the end", start_change("2026-08-31"), ACCEPTED, SHORT),
    Row(
        "START-END: the day after the end",
        start_change("2026-09-01"),
        refused(codes.START_AFTER_END),
        SHORT,
    ),
]


def extension(start: str, end: str, day: str = "2026-09-01") -> Send:
    """An extension ``start`` .. ``end`` sent on ``day``."""
    return Send(day, reva_extension, start, end)


INTERRUPTED = Send("2026-03-05", reva_interruption, "2026-04-01", "2026-04-30")
"""30 days of interruption, 1 .. 30 April."""
EXTENDED = (extension("2026-09-01", "2027-08-31"),)
TWICE = (*EXTENDED, extension("2027-09-01", "2028-08-31", "2027-09-01"))

EXTENSION = [
    Row(
        "EXT-RUNNING: the day before the end",
        extension("2026-09-01", "2027-08-31", "2026-08-30"),
        refused(codes.EXTENSION_WHILE_RUNNING),
        SHORT_DIAGNOSIS,
    ),
    Row(
        "EXT-RUNNING: on the end",
        extension("2026-09-01", "2027-08-31", "2026-08-31"),
        refused(codes.EXTENSION_WHILE_RUNNING),
        SHORT_DIAGNOSIS,
    ),
    Row(
        "EXT-RUNNING: the day after the end",
        extension("2026-09-01", "2027-08-31"),
        ACCEPTED,
        SHORT_DIAGNOSIS,
    ),
    Row(
        "EXT-BREAK: starts on the end",
        extension("2026-08-31", "2027-08-31"),
        refused(codes.EXTENSION_BREAK),
        SHORT_DIAGNOSIS,
    ),
    Row(
        "EXT-BREAK: starts two days after the end",
        extension("2026-09-02", "2027-08-31"),
        refused(codes.EXTENSION_BREAK),
        SHORT_DIAGNOSIS,
    ),
    Row(
        "EXT-RUNNING and EXT-BREAK together",
        extension("2026-09-02", "2027-08-31", "2026-08-31"),
        refused(codes.EXTENSION_WHILE_RUNNING, codes.EXTENSION_BREAK),
        SHORT_DIAGNOSIS,
    ),
    Row(
        "REVA-END: ends the day before it starts",
        extension("2026-09-01", "2026-08-31"),
        refused(codes.END_BEFORE_START),
        SHORT_DIAGNOSIS,
    ),
    Row("one day", extension("2026-09-01", "2026-09-01"), ACCEPTED, SHORT_DIAGNOSIS),
    Row(
        "EXT-MAX: the day before three years",
        extension("2026-09-01", "2029-02-27"),
        ACCEPTED,
        SHORT_DIAGNOSIS,
    ),
    Row(
        "EXT-MAX: the last day of three years",
        extension("2026-09-01", "2029-02-28"),
        ACCEPTED,
        SHORT_DIAGNOSIS,
    ),
    Row(
        "EXT-MAX: the day after three years",
        extension("2026-09-01", "2029-03-01"),
        refused(codes.EXTENSION_BEYOND_MAXIMUM),
        SHORT_DIAGNOSIS,
    ),
    Row(
        "EXT-MAX: plus 30 days of interruption",
        extension("2026-09-01", "2029-03-30"),
        ACCEPTED,
        SHORT_DIAGNOSIS,
        before=(INTERRUPTED,),
    ),
    Row(
        "EXT-MAX: the day after three years and the interruption",
        extension("2026-09-01", "2029-03-31"),
        refused(codes.EXTENSION_BEYOND_MAXIMUM),
        SHORT_DIAGNOSIS,
        before=(INTERRUPTED,),
    ),
    Row(
        "EXT-MAX: an interruption with only an expected end does not count",
        extension("2026-09-01", "2029-03-01"),
        refused(codes.EXTENSION_BEYOND_MAXIMUM),
        SHORT_DIAGNOSIS,
        before=(Send("2026-03-05", reva_interruption, "2026-04-01", expected="2026-04-30"),),
    ),
    Row(
        "EXT-MAX: a cancelled interruption does not count",
        extension("2026-09-01", "2029-03-01"),
        refused(codes.EXTENSION_BEYOND_MAXIMUM),
        SHORT_DIAGNOSIS,
        before=(INTERRUPTED, Send("2026-03-06", reva_interruption_cancel, "2026-04-01")),
    ),
    Row(
        "EXT-MAX: three years from the changed start",
        extension("2026-09-01", "2029-01-31"),
        ACCEPTED,
        SHORT_DIAGNOSIS,
        before=(start_change("2026-02-01", "2026-03-05"),),
    ),
    Row(
        "EXT-MAX: the day after three years from the changed start",
        extension("2026-09-01", "2029-02-01"),
        refused(codes.EXTENSION_BEYOND_MAXIMUM),
        SHORT_DIAGNOSIS,
        before=(start_change("2026-02-01", "2026-03-05"),),
    ),
    Row(
        "EXT-PERIOD: the day before five years",
        extension("2026-09-01", "2031-08-30"),
        ACCEPTED,
        SHORT,
    ),
    Row(
        "EXT-PERIOD: the last day of five years",
        extension("2026-09-01", "2031-08-31"),
        ACCEPTED,
        SHORT,
    ),
    Row(
        "EXT-PERIOD: the day after five years",
        extension("2026-09-01", "2031-09-01"),
        refused(codes.EXTENSION_PERIOD_TOO_LONG),
        SHORT,
    ),
    Row(
        "EXT-PERIOD: a restart too",
        extension("2026-09-01", "2031-09-01"),
        refused(codes.EXTENSION_PERIOD_TOO_LONG),
        Opening("restart", end="2026-08-31"),
    ),
    Row(
        "a second extension continues the first",
        extension("2027-09-01", "2032-08-31", "2027-09-01"),
        ACCEPTED,
        SHORT,
        before=EXTENDED,
    ),
    Row(
        "EXT-BREAK: a second extension from the first end",
        extension("2026-09-01", "2027-08-31", "2027-09-01"),
        refused(codes.EXTENSION_BREAK),
        SHORT,
        before=EXTENDED,
    ),
]


def extension_cancel(start: str, day: str = "2026-09-02") -> Send:
    """A cancel of the extension starting on ``start``, sent on ``day``."""
    return Send(day, reva_extension_cancel, start)


EXTENSION_CANCEL = [
    Row(
        "EXT-NONE: no extension",
        extension_cancel("2026-09-01", "2026-03-10"),
        refused(codes.NO_EXTENSION),
        SHORT_DIAGNOSIS,
    ),
    Row(
        "EXT-NONE: the day before its start",
        extension_cancel("2026-08-31"),
        refused(codes.NO_EXTENSION),
        SHORT_DIAGNOSIS,
        before=EXTENDED,
    ),
    Row("on its start", extension_cancel("2026-09-01"), ACCEPTED, SHORT_DIAGNOSIS, EXTENDED),
    Row(
        "EXT-NONE: the day after its start",
        extension_cancel("2026-09-02"),
        refused(codes.NO_EXTENSION),
        SHORT_DIAGNOSIS,
        before=EXTENDED,
    ),
    Row(
        "EXT-NONE: an earlier one while a later one stands",
        extension_cancel("2026-09-01", "2027-09-02"),
        refused(codes.NO_EXTENSION),
        SHORT_DIAGNOSIS,
        before=TWICE,
    ),
    Row(
        "the latest of two",
        extension_cancel("2027-09-01", "2027-09-02"),
        ACCEPTED,
        SHORT_DIAGNOSIS,
        before=TWICE,
    ),
    Row(
        "the earlier one once the later is cancelled",
        extension_cancel("2026-09-01", "2027-09-03"),
        ACCEPTED,
        SHORT_DIAGNOSIS,
        before=(*TWICE, extension_cancel("2027-09-01", "2027-09-02")),
    ),
    Row(
        "EXT-NONE: a second cancel",
        extension_cancel("2026-09-01", "2026-09-03"),
        refused(codes.NO_EXTENSION),
        SHORT_DIAGNOSIS,
        before=(*EXTENDED, extension_cancel("2026-09-01")),
    ),
]


def stop(stop_date: str, day: str = "2026-03-10", **header: str) -> Send:
    """A stop on ``stop_date`` sent on ``day``."""
    return Send(day, reva_stop, stop=stop_date, **header)


STOPPED = (stop("2026-06-30", "2026-06-30"),)
"""Stopped on 30 June by the row's message m-1."""

STOP = [
    Row(
        "STOP-DATE: the day before the start",
        stop("2026-02-28"),
        refused(codes.BAD_STOP_DATE),
    ),
    Row("STOP-DATE: on the start", stop("2026-03-01"), ACCEPTED),
    Row("STOP-DATE: the day after the start", stop("2026-03-02"), ACCEPTED),
    Row("STOP-DATE: the day before the end", stop("2026-08-30"), ACCEPTED, SHORT),
    Row("STOP-DATE: on the end", stop("2026-08-31"), ACCEPTED, SHORT),
    Row(
        "STOP-DATE: the day after the end",
        stop("2026-09-01"),
        refused(codes.BAD_STOP_DATE),
        SHORT,
    ),
    Row(
        "STOP-DATE: before a changed start",
        stop("2026-03-31"),
        refused(codes.BAD_STOP_DATE),
        before=(start_change("2026-04-01", "2026-03-05"),),
    ),
    Row(
        "STOP-DONE: a second stop",
        stop("2026-07-01", "2026-07-01"),
        refused(codes.ALREADY_STOPPED),
        before=STOPPED,
    ),
    Row(
        "STOP-DONE: not for a stop replacing the first",
        stop("2026-07-01", "2026-07-01", replaces="m-1"),
        ACCEPTED,
        before=STOPPED,
    ),
    Row(
        "a new stop once the first was cancelled",
        stop("2026-07-02", "2026-07-02"),
        ACCEPTED,
        before=(*STOPPED, Send("2026-07-01", reva_stop_cancel)),
    ),
    Row(
        "STOP-NONE: no stop",
        Send("2026-03-10", reva_stop_cancel),
        refused(codes.NO_STOP),
    ),
    Row("stop cancel", Send("2026-07-01", reva_stop_cancel), ACCEPTED, before=STOPPED),
    Row(
        "STOP-NONE: a second cancel",
        Send("2026-07-02", reva_stop_cancel),
        refused(codes.NO_STOP),
        before=(*STOPPED, Send("2026-07-01", reva_stop_cancel)),
    ),
]

ROWS = START + EXTENSION + EXTENSION_CANCEL + STOP


class TestPeriodRules:
    """Each row: the application, its earlier messages, the message, the answer expected."""

    @pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
    def test_row(self, fresh_simulator: Simulator, signed: Signer, row: Row) -> None:
        """The message gets the row's outcome and error codes."""
        run = Run.on(fresh_simulator, signed)
        check(play(run, row), row, run)
