"""The central application's answer (vsb:Answer) and its XML form.

The answer's type-specific part is an ``xs:choice`` in vsb-1.0.xsd: at most one of
InsuranceStatus, IncreasedAllowance, PersonalShare, GrantedPeriod or
InvoiceAcknowledgement. ``Body`` is that choice as a union, so an answer cannot carry two of them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from lxml import etree

from simulator.message_parts import VSB


class Outcome(enum.Enum):
    """The outcome of an answer."""

    ACCEPTED = "accepted"
    IN_BERAAD = "in-beraad"
    REFUSED = "refused"


@dataclass(frozen=True)
class Error:
    """One error in an answer: a code, a level (E; F, R or B on invoicing), a text, where."""

    code: str
    text: str
    location: str | None = None
    level: str = "E"

    def to_json(self) -> dict[str, Any]:
        """The admin API's JSON shape."""
        return {
            "code": self.code,
            "level": self.level,
            "text": self.text,
            "location": self.location,
        }


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


@dataclass(frozen=True)
class InsuranceStatus:
    """The insurance status carried by a look-up's answer."""

    affiliation: str
    care_fund: str | None = None
    valid_from: str | None = None

    def add_to(self, answer: etree._Element) -> None:
        """Append the vsb:InsuranceStatus element (element order as in vsb-1.0.xsd)."""
        status = etree.SubElement(answer, f"{{{VSB}}}InsuranceStatus")
        _add(status, "Affiliation", self.affiliation)
        _add_optional(status, "CareFund", self.care_fund)
        _add_optional(status, "ValidFrom", self.valid_from)

    def to_json(self) -> dict[str, Any]:
        """The admin API's JSON shape."""
        return {
            "affiliation": self.affiliation,
            "care_fund": self.care_fund,
            "valid_from": self.valid_from,
        }


@dataclass(frozen=True)
class IncreasedAllowance:
    """Whether a person has the increased allowance on the day asked, and its span."""

    entitled: bool
    valid_from: date | None = None
    valid_to: date | None = None
    """``None`` with a ``valid_from``: no known end."""

    def add_to(self, answer: etree._Element) -> None:
        """Append the vsb:IncreasedAllowance element (Entitled, ValidFrom, ValidTo)."""
        node = etree.SubElement(answer, f"{{{VSB}}}IncreasedAllowance")
        _add(node, "Entitled", "true" if self.entitled else "false")
        _add_optional(node, "ValidFrom", _iso(self.valid_from))
        _add_optional(node, "ValidTo", _iso(self.valid_to))

    def to_json(self) -> dict[str, Any]:
        """The admin API's JSON shape."""
        return {
            "entitled": self.entitled,
            "valid_from": _iso(self.valid_from),
            "valid_to": _iso(self.valid_to),
        }


@dataclass(frozen=True)
class PersonalShare:
    """A PVT resident's personal share per day of stay on the day asked."""

    daily_amount: Decimal
    increased_allowance: bool
    valid_from: date | None = None

    def add_to(self, answer: etree._Element) -> None:
        """Append the vsb:PersonalShare element (DailyAmount, IncreasedAllowance, ValidFrom)."""
        node = etree.SubElement(answer, f"{{{VSB}}}PersonalShare")
        # Always two decimals and never an exponent: vsb:Amount is xs:decimal, 2 digits.
        _add(node, "DailyAmount", f"{self.daily_amount:.2f}")
        _add(node, "IncreasedAllowance", "true" if self.increased_allowance else "false")
        _add_optional(node, "ValidFrom", _iso(self.valid_from))

    def to_json(self) -> dict[str, Any]:
        """The admin API's JSON shape (the amount as a string, as in the XML)."""
        return {
            "daily_amount": f"{self.daily_amount:.2f}",
            "increased_allowance": self.increased_allowance,
            "valid_from": _iso(self.valid_from),
        }


@dataclass(frozen=True)
class GrantedPeriod:
    """The period an accepted PVT admission or extension was granted for."""

    start: date
    end: date | None = None
    """``None``: an open admission, no end date."""

    def add_to(self, answer: etree._Element) -> None:
        """Append the vsb:GrantedPeriod element (Start, End)."""
        node = etree.SubElement(answer, f"{{{VSB}}}GrantedPeriod")
        _add(node, "Start", self.start.isoformat())
        _add_optional(node, "End", _iso(self.end))

    def to_json(self) -> dict[str, Any]:
        """The admin API's JSON shape."""
        return {"start": self.start.isoformat(), "end": _iso(self.end)}


