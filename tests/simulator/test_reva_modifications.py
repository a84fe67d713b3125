"""The rules every modification shares, the late-change rule, and the data, document, km
and interruption modifications: one row per rule and boundary, over HTTP."""

from __future__ import annotations

import pytest

from simulator import Simulator
from simulator.rules import codes

from .conftest import (
    UNKNOWN,
    reva_cancel,
    reva_data_change,
    reva_document,
    reva_extension,
    reva_interruption,
    reva_interruption_cancel,
    reva_interruption_change,
    reva_km_change,
    reva_km_request,
    reva_km_stop,
    reva_km_stop_cancel,
    reva_medical_report_change,
    reva_stop,
    reva_stop_cancel,
)
from .scenario import (
    ACCEPTED,
    MINOR,
    OTHER_NIHDI,
    UNKNOWN_REFERENCE,
    Opening,
    Recognise,
    Row,
    Run,
    Send,
    Sessions,
    Signer,
    check,
    in_beraad,
    play,
    refused,
)

SHORT = Opening(end="2026-08-31")
"""A coordination period 2026-03-01 .. 2026-08-31: it closes on 31 August once passed."""
DIAGNOSIS = Opening("diagnosis", end="2029-02-28")
"""An adult's diagnosis period: 16 sessions."""
STOPPED = (Send("2026-06-30", reva_stop, stop="2026-06-30"),)
"""Closed on 30 June by a stop."""
USED_UP = (Sessions("2026-05-04", 16),)
"""Closed on 4 May: the 16th session."""
CHANGE = {"location": "Aalst"}

COMMON = [
    Row(
        "MOD-REF: no application with this reference",
        Send("2026-03-10", reva_data_change, to=UNKNOWN_REFERENCE, **CHANGE),
        refused(codes.BAD_REFERENCE),
    ),
    Row(
        "MOD-REF: the application of another user",
        Send("2026-03-10", reva_data_change, UNKNOWN, **CHANGE),
        refused(codes.BAD_REFERENCE),
    ),
    Row(
        "MOD-REF and INSZ-01: wrong check digits",
        Send("2026-03-10", reva_data_change, "85073003329", **CHANGE),
        refused(codes.BAD_REFERENCE, codes.INVALID_INSZ),
    ),
    Row(
        "FAC-01: a facility not recognised",
        Send("2026-03-10", reva_data_change, nihdi=OTHER_NIHDI, **CHANGE),
        refused(codes.UNKNOWN_FACILITY),
        before=(Recognise(),),
    ),
    Row("cancel: accepted", Send("2026-03-10", reva_cancel), ACCEPTED),
    Row(
        "MOD-CANCELLED: a change after the cancel",
        Send("2026-03-11", reva_data_change, **CHANGE),
        refused(codes.CANCELLED),
        before=(Send("2026-03-10", reva_cancel),),
    ),
    Row(
        "MOD-CANCELLED: a second cancel",
        Send("2026-03-10", reva_cancel),
        refused(codes.CANCELLED),
        before=(Send("2026-03-10", reva_cancel),),
    ),
    Row(
        "MOD-CANCELLED: even a document",
        Send("2026-03-10", reva_document),
        refused(codes.CANCELLED),
        before=(Send("2026-03-10", reva_cancel),),
    ),
]

