"""What the engine must know about an event code, without looking at the event."""

from __future__ import annotations

from dataclasses import dataclass

from mappings.model import Ordering


@dataclass(frozen=True)
class EventType:
    """One event code of the contract and how the engine treats its messages."""

    code: str
    """The ``MessageHeader.eventCoding.code`` of the event."""
    ordering: Ordering
    """How its messages are ordered (per dossier, per batch, or not at all)."""
    message_kind: str
    """The root element of the VSB message in vsb-1.0.xsd."""
    is_application: bool
    """Its acceptance gives the dossier its VSB reference number."""
    needs_reference: bool
    """A modification: the engine fills ``MessageContext.vsb_reference`` from the dossier."""
    answer_resource: str
    """The FHIR resource of a processed answer: ClaimResponse or CoverageEligibilityResponse."""
