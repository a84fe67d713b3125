"""Turning outcomes into the answers the EPD receives (FHIR JSON, stable answer ids)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from adapter.store import PreparedAnswer
from mappings import to_fhir_answer
from mappings.model import CentralAnswer, Issue, Outcome

# Answers the adapter makes itself get ids derived from the event, so that making the same
# answer twice (a redelivered invalid event, a retried refusal) yields the same answer id.
_OUTCOME_URL = "urn:vsb-adapter:fhir:outcome"
_ANSWER_NAMESPACE = uuid.UUID("5f0c8a4e-7a51-4e43-9d0f-3c1c2a6b7e10")


def adapter_answer_id(event_id: str, reason: str) -> str:
    """A stable answer id for an answer made by the adapter about ``event_id``."""
    return str(uuid.uuid5(_ANSWER_NAMESPACE, f"{event_id}/{reason}"))


def routing_word(event_code: str | None) -> str:
    """The event code if it is safe in a routing key, else ``unknown``."""
    if event_code and re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", event_code):
        return event_code
    return "unknown"


def issues_json(issues: Sequence[Issue]) -> str | None:
    """Issues as stored JSON (their texts carry no personal data)."""
    if not issues:
        return None
    return json.dumps(
        [
            {"code": i.code, "text": i.text, "expression": i.expression, "level": i.level}
            for i in issues
        ]
    )


def issues_from_json(text: str | None) -> list[Issue]:
    """The inverse of ``issues_json``."""
    if not text:
        return []
    return [Issue(**item) for item in json.loads(text)]


def prepare(
    *,
    answer_id: str,
    event_id: str,
    event_code: str | None,
    message_id: str | None,
    outcome: Outcome,
    source: str,
    created_at: datetime,
    vsb_reference: str | None = None,
    issues: Sequence[Issue] = (),
    insurance: Mapping[str, str] | None = None,
) -> PreparedAnswer:
    """Build the FHIR answer body and wrap it for the store's outbox."""
    body = to_fhir_answer(
        answer_id=answer_id,
        event_id=event_id,
        event_code=event_code,
        outcome=outcome,
        vsb_reference=vsb_reference,
        issues=issues,
        insurance=insurance or {},
        created_at=created_at,
    )
    return PreparedAnswer(
        answer_id=answer_id,
        event_id=event_id,
        event_code=routing_word(event_code),
        message_id=message_id,
        outcome=outcome.value,
        source=source,
        body=json.dumps(body, separators=(",", ":")),
        vsb_reference=vsb_reference,
        issues_json=issues_json(issues),
    )


def from_central(
    answer: CentralAnswer, *, event_id: str, event_code: str, source: str
) -> PreparedAnswer:
    """The EPD's answer for an answer of the central application (its id kept)."""
    return prepare(
        answer_id=answer.answer_id,
        event_id=event_id,
        event_code=event_code,
        message_id=answer.in_reply_to,
        outcome=answer.outcome,
        source=source,
        created_at=answer.created_at,
        vsb_reference=answer.vsb_reference,
        issues=answer.issues,
        insurance=answer.insurance,
    )


def summarize(fhir_answer: Mapping[str, Any]) -> str:
    """One line for people: outcome, VSB reference and issue codes of a FHIR answer."""
    entries = [e.get("resource", {}) for e in fhir_answer.get("entry", [])]
    header = entries[0] if entries else {}
    outcome = next(
        (x.get("valueCode") for x in header.get("extension", []) if x.get("url") == _OUTCOME_URL),
        "?",
    )
    parts = [str(outcome)]
    codes: list[str] = []
    for resource in entries[1:]:
        if resource.get("preAuthRef"):
            parts.append(f"ref={resource['preAuthRef']}")
        for error in resource.get("error", []):
            codes += [c.get("code", "?") for c in error.get("code", {}).get("coding", [])]
        for issue in resource.get("issue", []):
            codes += [c.get("code", "?") for c in issue.get("details", {}).get("coding", [])]
        for insurance in resource.get("insurance", []):
            affiliation = [x.get("valueCode") for x in insurance.get("extension", [])]
            fund = insurance.get("coverage", {}).get("identifier", {}).get("value")
            parts.append(f"affiliation={','.join(map(str, affiliation))} fund={fund}")
    if codes:
        parts.append("issues=" + ",".join(codes))
    return "  ".join(parts)
