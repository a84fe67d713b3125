"""Where an event enters: decode, validate, store once, and only then let the consumer ack.

An invalid event is stored as refused and answered at once (outcome ``invalid``, naming each
field and rule); if its dossier and sequence number could be read it still uses up that
number, so the dossier is not held on a gap.

One delivery can never cost another its answer. Whatever a delivery raises while it is read
or checked makes it an invalid event of its own (issue ``unprocessable``). If the store
refuses a batch for good (``UnstorableData``, or anything unforeseen), the batch is stored
event by event, and an event the store refuses even alone is stored as a bare refusal (its
body escaped to ASCII, issue ``unstorable``); only when even that fails is the delivery
dead-lettered, with the reason in its headers. A store that is down (``StoreUnavailable``)
keeps the whole batch in hand, unacknowledged, to be offered again.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from adapter import crashpoints
from adapter.clock import Clock
from adapter.crashpoints import CrashPoint
from adapter.engine.answers import made_here
from adapter.errors import StoreError, UnstorableData
from adapter.failure_log import FailureLog
from adapter.lifecycle import Stage, Step, step
from adapter.store import IngestResult, NewEvent, PreparedAnswer, Store
from mappings import MESSAGE_TYPES, Ordering, check_event
from mappings.deadline import NO_DATES, EventDates
from mappings.message_type import Carriage
from mappings.model import Envelope, Facility, Issue, Outcome
from mappings.ordering import BY_DOSSIER
from monitoring import Metrics
from queues import Delivery, Disposition

log = logging.getLogger(__name__)

_SEQUENCE = "MessageHeader.extension('urn:vsb-adapter:fhir:sequence').valuePositiveInt"
_REFUSED_FOR_NUMBER = {
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
_CONFLICT = Issue(
    code="event-id-conflict",
    text="Bundle.id is the id of an earlier event with another body; the earlier event stands."
    " Send this event under a new id.",
    expression="Bundle.id",
)


@dataclass(frozen=True)
class _Checked:
    """One delivery after reading and checking: what the store is given for it."""

    delivery: Delivery
    envelope: Envelope
    issues: list[Issue]
    ordering: Ordering | None
    """Its message type's ordering; None for an invalid event (kept out of any order, but its
    dossier's number is used up)."""
    digest: str
    part: bool = False
    """A part of a batch (``Carriage.PART``): stored to wait for the batch that carries it."""
    dates: EventDates = NO_DATES
    """Its deadline dates (``mappings.deadline``), for a valid event."""

    @property
    def code(self) -> str:
        """The event code as a metric label: a registered one, else ``unknown`` (an EPD's
        typo or a hostile body must not add a time series per value)."""
        code = self.envelope.event_code
        return code if code is not None and code in MESSAGE_TYPES else "unknown"


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
        self._failures = FailureLog(log, "storing events", clock)

    def __call__(self, deliveries: Sequence[Delivery]) -> list[Disposition]:
        """Store the events (or their refusals); ACK each once it is safely in the store."""
        checked = [self._check(delivery) for delivery in deliveries]
        dispositions = self._store_all(checked)
        crashpoints.reach(CrashPoint.AFTER_STORE_BEFORE_ACK)
        return dispositions

    # ---- storing --------------------------------------------------------------------------

    def _store_all(self, checked: list[_Checked]) -> list[Disposition]:
        try:
            results = self._store_batch(checked)
        except UnstorableData as exc:
            return self._isolated(checked, exc)
        except StoreError as exc:
            self._failures.failed(exc)
            self._metrics.store_failures.labels("ingest", "transient").inc()
            for item in checked:
                self._metrics.events.labels(item.code, "retry").inc()
            return [Disposition.RETRY] * len(checked)
        except Exception as exc:
            # A bug met by this batch: the same isolation as for data the store refuses.
            log.exception("storing %d event(s) failed unexpectedly", len(checked))
            return self._isolated(checked, exc)
        self._failures.succeeded()
        self._count(checked, results)
        return [Disposition.ACK] * len(checked)

    def _store_batch(self, checked: list[_Checked]) -> list[IngestResult]:
        """Store the batch; then the events refused for their number or their id."""
        started = self._clock.monotonic()
        now = self._clock.now()
        new_events = [self._new_event(item) for item in checked]
        results = self._store.ingest_many(new_events, now)
        again = [i for i, result in enumerate(results) if result in _REFUSED_FOR_NUMBER]
        if again:
            # Refused for its number: stored again as invalid, outside its dossier.
            for i in again:
                checked[i] = replace(
                    checked[i], issues=[_REFUSED_FOR_NUMBER[results[i]]], ordering=None
                )
            news = [self._new_event(checked[i], in_dossier=False) for i in again]
            for i, result in zip(again, self._store.ingest_many(news, now), strict=True):
                results[i] = result
            for i, new in zip(again, news, strict=True):
                new_events[i] = new
        conflicts = [
            self._conflict_answer(item)
            for item, result in zip(checked, results, strict=True)
            if result is IngestResult.CONFLICT
        ]
        if conflicts:
            self._store.add_answers(conflicts, now)
        _log_stored(new_events, results, conflicts, self._clock.monotonic() - started)
        return results

    def _isolated(self, checked: list[_Checked], cause: Exception) -> list[Disposition]:
        """Store each event on its own, so that the one the store refuses costs no other."""
        if len(checked) > 1:
            return [self._store_all([item])[0] for item in checked]
        item = checked[0]
        self._metrics.store_failures.labels("ingest", "permanent").inc()
        log.error(
            "event %s cannot be stored (%s); storing it as refused, its body escaped",
            item.envelope.event_id,
            cause.__class__.__name__,
        )
        bare = self._bare_refusal(item, cause)
        try:
            results = self._store_batch([bare])
        except StoreError as exc:
            if not isinstance(exc, UnstorableData):
                # The store went away meanwhile: the event is offered again later, whole.
                self._failures.failed(exc)
                return [Disposition.RETRY]
            return [self._dead_letter(item, exc)]
        except Exception as exc:
            return [self._dead_letter(item, exc)]
        self._count([bare], results)
        return [Disposition.ACK]

    def _dead_letter(self, item: _Checked, exc: Exception) -> Disposition:
        reason = f"the store refused the event even as a bare refusal: {exc.__class__.__name__}"
        step(
            Step.DEAD_LETTERED,
            Stage.INGEST,
            event_id=item.envelope.event_id,
            event_code=item.envelope.event_code,
            error=reason,
        )
        self._metrics.events.labels(item.code, "dead_lettered").inc()
        return Disposition.dead_letter(reason)

    def _count(self, checked: list[_Checked], results: list[IngestResult]) -> None:
        stored = False
        for item, result in zip(checked, results, strict=True):
            if result is IngestResult.DUPLICATE:
                self._metrics.events.labels(item.code, "duplicate").inc()
                continue
            if result is IngestResult.CONFLICT:
                log.warning("event %s: id already used by another body", item.envelope.event_id)
                self._metrics.events.labels(item.code, "conflict").inc()
                stored = True
                continue
            stored = True
            self._metrics.events.labels(item.code, "invalid" if item.issues else "stored").inc()
        if stored:
            self._on_stored()

    # ---- checking -------------------------------------------------------------------------

    def _check(self, delivery: Delivery) -> _Checked:
        """The event's envelope, its issues, and its ordering if it is valid (never raises)."""
        started = self._clock.monotonic()
        digest = hashlib.sha256(delivery.body).hexdigest()
        verdict = check_event(delivery.body, self._facility)
        envelope = verdict.envelope or _unreadable(digest)
        message_type = verdict.message_type
        ordering = message_type.ordering if message_type is not None else None
        part = message_type is not None and message_type.carriage is Carriage.PART
        step(
            Step.RECEIVED,
            Stage.INGEST,
            event_id=envelope.event_id,
            dossier_id=envelope.dossier_id,
            event_code=envelope.event_code,
            seconds=self._clock.monotonic() - started,
            bytes=len(delivery.body),
            issues=len(verdict.issues),
        )
        issues = list(verdict.issues)
        return _Checked(delivery, envelope, issues, ordering, digest, part, verdict.dates)

    def _new_event(self, item: _Checked, *, in_dossier: bool = True) -> NewEvent:
        """The event for the store; an event not ``in_dossier`` stays out of any order.

        Its ordering key comes from its message type; an invalid event uses up its number in
        its dossier, if it named one.
        """
        envelope = item.envelope
        valid = not item.issues
        key = None
        if in_dossier and envelope.sequence is not None:
            key = (item.ordering or BY_DOSSIER).key(envelope)
        return NewEvent(
            event_id=envelope.event_id,
            payload=item.delivery.body.decode("utf-8", errors="replace"),
            body_digest=item.digest,
            event_code=envelope.event_code,
            dossier_id=envelope.dossier_id,
            sequence=envelope.sequence,
            ordering_key=key,
            ordered=item.ordering.waits if item.ordering is not None else False,
            valid=valid,
            issues=tuple(item.issues),
            message_id=str(uuid.uuid4()) if valid else None,
            answer=None if valid else self._invalid_answer(item, "invalid"),
            part=item.part and valid,
            dates=item.dates if valid else NO_DATES,
        )

    def _invalid_answer(self, item: _Checked, reason: str) -> PreparedAnswer:
        return made_here(
            event_id=item.envelope.event_id,
            event_code=item.envelope.event_code,
            message_id=None,
            outcome=Outcome.INVALID,
            reason=reason,
            issues=item.issues,
            created_at=self._clock.now(),
        )

    def _conflict_answer(self, item: _Checked) -> PreparedAnswer:
        # One answer per conflicting body: a redelivery of it is answered once.
        conflict = replace(item, issues=[_CONFLICT])
        return self._invalid_answer(conflict, f"conflict/{item.digest}")

    def _bare_refusal(self, item: _Checked, cause: Exception) -> _Checked:
        """The event reduced to what any store can hold: its id, an issue, an ASCII body."""
        escaped = item.delivery.body.decode("utf-8", "backslashreplace")
        ascii_body = escaped.encode("ascii", "backslashreplace").replace(b"\0", b"\\x00")
        delivery = replace(item.delivery, body=ascii_body)
        # Id, dossier and number are checked values any store takes; keeping the last two
        # uses up the number, so the dossier does not wait on a gap.
        old = item.envelope
        envelope = Envelope(old.event_id, None, old.dossier_id, old.sequence, {})
        issue = Issue(
            "unstorable",
            f"The store refused this event ({cause.__class__.__name__}); it is kept escaped.",
            None,
        )
        return _Checked(delivery, envelope, [issue], None, item.digest)


