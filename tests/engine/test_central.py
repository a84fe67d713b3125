"""The zeep client turns every way the central application can fail into transient or permanent."""

from __future__ import annotations

import socket

import pytest
from lxml import etree

from adapter.central import ZeepCentral, probe_central
from adapter.devpki import DevPki
from adapter.errors import PermanentDeliveryError, TransientDeliveryError, UnreadableAnswer
from adapter.settings import CentralSettings
from adapter.signing import Signer
from mappings import Facility, MessageContext, build_message, read_envelope
from simulator import Simulator
from simulator.faults import UNREADABLE_BODIES, FaultKind
from tests.support import events

VSB = "{urn:vsb-adapter:vsb:1}"
GARBAGE = UNREADABLE_BODIES[FaultKind.APPLY_THEN_GARBAGE][0]


@pytest.fixture
def message(pki: DevPki) -> etree._Element:
    from datetime import UTC, datetime

    envelope = read_envelope(events.application("c-1", "D-C", 1))
    context = MessageContext(
        message_id="msg-c-1",
        created_at=datetime(2026, 11, 20, 10, tzinfo=UTC),
        facility=Facility("71012314001", "40012345"),
    )
    signer = Signer.from_keystore(pki.keystore, b"dev-only")
    return signer.sign(build_message(envelope, context))


_PKI: list[DevPki] = []


@pytest.fixture(autouse=True)
def _session_pki(pki: DevPki) -> None:
    """Lets ``central`` stay a plain function of the URL: the session's PKI, noted here."""
    _PKI[:] = [pki]


def central(url: str, timeout: float = 2.0) -> ZeepCentral:
    """A client that signs its requests and checks the answers, as the daemon's does."""
    pki = _PKI[0]
    return ZeepCentral(
        CentralSettings(
            url=url,
            timeout_seconds=timeout,
            answer_certificate=str(pki.central_cert),
            ca_bundle=str(pki.ca_cert),
        ),
        Signer.from_keystore(pki.keystore, b"dev-only"),
    )


def test_an_accepted_message_returns_its_answer(
    simulator: Simulator, message: etree._Element
) -> None:
    """A valid signed message comes back with a vsb:Answer in reply to it."""
    answer = central(simulator.url).submit(message)
    assert answer.tag == f"{VSB}Answer"
    assert answer.findtext(f"{VSB}InReplyTo") == "msg-c-1"


@pytest.mark.parametrize("kind", ["http500", "soap-server-fault", "drop"])
def test_server_trouble_is_transient(
    simulator: Simulator,
    message: etree._Element,
    kind: str,
) -> None:
    """HTTP 500, a soap:Server fault and a dropped connection are worth another try."""
    simulator.set_faults(kind, next=1)
    with pytest.raises(TransientDeliveryError):
        central(simulator.url).submit(message)


def test_a_timeout_is_transient(simulator: Simulator, message: etree._Element) -> None:
    """No answer within the timeout is worth another try."""
    simulator.set_faults("timeout", next=1, stall_seconds=3)
    with pytest.raises(TransientDeliveryError, match="timeout"):
        central(simulator.url, timeout=0.5).submit(message)


def test_a_refused_connection_is_transient(message: etree._Element) -> None:
    """Nobody listening is an outage, not a verdict on the message."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TransientDeliveryError, match="cannot connect"):
        central(f"http://127.0.0.1:{port}/soap").submit(message)


@pytest.mark.parametrize(
    ("kind", "received"),
    [
        ("apply-then-garbage", f"HTTP 200, text/html, {len(GARBAGE)} bytes: The XML"),
        ("apply-then-empty", "HTTP 200, text/xml; charset=utf-8, 0 bytes"),
        ("apply-then-entities", "entity"),
    ],
)
def test_an_unreadable_answer_says_what_came(
    simulator: Simulator, message: etree._Element, kind: str, received: str
) -> None:
    """An HTTP 200 that cannot be read is an unreadable answer naming status, type and size."""
    simulator.set_faults(kind, next=1)
    with pytest.raises(UnreadableAnswer, match="unreadable answer: HTTP 200") as caught:
        central(simulator.url).submit(message)
    assert received in str(caught.value)
    assert "Maintenance" not in str(caught.value), "the content itself is never quoted"
    # It was applied: the resend with the same id gets the stored answer.
    answer = central(simulator.url).submit(message)
    assert answer.findtext(f"{VSB}InReplyTo") == "msg-c-1"


def test_a_client_fault_is_permanent(simulator: Simulator, message: etree._Element) -> None:
    """An unsigned message gets a soap:Client fault: retrying cannot help."""
    message.remove(message[-1])  # the ds:Signature
    with pytest.raises(PermanentDeliveryError, match="signature"):
        central(simulator.url).submit(message)


def test_probe_tells_whether_the_endpoint_answers(simulator: Simulator, pki: DevPki) -> None:
    """The check command's probe is None for a live endpoint and a reason for a dead one."""
    settings = CentralSettings(url=simulator.url, ca_bundle=str(pki.ca_cert))
    assert probe_central(settings, Signer.from_keystore(pki.keystore, b"dev-only")) is None
    assert "not reachable" in (probe_central(CentralSettings(url="http://127.0.0.1:9/soap")) or "")


@pytest.mark.parametrize("signer_kind", ["impostor", "none"])
def test_an_untrusted_answer_is_unreadable(
    simulator: Simulator, message: etree._Element, pki: DevPki, signer_kind: str
) -> None:
    """Submit and FetchAnswers answered under another key, or unsigned: UntrustedAnswer (an
    UnreadableAnswer, so in doubt), its reason heard by ``on_untrusted``."""
    from adapter.devpki import issue
    from adapter.errors import UntrustedAnswer
    from simulator.wssecurity import AnswerSigner

    cert, key = issue(pki, "an impostor", unit="VSB")
    simulator.runtime.answer_signer = (
        AnswerSigner(key, cert, 300) if signer_kind == "impostor" else None
    )
    heard: list[str] = []
    client = ZeepCentral(
        CentralSettings(
            url=simulator.url,
            answer_certificate=str(pki.central_cert),
            ca_bundle=str(pki.ca_cert),
        ),
        Signer.from_keystore(pki.keystore, b"dev-only"),
        on_untrusted=heard.append,
    )
    reason = "unknown_certificate" if signer_kind == "impostor" else "unsigned"
    with pytest.raises(UntrustedAnswer, match=f"unreadable answer: untrusted \\({reason}\\)"):
        client.submit(message)
    with pytest.raises(UnreadableAnswer):
        client.fetch_answers("71012314001", 5)
    assert heard == [reason, reason]


def test_checking_can_be_switched_off(
    simulator: Simulator, message: etree._Element, pki: DevPki
) -> None:
    """require_signed_answers = false believes an unsigned answer (never in production)."""
    simulator.runtime.answer_signer = None
    client = ZeepCentral(
        CentralSettings(
            url=simulator.url, require_signed_answers=False, ca_bundle=str(pki.ca_cert)
        ),
        Signer.from_keystore(pki.keystore, b"dev-only"),
    )
    assert client.submit(message).findtext(f"{VSB}InReplyTo") == "msg-c-1"


def test_a_missing_answer_certificate_is_a_config_error(pki: DevPki) -> None:
    """An unreadable central.answer_certificate stops the start, naming the key."""
    from adapter.errors import ConfigError

    with pytest.raises(ConfigError, match=r"central\.answer_certificate"):
        ZeepCentral(
            CentralSettings(answer_certificate=str(pki.central_cert) + ".missing"),
            Signer.from_keystore(pki.keystore, b"dev-only"),
        )
