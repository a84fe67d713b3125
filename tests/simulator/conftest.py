"""Fixtures for the simulator tests: a throw-away signing key and certificate, VSB message
builders, a running simulator on a free port, and a plain-HTTP SOAP client."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml.xades.xades import XAdESSigner

from adapter.wssecurity import sign_envelope
from simulator import Simulator, SimulatorConfig

VSB = "urn:vsb-adapter:vsb:1"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
CENTRAL = "urn:vsb-adapter:central:1"
NS = {"v": VSB, "s": SOAP_ENV, "c": CENTRAL}

NIHDI = "71000019997"
HCO = "12345678"
TODAY = dt.date(2026, 3, 10)

AFFILIATED = "85073003328"
"""The persons of simulator/population.json (and mappings/examples): fund 180."""
CAN_JOIN = "12031512419"
CANNOT_JOIN = "90411706253"
UNKNOWN = "75120312388"
"""Not in the population file (valid check digits): derived as affiliated."""

_ids = itertools.count(1)


@dataclass(frozen=True)
class Credentials:
    """A private key (PEM and loaded) and its self-signed certificate (PEM)."""

    key_pem: bytes
    cert_pem: bytes
    key: rsa.RSAPrivateKey
    """Loaded once: loading the PEM costs ~45 ms (OpenSSL checks the key), signing ~1 ms."""


def make_credentials(common_name: str) -> Credentials:
    """A fresh RSA key with a self-signed certificate valid around now."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return Credentials(
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key=key,
    )


@functools.cache
def trusted_credentials() -> Credentials:
    """The facility's (trusted) key and certificate: one pair per test session."""
    return make_credentials("facility 71000019997")


@pytest.fixture(scope="session")
def credentials() -> Credentials:
    """The facility's (trusted) key and certificate."""
    return trusted_credentials()


@pytest.fixture(scope="session")
def stranger() -> Credentials:
    """A key and certificate the simulator does not trust."""
    return make_credentials("somebody else")


def sign(element: etree._Element, creds: Credentials) -> etree._Element:
    """Sign as the adapter does: XAdES-BES, RSA-SHA256, C14N 1.1, enveloped."""
    signer = XAdESSigner(signature_algorithm="rsa-sha256", digest_algorithm="sha256")
    signed: etree._Element = signer.sign(element, key=creds.key, cert=creds.cert_pem.decode())
    return signed


def new_id() -> str:
    """A fresh message id."""
    return f"msg-{next(_ids):05d}"


def _add(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, f"{{{VSB}}}{name}")
    if text is not None:
        child.text = text
    return child


def _header(
    root: etree._Element,
    message_id: str,
    dossier: str | None,
    sequence: int | None,
    nihdi: str = NIHDI,
    replaces: str | None = None,
) -> None:
    header = _add(root, "Header")
    _add(header, "MessageId", message_id)
    if replaces is not None:
        _add(header, "ReplacesMessageId", replaces)
    _add(header, "CreatedAt", "2026-03-10T09:00:00+01:00")
    facility = _add(header, "Facility")
    _add(facility, "Nihdi", nihdi)
    _add(facility, "Hco", HCO)
    if dossier is not None:
        _add(header, "DossierId", dossier)
    if sequence is not None:
        _add(header, "Sequence", str(sequence))


def _root(kind: str) -> etree._Element:
    return etree.Element(f"{{{VSB}}}{kind}", nsmap={"vsb": VSB})


def status_request(
    insz: str = AFFILIATED, *, message_id: str | None = None, reference_date: str = "2026-03-10"
) -> etree._Element:
    """An unsigned InsuranceStatusRequest."""
    root = _root("InsuranceStatusRequest")
    _header(root, message_id or new_id(), None, None)
    _add(root, "Insz", insz)
    _add(root, "ReferenceDate", reference_date)
    return root


