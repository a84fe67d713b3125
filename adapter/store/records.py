"""Plain values passed in and out of the store (no SQLAlchemy objects leak out of it).

They are typed with the enums of the flow (``MessageState``, ``Outcome``, ``AnswerSource``)
and hold issues as ``Issue`` values: strings and JSON exist only in the rows, written and
read in ``rows.py``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from mappings.model import Issue, Outcome
from mappings.role import Application


class MessageState(enum.StrEnum):
    """Where a message is in its life; see ``MessageRow`` for what each state means."""

    PENDING = "pending"
    SENDING = "sending"
    WAITING = "waiting"
    DONE = "done"
    DEAD = "dead"
    DISCARDED = "discarded"
    PART = "part"
    """An invoice stored for the batch that carries it: never claimed, never sent alone."""

    @property
    def is_final(self) -> bool:
        """Final messages let their dossier move on to the next sequence number."""
        return self in (MessageState.DONE, MessageState.DISCARDED)


class AnswerSource(enum.StrEnum):
    """Where an answer comes from."""

    SYNC = "sync"
    """Submit's own answer."""
    MAILBOX = "mailbox"
    """A later answer fetched from the central application's mailbox."""
    ADAPTER = "adapter"
    """Made by the adapter: a refusal of an invalid event or a modification, a discard."""


class IngestResult(enum.Enum):
    """What ``Store.ingest`` did with an event."""

    STORED = "stored"
    DUPLICATE = "duplicate"
    """The event id was seen before with the same body: a redelivery, nothing changed."""
    CONFLICT = "conflict"
    """The event id was seen before with another body: the first event stands, nothing stored."""
    SEQUENCE_TAKEN = "sequence-taken"
    """Another event of the dossier already has this sequence number: nothing stored."""
    SEQUENCE_PASSED = "sequence-passed"
    """The dossier has moved past this number (skipped gap, resent old number): not stored."""


@dataclass(frozen=True)
class PreparedAnswer:
    """An answer ready to store and publish; ``body`` is the FHIR JSON for the EPD."""

    answer_id: str
    event_id: str
    event_code: str
    message_id: str | None
    outcome: Outcome
    source: AnswerSource
    body: str
    vsb_reference: str | None = None
    issues: tuple[Issue, ...] = ()

    @property
    def final(self) -> bool:
        """Every outcome but "in beraad" is the last word on a message."""
        return self.outcome.is_final


@dataclass(frozen=True)
class NewEvent:
    """An event as the engine hands it to the store.

    ``ordering_key`` and ``sequence`` place it in its dossier; a message row is created for a
    valid event (``ordered`` False for look-ups). An invalid event with a known ordering key
    and sequence still uses up its number; its ``answer`` is stored in the same transaction.
    """

    event_id: str
    payload: str
    body_digest: str
    """SHA-256 of the body as received: tells a redelivery from another event with the same id."""
    event_code: str | None
    dossier_id: str | None
    sequence: int | None
    ordering_key: str | None
    ordered: bool
    valid: bool
    issues: tuple[Issue, ...]
    message_id: str | None
    answer: PreparedAnswer | None
    part: bool = False
    """A valid part of a batch (an invoice): its message waits in ``part`` for its batch."""


@dataclass(frozen=True)
class Claim:
    """A message claimed for sending under a lease, with what is needed to build it."""

    id: int
    message_id: str
    replaces_message_id: str | None
    event_id: str
    event_code: str
    ordering_key: str | None
    sequence: int | None
    fence: int
    attempts: int
    created_at: datetime
    payload: str
    failing_since: datetime | None
    application: Application | None
    """The dossier's application as its answers left it (None before its first answer)."""
    unreadable: str | None = None
    """Why the stored payload could not be opened (``SealError``); ``payload`` is empty then
    and the sender makes the message a dead letter instead of sending it."""


@dataclass(frozen=True)
class MessageView:
    """A message as support staff and the mailbox poller see it."""

    message_id: str
    event_id: str
    event_code: str
    dossier_key: str | None
    sequence: int | None
    state: MessageState
    outcome: Outcome | None
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    replaces_message_id: str | None


@dataclass(frozen=True)
class StoreStats:
    """Figures for the metrics: counts by state and the dossiers that cannot move."""

    by_state: dict[str, int]
    blocked_dossiers: int
    """Dossiers whose head message is a dead letter."""
    waiting_dossiers: int
    """Dossiers whose head message is in beraad."""
    gapped_dossiers: int
    """Dossiers waiting on a sequence number not yet received."""
    stuck_dossiers: int
    """Gapped dossiers waiting longer than the configured alert time."""
    oldest_pending_seconds: float
    unpublished_answers: int
