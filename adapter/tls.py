"""TLS towards the central application: the server checked, the facility's client certificate.

One ``ssl.SSLContext`` per ``ZeepCentral`` carries the whole policy: the CA bundle the server
is checked against (host name included) and the client certificate. It reaches requests
through ``ContextAdapter``, so requests' own certificate handling (``verify=``, ``cert=``,
``REQUESTS_CA_BUNDLE``) cannot widen it. The client key comes from the facility keystore
already opened for signing and is handed to OpenSSL through an anonymous in-memory file, so
it never touches the disk.

``tls_failure`` turns a failed handshake (found anywhere in the exception chain requests and
urllib3 build) into a ``TlsFailure`` with one of a few fixed reasons, for the log, the
``vsb_central_tls_failures_total`` metric and the ``VsbCentralTlsFailures`` alert.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import ssl
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import certifi
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from requests.adapters import HTTPAdapter

from adapter.errors import ConfigError, TransientDeliveryError
from adapter.settings import CentralSettings
from adapter.signing import Signer
from monitoring.metrics import TLS_REASONS

_EXPLAINED = {
    "unknown_ca": "the server's certificate is not issued by a CA in central.ca_bundle",
    "hostname_mismatch": "the server's certificate is not for the host name of central.url",
    "expired": "the server's certificate has expired (or is not valid yet)",
    "client_certificate_refused": "the server refused our client certificate (or its absence)",
    "handshake": "the TLS handshake failed",
}

# OpenSSL's X509_V_ERR_* codes on ssl.SSLCertVerificationError.verify_code.
_VERIFY_CODES = {
    7: "unknown_ca",  # signed by another key than the bundle's CA of that name
    9: "expired",  # not yet valid
    10: "expired",
    18: "unknown_ca",  # self-signed leaf
    19: "unknown_ca",  # self-signed CA in the chain
    20: "unknown_ca",  # unable to get local issuer
    21: "unknown_ca",  # unable to verify the first certificate
    62: "hostname_mismatch",
    64: "hostname_mismatch",  # IP address mismatch
}
# Alerts the server sends when it does not accept the client certificate we sent (or none).
_CLIENT_ALERTS = (
    "CERTIFICATE_REQUIRED",
    "BAD_CERTIFICATE",
    "UNKNOWN_CA",
    "CERTIFICATE_UNKNOWN",
    "CERTIFICATE_EXPIRED",
    "HANDSHAKE_FAILURE",
    "ACCESS_DENIED",
    "DECRYPT_ERROR",  # our certificate names a CA the server knows, another key signed it
)


class TlsFailure(TransientDeliveryError):
    """The TLS handshake with the central application failed.

    Transient like any connection failure (the breaker opens, messages wait, nothing is
    dead-lettered) yet named for what it is: ``reason`` is one of ``TLS_REASONS``.
    """

    def __init__(self, reason: str, detail: str) -> None:
        assert reason in TLS_REASONS
        super().__init__(f"TLS failure ({reason}): {_EXPLAINED[reason]}: {detail}")
        self.reason = reason


def _ssl_errors(exc: BaseException) -> Iterator[ssl.SSLError]:
    """Every ``ssl.SSLError`` in the chain: causes, contexts and the args urllib3 nests."""
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, ssl.SSLError):
            yield item
        todo += [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args]


def tls_failure(exc: BaseException) -> TlsFailure | None:
    """The ``TlsFailure`` a requests exception stands for, or None if it is no TLS problem."""
    for error in _ssl_errors(exc):
        if isinstance(error, ssl.SSLCertVerificationError):
            reason = _VERIFY_CODES.get(error.verify_code, "handshake")
            return TlsFailure(reason, error.verify_message or str(error))
        name = str(getattr(error, "reason", "") or error)
        if any(alert in name.upper() for alert in _CLIENT_ALERTS) and "ALERT" in name.upper():
            return TlsFailure("client_certificate_refused", name)
        return TlsFailure("handshake", name)
    return None


class ContextAdapter(HTTPAdapter):
    """A requests adapter whose every HTTPS pool uses one ``SSLContext`` and nothing else."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """Pools made with our context (also kept on pickling, as requests does)."""
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> Any:
        """Only our context: requests' ``ca_certs``/``cert_file`` would be added to it."""
        host_params, _ = super().build_connection_pool_key_attributes(request, verify, cert)
        return host_params, {"ssl_context": self._context}

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        """Nothing: the context already says what is trusted and which certificate we show."""


