"""Answers to look-ups of the increased allowance (verhoogde tegemoetkoming): a
CoverageEligibilityResponse of purpose ``benefits``.

The vsb:Answer carries a ``vsb:IncreasedAllowance``: whether the person is entitled on the
reference day and, when known, the period of the entitlement. They become the one
``insurance`` entry: coverage VSB, the period as ``benefitPeriod``, and the item
``increased-allowance`` whose benefit of that type is ``entitled`` or ``not-entitled``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from lxml import etree

from mappings import vsb_schema
from mappings.answer_kind import AnswerHead, AnswerKind
from mappings.answers.common import (
    benefits_insurance,
    eligibility_item,
    eligibility_response,
    part_text,
    required_part_text,
    xs_boolean,
    xs_date,
)
from mappings.vocabulary import INCREASED_ALLOWANCE_ITEM

ENTITLED: Final = "entitled"
NOT_ENTITLED: Final = "not-entitled"


@dataclass(frozen=True)
class IncreasedAllowance:
    """A person's increased-allowance status on the reference day, as answered."""

    entitled: bool
    valid_from: date | None = None
    valid_to: date | None = None


def read(answer: etree._Element) -> IncreasedAllowance | None:
    """The increased-allowance status of the answer, if it carries one."""
    part = answer.find(vsb_schema.qname("IncreasedAllowance"))
    if part is None:
        return None
    return IncreasedAllowance(
        entitled=xs_boolean(required_part_text(part, "Entitled")),
        valid_from=xs_date(part_text(part, "ValidFrom")),
        valid_to=xs_date(part_text(part, "ValidTo")),
    )


def entitlement_benefit(entitled: bool) -> dict[str, Any]:
    """The benefit ``increased-allowance``: ``entitled`` or ``not-entitled`` (also part of
    a personal share, which depends on it)."""
    return {
        "type": eligibility_item(INCREASED_ALLOWANCE_ITEM),
        "allowedString": ENTITLED if entitled else NOT_ENTITLED,
    }


def render(head: AnswerHead, body: IncreasedAllowance | None) -> dict[str, Any]:
    """The CoverageEligibilityResponse for an increased-allowance-status outcome."""
    insurance = None
    if body is not None:
        insurance = benefits_insurance(
            INCREASED_ALLOWANCE_ITEM,
            [entitlement_benefit(body.entitled)],
            body.valid_from,
            body.valid_to,
        )
    return eligibility_response(head, "benefits", insurance)


INCREASED_ALLOWANCE: Final = AnswerKind[IncreasedAllowance | None](
    resource="CoverageEligibilityResponse", read=read, render=render
)
