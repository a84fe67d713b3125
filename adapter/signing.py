"""XAdES-BES signing of VSB messages with the facility's eHealth key, loaded once at start.

Loading the keystore costs ~40 ms and signing ~2.5 ms, so the key and certificate are read
once into a ``Signer`` that every sender thread shares. signxml's signer object keeps
per-call state, so each call builds its own (cheap) ``XAdESSigner`` around the shared key.

Canonicalization is signxml's default (C14N 1.1, inclusive): with exclusive c14n, signxml 5.2
computes a SignedProperties digest that its own verifier rejects. The receiver therefore
verifies the payload detached from the SOAP envelope (see docs/sysadmin.md, "Signature").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from lxml import etree
from signxml.xades.xades import XAdESDataObjectFormat, XAdESSigner

from adapter.errors import KeystoreError
from adapter.settings import SigningSettings

_FORMAT = XAdESDataObjectFormat(Description="VSB message", MimeType="text/xml")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
"""signxml re-parses the message it signs. Its own parser refuses a text node over 10 MB
(libxml2's default), and a 10 MiB attachment is 14 MB of base64: ``huge_tree`` lifts that.
The message is the adapter's own (built with lxml's API, XSD-valid), never foreign input."""


def read_passphrase(settings: SigningSettings, environ: Mapping[str, str]) -> bytes:
    """The keystore passphrase: from ``passphrase_file`` if set, else from the named variable."""
    if settings.passphrase_file:
        try:
            return Path(settings.passphrase_file).read_bytes().rstrip(b"\r\n")
        except OSError as exc:
            raise KeystoreError(
                f"cannot read signing.passphrase_file {settings.passphrase_file}: {exc.strerror}"
            ) from exc
    value = environ.get(settings.passphrase_env)
    if value is None:
        raise KeystoreError(
            f"no keystore passphrase: set signing.passphrase_file or ${settings.passphrase_env}"
        )
    return value.encode()


class Signer:
    """Signs VSB messages (enveloped XAdES-BES, RSA-SHA256, SHA-256 digests, X509Data)."""

    def __init__(self, key: rsa.RSAPrivateKey, certificate: x509.Certificate) -> None:
        # Key and certificate live in one tuple, replaced by one assignment (``adopt``): a
        # sender thread that reads it once never signs with a new key and an old certificate.
        self._material: tuple[rsa.RSAPrivateKey, x509.Certificate] = (key, certificate)

    @property
    def _key(self) -> rsa.RSAPrivateKey:
        return self._material[0]

    @property
    def certificate(self) -> x509.Certificate:
        """The facility's certificate now in use."""
        return self._material[1]

    def adopt(self, other: Signer) -> None:
        """Sign with ``other``'s key and certificate from now on (a renewed keystore).

        Atomic: a signature in progress finishes with the old pair, the next one uses the new.
        """
        self._material = other._material

    @classmethod
    def from_keystore(cls, path: str | Path, passphrase: bytes) -> Signer:
        """Open a PKCS#12 keystore holding the facility's RSA key and certificate."""
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise KeystoreError(f"cannot read keystore {path}: {exc.strerror}") from exc
        try:
            key, certificate, _extra = pkcs12.load_key_and_certificates(data, passphrase)
        except ValueError as exc:
            raise KeystoreError(
                f"cannot open keystore {path}: wrong passphrase or not PKCS#12"
            ) from exc
        if not isinstance(key, rsa.RSAPrivateKey) or certificate is None:
            raise KeystoreError(f"keystore {path} must hold an RSA key and its certificate")
        return cls(key, certificate)

    def header_identity(self) -> tuple[Callable[[bytes], bytes], x509.Certificate]:
        """An RSA-SHA256 (PKCS#1 v1.5) signing function and its certificate, from one read
        of the pair in use: the WS-Security header's (adapter/wssecurity.py)."""
        key, certificate = self._material

        def sign(data: bytes) -> bytes:
            return key.sign(data, padding.PKCS1v15(), hashes.SHA256())

        return sign, certificate

    def tls_identity(self) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        """The key and certificate, also the TLS client certificate (adapter/tls.py)."""
        return self._material

    def sign(self, message: etree._Element) -> etree._Element:
        """Return a signed copy of ``message`` with the ds:Signature as its last child."""
        signer = XAdESSigner(
            signature_algorithm="rsa-sha256",
            digest_algorithm="sha256",
            data_object_format=_FORMAT,
        )
        signer._parser = _PARSER  # type: ignore[assignment]  # signxml: no public way to pass it
        key, certificate = self._material  # read once: see __init__
        signed: etree._Element = signer.sign(message, key=key, cert=[certificate])
        return signed
