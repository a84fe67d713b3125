"""What "it maps" means for an event that is not built as a tree: its typed reader reads it.

An ``invoice`` (a part) and an ``invoice-batch`` (a batch) are never built by
``build_message``: the batch writer streams them (``mappings.invoice_batch``). Tests that
map every accepted event read these with their readers instead, which raise on anything
validation should have refused, as building does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from mappings import Envelope, Facility, MessageType
from mappings.invoice_batch import CLOSING_TAG, BatchHead, Written, write_batch
from mappings.invoicing import BatchClose, InvoicePart, read_batch_document, read_invoice_document
from mappings.message_type import Carriage
from tests.support.events import example, examples_of

FACILITY = Facility(nihdi="71012314001", hco="40012345")
"""The examples' facility."""


def is_built(message_type: MessageType) -> bool:
    """Whether the type's events are built as one VSB message each (``build_message``)."""
    return message_type.carriage is Carriage.ALONE


def read_carried(envelope: Envelope, message_type: MessageType) -> InvoicePart | BatchClose:
    """The typed reading of an accepted part or batch event."""
    if message_type.carriage is Carriage.PART:
        return read_invoice_document(envelope.document)
    return read_batch_document(envelope.document)


def write_example_batch(name: str, message_type: MessageType, path: Path) -> Written:
    """Write, unsigned, the VSB InvoiceBatch an example takes part in (an invoice alone in
    a batch of its own; a batch with the example invoices it lists) to ``path``."""
    document = example(name)
    envelope = Envelope(document["id"], message_type.code, None, None, document)
    carried = read_carried(envelope, message_type)
    head_of: InvoicePart | BatchClose
    if isinstance(carried, InvoicePart):
        head_of, invoices = carried, [carried.invoice]
    else:
        parts = {
            example(other)["id"]: read_invoice_document(example(other))
            for other in examples_of("invoice")
        }
        head_of, invoices = carried, [parts[event_id].invoice for event_id in carried.event_ids]
    head = BatchHead(
        message_id=f"inv-{name}",
        created_at=datetime(2026, 11, 20, 10, tzinfo=UTC),
        facility=FACILITY,
        batch_number=head_of.batch_number,
        care_fund=head_of.care_fund,
        invoice_type=head_of.invoice_type,
        billing_month=head_of.billing_month,
        invoice_date=head_of.invoice_date,
    )
    with path.open("wb") as out:
        written = write_batch(out, head, invoices)
        out.write(CLOSING_TAG)
    return written
