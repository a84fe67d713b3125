"""The SQL schema of the store (SQLAlchemy 2 declarative); changed only through migrations.

Four tables carry the flow (events → messages → answers, orderings hold the order), one the
dossiers' applications, one the instances' heartbeats, one the audit of support actions and
one the failed tries of messages.
Four keep the invoicing ledger (batches, their lines, held corrections, the insurance
statuses relayed). Times are stored in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Index,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the store's tables."""


class EventRow(Base):
    """One event received from the EPD, valid or not, exactly once per event id."""

    __tablename__ = "events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    event_code: Mapped[str | None] = mapped_column(String(64))
    dossier_id: Mapped[str | None] = mapped_column(String(64))
    sequence: Mapped[int | None] = mapped_column(Integer)
    valid: Mapped[bool] = mapped_column(Boolean)
    issues: Mapped[str | None] = mapped_column(Text)
    """JSON list of the issues that made the event invalid (no personal data)."""
    payload: Mapped[str] = mapped_column(Text)
    """The event as received (or as corrected by support before a replay); see ``storable``."""
    body_digest: Mapped[str | None] = mapped_column(String(64))
    """SHA-256 (hex) of the body as received; None for events stored before release 0.2."""


class MessageRow(Base):
    """One VSB message to deliver, and its place in its dossier's order.

    States: ``pending`` (waits its turn or its retry time), ``sending`` (claimed under a lease;
    in flight), ``waiting`` (answered "in beraad": the dossier waits for the decision without
    holding a send slot), ``done`` (final answer), ``dead`` (failed permanently: blocks its
    dossier until replayed or discarded), ``discarded`` (given up by support), ``part`` (an
    invoice stored for the batch that carries it: never claimed, ended by its batch's answer).
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("ordering_key", "sequence", name="uq_messages_key_sequence"),
        Index("ix_messages_state_due", "state", "next_attempt_at"),
        Index("ix_messages_event", "event_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    """The id the central application deduplicates on; kept on an unchanged resend."""
    replaces_message_id: Mapped[str | None] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(64))
    event_code: Mapped[str] = mapped_column(String(64))
    ordering_key: Mapped[str | None] = mapped_column(String(140))
    sequence: Mapped[int | None] = mapped_column(Integer)
    ordered: Mapped[bool] = mapped_column(Boolean)
    """False for look-ups: they use up their sequence number but never wait or block."""
    state: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    failing_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """First transient failure of the current run of failures (for the age cap)."""
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    fence: Mapped[int] = mapped_column(Integer, default=0)
    """Fencing token: bumped on every claim; a finish with an older token is ignored."""
    deadline_rule: Mapped[str | None] = mapped_column(String(8))
    """The domain deadline it has (``mappings.deadline.DeadlineRule``): ``30-day`` with
    ``due_on``, ``5-day`` due 5 days after its dossier's period closed; None: none."""
    due_on: Mapped[date | None] = mapped_column(Date)
    """The last day the central application must receive it, under the 30-day rule."""
    period_effect: Mapped[str | None] = mapped_column(String(8))
    """What its acceptance does to the dossier's period (``mappings.deadline.PeriodEffect``)."""
    period_date: Mapped[date | None] = mapped_column(Date)
    """The date ``period_effect`` sets: the period's end, or its stop."""


class OrderingRow(Base):
    """An ordering key's progress: the next sequence number due (a dossier, a care fund)."""

    __tablename__ = "orderings"

    key: Mapped[str] = mapped_column(String(140), primary_key=True)
    next_sequence: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApplicationRow(Base):
    """A dossier's application as its answers left it: outcome, VSB reference, closed.

    Domain facts of the dossier, apart from its ordering state: written by the answers of
    the message types whose role opens or closes the application (``mappings.role``).
    """

    __tablename__ = "applications"

    dossier_key: Mapped[str] = mapped_column(String(140), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16))
    vsb_reference: Mapped[str | None] = mapped_column(String(40))
    issues: Mapped[str | None] = mapped_column(Text)
    """JSON issues of a refused application, repeated in the refusal of its modifications."""
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    period_ends_on: Mapped[date | None] = mapped_column(Date)
    """The period's end date, from the accepted application or its latest extension."""
    stopped_on: Mapped[date | None] = mapped_column(Date)
    """The date of the stop in force (an accepted stop not cancelled). The period closes on
    the earlier of the two: a change after it is processed automatically for 5 days."""
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AnswerRow(Base):
    """An answer for the EPD, stored before it is published (an outbox)."""

    __tablename__ = "answers"
    __table_args__ = (
        Index("ix_answers_unpublished", "published_at", "created_at"),
        Index("ix_answers_event", "event_id"),
    )

    answer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64))
    event_code: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    """``sync`` (Submit's answer), ``mailbox`` (a later answer), ``adapter`` (made here)."""
    body: Mapped[str] = mapped_column(Text)
    vsb_reference: Mapped[str | None] = mapped_column(String(40))
    issues: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """For mailbox answers: when the central application was told we have it."""