LATE = [
    # Closed by a stop on D = 30 June: D+5 is processed, D+6 in beraad.
    Row("LATE stop: D+4", Send("2026-07-04", reva_data_change, **CHANGE), ACCEPTED, before=STOPPED),
    Row("LATE stop: D+5", Send("2026-07-05", reva_data_change, **CHANGE), ACCEPTED, before=STOPPED),
    Row(
        "LATE stop: D+6",
        Send("2026-07-06", reva_data_change, **CHANGE),
        in_beraad(codes.LATE_CHANGE),
        before=STOPPED,
    ),
    Row(
        "LATE stop: D+6 medical report change",
        Send("2026-07-06", reva_medical_report_change),
        in_beraad(codes.LATE_CHANGE),
        before=STOPPED,
    ),
    Row(
        "LATE stop: D+6 stop cancel",
        Send("2026-07-06", reva_stop_cancel),
        in_beraad(codes.LATE_CHANGE),
        before=STOPPED,
    ),
    Row(
        "LATE stop: D+6 document is never late",
        Send("2026-07-06", reva_document),
        ACCEPTED,
        before=STOPPED,
    ),
    Row(
        "LATE stop: D+6 refusal wins over in beraad",
        Send("2026-07-06", reva_data_change),
        refused(codes.NO_DATA),
        before=STOPPED,
    ),
    Row(
        "LATE stop: a cancelled stop no longer closes",
        Send("2026-07-06", reva_data_change, **CHANGE),
        ACCEPTED,
        before=(*STOPPED, Send("2026-07-05", reva_stop_cancel)),
    ),
    Row(
        "LATE stop: closes on the stop date, not on the day it is sent",
        Send("2026-07-06", reva_data_change, **CHANGE),
        ACCEPTED,
        before=(Send("2026-06-30", reva_stop, stop="2026-12-31"),),
    ),
    # Closed by its end date E = 31 August once passed.
    Row(
        "LATE end: on E",
        Send("2026-08-31", reva_data_change, **CHANGE),
        ACCEPTED,
        opening=SHORT,
    ),
    Row(
        "LATE end: E+5",
        Send("2026-09-05", reva_data_change, **CHANGE),
        ACCEPTED,
        opening=SHORT,
    ),
    Row(
        "LATE end: E+6",
        Send("2026-09-06", reva_data_change, **CHANGE),
        in_beraad(codes.LATE_CHANGE),
        opening=SHORT,
    ),
    Row(
        "LATE end: E+6 interruption",
        Send("2026-09-06", reva_interruption, "2026-08-01", "2026-08-31"),
        in_beraad(codes.LATE_CHANGE),
        opening=SHORT,
    ),
    Row(
        "LATE end: E+6 extension is never late",
        Send("2026-09-06", reva_extension, "2026-09-01", "2027-08-31"),
        ACCEPTED,
        opening=SHORT,
    ),
    # Closed on Q = 4 May, the day the 16th of 16 sessions was used.
    Row(
        "LATE quota: Q+5",
        Send("2026-05-09", reva_data_change, **CHANGE),
        ACCEPTED,
        opening=DIAGNOSIS,
        before=USED_UP,
    ),
    Row(
        "LATE quota: Q+6",
        Send("2026-05-10", reva_data_change, **CHANGE),
        in_beraad(codes.LATE_CHANGE),
        opening=DIAGNOSIS,
        before=USED_UP,
    ),
    Row(
        "LATE quota: 15 of 16 used does not close",
        Send("2026-05-10", reva_data_change, **CHANGE),
        ACCEPTED,
        opening=DIAGNOSIS,
        before=(Sessions("2026-05-04", 15),),
    ),
    Row(
        "LATE quota: the earliest closing counts",
        Send("2026-06-01", reva_data_change, **CHANGE),
        in_beraad(codes.LATE_CHANGE),
        opening=DIAGNOSIS,
        before=(*USED_UP, Send("2026-05-05", reva_stop, stop="2026-06-30")),
    ),
]

DATA = [
    Row("DATA-EMPTY: nothing given", Send("2026-03-10", reva_data_change), refused(codes.NO_DATA)),
    Row("data: contact person", Send("2026-03-10", reva_data_change, contact="Jan"), ACCEPTED),
    Row("data: location", Send("2026-03-10", reva_data_change, location="Aalst"), ACCEPTED),
    Row("data: accident code", Send("2026-03-10", reva_data_change, accident="A-1"), ACCEPTED),
    Row("medical report change", Send("2026-03-10", reva_medical_report_change), ACCEPTED),
    Row("document", Send("2026-03-10", reva_document), ACCEPTED),
]

KM = (Send("2026-03-05", reva_km_request),)
KM_STOPPED = (*KM, Send("2026-03-06", reva_km_stop, "2026-03-06"))

