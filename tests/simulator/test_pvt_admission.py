"""PVT admissions (switch-over 1/4/2023): migration files and new requests, one row per
rule and boundary (31/3, 1/4, 30/4 and 1/5/2023; the 30-day grant at today - 31, - 30,
- 29), over HTTP with "today" pinned."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from simulator import Simulator
from simulator.rules import codes

from .builders_pvt import migration_file, pvt_admission
from .conftest import CAN_JOIN, CANNOT_JOIN, NIHDI, NS, SoapClient, admin
from .pvt_scenario import Admit, PvtRow, check_pvt, granted, play_pvt
from .scenario import ACCEPTED, OTHER_NIHDI, Run, Signer, in_beraad, refused

MIGRATED_ON = "2023-05-15"
"""The day the migration rows are sent (it plays no part: no 30-day rule)."""


def migration(day: str = MIGRATED_ON, **kwargs: Any) -> Admit:
    """A migration file sent on ``day`` (defaults: admitted 2022-06-01, received by the VI
    2023-03-01, approved 2023-03-15 for 2022-06-01 .. 2024-05-31)."""
    return Admit(day, migration_file, kwargs)


def new_request(day: str, admission: str, **kwargs: Any) -> Admit:
    """A new request received on ``day`` for a stay begun on ``admission``."""
    return Admit(day, pvt_admission, {"admission": admission, "request_date": day} | kwargs)


MIGRATION = [
    PvtRow(
        "admitted 2023-03-31: migrated from 2023-04-01",
        migration(admission="2023-03-31", approved_start="2023-03-31"),
        ACCEPTED,
        ("2023-04-01", "2024-05-31"),
    ),
    PvtRow(
        "MIG-NEW: admitted 2023-04-01",
        migration(admission="2023-04-01", approved_start="2023-04-01"),
        refused(codes.PVT_MIGRATION_NEW),
    ),
    PvtRow(
        "VI receipt 2023-03-31",
        migration(receipt="2023-03-31"),
        ACCEPTED,
        ("2023-04-01", "2024-05-31"),
    ),
    PvtRow(
        "VI receipt 2023-04-30, approved after the switch-over",
        migration(receipt="2023-04-30", approval="2023-05-10"),
        ACCEPTED,
        ("2023-04-01", "2024-05-31"),
    ),
    PvtRow(
        "MIG-LATE: VI receipt 2023-05-01, a late request",
        migration(receipt="2023-05-01", approval="2023-05-10"),
        refused(codes.PVT_MIGRATION_RECEIVED_LATE),
    ),
    PvtRow(
        "MIG-ENDED: approved until 2023-03-30",
        migration(approved_end="2023-03-30"),
        refused(codes.PVT_MIGRATION_NOTHING_LEFT),
    ),
    PvtRow(
        "approved until 2023-03-31: migrated, its extension follows",
        migration(approved_end="2023-03-31"),
        ACCEPTED,
        ("2023-04-01", "2023-03-31"),
    ),
    PvtRow(
        "approved until 2023-04-01",
        migration(approved_end="2023-04-01"),
        ACCEPTED,
        ("2023-04-01", "2023-04-01"),
    ),
    PvtRow(
        "MIG-END: approved end the day before its start",
        migration(admission="2023-03-20", approved_start="2023-06-10", approved_end="2023-06-09"),
        refused(codes.PVT_MIGRATION_END),
    ),
    PvtRow(
        "approved end on its start",
        migration(admission="2023-03-20", approved_start="2023-06-10", approved_end="2023-06-10"),
        ACCEPTED,
        ("2023-06-10", "2023-06-10"),
    ),
    PvtRow(
        "MIG-END and MIG-ENDED together",
        migration(approved_start="2023-03-20", approved_end="2023-03-10"),
        refused(codes.PVT_MIGRATION_END, codes.PVT_MIGRATION_NOTHING_LEFT),
    ),
    PvtRow(
        "approved from 2023-04-15: granted from it",
        migration(admission="2023-03-20", approved_start="2023-04-15"),
        ACCEPTED,
        ("2023-04-15", "2024-05-31"),
    ),
    PvtRow(
        "MIG-VI: no ViApproval", migration(vi=False), refused(codes.PVT_MIGRATION_NO_VI_APPROVAL)
    ),
    PvtRow(
        "MIG-CONSENT: an informed consent sent",
        migration(consent=True),
        refused(codes.PVT_MIGRATION_CONSENT),
    ),
    PvtRow(
        "MIG-NEW and MIG-VI together",
        migration(admission="2023-04-01", vi=False),
        refused(codes.PVT_MIGRATION_NEW, codes.PVT_MIGRATION_NO_VI_APPROVAL),
    ),
    PvtRow(
        "no 30-day rule: sent years later",
        migration("2026-03-10"),
        ACCEPTED,
        ("2023-04-01", "2024-05-31"),
    ),
    PvtRow("AFF-01: a user who can join", migration(insz=CAN_JOIN), in_beraad(codes.CAN_JOIN)),
    PvtRow(
        "AFF-02: a user who cannot join", migration(insz=CANNOT_JOIN), refused(codes.CANNOT_JOIN)
    ),
    PvtRow(
        "INSZ-01 with the migration errors",
        migration(insz="85073003329", vi=False),
        refused(codes.INVALID_INSZ, codes.PVT_MIGRATION_NO_VI_APPROVAL),
    ),
    PvtRow(
        "FAC-01: a facility not recognised",
        migration(nihdi=OTHER_NIHDI),
        refused(codes.UNKNOWN_FACILITY),
    ),
]

NEW = [
    PvtRow(
        "BEFORE: starts 2023-03-31",
        new_request("2023-04-20", "2023-03-31"),
        refused(codes.PVT_BEFORE_SWITCH_OVER),
    ),
    PvtRow(
        "starts 2023-04-01",
        new_request("2023-04-20", "2023-04-01"),
        ACCEPTED,
        ("2023-04-01", None),
    ),
    PvtRow(
        "late request: admitted 2023-03-01, from 2023-04-01, received 2023-05-20",
        new_request("2023-05-20", "2023-03-01", start="2023-04-01"),
        ACCEPTED,
        ("2023-04-20", None),
    ),
    PvtRow(
        "30-day grant: starts today - 31",
        new_request("2026-03-10", "2026-02-07"),
        ACCEPTED,
        ("2026-02-08", None),
    ),
    PvtRow(
        "30-day grant: starts today - 30",
        new_request("2026-03-10", "2026-02-08"),
        ACCEPTED,
        ("2026-02-08", None),
    ),
    PvtRow(
        "30-day grant: starts today - 29",
        new_request("2026-03-10", "2026-02-09"),
        ACCEPTED,
        ("2026-02-09", None),
    ),
    PvtRow(
        "LATE: ends today - 31, before the first day it can be granted",
        new_request("2026-03-10", "2026-01-01", end="2026-02-07"),
        refused(codes.PVT_LATE),
    ),
    PvtRow(
        "ends today - 30: one day granted",
        new_request("2026-03-10", "2026-01-01", end="2026-02-08"),
        ACCEPTED,
        ("2026-02-08", "2026-02-08"),
    ),
    PvtRow(
        "starts after its receipt",
        new_request("2026-03-10", "2026-04-01", end="2026-12-31"),
        ACCEPTED,
        ("2026-04-01", "2026-12-31"),
    ),
    PvtRow(
        "CONSENT: none",
        new_request("2026-03-10", "2026-03-01", consent=None),
        refused(codes.PVT_NO_CONSENT),
    ),
    PvtRow(
        "CONSENT: not signed",
        new_request("2026-03-10", "2026-03-01", consent=False),
        refused(codes.PVT_NO_CONSENT),
    ),
    PvtRow(
        "END: ends the day before it starts",
        new_request("2026-03-10", "2026-03-01", end="2026-02-28"),
        refused(codes.PVT_END_BEFORE_START),
    ),
    PvtRow(
        "ends on its start",
        new_request("2026-03-10", "2026-03-01", end="2026-03-01"),
        ACCEPTED,
        ("2026-03-01", "2026-03-01"),
    ),
    PvtRow(
        "BEFORE, CONSENT and END together",
        new_request("2026-03-10", "2023-03-01", end="2023-02-01", consent=None),
        refused(codes.PVT_BEFORE_SWITCH_OVER, codes.PVT_NO_CONSENT, codes.PVT_END_BEFORE_START),
    ),
    PvtRow(
        "a ViApproval on a new request is not looked at",
        new_request(
            "2026-03-10",
            "2026-03-01",
            vi=("2026-03-01", "2026-03-02", "2020-01-01", "2020-01-02"),
        ),
        ACCEPTED,
        ("2026-03-01", None),
    ),
    PvtRow(
        "AFF-01: a user who can join",
        new_request("2026-03-10", "2026-03-01", insz=CAN_JOIN),
        in_beraad(codes.CAN_JOIN),
    ),
    PvtRow(
        "AFF-02 with the other errors",
        new_request("2026-03-10", "2026-03-01", insz=CANNOT_JOIN, consent=None),
        refused(codes.CANNOT_JOIN, codes.PVT_NO_CONSENT),
    ),
]

ROWS = MIGRATION + NEW


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_admission(fresh_simulator: Simulator, signed: Signer, row: PvtRow) -> None:
    """The admission gets the row's outcome, codes and granted period."""
    fresh_simulator.set_recognised_facilities([NIHDI])
    run = Run.on(fresh_simulator, signed)
    check_pvt(play_pvt(run, row), row, run)


