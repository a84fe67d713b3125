"""Answers to an invoice batch: what the central application acknowledged, and the outcome
of every invoice and line (rendered for the EPD by ``mappings.answers.invoice_response``).

A batch is answered twice, as the MyCareNet third-party-payer flow does: the Submit's
technical acknowledgement (931000: the file taken in, ``in-beraad``; 920999: refused before
its content was judged) and the content answer in the mailbox (931000 with every invoice's
outcome and the lines refused by R errors; 920099: refused as a whole, by a B error or by F
and R errors on 5 % or more of its service lines, DOMAIN.md "Invoicing"). ``read`` takes the
``vsb:InvoiceAcknowledgement`` and the errors, each attributed to its invoice and line by its
Location (``Invoice[<number>]``, ``Invoice[<number>]/Line[<n>]``).

The central application knows only what it was sent. The sender completes the picture with
``combine``: the invoices and lines it sent, and those it did not send — held until a credit
note is accepted, or refused by a store-level check — into the ``BatchOutcome`` rendered.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from lxml import etree

from mappings import vsb_schema
from mappings.answers.common import part_text
from mappings.invoice_batch import Invoice
from mappings.model import Issue, Outcome

ACCEPTED_CODE: Final = "931000"
"""Technical stage: the file taken in; content stage: its content accepted (perhaps with F and
R errors)."""
FILE_REFUSED_CODE: Final = "920999"
"""Technical stage: the file refused before its content was judged."""
CONTENT_REFUSED_CODE: Final = "920099"
"""Content stage: refused as a whole (a B error, or F and R errors on 5 % or more)."""

MAX_FHIR_INT: Final = 2_147_483_647
"""The largest FHIR positiveInt / unsignedInt: a line number or count beyond it names no
line the adapter sent and cannot be shown."""

# The invoice part is anything up to the closing bracket (an invoice number may hold '/');
# a line suffix that is not a plain number leaves the error on its invoice.
_LOCATION = re.compile(
    r"/?(?:InvoiceBatch/)?Invoice\[([^\[\]]{1,64})\](?:/Line\[([0-9]{1,10})\])?(?:/.*)?", re.S
)
_NON_NEGATIVE = re.compile(r"\+?0*([0-9]{1,10})")
# An adapter's issue names a line by its item's position in the EPD's Claim.
_ITEM = re.compile(r"Claim\.item\[([0-9]{1,9})\]")
_OUTCOMES: Final = {o.value: o for o in (Outcome.ACCEPTED, Outcome.IN_BERAAD, Outcome.REFUSED)}


class Stage(enum.Enum):
    """Which acknowledgement: the Submit's, or the mailbox's after the content was judged."""

    TECHNICAL = "technical"
    CONTENT = "content"


class InvoiceStatus(enum.Enum):
    """The outcome of one invoice as the EPD gets it."""

    ACCEPTED = "accepted"
    """Accepted by the care fund, perhaps without some lines (``refused_lines``)."""
    REFUSED = "refused"
    """Refused by the central application: by an F error, or with the whole batch."""
    REFUSED_BY_ADAPTER = "refused-by-adapter"
    """A store-level check refused it; it was not sent."""
    HELD = "held"
    """A correcting invoice held until its credit note is accepted; sent with a later batch."""
    PENDING = "pending"
    """Sent and taken in; no outcome yet (the technical acknowledgement), or none was given."""


@dataclass(frozen=True)
class InvoiceError:
    """One error of the central application (or of the adapter) about a batch."""

    code: str
    level: str
    """F: one invoice; R: one line; B: the whole batch (E: a plain error)."""
    text: str
    location: str | None = None
    """As the central application wrote it, or the FHIRPath of an adapter's issue."""
    invoice: str | None = None
    """The invoice its location names (None: a batch error)."""
    line: int | None = None
    """The line its location names."""


@dataclass(frozen=True)
class InvoiceResult:
    """One invoice's outcome in a content acknowledgement."""

    number: str
    accepted: bool
    refused_lines: tuple[int, ...] = ()


@dataclass(frozen=True)
class BatchAcknowledgement:
    """What the central application answered to a batch (its part of a ``vsb:Answer``)."""

    outcome: Outcome
    stage: Stage | None
    """None: the answer carried no ``vsb:InvoiceAcknowledgement``."""
    code: str | None
    """931000, 920999 or 920099; None when absent (or another)."""
    batch_number: str | None
    lines: int | None = None
    """Content stage: the batch's lines (None when absent or beyond ``MAX_FHIR_INT``)."""
    non_blocking_errors: int | None = None
    """Content stage: its F and R errors."""
    invoices: tuple[InvoiceResult, ...] = ()
    errors: tuple[InvoiceError, ...] = ()

    @property
    def refused_whole(self) -> bool:
        """The batch was refused as a whole (920999, 920099, or a refused answer)."""
        return self.code in (FILE_REFUSED_CODE, CONTENT_REFUSED_CODE) or (
            self.outcome is Outcome.REFUSED
        )


