"""The simulator's WS-Security check of every SOAP call, and its signed answers.

Real keys, real HTTP: each refusal is a soap:Client fault with its WS-Security 1.1 code,
comes before anything else (nothing recorded, nothing applied), and a signed answer
verifies against the central application's certificate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from lxml import etree

from adapter.devpki import DevPki
from adapter.errors import UntrustedAnswer
from adapter.wssecurity import verify_envelope
from simulator import Simulator, SimulatorConfig

from .conftest import (
    NS,
    TODAY,
    Credentials,
    SoapClient,
    envelope,
    reva_application,
    secured,
    trusted_credentials,
)

Signer = Callable[[etree._Element], etree._Element]
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"


def submit_body(signed: Signer) -> bytes:
    return envelope("Submit", [signed(reva_application())])


def refused(simulator: Simulator, body: bytes) -> tuple[str, str]:
    """Post ``body`` as it is; the fault it gets, checking nothing was recorded."""
    reply = SoapClient(simulator.url, credentials=None).post(body)
    assert reply.status == 500
    assert reply.fault is not None
    assert simulator.record() == []
    return reply.fault


def test_a_signed_request_is_accepted(client: SoapClient, signed: Signer) -> None:
    """The header the adapter sends passes (the client adds it by the trusted key)."""
    assert client.submit(signed(reva_application())).text("v:Outcome") == "accepted"


def test_no_header_is_refused(simulator: Simulator, signed: Signer) -> None:
    """A bare envelope: wsse:InvalidSecurity."""
    assert refused(simulator, submit_body(signed)) == (
        "soap:Client",
        "wsse:InvalidSecurity: no wsse:Security header",
    )


def test_no_header_is_refused_on_every_operation(simulator: Simulator) -> None:
    """FetchAnswers needs the header too."""
    nihdi = etree.Element("{urn:vsb-adapter:central:1}Nihdi")
    nihdi.text = "71000019997"
    limit = etree.Element("{urn:vsb-adapter:central:1}Max")
    limit.text = "5"
    fault = refused(simulator, envelope("FetchAnswers", [nihdi, limit]))
    assert fault[1].startswith("wsse:InvalidSecurity")


def test_an_expired_timestamp_is_refused(simulator: Simulator, signed: Signer) -> None:
    """Expired beyond the skew window (300 s): wsse:MessageExpired."""
    old = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=900)
    body = secured(submit_body(signed), trusted_credentials(), now=old)
    assert refused(simulator, body) == (
        "soap:Client",
        "wsse:MessageExpired: the Timestamp has expired",
    )


def test_a_future_timestamp_is_refused(simulator: Simulator, signed: Signer) -> None:
    """Created beyond the skew window ahead: wsse:MessageExpired, named as the future."""
    ahead = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=900)
    body = secured(submit_body(signed), trusted_credentials(), now=ahead)
    assert refused(simulator, body) == (
        "soap:Client",
        "wsse:MessageExpired: the Timestamp was created in the future",
    )


def test_a_timestamp_within_the_skew_is_accepted(simulator: Simulator, signed: Signer) -> None:
    """A clock 200 s ahead of the simulator's is within the 300 s window."""
    ahead = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=200)
    body = secured(submit_body(signed), trusted_credentials(), now=ahead)
    assert SoapClient(simulator.url, credentials=None).post(body).fault is None


def test_the_skew_follows_the_injectable_clock(credentials: Credentials, signed: Signer) -> None:
    """ "Now" is the configured clock: a simulator an hour behind finds today's stamp early."""
    behind = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    config = SimulatorConfig(trusted_certs=[credentials.cert_pem], today=TODAY)
    with Simulator(config, clock=lambda: behind) as sim:
        fault = refused(sim, secured(submit_body(signed), credentials))
    assert fault[1] == "wsse:MessageExpired: the Timestamp was created in the future"


def test_an_unknown_certificate_is_refused(
    simulator: Simulator, signed: Signer, stranger: Credentials
) -> None:
    """A header signed by a certificate not among trusted_certs: wsse:FailedAuthentication."""
    body = secured(submit_body(signed), stranger)
    assert refused(simulator, body) == (
        "soap:Client",
        "wsse:FailedAuthentication: unknown certificate",
    )


