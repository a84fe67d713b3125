"""Pure mapping layer: EPD events (FHIR-shaped JSON) to VSB XML, VSB answers to FHIR JSON.

No broker, no store, no network: the engine (``adapter``) calls these functions.
"""

from __future__ import annotations

from mappings.answer import parse_answer
from mappings.answer_kind import AnswerHead, AnswerKind
from mappings.envelope import read_envelope
from mappings.errors import (
    AnswerFormatError,
    InvalidEvent,
    MappingError,
    MissingReference,
    SchemaViolation,
)
from mappings.fhir_answer import to_fhir_answer
from mappings.identifiers import mask_insz
from mappings.message import build_message, classify_event
from mappings.message_type import MessageType
from mappings.model import (
    CentralAnswer,
    Envelope,
    Facility,
    Issue,
    MessageContext,
    Outcome,
)
from mappings.ordering import Ordering, dossier_key
from mappings.registry import MESSAGE_TYPES
from mappings.role import Application, ApplicationChange, Role
from mappings.validation import Verdict, check_event, validate_event
from mappings.vsb_schema import validate_xml

__all__ = [
    "MESSAGE_TYPES",
    "AnswerFormatError",
    "AnswerHead",
    "AnswerKind",
    "Application",
    "ApplicationChange",
    "CentralAnswer",
    "Envelope",
    "Facility",
    "InvalidEvent",
    "Issue",
    "MappingError",
    "MessageContext",
    "MessageType",
    "MissingReference",
    "Ordering",
    "Outcome",
    "Role",
    "SchemaViolation",
    "Verdict",
    "build_message",
    "check_event",
    "classify_event",
    "dossier_key",
    "mask_insz",
    "parse_answer",
    "read_envelope",
    "to_fhir_answer",
    "validate_event",
    "validate_xml",
]
