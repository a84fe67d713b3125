"""The central application's answer (vsb:Answer) and its XML form."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree

from simulator.messages import VSB


class Outcome(enum.Enum):
    """The outcome of an answer."""

    ACCEPTED = "accepted"
    IN_BERAAD = "in-beraad"
    REFUSED = "refused"


@dataclass(frozen=True)
class Error:
    """One error in an answer: a code, a level (always E here), a text, where it is about."""

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


@dataclass(frozen=True)
class InsuranceStatus:
    """The insurance status carried by a look-up's answer."""

    affiliation: str
    care_fund: str | None = None
    valid_from: str | None = None


@dataclass(frozen=True)
class Answer:
    """One answer; serialised the same way every time, so a redelivery is byte-identical."""

    answer_id: str
    in_reply_to: str
    created_at: datetime
    outcome: Outcome
    vsb_reference: str | None = None
    insurance_status: InsuranceStatus | None = None
    errors: tuple[Error, ...] = field(default=())

    def to_element(self) -> etree._Element:
        """The vsb:Answer element (element order as in vsb-1.0.xsd)."""
        root = etree.Element(f"{{{VSB}}}Answer", nsmap={"vsb": VSB})
        _add(root, "AnswerId", self.answer_id)
        _add(root, "InReplyTo", self.in_reply_to)
        _add(root, "CreatedAt", self.created_at.isoformat(timespec="seconds"))
        _add(root, "Outcome", self.outcome.value)
        if self.vsb_reference is not None:
            _add(root, "VsbReference", self.vsb_reference)
        if self.insurance_status is not None:
            status = etree.SubElement(root, f"{{{VSB}}}InsuranceStatus")
            _add(status, "Affiliation", self.insurance_status.affiliation)
            if self.insurance_status.care_fund is not None:
                _add(status, "CareFund", self.insurance_status.care_fund)
            if self.insurance_status.valid_from is not None:
                _add(status, "ValidFrom", self.insurance_status.valid_from)
        for error in self.errors:
            node = etree.SubElement(root, f"{{{VSB}}}Error")
            _add(node, "Code", error.code)
            _add(node, "Level", error.level)
            _add(node, "Text", error.text)
            if error.location is not None:
                _add(node, "Location", error.location)
        return root

    def to_json(self) -> dict[str, Any]:
        """The admin API's JSON shape."""
        status = self.insurance_status
        return {
            "answer_id": self.answer_id,
            "in_reply_to": self.in_reply_to,
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "outcome": self.outcome.value,
            "vsb_reference": self.vsb_reference,
            "insurance_status": None
            if status is None
            else {
                "affiliation": status.affiliation,
                "care_fund": status.care_fund,
                "valid_from": status.valid_from,
            },
            "errors": [error.to_json() for error in self.errors],
        }


def _add(parent: etree._Element, name: str, text: str) -> None:
    etree.SubElement(parent, f"{{{VSB}}}{name}").text = text
