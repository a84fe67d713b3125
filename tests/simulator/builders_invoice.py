"""Builders of unsigned InvoiceBatch messages (header first, then the XSD's order) and the
two-step exchange of a batch: the Submit's technical answer, then the content answer
fetched (and confirmed) from the facility's mailbox."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

from simulator.contract import Contract

from .conftest import AFFILIATED, NIHDI, NS, SoapClient, SoapReply, _add, _header, _root, new_id

Signer = Callable[[etree._Element], etree._Element]

CONTRACT = Contract()
"""Both answers of every exchange are checked against vsb-1.0.xsd."""

REVA_DAY, REVA_SHARE = "771011", "779990"
PVT_DAY, PVT_SHARE = "761011", "769990"


@dataclass(frozen=True)
class Line:
    """One line: a service (``kind``) or its personal share."""

    number: int | str
    day: str
    kind: str = "service"
    code: str = REVA_DAY
    amount: str = "60.00"
    for_line: int | str | None = None
    credits: tuple[str, int] | None = None


def day_lines(
    days: list[str], first: int = 1, code: str = REVA_DAY, share: str = REVA_SHARE
) -> list[Line]:
    """For each day a service line and its personal-share line (numbered from ``first``)."""
    lines: list[Line] = []
    for position, day in enumerate(days):
        number = first + 2 * position
        lines.append(Line(number, day, code=code))
        lines.append(Line(number + 1, day, "personal-share", share, "0.00", for_line=number))
    return lines


@dataclass(frozen=True)
class Inv:
    """One invoice or credit note."""

    number: str
    reference: str
    lines: list[Line]
    insz: str = AFFILIATED
    kind: str = "invoice"
    corrects: str | None = None


@dataclass(frozen=True)
class Batch:
    """One batch's head fields and invoices."""

    number: str
    invoices: list[Inv]
    invoice_type: str = "reva"
    month: str = "2026-03"
    invoice_date: str = "2026-03-10"
    care_fund: str = "180"
    message_id: str = field(default_factory=new_id)

    def element(self) -> etree._Element:
        """The unsigned vsb:InvoiceBatch."""
        root = _root("InvoiceBatch")
        _header(root, self.message_id, None, None, NIHDI)
        _add(root, "BatchNumber", self.number)
        _add(root, "CareFund", self.care_fund)
        _add(root, "InvoiceType", self.invoice_type)
        _add(root, "BillingMonth", self.month)
        _add(root, "InvoiceDate", self.invoice_date)
        for invoice in self.invoices:
            node = _add(root, "Invoice")
            _add(node, "InvoiceNumber", invoice.number)
            _add(node, "Kind", invoice.kind)
            if invoice.corrects is not None:
                _add(node, "Corrects", invoice.corrects)
            _add(node, "Insz", invoice.insz)
            _add(node, "VsbReference", invoice.reference)
            for line in invoice.lines:
                item = _add(node, "Line")
                _add(item, "LineNumber", str(line.number))
                _add(item, "Kind", line.kind)
                _add(item, "ServiceCode", line.code)
                _add(item, "Date", line.day)
                _add(item, "Amount", line.amount)
                if line.for_line is not None:
                    _add(item, "ForLine", str(line.for_line))
                if line.credits is not None:
                    credited = _add(item, "Credits")
                    _add(credited, "InvoiceNumber", line.credits[0])
                    _add(credited, "LineNumber", str(line.credits[1]))
        return root


@dataclass(frozen=True)
class Exchange:
    """The Submit's answer and, when the file was taken in, the content answer."""

    technical: SoapReply
    content: etree._Element | None

    def code(self, answer: etree._Element | None = None) -> str:
        """The acknowledgement code of the content answer (or of ``answer``)."""
        node = self.content if answer is None else answer
        assert node is not None
        return node.findtext("v:InvoiceAcknowledgement/v:Code", namespaces=NS) or ""

    @property
    def outcome(self) -> str:
        """The content answer's outcome."""
        assert self.content is not None
        return self.content.findtext("v:Outcome", namespaces=NS) or ""

    @property
    def errors(self) -> list[tuple[str, str, str | None]]:
        """(code, level, location) of each content error."""
        assert self.content is not None
        return [
            (
                e.findtext("v:Code", namespaces=NS) or "",
                e.findtext("v:Level", namespaces=NS) or "",
                e.findtext("v:Location", namespaces=NS),
            )
            for e in self.content.findall("v:Error", NS)
        ]

    def invoice(self, number: str) -> tuple[str, list[int]]:
        """An invoice's outcome and refused lines."""
        assert self.content is not None
        for node in self.content.findall("v:InvoiceAcknowledgement/v:Invoice", NS):
            if node.findtext("v:InvoiceNumber", namespaces=NS) == number:
                refused = [int(n.text or 0) for n in node.findall("v:RefusedLine", NS)]
                return node.findtext("v:Outcome", namespaces=NS) or "", refused
        raise AssertionError(f"no result for invoice {number}")

    def count(self, name: str) -> int:
        """Lines or NonBlockingErrors of the content answer."""
        assert self.content is not None
        path = f"v:InvoiceAcknowledgement/v:{name}"
        return int(self.content.findtext(path, namespaces=NS) or -1)


def send(client: SoapClient, sign: Signer, batch: Batch, timeout: float = 10) -> Exchange:
    """Submit the batch; fetch and confirm its content answer if it was taken in."""
    reply = client.submit(sign(batch.element()), timeout=timeout)
    if reply.fault is None:
        CONTRACT.validate(reply.answer)
    if reply.fault is not None or reply.text("v:Outcome") != "in-beraad":
        return Exchange(reply, None)
    fetched = client.fetch(limit=100).answers
    (content,) = [
        a for a in fetched if a.findtext("v:InReplyTo", namespaces=NS) == batch.message_id
    ]
    CONTRACT.validate(content)
    client.confirm([content.findtext("v:AnswerId", namespaces=NS) or ""])
    return Exchange(reply, content)
