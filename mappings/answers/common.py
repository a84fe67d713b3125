"""Parts of the FHIR answers that every answer kind shares."""

from __future__ import annotations

from typing import Any, Final

from lxml import etree

from mappings import vsb_schema
from mappings.answer_kind import AnswerHead
from mappings.model import Issue, Outcome
from mappings.vocabulary import (
    DATA_ABSENT_REASON_EXTENSION,
    ERROR_LEVEL_EXTENSION,
    ERROR_LOCATION_EXTENSION,
    EVENT_ID_SYSTEM,
    VSB_ERROR_SYSTEM,
)

INSURER: Final = {"display": "VSB central care-fund application"}
DISPOSITIONS: Final = {
    Outcome.ACCEPTED: "Accepted by the central application.",
    Outcome.IN_BERAAD: "Under review (in beraad) at the care fund; the decision follows.",
    Outcome.REFUSED: "Refused by the central application.",
}
PATIENT: Final = {"extension": [{"url": DATA_ABSENT_REASON_EXTENSION, "valueCode": "masked"}]}
"""The patient of an answer: FHIR requires one, the answer repeats no personal data.

The data-absent-reason ``masked`` says the patient is withheld for privacy; the EPD knows
who it is from its own event, which the answer names (``request``, the MessageHeader)."""


def timestamp(head: AnswerHead) -> str:
    """The answer's creation time as a FHIR instant."""
    return head.created_at.isoformat()


def request(head: AnswerHead) -> dict[str, Any]:
    """The reference to the event answered, by its event id."""
    return {"identifier": {"system": EVENT_ID_SYSTEM, "value": head.event_id}}


def error(issue: Issue) -> dict[str, Any]:
    """A ClaimResponse/CoverageEligibilityResponse error for one issue."""
    extension: list[dict[str, Any]] = [{"url": ERROR_LEVEL_EXTENSION, "valueCode": issue.level}]
    if issue.expression is not None:
        extension.append({"url": ERROR_LOCATION_EXTENSION, "valueString": issue.expression})
    return {
        "extension": extension,
        "code": {"coding": [{"system": VSB_ERROR_SYSTEM, "code": issue.code}], "text": issue.text},
    }


ELIGIBILITY_OUTCOMES: Final = {
    Outcome.ACCEPTED: "complete",
    Outcome.IN_BERAAD: "partial",
    Outcome.REFUSED: "error",
}
"""``CoverageEligibilityResponse.outcome`` of each outcome of a look-up."""


def part_text(part: etree._Element, local: str) -> str | None:
    """The text of the child ``local`` of an answer's part (surrounding space removed)."""
    value = part.findtext(vsb_schema.qname(local))
    return value.strip() if value is not None else None


def eligibility_response(
    head: AnswerHead, purpose: str, insurance: dict[str, Any] | None
) -> dict[str, Any]:
    """The CoverageEligibilityResponse of a look-up's outcome: ``insurance`` when the answer
    carried its part (an adapter's refusal or a bare answer has none), the errors' codes."""
    resource: dict[str, Any] = {
        "resourceType": "CoverageEligibilityResponse",
        "status": "active",
        "purpose": [purpose],
        "patient": PATIENT,
        "created": timestamp(head),
        "request": request(head),
        "outcome": ELIGIBILITY_OUTCOMES[head.outcome],
        "disposition": DISPOSITIONS[head.outcome],
        "insurer": INSURER,
    }
    if insurance is not None:
        resource["insurance"] = [insurance]
    if head.issues:
        resource["error"] = [{"code": error(issue)["code"]} for issue in head.issues]
    return resource
