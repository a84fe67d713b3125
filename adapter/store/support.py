"""Operations support staff run on the store: replay or discard dead letters, skip a gap.

Each one is a single transaction that also writes an audit line (who, what, when, why).
Audit details name messages and dossiers, never personal data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from adapter.store.records import AnswerSource, MessageState, MessageView, PreparedAnswer
from adapter.store.rows import BODY, PAYLOAD, add_answer, message_view, seal_payload
from adapter.store.sealing import key_id_of
from adapter.store.sequencing import advance
from adapter.store.store import Store
from adapter.store.tables import AnswerRow, AuditRow, EventRow, MessageRow, OrderingRow


class SupportError(Exception):
    """The operation does not apply (unknown message, wrong state); the text says why."""


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

    def dead_letters(self, limit: int = 100) -> list[MessageView]:
        """Dead letters, oldest first."""
        with self._store.transaction(read_only=True) as session:
            rows = session.scalars(
                select(MessageRow)
                .where(MessageRow.state == MessageState.DEAD.value)
                .order_by(MessageRow.updated_at)
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
    ) -> MessageView:
        """Put a dead letter back at the head of its dossier.

        Unchanged, it keeps its message id (the central application deduplicates a resend).
        Corrected (``corrected_payload``, already validated by the caller), it gets
        ``new_message_id`` and remembers the id it replaces.
        """
        if (corrected_payload is None) != (new_message_id is None):
            raise SupportError("a corrected replay needs both the payload and a new message id")
        with self._store.transaction() as session:
            row = self._dead(session, message_id)
            detail: dict[str, object] = {"attempts": row.attempts, "error": row.last_error}
            if corrected_payload is not None and new_message_id is not None:
                session.get_one(EventRow, row.event_id).payload = seal_payload(
                    self._store.sealer, row.event_id, corrected_payload
                )
                row.replaces_message_id = row.message_id
                row.message_id = new_message_id
                detail["new_message_id"] = new_message_id
            row.state = MessageState.PENDING.value
            row.attempts = 0
            row.failing_since = None
            row.last_error = None
            row.next_attempt_at = now
            row.updated_at = now
            _audit(session, now, actor, "replay", message_id, detail)
            return message_view(row)

    def discard(
        self, message_id: str, actor: str, reason: str, now: datetime, answer: PreparedAnswer
    ) -> MessageView:
        """Give up a dead letter: the EPD gets ``answer`` and the dossier moves on."""
        with self._store.transaction() as session:
            row = self._dead(session, message_id)
            row.state = MessageState.DISCARDED.value
            row.outcome = answer.outcome.value
            row.updated_at = now
            add_answer(session.connection(), answer, now, self._store.sealer)
            _audit(session, now, actor, "discard", message_id, {"reason": reason})
            session.flush()
            if row.ordering_key is not None:
                advance(session.connection(), row.ordering_key, now)
            return message_view(row)

    def skip_gap(self, dossier_key: str, actor: str, now: datetime) -> int:
        """Let a dossier stop waiting for a missing sequence number; returns the new head."""
        with self._store.transaction() as session:
            dossier = session.get(OrderingRow, dossier_key)
            if dossier is None:
                raise SupportError(f"no dossier {dossier_key}")
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
            _audit(session, now, actor, "skip-gap", dossier_key, {"skipped": skipped})
            session.flush()
            head = advance(session.connection(), dossier_key, now)
            assert head is not None
            return head

    def purge(self, before: datetime, actor: str, now: datetime) -> dict[str, int]:
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
            counts = {"events": int(events), "messages": int(messages), "answers": int(answers)}
            _audit(session, now, actor, "purge", f"before {before.isoformat()}", counts)
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
                raise SupportError(f"no event {event_id}")
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

    def audit_log(self, limit: int = 100) -> list[tuple[datetime, str, str, str, str | None]]:
        """The latest audit lines: (at, actor, action, target, detail JSON), newest first."""
        with self._store.transaction(read_only=True) as session:
            rows = session.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(limit))
            return [(r.at, r.actor, r.action, r.target, r.detail) for r in rows]

    @staticmethod
    def _dead(session: Session, message_id: str) -> MessageRow:
        row = session.scalar(select(MessageRow).where(MessageRow.message_id == message_id))
        if row is None:
            raise SupportError(f"no message {message_id}")
        if row.state != MessageState.DEAD.value:
            raise SupportError(f"message {message_id} is {row.state}, not a dead letter")
        return row


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
