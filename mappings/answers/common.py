"""Parts of the FHIR answers that answer kinds share, and the typed values of an answer's part."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Final

from lxml import etree

from mappings import vsb_schema
from mappings.answer_kind import AnswerHead
from mappings.errors import AnswerFormatError
from mappings.model import Issue, Outcome
from mappings.vocabulary import (
    DATA_ABSENT_REASON_EXTENSION,
    ELIGIBILITY_ITEM_SYSTEM,
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

# xs:date is YYYY-MM-DD with an optional time zone; a year beyond 9999 (or before year 1)
# is valid XSD but no calendar date Python or FHIR can hold.
_XS_DATE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(Z|[+-][0-9]{2}:[0-9]{2})?")


def part_text(part: etree._Element, local: str) -> str | None:
    """The text of the child ``local`` of an answer's part (surrounding space removed)."""
    value = part.findtext(vsb_schema.qname(local))
    return value.strip() if value is not None else None


def required_part_text(part: etree._Element, local: str) -> str:
    """``part_text`` of a child vsb-1.0.xsd requires (``AnswerFormatError`` if absent: the
    answer was not validated)."""
    value = part_text(part, local)
    if value is None:
        raise AnswerFormatError(f"the answer's {etree.QName(part).localname} has no {local}")
    return value


def xs_boolean(text: str) -> bool:
    """An xs:boolean of an answer valid against vsb-1.0.xsd (``true``/``1``, ``false``/``0``)."""
    return text in ("true", "1")


def xs_date(text: str | None) -> date | None:
    """The day of an xs:date as written (a time zone is dropped, as for event dates); None
    when absent or when its year is outside 1 to 9999 (no FHIR date can carry it: a bound
    that far away says no more than an open one)."""
    found = _XS_DATE.fullmatch(text) if text is not None else None
    if found is None:
        return None
    try:
        return date.fromisoformat(found.group(1))
    except ValueError:  # year 0000 (XSD 1.1 allows it), or no such day
        return None


def eligibility_item(code: str) -> dict[str, Any]:
    """A CodeableConcept of ``urn:vsb-adapter:fhir:eligibility-item``."""
    return {"coding": [{"system": ELIGIBILITY_ITEM_SYSTEM, "code": code}]}


def benefits_insurance(
    item: str, benefits: list[dict[str, Any]], start: date | None, end: date | None = None
) -> dict[str, Any]:
    """The ``insurance`` entry of a benefits look-up: VSB, the period the answer holds for,
    and the one item asked with its benefits."""
    insurance: dict[str, Any] = {"coverage": {"display": "VSB"}}
    period = {
        name: day.isoformat() for name, day in (("start", start), ("end", end)) if day is not None
    }
    if period:  # FHIR allows no empty element
        insurance["benefitPeriod"] = period
    insurance["item"] = [{"category": eligibility_item(item), "benefit": benefits}]
    return insurance


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
