"""What accepted modifications record (GET /admin/applications/<reference>), a late
modification decided through the admin API, and the new kinds' idempotency and logging."""

from __future__ import annotations

import json
import logging
from datetime import date

import pytest
import requests
from lxml import etree

from simulator import Simulator

from .conftest import (
    AFFILIATED,
    NIHDI,
    SoapClient,
    admin,
    new_id,
    reva_cancel,
    reva_data_change,
    reva_document,
    reva_extension,
    reva_extension_cancel,
    reva_interruption,
    reva_interruption_change,
    reva_km_request,
    reva_km_stop,
    reva_medical_report_change,
    reva_start_change,
    reva_stop,
    reva_stop_cancel,
)
from .scenario import UNKNOWN_REFERENCE, Opening, Run, Send, Signer, open_application

SHORT = Opening(end="2026-08-31")
SESSIONS_DAY = date(2026, 5, 4)


@pytest.fixture
def run(simulator: Simulator, client: SoapClient, signed: Signer) -> Run:
    """The SHORT application (1 March .. 31 August 2026) opened and accepted."""
    played = Run(simulator, client, signed)
    open_application(played, SHORT)
    return played


def send(run: Run, *steps: Send) -> None:
    """Send each step on its day, each under a new message id; each must be accepted."""
    for step in steps:
        step.prepare(run, new_id())


def history(run: Run) -> dict:
    """GET /admin/applications/<reference> of the run's application."""
    return admin(run.simulator, "GET", f"applications/{run.reference}")


class TestHistory:
    """Each accepted modification leaves its trace in the stored history."""

    def test_the_history_of_a_busy_application(self, run: Run) -> None:
        """Start change, interruption and its change, km, documents, data and an extension."""
        send(
            run,
            Send("2026-03-05", reva_start_change, "2026-02-15"),
            Send("2026-03-06", reva_interruption, "2026-04-01", "2026-04-30"),
            Send("2026-03-07", reva_interruption_change, "2026-04-01", "2026-04-05", "2026-05-05"),
            Send("2026-03-08", reva_km_request, "professional"),
            Send("2026-03-09", reva_km_stop, "2026-03-09"),
            Send("2026-03-10", reva_document),
            Send("2026-03-10", reva_document),
            Send("2026-03-11", reva_medical_report_change),
            Send("2026-03-12", reva_data_change, location="Aalst", accident="A-7"),
            Send("2026-09-01", reva_extension, "2026-09-01", "2031-08-31"),
        )
        shown = history(run)
        assert (shown["request_date"], shown["initial_start_date"]) == ("2026-03-01", "2026-03-01")
        assert (shown["start_date"], shown["end_date"]) == ("2026-02-15", "2031-08-31")
        assert (shown["status"], shown["vsb_reference"]) == ("accepted", run.reference)
        assert (shown["location"], shown["accident_code"]) == ("Aalst", "A-7")
        assert (shown["documents"], shown["medical_report_changes"]) == (2, 1)
        (interruption,) = shown["interruptions"]
        assert (interruption["start_date"], interruption["end_date"]) == (
            "2026-04-05",
            "2026-05-05",
        )
        assert shown["km_allowance"]["transport_type"] == "professional"
        assert shown["km_allowance"]["stopped_on"] == "2026-03-09"
        (extension,) = shown["extensions"]
        assert (extension["start_date"], extension["previous_end_date"]) == (
            "2026-09-01",
            "2026-08-31",
        )
        assert shown["closed_on"] is None

    def test_an_extension_cancel_restores_the_end(self, run: Run) -> None:
        """Cancelling the extension brings back the end date it replaced, and keeps its trace."""
        send(
            run,
            Send("2026-09-01", reva_extension, "2026-09-01", "2031-08-31"),
            Send("2026-09-02", reva_extension_cancel, "2026-09-01"),
        )
        shown = history(run)
        assert shown["end_date"] == "2026-08-31"
        assert [e["cancelled"] for e in shown["extensions"]] == [True]
        assert shown["closed_on"] == "2026-08-31"

    def test_a_stop_closes_and_its_cancel_reopens(self, run: Run) -> None:
        """A stop closes the period on its date; cancelled, the period is open again."""
        send(run, Send("2026-06-30", reva_stop, stop="2026-06-30"))
        assert history(run)["closed_on"] == "2026-06-30"
        send(run, Send("2026-07-01", reva_stop_cancel))
        shown = history(run)
        assert (shown["stop"]["cancelled"], shown["closed_on"]) == (True, None)

    def test_a_cancel_marks_the_application_cancelled(self, run: Run) -> None:
        """An accepted cancel leaves the application "cancelled"."""
        send(run, Send("2026-03-10", reva_cancel))
        assert history(run)["status"] == "cancelled"
        assert [a["status"] for a in admin(run.simulator, "GET", "state")["applications"]] == [
            "cancelled"
        ]

    def test_the_quota_reached_closes_the_period(self, run: Run) -> None:
        """The sessions balance is shown; the period closes on the day the quota was reached."""
        body = {"vsb_reference": run.reference, "date": "2026-05-04", "count": 70}
        admin(run.simulator, "POST", "sessions", body)
        sessions = history(run)["sessions"]
        assert (sessions["quota"], sessions["used"]) == (70, 70)
        assert sessions["quota_reached_on"] == "2026-05-04"
        assert sessions["ledger"] == [{"date": "2026-05-04", "count": 70}]
        assert history(run)["closed_on"] == "2026-05-04"

    def test_no_personal_data_beyond_the_masked_insz(self, run: Run) -> None:
        """The INSZ is masked and the contact person, kept, is not shown."""
        send(run, Send("2026-03-10", reva_data_change, contact="Jan Janssens"))
        text = json.dumps(history(run))
        assert history(run)["insz"] == "*********28"
        assert AFFILIATED not in text
        assert "Janssens" not in text
        (application,) = run.simulator.applications()
        assert application.contact_person == "Jan Janssens"

    def test_unknown_reference_is_404(self, simulator: Simulator) -> None:
        """An unknown reference is a 404 naming it."""
        response = requests.get(
            simulator.admin_url + f"applications/{UNKNOWN_REFERENCE}", timeout=5
        )
        assert response.status_code == 404
        assert UNKNOWN_REFERENCE in response.json()["error"]

    def test_the_python_api_gives_the_same(self, run: Run) -> None:
        """``Simulator.history`` and ``record_sessions`` mirror the admin endpoints."""
        result = run.simulator.record_sessions(run.reference, SESSIONS_DAY, 3)
        assert (result.quota, result.used, result.accepted, result.refused) == (70, 3, 3, 0)
        assert run.simulator.history(run.reference) == history(run)


