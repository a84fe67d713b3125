"""Cases "in beraad", their decision by an admin action, and the mailbox that delivers the
decision until the facility confirms it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from lxml import etree

from simulator import Simulator
from simulator.errors import UnknownCase

from .conftest import CAN_JOIN, NIHDI, NS, SoapClient, admin, reva_application, reva_stop

Signer = Callable[[etree._Element], etree._Element]


def answer_ids(client: SoapClient) -> list[str]:
    return [a.findtext("v:AnswerId", namespaces=NS) or "" for a in client.fetch().answers]


def test_accept_decision_is_delivered_until_confirmed(
    simulator: Simulator, client: SoapClient, signed: Signer
) -> None:
    """The decision comes back on every fetch, with the same AnswerId, until confirmed."""
    first = client.submit(signed(reva_application(exception=True, message_id="app-exc")))
    assert first.text("v:Outcome") == "in-beraad"
    assert first.text("v:Error/v:Code") == "VSB-REVA-EXC"
    assert client.fetch().answers == []

    decision = simulator.decide("app-exc", decision="accept")
    assert decision.in_reply_to == "app-exc"
    assert decision.vsb_reference == "VSB-2026-000001"
    assert decision.answer_id != first.text("v:AnswerId")
    assert simulator.pending() == []

    fetched = client.fetch().answers
    assert len(fetched) == 1
    assert fetched[0].findtext("v:Outcome", namespaces=NS) == "accepted"
    assert fetched[0].findtext("v:InReplyTo", namespaces=NS) == "app-exc"
    assert answer_ids(client) == [decision.answer_id]  # redelivered unchanged

    assert client.confirm([decision.answer_id]) == 1
    assert client.fetch().answers == []
    assert client.confirm([decision.answer_id]) == 0  # confirming twice is harmless


def test_accepted_decision_makes_the_application_stoppable(
    simulator: Simulator, client: SoapClient, signed: Signer
) -> None:
    """After an accept decision the application is accepted under the new reference."""
    client.submit(signed(reva_application(CAN_JOIN, message_id="app-join")))
    reference = simulator.decide("app-join").vsb_reference
    assert reference is not None
    (application,) = simulator.applications()
    assert (application.status, application.vsb_reference) == ("accepted", reference)
    reply = client.submit(signed(reva_stop(reference, CAN_JOIN)))
    assert reply.text("v:Outcome") == "accepted"


def test_refuse_decision_carries_the_code(
    simulator: Simulator, client: SoapClient, signed: Signer
) -> None:
    """A refusal after review carries the given code, or VSB-BERAAD-REF by default."""
    client.submit(signed(reva_application(exception=True, message_id="app-r1")))
    client.submit(signed(reva_application(exception=True, message_id="app-r2", dossier="D-2")))
    simulator.decide("app-r1", decision="refuse", code="VSB-EXC-NOK")
    admin(simulator, "POST", "decide", {"message_id": "app-r2", "decision": "refuse"})
    fetched = client.fetch().answers
    assert [a.findtext("v:Error/v:Code", namespaces=NS) for a in fetched] == [
        "VSB-EXC-NOK",
        "VSB-BERAAD-REF",
    ]
    assert {a.status for a in simulator.applications()} == {"refused"}


def test_fetch_is_oldest_first_and_respects_max(
    simulator: Simulator, client: SoapClient, signed: Signer
) -> None:
    """FetchAnswers returns at most Max answers, oldest first."""
    for n in range(3):
        message_id = f"app-m{n}"
        client.submit(
            signed(reva_application(exception=True, message_id=message_id, dossier=f"D{n}"))
        )
        simulator.decide(message_id)
    replies = client.fetch(limit=2).answers
    assert [a.findtext("v:InReplyTo", namespaces=NS) for a in replies] == ["app-m0", "app-m1"]
    assert client.fetch(nihdi="71000028895").answers == []


def test_resend_of_an_in_beraad_message_returns_the_in_beraad_answer(
    simulator: Simulator, client: SoapClient, signed: Signer
) -> None:
    """The synchronous answer stays the first answer; the decision only goes to the mailbox."""
    message = signed(reva_application(exception=True, message_id="app-same"))
    first = client.submit(message)
    simulator.decide("app-same")
    again = client.submit(message)
    assert again.text("v:AnswerId") == first.text("v:AnswerId")
    assert again.text("v:Outcome") == "in-beraad"


def test_deciding_an_unknown_case_fails(simulator: Simulator) -> None:
    """Deciding a message that is not pending raises UnknownCase (404 on the admin API)."""
    with pytest.raises(UnknownCase):
        simulator.decide("nothing")
    response = admin_status(simulator, {"message_id": "nothing", "decision": "accept"})
    assert response == 404


def admin_status(simulator: Simulator, body: dict[str, str]) -> int:
    import requests

    return requests.post(simulator.admin_url + "decide", json=body, timeout=5).status_code


def test_mailbox_is_per_facility(simulator: Simulator, client: SoapClient, signed: Signer) -> None:
    """Answers go to the facility that sent the request."""
    client.submit(signed(reva_application(exception=True, message_id="app-f")))
    simulator.decide("app-f")
    assert [a.in_reply_to for a in simulator.mailbox(NIHDI)] == ["app-f"]
    assert simulator.mailbox("71000028895") == []
