"""Session quotas through the admin ledger (POST /admin/sessions), and the change of facility
(RevaApplication with PreviousVsbReference): one row per rule and boundary, over HTTP."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import requests

from simulator import Simulator
from simulator.rules import codes

from .conftest import UNKNOWN, SoapClient, admin, reva_cancel, reva_extension
from .scenario import (
    ACCEPTED,
    BIS_NO_BIRTH_DATE,
    BIS_PLUS_20,
    BIS_PLUS_40,
    BORN_2008_02_28,
    BORN_2008_02_29,
    BORN_2008_03_01,
    BORN_2008_03_02,
    MINOR,
    UNKNOWN_REFERENCE,
    Opening,
    Row,
    Run,
    Send,
    Sessions,
    Signer,
    Step,
    check,
    facility_change,
    open_application,
    play,
    refused,
)

DIAGNOSIS = Opening("diagnosis", end="2029-02-28")
"""Diagnosis from 1 March 2026 of an adult (born 1985): 16 sessions."""


def diagnosis_of(insz: str) -> Opening:
    """A diagnosis period from 1 March 2026 of ``insz``."""
    return Opening("diagnosis", end="2029-02-28", insz=insz)


@dataclass(frozen=True)
class QuotaRow:
    """Sessions offered after the row's earlier steps, and what the ledger makes of them."""

    id: str
    opening: Opening
    offered: Sessions
    quota: int
    accepted: int
    before: tuple[Step, ...] = ()


QUOTAS = [
    QuotaRow(
        "diagnosis from 18: the 16th",
        DIAGNOSIS,
        Sessions("2026-05-05", 1),
        16,
        1,
        (Sessions("2026-05-04", 15),),
    ),
    QuotaRow(
        "diagnosis from 18: the 17th",
        DIAGNOSIS,
        Sessions("2026-05-05", 1),
        16,
        0,
        (Sessions("2026-05-04", 16),),
    ),
    QuotaRow("diagnosis from 18: 17 at once", DIAGNOSIS, Sessions("2026-05-05", 17), 16, 16),
    QuotaRow(
        "diagnosis under 18: the 32nd",
        diagnosis_of(MINOR),
        Sessions("2026-05-05", 1),
        32,
        1,
        (Sessions("2026-05-04", 31),),
    ),
    QuotaRow(
        "diagnosis under 18: the 33rd",
        diagnosis_of(MINOR),
        Sessions("2026-05-05", 1),
        32,
        0,
        (Sessions("2026-05-04", 32),),
    ),
    # The age at the start of the period (1 March 2026).
    QuotaRow(
        "18 the day before the start",
        diagnosis_of(BORN_2008_02_28),
        Sessions("2026-05-05", 17),
        16,
        16,
    ),
    QuotaRow("18 on the start", diagnosis_of(BORN_2008_03_01), Sessions("2026-05-05", 17), 16, 16),
    QuotaRow(
        "18 the day after the start",
        diagnosis_of(BORN_2008_03_02),
        Sessions("2026-05-05", 17),
        32,
        17,
    ),
    QuotaRow(
        "born on 29 February: 18 on 1 March",
        diagnosis_of(BORN_2008_02_29),
        Sessions("2026-05-05", 17),
        16,
        16,
    ),
    QuotaRow(
        "BIS number, month + 20, under 18",
        diagnosis_of(BIS_PLUS_20),
        Sessions("2026-05-05", 17),
        32,
        17,
    ),
    QuotaRow(
        "BIS number, month + 40, under 18",
        diagnosis_of(BIS_PLUS_40),
        Sessions("2026-05-05", 17),
        32,
        17,
    ),
    QuotaRow(
        "BIS number without a birth date: adult",
        diagnosis_of(BIS_NO_BIRTH_DATE),
        Sessions("2026-05-05", 17),
        16,
        16,
    ),
    QuotaRow(
        "coordination: the 70th",
        Opening(),
        Sessions("2026-05-05", 1),
        70,
        1,
        (Sessions("2026-05-04", 69),),
    ),
    QuotaRow(
        "coordination: the 71st",
        Opening(),
        Sessions("2026-05-05", 1),
        70,
        0,
        (Sessions("2026-05-04", 70),),
    ),
    QuotaRow(
        "coordination under 18: 70 too", Opening(insz=MINOR), Sessions("2026-05-05", 71), 70, 70
    ),
    QuotaRow(
        "a coordination extension is a new period of 70",
        Opening(end="2026-08-31"),
        Sessions("2026-09-02", 70),
        70,
        70,
        (
            Sessions("2026-05-04", 70),
            Send("2026-09-01", reva_extension, "2026-09-01", "2031-08-31"),
        ),
    ),
    QuotaRow(
        "the period before the extension stays used up",
        Opening(end="2026-08-31"),
        Sessions("2026-08-31", 1),
        70,
        0,
        (
            Sessions("2026-05-04", 70),
            Send("2026-09-01", reva_extension, "2026-09-01", "2031-08-31"),
        ),
    ),
    QuotaRow(
        "a diagnosis extension brings no new sessions",
        Opening("diagnosis", end="2026-08-31"),
        Sessions("2026-09-02", 1),
        16,
        0,
        (
            Sessions("2026-05-04", 16),
            Send("2026-09-01", reva_extension, "2026-09-01", "2027-08-31"),
        ),
    ),
]


