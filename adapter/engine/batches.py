"""Where an invoice batch is sent: its stored invoices judged, written as a stream, submitted,
and its two answers turned into the one the EPD reads.

An ``invoice-batch`` event lists the ``invoice`` events of one care fund's month; they wait
in the store as parts (``Carriage.PART``). When the batch is claimed, ``prepare`` loads them
and judges what only the store knows (``adapter.store.ledger``): one batch per care fund per
month, the care fund of the person's last relayed insurance status, credit notes only for
accepted lines, corrections held until their credit note was accepted (and then sent with
the next batch of that fund). The invoices that pass are written, signed and submitted as a
stream (``adapter.batch_file``); the others are the adapter's verdicts, shown in every
answer of the batch beside the central application's outcomes.

The technical answer (931000: taken in, the message waits; 920999: refused) comes from
Submit, the content answer (931000 with each invoice's result, or 920099) from the mailbox.
Each is recorded with its ledger effect in one transaction (``Store`` effects): the lines'
outcomes, and the parts' messages ended with their invoice's outcome.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection

from adapter.batch_file import SignedBatch, write_signed_batch
from adapter.clock import Clock
from adapter.engine.answers import with_body
from adapter.errors import PermanentDeliveryError, TransientDeliveryError
from adapter.signing import Signer
from adapter.store import AnswerSource, Claim, MessageState, PreparedAnswer, Store, ledger
from adapter.store.judgement import Judgement, load_judgement, save_judgement, sent_invoices
from adapter.store.ledger import InvoiceLedger
from adapter.store.parts import Part, settle_parts
from adapter.store.records import InvoiceResult
from adapter.store.store import Effect
from mappings import MessageType
from mappings.answers.invoice_batch import (
    AdapterVerdict,
    BatchAcknowledgement,
    BatchOutcome,
    InvoiceStatus,
    Stage,
    combine,
)
from mappings.invoice_batch import BatchHead, Invoice
from mappings.invoicing.events import (
    BatchClose,
    InvoicePart,
    read_batch_document,
    read_invoice_document,
)
from mappings.model import CentralAnswer, Facility, Issue, Outcome

INVOICE_CODE = "invoice"
_ENTRY = "List.entry"
_EMPTY = Issue(
    "invoice-batch-empty",
    "no invoice of the batch is left to send: each one was held or refused (see each)",
    _ENTRY,
)
_PART_OUTCOMES = {
    InvoiceStatus.ACCEPTED: Outcome.ACCEPTED,
    InvoiceStatus.REFUSED: Outcome.REFUSED,
    InvoiceStatus.REFUSED_BY_ADAPTER: Outcome.REFUSED,
}
"""How an invoice's outcome ends its event's message; held and pending ones wait."""


class BatchRefused(Exception):
    """The adapter refuses the whole batch before sending it (its issues say why)."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(issue.text for issue in issues))
        self.issues = issues


class InvoicesMissing(TransientDeliveryError):
    """Some invoice events the batch lists are not in the store yet (still on their way)."""


@dataclass(frozen=True)
class PreparedBatch:
    """A batch judged by the adapter and ready to write: what goes, and what does not."""

    head: BatchHead
    invoices: tuple[Invoice, ...]
    """The invoices sent, in the batch's order (released corrections last)."""
    judgement: Judgement
    held: tuple[tuple[str, str], ...]
    """(event id, corrected invoice number) of the corrections to hold from now on."""
    released: tuple[str, ...]
    """Event ids of corrections held before that go with this batch."""
    resend: bool = False
    """Sent before under this message id and in doubt (a timeout, a crash): the same
    invoices again, judged and recorded as they were, the ledger left as it is."""


