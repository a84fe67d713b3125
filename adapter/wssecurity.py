"""WS-Security on the SOAP envelope: a signed header on every request, signed answers checked.

Every request gets a ``wsse:Security`` header with a ``wsu:Timestamp`` (Created, Expires),
the facility's certificate as ``wsse:BinarySecurityToken`` (X509v3, base64 DER) and a
``ds:Signature`` over the ``soap:Body`` and the Timestamp (RSA-SHA256, SHA-256 digests,
exclusive c14n, KeyInfo through a SecurityTokenReference to the token). Answers must carry
the same header, signed by the central application's configured certificate.

Built on lxml (exclusive c14n) and cryptography, not signxml: signxml's detached mode
re-parses the document it signs, so a signature over two parts of an envelope that zeep
is still building must be put back by hand anyway, and its exclusive c14n has already
disagreed with its own verifier once (see adapter/signing.py). Thirty lines of c14n, digest
and RSA are easier to check than that. zeep's own ``wsse.Signature`` needs xmlsec and signs
with SHA-1, so it is not used.

The references are checked against the Body and the Timestamp found by position (the
Envelope's Body, the Security header's Timestamp), never by looking an Id up anywhere in
the document: a signed element moved elsewhere ("wrapping") cannot stand in for them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from zeep import Plugin

from adapter.errors import ConfigError, UntrustedAnswer
from adapter.settings import CentralSettings
from adapter.signing import Signer

SOAP_ENV: Final = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS: Final = "http://www.w3.org/2000/09/xmldsig#"
X509V3: Final = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
)
BASE64: Final = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)
EXC_C14N: Final = "http://www.w3.org/2001/10/xml-exc-c14n#"
RSA_SHA256: Final = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256: Final = "http://www.w3.org/2001/04/xmlenc#sha256"
_ID: Final = f"{{{WSU}}}Id"


def exclusive_c14n(element: etree._Element) -> bytes:
    """The exclusive canonical form (no comments) every reference and SignedInfo is taken in."""
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False)


def _sha256(element: etree._Element) -> bytes:
    return hashlib.sha256(exclusive_c14n(element)).digest()


def _digest(element: etree._Element) -> str:
    return base64.b64encode(_sha256(element)).decode()


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrib: str) -> Any:
    child = etree.SubElement(parent, tag, attrib)
    child.text = text
    return child


@dataclass(frozen=True)
class HeaderIds:
    """The ``wsu:Id`` values one signed header uses: the Body's, the Timestamp's, the token's."""

    body: str
    timestamp: str
    token: str

    @classmethod
    def fresh(cls, body: str | None = None) -> HeaderIds:
        """New ids; ``body`` when the Body's id was chosen before (a streamed batch's)."""
        suffix = uuid.uuid4().hex
        return cls(body or f"Body-{suffix}", f"TS-{suffix}", f"X509-{suffix}")


def add_security(
    header: etree._Element,
    ids: HeaderIds,
    certificate: x509.Certificate,
    now: datetime,
    ttl_seconds: float,
) -> tuple[etree._Element, etree._Element]:
    """Append a ``wsse:Security`` with its Timestamp and BinarySecurityToken to ``header``;
    return (Security, Timestamp). ``add_signature`` completes it."""
    security = etree.SubElement(
        header,
        f"{{{WSSE}}}Security",
        {f"{{{SOAP_ENV}}}mustUnderstand": "1"},
        nsmap={"wsse": WSSE, "wsu": WSU},
    )
    timestamp = _sub(security, f"{{{WSU}}}Timestamp", **{_ID: ids.timestamp})
    _sub(timestamp, f"{{{WSU}}}Created", _stamp(now))
    _sub(timestamp, f"{{{WSU}}}Expires", _stamp(now + timedelta(seconds=ttl_seconds)))
    der = certificate.public_bytes(Encoding.DER)
    _sub(
        security,
        f"{{{WSSE}}}BinarySecurityToken",
        base64.b64encode(der).decode(),
        EncodingType=BASE64,
        ValueType=X509V3,
        **{_ID: ids.token},
    )
    return security, timestamp


