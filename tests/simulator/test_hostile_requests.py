"""The simulator's request parser (``simulator.contract.safe_parser``) against hostile XML.

Posted over real HTTP: an external entity pointing at a live local server, an external DTD,
a parameter entity, a billion laughs. Each is a soap:Client fault ("a DOCTYPE is not
allowed", or libxml2's amplification guard for the billion laughs); nothing is fetched,
nothing expanded (the process stays small), and the simulator goes on answering.
tests/simulator/test_signature.py has the plain internal-entity case.
"""

from __future__ import annotations

import resource
from collections.abc import Iterator

import pytest
import requests

from simulator import Simulator
from tests.support.hostile import HostileServer

ENVELOPE = (
    b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
    b'<c:FetchAnswersRequest xmlns:c="urn:vsb-adapter:central:1">'
    b"<c:Nihdi>&e;</c:Nihdi><c:Max>1</c:Max></c:FetchAnswersRequest>"
    b"</s:Body></s:Envelope>"
)
LAUGHS = b"".join(
    b'<!ENTITY l%d "%s">' % (n, (b"&l%d;" % (n - 1) if n > 1 else b"lol") * 10)
    for n in range(1, 10)
)
PROLOGS = {
    "external-entity": b'<!DOCTYPE s [<!ENTITY e SYSTEM "{url}/leak">]>',
    "external-file": b'<!DOCTYPE s [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    "external-dtd": b'<!DOCTYPE s SYSTEM "{url}/evil.dtd">',
    "parameter-entity": b'<!DOCTYPE s [<!ENTITY % p SYSTEM "{url}/p.dtd"> %p;]>',
    "billion-laughs": b"<!DOCTYPE s [" + LAUGHS + b'<!ENTITY e "&l9;">]>',
}


@pytest.fixture
def listener() -> Iterator[HostileServer]:
    server = HostileServer()
    yield server
    server.stop()


@pytest.mark.parametrize("kind", sorted(PROLOGS))
def test_a_hostile_request_is_a_client_fault_and_nothing_is_fetched(
    simulator: Simulator, listener: HostileServer, kind: str
) -> None:
    """Refused at the DOCTYPE; the listener the entity points at hears nothing."""
    base = listener.url.rsplit("/", 1)[0].encode()
    body = b'<?xml version="1.0"?>\n' + PROLOGS[kind].replace(b"{url}", base) + ENVELOPE
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    reply = requests.post(
        simulator.url, data=body, headers={"Content-Type": "text/xml"}, timeout=10
    )
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 64 * 1024
    assert reply.status_code == 500
    assert b"<faultcode>soap:Client</faultcode>" in reply.content
    # The DOCTYPE check follows the parse; a billion laughs stops earlier, at libxml2's own
    # amplification guard, while its declarations are read: refused either way, unexpanded.
    refusal = b"amplification" if kind == "billion-laughs" else b"a DOCTYPE is not allowed"
    assert refusal in reply.content
    assert b"lol" not in reply.content
    assert b"root:" not in reply.content
    assert listener.requests == [], "no entity or DTD was fetched"
    wsdl = requests.get(simulator.wsdl_url, timeout=5)
    assert wsdl.status_code == 200, "the simulator goes on"
