"""Modifications of an accepted PVT admission: extension (the day after the end: end, end
+ 1, end + 2), discharge (before, on and after the admission date; today and tomorrow),
cancel, and the checks every modification shares; one row per rule and boundary, over HTTP.
"""

from __future__ import annotations

from typing import Any

import pytest

from simulator import Simulator
from simulator.rules import codes

from .builders_pvt import migration_file, pvt_admission, pvt_cancel, pvt_discharge, pvt_extension
from .conftest import UNKNOWN, SoapClient, admin, reva_application, reva_stop
from .pvt_scenario import Admit, PvtRow, check_pvt, open_admission, play_pvt
from .scenario import (
    ACCEPTED,
    OTHER_NIHDI,
    UNKNOWN_REFERENCE,
    Recognise,
    Run,
    Send,
    Signer,
    errors,
    refused,
)

SENT = "2026-03-10"
RESIDENT = Admit(SENT, pvt_admission, {"admission": "2026-03-01", "end": "2026-06-30"})
"""Admitted 2026-03-01, granted until 2026-06-30, received 2026-03-10."""
OPEN = Admit(SENT, pvt_admission, {"admission": "2026-03-01"})
"""Admitted 2026-03-01 without an end."""
MIGRATED_TO_31_3 = Admit("2023-04-10", migration_file, {"approved_end": "2023-03-31"})
"""A migration file whose VI-approved period ends on 2023-03-31 (DOMAIN.md case 3)."""
FUTURE = Admit(SENT, pvt_admission, {"admission": "2026-04-01"})
"""Admitted from 2026-04-01, sent before."""


def extension(start: str, end: str, day: str = SENT, **kwargs: Any) -> Send:
    """An extension ``start`` .. ``end`` sent on ``day``."""
    return Send(day, pvt_extension, start, end, **kwargs)


def discharge(on: str, day: str = SENT, **kwargs: Any) -> Send:
    """A discharge on ``on`` sent on ``day``."""
    return Send(day, pvt_discharge, on, **kwargs)


def cancel(day: str = SENT, **kwargs: Any) -> Send:
    """A cancel sent on ``day``."""
    return Send(day, pvt_cancel, **kwargs)


EXTENSION = [
    PvtRow(
        "EXT-BREAK: starts on the end (overlap)",
        extension("2026-06-30", "2026-09-30"),
        refused(codes.PVT_EXTENSION_BREAK),
        opening=RESIDENT,
    ),
    PvtRow(
        "starts the day after the end",
        extension("2026-07-01", "2026-09-30"),
        ACCEPTED,
        ("2026-07-01", "2026-09-30"),
        opening=RESIDENT,
    ),
    PvtRow(
        "EXT-BREAK: starts two days after the end (gap)",
        extension("2026-07-02", "2026-09-30"),
        refused(codes.PVT_EXTENSION_BREAK),
        opening=RESIDENT,
    ),
    PvtRow(
        "EXT-OPEN: the admission has no end",
        extension("2026-07-01", "2026-09-30"),
        refused(codes.PVT_EXTENSION_OPEN),
        opening=OPEN,
    ),
    PvtRow(
        "END: ends the day before it starts",
        extension("2026-07-01", "2026-06-30"),
        refused(codes.PVT_END_BEFORE_START),
        opening=RESIDENT,
    ),
    PvtRow(
        "a one-day extension",
        extension("2026-07-01", "2026-07-01"),
        ACCEPTED,
        ("2026-07-01", "2026-07-01"),
        opening=RESIDENT,
    ),
    PvtRow(
        "EXT-BREAK and END together",
        extension("2026-07-05", "2026-07-04"),
        refused(codes.PVT_EXTENSION_BREAK, codes.PVT_END_BEFORE_START),
        opening=RESIDENT,
    ),
    PvtRow(
        "EXT-DISCHARGED: discharged the day before it starts",
        extension("2026-07-01", "2026-09-30", "2026-07-01"),
        refused(codes.PVT_EXTENSION_DISCHARGED),
        opening=RESIDENT,
        before=(discharge("2026-06-30", "2026-06-30"),),
    ),
    PvtRow(
        "discharged on the day it starts",
        extension("2026-07-01", "2026-09-30", "2026-07-01"),
        ACCEPTED,
        ("2026-07-01", "2026-09-30"),
        opening=RESIDENT,
        before=(discharge("2026-07-01", "2026-07-01"),),
    ),
    PvtRow(
        "a second extension continues the first",
        extension("2026-10-01", "2026-12-31"),
        ACCEPTED,
        ("2026-10-01", "2026-12-31"),
        opening=RESIDENT,
        before=(extension("2026-07-01", "2026-09-30"),),
    ),
    PvtRow(
        "EXT-BREAK: a second extension from the first end",
        extension("2026-07-01", "2026-12-31"),
        refused(codes.PVT_EXTENSION_BREAK),
        opening=RESIDENT,
        before=(extension("2026-07-01", "2026-09-30"),),
    ),
    PvtRow(
        "no late-change rule: sent five months after the end",
        extension("2026-07-01", "2026-12-31", "2026-12-01"),
        ACCEPTED,
        ("2026-07-01", "2026-12-31"),
        opening=RESIDENT,
    ),
    PvtRow(
        "migrated until 2023-03-31: its extension from 2023-04-01",
        extension("2023-04-01", "2024-03-31", "2023-04-10"),
        ACCEPTED,
        ("2023-04-01", "2024-03-31"),
        opening=MIGRATED_TO_31_3,
    ),
    PvtRow(
        "EXT-BREAK: migrated until 2023-03-31, extended from 2023-04-02",
        extension("2023-04-02", "2024-03-31", "2023-04-10"),
        refused(codes.PVT_EXTENSION_BREAK),
        opening=MIGRATED_TO_31_3,
    ),
]

