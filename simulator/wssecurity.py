"""WS-Security as the central application applies it: requests checked, answers signed.

A request must carry ``soap:Header/wsse:Security`` with a ``wsu:Timestamp``, the sender's
certificate as an X509v3 ``wsse:BinarySecurityToken`` and a ``ds:Signature`` (RSA-SHA256,
SHA-256 digests, exclusive c14n) covering the ``soap:Body`` and the Timestamp by ``wsu:Id``.
Each way to fail has its WS-Security 1.1 fault code (docs/simulator.md, "WS-Security"):

====================== =====================================================
wsse:InvalidSecurity   no Security header, or it lacks Timestamp/token/Signature
wsse:MessageExpired    the Timestamp expired, or was created in the future
                       (both beyond the skew window)
wsse:InvalidSecurityToken  the token is not a base64 X.509 certificate
wsse:FailedAuthentication  the certificate is not among the trusted ones
wsse:UnsupportedAlgorithm  another c14n, signature or digest algorithm
wsse:FailedCheck       a digest does not match (tampered) or the signature fails
====================== =====================================================

Written for the simulator alone (it shares no code with the adapter): lxml's exclusive
c14n and cryptography's RSA. The covered parts are found by position (the Envelope's Body,
the header's Timestamp) and their digests compared with the references naming their
``wsu:Id``, so a signed element moved elsewhere cannot stand in for them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

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


class WsSecurityFault(Exception):
    """A request the WS-Security check refuses: ``code`` is the wsse fault code."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{code}: {text}")
        self.code = code
        self.text = text


def _c14n(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False)


def _digest(element: etree._Element) -> str:
    return base64.b64encode(hashlib.sha256(_c14n(element)).digest()).decode()


