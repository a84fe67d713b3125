"""Parts that several VSB message types share: the person and attached documents."""

from __future__ import annotations

from lxml import etree

from mappings import vsb_schema
from mappings.bundle import EventBundle, Node
from mappings.mapper import Unmappable, required_text
from mappings.vocabulary import SSIN_SYSTEM


def insz(bundle: EventBundle) -> str:
    """The INSZ/BIS number of the event's one Patient."""
    patient = bundle.single("Patient")
    value = bundle.identifier(patient, SSIN_SYSTEM) if patient is not None else None
    if value is None:
        raise Unmappable("Patient INSZ")
    return required_text(value)


def add_document(parent: etree._Element, local: str, attachment: Node) -> None:
    """Append a vsb:Document-typed element from a FHIR Attachment."""
    element = vsb_schema.add(
        parent, local, "".join(required_text(attachment.child("data")).split())
    )
    element.set("contentType", required_text(attachment.child("contentType")))
    title = attachment.child("title").text
    if title is not None:
        element.set("title", title)