DISCHARGE = [
    PvtRow(
        "DIS-DATE: the day before the admission",
        discharge("2026-02-28"),
        refused(codes.PVT_DISCHARGE_BEFORE_ADMISSION),
        opening=RESIDENT,
    ),
    PvtRow("on the admission date", discharge("2026-03-01"), ACCEPTED, opening=RESIDENT),
    PvtRow("the day after the admission", discharge("2026-03-02"), ACCEPTED, opening=RESIDENT),
    PvtRow("today", discharge(SENT), ACCEPTED, opening=RESIDENT),
    PvtRow(
        "DIS-FUTURE: tomorrow",
        discharge("2026-03-11"),
        refused(codes.PVT_DISCHARGE_IN_FUTURE),
        opening=RESIDENT,
    ),
    PvtRow(
        "DIS-DONE: a second discharge",
        discharge("2026-03-08"),
        refused(codes.PVT_ALREADY_DISCHARGED),
        opening=RESIDENT,
        before=(discharge("2026-03-05"),),
    ),
    PvtRow(
        "DIS-DATE and DIS-FUTURE: before a future admission",
        discharge("2026-03-31"),
        refused(codes.PVT_DISCHARGE_BEFORE_ADMISSION, codes.PVT_DISCHARGE_IN_FUTURE),
        opening=FUTURE,
    ),
    PvtRow(
        "without destination",
        discharge("2026-03-09", destination=None),
        ACCEPTED,
        opening=RESIDENT,
    ),
    PvtRow(
        "after the granted end: no rule",
        discharge("2026-07-15", "2026-07-20"),
        ACCEPTED,
        opening=RESIDENT,
    ),
]

CANCEL_AND_COMMON = [
    PvtRow("cancel", cancel(), ACCEPTED, opening=RESIDENT),
    PvtRow(
        "MOD-CANCELLED: an extension after the cancel",
        extension("2026-07-01", "2026-09-30"),
        refused(codes.CANCELLED),
        opening=RESIDENT,
        before=(cancel(),),
    ),
    PvtRow(
        "MOD-CANCELLED: a second cancel",
        cancel(),
        refused(codes.CANCELLED),
        opening=RESIDENT,
        before=(cancel(),),
    ),
    PvtRow(
        "MOD-REF: no admission with this reference",
        discharge(SENT, to=UNKNOWN_REFERENCE),
        refused(codes.BAD_REFERENCE),
        opening=RESIDENT,
    ),
    PvtRow(
        "MOD-REF: the admission of another user",
        discharge(SENT, insz=UNKNOWN),
        refused(codes.BAD_REFERENCE),
        opening=RESIDENT,
    ),
    PvtRow(
        "MOD-REF and INSZ-01: wrong check digits",
        cancel(insz="85073003329"),
        refused(codes.BAD_REFERENCE, codes.INVALID_INSZ),
        opening=RESIDENT,
    ),
    PvtRow(
        "FAC-01: a facility not recognised",
        extension("2026-07-01", "2026-09-30", nihdi=OTHER_NIHDI),
        refused(codes.UNKNOWN_FACILITY),
        opening=RESIDENT,
        before=(Recognise(),),
    ),
]