TRANSPORT = [
    Row("km request", Send("2026-03-10", reva_km_request), ACCEPTED),
    Row(
        "km request: under 18, in place of the flat rate",
        Send("2026-03-10", reva_km_request, insz=MINOR),
        ACCEPTED,
        opening=Opening(insz=MINOR),
    ),
    Row(
        "KM-EXISTS: a second request",
        Send("2026-03-10", reva_km_request),
        refused(codes.KM_EXISTS),
        before=KM,
    ),
    Row(
        "km request after a stop", Send("2026-03-10", reva_km_request), ACCEPTED, before=KM_STOPPED
    ),
    Row("KM-NONE: change without one", Send("2026-03-10", reva_km_change), refused(codes.NO_KM)),
    Row("km change", Send("2026-03-10", reva_km_change), ACCEPTED, before=KM),
    Row("KM-NONE: stop without one", Send("2026-03-10", reva_km_stop), refused(codes.NO_KM)),
    Row("km stop", Send("2026-03-10", reva_km_stop), ACCEPTED, before=KM),
    Row(
        "KM-STOPPED: a second stop",
        Send("2026-03-10", reva_km_stop),
        refused(codes.KM_STOPPED),
        before=KM_STOPPED,
    ),
    Row(
        "KM-NONE: stop cancel without one",
        Send("2026-03-10", reva_km_stop_cancel),
        refused(codes.NO_KM),
    ),
    Row(
        "KM-NOT-STOPPED: stop cancel while it runs",
        Send("2026-03-10", reva_km_stop_cancel),
        refused(codes.KM_NOT_STOPPED),
        before=KM,
    ),
    Row("km stop cancel", Send("2026-03-10", reva_km_stop_cancel), ACCEPTED, before=KM_STOPPED),
]

INTERRUPTED = (Send("2026-03-05", reva_interruption, "2026-04-01", "2026-04-30"),)
"""Interrupted 1 .. 30 April."""
UNINTERRUPTED = (*INTERRUPTED, Send("2026-03-06", reva_interruption_cancel, "2026-04-01"))


def interruption(start: str, end: str | None = None, expected: str | None = None) -> Send:
    """A new interruption sent on 10 March."""
    return Send("2026-03-10", reva_interruption, start, end, expected=expected)


def interruption_change(old_start: str, start: str, end: str) -> Send:
    """A change of the interruption starting on ``old_start``, sent on 10 March."""
    return Send("2026-03-10", reva_interruption_change, old_start, start, end)


