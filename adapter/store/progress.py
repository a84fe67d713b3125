"""How far a set of events has come, by event id: for tools that send many (the migration).

Read-only: which of the ids the store holds, their message's state, and their latest answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from adapter.store.records import MessageState
from adapter.store.rows import BODY
from adapter.store.store import Store
from adapter.store.tables import AnswerRow, EventRow, MessageRow

_CHUNK = 500
"""Ids per query: well under every backend's limit on bound parameters."""


@dataclass(frozen=True)
class EventProgress:
    """One stored event: valid or not, its message's state, its latest answer."""

    event_id: str
    valid: bool
    state: MessageState | None
    """None for an invalid event: it never had a message."""
    answer_body: str | None
    """The FHIR JSON of the latest answer (the final one once there is one)."""


def event_progress(store: Store, event_ids: Iterable[str]) -> dict[str, EventProgress]:
    """The progress of each of ``event_ids`` that the store holds (others are absent)."""
    ids = list(dict.fromkeys(event_ids))
    found: dict[str, EventProgress] = {}
    for start in range(0, len(ids), _CHUNK):
        found.update(_chunk(store, ids[start : start + _CHUNK]))
    return found


def _chunk(store: Store, ids: Sequence[str]) -> dict[str, EventProgress]:
    with store.transaction(read_only=True) as session:
        valid = dict(
            session.execute(
                select(EventRow.event_id, EventRow.valid).where(EventRow.event_id.in_(ids))
            ).all()
        )
        states = dict(
            session.execute(
                select(MessageRow.event_id, MessageRow.state).where(MessageRow.event_id.in_(ids))
            ).all()
        )
        answers: dict[str, str] = {}
        rows = session.execute(
            select(AnswerRow.event_id, AnswerRow.answer_id, AnswerRow.body)
            .where(AnswerRow.event_id.in_(ids))
            .order_by(AnswerRow.created_at)
        ).all()
        for event_id, answer_id, body in rows:
            answers[event_id] = store.sealer.open(body, BODY, answer_id)  # the last one wins
    return {
        event_id: EventProgress(
            event_id,
            bool(is_valid),
            MessageState(states[event_id]) if event_id in states else None,
            answers.get(event_id),
        )
        for event_id, is_valid in valid.items()
    }
