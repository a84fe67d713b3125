"""A dossier's timeline as the store holds it, and why the dossier waits.

Everything that happened to a dossier, in time order: its events received, the failed tries
of its messages (``attempts``), their answers and each message's current state; then the
one reason it does not move on now (``Wait``). Plain typed values: support turns them into
sentences, JSON or a page (``adapter.support_timeline``), nothing here is formatted.
Nothing personal is read: no payload, no answer body; error texts are masked on the way out.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapter.logs import mask
from adapter.store.attempts import AttemptKind, attempts_of
from adapter.store.deadlines import ON_THE_WAY
from adapter.store.records import AnswerSource, MessageState
from adapter.store.store import Store
from adapter.store.tables import AnswerRow, ApplicationRow, EventRow, MessageRow, OrderingRow
from mappings.deadline import DeadlineRule, due_for_change
from mappings.model import Outcome
from mappings.role import Role

DOSSIER_PREFIX = "dossier:"
"""The ordering keys of EPD dossiers start so (``mappings.dossier_key``)."""


class EntryKind(enum.StrEnum):
    """What a timeline entry records."""

    RECEIVED = "received"
    """An event came in from the EPD (valid or not)."""
    ATTEMPT = "attempt"
    """A try to send a message failed (``attempts``; a try that got an answer is its answer)."""
    ANSWER = "answer"
    """An answer for the EPD was stored: the central application's, or the adapter's own."""
    STATE = "state"
    """A message's current state, at the time it reached it."""


class WaitReason(enum.StrEnum):
    """Why a dossier does not move on now (one per dossier)."""

    NOTHING = "nothing"
    """Every message has its final answer: nothing to wait for."""
    DUE = "due"
    """The head is pending, never failed: the next sender takes it."""
    IN_FLIGHT = "in-flight"
    """The head is being sent under a lease."""
    RETRYING = "retrying"
    """The head failed transiently and is tried again at its next attempt time."""
    BLOCKED = "blocked"
    """The head is a dead letter: support replays or discards it."""
    GAP = "gap"
    """The next sequence number was never received while later ones wait."""
    IN_BERAAD = "in-beraad"
    """The head was answered "in beraad": the decision comes through the mailbox."""
    HELD_FOR_REFERENCE = "held-for-reference"
    """A modification waits behind its application, which has no VSB reference yet."""


_KIND_ORDER = {kind: i for i, kind in enumerate(EntryKind)}


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened to a dossier; the fields its ``kind`` does not use are None."""

    at: datetime
    kind: EntryKind
    event_id: str
    sequence: int | None
    event_code: str | None
    message_id: str | None = None
    valid: bool | None = None
    """RECEIVED: whether the event passed the contract."""
    attempt: int | None = None
    """ATTEMPT: the message's attempt count at the failure; STATE: its attempts so far."""
    ended: AttemptKind | None = None
    """ATTEMPT: how the try ended."""
    error: str | None = None
    """ATTEMPT: its error; STATE: the message's last error (both masked)."""
    answer_id: str | None = None
    outcome: Outcome | None = None
    """ANSWER: its outcome; STATE: the message's outcome so far."""
    source: AnswerSource | None = None
    vsb_reference: str | None = None
    published: bool | None = None
    state: MessageState | None = None
    """STATE: where the message is now."""


@dataclass(frozen=True)
class Wait:
    """Why the dossier waits, with the facts a sentence about it needs."""

    reason: WaitReason
    message_id: str | None = None
    """The message it waits on: the head, the first one behind a gap, the held modification."""
    sequence: int | None = None
    event_code: str | None = None
    since: datetime | None = None
    error: str | None = None
    """RETRYING, BLOCKED: the last error (masked)."""
    next_try: datetime | None = None
    """RETRYING: when it is tried again."""
    lease_owner: str | None = None
    """IN_FLIGHT: the instance sending it."""
    missing: int | None = None
    """GAP: the sequence number not received."""
    application_id: str | None = None
    """HELD_FOR_REFERENCE: the application message whose VSB reference it waits for."""
    application_sequence: int | None = None
    application_state: MessageState | None = None


@dataclass(frozen=True)
class Due:
    """A message of the dossier not yet received by the central application, and the last
    day it should be (``mappings.deadline``)."""

    message_id: str
    sequence: int | None
    event_code: str
    rule: DeadlineRule
    due: date


