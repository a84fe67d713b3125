"""A dossier's order in SQL: its next sequence number, its head, its application.

The one rule: only the message numbered ``dossiers.next_sequence`` may be sent, and only
while it is ``pending``; the number moves on when that message is finished (or was never to
be sent: a look-up's number, an invalid event's).

These run on every event, so they are Core statements on the tables, not ORM queries.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Connection, and_, insert, or_, select, update

from adapter.store.records import MessageState, PreparedAnswer
from adapter.store.tables import DOSSIERS, MESSAGES

FINAL_STATES = (MessageState.DONE.value, MessageState.DISCARDED.value)
_RUN = 16
"""Messages read per look-ahead while advancing (a dossier rarely moves more than one)."""


def dossier_heads(db: Connection, keys: Collection[str], now: datetime) -> dict[str, int]:
    """The next sequence number of each dossier in ``keys``; new dossiers are created at 1."""
    if not keys:
        return {}
    heads = {
        key: int(head)
        for key, head in db.execute(
            select(DOSSIERS.c.key, DOSSIERS.c.next_sequence).where(DOSSIERS.c.key.in_(keys))
        )
    }
    new = sorted(set(keys) - heads.keys())
    if new:
        db.execute(
            insert(DOSSIERS), [{"key": key, "next_sequence": 1, "updated_at": now} for key in new]
        )
        heads.update(dict.fromkeys(new, 1))
    return heads


def advance(
    db: Connection, key: str, now: datetime, *, application: PreparedAnswer | None = None
) -> int | None:
    """Move the dossier past every finished (or unordered) message at its head.

    With ``application``, the dossier also remembers that answer (outcome, reference) for its
    modifications, in the same statement. Returns the new next sequence number, or None if
    there is no such dossier.
    """
    start = db.scalar(
        select(DOSSIERS.c.next_sequence).where(DOSSIERS.c.key == key).with_for_update()
    )
    if start is None:
        return None
    head = int(start)
    while True:
        rows = db.execute(
            select(MESSAGES.c.sequence, MESSAGES.c.ordered, MESSAGES.c.state)
            .where(MESSAGES.c.ordering_key == key, MESSAGES.c.sequence >= head)
            .order_by(MESSAGES.c.sequence)
            .limit(_RUN)
        ).all()
        moved = 0
        for sequence, ordered, state in rows:
            if sequence != head or (ordered and state not in FINAL_STATES):
                break
            head += 1
            moved += 1
        if moved < _RUN:
            break
    values = {} if application is None else _application_values(application)
    if head != start:
        values["next_sequence"] = head
    if values:
        db.execute(update(DOSSIERS).where(DOSSIERS.c.key == key).values(updated_at=now, **values))
    return head


def set_application(db: Connection, key: str, answer: PreparedAnswer, now: datetime) -> None:
    """Remember the dossier's application outcome (and reference) for its modifications."""
    db.execute(
        update(DOSSIERS)
        .where(DOSSIERS.c.key == key)
        .values(updated_at=now, **_application_values(answer))
    )


def _application_values(answer: PreparedAnswer) -> dict[str, object]:
    values: dict[str, object] = {
        "application_outcome": answer.outcome,
        "application_issues": answer.issues_json,
    }
    if answer.vsb_reference:
        # An answer without a reference keeps the one already known.
        values["vsb_reference"] = answer.vsb_reference
    return values


def due_ids(db: Connection, now: datetime, limit: int) -> list[int]:
    """Ids of the messages that may be sent now: dossier heads and look-ups, oldest first."""
    head = and_(
        MESSAGES.c.ordered.is_(True),
        DOSSIERS.c.key == MESSAGES.c.ordering_key,
        DOSSIERS.c.next_sequence == MESSAGES.c.sequence,
    )
    rows = db.execute(
        select(MESSAGES.c.id)
        .outerjoin(DOSSIERS, DOSSIERS.c.key == MESSAGES.c.ordering_key)
        .where(
            MESSAGES.c.state == MessageState.PENDING.value,
            MESSAGES.c.next_attempt_at <= now,
            or_(MESSAGES.c.ordered.is_(False), head),
        )
        .order_by(MESSAGES.c.next_attempt_at, MESSAGES.c.id)
        .limit(limit)
    ).all()
    return [row[0] for row in rows]
