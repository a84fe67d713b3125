"""Answers to look-ups of an insurance status: a CoverageEligibilityResponse.

The vsb:Answer carries a ``vsb:InsuranceStatus``: the affiliation (affiliated, can-join,
cannot-join), the care fund (180 … 680) and the date from which the status holds. They
become one ``insurance`` item: its coverage is the care fund, ``inforce`` tells whether the
person is affiliated, the affiliation itself is an extension.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from lxml import etree

from mappings import vsb_schema
from mappings.answer_kind import AnswerHead, AnswerKind
from mappings.answers.common import eligibility_response, part_text
from mappings.vocabulary import AFFILIATION_EXTENSION, CARE_FUND_SYSTEM, CARE_FUNDS


@dataclass(frozen=True)
class InsuranceStatus:
    """A person's VSB insurance status as the central application answered it."""

    affiliation: str | None
    care_fund: str | None
    valid_from: str | None


def read(answer: etree._Element) -> InsuranceStatus | None:
    """The insurance status of the answer, if it carries one."""
    status = answer.find(vsb_schema.qname("InsuranceStatus"))
    if status is None:
        return None
    return InsuranceStatus(
        part_text(status, "Affiliation"),
        part_text(status, "CareFund"),
        part_text(status, "ValidFrom"),
    )


def render(head: AnswerHead, body: InsuranceStatus | None) -> dict[str, Any]:
    """The CoverageEligibilityResponse for an insurance-status outcome."""
    return eligibility_response(head, "validation", _insurance(body) if body is not None else None)


def _insurance(status: InsuranceStatus) -> dict[str, Any]:
    coverage: dict[str, Any] = {"display": "VSB"}
    if status.care_fund is not None:
        coverage = {
            "identifier": {"system": CARE_FUND_SYSTEM, "value": status.care_fund},
            "display": CARE_FUNDS.get(status.care_fund, status.care_fund),
        }
    item: dict[str, Any] = {}
    if status.affiliation is not None:
        item["extension"] = [{"url": AFFILIATION_EXTENSION, "valueCode": status.affiliation}]
    item["coverage"] = coverage
    item["inforce"] = status.affiliation == "affiliated"
    if status.valid_from is not None:
        item["benefitPeriod"] = {"start": status.valid_from}
    return item


ELIGIBILITY: Final = AnswerKind[InsuranceStatus | None](
    resource="CoverageEligibilityResponse", read=read, render=render
)