@dataclass(frozen=True)
class Timeline:
    """A dossier's entries in time order, why it waits, and the deadlines it has to meet."""

    dossier_key: str
    entries: tuple[TimelineEntry, ...]
    wait: Wait
    dues: tuple[Due, ...] = ()
    """Its messages on their way that have a known due day, in sequence order."""


RoleOf = Callable[[str], Role | None]
"""The role of an event code's message type (None for a code no message type has)."""


def dossier_keys(store: Store) -> list[str]:
    """Every dossier's ordering key the store has messages of (for the log tag look-up)."""
    with store.transaction(read_only=True) as session:
        keys = session.scalars(
            select(MessageRow.ordering_key)
            .where(MessageRow.ordering_key.startswith(DOSSIER_PREFIX, autoescape=True))
            .distinct()
        ).all()
    return sorted(key for key in keys if key is not None)


def read_timeline(
    store: Store, dossier_key: str, now: datetime, role_of: RoleOf
) -> Timeline | None:
    """The timeline of the dossier ``dossier_key``; None when the store has no message of it.

    One read transaction, so the entries and the reason agree. ``now`` tells a retry that
    is due from one that waits; ``role_of`` tells applications from modifications.
    """
    with store.transaction(read_only=True) as session:
        messages = list(
            session.scalars(
                select(MessageRow)
                .where(MessageRow.ordering_key == dossier_key)
                .order_by(MessageRow.sequence, MessageRow.id)
            )
        )
        if not messages:
            return None
        # By event id (the primary key): every stored event of a dossier has a message, an
        # invalid one too; the refused-by-number ones were never stored.
        event_ids = [m.event_id for m in messages]
        events = list(session.scalars(select(EventRow).where(EventRow.event_id.in_(event_ids))))
        answers = list(session.scalars(select(AnswerRow).where(AnswerRow.event_id.in_(event_ids))))
        ids = [m.message_id for m in messages]
        ids += [m.replaces_message_id for m in messages if m.replaces_message_id]
        attempts = attempts_of(session.connection(), ids)
        head = _next_sequence(session, dossier_key)
        application = session.get(ApplicationRow, dossier_key)
    sequence_of = {m.event_id: m.sequence for m in messages}
    by_message = {m.message_id: m for m in messages}
    by_message.update({m.replaces_message_id: m for m in messages if m.replaces_message_id})
    entries = [
        TimelineEntry(
            at=e.received_at,
            kind=EntryKind.RECEIVED,
            event_id=e.event_id,
            sequence=e.sequence,
            event_code=e.event_code,
            valid=e.valid,
        )
        for e in events
    ]
    entries += [
        TimelineEntry(
            at=a.at,
            kind=EntryKind.ATTEMPT,
            event_id=by_message[a.message_id].event_id,
            sequence=by_message[a.message_id].sequence,
            event_code=by_message[a.message_id].event_code,
            message_id=a.message_id,
            attempt=a.attempt,
            ended=a.kind,
            error=mask(a.error),
        )
        for a in attempts
    ]
    entries += [
        TimelineEntry(
            at=a.created_at,
            kind=EntryKind.ANSWER,
            event_id=a.event_id,
            sequence=sequence_of.get(a.event_id),
            event_code=a.event_code,
            message_id=a.message_id,
            answer_id=a.answer_id,
            outcome=Outcome(a.outcome),
            source=AnswerSource(a.source),
            vsb_reference=a.vsb_reference,
            published=a.published_at is not None,
        )
        for a in answers
    ]
    entries += [
        TimelineEntry(
            at=m.updated_at,
            kind=EntryKind.STATE,
            event_id=m.event_id,
            sequence=m.sequence,
            event_code=m.event_code,
            message_id=m.message_id,
            attempt=m.attempts,
            error=mask(m.last_error) if m.last_error else None,
            outcome=Outcome(m.outcome) if m.outcome is not None else None,
            state=MessageState(m.state),
        )
        for m in messages
    ]
    # Same instant (an invalid event is received, answered and done in one transaction):
    # the order things happen in, then the dossier's order.
    entries.sort(key=lambda e: (e.at, _KIND_ORDER[e.kind], e.sequence or 0))
    wait = why_waiting(messages, head, now, role_of)
    return Timeline(dossier_key, tuple(entries), wait, _dues(messages, application))


