"""invoice (Claim use=claim) -> one vsb:Invoice of its batch's vsb:InvoiceBatch.

An invoice is checked at ingest and stored as a part of its batch: never sent alone, never
built as a tree. When the ``invoice-batch`` event that lists it is sent, the sender reads it
with ``mappings.invoicing.read_invoice`` and streams it into the batch
(``mappings.invoice_batch.write_batch``).
"""

from __future__ import annotations

from lxml import etree

from mappings.answers.invoice_response import INVOICE_BATCH
from mappings.bundle import EventBundle, Node
from mappings.invoicing.checks import invoice_issues
from mappings.mapper import Mapper, Unmappable
from mappings.message_type import Carriage, MessageType
from mappings.model import MessageContext
from mappings.ordering import UNORDERED
from mappings.role import LOOKUP


def build(bundle: EventBundle, claim: Node, context: MessageContext, root: etree._Element) -> None:
    """Never called for a part: its batch is written as a stream."""
    del bundle, claim, context, root
    raise Unmappable("an invoice is written as a stream by the batch writer, never built as a tree")


MESSAGE_TYPE = MessageType(
    code="invoice",
    message_kind="InvoiceBatch",
    request=Mapper(focus_type="Claim", check=invoice_issues, build=build),
    answer=INVOICE_BATCH,
    # Its number is used up like a look-up's and never waited on (it is never sent alone).
    ordering=UNORDERED,
    role=LOOKUP,
    carriage=Carriage.PART,
)
