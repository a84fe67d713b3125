"""Pure mapping layer: EPD events (FHIR-shaped JSON) to VSB XML, VSB answers to FHIR JSON.

No broker, no store, no network: the engine (``adapter``) calls these functions.
"""

from __future__ import annotations

from mappings.answer import parse_answer
from mappings.envelope import read_envelope
from mappings.errors import (
    AnswerFormatError,
    InvalidEvent,
    MappingError,
    MissingReference,
    SchemaViolation,
)
from mappings.event_type import EventType
from mappings.fhir_answer import to_fhir_answer
from mappings.identifiers import mask_insz
from mappings.message import build_message
from mappings.model import (
    CentralAnswer,
    Envelope,
    Facility,
    Issue,
    MessageContext,
    Ordering,
    Outcome,
)
from mappings.registry import EVENT_TYPES
from mappings.validation import validate_event
from mappings.vsb_schema import validate_xml

__all__ = [
    "EVENT_TYPES",
    "AnswerFormatError",
    "CentralAnswer",
    "Envelope",
    "EventType",
    "Facility",
    "InvalidEvent",
    "Issue",
    "MappingError",
    "MessageContext",
    "MissingReference",
    "Ordering",
    "Outcome",
    "SchemaViolation",
    "build_message",
    "mask_insz",
    "parse_answer",
    "read_envelope",
    "to_fhir_answer",
    "validate_event",
    "validate_xml",
]