def test_a_tampered_body_is_refused(simulator: Simulator, signed: Signer) -> None:
    """A Body changed after signing: wsse:FailedCheck, the digest named."""
    root = etree.fromstring(secured(submit_body(signed), trusted_credentials()))
    body = root.find("s:Body", NS)
    assert body is not None
    etree.SubElement(body[0], "{urn:vsb-adapter:central:1}Extra").text = "x"
    assert refused(simulator, etree.tostring(root)) == (
        "soap:Client",
        "wsse:FailedCheck: the Body's digest does not match",
    )


def test_a_tampered_timestamp_is_refused(simulator: Simulator, signed: Signer) -> None:
    """Expires pushed out after signing: the Timestamp's digest fails."""
    root = etree.fromstring(secured(submit_body(signed), trusted_credentials()))
    expires = root.find(f".//{{{WSU}}}Expires")
    assert expires is not None
    expires.text = "2099-01-01T00:00:00.000Z"
    assert refused(simulator, etree.tostring(root))[1] == (
        "wsse:FailedCheck: the Timestamp's digest does not match"
    )


def test_a_bad_signature_is_refused(simulator: Simulator, signed: Signer) -> None:
    """Digests fine, SignatureValue not the key's: wsse:FailedCheck."""
    root = etree.fromstring(secured(submit_body(signed), trusted_credentials()))
    value = root.find(f".//{{{DS}}}SignatureValue")
    assert value is not None
    value.text = "A" * len(value.text or "")
    assert refused(simulator, etree.tostring(root)) == (
        "soap:Client",
        "wsse:FailedCheck: the signature value does not verify",
    )


def test_the_switch_accepts_bare_envelopes(credentials: Credentials, signed: Signer) -> None:
    """require_wssecurity=False (``--allow-unsigned-requests``) serves old tools."""
    config = SimulatorConfig(
        trusted_certs=[credentials.cert_pem], today=TODAY, require_wssecurity=False
    )
    with Simulator(config) as sim:
        reply = SoapClient(sim.url, credentials=None).post(submit_body(signed))
    assert reply.fault is None


@pytest.fixture
def signing_simulator(pki: DevPki, credentials: Credentials) -> Iterator[Simulator]:
    """A simulator signing its answers with the dev PKI's central key."""
    config = SimulatorConfig(
        trusted_certs=[credentials.cert_pem],
        today=TODAY,
        sign_key=pki.central_key,
        sign_cert=pki.central_cert,
    )
    with Simulator(config) as sim:
        yield sim


def test_a_signed_answer_verifies(
    signing_simulator: Simulator, signed: Signer, pki: DevPki, stranger: Credentials
) -> None:
    """The answer carries the central application's WS-Security signature: it verifies
    against central.pem, not against another certificate, and not once tampered."""
    from cryptography import x509

    reply = SoapClient(signing_simulator.url).submit(signed(reva_application()))
    assert reply.text("v:Outcome") == "accepted"
    central = x509.load_pem_x509_certificate(pki.central_cert.read_bytes())
    now = dt.datetime.now(dt.UTC)
    verify_envelope(reply.root, central, now, 300)
    with pytest.raises(UntrustedAnswer) as other:
        verify_envelope(reply.root, x509.load_pem_x509_certificate(stranger.cert_pem), now, 300)
    assert other.value.reason == "unknown_certificate"
    reply.answer.find("v:Outcome", NS).text = "refused"  # type: ignore[union-attr]
    with pytest.raises(UntrustedAnswer) as tampered:
        verify_envelope(reply.root, central, now, 300)
    assert tampered.value.reason == "tampered"


def test_faults_are_signed_too(signing_simulator: Simulator, pki: DevPki) -> None:
    """Even a WS-Security refusal comes signed by the central application."""
    from cryptography import x509

    reply = SoapClient(signing_simulator.url, credentials=None).post(
        envelope("Submit", [reva_application()])
    )
    assert reply.fault is not None
    central = x509.load_pem_x509_certificate(pki.central_cert.read_bytes())
    verify_envelope(reply.root, central, dt.datetime.now(dt.UTC), 300)