def _when(text: str | None, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat((text or "").strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise WsSecurityFault("wsse:InvalidSecurity", f"Timestamp {name} unreadable") from exc
    if moment.tzinfo is None:
        raise WsSecurityFault("wsse:InvalidSecurity", f"Timestamp {name} has no time zone")
    return moment


def verify_request(
    envelope: etree._Element,
    trusted: Callable[[bytes], x509.Certificate | None],
    now: datetime,
    skew_seconds: float,
) -> x509.Certificate:
    """Check a request's WS-Security header; return the signer's certificate.

    ``trusted`` maps a certificate's DER to the trusted certificate, or None.
    """
    security = envelope.find(f"{{{SOAP_ENV}}}Header/{{{WSSE}}}Security")
    body = envelope.find(f"{{{SOAP_ENV}}}Body")
    if security is None or body is None:
        raise WsSecurityFault("wsse:InvalidSecurity", "no wsse:Security header")
    timestamp = security.find(f"{{{WSU}}}Timestamp")
    token = security.find(f"{{{WSSE}}}BinarySecurityToken")
    signature = security.find(f"{{{DS}}}Signature")
    if timestamp is None or token is None or signature is None:
        raise WsSecurityFault(
            "wsse:InvalidSecurity", "the Security header needs Timestamp, token and Signature"
        )
    skew = timedelta(seconds=skew_seconds)
    if _when(timestamp.findtext(f"{{{WSU}}}Expires"), "Expires") + skew < now:
        raise WsSecurityFault("wsse:MessageExpired", "the Timestamp has expired")
    if _when(timestamp.findtext(f"{{{WSU}}}Created"), "Created") - skew > now:
        raise WsSecurityFault("wsse:MessageExpired", "the Timestamp was created in the future")
    if token.get("ValueType") != X509V3:
        raise WsSecurityFault("wsse:InvalidSecurityToken", "the token is not X509v3")
    try:
        der = base64.b64decode("".join((token.text or "").split()), validate=True)
        x509.load_der_x509_certificate(der)
    except (binascii.Error, ValueError) as exc:
        raise WsSecurityFault("wsse:InvalidSecurityToken", "the token is no certificate") from exc
    certificate = trusted(der)
    if certificate is None:
        raise WsSecurityFault("wsse:FailedAuthentication", "unknown certificate")
    _check(signature, token, (body, timestamp), certificate)
    return certificate


def _check(
    signature: etree._Element,
    token: etree._Element,
    covered: tuple[etree._Element, ...],
    certificate: x509.Certificate,
) -> None:
    info = signature.find(f"{{{DS}}}SignedInfo")
    if info is None:
        raise WsSecurityFault("wsse:InvalidSecurity", "the Signature has no SignedInfo")
    c14n = info.find(f"{{{DS}}}CanonicalizationMethod")
    method = info.find(f"{{{DS}}}SignatureMethod")
    if c14n is None or c14n.get("Algorithm") != EXC_C14N:
        raise WsSecurityFault("wsse:UnsupportedAlgorithm", "canonicalization must be exc-c14n")
    if method is None or method.get("Algorithm") != RSA_SHA256:
        raise WsSecurityFault("wsse:UnsupportedAlgorithm", "the signature must be RSA-SHA256")
    key_info = f"{{{DS}}}KeyInfo/{{{WSSE}}}SecurityTokenReference/{{{WSSE}}}Reference"
    reference = signature.find(key_info)
    if reference is None or reference.get("URI") != f"#{token.get(_ID)}":
        raise WsSecurityFault("wsse:InvalidSecurityToken", "KeyInfo does not name the token")
    digests: dict[str, str] = {}
    for ref in info.iterfind(f"{{{DS}}}Reference"):
        digest_method = ref.find(f"{{{DS}}}DigestMethod")
        if digest_method is None or digest_method.get("Algorithm") != SHA256:
            raise WsSecurityFault("wsse:UnsupportedAlgorithm", "digests must be SHA-256")
        digests[ref.get("URI") or ""] = (ref.findtext(f"{{{DS}}}DigestValue") or "").strip()
    for element in covered:
        element_id = element.get(_ID)
        expected = digests.get(f"#{element_id}") if element_id else None
        name = etree.QName(element).localname
        if expected is None:
            raise WsSecurityFault("wsse:InvalidSecurity", f"the Signature does not cover {name}")
        if not hmac.compare_digest(expected, _digest(element)):
            raise WsSecurityFault("wsse:FailedCheck", f"the {name}'s digest does not match")
    try:
        value = base64.b64decode("".join(signature.findtext(f"{{{DS}}}SignatureValue", "").split()))
    except (binascii.Error, ValueError) as exc:
        raise WsSecurityFault("wsse:FailedCheck", "the SignatureValue is not base64") from exc
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise WsSecurityFault("wsse:UnsupportedAlgorithm", "the certificate holds no RSA key")
    try:
        key.verify(value, _c14n(info), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise WsSecurityFault("wsse:FailedCheck", "the signature value does not verify") from exc


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _add(parent: etree._Element, tag: str, text: str | None = None, **attrib: str) -> Any:
    child = etree.SubElement(parent, tag, attrib)
    child.text = text
    return child


class AnswerSigner:
    """Signs the simulator's SOAP responses with the central application's key."""

    def __init__(self, key: rsa.RSAPrivateKey, certificate: x509.Certificate, ttl_seconds: float):
        self._key = key
        self._der = certificate.public_bytes(Encoding.DER)
        self._ttl = timedelta(seconds=ttl_seconds)

    @classmethod
    def load(
        cls, key: bytes | str | Path, certificate: bytes | str | Path, ttl_seconds: float
    ) -> AnswerSigner:
        """From PEM bytes or PEM files (an unencrypted key)."""
        key_pem = key if isinstance(key, bytes) else Path(key).read_bytes()
        cert_pem = certificate if isinstance(certificate, bytes) else Path(certificate).read_bytes()
        loaded = serialization.load_pem_private_key(key_pem, None)
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise ValueError("the simulator's signing key must be RSA")
        return cls(loaded, x509.load_pem_x509_certificate(cert_pem), ttl_seconds)

    def sign(self, raw: bytes, now: datetime) -> bytes:
        """The response envelope ``raw`` with a signed Security header."""
        envelope = etree.fromstring(raw)
        body = envelope.find(f"{{{SOAP_ENV}}}Body")
        if body is None:
            return raw
        header = etree.Element(f"{{{SOAP_ENV}}}Header")
        envelope.insert(0, header)
        suffix = uuid.uuid4().hex
        body.set(_ID, f"Body-{suffix}")
        security = etree.SubElement(
            header,
            f"{{{WSSE}}}Security",
            {f"{{{SOAP_ENV}}}mustUnderstand": "1"},
            nsmap={"wsse": WSSE, "wsu": WSU},
        )
        timestamp = _add(security, f"{{{WSU}}}Timestamp", **{_ID: f"TS-{suffix}"})
        _add(timestamp, f"{{{WSU}}}Created", _stamp(now))
        _add(timestamp, f"{{{WSU}}}Expires", _stamp(now + self._ttl))
        _add(
            security,
            f"{{{WSSE}}}BinarySecurityToken",
            base64.b64encode(self._der).decode(),
            EncodingType=BASE64,
            ValueType=X509V3,
            **{_ID: f"X509-{suffix}"},
        )
        signature = etree.SubElement(security, f"{{{DS}}}Signature", nsmap={"ds": DS})
        info = _add(signature, f"{{{DS}}}SignedInfo")
        _add(info, f"{{{DS}}}CanonicalizationMethod", Algorithm=EXC_C14N)
        _add(info, f"{{{DS}}}SignatureMethod", Algorithm=RSA_SHA256)
        for element in (body, timestamp):
            reference = _add(info, f"{{{DS}}}Reference", URI=f"#{element.get(_ID)}")
            transforms = _add(reference, f"{{{DS}}}Transforms")
            _add(transforms, f"{{{DS}}}Transform", Algorithm=EXC_C14N)
            _add(reference, f"{{{DS}}}DigestMethod", Algorithm=SHA256)
            _add(reference, f"{{{DS}}}DigestValue", _digest(element))
        value = self._key.sign(_c14n(info), padding.PKCS1v15(), hashes.SHA256())
        _add(signature, f"{{{DS}}}SignatureValue", base64.b64encode(value).decode())
        token_ref = _add(_add(signature, f"{{{DS}}}KeyInfo"), f"{{{WSSE}}}SecurityTokenReference")
        _add(token_ref, f"{{{WSSE}}}Reference", URI=f"#X509-{suffix}", ValueType=X509V3)
        return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
