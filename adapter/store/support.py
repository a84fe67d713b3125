"""Operations support staff run on the store: replay or discard dead letters, skip a gap.

Each one is a single transaction that also writes an audit line (who, what, when, why).
Audit details name messages and dossiers, never personal data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from adapter.store.attempts import Attempt, attempts_of, forget_orphans
from adapter.store.records import AnswerSource, MessageState, MessageView, PreparedAnswer
from adapter.store.rows import BODY, PAYLOAD, add_answer, message_view, seal_payload
from adapter.store.sealing import key_id_of
from adapter.store.sequencing import advance
from adapter.store.store import Store
from adapter.store.tables import AnswerRow, AuditRow, EventRow, MessageRow, OrderingRow
from mappings.deadline import EventDates


class SupportError(Exception):
    """The operation does not apply (unknown message, wrong state); the text says why."""


class NotFound(SupportError):
    """What the operation names is not in the store (never was, or was purged)."""


@dataclass(frozen=True)
class AuditLine:
    """One audit line: who (``actor``, and the OS account in ``detail``), what, when, why."""

    at: datetime
    actor: str
    action: str
    target: str
    detail: dict[str, object]


@dataclass(frozen=True)
class StoredAnswer:
    """One answer to an event as stored, its body opened."""

    answer_id: str
    outcome: str
    source: str
    created_at: datetime
    published: bool
    body: str


@dataclass(frozen=True)
class StoredEvent:
    """One event as stored, its payload and its answers' bodies opened (personal data)."""

    event_id: str
    event_code: str | None
    dossier_id: str | None
    sequence: int | None
    valid: bool
    received_at: datetime
    key_id: str | None
    """The key its payload is sealed under; None for a row written before sealing."""
    payload: str
    answers: tuple[StoredAnswer, ...]


