"""Support as staff see it: one implementation, shown by the CLI and the web console.

Each operation checks what it is given, makes the answer the EPD is owed, and runs as one
audited store transaction (``adapter.store.Support``). The CLI only parses and prints. The
bulk actions are in ``adapter.support_bulk``, the masked view in ``adapter.support_masking``
and a dossier's timeline in words in ``adapter.support_timeline``.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta

from adapter import lifecycle
from adapter.clock import Clock
from adapter.engine.answers import made_here
from adapter.lifecycle import Stage, Step, step
from adapter.store import MessageView, Store, StoredEvent, Support, SupportError
from adapter.store.attempts import Attempt
from adapter.store.deadlines import DeadlineCounts
from adapter.store.ledger import InvoiceLedger
from adapter.store.records import Batch, PreparedAnswer, StoreStats
from adapter.store.support import AuditLine, NotFound
from adapter.store.timeline import dossier_keys, read_timeline
from adapter.support_bulk import BulkActions, require, why
from adapter.support_masking import masked
from adapter.support_timeline import DossierTimeline, deadline_sentence, explain
from mappings import MESSAGE_TYPES, Facility, dossier_key, read_envelope, validate_event
from mappings.deadline import Days, EventDates, local_day
from mappings.message_type import Carriage
from mappings.model import Issue, Outcome
from mappings.role import Role
from mappings.validation import dates_of

__all__ = ["BatchReport", "DossierTimeline", "MessageReport", "SupportDesk", "masked"]

_DISCARDED = Issue(
    code="discarded",
    text="support staff gave up delivering this event; it was not processed",
)


@dataclasses.dataclass(frozen=True)
class MessageReport:
    """One message as ``show`` gives it: its state, its event and answers, its failed tries."""

    message: MessageView
    event: StoredEvent
    """Masked unless asked unmasked (audited)."""
    attempts: tuple[Attempt, ...]
    """Every failed try recorded (from release 0.3; older ones only as ``last_error``)."""
    masked: bool


@dataclasses.dataclass(frozen=True)
class BatchReport:
    """What support sees of one invoice batch (no personal data: numbers and counts)."""

    batch: Batch
    invoices: int
    lines_by_outcome: dict[str, int]
    held: tuple[str, ...]
    """Event ids of the corrections of the batch's care fund the adapter holds."""


