"""The adapter's Prometheus metrics, on a registry of its own (one per daemon, one per test).

Labels carry event codes, outcomes and reasons only: never an INSZ, a name, a dossier id.
Every labelled counter and gauge has a child for each of its known label values from the
start, at 0: ``rate()``, ``increase()`` and absence alerts need a series before the first
event, or the first increment of a series born at 1 is never seen.
"""

from __future__ import annotations

import itertools
import platform
from importlib.metadata import PackageNotFoundError, version
from typing import TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

from mappings.deadline import DeadlineRule
from mappings.model import Outcome
from mappings.registry import MESSAGE_TYPES

TLS_REASONS = (
    "unknown_ca",
    "hostname_mismatch",
    "expired",
    "client_certificate_refused",
    "handshake",
)
"""The reasons of ``vsb_central_tls_failures_total`` (adapter/tls.py says which is which)."""

SENT_EVENT_CODES = tuple(MESSAGE_TYPES)
"""The event codes a stored message can have (only registered events are sent)."""
EVENT_CODES = (*SENT_EVENT_CODES, "unknown")
"""The event codes of received events: "unknown" when the code could not be read."""
EVENT_RESULTS = ("stored", "duplicate", "conflict", "invalid", "dead_lettered", "retry")
SEND_OUTCOMES = (
    "accepted",
    "in-beraad",
    "refused",
    "transient_error",
    "unreadable_answer",
    "permanent_error",
)
UNTRUSTED_REASONS = (
    "unsigned",
    "expired",
    "unknown_certificate",
    "tampered",
    "bad_signature",
    "malformed",
)
"""The reasons adapter/wssecurity.py gives for refusing an answer."""
DEAD_LETTER_REASONS = ("permanent", "schema", "attempts", "age", "internal", "unreadable")
ANSWER_OUTCOMES = tuple(outcome.value for outcome in Outcome)
STORE_OPERATIONS = ("ingest", "send", "dispatch", "outbox", "mailbox", "gauges")
"""Store operations that can fail; "gauges" also writes the heartbeat."""
STORE_FAILURE_KINDS = ("transient", "permanent")
BROKER_CONNECTIONS = ("consumer", "publisher")
MESSAGE_STATES = ("pending", "sending", "waiting", "done", "dead", "discarded", "part")
"""The values of ``adapter.store.MessageState`` (a test keeps them equal; the store is not
imported here because the adapter, the store included, imports this module)."""
RELOAD_RESULTS = ("ok", "failed")
DEADLINE_RULES = tuple(rule.value for rule in DeadlineRule)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)

_Labelled = TypeVar("_Labelled", Counter, Gauge)


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(values)


def _at_zero(metric: _Labelled, *label_values: tuple[str, ...]) -> _Labelled:
    """Create the child of every combination of ``label_values`` now, at 0."""
    for combination in itertools.product(*label_values):
        metric.labels(*combination)
    return metric


