"""Where messages are picked: dossier heads and look-ups, up to the configured concurrency.

The dispatcher thread claims due messages (a committed ``sending`` row under a lease) and hands
them to a pool of sender threads. A dossier never has two messages in flight, because only its
head is ever due and a claim is a compare-and-set. A message "in beraad" waits in the store,
not in a sender thread, so it holds no unit of concurrency.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from adapter import crashpoints
from adapter.clock import Clock
from adapter.crashpoints import CrashPoint
from adapter.engine.breaker import CircuitBreaker
from adapter.engine.sender import Sender
from adapter.errors import StoreError
from adapter.failure_log import FailureLog
from adapter.lifecycle import Stage, Step, claim_step
from adapter.settings import DeliverySettings
from adapter.store import Claim, Store
from monitoring import Metrics

log = logging.getLogger(__name__)


class Dispatcher:
    """Claims due messages and runs them on ``concurrency`` sender threads."""

    def __init__(
        self,
        store: Store,
        sender: Sender,
        breaker: CircuitBreaker,
        clock: Clock,
        metrics: Metrics,
        settings: DeliverySettings,
        owner: str,
        on_done: Callable[[], None] = lambda: None,
        on_turn: Callable[[float], None] = lambda _within: None,
    ) -> None:
        self._store = store
        self._sender = sender
        self._breaker = breaker
        self._clock = clock
        self._metrics = metrics
        self._settings = settings
        self._owner = owner
        self._on_done = on_done
        self._on_turn = on_turn
        self._lease = timedelta(seconds=settings.lease_seconds)
        self._failures = FailureLog(log, "dispatching from the store", clock)
        self._send_failures = FailureLog(log, "recording a send in the store", clock)
        # Daemon threads fed by a queue, not a ThreadPoolExecutor: the executor's threads are
        # joined at interpreter exit, so a send stuck past the drain time would hold the
        # process beyond systemd's stop timeout. An abandoned send is resent after a restart.
        self._work: queue.SimpleQueue[Claim] = queue.SimpleQueue()
        self._senders = [
            threading.Thread(target=self._serve, name=f"sender-{n}", daemon=True)
            for n in range(settings.concurrency)
        ]
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._thread = threading.Thread(target=self.run, name="dispatcher", daemon=True)

    def start(self) -> None:
        """Start the dispatcher thread and the sender threads."""
        for sender in self._senders:
            sender.start()
        self._thread.start()

    def wake(self) -> None:
        """Look for due work now (a new event arrived, a send finished)."""
        self._wake.set()

    @property
    def in_flight(self) -> int:
        """Messages being sent right now."""
        with self._lock:
            return self._in_flight

    def stop(self, drain_seconds: float) -> bool:
        """Claim nothing more and wait up to ``drain_seconds`` for sends in flight.

        Returns False if some were still in flight; their leases make them in-doubt messages
        that the next start (or another instance) resends with the same message id.
        """
        self._stopping.set()
        self._wake.set()
        self._thread.join(2)
        deadline = time.monotonic() + drain_seconds
        while self.in_flight and time.monotonic() < deadline:
            self._stopping.wait(0.05)
        return self.in_flight == 0

    def run(self) -> None:
        """Dispatch until stopped."""
        next_lease_sweep = self._clock.now()
        while not self._stopping.is_set():
            # A turn is a few store calls, and a wait of at most 4 polls after a failure.
            self._on_turn(self._settings.poll_seconds * 5 + 30)
            try:
                now = self._clock.now()
                if now >= next_lease_sweep:
                    released = self._store.release_expired_leases(now)
                    if released:
                        log.warning("%d in-doubt message(s) found with an expired lease", released)
                    next_lease_sweep = now + self._lease / 4
                self._dispatch_once()
                self._failures.succeeded()
            except StoreError as exc:
                self._failures.failed(exc)
                self._metrics.store_failures.labels("dispatch", "transient").inc()
                self._stopping.wait(self._settings.poll_seconds * 4)
            self._wake.wait(self._settings.poll_seconds)
            self._wake.clear()

    def _dispatch_once(self) -> int:
        """Claim and start as many due messages as free slots (and the breaker) allow."""
        free = self._settings.concurrency - self.in_flight
        allowed = self._breaker.permits(free)
        if allowed <= 0:
            return 0
        claims = self._store.claim_due(self._clock.now(), self._owner, self._lease, allowed)
        if claims:
            crashpoints.hang(CrashPoint.DISPATCHER_HANG)
        for claim in claims:
            with self._lock:
                self._in_flight += 1
            self._metrics.in_flight.inc()
            self._work.put(claim)
        started = len(claims)
        self._breaker.unused(allowed - started)
        return started

    def _serve(self) -> None:
        while True:
            self._run(self._work.get())

    def _run(self, claim: Claim) -> None:
        try:
            self._sender.send(claim)
            self._send_failures.succeeded()
        except StoreError as exc:
            # The store is down: the lease expires and the message comes back as in doubt.
            self._send_failures.failed(exc)
            self._metrics.store_failures.labels("send", "transient").inc()
        except Exception as exc:
            # A bug must neither kill the sender thread nor resend the message forever.
            log.exception("message %s: unexpected failure while sending", claim.message_id)
            self._dead_letter_safely(claim, f"internal error: {exc.__class__.__name__}: {exc}")
        finally:
            with self._lock:
                self._in_flight -= 1
            self._metrics.in_flight.dec()
            self._wake.set()
            self._on_done()

    def _dead_letter_safely(self, claim: Claim, error: str) -> None:
        try:
            if self._store.dead_letter(claim, error, self._clock.now()):
                self._metrics.dead_lettered.labels("internal").inc()
                claim_step(
                    Step.DEAD_LETTERED,
                    Stage.SEND,
                    claim,
                    attempt=claim.attempts,
                    reason="internal",
                    error=error,
                )
        except StoreError:
            log.exception("message %s: cannot record the dead letter", claim.message_id)
