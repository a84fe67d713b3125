"""Rows in and out: inserting events and answers, claiming messages, rows as plain values."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
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
from adapter.store.tables import AnswerRow, DossierRow, EventRow, MessageRow


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


def prepared_answer(row: AnswerRow) -> PreparedAnswer:
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
    session.execute(insert(AnswerRow).values(values).on_conflict_do_nothing())


def insert_event(session: Session, event: NewEvent, now: datetime) -> IngestResult:
    """Insert one event, its message or refusal; the checks ``Store.ingest`` promises."""
    if session.get(EventRow, event.event_id) is not None:
        return IngestResult.DUPLICATE
    key = event.ordering_key
    if key is not None and event.sequence is not None:
        taken = session.scalar(
            select(MessageRow.event_id).where(
                MessageRow.ordering_key == key, MessageRow.sequence == event.sequence
            )
        )
        if taken is not None:
            return IngestResult.SEQUENCE_TAKEN
        if event.sequence < ensure_dossier(session, key, now).next_sequence:
            return IngestResult.SEQUENCE_PASSED
    session.add(
        EventRow(
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
        session.add(
            MessageRow(
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
    session.flush()
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
        update(MessageRow)
        .where(MessageRow.id.in_(ids), MessageRow.state == MessageState.PENDING.value)
        .values(
            state=MessageState.SENDING.value,
            lease_owner=owner,
            lease_expires_at=expires,
            fence=MessageRow.fence + 1,
            attempts=MessageRow.attempts + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(
        select(
            MessageRow,
            EventRow.payload,
            DossierRow.vsb_reference,
            DossierRow.application_outcome,
            DossierRow.application_issues,
        )
        .join(EventRow, EventRow.event_id == MessageRow.event_id)
        .outerjoin(DossierRow, DossierRow.key == MessageRow.ordering_key)
        .where(
            MessageRow.id.in_(ids),
            MessageRow.state == MessageState.SENDING.value,
            MessageRow.lease_owner == owner,
            MessageRow.lease_expires_at == expires,
        )
        .order_by(MessageRow.next_attempt_at, MessageRow.id)
        .execution_options(populate_existing=True)
    ).all()
    return [
        Claim(
            id=m.id,
            message_id=m.message_id,
            replaces_message_id=m.replaces_message_id,
            event_id=m.event_id,
            event_code=m.event_code,
            ordering_key=m.ordering_key,
            sequence=m.sequence,
            fence=m.fence,
            attempts=m.attempts,
            created_at=m.created_at,
            payload=payload,
            failing_since=m.failing_since,
            vsb_reference=reference,
            application_outcome=outcome,
            application_issues=issues,
        )
        for m, payload, reference, outcome, issues in rows
    ]


def early_decision(session: Session, claim: Claim) -> PreparedAnswer | None:
    """The latest final mailbox answer already stored for the claimed message, if any."""
    ids = [claim.message_id, *([claim.replaces_message_id] if claim.replaces_message_id else [])]
    row = session.scalars(
        select(AnswerRow)
        .where(
            AnswerRow.message_id.in_(ids),
            AnswerRow.source == "mailbox",
            AnswerRow.outcome != "in-beraad",
        )
        .order_by(AnswerRow.created_at.desc())
    ).first()
    return None if row is None else prepared_answer(row)
