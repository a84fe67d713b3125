"""A dossier's order in SQL: its next sequence number, its head, its application.

The one rule: only the message numbered ``dossiers.next_sequence`` may be sent, and only
while it is ``pending``; the number moves on when that message is finished (or was never to
be sent: a look-up's number, an invalid event's).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from adapter.store.records import MessageState, PreparedAnswer
from adapter.store.tables import DossierRow, MessageRow

FINAL_STATES = (MessageState.DONE.value, MessageState.DISCARDED.value)


def ensure_dossier(session: Session, key: str, now: datetime) -> DossierRow:
    """The dossier row of ``key``, created at sequence 1 if new."""
    row = session.get(DossierRow, key)
    if row is None:
        row = DossierRow(key=key, next_sequence=1, updated_at=now)
        session.add(row)
        session.flush()
    return row


def advance(session: Session, key: str, now: datetime) -> None:
    """Move the dossier past every finished (or unordered) message at its head."""
    dossier = session.scalar(select(DossierRow).where(DossierRow.key == key).with_for_update())
    if dossier is None:
        return
    start = dossier.next_sequence
    while True:
        row = session.execute(
            select(MessageRow.ordered, MessageRow.state).where(
                MessageRow.ordering_key == key, MessageRow.sequence == dossier.next_sequence
            )
        ).first()
        if row is None or (row.ordered and row.state not in FINAL_STATES):
            break
        dossier.next_sequence += 1
    if dossier.next_sequence != start:
        dossier.updated_at = now


def due_ids(session: Session, now: datetime, limit: int) -> list[int]:
    """Ids of the messages that may be sent now: dossier heads and look-ups, oldest first."""
    head = and_(
        MessageRow.ordered.is_(True),
        DossierRow.key == MessageRow.ordering_key,
        DossierRow.next_sequence == MessageRow.sequence,
    )
    rows = session.execute(
        select(MessageRow.id)
        .outerjoin(DossierRow, DossierRow.key == MessageRow.ordering_key)
        .where(
            MessageRow.state == MessageState.PENDING.value,
            MessageRow.next_attempt_at <= now,
            or_(MessageRow.ordered.is_(False), head),
        )
        .order_by(MessageRow.next_attempt_at, MessageRow.id)
        .limit(limit)
    ).all()
    return [row[0] for row in rows]


def set_application(session: Session, key: str, answer: PreparedAnswer, now: datetime) -> None:
    """Remember the dossier's application outcome (and reference) for its modifications."""
    dossier = session.get_one(DossierRow, key)
    dossier.application_outcome = answer.outcome
    if answer.vsb_reference:
        dossier.vsb_reference = answer.vsb_reference
    dossier.application_issues = answer.issues_json
    dossier.updated_at = now