class TestQuotas:
    """POST /admin/sessions accepts sessions up to the period's quota, refuses the rest."""

    @pytest.mark.parametrize("row", QUOTAS, ids=[row.id for row in QUOTAS])
    def test_row(self, fresh_simulator: Simulator, signed: Signer, row: QuotaRow) -> None:
        """The ledger answers the row's quota, accepted and refused counts."""
        run = Run.on(fresh_simulator, signed)
        open_application(run, row.opening)
        for position, step in enumerate(row.before, start=1):
            step.prepare(run, f"m-{position}")
        body = {"vsb_reference": run.reference, "date": row.offered.day, "count": row.offered.count}
        answer = admin(run.simulator, "POST", "sessions", body)
        refused = row.offered.count - row.accepted
        assert (answer["quota"], answer["accepted"], answer["refused"]) == (
            row.quota,
            row.accepted,
            refused,
        )
        assert [error["code"] for error in answer.get("errors", [])] == (
            [codes.QUOTA_USED] if refused else []
        )


class TestLedgerApi:
    """The sessions endpoint's answers for a bad request."""

    def test_unknown_reference_is_404(self, simulator: Simulator) -> None:
        """Sessions for a reference the simulator never gave are a 404 with an error text."""
        body = {"vsb_reference": UNKNOWN_REFERENCE, "date": "2026-05-04", "count": 1}
        response = requests.post(simulator.admin_url + "sessions", json=body, timeout=5)
        assert response.status_code == 404
        assert UNKNOWN_REFERENCE in response.json()["error"]

    @pytest.mark.parametrize(
        ("with_reference", "body"),
        [
            (False, {"date": "2026-05-04", "count": 1}),
            (True, {"count": 1}),
            (True, {"date": "4 May", "count": 1}),
            (True, {"date": "2026-05-04", "count": 0}),
            (True, {"date": "2026-05-04", "count": "3"}),
            (True, {"date": "2026-05-04", "count": True}),
        ],
        ids=["no reference", "no date", "bad date", "zero", "text", "boolean"],
    )
    def test_bad_body_is_400(
        self,
        simulator: Simulator,
        client: SoapClient,
        signed: Signer,
        with_reference: bool,
        body: dict,
    ) -> None:
        """A missing reference or date, or a count that is not a positive number, is a 400."""
        run = Run(simulator, client, signed)
        open_application(run, DIAGNOSIS)
        if with_reference:
            body = {"vsb_reference": run.reference, **body}
        response = requests.post(simulator.admin_url + "sessions", json=body, timeout=5)
        assert response.status_code == 400
        assert response.json()["error"]

    def test_used_counts_what_was_accepted(
        self, simulator: Simulator, client: SoapClient, signed: Signer
    ) -> None:
        """``used`` is the period's total after the sessions, refused ones not counted."""
        run = Run(simulator, client, signed)
        open_application(run, DIAGNOSIS)
        body = {"vsb_reference": run.reference, "date": "2026-05-04", "count": 10}
        assert admin(simulator, "POST", "sessions", body)["used"] == 10
        body["count"] = 10
        answer = admin(simulator, "POST", "sessions", body)
        assert (answer["used"], answer["accepted"], answer["refused"]) == (16, 6, 4)