@dataclass(frozen=True)
class InvoiceResult:
    """One invoice's outcome in a content acknowledgement."""

    invoice_number: str
    accepted: bool
    refused_lines: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The admin API's JSON shape."""
        return {
            "invoice_number": self.invoice_number,
            "outcome": "accepted" if self.accepted else "refused",
            "refused_lines": list(self.refused_lines),
        }


@dataclass(frozen=True)
class InvoiceAcknowledgement:
    """An invoice batch's acknowledgement: technical (the Submit) or content (the mailbox)."""

    stage: str
    code: str
    batch_number: str
    lines: int | None = None
    non_blocking_errors: int | None = None
    invoices: tuple[InvoiceResult, ...] = ()

    def add_to(self, answer: etree._Element) -> None:
        """Append the vsb:InvoiceAcknowledgement element (element order as in the XSD)."""
        node = etree.SubElement(answer, f"{{{VSB}}}InvoiceAcknowledgement")
        _add(node, "Stage", self.stage)
        _add(node, "Code", self.code)
        _add(node, "BatchNumber", self.batch_number)
        _add_optional(node, "Lines", None if self.lines is None else str(self.lines))
        errors = self.non_blocking_errors
        _add_optional(node, "NonBlockingErrors", None if errors is None else str(errors))
        for result in self.invoices:
            item = etree.SubElement(node, f"{{{VSB}}}Invoice")
            _add(item, "InvoiceNumber", result.invoice_number)
            _add(item, "Outcome", "accepted" if result.accepted else "refused")
            for line in result.refused_lines:
                _add(item, "RefusedLine", str(line))

    def to_json(self) -> dict[str, Any]:
        """The admin API's JSON shape."""
        return {
            "stage": self.stage,
            "code": self.code,
            "batch_number": self.batch_number,
            "lines": self.lines,
            "non_blocking_errors": self.non_blocking_errors,
            "invoices": [result.to_json() for result in self.invoices],
        }


Body = InsuranceStatus | IncreasedAllowance | PersonalShare | GrantedPeriod | InvoiceAcknowledgement
"""The answer's type-specific part: one of the XSD's choice, or none."""

_BODY_KEYS: dict[type, str] = {
    InsuranceStatus: "insurance_status",
    IncreasedAllowance: "increased_allowance",
    PersonalShare: "personal_share",
    GrantedPeriod: "granted_period",
    InvoiceAcknowledgement: "invoice_acknowledgement",
}


@dataclass(frozen=True)
class Answer:
    """One answer; serialised the same way every time, so a redelivery is byte-identical."""

    answer_id: str
    in_reply_to: str
    created_at: datetime
    outcome: Outcome
    vsb_reference: str | None = None
    body: Body | None = None
    errors: tuple[Error, ...] = field(default=())

    @property
    def insurance_status(self) -> InsuranceStatus | None:
        """The insurance status, when the body is one."""
        return self.body if isinstance(self.body, InsuranceStatus) else None

    def to_element(self) -> etree._Element:
        """The vsb:Answer element (element order as in vsb-1.0.xsd)."""
        root = etree.Element(f"{{{VSB}}}Answer", nsmap={"vsb": VSB})
        _add(root, "AnswerId", self.answer_id)
        _add(root, "InReplyTo", self.in_reply_to)
        _add(root, "CreatedAt", self.created_at.isoformat(timespec="seconds"))
        _add(root, "Outcome", self.outcome.value)
        _add_optional(root, "VsbReference", self.vsb_reference)
        if self.body is not None:
            self.body.add_to(root)
        for error in self.errors:
            node = etree.SubElement(root, f"{{{VSB}}}Error")
            _add(node, "Code", error.code)
            _add(node, "Level", error.level)
            _add(node, "Text", error.text)
            _add_optional(node, "Location", error.location)
        return root

    def to_json(self) -> dict[str, Any]:
        """The admin API's JSON shape: every body key, ``null`` but for the one carried."""
        shown: dict[str, Any] = {
            "answer_id": self.answer_id,
            "in_reply_to": self.in_reply_to,
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "outcome": self.outcome.value,
            "vsb_reference": self.vsb_reference,
        }
        shown |= {key: None for key in _BODY_KEYS.values()}
        if self.body is not None:
            shown[_BODY_KEYS[type(self.body)]] = self.body.to_json()
        shown["errors"] = [error.to_json() for error in self.errors]
        return shown


def _add(parent: etree._Element, name: str, text: str) -> None:
    etree.SubElement(parent, f"{{{VSB}}}{name}").text = text


def _add_optional(parent: etree._Element, name: str, text: str | None) -> None:
    if text is not None:
        _add(parent, name, text)