def reva_application(
    insz: str = AFFILIATED,
    *,
    message_id: str | None = None,
    dossier: str = "D-1",
    sequence: int = 1,
    request_type: str = "new",
    start: str = "2026-03-01",
    end: str = "2031-02-28",
    migration: bool = False,
    exception: bool = False,
    nihdi: str = NIHDI,
    request_date: str = "2026-03-01",
    previous: str | None = None,
    vi_approval: str | None = None,
) -> etree._Element:
    """An unsigned RevaApplication (``previous``: the PreviousVsbReference of a facility
    change; ``vi_approval``: the ViApprovalDate of a migration file)."""
    root = _root("RevaApplication")
    _header(root, message_id or new_id(), dossier, sequence, nihdi)
    _add(root, "Insz", insz)
    _add(root, "RequestType", request_type)
    _add(root, "CareSetting", "ambulant")
    _add(root, "RequestDate", request_date)
    _add(root, "StartDate", start)
    _add(root, "EndDate", end)
    _add(root, "Location", "Gent")
    _add(root, "ReferredBy", "huisarts")
    contact = _add(root, "ContactPerson")
    _add(contact, "Name", "An Peeters")
    consent = _add(root, "InformedConsent")
    _add(consent, "Signed", "true")
    _add(consent, "Date", "2026-02-27")
    report = _add(root, "MedicalReport")
    _add(report, "Diagnosis", "F84.0")
    _add(root, "Migration", "true" if migration else "false")
    if vi_approval is not None:
        _add(root, "ViApprovalDate", vi_approval)
    if exception:
        request = _add(root, "ExceptionRequest")
        _add(request, "Motivation", "complex situation")
        _add(request, "ExtraMedicalReport", "JVBERi0=").set("contentType", "application/pdf")
    if previous is not None:
        _add(root, "PreviousVsbReference", previous)
    return root


def reva_modification(
    kind: str,
    reference: str,
    insz: str = AFFILIATED,
    *,
    message_id: str | None = None,
    dossier: str = "D-1",
    sequence: int = 2,
    nihdi: str = NIHDI,
    replaces: str | None = None,
) -> etree._Element:
    """The start every modification shares: header, VsbReference, Insz (add the rest)."""
    root = _root(kind)
    _header(root, message_id or new_id(), dossier, sequence, nihdi, replaces)
    _add(root, "VsbReference", reference)
    _add(root, "Insz", insz)
    return root


def reva_stop(reference: str, insz: str = AFFILIATED, *, stop: str = "2026-06-30", **header: Any):
    """An unsigned RevaStop."""
    root = reva_modification("RevaStop", reference, insz, **header)
    _add(root, "StopDate", stop)
    _add(root, "Reason", "early")
    _add(root, "ReferralAfter", "huisarts")
    return root


def reva_stop_cancel(reference: str, insz: str = AFFILIATED, **header: Any) -> etree._Element:
    """An unsigned RevaStopCancel."""
    return reva_modification("RevaStopCancel", reference, insz, **header)


def reva_cancel(reference: str, insz: str = AFFILIATED, **header: Any) -> etree._Element:
    """An unsigned RevaCancel."""
    root = reva_modification("RevaCancel", reference, insz, **header)
    _add(root, "Reason", "entered in error")
    return root


def reva_data_change(
    reference: str,
    insz: str = AFFILIATED,
    *,
    contact: str | None = None,
    location: str | None = None,
    accident: str | None = None,
    **header: Any,
) -> etree._Element:
    """An unsigned RevaDataChange carrying the fields given (none: an empty change)."""
    root = reva_modification("RevaDataChange", reference, insz, **header)
    if contact is not None:
        _add(_add(root, "ContactPerson"), "Name", contact)
    if location is not None:
        _add(root, "Location", location)
    if accident is not None:
        _add(root, "AccidentCode", accident)
    return root


def reva_start_change(
    reference: str, new_start: str, insz: str = AFFILIATED, **header: Any
) -> etree._Element:
    """An unsigned RevaStartChange."""
    root = reva_modification("RevaStartChange", reference, insz, **header)
    _add(root, "NewStartDate", new_start)
    return root


def reva_extension(
    reference: str, start: str, end: str, insz: str = AFFILIATED, **header: Any
) -> etree._Element:
    """An unsigned RevaExtension."""
    root = reva_modification("RevaExtension", reference, insz, **header)
    _add(root, "StartDate", start)
    _add(root, "EndDate", end)
    return root


def reva_extension_cancel(
    reference: str, start: str, insz: str = AFFILIATED, **header: Any
) -> etree._Element:
    """An unsigned RevaExtensionCancel of the extension starting on ``start``."""
    root = reva_modification("RevaExtensionCancel", reference, insz, **header)
    _add(root, "ExtensionStartDate", start)
    return root


def _interruption(root: etree._Element, start: str, end: str | None, expected: str | None) -> None:
    period = _add(root, "Interruption")
    _add(period, "StartDate", start)
    if end is not None:
        _add(period, "EndDate", end)
    else:
        _add(period, "ExpectedEndDate", expected or start)
    _add(period, "Reason", "illness")


