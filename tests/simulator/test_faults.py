"""Injected faults and latency: what the client sees and whether the request took effect."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
import requests
from lxml import etree

from simulator import Simulator, SimulatorConfig

from .conftest import (
    Credentials,
    SoapClient,
    envelope,
    reva_application,
    secured,
    status_request,
    trusted_credentials,
)

Signer = Callable[[etree._Element], etree._Element]


def post_raw(
    simulator: Simulator, payload: etree._Element, timeout: float = 5
) -> requests.Response:
    return requests.post(
        simulator.url,
        data=secured(envelope("Submit", [payload]), trusted_credentials()),
        headers={"Content-Type": "text/xml; charset=utf-8"},
        timeout=timeout,
    )


def test_http500_is_plain_and_not_applied(simulator: Simulator, signed: Signer) -> None:
    """http500: a bare HTTP 500 without SOAP; nothing applied, the resend is processed anew."""
    simulator.set_faults("http500")
    message = signed(reva_application(message_id="f-500"))
    response = post_raw(simulator, message)
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("text/plain")
    assert simulator.applications() == []
    assert SoapClient(simulator.url).submit(message).text("v:Outcome") == "accepted"
    assert [(c.injected, c.http_status, c.duplicate) for c in simulator.record()] == [
        ("http500", 500, False),
        (None, 200, False),
    ]


def test_soap_server_fault(simulator: Simulator, client: SoapClient, signed: Signer) -> None:
    """soap-server-fault: a soap:Server fault (transient), nothing applied."""
    simulator.set_faults("soap-server-fault")
    reply = client.submit(signed(reva_application()))
    assert reply.status == 500
    assert reply.fault == ("soap:Server", "simulated server fault")
    assert simulator.applications() == []


def test_drop_closes_without_response(simulator: Simulator, signed: Signer) -> None:
    """drop: the connection closes without any response; nothing applied."""
    simulator.set_faults("drop")
    with pytest.raises(requests.ConnectionError):
        post_raw(simulator, signed(reva_application(message_id="f-drop")))
    assert simulator.applications() == []
    (call,) = simulator.record()
    assert (call.message_id, call.injected, call.http_status) == ("f-drop", "drop", None)
    assert call.finished_at is not None


def test_timeout_stalls_and_is_not_applied(simulator: Simulator, signed: Signer) -> None:
    """timeout: the server stalls past the client's timeout; nothing applied."""
    simulator.set_faults("timeout", stall_seconds=1.0)
    message = signed(reva_application(message_id="f-timeout"))
    with pytest.raises(requests.Timeout):
        post_raw(simulator, message, timeout=0.3)
    time.sleep(1.0)  # let the stalled call finish
    assert simulator.applications() == []
    reply = SoapClient(simulator.url).submit(message)
    assert reply.text("v:Outcome") == "accepted"
    assert simulator.references_issued == 1


def test_timeout_answers_a_patient_client_with_a_server_fault(
    simulator: Simulator, client: SoapClient, signed: Signer
) -> None:
    """A client that outwaits the stall gets a soap:Server fault, so it retries."""
    simulator.set_faults("timeout", stall_seconds=0.2)
    reply = client.submit(signed(status_request()))
    assert reply.fault == ("soap:Server", "simulated timeout")


def test_apply_then_drop_takes_effect_once(simulator: Simulator, signed: Signer) -> None:
    """apply-then-drop: the state changes though no answer came; the resend gets that answer."""
    simulator.set_faults("apply-then-drop")
    message = signed(reva_application(message_id="f-applied"))
    with pytest.raises(requests.ConnectionError):
        post_raw(simulator, message)
    (application,) = simulator.applications()
    reply = SoapClient(simulator.url).submit(message)
    assert reply.text("v:VsbReference") == application.vsb_reference
    assert simulator.references_issued == 1
    assert [c.duplicate for c in simulator.record()] == [False, True]


def test_apply_then_timeout_takes_effect(simulator: Simulator, signed: Signer) -> None:
    """apply-then-timeout: the state changes while the client times out."""
    simulator.set_faults("apply-then-timeout", stall_seconds=1.0)
    with pytest.raises(requests.Timeout):
        post_raw(simulator, signed(reva_application()), timeout=0.3)
    assert len(simulator.applications()) == 1


def test_next_counts_down_and_rate_one_always_strikes(
    simulator: Simulator, client: SoapClient, signed: Signer
) -> None:
    """next=N strikes N calls then stops; rate=1 strikes every call."""
    simulator.set_faults("soap-server-fault", next=2)
    faults = [client.submit(signed(status_request())).fault for _ in range(3)]
    assert [f[0] if f else None for f in faults] == ["soap:Server", "soap:Server", None]
    simulator.set_faults("soap-server-fault", rate=1.0)
    assert client.submit(signed(status_request())).fault is not None
    simulator.clear_faults()
    assert client.submit(signed(status_request())).fault is None