ROWS = EXTENSION + DISCHARGE + CANCEL_AND_COMMON


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_modification(fresh_simulator: Simulator, signed: Signer, row: PvtRow) -> None:
    """The modification gets the row's outcome, codes and granted period."""
    run = Run.on(fresh_simulator, signed)
    check_pvt(play_pvt(run, row), row, run)


class TestOtherSector:
    """A reference names a REVA application or a PVT admission, never both kinds of file."""

    def test_a_pvt_modification_of_a_reva_application(
        self, simulator: Simulator, signed: Signer
    ) -> None:
        """VSB-MOD-SECTOR, with the identity checks besides."""
        client = SoapClient(simulator.url)
        reference = client.submit(signed(reva_application())).text("v:VsbReference") or ""
        for message, expected in [
            (pvt_discharge(reference, SENT), [codes.OTHER_SECTOR]),
            (pvt_cancel(reference, "85073003329"), [codes.OTHER_SECTOR, codes.INVALID_INSZ]),
        ]:
            reply = client.submit(signed(message))
            assert (reply.text("v:Outcome"), errors(reply)) == ("refused", expected)
            assert reply.text("v:Error/v:Location") == f"/{message.tag.split('}')[1]}/VsbReference"
        assert simulator.history(reference)["status"] == "accepted"

    def test_a_reva_modification_of_a_pvt_admission(
        self, simulator: Simulator, signed: Signer
    ) -> None:
        """VSB-MOD-SECTOR; the admission is untouched."""
        run = Run(simulator, SoapClient(simulator.url), signed)
        open_admission(run, RESIDENT)
        reply = run.client.submit(signed(reva_stop(run.reference)))
        assert (reply.text("v:Outcome"), errors(reply)) == ("refused", [codes.OTHER_SECTOR])
        assert "a PVT admission" in (reply.text("v:Error/v:Text") or "")
        assert simulator.history(run.reference)["status"] == "accepted"


class TestRecorded:
    """What accepted modifications leave in the stored history."""

    def test_extensions_discharge_and_cancel(self, simulator: Simulator, signed: Signer) -> None:
        """The end moves with each extension; the discharge keeps day, hour and destination."""
        run = Run(simulator, SoapClient(simulator.url), signed)
        open_admission(run, RESIDENT)
        for position, step in enumerate(
            [
                extension("2026-07-01", "2026-09-30"),
                extension("2026-10-01", "2026-12-31"),
                discharge("2026-11-15", "2026-11-20", at="14:45:00+01:00", destination="hospital"),
            ],
            start=1,
        ):
            step.prepare(run, f"r-{position}")
        shown = admin(simulator, "GET", f"applications/{run.reference}")
        assert (shown["start_date"], shown["end_date"]) == ("2026-03-01", "2026-12-31")
        assert [(e["start_date"], e["previous_end_date"]) for e in shown["extensions"]] == [
            ("2026-07-01", "2026-06-30"),
            ("2026-10-01", "2026-09-30"),
        ]
        assert shown["discharge"] == {
            "date": "2026-11-15",
            "time": "14:45:00",
            "destination": "hospital",
            "message_id": "r-3",
        }
        cancel("2026-11-21").prepare(run, "r-4")
        assert admin(simulator, "GET", f"applications/{run.reference}")["status"] == "cancelled"
        (listed,) = admin(simulator, "GET", "state")["admissions"]
        assert (listed["status"], listed["discharge_date"]) == ("cancelled", "2026-11-15")