INTERRUPTION = [
    # At most six months: from 1 April the last day is 30 September.
    Row("INT-LONG: to 29 September", interruption("2026-04-01", "2026-09-29"), ACCEPTED),
    Row("INT-LONG: to 30 September", interruption("2026-04-01", "2026-09-30"), ACCEPTED),
    Row(
        "INT-LONG: to 1 October",
        interruption("2026-04-01", "2026-10-01"),
        refused(codes.INTERRUPTION_TOO_LONG),
    ),
    Row(
        "INT-LONG: expected end 30 September",
        interruption("2026-04-01", expected="2026-09-30"),
        ACCEPTED,
    ),
    Row(
        "INT-LONG: expected end 1 October",
        interruption("2026-04-01", expected="2026-10-01"),
        refused(codes.INTERRUPTION_TOO_LONG),
    ),
    Row("INT-LONG: 31 August to 28 February", interruption("2026-08-31", "2027-02-28"), ACCEPTED),
    Row(
        "INT-LONG: 31 August to 1 March",
        interruption("2026-08-31", "2027-03-01"),
        refused(codes.INTERRUPTION_TOO_LONG),
    ),
    Row(
        "INT-END: ends the day before it starts",
        interruption("2026-04-01", "2026-03-31"),
        refused(codes.INTERRUPTION_END),
    ),
    Row("INT-END: one day", interruption("2026-04-01", "2026-04-01"), ACCEPTED),
    Row(
        "INT-PERIOD: the day before the start",
        interruption("2026-02-28", "2026-03-10"),
        refused(codes.INTERRUPTION_OUTSIDE_PERIOD),
    ),
    Row("INT-PERIOD: on the start", interruption("2026-03-01", "2026-03-10"), ACCEPTED),
    Row(
        "INT-PERIOD: the day before the end",
        interruption("2026-08-30", "2026-09-30"),
        ACCEPTED,
        opening=SHORT,
    ),
    Row(
        "INT-PERIOD: on the end",
        interruption("2026-08-31", "2026-09-30"),
        ACCEPTED,
        opening=SHORT,
    ),
    Row(
        "INT-PERIOD: the day after the end",
        interruption("2026-09-01", "2026-09-30"),
        refused(codes.INTERRUPTION_OUTSIDE_PERIOD),
        opening=SHORT,
    ),
    Row(
        "INT-OVERLAP: starts on the other's last day",
        interruption("2026-04-30", "2026-05-10"),
        refused(codes.INTERRUPTION_OVERLAP),
        before=INTERRUPTED,
    ),
    Row(
        "INT-OVERLAP: starts the day after",
        interruption("2026-05-01", "2026-05-10"),
        ACCEPTED,
        before=INTERRUPTED,
    ),
    Row(
        "INT-OVERLAP: ends on the other's first day",
        interruption("2026-03-20", "2026-04-01"),
        refused(codes.INTERRUPTION_OVERLAP),
        before=INTERRUPTED,
    ),
    Row(
        "INT-OVERLAP: ends the day before",
        interruption("2026-03-20", "2026-03-31"),
        ACCEPTED,
        before=INTERRUPTED,
    ),
    Row(
        "INT-OVERLAP: with an expected end",
        interruption("2026-04-30", "2026-05-10"),
        refused(codes.INTERRUPTION_OVERLAP),
        before=(Send("2026-03-05", reva_interruption, "2026-04-01", expected="2026-04-30"),),
    ),
    Row(
        "INT-OVERLAP: a cancelled one does not count",
        interruption("2026-04-15", "2026-05-10"),
        ACCEPTED,
        before=UNINTERRUPTED,
    ),
    Row(
        "INT-NONE: change of none starting that day",
        interruption_change("2026-04-02", "2026-04-02", "2026-04-30"),
        refused(codes.NO_INTERRUPTION),
        before=INTERRUPTED,
    ),
    Row(
        "INT-NONE: change of a cancelled one",
        interruption_change("2026-04-01", "2026-04-01", "2026-04-20"),
        refused(codes.NO_INTERRUPTION),
        before=UNINTERRUPTED,
    ),
    Row(
        "interruption change: may overlap its own old span",
        interruption_change("2026-04-01", "2026-04-10", "2026-05-10"),
        ACCEPTED,
        before=INTERRUPTED,
    ),
    Row(
        "interruption change: up to six months",
        interruption_change("2026-04-01", "2026-04-01", "2026-09-30"),
        ACCEPTED,
        before=INTERRUPTED,
    ),
    Row(
        "interruption change: INT-LONG",
        interruption_change("2026-04-01", "2026-04-01", "2026-10-01"),
        refused(codes.INTERRUPTION_TOO_LONG),
        before=INTERRUPTED,
    ),
    Row(
        "interruption change: INT-OVERLAP with another",
        interruption_change("2026-04-01", "2026-05-15", "2026-06-01"),
        refused(codes.INTERRUPTION_OVERLAP),
        before=(*INTERRUPTED, Send("2026-03-05", reva_interruption, "2026-06-01", "2026-06-30")),
    ),
    Row(
        "interruption cancel",
        Send("2026-03-10", reva_interruption_cancel, "2026-04-01"),
        ACCEPTED,
        before=INTERRUPTED,
    ),
    Row(
        "INT-NONE: cancel of none starting that day",
        Send("2026-03-10", reva_interruption_cancel, "2026-04-02"),
        refused(codes.NO_INTERRUPTION),
        before=INTERRUPTED,
    ),
    Row(
        "INT-NONE: a second cancel",
        Send("2026-03-10", reva_interruption_cancel, "2026-04-01"),
        refused(codes.NO_INTERRUPTION),
        before=UNINTERRUPTED,
    ),
]

ROWS = COMMON + LATE + DATA + TRANSPORT + INTERRUPTION


class TestModificationRules:
    """Each row: the application, its earlier messages, the message, the answer expected."""

    @pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
    def test_row(self, fresh_simulator: Simulator, signed: Signer, row: Row) -> None:
        """The message gets the row's outcome and error codes."""
        run = Run.on(fresh_simulator, signed)
        check(play(run, row), row, run)