class Support:
    """Support operations over a ``Store``."""

    def __init__(self, store: Store) -> None:
        self._store = store

    @property
    def store(self) -> Store:
        """The store these operations act on."""
        return self._store

    def dead_letters(self, limit: int | None = 100) -> list[MessageView]:
        """Dead letters, oldest first (``limit`` None: all of them)."""
        return self.in_state(MessageState.DEAD, limit)

    def in_state(self, state: MessageState, limit: int | None = None) -> list[MessageView]:
        """Messages in ``state``, the longest in it first (``limit`` None: all of them)."""
        with self._store.transaction(read_only=True) as session:
            rows = session.scalars(
                select(MessageRow)
                .where(MessageRow.state == state.value)
                .order_by(MessageRow.updated_at, MessageRow.id)
                .limit(limit)
            ).all()
            return [message_view(row) for row in rows]

    def dossier(self, dossier_key: str) -> list[MessageView]:
        """Every message of a dossier, in sequence order."""
        with self._store.transaction(read_only=True) as session:
            rows = session.scalars(
                select(MessageRow)
                .where(MessageRow.ordering_key == dossier_key)
                .order_by(MessageRow.sequence)
            ).all()
            return [message_view(row) for row in rows]

    def replay(
        self,
        message_id: str,
        actor: str,
        now: datetime,
        *,
        corrected_payload: str | None = None,
        new_message_id: str | None = None,
        corrected_dates: EventDates | None = None,
        audited: Mapping[str, object] | None = None,
    ) -> MessageView:
        """Put a dead letter back at the head of its dossier.

        Unchanged, it keeps its message id (the central application deduplicates a resend).
        Corrected (``corrected_payload``, already validated by the caller), it gets
        ``new_message_id``, remembers the id it replaces and takes the deadline dates of the
        correction (``corrected_dates``: a corrected start date moves the 30-day rule's due
        day). ``audited`` (the reason, the OS user, the selection it was part of) goes into
        the audit line's detail.
        """
        if (corrected_payload is None) != (new_message_id is None):
            raise SupportError("a corrected replay needs both the payload and a new message id")
        with self._store.transaction() as session:
            row = self._dead(session, message_id)
            detail: dict[str, object] = {"attempts": row.attempts, "error": row.last_error}
            detail.update(audited or {})
            if corrected_payload is not None and new_message_id is not None:
                session.get_one(EventRow, row.event_id).payload = seal_payload(
                    self._store.sealer, row.event_id, corrected_payload
                )
                row.replaces_message_id = row.message_id
                row.message_id = new_message_id
                detail["new_message_id"] = new_message_id
                if corrected_dates is not None:
                    row.deadline_rule = corrected_dates.rule
                    row.due_on = corrected_dates.due_on
                    row.period_effect = corrected_dates.period
                    row.period_date = corrected_dates.period_date
            row.state = MessageState.PENDING.value
            row.attempts = 0
            row.failing_since = None
            row.last_error = None
            row.next_attempt_at = now
            row.updated_at = now
            _audit(session, now, actor, "replay", message_id, detail)
            return message_view(row)

    def discard(
        self,
        message_id: str,
        actor: str,
        reason: str,
        now: datetime,
        answer: PreparedAnswer,
        *,
        audited: Mapping[str, object] | None = None,
    ) -> MessageView:
        """Give up a dead letter: the EPD gets ``answer`` and the dossier moves on."""
        with self._store.transaction() as session:
            row = self._dead(session, message_id)
            row.state = MessageState.DISCARDED.value
            row.outcome = answer.outcome.value
            row.updated_at = now
            add_answer(session.connection(), answer, now, self._store.sealer)
            detail = {"reason": reason, "error": row.last_error, **(audited or {})}
            _audit(session, now, actor, "discard", message_id, detail)
            session.flush()
            if row.ordering_key is not None:
                advance(session.connection(), row.ordering_key, now)
            return message_view(row)

    def restore(
        self,
        message_id: str,
        actor: str,
        now: datetime,
        *,
        audited: Mapping[str, object] | None = None,
    ) -> MessageView:
        """Make a discarded message a dead letter again, back at the head of its dossier.

        Only while nothing of its dossier was sent after it (every later message still
        pending and never tried): moving the head back past a sent message would reorder
        the dossier. Its discard answer is withdrawn if not yet published; a published one
        stays (the EPD has it), which the audit line records.
        """
        with self._store.transaction() as session:
            row = session.scalar(select(MessageRow).where(MessageRow.message_id == message_id))
            if row is None:
                raise NotFound(
                    f"no message {message_id}: unknown, or purged after the retention period"
                )
            if row.state != MessageState.DISCARDED.value:
                raise SupportError(f"message {message_id} is {row.state}, not discarded")
            if row.ordering_key is not None and row.ordered and row.sequence is not None:
                dossier = session.scalar(
                    select(OrderingRow).where(OrderingRow.key == row.ordering_key).with_for_update()
                )
                moved_on = session.scalar(
                    select(func.min(MessageRow.sequence)).where(
                        MessageRow.ordering_key == row.ordering_key,
                        MessageRow.sequence > row.sequence,
                        or_(
                            MessageRow.state != MessageState.PENDING.value,
                            MessageRow.attempts > 0,
                        ),
                    )
                )
                if moved_on is not None:
                    raise SupportError(
                        f"message {message_id} cannot be restored: its dossier moved on"
                        f" (#{moved_on} was handled after it); restoring would reorder it"
                    )
                if dossier is not None:
                    dossier.next_sequence = row.sequence
                    dossier.updated_at = now
            answers = session.scalars(
                select(AnswerRow).where(
                    AnswerRow.message_id == message_id,
                    AnswerRow.source == AnswerSource.ADAPTER.value,
                )
            ).all()
            published = [a.answer_id for a in answers if a.published_at is not None]
            for answer in answers:
                if answer.published_at is None:
                    session.delete(answer)
            row.state = MessageState.DEAD.value
            row.outcome = None
            row.updated_at = now
            detail: dict[str, object] = {
                "error": row.last_error,
                "discard_answer": "published" if published else "withdrawn" if answers else "none",
                **(audited or {}),
            }
            _audit(session, now, actor, "restore", message_id, detail)
            return message_view(row)

    def skip_gap(
        self,
        dossier_key: str,
        actor: str,
        now: datetime,
        *,
        audited: Mapping[str, object] | None = None,
    ) -> int:
        """Let a dossier stop waiting for a missing sequence number; returns the new head."""
        with self._store.transaction() as session:
            # Locked before the head is read, as restore locks it: read unlocked, a restore
            # committing meanwhile (the head moved back onto its dead letter) would be
            # overwritten by this transaction's head, past the restored message.
            dossier = session.get(OrderingRow, dossier_key, with_for_update=True)
            if dossier is None:
                raise NotFound(f"no dossier {dossier_key}")
            head = session.scalar(
                select(MessageRow.id).where(
                    MessageRow.ordering_key == dossier_key,
                    MessageRow.sequence == dossier.next_sequence,
                )
            )
            following = session.scalar(
                select(func.min(MessageRow.sequence)).where(
                    MessageRow.ordering_key == dossier_key,
                    MessageRow.sequence > dossier.next_sequence,
                )
            )
            if head is not None or following is None:
                raise SupportError(f"dossier {dossier_key} is not waiting on a gap")
            skipped = list(range(dossier.next_sequence, following))
            dossier.next_sequence = following
            dossier.updated_at = now
            detail = {"skipped": skipped, **(audited or {})}
            _audit(session, now, actor, "skip-gap", dossier_key, detail)
            session.flush()
            head = advance(session.connection(), dossier_key, now)
            assert head is not None
            return head

    def purge(
        self,
        before: datetime,
        actor: str,
        now: datetime,
        *,
        audited: Mapping[str, object] | None = None,
    ) -> dict[str, int]:
        """Delete what is finished and older than ``before``: the store keeps no personal data
        longer than it must. Dossier rows (order and reference numbers) are kept; anything
        still open (pending, sending, waiting, dead) and its answers are kept.

        Returns the number of events, messages and answers deleted.
        """
        final = [MessageState.DONE.value, MessageState.DISCARDED.value]
        open_message = (
            select(MessageRow.id)
            .where(MessageRow.event_id == AnswerRow.event_id, MessageRow.state.not_in(final))
            .exists()
        )
        with self._store.transaction() as session:
            answers = session.execute(
                delete(AnswerRow).where(
                    AnswerRow.created_at < before,
                    AnswerRow.published_at.is_not(None),
                    or_(
                        AnswerRow.source != AnswerSource.MAILBOX.value,
                        AnswerRow.confirmed_at.is_not(None),
                    ),
                    ~open_message,
                )
            ).rowcount  # type: ignore[attr-defined]
            # A message whose mailbox answer is not yet confirmed stays, or the answer, fetched
            # again, would find no message to belong to.
            unconfirmed = (
                select(AnswerRow.answer_id)
                .where(
                    AnswerRow.event_id == MessageRow.event_id,
                    AnswerRow.source == AnswerSource.MAILBOX.value,
                    AnswerRow.confirmed_at.is_(None),
                )
                .exists()
            )
            messages = session.execute(
                delete(MessageRow).where(
                    MessageRow.state.in_(final), MessageRow.updated_at < before, ~unconfirmed
                )
            ).rowcount  # type: ignore[attr-defined]
            has_message = select(MessageRow.id).where(MessageRow.event_id == EventRow.event_id)
            events = session.execute(
                delete(EventRow).where(EventRow.received_at < before, ~has_message.exists())
            ).rowcount  # type: ignore[attr-defined]
            forget_orphans(session.connection())  # the tries of the messages just deleted
            counts = {"events": int(events), "messages": int(messages), "answers": int(answers)}
            detail = {**counts, **(audited or {})}
            _audit(session, now, actor, "purge", f"before {before.isoformat()}", detail)
            return counts

    def event(
        self, event_id: str, now: datetime, *, audit: tuple[str, dict[str, object]] | None
    ) -> StoredEvent:
        """An event and its answers, opened; with ``audit`` (actor, detail) an ``unmask``
        audit line is written in the same transaction, so nothing is shown unaudited.

        ``SupportError`` for an unknown event; ``SealError`` for a row that does not open.
        """
        sealer = self._store.sealer
        with self._store.transaction(read_only=audit is None) as session:
            row = session.get(EventRow, event_id)
            if row is None:
                raise NotFound(
                    f"no event {event_id}: unknown, or purged after the retention period"
                )
            answers = session.scalars(
                select(AnswerRow)
                .where(AnswerRow.event_id == event_id)
                .order_by(AnswerRow.created_at)
            ).all()
            stored = StoredEvent(
                event_id=row.event_id,
                event_code=row.event_code,
                dossier_id=row.dossier_id,
                sequence=row.sequence,
                valid=row.valid,
                received_at=row.received_at,
                key_id=key_id_of(row.payload),
                payload=sealer.open(row.payload, PAYLOAD, row.event_id),
                answers=tuple(
                    StoredAnswer(
                        answer_id=a.answer_id,
                        outcome=a.outcome,
                        source=a.source,
                        created_at=a.created_at,
                        published=a.published_at is not None,
                        body=sealer.open(a.body, BODY, a.answer_id),
                    )
                    for a in answers
                ),
            )
            if audit is not None:
                actor, detail = audit
                _audit(session, now, actor, "unmask", event_id, detail)
            return stored

    def message(self, message_id: str) -> tuple[MessageView, list[Attempt]]:
        """A message by its current or replaced id, and its failed tries (under both ids)."""
        with self._store.transaction(read_only=True) as session:
            row = session.scalar(
                select(MessageRow).where(
                    or_(
                        MessageRow.message_id == message_id,
                        MessageRow.replaces_message_id == message_id,
                    )
                )
            )
            if row is None:
                raise NotFound(
                    f"no message {message_id}: unknown, or purged after the retention period"
                )
            ids = [row.message_id] + ([row.replaces_message_id] if row.replaces_message_id else [])
            return message_view(row), attempts_of(session.connection(), ids)

    def record(
        self, actor: str, action: str, target: str, now: datetime, detail: Mapping[str, object]
    ) -> None:
        """An audit line for an action outside the store (the broker's dead-letter queue)."""
        with self._store.transaction() as session:
            _audit(session, now, actor, action, target, dict(detail))

    def audit_log(self, limit: int = 100) -> list[tuple[datetime, str, str, str, str | None]]:
        """The latest audit lines: (at, actor, action, target, detail JSON), newest first."""
        with self._store.transaction(read_only=True) as session:
            rows = session.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(limit))
            return [(r.at, r.actor, r.action, r.target, r.detail) for r in rows]

    def audit_lines(
        self,
        limit: int | None = 100,
        *,
        actor: str | None = None,
        target: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[AuditLine]:
        """Audit lines matching every filter given, newest first; ``until`` is exclusive."""
        query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if actor is not None:
            query = query.where(AuditRow.actor == actor)
        if target is not None:
            query = query.where(AuditRow.target == target)
        if action is not None:
            query = query.where(AuditRow.action == action)
        if since is not None:
            query = query.where(AuditRow.at >= since)
        if until is not None:
            query = query.where(AuditRow.at < until)
        with self._store.transaction(read_only=True) as session:
            return [
                AuditLine(r.at, r.actor, r.action, r.target, _detail(r.detail))
                for r in session.scalars(query)
            ]

    @staticmethod
    def _dead(session: Session, message_id: str) -> MessageRow:
        row = session.scalar(select(MessageRow).where(MessageRow.message_id == message_id))
        if row is None:
            raise NotFound(
                f"no message {message_id}: unknown, or purged after the retention period"
            )
        if row.state != MessageState.DEAD.value:
            raise SupportError(f"message {message_id} is {row.state}, not a dead letter")
        return row


def _detail(text: str | None) -> dict[str, object]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"text": text}
    return value if isinstance(value, dict) else {"value": value}


def _audit(
    session: Session, now: datetime, actor: str, action: str, target: str, detail: object
) -> None:
    session.add(
        AuditRow(
            at=now,
            actor=actor,
            action=action,
            target=target,
            detail=json.dumps(detail, default=str),
        )
    )
