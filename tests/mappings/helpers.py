"""Shared helpers for the mapping tests: example events and ways to bend them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from mappings import Facility, InvalidEvent, Issue, MessageContext, read_envelope, validate_event
from mappings.vocabulary import NIHDI_SYSTEM, SSIN_SYSTEM, SUPPORTING_INFO_SYSTEM
from tests.support.events import EXAMPLE_NAMES, INVALID_EXAMPLE_NAMES, example

__all__ = ["EXAMPLE_NAMES", "INVALID_EXAMPLE_NAMES", "example"]

FACILITY = Facility(nihdi="71012314001", hco="40012345")
CREATED_AT = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)

INSZ_EXPRESSION = f"Patient.identifier.where(system='{SSIN_SYSTEM}').value"
NIHDI_EXPRESSION = f"Organization.identifier.where(system='{NIHDI_SYSTEM}').value"
DOSSIER_EXPRESSION = "MessageHeader.extension('urn:vsb-adapter:fhir:dossier').valueString"
SEQUENCE_EXPRESSION = "MessageHeader.extension('urn:vsb-adapter:fhir:sequence').valuePositiveInt"


def raw(document: dict[str, Any]) -> bytes:
    """The event as the broker delivers it."""
    return json.dumps(document).encode("utf-8")


def resource(document: dict[str, Any], resource_type: str) -> dict[str, Any]:
    """The first resource of a type in the event."""
    for entry in document["entry"]:
        if entry["resource"]["resourceType"] == resource_type:
            found: dict[str, Any] = entry["resource"]
            return found
    raise KeyError(resource_type)


def info(claim: dict[str, Any], category: str) -> dict[str, Any]:
    """The supportingInfo item of a category."""
    for item in claim["supportingInfo"]:
        if item["category"]["coding"][0]["code"] == category:
            found: dict[str, Any] = item
            return found
    raise KeyError(category)


def drop_info(claim: dict[str, Any], category: str) -> None:
    """Remove the supportingInfo items of a category."""
    claim["supportingInfo"] = [
        item
        for item in claim["supportingInfo"]
        if item["category"]["coding"][0]["code"] != category
    ]


def migrate(
    claim: dict[str, Any], *, start: str, approval: str | None, flagged: bool = True
) -> None:
    """Make an application start on ``start``, VI-approved on ``approval``, flagged or not."""
    claim["billablePeriod"] = {"start": start, "end": f"{int(start[:4]) + 2}{start[4:]}"}
    info(claim, "migration")["valueBoolean"] = flagged
    drop_info(claim, "vi-approval")
    if approval is not None:
        item = {"sequence": 99, "category": category("vi-approval"), "timingDate": approval}
        claim["supportingInfo"].append(item)


def category(code: str) -> dict[str, Any]:
    """A supportingInfo category of the project's CodeSystem."""
    return {"coding": [{"system": SUPPORTING_INFO_SYSTEM, "code": code}]}


def patient_insz(document: dict[str, Any]) -> str:
    """The INSZ of the event's Patient."""
    return str(resource(document, "Patient")["identifier"][0]["value"])


def set_insz(document: dict[str, Any], value: str) -> None:
    """Replace the INSZ of the event's Patient."""
    resource(document, "Patient")["identifier"][0]["value"] = value


def issues_of(document: dict[str, Any], facility: Facility = FACILITY) -> list[Issue]:
    """The issues validation finds (it must refuse the event)."""
    envelope = read_envelope(raw(document))
    with pytest.raises(InvalidEvent) as caught:
        validate_event(envelope, facility)
    return list(caught.value.issues)


def pairs(issues: list[Issue]) -> set[tuple[str, str | None]]:
    """The (code, expression) pairs of issues."""
    return {(issue.code, issue.expression) for issue in issues}


def context(vsb_reference: str | None = None, replaces: str | None = None) -> MessageContext:
    """A message context for the example facility."""
    return MessageContext(
        message_id="msg-0001",
        created_at=CREATED_AT,
        facility=FACILITY,
        vsb_reference=vsb_reference,
        replaces_message_id=replaces,
    )
