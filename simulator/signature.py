"""Checking the XAdES-BES signature of a VSB message against the trusted certificates.

The signature is enveloped, made with C14N 1.1 (signxml's default); the signing certificate
travels in ``ds:KeyInfo/ds:X509Data``. The certificate is trusted only when its DER equals
one of the certificates given at start: there is no chain or revocation check.
"""

from __future__ import annotations

import base64
import binascii
import copy
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from signxml import exceptions as signxml_errors
from signxml.xades.xades import XAdESVerifier

from simulator.contract import safe_parser
from simulator.errors import RequestError

DS: Final = "http://www.w3.org/2000/09/xmldsig#"


class SignatureError(RequestError):
    """The message is unsigned, signed by an unknown certificate, or its signature fails."""


def load_certificates(sources: Iterable[bytes | str | Path]) -> list[x509.Certificate]:
    """Certificates from PEM bytes or PEM file paths (a file may hold several)."""
    found: list[x509.Certificate] = []
    for source in sources:
        pem = source if isinstance(source, bytes) else Path(source).read_bytes()
        found.extend(x509.load_pem_x509_certificates(pem))
    return found


class TrustStore:
    """The certificates whose signatures the simulator accepts."""

    def __init__(self, certificates: Iterable[x509.Certificate]):
        self._by_der = {cert.public_bytes(Encoding.DER): cert for cert in certificates}

    def __len__(self) -> int:
        return len(self._by_der)

    def lookup(self, der: bytes) -> x509.Certificate | None:
        """The trusted certificate with this DER encoding, or None."""
        return self._by_der.get(der)

    def verify(self, payload: etree._Element) -> etree._Element:
        """Check the payload's signature; return the signed content as signxml saw it.

        The payload is copied first: detached from the SOAP envelope, so inclusive
        canonicalisation does not pick up the envelope's namespace declarations.
        The returned element (the signed root without its signature) is what the rules
        should read, so nothing outside the signature can sneak in.
        """
        detached = copy.deepcopy(payload)
        signature = detached.find(f"{{{DS}}}Signature")
        if signature is None:
            raise SignatureError("signature: missing")
        cert_text = signature.findtext(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate")
        if not cert_text:
            raise SignatureError("signature: no certificate in KeyInfo/X509Data")
        try:
            der = base64.b64decode("".join(cert_text.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SignatureError("signature: certificate is not base64") from exc
        trusted = self._by_der.get(der)
        if trusted is None:
            raise SignatureError("signature: unknown certificate")
        try:
            # A new verifier per call: signxml verifiers keep per-call state.
            results = XAdESVerifier().verify(detached, x509_cert=trusted, parser=safe_parser())
        except signxml_errors.InvalidDigest as exc:
            raise SignatureError("signature: digest mismatch") from exc
        except signxml_errors.InvalidSignature as exc:
            raise SignatureError("signature: signature value does not verify") from exc
        except (signxml_errors.SignXMLException, ValueError) as exc:
            raise SignatureError(f"signature: {exc}") from exc
        signed = results[0].signed_xml
        if signed is None or signed.tag != payload.tag:
            raise SignatureError("signature: does not cover the whole message")
        return signed
