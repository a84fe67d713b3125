"""Typed readers of the invoicing events: a valid event becomes the batch model.

``read_invoice`` turns an ``invoice`` event into the ``Invoice`` of
``mappings.invoice_batch`` with what the event says of its batch; ``read_batch_close``
turns an ``invoice-batch`` event into what the sender needs to gather and head the batch.
Both take events that ``validate_event`` accepted and raise ``Unmappable`` when a value is
missing after all (the event skipped validation), never a ``KeyError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from mappings import rules
from mappings.bundle import EventBundle, Node
from mappings.invoice_batch import Invoice, InvoiceKind, InvoiceLine, LineKind, LineReference
from mappings.invoicing import fields
from mappings.mapper import Unmappable, required_text
from mappings.mappers.common import insz
from mappings.vocabulary import (
    BILLING_MONTH_EXTENSION,
    CARE_FUND_SYSTEM,
    EVENT_ID_SYSTEM,
    INVOICE_BATCH_SYSTEM,
    INVOICE_TYPE_SYSTEM,
)


@dataclass(frozen=True)
class InvoicePart:
    """One ``invoice`` event: its invoice, and what it says of the batch it belongs to.

    The sender compares the event-level fields with the batch that lists it (an invoice
    of another care fund, month or type is not of that batch).
    """

    batch_number: str
    care_fund: str
    invoice_type: str
    """``reva`` or ``pvt``."""
    billing_month: str
    """``YYYY-MM``."""
    invoice_date: date
    invoice: Invoice


@dataclass(frozen=True)
class BatchClose:
    """One ``invoice-batch`` event: the batch's head fields and its invoices' event ids."""

    batch_number: str
    care_fund: str
    invoice_type: str
    billing_month: str
    invoice_date: date
    event_ids: tuple[str, ...]
    """The ``invoice`` events of the batch, in the order the EPD listed them."""


def read_invoice(bundle: EventBundle, focus: Node) -> InvoicePart:
    """The invoice of a valid ``invoice`` event (``focus``: its Claim)."""
    lines = tuple(_line(item) for item in focus.child("item").items())
    number = fields.invoice_number(focus)
    reference = next(
        (ref for insurance in focus.child("insurance").items() for ref in _refs(insurance)),
        None,
    )
    related = next(focus.child("related").items(), None)
    invoice = Invoice(
        number=_required(number, "Claim.identifier"),
        kind=InvoiceKind(_required(fields.invoice_kind(focus), "Claim.subType")),
        insz=insz(bundle),
        vsb_reference=_required(reference, "Claim.insurance.preAuthRef"),
        lines=lines,
        corrects=(
            None
            if related is None
            else required_text(related.child("claim").child("identifier").child("value"))
        ),
    )
    return InvoicePart(
        batch_number=_extension_text(focus, INVOICE_BATCH_SYSTEM),
        care_fund=_required(
            fields.care_fund(focus.child("insurer").child("identifier")), "Claim.insurer"
        ),
        invoice_type=_required(fields.invoice_type(focus), "Claim.type"),
        billing_month=_extension_text(focus, BILLING_MONTH_EXTENSION),
        invoice_date=_date(focus.child("created")),
        invoice=invoice,
    )


def read_batch_close(bundle: EventBundle, focus: Node) -> BatchClose:
    """The batch a valid ``invoice-batch`` event closes (``focus``: its List)."""
    del bundle  # everything is in the List
    number = EventBundle.identifier(focus, INVOICE_BATCH_SYSTEM)
    [fund] = _one(focus, CARE_FUND_SYSTEM)
    [kind] = _one(focus, INVOICE_TYPE_SYSTEM)
    event_ids = tuple(
        required_text(identifier.child("value"))
        for entry in focus.child("entry").items()
        if (identifier := entry.child("item").child("identifier")).child("system").value
        == EVENT_ID_SYSTEM
    )
    return BatchClose(
        batch_number=required_text(number if number is not None else focus.child("identifier")),
        care_fund=_required(fields.care_fund(fund.child("valueIdentifier")), "List care fund"),
        invoice_type=required_text(kind.child("valueCode")),
        billing_month=_extension_text(focus, BILLING_MONTH_EXTENSION),
        invoice_date=_date(focus.child("date")),
        event_ids=event_ids,
    )


def read_invoice_document(document: Mapping[str, Any]) -> InvoicePart:
    """``read_invoice`` of a stored ``invoice`` event's document (its focus found first)."""
    bundle = EventBundle(document)
    return read_invoice(bundle, _focus(bundle))


def read_batch_document(document: Mapping[str, Any]) -> BatchClose:
    """``read_batch_close`` of a stored ``invoice-batch`` event's document."""
    bundle = EventBundle(document)
    return read_batch_close(bundle, _focus(bundle))


def _focus(bundle: EventBundle) -> Node:
    focus = bundle.focus()
    if focus is None:
        raise Unmappable("focus")
    return focus


def _line(item: Node) -> InvoiceLine:
    links = fields.for_line(item)
    found = fields.credits(item)
    amount = fields.amount(item.child("net").child("value").value)
    return InvoiceLine(
        number=_required(fields.line_number(item), str(item.path)),
        kind=LineKind(_required(fields.line_kind(item), str(item.path))),
        service_code=required_text(fields.service_code(item)),
        day=_date(item.child("servicedDate")),
        amount=_required(amount, str(item.path)).quantize(Decimal("0.01")),
        for_line=(
            _required(fields.positive_int(links[0].child("valuePositiveInt")), str(item.path))
            if links
            else None
        ),
        credits=_credits(found[0]) if found else None,
    )


def _credits(credit: Node) -> LineReference:
    parts = {ext.child("url").value: ext for ext in credit.child("extension").items()}
    invoice, line = parts.get("invoice"), parts.get("line")
    if invoice is None or line is None:
        raise Unmappable(str(credit.path))
    return LineReference(
        invoice_number=required_text(invoice.child("valueString")),
        line_number=_required(fields.positive_int(line.child("valuePositiveInt")), str(line.path)),
    )


def _refs(insurance: Node) -> list[str]:
    return [text for ref in insurance.child("preAuthRef").items() if (text := ref.text)]


def _one(resource: Node, url: str) -> list[Node]:
    found = fields.extensions(resource, url)
    if len(found) != 1:
        raise Unmappable(f"{resource.path} extension {url}")
    return found


def _extension_text(resource: Node, url: str) -> str:
    [extension] = _one(resource, url)
    return required_text(extension.child("valueString"))


def _date(node: Node) -> date:
    day = rules.parse_date(node)
    if day is None:
        raise Unmappable(str(node.path))
    return day


Value = TypeVar("Value")


def _required(value: Value | None, what: str) -> Value:
    if value is None:
        raise Unmappable(what)
    return value
