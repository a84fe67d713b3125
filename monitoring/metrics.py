"""The adapter's Prometheus metrics, on a registry of its own (one per daemon, one per test).

Labels carry event codes, outcomes and reasons only: never an INSZ, a name, a dossier id.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

TLS_REASONS = (
    "unknown_ca",
    "hostname_mismatch",
    "expired",
    "client_certificate_refused",
    "handshake",
)
"""The reasons of ``vsb_central_tls_failures_total`` (adapter/tls.py says which is which)."""

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class Metrics:
    """Every metric the adapter exposes; see docs/sysadmin.md for their meaning and alerts."""

    def count_tls_failure(self, reason: str) -> None:
        """One failed TLS handshake with the central application (``ZeepCentral`` calls it)."""
        self.central_tls_failures.labels(reason).inc()

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        self.events = Counter(
            "vsb_events_received",
            "Events taken from RabbitMQ, by event code and result"
            " (stored, duplicate, conflict, invalid, dead_lettered, retry).",
            ["event_code", "result"],
            registry=r,
        )
        self.answers_untrusted = Counter(
            "vsb_central_answers_untrusted",
            "Answers of the central application refused by the WS-Security check, by reason"
            " (unsigned, expired, unknown_certificate, tampered, bad_signature, malformed).",
            ["reason"],
            registry=r,
        )
        self.central_tls_failures = Counter(
            "vsb_central_tls_failures",
            "Calls to the central application that failed in the TLS handshake, by reason"
            " (unknown_ca, hostname_mismatch, expired, client_certificate_refused, handshake).",
            ["reason"],
            registry=r,
        )
        for reason in TLS_REASONS:  # every series exists from the start, at 0, for increase()
            self.central_tls_failures.labels(reason)
        self.sends = Counter(
            "vsb_sends",
            "SOAP submissions to the central application, by event code and outcome"
            " (accepted, in-beraad, refused, transient_error, permanent_error).",
            ["event_code", "outcome"],
            registry=r,
        )
        self.send_seconds = Histogram(
            "vsb_send_duration_seconds",
            "Time of one Submit call (build, sign, SOAP), by event code.",
            ["event_code"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.answer_seconds = Histogram(
            "vsb_event_to_answer_seconds",
            "Time from storing an event to storing the synchronous answer to its message.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.retries = Counter(
            "vsb_retries_scheduled",
            "Delayed retries stored after a transient failure.",
            registry=r,
        )
        self.dead_lettered = Counter(
            "vsb_dead_lettered",
            "Messages that became dead letters, by reason"
            " (permanent, schema, attempts, age, internal).",
            ["reason"],
            registry=r,
        )
        self.answers_published = Counter(
            "vsb_answers_published",
            "Answers confirmed by RabbitMQ, by outcome.",
            ["outcome"],
            registry=r,
        )
        self.mailbox_answers = Counter(
            "vsb_mailbox_answers",
            "Later answers fetched from the central application's mailbox (new ones only).",
            registry=r,
        )
        self.store_failures = Counter(
            "vsb_store_failures",
            "Store operations that failed, by operation (ingest, send, dispatch, outbox,"
            " mailbox, gauges, heartbeat) and kind (transient: retried; permanent: the data"
            " was refused, the event isolated).",
            ["operation", "kind"],
            registry=r,
        )
        self.broker_reconnects = Counter(
            "vsb_broker_reconnects",
            "Times a RabbitMQ connection was lost and opened again, by connection.",
            ["connection"],
            registry=r,
        )
        self.in_flight = Gauge("vsb_in_flight", "Messages being sent right now.", registry=r)
        self.messages = Gauge("vsb_messages", "Stored messages by state.", ["state"], registry=r)
        self.blocked_dossiers = Gauge(
            "vsb_blocked_dossiers", "Dossiers held by a dead letter at their head.", registry=r
        )
        self.waiting_dossiers = Gauge(
            "vsb_waiting_dossiers", "Dossiers waiting for a decision after in beraad.", registry=r
        )
        self.gapped_dossiers = Gauge(
            "vsb_gapped_dossiers", "Dossiers waiting for a missing sequence number.", registry=r
        )
        self.stuck_dossiers = Gauge(
            "vsb_stuck_dossiers",
            "Dossiers waiting for a missing sequence number longer than the alert time.",
            registry=r,
        )
        self.oldest_pending = Gauge(
            "vsb_oldest_pending_seconds", "Age of the oldest message not yet sent.", registry=r
        )
        self.unpublished_answers = Gauge(
            "vsb_unpublished_answers",
            "Answers stored but not yet confirmed by RabbitMQ.",
            registry=r,
        )
        self.broker_up = Gauge(
            "vsb_broker_connected",
            "1 when the named RabbitMQ connection is up.",
            ["connection"],
            registry=r,
        )
        self.central_up = Gauge(
            "vsb_central_reachable",
            "1 when the last Submit got an answer (or a client fault), 0 after a transient"
            " failure or while the circuit breaker is open; 0 until the first call.",
            registry=r,
        )
        self.breaker_open = Gauge(
            "vsb_circuit_open",
            "1 while the circuit breaker stops sends to the central application.",
            registry=r,
        )
        self.signing_certificate_expiry = Gauge(
            "vsb_signing_certificate_expiry_seconds",
            "When the facility's signing certificate in use expires (not_after, unix time);"
            " set at start and after each SIGHUP reload.",
            registry=r,
        )
        self.signing_reloads = Counter(
            "vsb_signing_reloads",
            "Reloads of the keystore on SIGHUP, by result (ok, failed: the old key stays).",
            ["result"],
            registry=r,
        )
