"""Errors of the RabbitMQ transport (part of the hierarchy drawn in ``adapter.errors``)."""

from __future__ import annotations


class BrokerError(Exception):
    """Base of the transport's errors."""


class BrokerUnavailable(BrokerError):
    """RabbitMQ cannot be reached, or the connection dropped; the caller retries later."""


class PublishRefused(BrokerError):
    """RabbitMQ would not take a publish: no queue bound (mandatory) or a negative confirm."""


class BrokerTlsFailure(BrokerUnavailable):
    """The TLS handshake with RabbitMQ failed: retried, but named as a TLS problem."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        """A short label: unknown_ca, hostname, expired, client_certificate, not_tls, files."""
