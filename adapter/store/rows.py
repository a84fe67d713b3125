"""Rows in and out: inserting events and answers, claiming messages, rows as plain values."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from adapter.store.records import (
    Claim,
    IngestResult,
    MessageState,
    MessageView,
    NewEvent,
    PreparedAnswer,
)
from adapter.store.sequencing import advance, ensure_dossier
from adapter.store.tables import ANSWERS, DOSSIERS, EVENTS, MESSAGES, AnswerRow, MessageRow


def message_view(row: MessageRow) -> MessageView:
    """A message row as support staff see it."""
    return MessageView(
        message_id=row.message_id,
        event_id=row.event_id,
        event_code=row.event_code,
        dossier_key=row.ordering_key,
        sequence=row.sequence,
        state=row.state,
        outcome=row.outcome,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        updated_at=row.updated_at,
        replaces_message_id=row.replaces_message_id,
    )


def prepared_answer(row: AnswerRow | Row[Any]) -> PreparedAnswer:
    """An answer row as a value."""
    return PreparedAnswer(
        answer_id=row.answer_id,
        event_id=row.event_id,
        event_code=row.event_code,
        message_id=row.message_id,
        outcome=row.outcome,
        source=row.source,
        body=row.body,
        vsb_reference=row.vsb_reference,
        issues_json=row.issues,
    )


def add_answer(session: Session, answer: PreparedAnswer, now: datetime) -> None:
    """Insert an answer unless its id is stored already (a resend's answer comes again)."""
    values = {
        "answer_id": answer.answer_id,
        "event_id": answer.event_id,
        "event_code": answer.event_code,
        "message_id": answer.message_id,
        "outcome": answer.outcome,
        "source": answer.source,
        "body": answer.body,
        "vsb_reference": answer.vsb_reference,
        "issues": answer.issues_json,
        "created_at": now,
    }
    # One statement that ignores a duplicate instead of a look-up and an insert.
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(ANSWERS).values(values).on_conflict_do_nothing())


def insert_event(session: Session, event: NewEvent, now: datetime) -> IngestResult:
    """Insert one event, its message or refusal; the checks ``Store.ingest`` promises."""
    known = session.scalar(select(EVENTS.c.event_id).where(EVENTS.c.event_id == event.event_id))
    if known is not None:
        return IngestResult.DUPLICATE
    key = event.ordering_key
    if key is not None and event.sequence is not None:
        taken = session.scalar(
            select(MESSAGES.c.event_id).where(
                MESSAGES.c.ordering_key == key, MESSAGES.c.sequence == event.sequence
            )
        )
        if taken is not None:
            return IngestResult.SEQUENCE_TAKEN
        if event.sequence < ensure_dossier(session, key, now):
            return IngestResult.SEQUENCE_PASSED
    session.execute(
        insert(EVENTS).values(
            event_id=event.event_id,
            received_at=now,
            event_code=event.event_code,
            dossier_id=event.dossier_id,
            sequence=event.sequence,
            valid=event.valid,
            issues=event.issues_json,
            payload=event.payload,
        )
    )
    if event.valid or (key is not None and event.sequence is not None):
        session.execute(
            insert(MESSAGES).values(
                message_id=event.message_id or f"invalid-{event.event_id}",
                event_id=event.event_id,
                event_code=event.event_code or "",
                ordering_key=key,
                sequence=event.sequence,
                ordered=event.ordered and event.valid,
                state=(MessageState.PENDING if event.valid else MessageState.DONE).value,
                outcome=None if event.valid else "invalid",
                attempts=0,
                created_at=now,
                updated_at=now,
                next_attempt_at=now,
                fence=0,
            )
        )
    if event.answer is not None:
        add_answer(session, event.answer, now)
    if key is not None and (not event.ordered or not event.valid):
        # A number that is never sent (a look-up, an invalid event) may move its dossier at
        # once; a pending message moves it when it is finished.
        advance(session, key, now)
    return IngestResult.STORED


def claim_rows(
    session: Session, ids: Sequence[int], owner: str, now: datetime, lease: timedelta
) -> list[Claim]:
    """Compare-and-set ``pending`` to ``sending`` and read back what this owner won."""
    expires = now + lease
    session.execute(
        update(MESSAGES)
        .where(MESSAGES.c.id.in_(ids), MESSAGES.c.state == MessageState.PENDING.value)
        .values(
            state=MessageState.SENDING.value,
            lease_owner=owner,
            lease_expires_at=expires,
            fence=MESSAGES.c.fence + 1,
            attempts=MESSAGES.c.attempts + 1,
            updated_at=now,
        )
    )
    m = MESSAGES.c
    rows = session.execute(
        select(
            m.id,
            m.message_id,
            m.replaces_message_id,
            m.event_id,
            m.event_code,
            m.ordering_key,
            m.sequence,
            m.fence,
            m.attempts,
            m.created_at,
            EVENTS.c.payload,
            m.failing_since,
            DOSSIERS.c.vsb_reference,
            DOSSIERS.c.application_outcome,
            DOSSIERS.c.application_issues,
        )
        .join(EVENTS, EVENTS.c.event_id == m.event_id)
        .outerjoin(DOSSIERS, DOSSIERS.c.key == m.ordering_key)
        .where(
            m.id.in_(ids),
            m.state == MessageState.SENDING.value,
            m.lease_owner == owner,
            m.lease_expires_at == expires,
        )
        .order_by(m.next_attempt_at, m.id)
    ).all()
    return [Claim(**row._asdict()) for row in rows]


def early_decision(session: Session, claim: Claim) -> PreparedAnswer | None:
    """The latest final mailbox answer already stored for the claimed message, if any."""
    ids = [claim.message_id, *([claim.replaces_message_id] if claim.replaces_message_id else [])]
    row = session.execute(
        select(ANSWERS)
        .where(
            ANSWERS.c.message_id.in_(ids),
            ANSWERS.c.source == "mailbox",
            ANSWERS.c.outcome != "in-beraad",
        )
        .order_by(ANSWERS.c.created_at.desc())
    ).first()
    return None if row is None else prepared_answer(row)