def distribution_version() -> str:
    """The installed ``vsb-adapter`` version; "unknown" when run from a tree never installed."""
    try:
        return version("vsb-adapter")
    except PackageNotFoundError:
        return "unknown"


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
        self.build_info = Gauge(
            "vsb_build_info",
            "Always 1; the labels say which adapter version runs on which Python.",
            ["version", "python"],
            registry=r,
        )
        self.build_info.labels(distribution_version(), platform.python_version()).set(1)
        self.events = _at_zero(
            Counter(
                "vsb_events_received",
                f"Events taken from RabbitMQ, by event code and result ({_listed(EVENT_RESULTS)}).",
                ["event_code", "result"],
                registry=r,
            ),
            EVENT_CODES,
            EVENT_RESULTS,
        )
        self.answers_untrusted = _at_zero(
            Counter(
                "vsb_central_answers_untrusted",
                "Answers of the central application refused by the WS-Security check, by reason"
                f" ({_listed(UNTRUSTED_REASONS)}).",
                ["reason"],
                registry=r,
            ),
            UNTRUSTED_REASONS,
        )
        self.central_tls_failures = _at_zero(
            Counter(
                "vsb_central_tls_failures",
                "Calls to the central application that failed in the TLS handshake, by reason"
                f" ({_listed(TLS_REASONS)}).",
                ["reason"],
                registry=r,
            ),
            TLS_REASONS,
        )
        self.sends = _at_zero(
            Counter(
                "vsb_sends",
                "SOAP submissions to the central application, by event code and outcome"
                f" ({_listed(SEND_OUTCOMES)}).",
                ["event_code", "outcome"],
                registry=r,
            ),
            SENT_EVENT_CODES,
            SEND_OUTCOMES,
        )
        # Histograms appear with their first observation: at 0 per event code they would
        # add 18 series per code before any traffic, and no alert reads them by absence.
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
        self.dead_lettered = _at_zero(
            Counter(
                "vsb_dead_lettered",
                f"Messages that became dead letters, by reason ({_listed(DEAD_LETTER_REASONS)}).",
                ["reason"],
                registry=r,
            ),
            DEAD_LETTER_REASONS,
        )
        self.answers_published = _at_zero(
            Counter(
                "vsb_answers_published",
                f"Answers confirmed by RabbitMQ, by outcome ({_listed(ANSWER_OUTCOMES)}).",
                ["outcome"],
                registry=r,
            ),
            ANSWER_OUTCOMES,
        )
        self.mailbox_answers = Counter(
            "vsb_mailbox_answers",
            "Later answers fetched from the central application's mailbox (new ones only).",
            registry=r,
        )
        self.store_failures = _at_zero(
            Counter(
                "vsb_store_failures",
                f"Store operations that failed, by operation ({_listed(STORE_OPERATIONS)};"
                " gauges also writes the heartbeat) and kind (transient: retried; permanent:"
                " the data was refused, the event isolated).",
                ["operation", "kind"],
                registry=r,
            ),
            STORE_OPERATIONS,
            STORE_FAILURE_KINDS,
        )
        self.broker_reconnects = _at_zero(
            Counter(
                "vsb_broker_reconnects",
                "Times a RabbitMQ connection was lost and opened again, by connection"
                f" ({_listed(BROKER_CONNECTIONS)}).",
                ["connection"],
                registry=r,
            ),
            BROKER_CONNECTIONS,
        )
        self.in_flight = Gauge("vsb_in_flight", "Messages being sent right now.", registry=r)
        # The gauge loop sets every state it has seen; 0 before its first round is the truth
        # of an empty store and lets an alert on one state see the series from the start.
        self.messages = _at_zero(
            Gauge(
                "vsb_messages",
                f"Stored messages by state ({_listed(MESSAGE_STATES)}).",
                ["state"],
                registry=r,
            ),
            MESSAGE_STATES,
        )
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
        # Every rule at 0 from the start: "no message near its deadline" is a fact to alert on
        # the change of, not a missing series.
        self.deadline_near = _at_zero(
            Gauge(
                "vsb_messages_deadline_near",
                "Messages not yet received by the central application whose domain deadline"
                f" is today or within monitoring.deadline_warning_days, by rule"
                f" ({_listed(DEADLINE_RULES)}).",
                ["rule"],
                registry=r,
            ),
            DEADLINE_RULES,
        )
        self.deadline_passed = _at_zero(
            Gauge(
                "vsb_messages_deadline_passed",
                "Messages not yet received by the central application whose domain deadline"
                f" has passed, by rule ({_listed(DEADLINE_RULES)}).",
                ["rule"],
                registry=r,
            ),
            DEADLINE_RULES,
        )
        # 0 until a connection is up: true, and VsbBrokerDisconnected waits 2 minutes.
        self.broker_up = _at_zero(
            Gauge(
                "vsb_broker_connected",
                "1 when the named RabbitMQ connection is up"
                f" ({_listed(BROKER_CONNECTIONS)}); 0 until it first is.",
                ["connection"],
                registry=r,
            ),
            BROKER_CONNECTIONS,
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
        self.signing_reloads = _at_zero(
            Counter(
                "vsb_signing_reloads",
                "Reloads of the keystore on SIGHUP, by result (ok, failed: the old key stays).",
                ["result"],
                registry=r,
            ),
            RELOAD_RESULTS,
        )
