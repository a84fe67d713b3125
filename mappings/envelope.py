"""Reading the envelope of an event: the facts the engine needs even from a bad event."""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from mappings.body import parse_body
from mappings.bundle import EventBundle, Node
from mappings.errors import InvalidEvent
from mappings.model import Envelope, Issue
from mappings.vocabulary import DOSSIER_EXTENSION, SEQUENCE_EXTENSION

FHIR_ID: Final = re.compile(r"[A-Za-z0-9\-.]{1,64}")
EVENT_CODE: Final = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
"""What an event code can look like; anything else is read as no code at all."""
MAX_DOSSIER_ID: Final = 64
"""The VSB header carries the dossier id in a 64-character field."""
MAX_SEQUENCE: Final = 2_147_483_647
"""FHIR positiveInt is a 32-bit integer; larger numbers are malformed."""


def read_envelope(raw: bytes) -> Envelope:
    """Decode an event and read its id, code, dossier id and sequence number.

    Raises ``InvalidEvent`` only when the event id cannot be read (not JSON within the
    limits of ``mappings.body``, not an object, ``Bundle.id`` missing or not a FHIR id):
    without it the refusal could not be correlated. Every other defect leaves the field
    ``None``; ``validate_event`` names it, and the defects of the body's strings.
    """
    document, text_issues = parse_body(raw)
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
        event_code=code if code is not None and EVENT_CODE.fullmatch(code) else None,
        dossier_id=read_dossier_id(bundle),
        sequence=read_sequence(bundle),
        document=document,
        issues=tuple(text_issues),
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
    return value if value is not None and is_clean_key(value) else None


def is_clean_key(value: str) -> bool:
    """Whether ``value`` can be a dossier id: text that cannot look like another one.

    At most ``MAX_DOSSIER_ID`` characters, no surrounding spaces, in Unicode normal form
    NFC, and nothing but printable characters: no control characters, no format characters
    (zero-width space U+200B, byte order mark U+FEFF, bidirectional marks such as U+202E),
    no separators but the plain space, no surrogates, private-use or unassigned code points.
    Otherwise "A\u200b1" and "A1" would be two dossiers that look like one.
    """
    return (
        0 < len(value) <= MAX_DOSSIER_ID
        and value == value.strip()
        and value.isprintable()
        and unicodedata.is_normalized("NFC", value)
    )


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