def reva_interruption(
    reference: str,
    start: str,
    end: str | None = None,
    *,
    expected: str | None = None,
    insz: str = AFFILIATED,
    **header: Any,
) -> etree._Element:
    """An unsigned RevaInterruption with an EndDate, or an ExpectedEndDate."""
    root = reva_modification("RevaInterruption", reference, insz, **header)
    _interruption(root, start, end, expected)
    return root


def reva_interruption_change(
    reference: str,
    old_start: str,
    start: str,
    end: str | None = None,
    *,
    expected: str | None = None,
    insz: str = AFFILIATED,
    **header: Any,
) -> etree._Element:
    """An unsigned RevaInterruptionChange of the interruption starting on ``old_start``."""
    root = reva_modification("RevaInterruptionChange", reference, insz, **header)
    _add(root, "InterruptionStartDate", old_start)
    _interruption(root, start, end, expected)
    return root


def reva_interruption_cancel(
    reference: str, start: str, insz: str = AFFILIATED, **header: Any
) -> etree._Element:
    """An unsigned RevaInterruptionCancel of the interruption starting on ``start``."""
    root = reva_modification("RevaInterruptionCancel", reference, insz, **header)
    _add(root, "InterruptionStartDate", start)
    return root


def reva_medical_report_change(
    reference: str, insz: str = AFFILIATED, **header: Any
) -> etree._Element:
    """An unsigned RevaMedicalReportChange."""
    root = reva_modification("RevaMedicalReportChange", reference, insz, **header)
    _add(_add(root, "MedicalReport"), "Diagnosis", "F84.1")
    return root


def reva_document(reference: str, insz: str = AFFILIATED, **header: Any) -> etree._Element:
    """An unsigned RevaDocument."""
    root = reva_modification("RevaDocument", reference, insz, **header)
    _add(root, "Document", "JVBERi0=").set("contentType", "application/pdf")
    return root


def _km(kind: str, reference: str, transport: str, insz: str, header: Any) -> etree._Element:
    root = reva_modification(kind, reference, insz, **header)
    _add(_add(root, "TransportReport"), "TransportType", transport)
    return root


def reva_km_request(
    reference: str, transport: str = "own", insz: str = AFFILIATED, **header: Any
) -> etree._Element:
    """An unsigned RevaKmRequest."""
    return _km("RevaKmRequest", reference, transport, insz, header)


def reva_km_change(
    reference: str, transport: str = "professional", insz: str = AFFILIATED, **header: Any
) -> etree._Element:
    """An unsigned RevaKmChange."""
    return _km("RevaKmChange", reference, transport, insz, header)


def reva_km_stop(
    reference: str, stop: str = "2026-06-30", insz: str = AFFILIATED, **header: Any
) -> etree._Element:
    """An unsigned RevaKmStop."""
    root = reva_modification("RevaKmStop", reference, insz, **header)
    _add(root, "StopDate", stop)
    return root


def reva_km_stop_cancel(reference: str, insz: str = AFFILIATED, **header: Any) -> etree._Element:
    """An unsigned RevaKmStopCancel."""
    return reva_modification("RevaKmStopCancel", reference, insz, **header)


def envelope(operation: str, children: list[etree._Element]) -> bytes:
    """A SOAP 1.1 request envelope for ``operation`` (Submit, FetchAnswers, ConfirmAnswers)."""
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV, "c": CENTRAL})
    body = etree.SubElement(env, f"{{{SOAP_ENV}}}Body")
    request = etree.SubElement(body, f"{{{CENTRAL}}}{operation}Request")
    for child in children:
        request.append(child)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def _central(name: str, text: str) -> etree._Element:
    element = etree.Element(f"{{{CENTRAL}}}{name}")
    element.text = text
    return element


@dataclass(frozen=True)
class SoapReply:
    """A parsed SOAP response."""

    status: int
    root: etree._Element

    @property
    def fault(self) -> tuple[str, str] | None:
        """(faultcode, faultstring) if the response is a fault."""
        node = self.root.find("s:Body/s:Fault", NS)
        if node is None:
            return None
        return node.findtext("faultcode") or "", node.findtext("faultstring") or ""

    @property
    def answers(self) -> list[etree._Element]:
        """Every vsb:Answer in the body."""
        return self.root.findall("s:Body/*/v:Answer", NS)

    @property
    def answer(self) -> etree._Element:
        """The one vsb:Answer of a SubmitResponse."""
        (answer,) = self.answers
        return answer

    def text(self, path: str) -> str | None:
        """Text at ``path`` (prefixes v, s, c) under the Answer."""
        return self.answer.findtext(path, namespaces=NS)


