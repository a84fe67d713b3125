"""Signature and schema checks on Submit: anything wrong is a soap:Client fault."""

from __future__ import annotations

import copy
from collections.abc import Callable

from lxml import etree

from simulator import Simulator

from .conftest import NS, VSB, Credentials, SoapClient, reva_application, sign, status_request

Signer = Callable[[etree._Element], etree._Element]


def test_valid_signature_is_accepted(client: SoapClient, signed: Signer) -> None:
    """A message signed with a trusted certificate is processed and answered."""
    reply = client.submit(signed(status_request()))
    assert reply.status == 200
    assert reply.text("v:Outcome") == "accepted"


def test_unsigned_message_is_refused(client: SoapClient, simulator: Simulator) -> None:
    """An unsigned message gets a soap:Client fault naming the missing signature."""
    reply = client.submit(status_request(message_id="unsigned-1"))
    assert reply.status == 500
    assert reply.fault == ("soap:Client", "signature: missing")
    (call,) = simulator.record()
    assert call.message_id == "unsigned-1"
    assert call.fault == "soap:Client: signature: missing"
    assert call.outcome is None


def test_tampered_message_is_refused(client: SoapClient, signed: Signer) -> None:
    """Changing a field after signing gives "signature: digest mismatch"."""
    message = signed(status_request())
    message.find("v:ReferenceDate", NS).text = "2026-01-01"  # type: ignore[union-attr]
    reply = client.submit(message)
    assert reply.fault == ("soap:Client", "signature: digest mismatch")


def test_unknown_certificate_is_refused(client: SoapClient, stranger: Credentials) -> None:
    """A message signed with a certificate the simulator does not trust is refused."""
    reply = client.submit(sign(status_request(), stranger))
    assert reply.fault == ("soap:Client", "signature: unknown certificate")


def test_trusted_certificate_with_a_foreign_key_is_refused(
    client: SoapClient, credentials: Credentials, stranger: Credentials
) -> None:
    """Putting the trusted certificate into a stranger's signature does not help."""
    message = sign(status_request(), stranger)
    trusted_b64 = b"".join(credentials.cert_pem.splitlines()[1:-1]).decode()
    cert = message.find(".//{http://www.w3.org/2000/09/xmldsig#}X509Certificate")
    assert cert is not None
    cert.text = trusted_b64
    reply = client.submit(message)
    assert reply.fault is not None
    assert reply.fault[0] == "soap:Client"
    assert reply.fault[1].startswith("signature: ")


def test_schema_error_is_named(client: SoapClient, signed: Signer) -> None:
    """A message that breaks the XSD gets a soap:Client fault naming the schema error."""
    message = reva_application()
    message.find("v:RequestType", NS).text = "holiday"  # type: ignore[union-attr]
    reply = client.submit(signed(message))
    assert reply.fault is not None
    code, text = reply.fault
    assert code == "soap:Client"
    assert text.startswith("schema: ")
    assert "RequestType" in text


def test_answer_is_schema_valid(client: SoapClient, signed: Signer) -> None:
    """The simulator's answers validate against the same XSD."""
    from simulator.contract import DEFAULT_XSD

    schema = etree.XMLSchema(etree.parse(str(DEFAULT_XSD)))
    for message in (status_request(), reva_application(), reva_application(exception=True)):
        answer = client.submit(signed(message)).answer
        assert schema.validate(copy.deepcopy(answer)), schema.error_log
        assert etree.QName(answer).namespace == VSB


def test_unknown_operation_is_a_client_fault(client: SoapClient) -> None:
    """A body element the WSDL does not define is a soap:Client fault."""
    body = (
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
        b'<s:Body><x:Nope xmlns:x="urn:x"/></s:Body></s:Envelope>'
    )
    reply = client.post(body)
    assert reply.fault is not None
    assert reply.fault[0] == "soap:Client"


def test_doctype_is_refused(client: SoapClient) -> None:
    """Entity tricks are refused before anything else: no DOCTYPE at all."""
    body = (
        b'<!DOCTYPE s [<!ENTITY e "x">]>'
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>'
    )
    reply = client.post(body)
    assert reply.fault == ("soap:Client", "a DOCTYPE is not allowed")
