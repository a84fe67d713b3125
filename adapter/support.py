"""Support as staff see it: one implementation, shown by the CLI (and later a web console).

Each operation checks what it is given, makes the answer the EPD is owed, and runs as one
audited store transaction (``adapter.store.Support``). The CLI only parses and prints.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from adapter import lifecycle
from adapter.clock import Clock
from adapter.engine.answers import made_here
from adapter.lifecycle import Stage, Step, step
from adapter.logs import mask
from adapter.store import MessageView, Store, StoredEvent, Support, SupportError
from adapter.store.ledger import InvoiceLedger
from adapter.store.records import Batch
from adapter.store.tables import MessageRow
from mappings import MESSAGE_TYPES, Facility, dossier_key, read_envelope, validate_event
from mappings.message_type import Carriage
from mappings.model import Issue, Outcome

_DISCARDED = Issue(
    code="discarded",
    text="support staff gave up delivering this event; it was not processed",
)


_SHOWN_KEYS = frozenset(
    {
        "resourceType",
        "type",
        "id",
        "fullUrl",
        "reference",
        "url",
        "system",
        "code",
        "status",
        "use",
        "timestamp",
        "severity",
        "outcome",
        "contentType",
        "valuePositiveInt",
        "valueBoolean",
    }
)
"""Keys whose string values are structure, not a person: shown by a masked view. Every
other string (names, identifiers, free text, dates, documents) is masked: an allow-list, so
a field the contract adds later is masked until someone decides otherwise."""


def masked(text: str) -> str:
    """A stored payload or answer body with everything personal masked.

    JSON keeps its shape: strings under the keys of ``_SHOWN_KEYS`` stay, 11-digit numbers
    (INSZ, BIS) show their last two digits, every other string becomes ``***`` (a long one
    ``***(N characters)``). Text that is not JSON (a refused body) shows only its length.
    """
    try:
        data = json.loads(text)
    except ValueError:
        return f"<{len(text)} characters, not JSON: shown only with --unmask>"
    return json.dumps(_masked(data, None), indent=2, ensure_ascii=False)


def _masked(value: Any, key: str | None) -> Any:
    if isinstance(value, dict):
        return {k: _masked(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, key) for v in value]
    if not isinstance(value, str):
        return value
    if key in _SHOWN_KEYS:
        return mask(value)  # an identifier in a shown field still loses its digits
    if value.isdigit() and len(value) == 11:
        return mask(value)
    return "***" if len(value) <= 40 else f"***({len(value)} characters)"


@dataclasses.dataclass(frozen=True)
class BatchReport:
    """What support sees of one invoice batch (no personal data: numbers and counts)."""

    batch: Batch
    invoices: int
    lines_by_outcome: dict[str, int]
    held: tuple[str, ...]
    """Event ids of the corrections of the batch's care fund the adapter holds."""


class SupportDesk:
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
        prefix = dossier_key("")
        with self._store.transaction(read_only=True) as session:
            keys = session.scalars(
                select(MessageRow.ordering_key)
                .where(MessageRow.ordering_key.startswith(prefix, autoescape=True))
                .distinct()
            ).all()
        return sorted(key for key in keys if key is not None and tags.of_key(key) == tag)

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

    def invoice_batch(self, batch_number: str) -> BatchReport:
        """An invoice batch as the ledger keeps it: its latest try, how many lines have each
        outcome, and the corrections held for its care fund (``SupportError`` if unknown)."""
        ledger = InvoiceLedger(self._store)
        found = ledger.batch(batch_number)
        if found is None:
            raise SupportError(f"no invoice batch {batch_number} was sent (or it was forgotten)")
        lines = ledger.batch_lines(batch_number)
        outcomes = Counter(line.outcome.value for line in lines)
        invoices = len({line.invoice_number for line in lines})
        held = tuple(ledger.still_held(found.care_fund))
        return BatchReport(found, invoices, dict(sorted(outcomes.items())), held)

    # ---- acting -----------------------------------------------------------------------------

    def replay(self, message_id: str, actor: str, corrected: str | None = None) -> MessageView:
        """Put a dead letter back at the head of its dossier, unchanged or corrected.

        A correction must pass the adapter's own checks and stay the same event (same event
        id, code, dossier and number); it gets a new message id that names the one it
        replaces. ``InvalidEvent`` or ``SupportError`` say what is wrong with it.
        """
        new_id = None
        if corrected is not None:
            self._check_correction(message_id, corrected)
            new_id = str(uuid.uuid4())
        started = self._clock.monotonic()
        view = self._support.replay(
            message_id, actor, self._clock.now(), corrected_payload=corrected, new_message_id=new_id
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

    def discard(self, message_id: str, actor: str, reason: str) -> MessageView:
        """Give up a dead letter: the EPD gets an ``invalid`` answer saying so."""
        target = self._store.message(message_id)
        if target is None:
            raise SupportError(f"no message {message_id}")
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
        started = self._clock.monotonic()
        view = self._support.discard(message_id, actor, reason, now, answer)
        if MESSAGE_TYPES[view.event_code].carriage is Carriage.BATCH:
            # A batch given up before any answer frees its month for a corrected batch; its
            # invoices stay parts, which a new batch event may list again.
            InvoiceLedger(self._store).forget_unanswered(view.message_id)
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

    def skip_gap(self, dossier_id: str, actor: str) -> int:
        """Let a dossier stop waiting for a missing sequence number; returns the new head."""
        return self._support.skip_gap(dossier_key(dossier_id), actor, self._clock.now())

    def purge(self, older_than_days: int, actor: str) -> dict[str, int]:
        """Delete finished events older than ``older_than_days`` days (at least 1)."""
        if older_than_days < 1:
            raise SupportError("--older-than-days must be at least 1")
        now = self._clock.now()
        return self._support.purge(now - timedelta(days=older_than_days), actor, now)

    def _check_correction(self, message_id: str, text: str) -> None:
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
