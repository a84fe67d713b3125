"""Opening pika connections with the adapter's liveness and TLS settings, errors translated.

An ``amqps://`` URL is a TLS connection: the broker's certificate is checked against
``BrokerTls.ca_bundle`` (the system's store when empty) and its host name against the URL's
host; a client certificate is offered when one is configured, and with ``external_auth`` it
is also the login (RabbitMQ's EXTERNAL mechanism, plugin ``rabbitmq_auth_mechanism_ssl``).
A TLS failure is a ``BrokerTlsFailure``: retried like any unreachable broker, but worded as
what it is (docs/sysadmin.md, "RabbitMQ over TLS").
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Final

import pika
import pika.credentials
import pika.exceptions

from queues.errors import BrokerTlsFailure, BrokerUnavailable

_TLS_REASONS: Final = (
    ("Hostname mismatch", "hostname", "the broker's certificate is not for this host name"),
    ("IP address mismatch", "hostname", "the broker's certificate is not for this address"),
    ("certificate has expired", "expired", "the broker's certificate has expired"),
    ("not yet valid", "expired", "the broker's certificate is not valid yet"),
    (
        "CERTIFICATE_VERIFY_FAILED",
        "unknown_ca",
        "the broker's certificate is not signed by a CA of broker.ca_bundle",
    ),
    (
        "CERTIFICATE_REQUIRED",
        "client_certificate",
        "the broker wants a client certificate (broker.client_certificate)",
    ),
    ("ALERT_UNKNOWN_CA", "client_certificate", "the broker does not trust the client certificate"),
    ("ALERT_BAD_CERTIFICATE", "client_certificate", "the broker refused the client certificate"),
    ("WRONG_VERSION_NUMBER", "not_tls", "the broker's port does not speak TLS"),
)
"""OpenSSL's words (as pika passes them on) and what they mean for a sysadmin."""


@dataclass(frozen=True)
class BrokerTls:
    """The TLS side of an ``amqps://`` connection."""

    ca_bundle: str = ""
    """PEM file of the CAs the broker's certificate must chain to; empty: the system's."""
    client_certificate: str = ""
    client_key: str = ""
    external_auth: bool = False

    def context(self) -> ssl.SSLContext:
        """A client context: certificate and host name verified, TLS 1.2 at least."""
        context = ssl.create_default_context(cafile=self.ca_bundle or None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.client_certificate:
            context.load_cert_chain(self.client_certificate, self.client_key or None)
        return context


@dataclass(frozen=True)
class BrokerAddress:
    """Where RabbitMQ is and how a connection notices that it is gone."""

    url: str
    heartbeat_seconds: int = 30
    blocked_timeout_seconds: int = 60
    tls: BrokerTls = field(default_factory=BrokerTls)

    @property
    def uses_tls(self) -> bool:
        """Whether the URL asks for TLS (``amqps://``)."""
        return self.url.startswith("amqps://")

    def connect(self, name: str) -> pika.BlockingConnection:
        """A new blocking connection named ``name`` in the management UI."""
        params = pika.URLParameters(self.url)
        params.heartbeat = self.heartbeat_seconds
        params.blocked_connection_timeout = self.blocked_timeout_seconds
        params.client_properties = {"connection_name": name}
        params.connection_attempts = 1
        params.socket_timeout = 5
        if self.uses_tls:
            try:
                context = self.tls.context()
            except (OSError, ssl.SSLError) as exc:
                raise BrokerTlsFailure(
                    "files", f"cannot load the broker TLS files: {exc.strerror or exc}"
                ) from exc
            params.ssl_options = pika.SSLOptions(context, server_hostname=params.host)
            if self.tls.external_auth:
                params.credentials = pika.credentials.ExternalCredentials()
        try:
            return pika.BlockingConnection(params)
        except (pika.exceptions.AMQPError, OSError, ValueError) as exc:
            # pika raises ValueError when the socket is reset during its own connect.
            raise self._translated(exc) from exc

    def _translated(self, exc: BaseException) -> BrokerUnavailable:
        text = repr(exc) if isinstance(exc, pika.exceptions.AMQPError) else str(exc)
        if self.uses_tls:
            for marker, reason, meaning in _TLS_REASONS:
                if marker in text:
                    return BrokerTlsFailure(
                        reason, f"TLS failure towards RabbitMQ at {self.safe_url}: {meaning}"
                    )
            if "SSLEOFError" in text and self.tls is not None and not self.tls.client_certificate:
                # Under TLS 1.3 the broker refuses a missing client certificate after the
                # client's side of the handshake: its alert often loses the race with the
                # close, and only the EOF arrives.
                return BrokerTlsFailure(
                    "client_certificate",
                    f"TLS failure towards RabbitMQ at {self.safe_url}: the broker closed the"
                    " connection in the handshake; it likely wants a client certificate"
                    " (broker.client_certificate)",
                )
        return BrokerUnavailable(f"cannot connect to RabbitMQ at {self.safe_url}: {text}")

    @property
    def safe_url(self) -> str:
        """The URL without its password, for logs."""
        params = pika.URLParameters(self.url)
        scheme = "amqps" if self.uses_tls else "amqp"
        vhost = params.virtual_host and "/" + params.virtual_host
        return f"{scheme}://{params.host}:{params.port}{vhost}"