@dataclass(frozen=True)
class SentInvoice:
    """An invoice the adapter sent in the batch, with its line numbers."""

    number: str
    lines: tuple[int, ...]

    @classmethod
    def of(cls, invoice: Invoice) -> SentInvoice:
        """The invoice of the batch model as sent."""
        return cls(invoice.number, tuple(line.number for line in invoice.lines))


@dataclass(frozen=True)
class AdapterVerdict:
    """An invoice of the batch the adapter did not send: held or refused, and why."""

    number: str
    status: InvoiceStatus
    """``HELD`` or ``REFUSED_BY_ADAPTER``."""
    lines: tuple[int, ...]
    """Its line numbers in the order of its ``Claim.item``: an issue about ``Claim.item[i]``
    is shown on line ``lines[i]``."""
    issues: tuple[Issue, ...] = ()
    """Why. A plain (E) issue of a refused invoice is shown as F: it refused that invoice."""


@dataclass(frozen=True)
class InvoiceOutcome:
    """One invoice's outcome with its lines and errors, as rendered."""

    number: str
    status: InvoiceStatus
    lines: tuple[int, ...]
    refused_lines: frozenset[int] = frozenset()
    errors: tuple[InvoiceError, ...] = ()
    with_batch: bool = False
    """Refused because the whole batch was."""


@dataclass(frozen=True)
class BatchOutcome:
    """The answer to a batch: every invoice's outcome and the batch's own errors."""

    batch_number: str
    acknowledgement: BatchAcknowledgement | None
    """None: nothing was sent (every invoice held or refused by the adapter)."""
    invoices: tuple[InvoiceOutcome, ...]
    batch_errors: tuple[InvoiceError, ...] = ()
    """B errors, and errors whose location names no invoice sent in the batch."""


def read(answer: etree._Element) -> BatchAcknowledgement:
    """The acknowledgement and the errors of a ``vsb:Answer`` (valid against vsb-1.0.xsd) to a
    batch; every value the EPD could not be shown is dropped, never raised."""
    outcome = _OUTCOMES.get(part_text(answer, "Outcome") or "", Outcome.REFUSED)
    errors = tuple(_error(e) for e in answer.iterfind(vsb_schema.qname("Error")))
    part = answer.find(vsb_schema.qname("InvoiceAcknowledgement"))
    if part is None:
        return BatchAcknowledgement(outcome, None, None, None, errors=errors)
    stage = part_text(part, "Stage")
    return BatchAcknowledgement(
        outcome=outcome,
        stage=Stage(stage) if stage in ("technical", "content") else None,
        code=_known(part_text(part, "Code")),
        batch_number=part_text(part, "BatchNumber"),
        lines=_count(part_text(part, "Lines")),
        non_blocking_errors=_count(part_text(part, "NonBlockingErrors")),
        invoices=tuple(_result(r) for r in part.iterfind(vsb_schema.qname("Invoice"))),
        errors=errors,
    )


def locate(location: str | None) -> tuple[str | None, int | None]:
    """The invoice and line a central error's Location names (None, None: the batch)."""
    found = _LOCATION.fullmatch(location.strip()) if location is not None else None
    if found is None:
        return None, None
    return found.group(1), _count(found.group(2), minimum=1)


def combine(
    batch_number: str,
    acknowledgement: BatchAcknowledgement | None,
    sent: Iterable[SentInvoice],
    adapter: Iterable[AdapterVerdict] = (),
) -> BatchOutcome:
    """Every invoice's outcome: the central ``acknowledgement`` judged the ``sent`` invoices
    (None: nothing was sent), the adapter judged the rest (``adapter``: held, refused).

    Sent invoices come first, in their order, then the adapter's. An error whose location
    names no sent invoice, and every B error, is a batch error; an error's line is kept only
    when it is one of its invoice's lines. A repeated invoice number counts once.
    """
    ack = acknowledgement
    by_invoice: dict[str, list[InvoiceError]] = {}
    batch_errors: list[InvoiceError] = []
    sent_list = list(sent)
    sent_numbers = {invoice.number for invoice in sent_list}
    for error in ack.errors if ack is not None else ():
        if error.level == "B" or error.invoice not in sent_numbers:
            batch_errors.append(error)
        else:
            by_invoice.setdefault(error.invoice, []).append(error)
    results = {result.number: result for result in ack.invoices} if ack is not None else {}
    outcomes: dict[str, InvoiceOutcome] = {}
    for invoice in sent_list:
        if invoice.number not in outcomes:
            errors = by_invoice.get(invoice.number, [])
            outcomes[invoice.number] = _sent_outcome(invoice, ack, results, errors)
    for verdict in adapter:
        if verdict.status not in (InvoiceStatus.HELD, InvoiceStatus.REFUSED_BY_ADAPTER):
            raise ValueError(f"the adapter does not judge an invoice {verdict.status.value}")
        if verdict.number not in outcomes:
            outcomes[verdict.number] = _adapter_outcome(verdict)
    return BatchOutcome(batch_number, ack, tuple(outcomes.values()), tuple(batch_errors))


