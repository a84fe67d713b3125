"""Where answers leave: stored answers are published to RabbitMQ, confirmed, then marked.

The store is the outbox: an answer is committed before it is published, and marked published
only after RabbitMQ's confirm. A crash in between publishes it again on restart; answers are
at-least-once and the EPD deduplicates on the answer id (the message's ``message_id``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from adapter.clock import Clock
from adapter.errors import StoreError
from adapter.failure_log import FailureLog
from adapter.lifecycle import Stage, Step, step
from adapter.store import PreparedAnswer, Store
from monitoring import Metrics
from queues import BrokerError

log = logging.getLogger(__name__)


class AnswerPublisher(Protocol):
    """What the outbox needs of a publisher (``queues.ConfirmedPublisher`` in the daemon)."""

    def publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        *,
        message_id: str,
        correlation_id: str | None = None,
        content_type: str = ...,
    ) -> None:
        """Publish and return once the broker confirmed it."""

    def keepalive(self) -> None:
        """Keep an idle connection alive."""

    def close(self) -> None:
        """Close the connection (a later publish reopens it)."""


class AnswerOutbox:
    """Publishes unpublished answers on its own thread and connection."""

    def __init__(
        self,
        store: Store,
        publisher: AnswerPublisher,
        exchange: str,
        clock: Clock,
        metrics: Metrics,
        *,
        batch: int = 100,
        poll_seconds: float = 1.0,
        on_turn: Callable[[float], None] = lambda _within: None,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._exchange = exchange
        self._clock = clock
        self._metrics = metrics
        self._batch = batch
        self._poll = poll_seconds
        self._on_turn = on_turn
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._failures = FailureLog(log, "publishing answers from the store", clock)
        self._thread = threading.Thread(target=self.run, name="outbox", daemon=True)

    def start(self) -> None:
        """Start publishing in a background thread."""
        self._thread.start()

    def wake(self) -> None:
        """Publish now (an answer was just stored)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Publish what is stored (within ``timeout``), then close the connection."""
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout)
        self._publisher.close()

    def run(self) -> None:
        """Publish until stopped; on a broker outage, wait and try again."""
        delay = self._poll
        while True:
            # A turn publishes a batch (each publish confirmed) and waits at most ``delay``.
            self._on_turn(delay + 60)
            try:
                published = self.publish_pending()
                self._metrics.broker_up.labels("publisher").set(1)
                self._failures.succeeded()
                delay = self._poll
            except BrokerError as exc:
                self._metrics.broker_up.labels("publisher").set(0)
                log.warning("cannot publish answers (%s); retrying in %.0f s", exc, delay)
                published = 0
                if self._stopping.wait(delay):
                    return
                delay = min(delay * 2, 30.0)
                continue
            except Exception as exc:
                # Store down, or anything unforeseen: this thread must never end while the
                # daemon runs, or stored answers would wait for a restart.
                self._failures.failed(exc)
                if isinstance(exc, StoreError):
                    self._metrics.store_failures.labels("outbox", "transient").inc()
                self._publisher.close()
                if self._stopping.wait(delay):
                    return
                continue
            if self._stopping.is_set() and published == 0:
                return
            if published < self._batch:
                # A short batch took everything there was: wait for a wake-up rather than
                # read the store again at once (a wake-up that came meanwhile is not lost).
                self._idle()

    def _idle(self) -> None:
        """Wait for a wake-up or the poll time, keeping the broker connection alive."""
        deadline = time.monotonic() + self._poll
        while not self._wake.is_set() and time.monotonic() < deadline:
            self._publisher.keepalive()
            self._wake.wait(min(0.25, self._poll))
        self._wake.clear()

    def publish_pending(self) -> int:
        """Publish one batch of stored answers; returns how many were confirmed."""
        answers = self._store.unpublished_answers(self._batch)
        done: list[str] = []
        try:
            for answer in answers:
                started = self._clock.monotonic()
                self._publish(answer)
                done.append(answer.answer_id)
                step(
                    Step.PUBLISHED,
                    Stage.OUTBOX,
                    event_id=answer.event_id,
                    message_id=answer.message_id,
                    answer_id=answer.answer_id,
                    event_code=answer.event_code,
                    seconds=self._clock.monotonic() - started,
                    outcome=answer.outcome.value,
                )
        finally:
            self._store.mark_published(done, self._clock.now())
            for answer in answers[: len(done)]:
                self._metrics.answers_published.labels(answer.outcome.value).inc()
        return len(done)

    def _publish(self, answer: PreparedAnswer) -> None:
        self._publisher.publish(
            self._exchange,
            f"answer.{answer.event_code}.{answer.outcome.value}",
            answer.body.encode(),
            message_id=answer.answer_id,
            correlation_id=answer.event_id,
        )
