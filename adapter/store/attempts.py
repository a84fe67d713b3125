"""The failed tries of a message: written by the store when a send fails, read by support.

``messages.last_error`` keeps the latest error only; these rows keep every one, so support
sees how a dead letter got there. Core statements: they run on the sender's failure path.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from adapter.store.tables import ATTEMPTS, MESSAGES


class AttemptKind(enum.StrEnum):
    """How a failed try ended."""

    RETRY = "retry"
    """A transient failure: the message is tried again later."""
    OUTAGE = "outage"
    """A failure during an outage the circuit breaker recognised: the try was given back."""
    DEAD = "dead"
    """The message was given up: a dead letter."""


@dataclass(frozen=True)
class Attempt:
    """One failed try as support sees it."""

    message_id: str
    at: datetime
    kind: AttemptKind
    attempt: int
    error: str


def record_attempt(
    db: Connection, message_id: str, at: datetime, kind: AttemptKind, attempt: int, error: str
) -> None:
    """Keep one failed try (in the transaction that records its outcome on the message)."""
    db.execute(
        insert(ATTEMPTS).values(
            message_id=message_id, at=at, kind=kind.value, attempt=attempt, error=error
        )
    )


def attempts_of(db: Connection, message_ids: Sequence[str]) -> list[Attempt]:
    """The failed tries of these message ids (a message and the one it replaces), in order."""
    rows = db.execute(
        select(ATTEMPTS).where(ATTEMPTS.c.message_id.in_(list(message_ids))).order_by(ATTEMPTS.c.id)
    )
    return [Attempt(r.message_id, r.at, AttemptKind(r.kind), int(r.attempt), r.error) for r in rows]


def forget_orphans(db: Connection) -> int:
    """Delete the tries of messages the store no longer has (after a purge)."""
    current = select(MESSAGES.c.message_id).where(MESSAGES.c.message_id == ATTEMPTS.c.message_id)
    replaced = select(MESSAGES.c.replaces_message_id).where(
        MESSAGES.c.replaces_message_id == ATTEMPTS.c.message_id
    )
    result = db.execute(delete(ATTEMPTS).where(~current.exists(), ~replaced.exists()))
    return int(result.rowcount)
