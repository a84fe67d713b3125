"""The VSB XML of an invoice batch, written as a stream and validated as a stream.

A batch gathers one month's invoices for one care fund (DOMAIN.md, "Invoicing"), and a
software vendor's batch reaches 100,000 lines: as an lxml tree it takes 218 MiB, and
signxml's copy for the signature brings the peak to 548 MiB before the SOAP envelope is even
built (docs/performance.md, set H). So a batch is never a tree in the adapter:

- ``write_batch`` writes it invoice by invoice to a binary file, already in canonical form
  (C14N: no XML declaration, no whitespace between elements, one namespace declaration on
  the root, start and end tags for every element). The bytes written are then exactly the
  canonical form the enveloped signature digests, so the digest is taken while writing
  (``adapter.streamed_signature``), and the signature is appended before the closing tag;
- ``validate_batch`` checks the file against vsb-1.0.xsd with a streaming parse that frees
  each invoice once read, so memory stays flat whatever the size.

Every value of a batch is a number, a code, a date or an identifier; the writer still
escapes the three characters markup needs and refuses control characters, so a value that
escaped validation cannot break the document.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Final

from lxml import etree

from mappings import vsb_schema
from mappings.errors import SchemaViolation
from mappings.model import Facility

PREFIX: Final = "vsb"
ROOT: Final = "InvoiceBatch"
CLOSING_TAG: Final = f"</{PREFIX}:{ROOT}>".encode()
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\r\ufffe\uffff]")
_CENT: Final = Decimal("0.01")


class InvoiceKind(enum.Enum):
    """An invoice or a credit note of lines accepted before."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit-note"


class LineKind(enum.Enum):
    """A day's service, or the personal share that goes with it (even when 0)."""

    SERVICE = "service"
    PERSONAL_SHARE = "personal-share"


@dataclass(frozen=True)
class LineReference:
    """A line of an earlier invoice, which a credit note's line cancels."""

    invoice_number: str
    line_number: int


@dataclass(frozen=True)
class InvoiceLine:
    """One day of one service, or its personal share."""

    number: int
    kind: LineKind
    service_code: str
    day: date
    amount: Decimal
    for_line: int | None = None
    """A personal-share line: the service line it belongs to."""
    credits: LineReference | None = None
    """A credit note's line: the accepted line it cancels."""


@dataclass(frozen=True)
class Invoice:
    """One user's invoice (or credit note) in a batch."""

    number: str
    kind: InvoiceKind
    insz: str
    vsb_reference: str
    lines: tuple[InvoiceLine, ...]
    corrects: str | None = None
    """A correcting invoice: the invoice whose credit note was accepted in an earlier batch."""


@dataclass(frozen=True)
class BatchHead:
    """What the batch says once, before its invoices."""

    message_id: str
    created_at: datetime
    facility: Facility
    batch_number: str
    care_fund: str
    invoice_type: str
    """``reva`` or ``pvt``: whose flat fees the batch bills."""
    billing_month: str
    """``YYYY-MM``: the month this is the care fund's monthly batch for."""
    invoice_date: date
    replaces_message_id: str | None = None
    ordering_key: str | None = None
    sequence: int | None = None


@dataclass
class Written:
    """What ``write_batch`` wrote: the size, the counts, and the digest for the signature."""

    size: int = 0
    """Bytes written."""
    invoices: int = 0
    lines: int = 0
    _digest: hashlib._Hash = field(default_factory=hashlib.sha256, repr=False)

    @property
    def digest(self) -> bytes:
        """SHA-256 of the canonical form of the batch without its signature."""
        return self._digest.digest()


def write_batch(out: IO[bytes], head: BatchHead, invoices: Iterable[Invoice]) -> Written:
    """Write the unsigned batch to ``out``, stopping before the root's closing tag.

    The caller appends the signature, then ``CLOSING_TAG``. The digest covers the root's
    closing tag too (the canonical form of the whole document without its signature).
    Raises ``ValueError`` for a value with a control character.
    """
    written = Written()

    def emit(text: str) -> None:
        data = text.encode()
        out.write(data)
        written.size += len(data)
        written._digest.update(data)

    emit(_head(head))
    for invoice in invoices:
        emit(_invoice(invoice))
        written.invoices += 1
        written.lines += len(invoice.lines)
    written._digest.update(CLOSING_TAG)
    return written