def secured(
    body: bytes, creds: Credentials, now: dt.datetime | None = None, ttl: float = 300.0
) -> bytes:
    """``body`` (an envelope) with the WS-Security header the adapter sends, by ``creds``."""
    root = etree.fromstring(body)
    sign_envelope(
        root,
        lambda data: creds.key.sign(data, padding.PKCS1v15(), hashes.SHA256()),
        x509.load_pem_x509_certificate(creds.cert_pem),
        now or dt.datetime.now(dt.UTC),
        ttl,
    )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


class SoapClient:
    """A bare SOAP client over requests: full control of envelopes, status codes and timeouts.

    Each envelope gets a WS-Security header by ``credentials`` (default: the trusted
    facility's) on its way out, as the simulator requires; ``credentials=None`` sends bare
    envelopes, and a DOCTYPE test body always goes out as it is.
    """

    def __init__(
        self,
        url: str,
        keep_alive: bool = True,
        credentials: Credentials | Literal["trusted"] | None = "trusted",
    ):
        self.url = url
        self.credentials = trusted_credentials() if credentials == "trusted" else credentials
        self.session = requests.Session()
        self.keep_alive = keep_alive
        """False: a new connection per call. On a kept-alive connection each call waits ~40 ms
        (the server writes headers and body apart: Nagle meets the client's delayed ACK)."""

    def post(self, body: bytes, operation: str = "Submit", timeout: float = 10) -> SoapReply:
        """POST an envelope and parse the reply."""
        if self.credentials is not None and b"<!DOCTYPE" not in body:
            body = secured(body, self.credentials)
        response = self.session.post(
            self.url,
            data=body,
            timeout=timeout,
            headers={
                "Content-Type": "text/xml; charset=utf-8",
                "SOAPAction": f'"urn:vsb-adapter:central:1:{operation}"',
            },
        )
        if not self.keep_alive:
            self.session.close()
        return SoapReply(response.status_code, etree.fromstring(response.content))

    def submit(self, payload: etree._Element, timeout: float = 10) -> SoapReply:
        """Submit one (signed) VSB message."""
        return self.post(envelope("Submit", [payload]), timeout=timeout)

    def fetch(self, nihdi: str = NIHDI, limit: int = 10) -> SoapReply:
        """FetchAnswers."""
        body = envelope("FetchAnswers", [_central("Nihdi", nihdi), _central("Max", str(limit))])
        return self.post(body, "FetchAnswers")

    def confirm(self, answer_ids: list[str], nihdi: str = NIHDI) -> int:
        """ConfirmAnswers; the number confirmed."""
        children = [_central("Nihdi", nihdi)] + [_central("AnswerId", i) for i in answer_ids]
        reply = self.post(envelope("ConfirmAnswers", children), "ConfirmAnswers")
        return int(
            reply.root.findtext("s:Body/c:ConfirmAnswersResponse/c:Confirmed", namespaces=NS) or -1
        )


@pytest.fixture
def simulator(credentials: Credentials) -> Iterator[Simulator]:
    """A running simulator trusting ``credentials``, "today" pinned to ``TODAY``."""
    sim = Simulator(SimulatorConfig(trusted_certs=[credentials.cert_pem], today=TODAY))
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def module_simulator(credentials: Credentials) -> Iterator[Simulator]:
    """One running simulator for a module's rule tables (see ``fresh_simulator``)."""
    sim = Simulator(SimulatorConfig(trusted_certs=[credentials.cert_pem], today=TODAY))
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def fresh_simulator(module_simulator: Simulator) -> Simulator:
    """The module's simulator as new: state and record reset, no faults or latency, every
    facility recognised, "today" pinned to ``TODAY`` (starting one per row costs ~100 ms).
    Tests using it must not change the population."""
    module_simulator.reset()
    module_simulator.clear_faults()
    module_simulator.set_latency(0)
    module_simulator.set_recognised_facilities(None)
    module_simulator.set_today(TODAY)
    return module_simulator


@pytest.fixture
def client(simulator: Simulator) -> SoapClient:
    """A SOAP client for the running simulator."""
    return SoapClient(simulator.url)


@pytest.fixture
def signed(credentials: Credentials) -> Callable[[etree._Element], etree._Element]:
    """Sign an element with the trusted key."""

    def _sign(element: etree._Element) -> etree._Element:
        return sign(element, credentials)

    return _sign


def admin(simulator: Simulator, method: str, action: str, body: Any = None) -> Any:
    """Call the admin API over HTTP; return the JSON (raising on an HTTP error)."""
    response = requests.request(method, simulator.admin_url + action, json=body, timeout=10)
    response.raise_for_status()
    return response.json()
