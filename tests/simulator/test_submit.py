"""Submit end to end over HTTP: rules applied with the simulator's "today", state kept,
and idempotency on the message id."""

from __future__ import annotations

import threading
from collections.abc import Callable
from copy import deepcopy
from datetime import date

from lxml import etree

from simulator import Simulator

from .conftest import (
    AFFILIATED,
    CAN_JOIN,
    CANNOT_JOIN,
    UNKNOWN,
    SoapClient,
    reva_application,
    reva_stop,
    status_request,
)

Signer = Callable[[etree._Element], etree._Element]


class TestLookUp:
    def test_listed_person(self, client: SoapClient, signed: Signer) -> None:
        """The affiliated example person is with care fund 180."""
        reply = client.submit(signed(status_request(AFFILIATED)))
        assert reply.text("v:InsuranceStatus/v:Affiliation") == "affiliated"
        assert reply.text("v:InsuranceStatus/v:CareFund") == "180"

    def test_three_states(self, client: SoapClient, signed: Signer) -> None:
        """Look-ups are accepted for every affiliation state."""
        for insz, state in [(CAN_JOIN, "can-join"), (CANNOT_JOIN, "cannot-join")]:
            reply = client.submit(signed(status_request(insz)))
            assert reply.text("v:Outcome") == "accepted"
            assert reply.text("v:InsuranceStatus/v:Affiliation") == state
            assert reply.text("v:InsuranceStatus/v:CareFund") is None

    def test_person_set_by_admin(
        self, simulator: Simulator, client: SoapClient, signed: Signer
    ) -> None:
        """A person set through the Python API changes the answer at once."""
        simulator.set_person(UNKNOWN, "cannot-join")
        reply = client.submit(signed(status_request(UNKNOWN)))
        assert reply.text("v:InsuranceStatus/v:Affiliation") == "cannot-join"


class TestApplication:
    def test_accepted_gets_a_reference(
        self, simulator: Simulator, client: SoapClient, signed: Signer
    ) -> None:
        """An accepted application gets a new VSB reference number, kept in the state."""
        reply = client.submit(signed(reva_application(message_id="app-1")))
        assert reply.text("v:Outcome") == "accepted"
        assert reply.text("v:InReplyTo") == "app-1"
        reference = reply.text("v:VsbReference")
        assert reference == "VSB-2026-000001"
        (application,) = simulator.applications()
        assert (application.status, application.vsb_reference) == ("accepted", reference)

    def test_thirty_day_rule_uses_the_simulated_today(
        self, simulator: Simulator, client: SoapClient, signed: Signer
    ) -> None:
        """Moving "today" forward makes the same application late."""
        simulator.set_today(date(2026, 4, 1))
        reply = client.submit(signed(reva_application()))
        assert reply.text("v:Outcome") == "refused"
        assert reply.text("v:Error/v:Code") == "VSB-REVA-30D"
        assert reply.text("v:Error/v:Level") == "E"
        assert reply.text("v:Error/v:Location") == "/RevaApplication/StartDate"
        assert reply.text("v:VsbReference") is None

    def test_cannot_join_is_refused(self, client: SoapClient, signed: Signer) -> None:
        """A user who cannot join is refused VSB-AFF-02."""
        reply = client.submit(signed(reva_application(CANNOT_JOIN)))
        assert reply.text("v:Error/v:Code") == "VSB-AFF-02"

    def test_can_join_is_in_beraad_and_pending(
        self, simulator: Simulator, client: SoapClient, signed: Signer
    ) -> None:
        """A user who can join gets "in beraad"; the case waits for a decision."""
        reply = client.submit(signed(reva_application(CAN_JOIN, message_id="app-join")))
        assert reply.text("v:Outcome") == "in-beraad"
        assert reply.text("v:Error/v:Code") == "VSB-AFF-01"
        assert [case.message_id for case in simulator.pending()] == ["app-join"]

    def test_unrecognised_facility_is_refused(
        self, simulator: Simulator, client: SoapClient, signed: Signer
    ) -> None:
        """With a recognised set configured, other facilities are refused VSB-FAC-01."""
        simulator.set_recognised_facilities(["71000019997"])
        reply = client.submit(signed(reva_application(nihdi="71000028895")))
        assert reply.text("v:Error/v:Code") == "VSB-FAC-01"


