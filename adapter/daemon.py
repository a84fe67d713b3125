"""The daemon: builds every part from the settings, runs them, stops them cleanly.

Threads: one consumer (ingest), one dispatcher with ``delivery.concurrency`` sender threads,
one answer outbox, one mailbox poller, one gauge refresher, one HTTP server for /metrics and
/health. pika connections are never shared between threads: the consumer and the outbox each
own theirs. zeep clients are per sender thread. See docs/architecture.md.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from types import FrameType

import pika.exceptions

from adapter import crashpoints, lifecycle
from adapter.batch_file import remove_stale
from adapter.central import CentralTransport, ZeepCentral
from adapter.clock import Clock, SystemClock
from adapter.engine.breaker import BreakerState, CircuitBreaker
from adapter.engine.dispatcher import Dispatcher
from adapter.engine.ingest import Ingest
from adapter.engine.mailbox import MailboxPoller
from adapter.engine.outbox import AnswerOutbox
from adapter.engine.sender import Sender
from adapter.errors import ConfigError, KeystoreError, StoreError
from adapter.failure_log import FailureLog
from adapter.keyfiles import check_broker_key, load_signer
from adapter.liveness import Liveness
from adapter.settings import Settings
from adapter.signing import Signer
from adapter.store import InstanceLock, Sealer, Store, create_store_engine, migrate
from adapter.systemd import Notifier, Watchdog
from mappings.deadline import Days, DeadlineRule, local_day
from mappings.model import Facility
from monitoring import HealthServer, Metrics
from queues import BrokerAddress, BrokerError, BrokerTls, ConfirmedPublisher, Consumer, Topology

log = logging.getLogger(__name__)


def topology_of(settings: Settings) -> Topology:
    """The RabbitMQ names the settings choose."""
    b = settings.broker
    return Topology(
        events_exchange=b.events_exchange,
        events_queue=b.events_queue,
        answers_exchange=b.answers_exchange,
        answers_queue=b.answers_queue,
        dead_letter_exchange=b.dead_letter_exchange,
        dead_letter_queue=b.dead_letter_queue,
        delivery_limit=b.delivery_limit,
    )


def broker_address(settings: Settings) -> BrokerAddress:
    """How to reach RabbitMQ."""
    b = settings.broker
    tls = BrokerTls(b.ca_bundle, b.client_certificate, b.client_key, b.external_auth)
    return BrokerAddress(b.url, b.heartbeat_seconds, b.blocked_timeout_seconds, tls)


class Daemon:
    """One adapter instance. ``start()`` returns once every thread runs; ``stop()`` drains."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        central: CentralTransport | None = None,
        signer: Signer | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.owner = settings.instance_id or f"{socket.gethostname()}:{os.getpid()}"
        self.metrics = Metrics()
        environ = os.environ if environ is None else environ
        self._environ = environ
        self.liveness = Liveness()
        self.notifier = Notifier.from_environ(environ)
        if signer is None:
            signer, warnings = load_signer(settings.signing, environ)
            for warning in warnings:
                log.warning("%s", warning)
        for warning in check_broker_key(settings.broker):
            log.warning("%s", warning)
        self.signer = signer
        """Shared by every sender thread; ``reload_signing`` swaps its key in place."""
        self._reload_requested = threading.Event()
        self._show_certificate()
        self.central = central or ZeepCentral(
            settings.central,
            self.signer,
            on_untrusted=lambda reason: self.metrics.answers_untrusted.labels(reason).inc(),
        )
        if isinstance(self.central, ZeepCentral):
            self.central.on_tls_failure = self.metrics.count_tls_failure
        self._lock = InstanceLock(settings.store.url)
        # No key, no start: a store written in clear is what this refusal prevents.
        sealer, warnings = Sealer.from_file(settings.store.key_file)
        for warning in warnings:
            log.warning("%s", warning)
        # Dossiers in the log are tagged under the keyring's index key (adapter.lifecycle).
        lifecycle.use_secret(sealer.keyring.index_secret)
        self._engine = create_store_engine(settings.store.url, settings.store.pool_size)
        self.store = Store(self._engine, sealer=sealer)
        self.facility = Facility(settings.facility.nihdi, settings.facility.hco)
        self.topology = topology_of(settings)
        self._address = broker_address(settings)
        self.breaker = CircuitBreaker(
            settings.delivery.breaker_failures,
            settings.delivery.breaker_probe_seconds,
            self.clock,
            on_change=self._breaker_changed,
            on_close=self._outage_ended,
        )
        self.outbox = AnswerOutbox(
            self.store,
            ConfirmedPublisher(self._address, on_connect=self.topology.declare),
            self.topology.answers_exchange,
            self.clock,
            self.metrics,
            on_turn=self.liveness.beat_for("outbox").beat,
        )
        sender = Sender(
            self.store,
            self.central,
            self.signer,
            self.facility,
            self.clock,
            self.metrics,
            self.breaker,
            settings.delivery,
        )
        self.dispatcher = Dispatcher(
            self.store,
            sender,
            self.breaker,
            self.clock,
            self.metrics,
            settings.delivery,
            self.owner,
            on_done=self.outbox.wake,
            on_turn=self.liveness.beat_for("dispatcher").beat,
        )
        self.consumer = Consumer(
            self._address,
            self.topology,
            Ingest(self.store, self.facility, self.clock, self.metrics, self._event_stored),
            prefetch=settings.broker.prefetch,
            max_body_bytes=settings.broker.max_event_bytes,
            retry_seconds=settings.broker.connect_retry_seconds,
            on_connection_change=lambda up: self.metrics.broker_up.labels("consumer").set(up),
            on_rejected=lambda _reason: self.metrics.events.labels(
                "unknown", "dead_lettered"
            ).inc(),
            on_reconnect=self.metrics.broker_reconnects.labels("consumer").inc,
            on_turn=self.liveness.beat_for("consumer").beat,
        )
        self.mailbox = MailboxPoller(
            self.store,
            self.central,
            settings.facility.nihdi,
            self.clock,
            self.metrics,
            on_stored=self._answer_stored,
            poll_seconds=settings.central.mailbox_poll_seconds,
            batch=settings.central.mailbox_batch,
            on_turn=self.liveness.beat_for("mailbox").beat,
        )
        self.health_server = HealthServer(
            settings.monitoring.host, settings.monitoring.port, self.metrics.registry, self.health
        )
        self._stop_requested = threading.Event()
        self._stopped = False
        self._running = False
        self._store_state = "starting"
        """What /health says of the store before it is migrated."""
        self._gauges = threading.Thread(target=self._refresh_gauges, name="gauges", daemon=True)

    # ---- life cycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Lock the store, migrate it, recover in-doubt sends, then start every thread.

        While the store cannot be migrated (PostgreSQL not up yet), ``/health`` answers
        "down" and this waits, trying again with backoff, until it can or a stop is requested.
        """
        crashpoints.arm(self.settings.crash_point)
        self._lock.acquire()
        self.health_server.start()
        if not self._migrate():
            return
        now = self.clock.now()
        sqlite = self._engine.dialect.name == "sqlite"
        recovered = self.store.release_leases(None if sqlite else self.owner, now)
        if recovered:
            log.warning("resending %d in-doubt message(s) with their original ids", recovered)
        # Declared here once so the EPD can publish as soon as start() returns; the consumer
        # and the outbox declare again on every reconnect.
        problem = check_broker(self.settings)
        if problem is not None:
            log.error("%s; the adapter keeps trying", problem)
        self.outbox.start()
        self.dispatcher.start()
        self.mailbox.start()
        self.consumer.start()
        self._gauges.start()
        self._running = True
        log.info(
            "vsb-adapter %s started: store %s (sealed under key %s), central %s, concurrency %d",
            self.owner,
            self._engine.url.render_as_string(hide_password=True),
            self.store.sealer.keyring.current.key_id,
            self.settings.central.url,
            self.settings.delivery.concurrency,
        )

    def stop(self) -> None:
        """Stop taking events, let sends in flight finish, publish stored answers, close.

        Bounded: ``delivery.drain_seconds`` for sends plus a few seconds for each thread.
        Stopping twice is harmless.
        """
        if self._stopped:
            return
        self._stopped = True
        self._stop_requested.set()
        self.notifier.stopping()
        if self._running:
            self.consumer.stop(5)
            drained = self.dispatcher.stop(self.settings.delivery.drain_seconds)
            if not drained:
                log.warning("stopped with sends in flight; they are resent on the next start")
            self.mailbox.stop(5)
            self.outbox.stop(5)
        self.health_server.stop()
        self._engine.dispose()
        self._lock.release()
        log.info("vsb-adapter stopped")

    def run_forever(self) -> None:
        """Start, then run until SIGTERM or SIGINT; stop within the drain time."""

        def _on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %s received; stopping", signal.Signals(signum).name)
            self._stop_requested.set()

        def _on_hangup(_signum: int, _frame: FrameType | None) -> None:
            # Only noted here: the reload (file reads, logging) runs in the loop below, not
            # inside a signal handler.
            self._reload_requested.set()

        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGINT, _on_signal)
        signal.signal(signal.SIGHUP, _on_hangup)
        self.start()
        watchdog = Watchdog(self.notifier, self.liveness, self.clock.monotonic)
        while not self._stop_requested.wait(0.5):
            if not watchdog.readied and self.consumer.connected:
                # Ready means taking events: the store is migrated (start() waited for it)
                # and the consumer is on the queue.
                self.notifier.ready(f"consuming {self.topology.events_queue}")
                watchdog.readied = True
            watchdog.feed()
            if self._reload_requested.is_set():
                self._reload_requested.clear()
                self.reload_signing()
                self.reload_store_keys()
        self.stop()

    def reload_signing(self) -> bool:
        """Read the keystore again (a renewed eHealth certificate) and sign with it from now on.

        Permissions are checked as at start. On any failure the key in use stays and the
        reason is logged; True if the new key is in use.
        """
        try:
            fresh, warnings = load_signer(self.settings.signing, self._environ)
        except (ConfigError, KeystoreError) as exc:
            self.metrics.signing_reloads.labels("failed").inc()
            log.error("keystore reload failed, still signing with the previous key: %s", exc)
            return False
        for warning in warnings:
            log.warning("%s", warning)
        self.signer.adopt(fresh)
        self.metrics.signing_reloads.labels("ok").inc()
        self._show_certificate()
        return True

    def reload_store_keys(self) -> bool:
        """Read the store's keyring again (a key created for a rotation); True if in use.

        A keyring that cannot be read changes nothing: the keys in use stay.
        """
        try:
            warnings = self.store.sealer.reload()
        except ConfigError as exc:
            log.error("store keyring reload failed, the previous keys stay in use: %s", exc)
            return False
        for warning in warnings:
            log.warning("%s", warning)
        keyring = self.store.sealer.keyring
        log.info(
            "store sealing under key %s (%d key(s) in the keyring)",
            keyring.current.key_id,
            len(keyring.keys),
        )
        return True

    def _show_certificate(self) -> None:
        """Log the certificate in use and publish its expiry (the alert watches it)."""
        certificate = self.signer.certificate
        not_after = certificate.not_valid_after_utc
        self.metrics.signing_certificate_expiry.set(not_after.timestamp())
        log.info(
            "signing as %s (serial %x), certificate valid until %s",
            certificate.subject.rfc4514_string(),
            certificate.serial_number,
            not_after.isoformat(timespec="seconds"),
        )

    def _migrate(self) -> bool:
        """Migrate the store, waiting for it with backoff; False if a stop came first."""
        failures = FailureLog(log, "migrating the store", self.clock)
        delay = 1.0
        while not self._stop_requested.is_set():
            try:
                migrate(self._engine)
            except StoreError as exc:
                failures.failed(exc)
                cause = exc.__cause__.__class__.__name__ if exc.__cause__ else "error"
                self._store_state = f"starting: waiting for the store ({cause})"
                self._stop_requested.wait(delay)
                delay = min(delay * 2, 30.0)
                continue
            failures.succeeded()
            self._store_state = "ok"
            return True
        return False

    # ---- wiring -------------------------------------------------------------------------

    def _event_stored(self) -> None:
        self.dispatcher.wake()
        self.outbox.wake()

    def _answer_stored(self) -> None:
        self.outbox.wake()
        self.dispatcher.wake()

    def _outage_ended(self, seconds: float) -> None:
        shifted = self.store.exclude_outage(seconds, self.clock.now())
        log.info(
            "central application back after %.0f s; %d retry clock(s) paused", seconds, shifted
        )

    def _breaker_changed(self, state: BreakerState) -> None:
        self.metrics.breaker_open.set(0 if state is BreakerState.CLOSED else 1)
        self.metrics.central_up.set(1 if state is BreakerState.CLOSED else 0)
        log.warning("circuit breaker to the central application is now %s", state.value)

    def _refresh_gauges(self) -> None:
        gap_alert = timedelta(seconds=self.settings.delivery.gap_alert_seconds)
        reported_states: set[str] = set()
        failures = FailureLog(log, "reading the store's figures", self.clock)
        beat = self.liveness.beat_for("gauges")
        next_sweep = 0.0
        while not self._stop_requested.wait(2.0):
            beat.beat(2.0 + 60)  # two store calls, each within the store's own timeouts
            if self.clock.monotonic() >= next_sweep:
                next_sweep = self.clock.monotonic() + 60
                self._sweep_batch_files()
            try:
                # A write every round: readiness learns of a store that stopped taking
                # writes (a full disk) even when no event comes.
                self.store.heartbeat(self.owner, self.clock.now())
                stats = self.store.stats(self.clock.now(), gap_alert)
            except StoreError as exc:
                self.metrics.store_failures.labels("gauges", "transient").inc()
                failures.failed(exc)
                continue
            failures.succeeded()
            for state in reported_states | set(stats.by_state):
                self.metrics.messages.labels(state).set(stats.by_state.get(state, 0))
            reported_states |= set(stats.by_state)
            self.metrics.blocked_dossiers.set(stats.blocked_dossiers)
            self.metrics.waiting_dossiers.set(stats.waiting_dossiers)
            self.metrics.gapped_dossiers.set(stats.gapped_dossiers)
            if stats.stuck_dossiers:
                log.warning(
                    "%d dossier(s) stuck on a missing sequence number", stats.stuck_dossiers
                )
            self.metrics.stuck_dossiers.set(stats.stuck_dossiers)
            self.metrics.oldest_pending.set(stats.oldest_pending_seconds)
            self.metrics.unpublished_answers.set(stats.unpublished_answers)
            self._count_deadlines(failures)

    def _count_deadlines(self, failures: FailureLog) -> None:
        """The deadline gauges, on the day it is in Brussels now."""
        days = Days(local_day(self.clock.now()), self.settings.monitoring.deadline_warning_days)
        try:
            counts = self.store.deadlines(days)
        except StoreError as exc:
            self.metrics.store_failures.labels("gauges", "transient").inc()
            failures.failed(exc)
            return
        for rule in DeadlineRule:
            self.metrics.deadline_near.labels(rule.value).set(counts.near.get(rule, 0))
            self.metrics.deadline_passed.labels(rule.value).set(counts.passed.get(rule, 0))

    def _sweep_batch_files(self) -> None:
        """Delete invoice batch files a crash left (personal data in clear): older than two
        leases, no send can still be reading them."""
        delivery = self.settings.delivery
        try:
            removed = remove_stale(
                Path(delivery.batch_directory),
                2 * delivery.lease_seconds,
                self.clock.now().timestamp(),
            )
        except OSError as exc:
            log.warning("cannot sweep %s: %s", delivery.batch_directory, exc)
            return
        if removed:
            log.warning("deleted %d invoice batch file(s) a crash left behind", removed)

    def health(self) -> dict[str, object]:
        """The /health report, naming the failing part.

        "down" when the store cannot be read, its last write failed, or it is not migrated
        yet; "degraded" when a write failed lately, or without broker or central application.
        """
        checks: dict[str, object] = {}
        status, checks["store"] = self._store_health()
        breaker = self.breaker.state
        checks["central"] = breaker.value
        checks["broker"] = "connected" if self.consumer.connected else "disconnected"
        if status == "ok" and (breaker is not BreakerState.CLOSED or not self.consumer.connected):
            status = "degraded"
        checks["in_flight"] = self.dispatcher.in_flight
        return {"status": status, "instance": self.owner, "checks": checks}

    def _store_health(self) -> tuple[str, str]:
        """The store's part of /health: a status (ok, degraded, down) and what to show."""
        if self._store_state != "ok":
            return "down", self._store_state
        try:
            with self._engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except Exception as exc:  # any failure means "down", whatever raised it
            return "down", f"error: reads fail ({exc.__class__.__name__})"
        writes = self.store.writes.health()
        return writes.status, writes.text


def check_broker(settings: Settings) -> str | None:
    """None if RabbitMQ answers and the topology can be declared, else the reason."""
    try:
        connection = broker_address(settings).connect("vsb-adapter check")
    except BrokerError as exc:
        return str(exc)
    try:
        topology_of(settings).declare(connection.channel())
    except pika.exceptions.AMQPError as exc:
        return f"RabbitMQ refused the topology: {exc!r}"
    finally:
        if connection.is_open:
            connection.close()
    return None