def _sent_outcome(
    invoice: SentInvoice,
    ack: BatchAcknowledgement | None,
    results: dict[str, InvoiceResult],
    errors: Sequence[InvoiceError],
) -> InvoiceOutcome:
    lines = set(invoice.lines)
    kept = tuple(e if e.line in lines else _without_line(e) for e in errors)
    if ack is not None and ack.refused_whole:
        return InvoiceOutcome(
            invoice.number, InvoiceStatus.REFUSED, invoice.lines, frozenset(lines), kept, True
        )
    result = results.get(invoice.number)
    if ack is None or ack.stage is not Stage.CONTENT or result is None:
        return InvoiceOutcome(invoice.number, InvoiceStatus.PENDING, invoice.lines, errors=kept)
    if not result.accepted:
        refused = frozenset(lines)
        return InvoiceOutcome(invoice.number, InvoiceStatus.REFUSED, invoice.lines, refused, kept)
    # An R error refuses its line even if the result's list forgot it.
    named = {e.line for e in kept if e.level == "R" and e.line is not None}
    refused = frozenset(lines.intersection(result.refused_lines) | named)
    return InvoiceOutcome(invoice.number, InvoiceStatus.ACCEPTED, invoice.lines, refused, kept)


def _adapter_outcome(verdict: AdapterVerdict) -> InvoiceOutcome:
    refused = verdict.status is InvoiceStatus.REFUSED_BY_ADAPTER
    errors = tuple(
        InvoiceError(
            issue.code,
            "F" if refused and issue.level == "E" else issue.level,
            issue.text,
            issue.expression,
            verdict.number,
            _item_line(issue.expression, verdict.lines),
        )
        for issue in verdict.issues
    )
    lines = frozenset(verdict.lines) if refused else frozenset()
    return InvoiceOutcome(verdict.number, verdict.status, verdict.lines, lines, errors)


def _item_line(expression: str | None, lines: tuple[int, ...]) -> int | None:
    """The line an adapter's issue names by its item's position in the EPD's Claim."""
    found = _ITEM.match(expression) if expression is not None else None
    if found is None:
        return None
    index = int(found.group(1))
    return lines[index] if index < len(lines) else None


def _without_line(error: InvoiceError) -> InvoiceError:
    if error.line is None:
        return error
    return InvoiceError(error.code, error.level, error.text, error.location, error.invoice)


def _error(element: etree._Element) -> InvoiceError:
    location = part_text(element, "Location")
    invoice, line = locate(location)
    return InvoiceError(
        code=part_text(element, "Code") or "",
        level=part_text(element, "Level") or "E",
        text=part_text(element, "Text") or "",
        location=location,
        invoice=invoice,
        line=line,
    )


def _result(element: etree._Element) -> InvoiceResult:
    refused = (_count(n.text, minimum=1) for n in element.iterfind(vsb_schema.qname("RefusedLine")))
    return InvoiceResult(
        number=part_text(element, "InvoiceNumber") or "",
        accepted=part_text(element, "Outcome") == "accepted",
        refused_lines=tuple(n for n in refused if n is not None),
    )


def _known(code: str | None) -> str | None:
    return code if code in (ACCEPTED_CODE, FILE_REFUSED_CODE, CONTENT_REFUSED_CODE) else None


def _count(text: str | None, minimum: int = 0) -> int | None:
    """A non-negative XSD integer within FHIR's range; None when absent or out of it (an
    XSD integer has no bound, and Python refuses to read one of over 4,300 digits)."""
    found = _NON_NEGATIVE.fullmatch(text.strip()) if text is not None else None
    if found is None:
        return None
    value = int(found.group(1))
    return value if minimum <= value <= MAX_FHIR_INT else None
