"""invoice-batch (List code invoice-batch) -> vsb:InvoiceBatch, written as a stream.

The event closes a batch: its List names the batch's ``invoice`` events by event id. When
its turn comes (one batch in processing per care fund), the sender reads it with
``mappings.invoicing.read_batch_close``, loads the parts, and writes, signs and validates
the batch as a stream (``mappings.invoice_batch``): a batch reaches 100,000 lines and is
never an lxml tree.
"""

from __future__ import annotations

from lxml import etree

from mappings.answers.invoice_response import INVOICE_BATCH
from mappings.bundle import EventBundle, Node
from mappings.invoicing.checks import batch_issues
from mappings.mapper import Mapper, Unmappable
from mappings.message_type import Carriage, MessageType
from mappings.model import MessageContext
from mappings.ordering import BY_CARE_FUND
from mappings.role import LOOKUP


def build(bundle: EventBundle, batch: Node, context: MessageContext, root: etree._Element) -> None:
    """Never called for a batch: it is written as a stream."""
    del bundle, batch, context, root
    raise Unmappable(
        "an invoice batch is written as a stream by the batch writer, never built as a tree"
    )


MESSAGE_TYPE = MessageType(
    code="invoice-batch",
    message_kind="InvoiceBatch",
    request=Mapper(focus_type="List", check=batch_issues, build=build),
    answer=INVOICE_BATCH,
    ordering=BY_CARE_FUND,
    role=LOOKUP,
    carriage=Carriage.BATCH,
)