class SupportDesk(BulkActions):
    """Support operations over a store, for one facility, on the injected clock."""

    def __init__(self, store: Store, facility: Facility, clock: Clock) -> None:
        self._support = Support(store)
        self._store = store
        self._facility = facility
        self._clock = clock
        # The process's lifecycle lines tag dossiers as the daemon's do (same keyring).
        lifecycle.use_secret(store.sealer.keyring.index_secret)

    # ---- reading ----------------------------------------------------------------------------

    def dead_letters(self, limit: int = 100) -> list[MessageView]:
        """Dead letters, oldest first."""
        return self._support.dead_letters(limit)

    def dossier(self, dossier_id: str) -> list[MessageView]:
        """Every message of the EPD's dossier ``dossier_id``, in sequence order.

        ``dossier_id`` may also be the dossier as the logs show it (``d:`` and 12 hex digits,
        ``adapter.lifecycle``): the dossiers whose tag it is (one, but for a collision).
        """
        if lifecycle.is_tag(dossier_id):
            return [m for key in self.tagged(dossier_id) for m in self._support.dossier(key)]
        return self._support.dossier(dossier_key(dossier_id))

    def tagged(self, tag: str) -> list[str]:
        """The ordering keys of the dossiers whose log tag is ``tag`` (usually one)."""
        tags = lifecycle.DossierTags(self._store.sealer.keyring.index_secret)
        return [key for key in dossier_keys(self._store) if tags.of_key(key) == tag]

    def timelines(self, dossier_id: str) -> list[DossierTimeline]:
        """The dossier's messages, its timeline and why it waits (one, but for two dossiers
        with one tag); empty when the store has no message of it.

        ``dossier_id`` is the EPD's id or the dossier's log tag (``d:…``), as for ``dossier``.
        """
        tags = lifecycle.DossierTags(self._store.sealer.keyring.index_secret)
        now = self._clock.now()
        found = []
        for key in self.dossier_keys(dossier_id):
            timeline = read_timeline(self._store, key, now, _role_of)
            if timeline is None:
                continue
            # The sentence names the dossier as it was asked for: the id typed, or its tag.
            named = dossier_id if lifecycle.is_tag(dossier_id) else key.removeprefix("dossier:")
            messages = tuple(self._support.dossier(key))
            why = " ".join(
                filter(
                    None,
                    (explain(timeline.wait, named), deadline_sentence(timeline, local_day(now))),
                )
            )
            found.append(DossierTimeline(tags.of_key(key), messages, timeline, why))
        return found

    def dossier_keys(self, dossier_id: str) -> tuple[str, ...]:
        """The store's keys of a dossier named by the EPD's id or by its log tag (``d:…``)."""
        if lifecycle.is_tag(dossier_id):
            return tuple(self.tagged(dossier_id))
        return (dossier_key(dossier_id),)

    def audit_log(self, limit: int = 100) -> list[tuple[datetime, str, str, str, str | None]]:
        """The latest audit lines, newest first."""
        return self._support.audit_log(limit)

    def event(self, event_id: str) -> StoredEvent:
        """An event and its answers as stored, everything personal masked (``masked``)."""
        stored = self._support.event(event_id, self._clock.now(), audit=None)
        return dataclasses.replace(
            stored,
            payload=masked(stored.payload),
            answers=tuple(dataclasses.replace(a, body=masked(a.body)) for a in stored.answers),
        )

    def unmasked_event(
        self, event_id: str, actor: str, reason: str, os_user: str | None
    ) -> StoredEvent:
        """An event and its answers in full, decrypted: audited before anything is shown.

        The audit line names ``actor`` (the person), ``os_user`` (the account the command
        runs under, ``SUDO_USER`` when sudo was used) and ``reason``; both are required.
        """
        if not actor.strip():
            raise SupportError("--unmask needs --actor: who reads the personal data")
        if not reason.strip():
            raise SupportError("--unmask needs --reason: why the personal data is read")
        detail: dict[str, object] = {"reason": reason, "os_user": os_user}
        return self._support.event(event_id, self._clock.now(), audit=(actor, detail))

    def show(
        self,
        message_id: str,
        *,
        unmask: bool = False,
        actor: str = "",
        reason: str = "",
        os_user: str | None = None,
    ) -> MessageReport:
        """A message, its event and answers (masked, or with ``unmask`` in full and audited
        as ``unmasked_event``) and every failed try with its time and error."""
        view, attempts = self._support.message(message_id)
        if unmask:
            event = self.unmasked_event(view.event_id, actor, reason, os_user)
        else:
            event = self.event(view.event_id)
        return MessageReport(view, event, tuple(attempts), masked=not unmask)

    def audit_action(
        self,
        actor: str,
        action: str,
        target: str,
        reason: str,
        *,
        os_user: str | None = None,
        detail: Mapping[str, object] | None = None,
    ) -> None:
        """Audit an action taken outside the store (on the broker's dead-letter queue),
        before it is taken: the action needs ``actor`` and ``reason`` like the others."""
        require(actor, reason)
        audited = {**why(reason, os_user), **(detail or {})}
        self._support.record(actor, action, target, self._clock.now(), audited)

    def store_status(self, gap_alert: timedelta) -> StoreStats:
        """The store's figures as the metrics see them: messages per state, the oldest
        pending, dossiers blocked, waiting, gapped and stuck (gapped longer than
        ``gap_alert``), answers not yet published."""
        return self._store.stats(self._clock.now(), gap_alert)

    def deadlines(self, warning_days: int) -> DeadlineCounts:
        """Messages not yet received by the central application near (due within
        ``warning_days``) or past their domain deadline, today in Brussels."""
        return self._store.deadlines(Days(local_day(self._clock.now()), warning_days))

    def invoice_batch(self, batch_number: str) -> BatchReport:
        """An invoice batch as the ledger keeps it: its latest try, how many lines have each
        outcome, and the corrections held for its care fund (``SupportError`` if unknown)."""
        ledger = InvoiceLedger(self._store)
        found = ledger.batch(batch_number)
        if found is None:
            raise NotFound(f"no invoice batch {batch_number} was sent (or it was forgotten)")
        lines = ledger.batch_lines(batch_number)
        outcomes = Counter(line.outcome.value for line in lines)
        invoices = len({line.invoice_number for line in lines})
        held = tuple(ledger.still_held(found.care_fund))
        return BatchReport(found, invoices, dict(sorted(outcomes.items())), held)

    # ---- acting -----------------------------------------------------------------------------

    def replay(
        self,
        message_id: str,
        actor: str,
        corrected: str | None = None,
        *,
        reason: str | None = None,
        os_user: str | None = None,
    ) -> MessageView:
        """Put a dead letter back at the head of its dossier, unchanged or corrected.

        A correction must pass the adapter's own checks and stay the same event (same event
        id, code, dossier and number); it gets a new message id that names the one it
        replaces. ``InvalidEvent`` or ``SupportError`` say what is wrong with it. ``reason``
        and ``os_user`` go into the audit line.
        """
        new_id = dates = None
        if corrected is not None:
            dates = self._check_correction(message_id, corrected)
            new_id = str(uuid.uuid4())
        started = self._clock.monotonic()
        view = self._support.replay(
            message_id,
            actor,
            self._clock.now(),
            corrected_payload=corrected,
            new_message_id=new_id,
            corrected_dates=dates,
            audited=why(reason, os_user),
        )
        step(
            Step.REPLAYED,
            Stage.SUPPORT,
            event_id=view.event_id,
            message_id=view.message_id,
            ordering_key=view.dossier_key,
            event_code=view.event_code,
            seconds=self._clock.monotonic() - started,
            replaces=message_id if new_id is not None else None,
        )
        return view

    def discard(
        self, message_id: str, actor: str, reason: str, *, os_user: str | None = None
    ) -> MessageView:
        """Give up a dead letter: the EPD gets an ``invalid`` answer saying so."""
        started = self._clock.monotonic()
        view, answer = self._discard_one(message_id, actor, reason, why(None, os_user))
        seconds = self._clock.monotonic() - started
        for name in (Step.DISCARDED, Step.ANSWERED):
            step(
                name,
                Stage.SUPPORT,
                event_id=view.event_id,
                message_id=view.message_id,
                answer_id=answer.answer_id if name is Step.ANSWERED else None,
                ordering_key=view.dossier_key,
                event_code=view.event_code,
                seconds=seconds,
                outcome=answer.outcome.value if name is Step.ANSWERED else None,
                source=answer.source.value if name is Step.ANSWERED else None,
            )
        return view

    def _discard_one(
        self, message_id: str, actor: str, reason: str, audited: Mapping[str, object]
    ) -> tuple[MessageView, PreparedAnswer]:
        target = self._store.message(message_id)
        if target is None:
            raise NotFound(
                f"no message {message_id}: unknown, or purged after the retention period"
            )
        now = self._clock.now()
        answer = made_here(
            event_id=target.event_id,
            event_code=target.event_code,
            message_id=target.message_id,
            outcome=Outcome.INVALID,
            reason="discarded",
            issues=[_DISCARDED],
            created_at=now,
        )
        view = self._support.discard(message_id, actor, reason, now, answer, audited=audited)
        if MESSAGE_TYPES[view.event_code].carriage is Carriage.BATCH:
            # A batch given up before any answer frees its month for a corrected batch; its
            # invoices stay parts, which a new batch event may list again.
            InvoiceLedger(self._store).forget_unanswered(view.message_id)
        return view, answer

    def restore(
        self, message_id: str, actor: str, reason: str, *, os_user: str | None = None
    ) -> MessageView:
        """Make a discarded message a dead letter again, at the head of its dossier.

        Possible while the store still has it (purge has not deleted it) and nothing of its
        dossier was sent after it; then replay or discard it again. An invoice batch is
        never restored: its discard freed its month for another batch.
        """
        started = self._clock.monotonic()
        view = self._restore_one(message_id, actor, why(reason, os_user))
        step(
            Step.RESTORED,
            Stage.SUPPORT,
            event_id=view.event_id,
            message_id=view.message_id,
            ordering_key=view.dossier_key,
            event_code=view.event_code,
            seconds=self._clock.monotonic() - started,
        )
        return view

    def _restore_one(
        self, message_id: str, actor: str, audited: Mapping[str, object]
    ) -> MessageView:
        require(actor, reason=str(audited.get("reason") or ""))
        target = self._store.message(message_id)
        if target is not None and MESSAGE_TYPES[target.event_code].carriage is Carriage.BATCH:
            raise SupportError(
                f"message {message_id} is an invoice batch: its discard freed its month,"
                " send a new batch event instead"
            )
        return self._support.restore(message_id, actor, self._clock.now(), audited=audited)

    def audit_lines(
        self,
        limit: int | None = 100,
        *,
        actor: str | None = None,
        target: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[AuditLine]:
        """Audit lines matching every filter given, newest first (``until`` exclusive)."""
        return self._support.audit_lines(
            limit, actor=actor, target=target, action=action, since=since, until=until
        )

    def skip_gap(
        self,
        dossier_id: str,
        actor: str,
        *,
        reason: str | None = None,
        os_user: str | None = None,
    ) -> int:
        """Let a dossier stop waiting for a missing sequence number; returns the new head."""
        return self._support.skip_gap(
            dossier_key(dossier_id), actor, self._clock.now(), audited=why(reason, os_user)
        )

    def purge(
        self,
        older_than_days: int,
        actor: str,
        *,
        reason: str | None = None,
        os_user: str | None = None,
    ) -> dict[str, int]:
        """Delete finished events older than ``older_than_days`` days (at least 1)."""
        if older_than_days < 1:
            raise SupportError("--older-than-days must be at least 1")
        now = self._clock.now()
        return self._support.purge(
            now - timedelta(days=older_than_days), actor, now, audited=why(reason, os_user)
        )

    def _check_correction(self, message_id: str, text: str) -> EventDates:
        """The correction's deadline dates, once it passed the checks and is the same event."""
        original = self._store.message(message_id)
        if original is None:
            raise SupportError(f"no message {message_id}")
        envelope = read_envelope(text.encode())
        message_type = validate_event(envelope, self._facility)
        expected = (original.event_id, original.event_code, original.dossier_key, original.sequence)
        found = (
            envelope.event_id,
            envelope.event_code,
            message_type.ordering.key(envelope),
            envelope.sequence,
        )
        if found != expected:
            raise SupportError(
                "a correction must keep the event id, event code, dossier and sequence number"
                f" of the original ({expected[0]}, {expected[1]}, {expected[2]}, #{expected[3]})"
            )
        return dates_of(envelope, message_type)


def _role_of(event_code: str) -> Role | None:
    """The role of an event code's message type; None for a code no message type has (an
    invalid event's message)."""
    found = MESSAGE_TYPES.get(event_code)
    return found.role if found is not None else None