def change_of_facility(end: str = "2029-02-28", **kwargs: str) -> Send:
    """A diagnosis at another facility from 1 June 2026, continuing the row's application."""
    return Send(
        "2026-06-01",
        facility_change,
        request_type="diagnosis",
        start="2026-06-01",
        request_date="2026-06-01",
        end=end,
        **kwargs,
    )


PREVIOUS = [
    Row(
        "REVA-PREV: no application with that reference",
        Send("2026-06-01", facility_change, to=UNKNOWN_REFERENCE, start="2026-06-01"),
        refused(codes.BAD_PREVIOUS),
        DIAGNOSIS,
    ),
    Row(
        "REVA-PREV: the application of another user",
        change_of_facility(insz=UNKNOWN),
        refused(codes.BAD_PREVIOUS),
        DIAGNOSIS,
    ),
    Row(
        "REVA-PREV: a cancelled application",
        change_of_facility(),
        refused(codes.BAD_PREVIOUS),
        DIAGNOSIS,
        before=(Send("2026-05-01", reva_cancel),),
    ),
    Row(
        "REVA-PREV-END: the day before the end",
        change_of_facility("2029-02-27"),
        ACCEPTED,
        DIAGNOSIS,
    ),
    Row("REVA-PREV-END: on the end", change_of_facility("2029-02-28"), ACCEPTED, DIAGNOSIS),
    Row(
        "REVA-PREV-END: the day after the end",
        change_of_facility("2029-03-01"),
        refused(codes.PREVIOUS_END),
        DIAGNOSIS,
    ),
    Row(
        "REVA-PREV-END: the end as extended",
        change_of_facility("2027-08-31"),
        ACCEPTED,
        Opening("diagnosis", end="2026-05-31"),
        before=(Send("2026-06-01", reva_extension, "2026-06-01", "2027-08-31"),),
    ),
]


class TestFacilityChange:
    """A RevaApplication with PreviousVsbReference continues the previous application."""

    @pytest.mark.parametrize("row", PREVIOUS, ids=[row.id for row in PREVIOUS])
    def test_row(self, fresh_simulator: Simulator, signed: Signer, row: Row) -> None:
        """The application gets the row's outcome and error codes."""
        run = Run.on(fresh_simulator, signed)
        check(play(run, row), row, run)

    def carried(
        self, simulator: Simulator, client: SoapClient, signed: Signer, opening: Opening
    ) -> str:
        """Open ``opening``, use 10 sessions, change facility; the new reference."""
        row = Row(
            "carry",
            change_of_facility(insz=opening.insz),
            ACCEPTED,
            opening,
            (Sessions("2026-05-04", 10),),
        )
        run = Run(simulator, client, signed)
        reply = play(run, row)
        check(reply, row, run)
        return reply.text("v:VsbReference") or ""

    def test_used_sessions_carry_over(
        self, simulator: Simulator, client: SoapClient, signed: Signer
    ) -> None:
        """The new application starts with the 10 sessions used: 6 more fit in 16, not 7."""
        reference = self.carried(simulator, client, signed, DIAGNOSIS)
        body = {"vsb_reference": reference, "date": "2026-06-02", "count": 7}
        answer = admin(simulator, "POST", "sessions", body)
        assert (answer["quota"], answer["accepted"], answer["refused"]) == (16, 6, 1)

    def test_quota_follows_the_age_at_the_first_start(
        self, simulator: Simulator, client: SoapClient, signed: Signer
    ) -> None:
        """Under 18 on 1 March, 18 on 1 June: the period, and its 32 sessions, carry over."""
        reference = self.carried(simulator, client, signed, diagnosis_of(BORN_2008_03_02))
        body = {"vsb_reference": reference, "date": "2026-06-02", "count": 23}
        answer = admin(simulator, "POST", "sessions", body)
        assert (answer["quota"], answer["accepted"], answer["refused"]) == (32, 22, 1)
        history = admin(simulator, "GET", f"applications/{reference}")
        assert (history["period_start"], history["start_date"]) == ("2026-03-01", "2026-06-01")