class TestStoredAdmission:
    """What the simulator keeps of an admission and how a review decides it."""

    def test_the_history_and_the_state(self, simulator: Simulator, signed: Signer) -> None:
        """GET /admin/applications/<reference> shows the admission; /admin/state lists it."""
        admin(simulator, "POST", "today", {"date": "2023-05-20"})
        message = pvt_admission(
            admission="2023-03-01", start="2023-04-01", end="2023-12-31", message_id="adm-1"
        )
        reply = SoapClient(simulator.url).submit(signed(message))
        reference = reply.text("v:VsbReference")
        shown = admin(simulator, "GET", f"applications/{reference}")
        assert shown["sector"] == "PVT"
        assert (shown["admission_date"], shown["requested_start_date"]) == (
            "2023-03-01",
            "2023-04-01",
        )
        assert (shown["start_date"], shown["end_date"]) == ("2023-04-20", "2023-12-31")
        assert (shown["received_on"], shown["status"]) == ("2023-05-20", "accepted")
        assert (shown["discharge"], shown["extensions"], shown["migration"]) == (None, [], False)
        assert shown["insz"] == "*********28"
        (listed,) = admin(simulator, "GET", "state")["admissions"]
        assert (listed["vsb_reference"], listed["message_id"]) == (reference, "adm-1")
        assert [a.vsb_reference for a in simulator.admissions()] == [reference]

    def test_a_migration_file_keeps_the_vi_approval(
        self, simulator: Simulator, signed: Signer
    ) -> None:
        """The VI's decision is kept with the migrated admission."""
        reply = SoapClient(simulator.url).submit(signed(migration_file()))
        shown = admin(simulator, "GET", f"applications/{reply.text('v:VsbReference')}")
        assert shown["migration"] is True
        assert shown["vi_approval"] == {
            "receipt_date": "2023-03-01",
            "approval_date": "2023-03-15",
            "approved_start": "2022-06-01",
            "approved_end": "2024-05-31",
        }
        assert (shown["start_date"], shown["end_date"]) == ("2023-04-01", "2024-05-31")

    @pytest.mark.parametrize("decision", ["accept", "refuse"])
    def test_a_review_decides(self, simulator: Simulator, signed: Signer, decision: str) -> None:
        """In beraad for a user who can join; accepted later with the period found on the
        day it came in (even after "today" moved), or refused."""
        client = SoapClient(simulator.url)
        message = pvt_admission(CAN_JOIN, admission="2026-02-01", message_id="join-1")
        assert client.submit(signed(message)).text("v:Outcome") == "in-beraad"
        (case,) = admin(simulator, "GET", "pending")["pending"]
        assert (case["kind"], case["reasons"]) == ("PvtAdmission", [codes.CAN_JOIN])
        admin(simulator, "POST", "today", {"date": "2026-05-01"})
        decided = simulator.decide("join-1", decision=decision)
        (answer,) = client.fetch().answers
        if decision == "accept":
            assert decided.vsb_reference is not None
            assert answer.findtext("v:VsbReference", namespaces=NS) == decided.vsb_reference
            assert answer.findtext("v:GrantedPeriod/v:Start", namespaces=NS) == "2026-02-08"
            shown = simulator.history(decided.vsb_reference)
            assert shown["status"] == "accepted"
        else:
            assert answer.find("v:GrantedPeriod", NS) is None
            assert [error.code for error in decided.errors] == [codes.REFUSED_AFTER_REVIEW]
            (admission,) = simulator.admissions()
            assert admission.status == "refused"

    def test_a_resent_admission_has_one_effect(self, simulator: Simulator, signed: Signer) -> None:
        """The same message id again gets the first answer; one admission, one reference."""
        client = SoapClient(simulator.url)
        message = signed(pvt_admission(message_id="twice"))
        first = client.submit(message)
        admin(simulator, "POST", "today", {"date": "2026-06-01"})
        again = client.submit(message)
        assert again.text("v:AnswerId") == first.text("v:AnswerId")
        assert granted(again) == granted(first) == ("2026-03-01", None)
        assert len(simulator.admissions()) == 1
        assert simulator.references_issued == 1

    def test_an_unknown_reference_is_still_404(self, simulator: Simulator) -> None:
        """The history of a reference nobody has is a 404."""
        response = requests.get(simulator.admin_url + "applications/VSB-2026-999999", timeout=5)
        assert response.status_code == 404