class InstanceRow(Base):
    """An adapter instance's heartbeat: proves every few seconds that the store takes writes."""

    __tablename__ = "instances"

    instance_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AuditRow(Base):
    """Who did what to which message, for support actions (replay, discard, skip)."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(140))
    detail: Mapped[str | None] = mapped_column(Text)


class AttemptRow(Base):
    """One failed try of a message: when, how it ended (``retry``: tried again later,
    ``outage``: given back to an open circuit breaker, ``dead``: given up), and the error.

    Written beside ``messages.last_error``, which keeps only the latest, so that support sees
    every try (``vsb-adapter show``). Error texts name no personal data; purge deletes a
    message's attempts with it.
    """

    __tablename__ = "attempts"
    __table_args__ = (Index("ix_attempts_message", "message_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(16))
    attempt: Mapped[int] = mapped_column(Integer)
    """The message's attempt count when it failed (an outage's try is given back after)."""
    error: Mapped[str] = mapped_column(Text)


class InvoiceBatchRow(Base):
    """An invoice batch ("zending"): one care fund's month, its latest try and its state.

    States (``records.BatchState``): ``sending``, ``taken-in``, ``accepted``,
    ``refused-file``, ``refused-content``. A store serves one facility, so the batch number
    alone names a batch.
    """

    __tablename__ = "invoice_batches"
    __table_args__ = (
        Index("ix_invoice_batches_month", "care_fund", "billing_month"),
        Index("ix_invoice_batches_message", "message_id", unique=True),
    )

    batch_number: Mapped[str] = mapped_column(String(40), primary_key=True)
    care_fund: Mapped[str] = mapped_column(String(16))
    invoice_type: Mapped[str] = mapped_column(String(8))
    billing_month: Mapped[str] = mapped_column(String(7))
    """``YYYY-MM``."""
    invoice_date: Mapped[date] = mapped_column(Date)
    message_id: Mapped[str] = mapped_column(String(64))
    """The message of the latest try (a resend after a refusal has a new message id)."""
    tries: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    judged: Mapped[str | None] = mapped_column(Text)
    """JSON: the adapter's own judgement of the latest try (which event carried each invoice,
    the corrections held and the invoices refused before sending), for its answers. Invoice
    numbers, line numbers and issue codes only: no personal data."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class InvoiceLineRow(Base):
    """One line of an invoice or credit note sent in a batch, and its outcome.

    Amounts are whole cents (an integer): both backends give back exactly what was written,
    which a SQLite ``NUMERIC`` (a float underneath) does not promise.
    """

    __tablename__ = "invoice_lines"
    __table_args__ = (
        Index("ix_invoice_lines_batch", "batch_number"),
        Index("ix_invoice_lines_credits", "credits_invoice", "credits_line"),
    )

    invoice_number: Mapped[str] = mapped_column(String(40), primary_key=True)
    line_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_number: Mapped[str] = mapped_column(String(40))
    invoice_kind: Mapped[str] = mapped_column(String(16))
    corrects: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))
    service_code: Mapped[str] = mapped_column(String(8))
    day: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    for_line: Mapped[int | None] = mapped_column(Integer)
    credits_invoice: Mapped[str | None] = mapped_column(String(40))
    credits_line: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    """``pending``, ``accepted``, ``refused`` (``records.LineOutcome``)."""
    credited_by: Mapped[str | None] = mapped_column(String(40))
    """The credit note whose accepted line cancelled this line."""


class HeldInvoiceRow(Base):
    """A correcting invoice held until its credit note is accepted, then sent with a batch."""

    __tablename__ = "held_invoices"
    __table_args__ = (Index("ix_held_invoices_fund", "care_fund", "released_at"),)

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    care_fund: Mapped[str] = mapped_column(String(16))
    corrects: Mapped[str] = mapped_column(String(40))
    held_at: Mapped[datetime] = mapped_column(UtcDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class InsuranceStatusRow(Base):
    """The last insurance status the adapter relayed for a person, one row per person.

    ``person`` is a blind index of the INSZ (``sealing.BlindIndex``: HMAC-SHA256 under the
    keyring's index key), never the INSZ, so the table holds no personal data in clear.
    """

    __tablename__ = "insurance_statuses"

    person: Mapped[str] = mapped_column(String(64), primary_key=True)
    care_fund: Mapped[str | None] = mapped_column(String(16))
    """None: affiliated with no care fund."""
    valid_from: Mapped[date | None] = mapped_column(Date)
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime)


# The tables themselves, for the hot paths: Core statements on them skip the ORM's unit of
# work and identity map, which cost about a millisecond of CPU per statement.
EVENTS = cast(Table, EventRow.__table__)
MESSAGES = cast(Table, MessageRow.__table__)
ORDERINGS = cast(Table, OrderingRow.__table__)
APPLICATIONS = cast(Table, ApplicationRow.__table__)
ANSWERS = cast(Table, AnswerRow.__table__)
INSTANCES = cast(Table, InstanceRow.__table__)
INVOICE_BATCHES = cast(Table, InvoiceBatchRow.__table__)
INVOICE_LINES = cast(Table, InvoiceLineRow.__table__)
HELD_INVOICES = cast(Table, HeldInvoiceRow.__table__)
INSURANCE_STATUSES = cast(Table, InsuranceStatusRow.__table__)
ATTEMPTS = cast(Table, AttemptRow.__table__)