def add_signature(
    security: etree._Element,
    ids: HeaderIds,
    sign: Callable[[bytes], bytes],
    body_digest: bytes,
    timestamp: etree._Element,
) -> None:
    """Append the ``ds:Signature`` over the Body (its SHA-256 ``body_digest``, taken over
    its exclusive canonical form by the caller) and the Timestamp to ``security``."""
    signature = etree.SubElement(security, f"{{{DS}}}Signature", nsmap={"ds": DS})
    info = _sub(signature, f"{{{DS}}}SignedInfo")
    _sub(info, f"{{{DS}}}CanonicalizationMethod", Algorithm=EXC_C14N)
    _sub(info, f"{{{DS}}}SignatureMethod", Algorithm=RSA_SHA256)
    digests = ((ids.body, body_digest), (ids.timestamp, _sha256(timestamp)))
    for element_id, digest in digests:
        reference = _sub(info, f"{{{DS}}}Reference", URI=f"#{element_id}")
        _sub(_sub(reference, f"{{{DS}}}Transforms"), f"{{{DS}}}Transform", Algorithm=EXC_C14N)
        _sub(reference, f"{{{DS}}}DigestMethod", Algorithm=SHA256)
        _sub(reference, f"{{{DS}}}DigestValue", base64.b64encode(digest).decode())
    value = _sub(signature, f"{{{DS}}}SignatureValue")
    value.text = base64.b64encode(sign(exclusive_c14n(info))).decode()
    token_ref = _sub(_sub(signature, f"{{{DS}}}KeyInfo"), f"{{{WSSE}}}SecurityTokenReference")
    _sub(token_ref, f"{{{WSSE}}}Reference", URI=f"#{ids.token}", ValueType=X509V3)


def sign_envelope(
    envelope: etree._Element,
    sign: Callable[[bytes], bytes],
    certificate: x509.Certificate,
    now: datetime,
    ttl_seconds: float,
) -> None:
    """Put a signed ``wsse:Security`` header into ``envelope`` (in place).

    ``sign`` makes an RSA-SHA256 (PKCS#1 v1.5) signature of the bytes it gets, so the key
    itself stays inside the ``Signer``.
    """
    body = envelope.find(f"{{{SOAP_ENV}}}Body")
    if body is None:
        raise ValueError("the envelope has no soap:Body")
    header = envelope.find(f"{{{SOAP_ENV}}}Header")
    if header is None:
        header = etree.Element(f"{{{SOAP_ENV}}}Header")
        envelope.insert(0, header)
    ids = HeaderIds.fresh()
    # wsu is declared on the Body too: exclusive c14n renders it there, on both sides.
    body.set(_ID, ids.body)
    security, timestamp = add_security(header, ids, certificate, now, ttl_seconds)
    add_signature(security, ids, sign, _sha256(body), timestamp)


