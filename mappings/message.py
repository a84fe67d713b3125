"""Building the unsigned VSB message of a validated event."""

from __future__ import annotations

from lxml import etree

from mappings import vsb_schema
from mappings.bundle import EventBundle
from mappings.errors import InvalidEvent, MissingReference
from mappings.mapper import Unmappable
from mappings.message_type import MessageType
from mappings.migration import Classification
from mappings.model import Envelope, Issue, MessageContext
from mappings.registry import MESSAGE_TYPES


def build_message(envelope: Envelope, context: MessageContext) -> etree._Element:
    """Build the VSB XML of an event that ``validate_event`` accepted, and validate it.

    The result is unsigned: the engine appends the enveloped signature in the trailing
    ``xs:any`` slot. Raises ``MissingReference`` when a modification has no
    ``context.vsb_reference``, ``InvalidEvent`` when the event was not valid after all,
    and ``SchemaViolation`` when the message breaks vsb-1.0.xsd (a permanent error).
    """
    message_type = MESSAGE_TYPES.get(envelope.event_code or "")
    if message_type is None:
        expression = "MessageHeader.eventCoding.code"
        raise InvalidEvent(
            [Issue("unknown-event", f"{expression} is not a known event code.", expression)]
        )
    if message_type.role.modifies and context.vsb_reference is None:
        raise MissingReference(
            f"event {envelope.event_id} ({message_type.code}) needs the VSB reference number "
            "of the dossier's accepted application"
        )
    bundle = EventBundle(envelope.document)
    focus = bundle.focus()
    root = vsb_schema.root(message_type.message_kind)
    try:
        if focus is None:
            raise Unmappable("focus")
        _add_header(root, envelope, message_type, context)
        message_type.request.build(bundle, focus, context, root)
    except ValueError as exc:
        # Unmappable, or lxml refusing a character: both mean the event skipped validation.
        text = "The event cannot be mapped: it does not pass validation."
        raise InvalidEvent([Issue("unmappable", text, None)]) from exc
    vsb_schema.validate_xml(root)
    return root


def classify_event(envelope: Envelope) -> Classification | None:
    """The migration class of a validated event, if its message type classifies."""
    message_type = MESSAGE_TYPES.get(envelope.event_code or "")
    if message_type is None or message_type.request.classify is None:
        return None
    bundle = EventBundle(envelope.document)
    focus = bundle.focus()
    return None if focus is None else message_type.request.classify(bundle, focus)


def _add_header(
    root: etree._Element, envelope: Envelope, message_type: MessageType, context: MessageContext
) -> None:
    header = vsb_schema.add(root, "Header")
    vsb_schema.add(header, "MessageId", context.message_id)
    if context.replaces_message_id is not None:
        vsb_schema.add(header, "ReplacesMessageId", context.replaces_message_id)
    vsb_schema.add(header, "CreatedAt", context.created_at.isoformat())
    facility = vsb_schema.add(header, "Facility")
    vsb_schema.add(facility, "Nihdi", context.facility.nihdi)
    vsb_schema.add(facility, "Hco", context.facility.hco)
    if not message_type.ordering.waits:
        return  # look-ups are not part of a dossier's chronology at the central application
    if envelope.dossier_id is None or envelope.sequence is None:
        raise Unmappable("dossier")
    vsb_schema.add(header, "DossierId", envelope.dossier_id)
    vsb_schema.add(header, "Sequence", str(envelope.sequence))
