"""The stored parts of a batch: invoices waiting, in state ``part``, for the batch that sends them.

An invoice event is stored like any other event, but its message is never claimed
(``Carriage.PART``): the batch event that lists it loads it here when the batch is sent, and
its message ends with the batch's answer, or with the adapter's own refusal of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update

from adapter.errors import SealError
from adapter.store.records import MessageState
from adapter.store.rows import PAYLOAD
from adapter.store.sealing import Sealer
from adapter.store.tables import EVENTS, MESSAGES
from mappings.model import Outcome


@dataclass(frozen=True)
class Part:
    """A stored event a batch lists, as the batch needs to judge and send it."""

    event_id: str
    event_code: str | None
    state: MessageState | None
    """Its message's state: ``part`` while it waits for a batch; None for an invalid event."""
    payload: str | None
    """The event as received; None when it could not be opened (``unreadable`` says why)."""
    unreadable: str | None = None


def load_parts(db: Connection, sealer: Sealer, event_ids: Sequence[str]) -> dict[str, Part]:
    """The stored events among ``event_ids`` (an id the store does not have is left out)."""
    rows = db.execute(
        select(EVENTS.c.event_id, EVENTS.c.event_code, EVENTS.c.payload, MESSAGES.c.state)
        .outerjoin(MESSAGES, MESSAGES.c.event_id == EVENTS.c.event_id)
        .where(EVENTS.c.event_id.in_(list(event_ids)))
    )
    parts: dict[str, Part] = {}
    for event_id, code, sealed, state in rows:
        known = MessageState(state) if state is not None else None
        try:
            payload, why = sealer.open(sealed, PAYLOAD, event_id), None
        except SealError as exc:
            payload, why = None, str(exc)
        parts[event_id] = Part(event_id, code, known, payload, why)
    return parts


def settle_parts(db: Connection, outcomes: dict[str, Outcome], now: datetime) -> int:
    """End the messages of parts with their outcome in their batch; returns how many ended.

    Only parts still waiting are ended, so settling twice (an answer fetched again) is
    harmless.
    """
    ended = 0
    for outcome in set(outcomes.values()):
        ids = [event_id for event_id, found in outcomes.items() if found is outcome]
        result = db.execute(
            update(MESSAGES)
            .where(MESSAGES.c.event_id.in_(ids), MESSAGES.c.state == MessageState.PART.value)
            .values(state=MessageState.DONE.value, outcome=outcome.value, updated_at=now)
        )
        ended += int(result.rowcount)
    return ended
