"""What the central application keeps of invoicing, per facility: the batches (to refuse a
second one for a month and to take a refused one back under its number), the invoices and
lines accepted (what a credit note may cancel, what counts as a duplicate), and which
invoices have an accepted credit note (what a correcting invoice may name).

Changed only under the store's lock (``InvoiceDesk``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from simulator.population import mask_insz


class BatchState(enum.StrEnum):
    """Where a batch stands."""

    ACCEPTED = "accepted"
    REFUSED = "refused"
    """Refused as a whole: it may be resent under the same number."""


@dataclass
class BatchRecord:
    """One batch taken in (a file refused at the technical stage is not kept)."""

    number: str
    care_fund: str
    invoice_type: str
    billing_month: tuple[int, int]
    invoice_date: date
    message_id: str
    state: BatchState

    def to_json(self) -> dict[str, Any]:
        """The admin API's JSON shape."""
        year, month = self.billing_month
        return {
            "number": self.number,
            "care_fund": self.care_fund,
            "invoice_type": self.invoice_type,
            "billing_month": f"{year:04d}-{month:02d}",
            "invoice_date": self.invoice_date.isoformat(),
            "message_id": self.message_id,
            "state": self.state.value,
        }


@dataclass
class LedgerLine:
    """An accepted line."""

    number: int
    kind: str
    service_code: str
    day: date
    amount: Decimal
    credited: bool = False

    def to_json(self) -> dict[str, Any]:
        """The admin API's JSON shape."""
        return {
            "line": self.number,
            "kind": self.kind,
            "service_code": self.service_code,
            "date": self.day.isoformat(),
            "amount": f"{self.amount:.2f}",
            "state": "credited" if self.credited else "accepted",
        }


@dataclass
class LedgerInvoice:
    """An accepted invoice or credit note with its accepted lines."""

    number: str
    kind: str
    insz: str
    vsb_reference: str
    batch_number: str
    corrects: str | None
    lines: dict[int, LedgerLine]

    def to_json(self) -> dict[str, Any]:
        """The admin API's JSON shape (INSZ masked as the history views mask it)."""
        return {
            "invoice_number": self.number,
            "kind": self.kind,
            "insz": mask_insz(self.insz),
            "vsb_reference": self.vsb_reference,
            "batch_number": self.batch_number,
            "corrects": self.corrects,
            "lines": [line.to_json() for line in self.lines.values()],
        }


DayKey = tuple[str, date, str]
"""(INSZ, day, service code): a service billed once unless credited."""


@dataclass
class FacilityLedger:
    """One facility's batches and accepted invoices."""

    batches: dict[str, BatchRecord] = field(default_factory=dict)
    invoices: dict[str, LedgerInvoice] = field(default_factory=dict)
    billed: set[DayKey] = field(default_factory=set)
    """Accepted service lines not credited."""
    credit_notes: dict[str, str] = field(default_factory=dict)
    """Invoice number → the batch number of the accepted credit note crediting it."""

    def month_taken(self, care_fund: str, month: tuple[int, int], number: str) -> bool:
        """Whether another batch not refused as a whole holds this fund and month."""
        return any(
            batch.care_fund == care_fund
            and batch.billing_month == month
            and batch.state is not BatchState.REFUSED
            and batch.number != number
            for batch in self.batches.values()
        )

    def line(self, invoice_number: str, line_number: int) -> tuple[LedgerInvoice, LedgerLine]:
        """The accepted invoice and line named, or ``KeyError``."""
        invoice = self.invoices[invoice_number]
        return invoice, invoice.lines[line_number]
