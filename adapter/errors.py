"""The adapter's exception hierarchy, drawn in one place.

::

    AdapterError
    ├── ConfigError              bad settings file or environment; the daemon refuses to start
    ├── KeystoreError            the PKCS#12 keystore cannot be read or opened
    ├── StoreError               the SQL store failed (translated from SQLAlchemy)
    │   ├── StoreUnavailable     connection lost, timeout, lock timeout, disk full: retry
    │   ├── UnstorableData       the store refuses these values (DataError, encoding, a
    │   │                        constraint that holds on retry): retrying cannot help
    │   └── StoreLockedError     another adapter instance holds the SQLite file
    ├── SealError                a sealed store value cannot be opened (unknown key id,
    │                            tampered, moved to another row): never retried
    └── DeliveryError            a VSB message could not be delivered
        ├── TransientDeliveryError   connection, timeout, HTTP 5xx, soap:Server fault: retry
        │   └── UnreadableAnswer     an answer that cannot be read (garbage, empty, entities):
        │       │                    in doubt, resent with its id until the retry caps
        │       └── UntrustedAnswer  an answer whose WS-Security signature fails or is missing
        └── PermanentDeliveryError   soap:Client fault, HTTP 4xx: dead letter

    mappings.errors.MappingError    (the pure mapping layer; no broker, no store)
    ├── InvalidEvent                the event breaks the contract: refused, answered "invalid"
    ├── SchemaViolation             a built message fails the VSB XSD: dead letter
    └── AnswerFormatError           an answer of the central application cannot be read

    queues.errors.BrokerError       RabbitMQ unreachable or refused a publish
    ├── BrokerUnavailable
    └── PublishRefused              unroutable (mandatory) or nacked by the broker

Third-party exceptions (SQLAlchemy, zeep, requests, pika) are translated where the library is
called, with ``raise Ours(...) from exc``, so the engine only ever handles these.
"""

from __future__ import annotations


class AdapterError(Exception):
    """Base of every error the adapter raises on purpose."""


class ConfigError(AdapterError):
    """The settings are wrong; the message names the key and the rule."""


class KeystoreError(AdapterError):
    """The facility's keystore cannot be loaded (missing file, bad passphrase, no key)."""


class StoreError(AdapterError):
    """The SQL store failed; the subclass says whether trying again can help."""


class StoreUnavailable(StoreError):
    """The store cannot be reached or cannot write now (connection, timeout, disk full)."""


class UnstorableData(StoreError):
    """The store refuses these values for good (a NUL byte in PostgreSQL text, say).

    Retrying the same values fails the same way: ingest isolates the one event instead.
    """


class StoreLockedError(StoreError):
    """Another adapter instance already uses this SQLite file (scale-out is PostgreSQL's job)."""


class SealError(AdapterError):
    """A value sealed in the store cannot be opened: its key id is not in the keyring, or
    it was altered or moved to another row. The text names the row and the key id, never
    the value; trying again cannot help until the keyring is fixed."""


class DeliveryError(AdapterError):
    """Sending a message to the central application failed."""


class TransientDeliveryError(DeliveryError):
    """A failure that may go away by itself: try again later."""


class UnreadableAnswer(TransientDeliveryError):
    """The central application answered something that cannot be read.

    It may have applied the message before answering, so the message is in doubt: it is
    resent with the same message id (the central application returns its stored answer)
    until the retry caps, then becomes a dead letter whose cause says what was received.
    """


class UntrustedAnswer(UnreadableAnswer):
    """An answer not signed by the central application's configured certificate.

    Believed no more than garbage: the message stays in doubt and is resent with its id.
    ``reason`` is a short fixed word for the metric's label (unsigned, expired,
    unknown_certificate, tampered, bad_signature, malformed).
    """

    def __init__(self, reason: str, text: str) -> None:
        super().__init__(f"unreadable answer: untrusted ({reason}): {text}")
        self.reason = reason


class PermanentDeliveryError(DeliveryError):
    """A failure that retrying will not cure: the message becomes a dead letter."""