def _log_stored(
    new_events: list[NewEvent],
    results: list[IngestResult],
    conflicts: list[PreparedAnswer],
    seconds: float,
) -> None:
    """A ``stored`` line per event of a committed batch (``seconds``: its transaction), and an
    ``answered`` line per answer the adapter stored with it (invalid events, conflicts)."""
    conflict_answers = {answer.event_id: answer for answer in conflicts}
    for new, result in zip(new_events, results, strict=True):
        outcome = result.value
        if result is IngestResult.STORED and not new.valid:
            outcome = "invalid"
        step(
            Step.STORED,
            Stage.INGEST,
            event_id=new.event_id,
            # A duplicate's or a conflict's message id was never stored: not shown.
            message_id=new.message_id if result is IngestResult.STORED else None,
            dossier_id=new.dossier_id,
            event_code=new.event_code,
            seconds=seconds,
            result=outcome,
            issues=", ".join(f"{i.code} at {i.expression}" for i in new.issues) or None,
            batch=len(new_events),
        )
        answer = new.answer if result is IngestResult.STORED else None
        if result is IngestResult.CONFLICT:
            answer = conflict_answers.get(new.event_id)
        if answer is not None:
            step(
                Step.ANSWERED,
                Stage.INGEST,
                event_id=answer.event_id,
                answer_id=answer.answer_id,
                dossier_id=new.dossier_id,
                event_code=answer.event_code,
                seconds=seconds,
                outcome=answer.outcome.value,
                source=answer.source.value,
            )


def _unreadable(digest: str) -> Envelope:
    # Without an event id nothing can be correlated; keep the body under a digest id.
    return Envelope(f"unreadable-{digest[:40]}", None, None, None, {})
