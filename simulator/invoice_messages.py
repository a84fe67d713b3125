"""The InvoiceBatch request as the simulator reads it (vsb-1.0.xsd, "invoicing").

A batch may hold 100,000 lines (~30 MB): it is read in one pass over the element's children,
comparing tags, instead of a ``find`` per field (an XPath-like search per line costs several
times more). The payload already passed the schema, so every required child is there and in
the XSD's order; the reader still names a missing one rather than fail obscurely.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lxml import etree

from simulator.errors import RequestError
from simulator.message_parts import VSB, Header, read_header

_P = f"{{{VSB}}}"
_INVOICE = _P + "Invoice"
_LINE = _P + "Line"


@dataclass(frozen=True, slots=True)
class LineReference:
    """The earlier line a credit-note line cancels."""

    invoice_number: str
    line_number: int


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One day of one service, or its personal-share record."""

    number: int
    kind: str
    """service | personal-share"""
    service_code: str
    day: date
    amount: Decimal
    for_line: int | None = None
    credits: LineReference | None = None


@dataclass(frozen=True, slots=True)
class Invoice:
    """One user's invoice (or credit note) in a batch."""

    number: str
    kind: str
    """invoice | credit-note"""
    corrects: str | None
    insz: str
    vsb_reference: str
    lines: tuple[InvoiceLine, ...]


@dataclass(frozen=True)
class InvoiceBatch:
    """One monthly batch ("zending") for one care fund."""

    header: Header
    batch_number: str
    care_fund: str
    invoice_type: str
    """reva | pvt"""
    billing_month: tuple[int, int]
    """(year, month)"""
    invoice_date: date
    invoices: tuple[Invoice, ...]

    @property
    def kind(self) -> str:
        """The message's element name."""
        return "InvoiceBatch"

    @property
    def line_count(self) -> int:
        """Every line of the batch, service and personal-share records both."""
        return sum(len(invoice.lines) for invoice in self.invoices)


def _day(value: str) -> date:
    # xs:date may carry a time zone suffix; the local date counts.
    return date.fromisoformat(value[:10])


def _month(value: str) -> tuple[int, int]:
    # xs:gYearMonth: YYYY-MM, perhaps with a time zone suffix.
    year, month = value[:7].split("-")
    return int(year), int(month)


def _fields(element: etree._Element) -> dict[str, etree._Element]:
    # Children by local name (each appears at most once in these types).
    return {child.tag[len(_P) :]: child for child in element if isinstance(child.tag, str)}


def _text(fields: dict[str, etree._Element], name: str) -> str:
    element = fields.get(name)
    if element is None or element.text is None:
        raise RequestError(f"missing element {name}")
    return element.text.strip()


def _optional(fields: dict[str, etree._Element], name: str) -> str | None:
    element = fields.get(name)
    return None if element is None or element.text is None else element.text.strip()


def _line(element: etree._Element) -> InvoiceLine:
    fields = _fields(element)
    for_line = _optional(fields, "ForLine")
    credits = None
    credited = fields.get("Credits")
    if credited is not None:
        inner = _fields(credited)
        credits = LineReference(_text(inner, "InvoiceNumber"), int(_text(inner, "LineNumber")))
    return InvoiceLine(
        number=int(_text(fields, "LineNumber")),
        kind=_text(fields, "Kind"),
        service_code=_text(fields, "ServiceCode"),
        day=_day(_text(fields, "Date")),
        amount=Decimal(_text(fields, "Amount")),
        for_line=None if for_line is None else int(for_line),
        credits=credits,
    )


def _invoice(element: etree._Element) -> Invoice:
    head: dict[str, str] = {}
    lines = []
    for child in element:
        if child.tag == _LINE:
            lines.append(_line(child))
        elif isinstance(child.tag, str) and child.text is not None:
            head[child.tag[len(_P) :]] = child.text.strip()
    try:
        return Invoice(
            number=head["InvoiceNumber"],
            kind=head["Kind"],
            corrects=head.get("Corrects"),
            insz=head["Insz"],
            vsb_reference=head["VsbReference"],
            lines=tuple(lines),
        )
    except KeyError as exc:
        raise RequestError(f"missing element Invoice/{exc.args[0]}") from exc


def read_invoice_batch(root: etree._Element) -> InvoiceBatch:
    """The typed batch of a schema-valid vsb:InvoiceBatch."""
    header = read_header(root)
    head: dict[str, str] = {}
    invoices = []
    for child in root:
        if child.tag == _INVOICE:
            invoices.append(_invoice(child))
        elif isinstance(child.tag, str) and child.text is not None:
            head[etree.QName(child).localname] = child.text.strip()
    try:
        return InvoiceBatch(
            header=header,
            batch_number=head["BatchNumber"],
            care_fund=head["CareFund"],
            invoice_type=head["InvoiceType"],
            billing_month=_month(head["BillingMonth"]),
            invoice_date=_day(head["InvoiceDate"]),
            invoices=tuple(invoices),
        )
    except KeyError as exc:
        raise RequestError(f"missing element {exc.args[0]}") from exc