def test_faults_spare_other_operations_by_default(simulator: Simulator, client: SoapClient) -> None:
    """A Submit fault plan leaves FetchAnswers alone unless listed in operations."""
    simulator.set_faults("http500", rate=1.0)
    assert client.fetch().status == 200
    simulator.set_faults("soap-server-fault", rate=1.0, operations=["FetchAnswers"])
    assert client.fetch().fault == ("soap:Server", "simulated server fault")


def test_latency_does_not_serialise_concurrent_calls(simulator: Simulator, signed: Signer) -> None:
    """Two concurrent calls with 200 ms latency overlap: each one runs while the other does."""
    simulator.set_latency(200)
    messages = [signed(reva_application(message_id=f"lat-{n}", dossier=f"D-{n}")) for n in range(2)]
    clients = [SoapClient(simulator.url) for _ in messages]
    for c in clients:  # open the connections first: measure the calls, not the handshakes
        c.fetch()
    outcomes: list[str | None] = []

    def send(c: SoapClient, message: etree._Element) -> None:
        outcomes.append(c.submit(message).text("v:Outcome"))

    threads = [
        threading.Thread(target=send, args=pair) for pair in zip(clients, messages, strict=True)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    assert outcomes == ["accepted", "accepted"]
    assert elapsed >= 0.2, "each call took the simulated latency"
    first, second = simulator.record()
    assert first.finished_at is not None
    assert second.finished_at is not None
    assert first.received_at < second.finished_at
    assert second.received_at < first.finished_at


def test_record_shows_overlapping_dossiers(simulator: Simulator, signed: Signer) -> None:
    """Two concurrent calls of one dossier show as an overlap; sequential calls do not."""
    simulator.set_latency(150)
    first = signed(reva_application(message_id="ov-1", dossier="D-ov", sequence=1))
    second = signed(reva_application(message_id="ov-2", dossier="D-ov", sequence=2))
    SoapClient(simulator.url).submit(first)
    SoapClient(simulator.url).submit(second)
    assert simulator.dossier_overlaps() == []
    simulator.reset_record()
    threads = [
        threading.Thread(target=SoapClient(simulator.url).submit, args=(message,))
        for message in (first, second)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ((a, b),) = simulator.dossier_overlaps()
    assert {a.message_id, b.message_id} == {"ov-1", "ov-2"}


def test_a_client_that_gives_up_ends_its_call_for_the_overlap_check(
    simulator: Simulator, signed: Signer
) -> None:
    """A stalled call is open only until its client hangs up; one not given up, to its end."""
    simulator.set_faults("timeout", next=1, stall_seconds=1)
    first = signed(reva_application(message_id="ab-1", dossier="D-ab", sequence=1))
    with pytest.raises(requests.Timeout):
        post_raw(simulator, first, timeout=0.2)
    # The server's thread notes the hang-up a moment after the client closed; a resend in
    # that moment races it (a flake under load). What is checked here is what the overlap
    # check does once the hang-up was seen.
    deadline = time.monotonic() + 1
    while simulator.record()[0].abandoned_at is None and time.monotonic() < deadline:
        time.sleep(0.005)
    resent = SoapClient(simulator.url).submit(first)
    assert resent.text("v:Outcome") == "accepted"
    stalled, again = simulator.record()
    assert stalled.abandoned_at is not None
    # The client timed out 0.2 s after sending; the server stamps its arrival a little later.
    assert stalled.received_at + 0.15 <= stalled.abandoned_at < again.received_at
    assert simulator.dossier_overlaps() == []
    simulator.reset_record()
    simulator.set_faults("timeout", next=1, stall_seconds=0.3)
    second = signed(reva_application(message_id="ab-2", dossier="D-ab2", sequence=1))
    assert post_raw(simulator, second, timeout=5).status_code == 500
    (patient,) = simulator.record()
    assert patient.abandoned_at is None
    assert patient.finished_at is not None
    assert patient.finished_at - patient.received_at >= 0.3


def test_stop_cuts_a_stall_short(credentials: Credentials, signed: Signer) -> None:
    """Stopping the simulator ends a 30-second stall at once."""
    sim = Simulator(SimulatorConfig(trusted_certs=[credentials.cert_pem]))
    sim.start()
    sim.set_faults("timeout")  # the default 30 s stall
    with pytest.raises(requests.Timeout):
        post_raw(sim, signed(status_request()), timeout=0.2)
    started = time.monotonic()
    sim.stop()
    assert time.monotonic() - started < 2
