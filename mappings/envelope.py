"""Reading the envelope of an event: the facts the engine needs even from a bad event."""

from __future__ import annotations

import json
import re
from typing import Any, Final

from mappings.bundle import EventBundle, Node
from mappings.errors import InvalidEvent
from mappings.model import Envelope, Issue
from mappings.vocabulary import DOSSIER_EXTENSION, SEQUENCE_EXTENSION

FHIR_ID: Final = re.compile(r"[A-Za-z0-9\-.]{1,64}")
MAX_DOSSIER_ID: Final = 64
"""The VSB header carries the dossier id in a 64-character field."""
MAX_SEQUENCE: Final = 2_147_483_647
"""FHIR positiveInt is a 32-bit integer; larger numbers are malformed."""


def read_envelope(raw: bytes) -> Envelope:
    """Decode an event and read its id, code, dossier id and sequence number.

    Raises ``InvalidEvent`` only when the event id cannot be read (not JSON, not an
    object, ``Bundle.id`` missing or not a FHIR id): without it the refusal could not be
    correlated. Every other defect leaves the field ``None``; ``validate_event`` names it.
    """
    try:
        document: Any = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent([Issue("not-json", "The event is not UTF-8 JSON.", None)]) from exc
    if not isinstance(document, dict):
        raise InvalidEvent([Issue("not-object", "The event is not a JSON object.", None)])
    event_id = document.get("id")
    if not isinstance(event_id, str) or not FHIR_ID.fullmatch(event_id):
        raise InvalidEvent(
            [Issue("event-id", "Bundle.id is required and must be a FHIR id.", "Bundle.id")]
        )
    bundle = EventBundle(document)
    header = bundle.header
    code = header.child("eventCoding").child("code").text if header is not None else None
    return Envelope(
        event_id=event_id,
        event_code=code,
        dossier_id=read_dossier_id(bundle),
        sequence=read_sequence(bundle),
        document=document,
    )


def header_extension(bundle: EventBundle, url: str) -> list[Node]:
    """The MessageHeader extensions with ``url``."""
    header = bundle.header
    if header is None:
        return []
    return [ext for ext in header.child("extension").items() if ext.child("url").value == url]


def read_dossier_id(bundle: EventBundle) -> str | None:
    """The dossier id if the event carries exactly one well-formed one."""
    found = header_extension(bundle, DOSSIER_EXTENSION)
    if len(found) != 1:
        return None
    value = found[0].child("valueString").text
    if value is None or len(value) > MAX_DOSSIER_ID or value != value.strip():
        return None
    return value


def read_sequence(bundle: EventBundle) -> int | None:
    """The sequence number if the event carries exactly one positive integer."""
    found = header_extension(bundle, SEQUENCE_EXTENSION)
    if len(found) != 1:
        return None
    value = found[0].child("valuePositiveInt").value
    # bool is an int in Python; JSON true must not pass as sequence 1.
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SEQUENCE:
        return None
    return value