class TestLateDecision:
    """A late modification waits in beraad; the admin decision applies it or not."""

    def late_change(self, run: Run) -> str:
        """A location change 6 days after the end date: in beraad; its message id."""
        reply = Send("2026-09-06", reva_data_change, location="Aalst").submit(run, "late-1")
        assert reply.text("v:Outcome") == "in-beraad"
        return "late-1"

    def test_accept_applies_the_modification(self, run: Run) -> None:
        """Accepted by reference: the answer goes to the mailbox and the change is recorded."""
        message_id = self.late_change(run)
        (case,) = admin(run.simulator, "GET", "pending")["pending"]
        assert (case["kind"], case["vsb_reference"]) == ("RevaDataChange", run.reference)
        assert case["reasons"] == ["VSB-MOD-LATE"]
        assert history(run)["location"] == "Gent"
        body = {"vsb_reference": run.reference, "decision": "accept"}
        decided = admin(run.simulator, "POST", "decide", body)["answer"]
        assert (decided["in_reply_to"], decided["outcome"]) == (message_id, "accepted")
        assert decided["vsb_reference"] == run.reference
        assert history(run)["location"] == "Aalst"
        (delivered,) = run.simulator.mailbox(NIHDI)
        assert delivered.answer_id == decided["answer_id"]

    def test_refuse_changes_nothing(self, run: Run) -> None:
        """Refused: the answer names VSB-BERAAD-REF and the application is as it was."""
        message_id = self.late_change(run)
        body = {"message_id": message_id, "decision": "refuse"}
        decided = admin(run.simulator, "POST", "decide", body)["answer"]
        assert [e["code"] for e in decided["errors"]] == ["VSB-BERAAD-REF"]
        assert decided["vsb_reference"] is None
        assert history(run)["location"] == "Gent"


class TestModificationDelivery:
    """The new kinds keep the simulator's guarantees: idempotency and masked logs."""

    def test_a_resent_extension_has_one_effect(self, run: Run) -> None:
        """The same message id again gets the first answer and adds no second extension."""
        admin(run.simulator, "POST", "today", {"date": "2026-09-01"})
        message = run.sign(
            reva_extension(run.reference, "2026-09-01", "2031-08-31", message_id="x")
        )
        first = run.client.submit(message)
        admin(run.simulator, "POST", "today", {"date": "2026-09-02"})
        again = run.client.submit(message)
        assert etree.tostring(again.answer) == etree.tostring(first.answer)
        assert len(history(run)["extensions"]) == 1

    def test_logs_never_show_the_insz(self, run: Run, caplog: pytest.LogCaptureFixture) -> None:
        """Modifications, refusals and sessions are logged without the user's INSZ."""
        caplog.set_level(logging.DEBUG, logger="simulator")
        send(run, Send("2026-03-10", reva_interruption, "2026-04-01", "2026-04-30"))
        Send("2026-03-10", reva_data_change).submit(run, "empty-1")
        run.simulator.record_sessions(run.reference, SESSIONS_DAY, 71)
        assert caplog.records
        assert all(AFFILIATED not in record.getMessage() for record in caplog.records)