class TestStop:
    def test_stop_of_accepted_application(
        self, simulator: Simulator, client: SoapClient, signed: Signer
    ) -> None:
        """A stop is accepted, echoes the reference, and is recorded on the application."""
        reference = client.submit(signed(reva_application())).text("v:VsbReference")
        assert reference is not None
        reply = client.submit(signed(reva_stop(reference, message_id="stop-1")))
        assert reply.text("v:Outcome") == "accepted"
        assert reply.text("v:VsbReference") == reference
        (application,) = simulator.applications()
        assert application.stop is not None
        assert (application.stop.day, application.stop.message_id) == (date(2026, 6, 30), "stop-1")

    def test_stop_needs_an_accepted_application(self, client: SoapClient, signed: Signer) -> None:
        """A stop naming an unknown or not accepted application is refused VSB-MOD-REF."""
        reply = client.submit(signed(reva_stop("VSB-2026-999999")))
        assert reply.text("v:Outcome") == "refused"
        assert reply.text("v:Error/v:Code") == "VSB-MOD-REF"
        assert reply.text("v:Error/v:Location") == "/RevaStop/VsbReference"

    def test_stop_by_another_person_is_refused(self, client: SoapClient, signed: Signer) -> None:
        """A stop whose INSZ differs from the application's is refused VSB-MOD-REF."""
        reference = client.submit(signed(reva_application())).text("v:VsbReference")
        assert reference is not None
        reply = client.submit(signed(reva_stop(reference, UNKNOWN)))
        assert reply.text("v:Error/v:Code") == "VSB-MOD-REF"

    def test_stop_before_start_is_refused(self, client: SoapClient, signed: Signer) -> None:
        """A stop date before the application's start is refused VSB-STOP-DATE."""
        reference = client.submit(signed(reva_application())).text("v:VsbReference")
        assert reference is not None
        reply = client.submit(signed(reva_stop(reference, stop="2026-02-01")))
        assert reply.text("v:Error/v:Code") == "VSB-STOP-DATE"


class TestIdempotency:
    def test_same_message_id_gets_the_first_answer_and_has_one_effect(
        self, simulator: Simulator, client: SoapClient, signed: Signer
    ) -> None:
        """A repeated message id returns the first answer; no new reference, marked duplicate."""
        message = signed(reva_application(message_id="app-twice"))
        first = client.submit(message)
        issued = simulator.references_issued
        second = client.submit(message)
        assert etree.tostring(second.answer) == etree.tostring(first.answer)
        assert simulator.references_issued == issued
        assert len(simulator.applications()) == 1
        calls = simulator.record()
        assert [(c.message_id, c.duplicate) for c in calls] == [
            ("app-twice", False),
            ("app-twice", True),
        ]
        assert calls[1].answer_id == calls[0].answer_id

    def test_duplicate_ignores_changed_rules(
        self, simulator: Simulator, client: SoapClient, signed: Signer
    ) -> None:
        """Even after "today" moved on, a resend gets the original answer, not a new verdict."""
        message = signed(reva_application(message_id="app-resend"))
        first = client.submit(message)
        simulator.set_today(date(2027, 1, 1))
        again = client.submit(message)
        assert again.text("v:Outcome") == first.text("v:Outcome") == "accepted"
        assert again.text("v:AnswerId") == first.text("v:AnswerId")

    def test_concurrent_duplicates_have_one_effect(
        self, simulator: Simulator, signed: Signer
    ) -> None:
        """Two simultaneous sends of one message id hand out one reference."""
        simulator.set_latency(100)
        message = signed(reva_application(message_id="app-race"))
        answers: list[str | None] = []

        def send(copy: etree._Element) -> None:
            answers.append(SoapClient(simulator.url).submit(copy).text("v:AnswerId"))

        # One copy per thread: an lxml tree must not be serialised by two threads at once.
        threads = [threading.Thread(target=send, args=(deepcopy(message),)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(set(answers)) == 1
        assert simulator.references_issued == 1
        assert len(answers) == 4
        assert sorted(call.duplicate for call in simulator.record()) == [False, True, True, True]
