"""The answer outbox publishes stored answers and survives whatever its publisher throws.

A stand-in publisher, because pika raises its ``ValueError`` only when a socket is reset in
the middle of its own connect, a race the fault proxy cannot hit on demand; the outbox
against real RabbitMQ, cut and refused, is in ``tests/faults``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from adapter.engine.outbox import AnswerOutbox
from adapter.store import AnswerSource, PreparedAnswer, Store
from adapter.store.rows import add_answer
from adapter.testing import FixedClock
from mappings.model import Outcome
from monitoring import Metrics

T0 = datetime(2026, 11, 20, 9, tzinfo=UTC)


class FlakyPublisher:
    """Raises the given errors on the first publishes, then records what it publishes."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.published: list[str] = []

    def publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        *,
        message_id: str,
        correlation_id: str | None = None,
        content_type: str = "application/fhir+json",
    ) -> None:
        if self.errors:
            raise self.errors.pop(0)
        self.published.append(message_id)

    def keepalive(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_an_unexpected_publisher_error_does_not_end_the_outbox(store: Store) -> None:
    """After a ValueError from pika's socket code the outbox keeps going and publishes."""
    with store.connection() as db:
        add_answer(
            db,
            PreparedAnswer(
                "a1", "e1", "reva-application", None, Outcome.ACCEPTED, AnswerSource.SYNC, "{}"
            ),
            T0,
            store.sealer,
        )
    publisher = FlakyPublisher(ValueError("getpeername() failed"))
    outbox = AnswerOutbox(
        store,
        publisher,
        "answers",
        FixedClock(T0),
        Metrics(),
        poll_seconds=0.05,
    )
    outbox.start()
    try:
        deadline = time.monotonic() + 5
        while not publisher.published and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        outbox.stop(2)
    assert publisher.published == ["a1"]
    assert store.unpublished_answers(10) == []
