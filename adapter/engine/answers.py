"""Turning outcomes into the answers the EPD receives (FHIR JSON, stable answer ids)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from adapter.store import AnswerSource, PreparedAnswer
from mappings import (
    MESSAGE_TYPES,
    AnswerHead,
    AnswerKind,
    MessageType,
    classify_event,
    read_envelope,
    to_fhir_answer,
)
from mappings.migration import Classification
from mappings.model import CentralAnswer, Issue, Outcome

# Answers the adapter makes itself get ids derived from the event, so that making the same
# answer twice (a redelivered invalid event, a retried refusal) yields the same answer id.
_OUTCOME_URL = "urn:vsb-adapter:fhir:outcome"
_CLASS_URL = "urn:vsb-adapter:fhir:migration-class"
_AFFILIATION = "urn:vsb-adapter:fhir:affiliation"
_ANSWER_NAMESPACE = uuid.UUID("5f0c8a4e-7a51-4e43-9d0f-3c1c2a6b7e10")


def adapter_answer_id(event_id: str, reason: str) -> str:
    """A stable answer id for an answer made by the adapter about ``event_id``."""
    return str(uuid.uuid5(_ANSWER_NAMESPACE, f"{event_id}/{reason}"))


def routing_word(event_code: str | None) -> str:
    """The event code if it is safe in a routing key, else ``unknown``."""
    if event_code and re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", event_code):
        return event_code
    return "unknown"


def made_here(
    *,
    event_id: str,
    event_code: str | None,
    message_id: str | None,
    outcome: Outcome,
    reason: str,
    issues: Sequence[Issue],
    created_at: datetime,
) -> PreparedAnswer:
    """An answer the adapter makes itself: an invalid event, a conflict, a refused
    modification, a discard. Its id derives from ``event_id`` and ``reason``, so the same
    answer made twice has the same id."""
    head = AnswerHead(
        answer_id=adapter_answer_id(event_id, reason),
        event_id=event_id,
        event_code=event_code,
        outcome=outcome,
        vsb_reference=None,
        issues=tuple(issues),
        created_at=created_at,
    )
    message_type = MESSAGE_TYPES.get(event_code or "")
    kind = message_type.answer if message_type is not None else None
    return _prepared(head, kind, None, message_id=message_id, source=AnswerSource.ADAPTER)


def from_central(
    answer: CentralAnswer,
    message_type: MessageType,
    *,
    event_id: str,
    source: AnswerSource,
    classification: Classification | None = None,
) -> PreparedAnswer:
    """The EPD's answer for an answer of the central application (its id kept).

    The message type's answer kind reads its own part of the answer (an insurance status…)
    and renders the FHIR focus; the head is common, with the event's migration class when
    its type has one (``mappings.classify_event``).
    """
    body = message_type.answer.read(answer.element)
    return with_body(
        answer, message_type, body, event_id=event_id, source=source, classification=classification
    )


def with_body(
    answer: CentralAnswer,
    message_type: MessageType,
    body: Any,
    *,
    event_id: str,
    source: AnswerSource,
    classification: Classification | None = None,
) -> PreparedAnswer:
    """``from_central`` with the typed body given: read, then completed by the engine (an
    invoice batch's acknowledgement with the adapter's own verdicts)."""
    head = AnswerHead(
        answer_id=answer.answer_id,
        event_id=event_id,
        event_code=message_type.code,
        outcome=answer.outcome,
        vsb_reference=answer.vsb_reference,
        issues=answer.issues,
        created_at=answer.created_at,
        classification=classification,
    )
    return _prepared(head, message_type.answer, body, message_id=answer.in_reply_to, source=source)


def classified(message_type: MessageType, payload: str | None) -> Classification | None:
    """The migration class of a stored event, for its answers (None for types without)."""
    if message_type.request.classify is None or payload is None:
        return None  # most types: the payload, perhaps megabytes, is not parsed again
    return classify_event(read_envelope(payload.encode()))


def _prepared(
    head: AnswerHead,
    kind: AnswerKind[Any] | None,
    body: Any,
    *,
    message_id: str | None,
    source: AnswerSource,
) -> PreparedAnswer:
    fhir = to_fhir_answer(head, kind, body)
    return PreparedAnswer(
        answer_id=head.answer_id,
        event_id=head.event_id,
        event_code=routing_word(head.event_code),
        message_id=message_id,
        outcome=head.outcome,
        source=source,
        body=json.dumps(fhir, separators=(",", ":")),
        vsb_reference=head.vsb_reference,
        issues=head.issues,
    )


def outcome_of(fhir_answer: Mapping[str, Any]) -> str | None:
    """The outcome code of a FHIR answer (``accepted`` …), None if it names none."""
    entries = fhir_answer.get("entry", [])
    header = entries[0].get("resource", {}) if entries else {}
    found = (
        x.get("valueCode") for x in header.get("extension", []) if x.get("url") == _OUTCOME_URL
    )
    outcome = next(found, None)
    return str(outcome) if outcome is not None else None


def summarize(fhir_answer: Mapping[str, Any]) -> str:
    """One line for people: outcome, VSB reference and issue codes of a FHIR answer."""
    entries = [e.get("resource", {}) for e in fhir_answer.get("entry", [])]
    parts = [outcome_of(fhir_answer) or "?"]
    codes: list[str] = []
    for resource in entries[1:]:
        if resource.get("preAuthRef"):
            parts.append(f"ref={resource['preAuthRef']}")
        for error in resource.get("error", []):
            codes += [c.get("code", "?") for c in error.get("code", {}).get("coding", [])]
        for extension in resource.get("extension", []):
            if extension.get("url") == _CLASS_URL:
                parts += [
                    f"class={x.get('valueCode')}"
                    for x in extension.get("extension", [])
                    if x.get("url") == "class"
                ]
        for issue in resource.get("issue", []):
            codes += [c.get("code", "?") for c in issue.get("details", {}).get("coding", [])]
        for insurance in resource.get("insurance", []):
            parts += _insurance_parts(insurance)
    if codes:
        parts.append("issues=" + ",".join(codes))
    return "  ".join(parts)


def _insurance_parts(insurance: Mapping[str, Any]) -> list[str]:
    """An insurance status's affiliation and care fund; a benefits look-up's benefits
    (``increased-allowance=entitled``, ``personal-share=17.55 EUR``)."""
    parts: list[str] = []
    affiliation = [
        x.get("valueCode") for x in insurance.get("extension", []) if x.get("url") == _AFFILIATION
    ]
    if affiliation:
        fund = insurance.get("coverage", {}).get("identifier", {}).get("value")
        parts.append(f"affiliation={','.join(map(str, affiliation))} fund={fund}")
    for item in insurance.get("item", []):
        for benefit in item.get("benefit", []):
            kind = next((c.get("code") for c in benefit.get("type", {}).get("coding", [])), "?")
            if "allowedMoney" in benefit:
                money = benefit["allowedMoney"]
                parts.append(f"{kind}={_amount(money.get('value'))} {money.get('currency', '?')}")
            elif "allowedString" in benefit:
                parts.append(f"{kind}={benefit['allowedString']}")
    return parts


def _amount(value: object) -> str:
    """A money value with its cents (JSON drops trailing zeros: 17.5 is shown 17.50)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return str(Decimal(str(value)).quantize(Decimal("0.01")))
        except InvalidOperation:  # inf or nan, or too large to quantize: as it came
            pass
    return str(value)
