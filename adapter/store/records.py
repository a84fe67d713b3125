"""Plain values passed in and out of the store (no SQLAlchemy objects leak out of it).

They are typed with the enums of the flow (``MessageState``, ``Outcome``, ``AnswerSource``)
and hold issues as ``Issue`` values: strings and JSON exist only in the rows, written and
read in ``rows.py``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from mappings.deadline import NO_DATES, EventDates
from mappings.invoice_batch import InvoiceKind, LineKind, LineReference
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
    dates: EventDates = NO_DATES
    """Its deadline and what its acceptance does to its dossier's period."""


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


# ---- the invoicing ledger (adapter.store.ledger) ---------------------------------------------


class BatchState(enum.StrEnum):
    """Where an invoice batch is: sent, taken in, judged on its content."""

    SENDING = "sending"
    """Recorded for sending; no answer yet."""
    TAKEN_IN = "taken-in"
    """The file was taken in (technical 931000); the content answer comes by the mailbox."""
    ACCEPTED = "accepted"
    """Judged on its content (931000): each invoice and line has its outcome."""
    REFUSED_FILE = "refused-file"
    """The file was refused (technical 920999): nothing of it was judged."""
    REFUSED_CONTENT = "refused-content"
    """The whole batch was refused on its content (920099: a B error, or F and R ≥ 5 %)."""

    @property
    def refused_whole(self) -> bool:
        """Refused as a whole: the batch may be resent with its number, type and date."""
        return self in (BatchState.REFUSED_FILE, BatchState.REFUSED_CONTENT)


class LineOutcome(enum.StrEnum):
    """What the care fund made of one invoice line."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REFUSED = "refused"


@dataclass(frozen=True)
class Batch:
    """An invoice batch as the ledger keeps it (its latest try)."""

    batch_number: str
    care_fund: str
    invoice_type: str
    billing_month: str
    invoice_date: date
    message_id: str
    """The message of the latest try; a resend after a refusal has a new one."""
    tries: int
    """How many messages carried the batch (1, then one more per resend after a refusal)."""
    state: BatchState
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class LedgerLine:
    """One invoice line sent in a batch, with its outcome."""

    invoice_number: str
    line_number: int
    batch_number: str
    invoice_kind: InvoiceKind
    kind: LineKind
    service_code: str
    day: date
    amount: Decimal
    for_line: int | None
    credits: LineReference | None
    """A credit note's line: the line it cancels."""
    outcome: LineOutcome
    credited_by: str | None
    """The credit note whose accepted line cancelled this one."""
    corrects: str | None
    """A correcting invoice's line: the invoice it corrects."""


@dataclass(frozen=True)
class InvoiceResult:
    """The content answer's verdict on one invoice: accepted (perhaps without some lines)."""

    invoice_number: str
    accepted: bool
    """False: the whole invoice was refused (an F error)."""
    refused_lines: frozenset[int] = frozenset()
    """Line numbers refused (R errors) in an accepted invoice."""


@dataclass(frozen=True)
class KnownStatus:
    """The last insurance status the adapter relayed for a person."""

    care_fund: str | None
    """None: affiliated with no care fund."""
    valid_from: date | None
    answered_at: datetime