def _head(head: BatchHead) -> str:
    parts = [
        f'<{PREFIX}:{ROOT} xmlns:{PREFIX}="{vsb_schema.VSB_NS}">',
        "<vsb:Header>",
        _el("MessageId", head.message_id),
        _el("ReplacesMessageId", head.replaces_message_id),
        _el("CreatedAt", head.created_at.isoformat()),
        "<vsb:Facility>",
        _el("Nihdi", head.facility.nihdi),
        _el("Hco", head.facility.hco),
        "</vsb:Facility>",
        _el("DossierId", head.ordering_key),
        _el("Sequence", None if head.sequence is None else str(head.sequence)),
        "</vsb:Header>",
        _el("BatchNumber", head.batch_number),
        _el("CareFund", head.care_fund),
        _el("InvoiceType", head.invoice_type),
        _el("BillingMonth", head.billing_month),
        _el("InvoiceDate", head.invoice_date.isoformat()),
    ]
    return "".join(parts)


def _invoice(invoice: Invoice) -> str:
    parts = [
        "<vsb:Invoice>",
        _el("InvoiceNumber", invoice.number),
        _el("Kind", invoice.kind.value),
        _el("Corrects", invoice.corrects),
        _el("Insz", invoice.insz),
        _el("VsbReference", invoice.vsb_reference),
    ]
    parts.extend(_line(line) for line in invoice.lines)
    parts.append("</vsb:Invoice>")
    return "".join(parts)


def _line(line: InvoiceLine) -> str:
    credits = ""
    if line.credits is not None:
        credits = (
            "<vsb:Credits>"
            + _el("InvoiceNumber", line.credits.invoice_number)
            + _el("LineNumber", str(line.credits.line_number))
            + "</vsb:Credits>"
        )
    return (
        "<vsb:Line>"
        + _el("LineNumber", str(line.number))
        + _el("Kind", line.kind.value)
        + _el("ServiceCode", line.service_code)
        + _el("Date", line.day.isoformat())
        + _el("Amount", str(line.amount.quantize(_CENT)))
        + _el("ForLine", None if line.for_line is None else str(line.for_line))
        + credits
        + "</vsb:Line>"
    )


def _el(name: str, value: str | None) -> str:
    if value is None:
        return ""
    if _CONTROL.search(value):
        raise ValueError(f"vsb:{name} holds a control character")
    text = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<vsb:{name}>{text}</vsb:{name}>"


def validate_batch(path: str) -> None:
    """Check a written batch file against vsb-1.0.xsd; ``SchemaViolation`` names the first
    error (element and line, never the value), in memory that does not grow with the batch.
    """
    invoice_tag = vsb_schema.qname("Invoice")
    root_tag = vsb_schema.qname(ROOT)
    complete = False
    try:
        for _event, element in _iterparse(path):
            if element.tag == invoice_tag:
                # Done with this invoice: free it and the siblings before it.
                element.clear()
                parent = element.getparent()
                while parent is not None and element.getprevious() is not None:
                    del parent[0]
            complete = element.tag == root_tag and element.getparent() is None
    except etree.XMLSyntaxError as exc:
        # Schema errors during iterparse come as syntax errors with the schema's message.
        raise SchemaViolation(f"invoice batch: {vsb_schema.masked(str(exc))}") from exc
    if not complete:
        # Without entity resolution libxml2 reports no premature end: the root's end
        # tag is the proof that the whole file was read.
        raise SchemaViolation(f"invoice batch: the file ends before </{PREFIX}:{ROOT}>")


def _iterparse(path: str) -> Iterator[tuple[str, etree._Element]]:
    schema = vsb_schema.schema()
    return iter(
        etree.iterparse(
            path,
            events=("end",),
            schema=schema,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=True,
        )
    )
