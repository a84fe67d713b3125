"""Where an event enters: decode, validate, store once, and only then let the consumer ack.

An invalid event is stored as refused and answered at once (outcome ``invalid``, naming each
field and rule); if its dossier and sequence number could be read it still uses up that
number, so the dossier is not held on a gap.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Sequence

from adapter import crashpoints
from adapter.clock import Clock
from adapter.crashpoints import CrashPoint
from adapter.engine.answers import adapter_answer_id, issues_json, prepare
from adapter.errors import StoreError
from adapter.store import IngestResult, NewEvent, Store
from mappings import read_envelope, validate_event
from mappings.errors import InvalidEvent
from mappings.model import Envelope, Facility, Issue, Ordering, Outcome
from monitoring import Metrics
from queues import Delivery, Disposition

log = logging.getLogger(__name__)

_SEQUENCE = "MessageHeader.extension('urn:vsb-adapter:fhir:sequence').valuePositiveInt"
_SEQUENCE_ISSUES = {
    IngestResult.SEQUENCE_TAKEN: Issue(
        code="sequence-taken",
        text="another event of this dossier already has this sequence number",
        expression=_SEQUENCE,
    ),
    IngestResult.SEQUENCE_PASSED: Issue(
        code="sequence-passed",
        text="this dossier is already past this sequence number (skipped or resent)",
        expression=_SEQUENCE,
    ),
}


def dossier_key(dossier_id: str) -> str:
    """The ordering key of an EPD dossier."""
    return f"dossier:{dossier_id}"


def _key(envelope: Envelope) -> str | None:
    return dossier_key(envelope.dossier_id) if envelope.dossier_id else None


class Ingest:
    """The consumer's callback: a batch of deliveries in, one ``Disposition`` each out.

    The whole batch is stored in one transaction (one commit, one fsync): under load the
    consumer hands over everything RabbitMQ delivered at once, at rest a batch of one.
    """

    def __init__(
        self,
        store: Store,
        facility: Facility,
        clock: Clock,
        metrics: Metrics,
        on_stored: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._facility = facility
        self._clock = clock
        self._metrics = metrics
        self._on_stored = on_stored

    def __call__(self, deliveries: Sequence[Delivery]) -> list[Disposition]:
        """Store the events (or their refusals); ACK each once it is safely in the store."""
        checked = [self._check(delivery) for delivery in deliveries]
        news = [
            self._new_event(d, envelope, issues, ordering, _key(envelope))
            for d, (envelope, issues, ordering) in zip(deliveries, checked, strict=True)
        ]
        try:
            results = self._store.ingest_many(news, self._clock.now())
            taken = [i for i, result in enumerate(results) if result in _SEQUENCE_ISSUES]
            if taken:
                # Refused for its number: stored again as invalid, outside its dossier.
                for i in taken:
                    envelope = checked[i][0]
                    checked[i] = (envelope, [_SEQUENCE_ISSUES[results[i]]], None)
                    news[i] = self._new_event(deliveries[i], envelope, checked[i][1], None, None)
                again = self._store.ingest_many([news[i] for i in taken], self._clock.now())
                for i, result in zip(taken, again, strict=True):
                    results[i] = result
        except StoreError:
            log.exception("cannot store %d event(s); trying again, unacknowledged", len(news))
            for envelope, _issues, _ordering in checked:
                self._metrics.events.labels(envelope.event_code or "unknown", "retry").inc()
            return [Disposition.RETRY] * len(deliveries)
        stored = False
        for (envelope, issues, _ordering), result in zip(checked, results, strict=True):
            code = envelope.event_code or "unknown"
            if result is IngestResult.DUPLICATE:
                self._metrics.events.labels(code, "duplicate").inc()
                continue
            stored = True
            if issues:
                log.info(
                    "event %s refused as invalid: %s",
                    envelope.event_id,
                    ", ".join(f"{i.code} at {i.expression}" for i in issues),
                )
            self._metrics.events.labels(code, "invalid" if issues else "stored").inc()
        if stored:
            self._on_stored()
        crashpoints.reach(CrashPoint.AFTER_STORE_BEFORE_ACK)
        return [Disposition.ACK] * len(deliveries)

    @staticmethod
    def _unreadable(body: bytes) -> Envelope:
        # Without an event id nothing can be correlated; keep the body under a digest id.
        return Envelope(
            event_id="unreadable-" + hashlib.sha256(body).hexdigest()[:40],
            event_code=None,
            dossier_id=None,
            sequence=None,
            document={},
        )

    def _check(self, delivery: Delivery) -> tuple[Envelope, list[Issue], Ordering | None]:
        """The event's envelope, its issues, and its ordering if it is valid."""
        try:
            envelope = read_envelope(delivery.body)
        except InvalidEvent as exc:
            return self._unreadable(delivery.body), list(exc.issues), None
        try:
            event_type = validate_event(envelope, self._facility)
        except InvalidEvent as exc:
            return envelope, list(exc.issues), None
        return envelope, [], event_type.ordering

    def _new_event(
        self,
        delivery: Delivery,
        envelope: Envelope,
        issues: list[Issue],
        ordering: Ordering | None,
        key: str | None,
    ) -> NewEvent:
        """The event for the store; ``key`` None keeps it out of any dossier's order."""
        valid = not issues
        answer = None
        if not valid:
            answer = prepare(
                answer_id=adapter_answer_id(envelope.event_id, "invalid"),
                event_id=envelope.event_id,
                event_code=envelope.event_code,
                message_id=None,
                outcome=Outcome.INVALID,
                source="adapter",
                created_at=self._clock.now(),
                issues=issues,
            )
        return NewEvent(
            event_id=envelope.event_id,
            payload=delivery.body.decode("utf-8", errors="replace"),
            event_code=envelope.event_code,
            dossier_id=envelope.dossier_id,
            sequence=envelope.sequence,
            ordering_key=key if envelope.sequence is not None else None,
            ordered=ordering is not Ordering.NONE,
            valid=valid,
            issues_json=issues_json(issues),
            message_id=str(uuid.uuid4()) if valid else None,
            answer=answer,
        )
