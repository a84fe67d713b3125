"""Answers to look-ups of a PVT resident's daily personal share: a
CoverageEligibilityResponse of purpose ``benefits``.

The vsb:Answer carries a ``vsb:PersonalShare``: the amount per day of stay in euro, whether
it is the amount with the increased allowance, and the day it applies from when known. They
become the one ``insurance`` entry: coverage VSB, ``benefitPeriod.start``, and the item
``personal-share`` with two benefits: ``personal-share`` (the amount, ``allowedMoney``) and
``increased-allowance`` (as in an increased-allowance answer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
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
from mappings.answers.increased_allowance import entitlement_benefit
from mappings.vocabulary import PERSONAL_SHARE_ITEM

CURRENCY: Final = "EUR"


@dataclass(frozen=True)
class PersonalShare:
    """A resident's daily personal share on the reference day, as answered."""

    daily_amount: Decimal
    """In euro, exactly as the answer wrote it (vsb:Amount: two decimals, not negative)."""
    increased_allowance: bool
    valid_from: date | None = None


def read(answer: etree._Element) -> PersonalShare | None:
    """The personal share of the answer, if it carries one."""
    part = answer.find(vsb_schema.qname("PersonalShare"))
    if part is None:
        return None
    return PersonalShare(
        # An xs:decimal's every lexical form (17.5, +017.50, .5) is a Decimal literal.
        daily_amount=Decimal(required_part_text(part, "DailyAmount")),
        increased_allowance=xs_boolean(required_part_text(part, "IncreasedAllowance")),
        valid_from=xs_date(part_text(part, "ValidFrom")),
    )


def money(amount: Decimal) -> dict[str, Any]:
    """A FHIR Money in euro.

    JSON has one kind of number, which the answer's serialiser writes from a float: the
    amount is converted only here, at the edge. Every amount under 10^13 euro with two
    decimals has at most 15 significant digits and so comes out as written (17.55 stays
    17.55; trailing zeros go: 17.50 is 17.5).
    """
    return {"value": float(amount), "currency": CURRENCY}


def render(head: AnswerHead, body: PersonalShare | None) -> dict[str, Any]:
    """The CoverageEligibilityResponse for a personal-share outcome."""
    insurance = None
    if body is not None:
        share = {
            "type": eligibility_item(PERSONAL_SHARE_ITEM),
            "allowedMoney": money(body.daily_amount),
        }
        insurance = benefits_insurance(
            PERSONAL_SHARE_ITEM,
            [share, entitlement_benefit(body.increased_allowance)],
            body.valid_from,
        )
    return eligibility_response(head, "benefits", insurance)


PERSONAL_SHARE: Final = AnswerKind[PersonalShare | None](
    resource="CoverageEligibilityResponse", read=read, render=render
)
