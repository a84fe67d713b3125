"""The admin JSON API, the WSDL, and a zeep client against the simulator."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
import zeep
import zeep.exceptions
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from adapter.wssecurity import WsSecurityPlugin
from simulator import Simulator

from .conftest import (
    NIHDI,
    NS,
    UNKNOWN,
    Credentials,
    SoapClient,
    admin,
    reva_application,
    sign,
    status_request,
)

Signer = Callable[[etree._Element], etree._Element]


def test_health(simulator: Simulator) -> None:
    """GET health reports the pinned "today" and the trusted certificate count."""
    health = admin(simulator, "GET", "health")
    assert health["status"] == "ok"
    assert health["today"] == "2026-03-10"
    assert health["today_pinned"] is True
    assert health["trusted_certs"] == 1


def test_today_can_be_set_and_released(simulator: Simulator) -> None:
    """POST today pins a date; a null date follows the clock again."""
    assert admin(simulator, "POST", "today", {"date": "2027-01-02"})["date"] == "2027-01-02"
    assert simulator.today().isoformat() == "2027-01-02"
    assert admin(simulator, "POST", "today", {"date": None})["pinned"] is False


def test_record_and_reset(simulator: Simulator, client: SoapClient, signed: Signer) -> None:
    """GET record lists Submit calls with timings; POST reset-record clears it."""
    client.submit(signed(reva_application(message_id="rec-1", dossier="D-9", sequence=3)))
    client.fetch()  # mailbox calls are not recorded
    (call,) = admin(simulator, "GET", "record")["calls"]
    assert call["message_id"] == "rec-1"
    assert (call["kind"], call["dossier_id"], call["sequence"]) == ("RevaApplication", "D-9", 3)
    assert (call["outcome"], call["http_status"], call["duplicate"]) == ("accepted", 200, False)
    assert call["received_at"] <= call["finished_at"]
    assert call["received_wall"]
    assert call["finished_wall"]
    admin(simulator, "POST", "reset-record")
    assert admin(simulator, "GET", "record")["calls"] == []


def test_faults_and_latency(simulator: Simulator, client: SoapClient, signed: Signer) -> None:
    """POST faults and POST latency change behaviour; GET faults shows them."""
    shown = admin(simulator, "POST", "faults", {"kind": "soap-server-fault", "next": 1})
    assert shown["plan"]["remaining"] == 1
    assert client.submit(signed(status_request())).fault is not None
    assert admin(simulator, "GET", "faults")["plan"]["remaining"] == 0
    admin(simulator, "POST", "faults", {"kind": None})
    assert admin(simulator, "POST", "latency", {"latency_ms": 5})["latency"]["latency_ms"] == 5
    bad = requests.post(simulator.admin_url + "faults", json={"kind": "gremlins"}, timeout=5)
    assert bad.status_code == 400


def test_persons(simulator: Simulator, client: SoapClient, signed: Signer) -> None:
    """POST persons changes the population; a bad person is a 400."""
    admin(
        simulator,
        "POST",
        "persons",
        {UNKNOWN: {"affiliation": "affiliated", "care_fund": "480", "valid_from": "2024-01-01"}},
    )
    reply = client.submit(signed(status_request(UNKNOWN)))
    assert reply.text("v:InsuranceStatus/v:CareFund") == "480"
    assert admin(simulator, "GET", "persons")["persons"][UNKNOWN]["care_fund"] == "480"
    bad = requests.post(
        simulator.admin_url + "persons",
        json={UNKNOWN: {"affiliation": "affiliated", "care_fund": "999"}},
        timeout=5,
    )
    assert bad.status_code == 400


def test_pending_decide_state_mailbox(
    simulator: Simulator, client: SoapClient, signed: Signer
) -> None:
    """GET pending, POST decide, GET state and GET mailbox work together."""
    client.submit(signed(reva_application(exception=True, message_id="adm-1")))
    (case,) = admin(simulator, "GET", "pending")["pending"]
    assert (case["message_id"], case["reasons"]) == ("adm-1", ["VSB-REVA-EXC"])
    decided = admin(simulator, "POST", "decide", {"message_id": "adm-1", "decision": "accept"})
    reference = decided["answer"]["vsb_reference"]
    (application,) = admin(simulator, "GET", "state")["applications"]
    assert (application["status"], application["vsb_reference"]) == ("accepted", reference)
    boxes = admin(simulator, "GET", "mailbox")["mailboxes"]
    assert [a["in_reply_to"] for a in boxes[NIHDI]] == ["adm-1"]
    assert admin(simulator, "GET", "pending")["pending"] == []


def test_unknown_admin_action_is_404(simulator: Simulator) -> None:
    """An unknown admin action answers 404 with the known ones."""
    response = requests.get(simulator.admin_url + "nope", timeout=5)
    assert response.status_code == 404
    assert "health" in response.json()["error"]


def test_wsdl_points_at_the_running_server(simulator: Simulator) -> None:
    """GET /soap?wsdl serves the WSDL with soap:address rewritten to this server."""
    wsdl = etree.fromstring(requests.get(simulator.wsdl_url, timeout=5).content)
    address = wsdl.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address is not None
    assert address.get("location") == simulator.url


def test_zeep_client_round_trip(simulator: Simulator, credentials: Credentials) -> None:
    """zeep passes a signed element through the xs:any slot and gets the vsb:Answer back."""
    certificate = x509.load_pem_x509_certificate(credentials.cert_pem)
    security = WsSecurityPlugin(
        lambda: (
            lambda data: credentials.key.sign(data, padding.PKCS1v15(), hashes.SHA256()),
            certificate,
        ),
        trusted=None,
        ttl_seconds=300,
    )
    client = zeep.Client(simulator.wsdl_url, plugins=[security])
    answer = client.service.Submit(_value_1=sign(reva_application(message_id="z-1"), credentials))
    assert answer.findtext("v:Outcome", namespaces=NS) == "accepted"
    with pytest.raises(zeep.exceptions.Fault) as fault:
        client.service.Submit(_value_1=status_request())
    assert (fault.value.code, fault.value.message) == ("soap:Client", "signature: missing")
    client.service.Submit(
        _value_1=sign(reva_application(exception=True, message_id="z-2"), credentials)
    )
    simulator.decide("z-2")
    (later,) = client.service.FetchAnswers(Nihdi=NIHDI, Max=5)
    answer_id = later.findtext("v:AnswerId", namespaces=NS)
    assert client.service.ConfirmAnswers(Nihdi=NIHDI, AnswerId=[answer_id]) == 1
    assert client.service.FetchAnswers(Nihdi=NIHDI, Max=5) is None