class BatchAnswers:
    """The EPD's answer to each answer of a batch, with its ledger effect."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def answered(
        self,
        answer: CentralAnswer,
        message_type: MessageType,
        *,
        event_id: str,
        source: AnswerSource,
    ) -> tuple[PreparedAnswer, Effect]:
        """The answer (every invoice and line, the adapter's verdicts beside the central
        application's outcomes) and its effect: the ledger's lines and the parts' messages."""
        ack: BatchAcknowledgement = message_type.answer.read(answer.element)
        message_id = answer.in_reply_to
        with self._store.connection(read_only=True) as db:
            found = ledger.batch_by_message(db, message_id)
            number = found.batch_number if found is not None else (ack.batch_number or "")
            judgement = load_judgement(db, number)
            sent = sent_invoices(db, number, judgement.sent)
        outcome = combine(number, ack, sent, judgement.verdicts)
        prepared = with_body(answer, message_type, outcome, event_id=event_id, source=source)
        now = self._clock.now()

        def effect(db: Connection) -> None:
            if ack.code is None:
                return
            if ack.stage is Stage.TECHNICAL:
                ledger.record_technical(db, message_id, ack.code, now)
            else:
                results = [
                    InvoiceResult(r.number, r.accepted, frozenset(r.refused_lines))
                    for r in ack.invoices
                ]
                ledger.record_content(db, message_id, ack.code, results, now)
            _settle(db, outcome, judgement, now)

        return prepared, effect


class BatchDelivery:
    """Judges an invoice batch against the store, then writes it signed for its Submit."""

    def __init__(
        self, store: Store, signer: Signer, facility: Facility, clock: Clock, directory: Path
    ) -> None:
        self._store = store
        self._ledger = InvoiceLedger(store)
        self._signer = signer
        self._facility = facility
        self._clock = clock
        self._directory = directory
        self.answers = BatchAnswers(store, clock)

    def prepare(self, claim: Claim) -> PreparedBatch:
        """The batch of ``claim`` judged; ``BatchRefused``, or ``InvoicesMissing`` to wait."""
        close = read_batch_document(json.loads(claim.payload))
        head = BatchHead(
            message_id=claim.message_id,
            created_at=self._clock.now(),
            facility=self._facility,
            batch_number=close.batch_number,
            care_fund=close.care_fund,
            invoice_type=close.invoice_type,
            billing_month=close.billing_month,
            invoice_date=close.invoice_date,
            replaces_message_id=claim.replaces_message_id,
            ordering_key=claim.ordering_key,
            sequence=claim.sequence,
        )
        if self._ledger.batch_by_message(claim.message_id) is not None:
            # Its answer may even be stored already (the mailbox's content answer came
            # while the Submit timed out): judging it again would refuse its own invoices.
            return self._as_sent(head)
        refusal = self._ledger.month_refusal(head)
        if refusal is not None:
            raise BatchRefused([refusal])
        ready = self._ledger.held_ready(close.care_fund)
        released = tuple(event_id for event_id in ready if event_id not in close.event_ids)
        sent: list[Invoice] = []
        verdicts: list[AdapterVerdict] = []
        held: list[tuple[str, str]] = []
        events: dict[str, str] = {}
        parts = [*self._listed(close), *self._released(released)]
        # Every invoice judged in one read: a transaction per rule and invoice cost 1.6 s
        # for 1,613 invoices (docs/performance.md, set J).
        with self._store.connection(read_only=True) as db:
            for event_id, part in parts:
                invoice = part.invoice
                events[invoice.number] = event_id
                lines = tuple(line.number for line in invoice.lines)
                issues = self._refusals(db, head, invoice)
                if issues:
                    status = InvoiceStatus.REFUSED_BY_ADAPTER
                    verdicts.append(AdapterVerdict(invoice.number, status, lines, tuple(issues)))
                elif invoice.corrects is not None and not ledger.correction_ready(db, invoice):
                    status = InvoiceStatus.HELD
                    verdicts.append(
                        AdapterVerdict(invoice.number, status, lines, (_held(invoice),))
                    )
                    if event_id not in released:
                        held.append((event_id, invoice.corrects))
                else:
                    sent.append(invoice)
        if not sent:
            raise BatchRefused([_EMPTY])
        judgement = Judgement(events, tuple(i.number for i in sent), tuple(verdicts))
        return PreparedBatch(head, tuple(sent), judgement, tuple(held), released)

    def _as_sent(self, head: BatchHead) -> PreparedBatch:
        """The batch exactly as it was sent under ``head.message_id``, for its resend."""
        with self._store.connection(read_only=True) as db:
            judgement = load_judgement(db, head.batch_number)
        event_ids = [judgement.events[number] for number in judgement.sent]
        stored = self._store.parts(event_ids)
        invoices = []
        for event_id in event_ids:
            payload = _readable(stored[event_id]).payload
            invoices.append(read_invoice_document(json.loads(payload or "{}")).invoice)
        return PreparedBatch(head, tuple(invoices), judgement, (), (), resend=True)

    @contextmanager
    def written(self, batch: PreparedBatch) -> Iterator[SignedBatch]:
        """The batch recorded as sending, and written signed to a file (deleted after)."""
        if not batch.resend:
            self._record_sending(batch)
        with write_signed_batch(
            batch.head, batch.invoices, self._signer, self._directory
        ) as signed:
            yield signed

    def _record_sending(self, batch: PreparedBatch) -> None:
        now = self._clock.now()
        with self._store.connection() as db:
            ledger.open_batch(db, batch.head, batch.invoices, now)
            for event_id, corrects in batch.held:
                ledger.hold(db, event_id, batch.head.care_fund, corrects, now)
            ledger.release(db, batch.released, now)
            save_judgement(db, batch.head.batch_number, batch.judgement)

    def _listed(self, close: BatchClose) -> list[tuple[str, InvoicePart]]:
        stored = self._store.parts(close.event_ids)
        missing = [event_id for event_id in close.event_ids if event_id not in stored]
        if missing:
            raise InvoicesMissing(
                f"{len(missing)} of the batch's {len(close.event_ids)} invoice events are not"
                f" stored yet (first: {missing[0]}); the batch waits for them"
            )
        issues: list[Issue] = []
        found: list[tuple[str, InvoicePart]] = []
        for event_id in close.event_ids:
            part = _readable(stored[event_id])
            problem = _not_waiting(part)
            if problem is None:
                invoice_part = read_invoice_document(json.loads(part.payload or "{}"))
                problem = _of_another_batch(close, invoice_part)
                found.append((event_id, invoice_part))
            if problem is not None:
                issues.append(Issue("invoice-batch-event", f"event {event_id} {problem}", _ENTRY))
        if issues:
            raise BatchRefused(issues)
        return found

    def _released(self, event_ids: tuple[str, ...]) -> list[tuple[str, InvoicePart]]:
        if not event_ids:
            return []
        stored = self._store.parts(event_ids)
        return [
            (event_id, read_invoice_document(json.loads(part.payload or "{}")))
            for event_id in event_ids
            if (part := stored.get(event_id)) is not None
            and _readable(part).state is MessageState.PART
        ]

    def _refusals(self, db: Connection, head: BatchHead, invoice: Invoice) -> list[Issue]:
        issues = ledger.number_refusals(db, head, [invoice])
        status = ledger.care_fund_refusal(db, self._ledger.index, invoice, head.care_fund)
        if status is not None:
            issues.append(status)
        return issues + ledger.credit_refusals(db, invoice)


def _settle(db: Connection, outcome: BatchOutcome, judgement: Judgement, now: datetime) -> None:
    """End the parts' messages of the invoices decided (those still parts only)."""
    ended = {
        judgement.events[invoice.number]: _PART_OUTCOMES[invoice.status]
        for invoice in outcome.invoices
        if invoice.status in _PART_OUTCOMES and invoice.number in judgement.events
    }
    if ended:
        settle_parts(db, ended, now)


def _readable(part: Part) -> Part:
    if part.unreadable is not None:
        # A key missing from the keyring: support fixes it and replays the batch.
        raise PermanentDeliveryError(f"stored invoice {part.event_id}: {part.unreadable}")
    return part


def _held(invoice: Invoice) -> Issue:
    return Issue(
        "invoice-correction-held",
        f"held: no credit note of invoice {invoice.corrects} is accepted yet; this correction"
        " goes with the first batch of this care fund after one is",
        "Claim.related[0]",
    )


def _not_waiting(part: Part) -> str | None:
    """Why a listed event cannot go in the batch; None if it is an invoice waiting for one."""
    if part.event_code != INVOICE_CODE:
        return f"is a {part.event_code or 'refused'} event, not an invoice"
    if part.state is MessageState.PART:
        return None
    if part.state is MessageState.DONE:
        return "was refused as invalid or went with another batch: send a new invoice event"
    return f"is not waiting for a batch ({part.state})"


def _of_another_batch(close: BatchClose, part: InvoicePart) -> str | None:
    for name, ours, theirs in (
        ("batch number", close.batch_number, part.batch_number),
        ("care fund", close.care_fund, part.care_fund),
        ("invoice type", close.invoice_type, part.invoice_type),
        ("billing month", close.billing_month, part.billing_month),
        ("invoice date", close.invoice_date, part.invoice_date),
    ):
        if theirs != ours:
            return f"has {name} {theirs}, the batch {ours}"
    return None
