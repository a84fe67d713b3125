"""The FHIR-shaped answer that the adapter publishes to the EPD for every event.

Shape (docs/events.md): a message Bundle whose id is the answer id (the EPD deduplicates
on it), a MessageHeader answering the original event id and carrying the outcome in one
extension, and one focus resource: ClaimResponse, CoverageEligibilityResponse, or an
OperationOutcome when the adapter refused the event as invalid. The answer repeats no
personal data: the EPD knows the person from its own event.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from mappings.model import Issue, Outcome
from mappings.registry import CLAIM_RESPONSE, COVERAGE_ELIGIBILITY_RESPONSE, EVENT_TYPES
from mappings.vocabulary import (
    AFFILIATION_EXTENSION,
    CARE_FUND_SYSTEM,
    CARE_FUNDS,
    DECISION_SYSTEM,
    ERROR_LEVEL_EXTENSION,
    ERROR_LOCATION_EXTENSION,
    EVENT_ID_SYSTEM,
    EVENT_SYSTEM,
    ISSUE_SYSTEM,
    OUTCOME_EXTENSION,
    VSB_ERROR_SYSTEM,
)

_NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, "urn:vsb-adapter:fhir:answer")
_INSURER: Final = {"display": "VSB central care-fund application"}
DECISIONS: Final = {
    Outcome.ACCEPTED: "agreement",
    Outcome.IN_BERAAD: "intreatment",
    Outcome.REFUSED: "refusal",
}
_DISPOSITIONS: Final = {
    Outcome.ACCEPTED: "Accepted by the central application.",
    Outcome.IN_BERAAD: "Under review (in beraad) at the care fund; the decision follows.",
    Outcome.REFUSED: "Refused by the central application.",
}


def to_fhir_answer(
    *,
    answer_id: str,
    event_id: str,
    event_code: str | None,
    outcome: Outcome,
    vsb_reference: str | None,
    issues: Sequence[Issue],
    insurance: Mapping[str, str],
    created_at: datetime,
) -> dict[str, Any]:
    """Build the answer Bundle for one outcome of one event.

    The same arguments always give the same JSON (fullUrls derive from the answer id),
    so a republished answer is identical to the first.
    """
    timestamp = (created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)).isoformat()
    focus_url = _urn(answer_id, "focus")
    if outcome is Outcome.INVALID:
        focus = _operation_outcome(issues)
    elif _answer_resource(event_code) == COVERAGE_ELIGIBILITY_RESPONSE:
        focus = _coverage_eligibility_response(event_id, outcome, issues, insurance, timestamp)
    else:
        focus = _claim_response(event_id, outcome, vsb_reference, issues, timestamp)
    response: dict[str, Any] = {
        "identifier": event_id,
        "code": "fatal-error" if outcome is Outcome.INVALID else "ok",
    }
    if outcome is Outcome.INVALID:
        response["details"] = {"reference": focus_url}
    event_coding = {"system": EVENT_SYSTEM} | ({"code": event_code} if event_code else {})
    header = {
        "resourceType": "MessageHeader",
        "extension": [{"url": OUTCOME_EXTENSION, "valueCode": outcome.value}],
        "eventCoding": event_coding,
        "source": {"name": "vsb-adapter", "endpoint": "urn:vsb-adapter"},
        "response": response,
        "focus": [{"reference": focus_url}],
    }
    return {
        "resourceType": "Bundle",
        "id": answer_id,
        "type": "message",
        "timestamp": timestamp,
        "entry": [
            {"fullUrl": _urn(answer_id, "header"), "resource": header},
            {"fullUrl": focus_url, "resource": focus},
        ],
    }


def _urn(answer_id: str, part: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{answer_id}/{part}')}"


def _answer_resource(event_code: str | None) -> str:
    event_type = EVENT_TYPES.get(event_code or "")
    return event_type.answer_resource if event_type is not None else CLAIM_RESPONSE


def _request(event_id: str) -> dict[str, Any]:
    return {"identifier": {"system": EVENT_ID_SYSTEM, "value": event_id}}


def _claim_response(
    event_id: str,
    outcome: Outcome,
    vsb_reference: str | None,
    issues: Sequence[Issue],
    timestamp: str,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "status": "active",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/claim-type",
                    "code": "institutional",
                }
            ]
        },
        "use": "preauthorization",
        "created": timestamp,
        "insurer": _INSURER,
        "request": _request(event_id),
        "outcome": "partial" if outcome is Outcome.IN_BERAAD else "complete",
        "disposition": _DISPOSITIONS[outcome],
        "preAuthRef": vsb_reference,
        "adjudication": [
            {"category": {"coding": [{"system": DECISION_SYSTEM, "code": DECISIONS[outcome]}]}}
        ],
    }
    if vsb_reference is None:
        del resource["preAuthRef"]
    if issues:
        resource["error"] = [_error(issue) for issue in issues]
    return resource


def _coverage_eligibility_response(
    event_id: str,
    outcome: Outcome,
    issues: Sequence[Issue],
    insurance: Mapping[str, str],
    timestamp: str,
) -> dict[str, Any]:
    outcomes = {
        Outcome.ACCEPTED: "complete",
        Outcome.IN_BERAAD: "partial",
        Outcome.REFUSED: "error",
    }
    resource: dict[str, Any] = {
        "resourceType": "CoverageEligibilityResponse",
        "status": "active",
        "purpose": ["validation"],
        "created": timestamp,
        "insurer": _INSURER,
        "request": _request(event_id),
        "outcome": outcomes[outcome],
        "disposition": _DISPOSITIONS[outcome],
    }
    if insurance:
        resource["insurance"] = [_insurance(insurance)]
    if issues:
        resource["error"] = [{"code": _error(issue)["code"]} for issue in issues]
    return resource


def _insurance(insurance: Mapping[str, str]) -> dict[str, Any]:
    affiliation = insurance.get("affiliation")
    care_fund = insurance.get("care_fund")
    coverage: dict[str, Any] = {"display": "VSB"}
    if care_fund is not None:
        coverage = {
            "identifier": {"system": CARE_FUND_SYSTEM, "value": care_fund},
            "display": CARE_FUNDS.get(care_fund, care_fund),
        }
    item: dict[str, Any] = {}
    if affiliation is not None:
        item["extension"] = [{"url": AFFILIATION_EXTENSION, "valueCode": affiliation}]
    item["coverage"] = coverage
    item["inforce"] = affiliation == "affiliated"
    if "valid_from" in insurance:
        item["benefitPeriod"] = {"start": insurance["valid_from"]}
    return item


def _error(issue: Issue) -> dict[str, Any]:
    extension: list[dict[str, Any]] = [{"url": ERROR_LEVEL_EXTENSION, "valueCode": issue.level}]
    if issue.expression is not None:
        extension.append({"url": ERROR_LOCATION_EXTENSION, "valueString": issue.expression})
    return {
        "extension": extension,
        "code": {"coding": [{"system": VSB_ERROR_SYSTEM, "code": issue.code}], "text": issue.text},
    }


def _operation_outcome(issues: Sequence[Issue]) -> dict[str, Any]:
    entries = [
        {
            "severity": "error",
            "code": "invalid",
            "details": {
                "coding": [{"system": ISSUE_SYSTEM, "code": issue.code}],
                "text": issue.text,
            },
            "diagnostics": issue.text,
        }
        | ({"expression": [issue.expression]} if issue.expression is not None else {})
        for issue in issues
    ]
    if not entries:
        entries = [
            {"severity": "error", "code": "invalid", "diagnostics": "The event was refused."}
        ]
    return {"resourceType": "OperationOutcome", "issue": entries}