def session(context: ssl.SSLContext | None) -> requests.Session:
    """A requests session; with ``context``, every https:// call goes through it."""
    result = requests.Session()
    if context is not None:
        result.mount("https://", ContextAdapter(context))
    return result


def context_for(settings: CentralSettings, signer: Signer | None) -> ssl.SSLContext | None:
    """The TLS policy ``settings`` describe; None for a plain http:// URL.

    ``client_certificate = "keystore"`` shows the key and certificate ``signer`` holds (none
    without a signer, as in tools that only read); ``"files"`` the PEM files; ``"none"`` none.
    """
    if not settings.url.startswith("https://"):
        return None
    if settings.ca_bundle:
        # Not create_default_context(cafile=...): that would load the system store as well.
        # PROTOCOL_TLS_CLIENT checks the certificate and the host name by default.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_verify_locations(cafile=settings.ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"cannot read central.ca_bundle {settings.ca_bundle}: {exc}") from exc
    else:
        # The bundle requests used before this module: the public CAs certifi ships.
        context = ssl.create_default_context(cafile=certifi.where())
    if settings.client_certificate == "files":
        try:
            context.load_cert_chain(settings.client_cert_file, settings.client_key_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"cannot load central.client_cert_file {settings.client_cert_file} with"
                f" central.client_key_file {settings.client_key_file}: {exc}"
            ) from exc
    elif settings.client_certificate == "keystore" and signer is not None:
        key, certificate = signer.tls_identity()
        _load_in_memory(context, key, certificate)
    return context


def _load_in_memory(
    context: ssl.SSLContext, key: rsa.RSAPrivateKey, certificate: x509.Certificate
) -> None:
    """Give OpenSSL the key and certificate, which it only reads from a file path.

    On Linux an anonymous memory file (``memfd``) is that path; elsewhere a 0600 file in a
    private temporary folder, removed at once. Either way the key is encrypted under a
    one-time password, so even that short-lived file holds nothing usable.
    """
    password = secrets.token_bytes(32)
    pem = certificate.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password),
    )
    with _private_file(pem) as path:
        context.load_cert_chain(path, password=password)


@contextlib.contextmanager
def _private_file(content: bytes) -> Iterator[str]:
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("vsb-client-cert", os.MFD_CLOEXEC)
        try:
            os.write(fd, content)
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    with tempfile.TemporaryDirectory(prefix="vsb-tls-") as folder:  # 0700
        path = Path(folder) / "client.pem"
        path.touch(0o600)
        path.write_bytes(content)
        yield str(path)


def describe(settings: CentralSettings, signer: Signer | None) -> tuple[str, str]:
    """``check``'s line about TLS: a status (OK, WARN) and the mode in force."""
    if not settings.url.startswith("https://"):
        return "WARN", "central TLS: plain http allowed (demo/tests only), nothing encrypted"
    bundle = settings.ca_bundle or f"the certifi bundle {certifi.where()}"
    text = f"central TLS: https, server checked against {bundle} (host name verified)"
    if settings.client_certificate == "files":
        try:
            pem = Path(settings.client_cert_file).read_bytes()
            subject = x509.load_pem_x509_certificate(pem).subject.rfc4514_string()
        except (OSError, ValueError) as exc:
            return "FAIL", f"{text}; client certificate unreadable: {exc}"
        return "OK", f"{text}, client certificate {subject} ({settings.client_cert_file})"
    if settings.client_certificate == "keystore" and signer is not None:
        subject = signer.tls_identity()[1].subject.rfc4514_string()
        return "OK", f"{text}, client certificate {subject} (the facility keystore)"
    return "WARN", f"{text}, no client certificate"
