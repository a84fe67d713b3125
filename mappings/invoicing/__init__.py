"""The EPD's invoicing events: their rules (``checks``) and their typed readers (``events``).

Two event codes (docs/events.md, "Invoicing"): ``invoice``, one user's invoice or credit
note, stored as a part of its batch; ``invoice-batch``, which closes the batch and lists its
invoices by event id. The readers turn a valid event into the batch model of
``mappings.invoice_batch``, which the sender streams into one VSB InvoiceBatch.
"""

from __future__ import annotations

from mappings.invoicing.checks import batch_issues, invoice_issues
from mappings.invoicing.events import (
    BatchClose,
    InvoicePart,
    read_batch_close,
    read_batch_document,
    read_invoice,
    read_invoice_document,
)

__all__ = [
    "BatchClose",
    "InvoicePart",
    "batch_issues",
    "invoice_issues",
    "read_batch_close",
    "read_batch_document",
    "read_invoice",
    "read_invoice_document",
]