def _dues(messages: Sequence[MessageRow], application: ApplicationRow | None) -> tuple[Due, ...]:
    """The due days of the messages on their way: the 30-day rule's from the message, the
    5-day window's from the dossier's period (none while it is unknown)."""
    dues = []
    for m in messages:
        if m.deadline_rule is None or MessageState(m.state) not in ON_THE_WAY:
            continue
        rule = DeadlineRule(m.deadline_rule)
        due = m.due_on
        if rule is DeadlineRule.LATE_CHANGE and application is not None:
            due = due_for_change(application.period_ends_on, application.stopped_on)
        if due is not None:
            dues.append(Due(m.message_id, m.sequence, m.event_code, rule, due))
    return tuple(dues)


def _next_sequence(session: Session, dossier_key: str) -> int:
    found = session.scalar(select(OrderingRow.next_sequence).where(OrderingRow.key == dossier_key))
    return int(found) if found is not None else 1


def why_waiting(messages: Sequence[MessageRow], head: int, now: datetime, role_of: RoleOf) -> Wait:
    """Why a dossier whose next sequence number is ``head`` waits (its messages in order).

    The head's own state decides; a gap when there is no head but later messages wait.
    A modification behind an application still without its answer (pending, not yet tried,
    or in beraad) is held for the application's VSB reference: the head then is named as the
    application. A head that is retrying, in flight or dead says that instead, as it is what
    support can act on.
    """
    ordered = [m for m in messages if m.ordered and m.sequence is not None]
    current = next((m for m in ordered if m.sequence == head), None)
    later = [m for m in ordered if m.sequence is not None and m.sequence > head]
    if current is None:
        # Look-ups are not ordered: one still open is what the dossier waits on, if any.
        unordered = [m for m in messages if not m.ordered and not _final(m)]
        if later:
            return Wait(
                WaitReason.GAP,
                message_id=later[0].message_id,
                sequence=later[0].sequence,
                event_code=later[0].event_code,
                since=min(m.created_at for m in later),
                missing=head,
            )
        if not unordered:
            return Wait(WaitReason.NOTHING)
        current, later = unordered[0], []
    state = MessageState(current.state)
    facts = Wait(
        WaitReason.DUE,
        message_id=current.message_id,
        sequence=current.sequence,
        event_code=current.event_code,
    )
    if state is MessageState.DEAD:
        error = mask(current.last_error) if current.last_error else None
        return replace(
            facts,
            reason=WaitReason.BLOCKED,
            since=current.updated_at,
            error=error,
        )
    if state is MessageState.SENDING:
        return replace(
            facts,
            reason=WaitReason.IN_FLIGHT,
            since=current.updated_at,
            lease_owner=current.lease_owner,
        )
    if state is MessageState.PENDING and current.last_error is not None:
        return replace(
            facts,
            reason=WaitReason.RETRYING,
            since=current.failing_since or current.updated_at,
            error=mask(current.last_error),
            next_try=current.next_attempt_at,
        )
    held = _held_behind(current, later, role_of)
    if held is not None:
        return Wait(
            WaitReason.HELD_FOR_REFERENCE,
            message_id=held.message_id,
            sequence=held.sequence,
            event_code=held.event_code,
            since=held.created_at,
            application_id=current.message_id,
            application_sequence=current.sequence,
            application_state=state,
        )
    if state is MessageState.WAITING:
        return replace(
            facts,
            reason=WaitReason.IN_BERAAD,
            since=current.updated_at,
        )
    if _final(current):
        # The head is finished but the number has not moved yet (a moment between two
        # transactions): nothing holds the dossier.
        return Wait(WaitReason.NOTHING)
    return replace(
        facts,
        reason=WaitReason.DUE,
        since=current.next_attempt_at,
    )


def _held_behind(
    current: MessageRow, later: Sequence[MessageRow], role_of: RoleOf
) -> MessageRow | None:
    """The first modification behind ``current`` if ``current`` is an application that has
    no answer with a reference yet (pending or in beraad)."""
    role = role_of(current.event_code)
    if role is None or not role.opens:
        return None
    if current.state not in (MessageState.PENDING.value, MessageState.WAITING.value):
        return None
    for message in later:
        found = role_of(message.event_code)
        if found is not None and found.modifies and not _final(message):
            return message
    return None


def _final(message: MessageRow) -> bool:
    return MessageState(message.state).is_final