def _parse_time(text: str | None, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat((text or "").strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise UntrustedAnswer("malformed", f"timestamp {name} is not a date-time") from exc
    if moment.tzinfo is None:
        raise UntrustedAnswer("malformed", f"timestamp {name} has no time zone")
    return moment


def verify_envelope(
    envelope: etree._Element, trusted: x509.Certificate, now: datetime, skew_seconds: float
) -> None:
    """Check an answer's WS-Security header; raise ``UntrustedAnswer`` naming what failed."""
    security = envelope.find(f"{{{SOAP_ENV}}}Header/{{{WSSE}}}Security")
    body = envelope.find(f"{{{SOAP_ENV}}}Body")
    if security is None or body is None:
        raise UntrustedAnswer("unsigned", "no wsse:Security header")
    timestamp = security.find(f"{{{WSU}}}Timestamp")
    token = security.find(f"{{{WSSE}}}BinarySecurityToken")
    signature = security.find(f"{{{DS}}}Signature")
    if timestamp is None or token is None or signature is None:
        raise UntrustedAnswer("unsigned", "the header lacks Timestamp, token or Signature")
    skew = timedelta(seconds=skew_seconds)
    if _parse_time(timestamp.findtext(f"{{{WSU}}}Expires"), "Expires") + skew < now:
        raise UntrustedAnswer("expired", "the answer's timestamp has expired")
    if _parse_time(timestamp.findtext(f"{{{WSU}}}Created"), "Created") - skew > now:
        raise UntrustedAnswer("expired", "the answer's timestamp lies in the future")
    try:
        der = base64.b64decode("".join((token.text or "").split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UntrustedAnswer("malformed", "the security token is not base64") from exc
    if not hmac.compare_digest(der, trusted.public_bytes(Encoding.DER)):
        raise UntrustedAnswer("unknown_certificate", "signed by another certificate")
    _check_signature(signature, {body, timestamp}, trusted)


def _check_signature(
    signature: etree._Element, covered: set[etree._Element], trusted: x509.Certificate
) -> None:
    info = signature.find(f"{{{DS}}}SignedInfo")
    if info is None:
        raise UntrustedAnswer("malformed", "the signature has no SignedInfo")
    algorithms = {
        info.find(f"{{{DS}}}CanonicalizationMethod/[@Algorithm='{EXC_C14N}']") is not None,
        info.find(f"{{{DS}}}SignatureMethod/[@Algorithm='{RSA_SHA256}']") is not None,
    }
    if algorithms != {True}:
        raise UntrustedAnswer("malformed", "unsupported signature algorithms")
    digests = {
        (reference.get("URI") or ""): (reference.findtext(f"{{{DS}}}DigestValue") or "").strip()
        for reference in info.iterfind(f"{{{DS}}}Reference")
        if reference.find(f"{{{DS}}}DigestMethod/[@Algorithm='{SHA256}']") is not None
    }
    for element in covered:
        expected = digests.get(f"#{element.get(_ID)}")
        if expected is None or element.get(_ID) is None:
            raise UntrustedAnswer("malformed", "the signature does not cover Body and Timestamp")
        if not hmac.compare_digest(expected, _digest(element)):
            raise UntrustedAnswer("tampered", "digest mismatch")
    try:
        value = base64.b64decode("".join(signature.findtext(f"{{{DS}}}SignatureValue", "").split()))
    except (binascii.Error, ValueError) as exc:
        raise UntrustedAnswer("malformed", "the signature value is not base64") from exc
    key = trusted.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise UntrustedAnswer("malformed", "the central certificate holds no RSA key")
    try:
        key.verify(value, exclusive_c14n(info), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise UntrustedAnswer("bad_signature", "the signature value does not verify") from exc


def _needs_check(envelope: etree._Element) -> bool:
    """Whether this reply is a SOAP answer to check: not a fault, not something else.

    A document that is no SOAP Envelope at all is left to zeep, which names it
    ("not SOAP") as the unreadable answer it is.
    """
    if envelope.tag != f"{{{SOAP_ENV}}}Envelope":
        return False
    return envelope.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault") is None


class WsSecurityPlugin(Plugin):
    """zeep plugin: signs every request (egress) and checks every answer (ingress).

    Faults are passed unchecked: a fault is never recorded as an outcome (it is retried or
    dead-lettered, both visible), and the central application may refuse a request before
    it could sign anything.
    """

    def __init__(
        self,
        identity: Callable[[], tuple[Callable[[bytes], bytes], x509.Certificate]],
        trusted: x509.Certificate | None,
        ttl_seconds: float,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_untrusted: Callable[[str], None] | None = None,
    ) -> None:
        self._identity = identity
        self._trusted = trusted
        self._ttl = ttl_seconds
        self._now = now
        self._on_untrusted = on_untrusted

    def egress(
        self, envelope: etree._Element, http_headers: Any, operation: Any, binding_options: Any
    ) -> tuple[etree._Element, Any]:
        """Sign the outgoing envelope."""
        # Key and certificate taken together: a reload between two reads would pair a new
        # token with the old key.
        sign, certificate = self._identity()
        sign_envelope(envelope, sign, certificate, self._now(), self._ttl)
        return envelope, http_headers

    def ingress(
        self, envelope: etree._Element, http_headers: Any, operation: Any
    ) -> tuple[etree._Element, Any]:
        """Refuse an answer that is not signed by the trusted certificate."""
        if self._trusted is not None and _needs_check(envelope):
            try:
                verify_envelope(envelope, self._trusted, self._now(), self._ttl)
            except UntrustedAnswer as exc:
                if self._on_untrusted is not None:
                    self._on_untrusted(exc.reason)
                raise
        return envelope, http_headers


def load_answer_certificate(settings: CentralSettings) -> x509.Certificate | None:
    """The certificate answers must be signed by; None when checking is switched off."""
    if not settings.require_signed_answers:
        return None
    try:
        return x509.load_pem_x509_certificate(Path(settings.answer_certificate).read_bytes())
    except OSError as exc:
        raise ConfigError(
            f"cannot read central.answer_certificate {settings.answer_certificate}: {exc.strerror}"
        ) from exc
    except ValueError as exc:
        raise ConfigError(
            f"central.answer_certificate {settings.answer_certificate} is not a PEM certificate"
        ) from exc


def plugin_for(
    settings: CentralSettings, signer: Signer, on_untrusted: Callable[[str], None] | None = None
) -> WsSecurityPlugin:
    """The plugin signing with ``signer`` and checking answers as ``settings`` say.

    The key and certificate are read from the signer at each call, so a reloaded keystore
    is used from the next request on.
    """
    return WsSecurityPlugin(
        signer.header_identity,
        load_answer_certificate(settings),
        settings.wssecurity_ttl_seconds,
        on_untrusted=on_untrusted,
    )
