"""The FHIR-shaped answer that the adapter publishes to the EPD for every event.

Shape (docs/events.md): a message Bundle whose id is the answer id (the EPD deduplicates
on it), a MessageHeader answering the original event id and carrying the outcome in one
extension, and one focus resource: the one the message type's answer kind renders
(ClaimResponse, CoverageEligibilityResponse, …), or an OperationOutcome when the adapter
refused the event as invalid. An invoice batch's answer has one focus per invoice. Every
answer is valid FHIR R4 and repeats no personal data: the EPD knows the person from its own
event.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC
from typing import Any, Final, TypeVar

from mappings.answer_kind import AnswerHead, AnswerKindOf
from mappings.issue_types import issue_type
from mappings.migration import Classification
from mappings.model import Issue, Outcome
from mappings.vocabulary import (
    EVENT_SYSTEM,
    ISSUE_SYSTEM,
    MIGRATION_CLASS_EXTENSION,
    OUTCOME_EXTENSION,
)

B = TypeVar("B")

_NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, "urn:vsb-adapter:fhir:answer")
SOURCE_ENDPOINT: Final = "urn:vsb-adapter"
"""``MessageHeader.source.endpoint`` of every answer (a FHIR ``url``: ``\\S*``)."""


def to_fhir_answer(
    head: AnswerHead, kind: AnswerKindOf[Any, B] | None, body: B | None
) -> dict[str, Any]:
    """Build the answer Bundle for one outcome of one event.

    ``kind`` renders the focus of a processed answer (one resource, or a list of them: each
    is a focus); an ``invalid`` outcome is always an OperationOutcome (``kind`` may then be
    None: the event code may be unknown). The same arguments always give the same JSON
    (fullUrls derive from the answer id), so a republished answer is identical to the first.
    """
    if head.created_at.tzinfo is None:
        head = _with_utc(head)
    focus_url = _urn(head.answer_id, "focus")
    if head.outcome is Outcome.INVALID:
        foci = [(focus_url, _operation_outcome(head.issues))]
    elif kind is None:
        raise ValueError(f"an {head.outcome.value} answer needs its message type's answer kind")
    else:
        rendered = kind.render(head, body)
        if isinstance(rendered, dict):
            foci = [(focus_url, rendered)]
        else:  # several foci: each its own fullUrl, by position (the same for the same body)
            foci = [(_urn(head.answer_id, f"focus/{i}"), one) for i, one in enumerate(rendered)]
        if head.classification is not None:
            found = head.classification
            foci = [(url, _with_classification(one, found)) for url, one in foci]
    response: dict[str, Any] = {
        "identifier": head.event_id,
        "code": "fatal-error" if head.outcome is Outcome.INVALID else "ok",
    }
    if head.outcome is Outcome.INVALID:
        response["details"] = {"reference": focus_url}
    event_coding = {"system": EVENT_SYSTEM} | ({"code": head.event_code} if head.event_code else {})
    header = {
        "resourceType": "MessageHeader",
        "extension": [{"url": OUTCOME_EXTENSION, "valueCode": head.outcome.value}],
        "eventCoding": event_coding,
        "source": {"name": "vsb-adapter", "endpoint": SOURCE_ENDPOINT},
        "response": response,
        "focus": [{"reference": url} for url, _ in foci],
    }
    return {
        "resourceType": "Bundle",
        "id": head.answer_id,
        "type": "message",
        "timestamp": head.created_at.isoformat(),
        "entry": [
            {"fullUrl": _urn(head.answer_id, "header"), "resource": header},
            *({"fullUrl": url, "resource": one} for url, one in foci),
        ],
    }


def _with_classification(focus: dict[str, Any], found: Classification) -> dict[str, Any]:
    extension = {
        "url": MIGRATION_CLASS_EXTENSION,
        "extension": [
            {"url": "class", "valueCode": found.kind.value},
            {"url": "reason", "valueString": found.reason},
        ],
    }
    # Placed where FHIR's JSON puts extensions, right after the resource type.
    merged = {
        "resourceType": focus["resourceType"],
        "extension": [extension, *focus.get("extension", [])],
    }
    merged.update((key, value) for key, value in focus.items() if key not in merged)
    return merged


def _with_utc(head: AnswerHead) -> AnswerHead:
    return replace(head, created_at=head.created_at.replace(tzinfo=UTC))


def _urn(answer_id: str, part: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{answer_id}/{part}')}"


def _operation_outcome(issues: tuple[Issue, ...]) -> dict[str, Any]:
    entries = [
        {
            "severity": "error",
            "code": issue_type(issue.code),
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
