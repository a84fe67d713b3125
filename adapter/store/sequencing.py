"""An ordering key's order in SQL: its next sequence number, its head.

The one rule: only the message numbered ``orderings.next_sequence`` may be sent, and only
while it is ``pending``; the number moves on when that message is finished (or was never to
be sent: a look-up's number, an invalid event's). A dossier's application is not kept here
(``applications``, written by ``rows.apply_changes``).

These run on every event, so they are Core statements on the tables, not ORM queries.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Connection, and_, bindparam, insert, or_, select, update

from adapter.store.records import MessageState
from adapter.store.tables import MESSAGES, ORDERINGS

FINAL_STATES = (MessageState.DONE.value, MessageState.DISCARDED.value)
_RUN = 16
"""Messages read per look-ahead while advancing (a dossier rarely moves more than one)."""


def ordering_heads(db: Connection, keys: Collection[str], now: datetime) -> dict[str, int]:
    """The next sequence number of each ordering key in ``keys``; new keys start at 1."""
    if not keys:
        return {}
    heads = {
        key: int(head)
        for key, head in db.execute(
            select(ORDERINGS.c.key, ORDERINGS.c.next_sequence).where(ORDERINGS.c.key.in_(keys))
        )
    }
    new = sorted(set(keys) - heads.keys())
    if new:
        db.execute(
            insert(ORDERINGS), [{"key": key, "next_sequence": 1, "updated_at": now} for key in new]
        )
        heads.update(dict.fromkeys(new, 1))
    return heads


def advance(db: Connection, key: str, now: datetime) -> int | None:
    """Move the key past every finished (or unordered) message at its head.

    Returns the new next sequence number, or None if there is no such key.
    """
    return advance_many(db, [key], now).get(key)


def advance_many(db: Connection, keys: Collection[str], now: datetime) -> dict[str, int]:
    """``advance`` for several keys with a fixed number of statements; their new heads.

    The ordering rows are locked first (in key order, so concurrent batches cannot
    deadlock), and only then are their messages read: read in the same statement, a message
    committed by a transaction that held the lock would be missed.
    """
    if not keys:
        return {}
    starts = {
        key: int(head)
        for key, head in db.execute(
            select(ORDERINGS.c.key, ORDERINGS.c.next_sequence)
            .where(ORDERINGS.c.key.in_(sorted(keys)))
            .order_by(ORDERINGS.c.key)
            .with_for_update()
        )
    }
    following: dict[str, list[tuple[int, bool, str]]] = {key: [] for key in starts}
    for key, sequence, ordered, state in db.execute(
        select(MESSAGES.c.ordering_key, MESSAGES.c.sequence, MESSAGES.c.ordered, MESSAGES.c.state)
        .join(ORDERINGS, ORDERINGS.c.key == MESSAGES.c.ordering_key)
        .where(
            ORDERINGS.c.key.in_(list(starts)),
            MESSAGES.c.sequence >= ORDERINGS.c.next_sequence,
            MESSAGES.c.sequence < ORDERINGS.c.next_sequence + _RUN,
        )
        .order_by(MESSAGES.c.ordering_key, MESSAGES.c.sequence)
    ):
        following[key].append((sequence, ordered, state))
    heads: dict[str, int] = {}
    for key, start in starts.items():
        head, read = start, following[key]
        while True:
            moved_to = _past_finished(head, read)
            if moved_to - head < _RUN:
                break
            # The whole look-ahead was finished (rare): read further for this key alone.
            head, read = moved_to, _messages_from(db, key, moved_to)
        heads[key] = moved_to
    moved = [
        {"b_key": key, "b_next": heads[key], "b_now": now}
        for key in starts
        if heads[key] != starts[key]
    ]
    if moved:
        db.execute(
            update(ORDERINGS)
            .where(ORDERINGS.c.key == bindparam("b_key"))
            .values(next_sequence=bindparam("b_next"), updated_at=bindparam("b_now")),
            moved,
        )
    return heads


def _past_finished(head: int, messages: list[tuple[int, bool, str]]) -> int:
    """The first sequence number from ``head`` on that is missing or still to be sent."""
    for sequence, ordered, state in messages:
        if sequence != head or (ordered and state not in FINAL_STATES):
            break
        head += 1
    return head


def _messages_from(db: Connection, key: str, head: int) -> list[tuple[int, bool, str]]:
    rows = db.execute(
        select(MESSAGES.c.sequence, MESSAGES.c.ordered, MESSAGES.c.state)
        .where(MESSAGES.c.ordering_key == key, MESSAGES.c.sequence >= head)
        .order_by(MESSAGES.c.sequence)
        .limit(_RUN)
    )
    return [(sequence, ordered, state) for sequence, ordered, state in rows]


def due_ids(db: Connection, now: datetime, limit: int) -> list[int]:
    """Ids of the messages that may be sent now: dossier heads and look-ups, oldest first."""
    head = and_(
        MESSAGES.c.ordered.is_(True),
        ORDERINGS.c.key == MESSAGES.c.ordering_key,
        ORDERINGS.c.next_sequence == MESSAGES.c.sequence,
    )
    rows = db.execute(
        select(MESSAGES.c.id)
        .outerjoin(ORDERINGS, ORDERINGS.c.key == MESSAGES.c.ordering_key)
        .where(
            MESSAGES.c.state == MessageState.PENDING.value,
            MESSAGES.c.next_attempt_at <= now,
            or_(MESSAGES.c.ordered.is_(False), head),
        )
        .order_by(MESSAGES.c.next_attempt_at, MESSAGES.c.id)
        .limit(limit)
    ).all()
    return [row[0] for row in rows]
