"""The invoicing ledger: every batch and line sent, its outcome, and the rules judged on them.

The store-level rules of invoicing (docs/architecture.md, "The invoicing ledger") are
functions of what was sent before, so they live in the store, next to the rows they read:

- one batch per care fund per month, but for the resend of a batch refused as a whole with
  its number, invoice type and invoice date (``month_refusal``; ``forget_unanswered`` frees
  the month of a batch whose message ended without an answer);
- an invoice number serves one invoice (``number_refusals``);
- a credit note only for lines the care fund accepted and nobody credited yet
  (``credit_refusals``);
- a correcting invoice only once its credit note was accepted: until then it is held
  (``correction_ready``, ``hold``, ``held_ready``, ``release``);
- the care fund of an invoice is the one of the person's last relayed insurance status
  (``care_fund_refusal``, ``remember_status``, ``known_status``).

This module gathers them (from ``batches``, ``batch_answers``, ``credits`` and
``statuses``) as the ledger's one import. Each function takes a SQLAlchemy
``Connection``, so the sender runs them in the transaction that records an answer
(``Store.record_answer``'s effect); ``InvoiceLedger`` runs each in a transaction of its
own for callers outside one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, datetime

from adapter.store.batch_answers import (
    CONTENT_ACCEPTED,
    CONTENT_REFUSED,
    TECHNICAL_ACCEPTED,
    TECHNICAL_REFUSED,
    forget_unanswered,
    record_content,
    record_technical,
)
from adapter.store.batches import (
    batch,
    batch_by_message,
    batch_lines,
    cents,
    invoice_lines,
    month_refusal,
    number_refusals,
    open_batch,
)
from adapter.store.credits import (
    correction_ready,
    credit_refusals,
    held_ready,
    hold,
    release,
    still_held,
)
from adapter.store.records import Batch, InvoiceResult, KnownStatus, LedgerLine
from adapter.store.sealing import BlindIndex
from adapter.store.statuses import care_fund_refusal, known_status, remember_status
from adapter.store.store import Store
from mappings.invoice_batch import BatchHead, Invoice
from mappings.model import Issue


class InvoiceLedger:
    """The ledger's functions, each in a transaction of its own (support, tests, tools).

    The sender calls the module's functions on its own connection instead, so the ledger
    changes with the answer it records. ``index`` defaults to the blind index of the
    store's keyring, taken when a status is first asked for (``ConfigError`` without one).
    """

    def __init__(self, store: Store, index: BlindIndex | None = None) -> None:
        self._store = store
        self._index = index

    @property
    def index(self) -> BlindIndex:
        """The blind index of the INSZ the statuses are kept under."""
        if self._index is None:
            self._index = self._store.sealer.blind_index()
        return self._index

    def month_refusal(self, head: BatchHead) -> Issue | None:
        """``month_refusal`` in a read transaction."""
        with self._store.connection(read_only=True) as db:
            return month_refusal(db, head)

    def open_batch(self, head: BatchHead, invoices: Iterable[Invoice], now: datetime) -> Batch:
        """``open_batch`` in a transaction."""
        with self._store.connection() as db:
            return open_batch(db, head, invoices, now)

    def record_technical(self, message_id: str, code: str, now: datetime) -> Batch | None:
        """``record_technical`` in a transaction."""
        with self._store.connection() as db:
            return record_technical(db, message_id, code, now)

    def record_content(
        self, message_id: str, code: str, results: Iterable[InvoiceResult], now: datetime
    ) -> Batch | None:
        """``record_content`` in a transaction."""
        with self._store.connection() as db:
            return record_content(db, message_id, code, results, now)

    def forget_unanswered(self, message_id: str) -> bool:
        """``forget_unanswered`` in a transaction."""
        with self._store.connection() as db:
            return forget_unanswered(db, message_id)

    def credit_refusals(self, invoice: Invoice) -> list[Issue]:
        """``credit_refusals`` in a read transaction."""
        with self._store.connection(read_only=True) as db:
            return credit_refusals(db, invoice)

    def correction_ready(self, invoice: Invoice) -> bool:
        """``correction_ready`` in a read transaction."""
        with self._store.connection(read_only=True) as db:
            return correction_ready(db, invoice)

    def hold(self, event_id: str, care_fund: str, corrects: str, now: datetime) -> bool:
        """``hold`` in a transaction."""
        with self._store.connection() as db:
            return hold(db, event_id, care_fund, corrects, now)

    def held_ready(self, care_fund: str) -> list[str]:
        """``held_ready`` in a read transaction."""
        with self._store.connection(read_only=True) as db:
            return held_ready(db, care_fund)

    def still_held(self, care_fund: str | None = None) -> list[str]:
        """``still_held`` in a read transaction."""
        with self._store.connection(read_only=True) as db:
            return still_held(db, care_fund)

    def release(self, event_ids: Collection[str], now: datetime) -> int:
        """``release`` in a transaction."""
        with self._store.connection() as db:
            return release(db, event_ids, now)

    def remember_status(
        self, insz: str, care_fund: str | None, valid_from: date | None, answered_at: datetime
    ) -> None:
        """``statuses.remember_status`` in a transaction."""
        with self._store.connection() as db:
            remember_status(db, self.index, insz, care_fund, valid_from, answered_at)

    def known_status(self, insz: str) -> KnownStatus | None:
        """``statuses.known_status`` in a read transaction."""
        with self._store.connection(read_only=True) as db:
            return known_status(db, self.index, insz)

    def care_fund_refusal(self, invoice: Invoice, care_fund: str) -> Issue | None:
        """``statuses.care_fund_refusal`` in a read transaction."""
        with self._store.connection(read_only=True) as db:
            return care_fund_refusal(db, self.index, invoice, care_fund)

    def batch(self, batch_number: str) -> Batch | None:
        """``batch`` in a read transaction."""
        with self._store.connection(read_only=True) as db:
            return batch(db, batch_number)

    def batch_by_message(self, message_id: str) -> Batch | None:
        """``batch_by_message`` in a read transaction."""
        with self._store.connection(read_only=True) as db:
            return batch_by_message(db, message_id)

    def batch_lines(self, batch_number: str) -> list[LedgerLine]:
        """``batch_lines`` in a read transaction."""
        with self._store.connection(read_only=True) as db:
            return batch_lines(db, batch_number)

    def invoice_lines(self, invoice_number: str) -> list[LedgerLine]:
        """``invoice_lines`` in a read transaction."""
        with self._store.connection(read_only=True) as db:
            return invoice_lines(db, invoice_number)


__all__ = [
    "CONTENT_ACCEPTED",
    "CONTENT_REFUSED",
    "TECHNICAL_ACCEPTED",
    "TECHNICAL_REFUSED",
    "InvoiceLedger",
    "batch",
    "batch_by_message",
    "batch_lines",
    "care_fund_refusal",
    "cents",
    "correction_ready",
    "credit_refusals",
    "forget_unanswered",
    "held_ready",
    "hold",
    "invoice_lines",
    "known_status",
    "month_refusal",
    "number_refusals",
    "open_batch",
    "record_content",
    "record_technical",
    "release",
    "remember_status",
    "still_held",
]
