"""The data that crosses the boundary between the event contract and the delivery engine.

``mappings`` is pure: event JSON in, VSB XML out, VSB answer XML in, FHIR answer JSON out.
These types are what the engine holds in between; they carry no broker or store handles.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree


class Outcome(enum.Enum):
    """The outcome of an answer, as the EPD sees it."""

    ACCEPTED = "accepted"
    IN_BERAAD = "in-beraad"
    REFUSED = "refused"
    INVALID = "invalid"
    """The adapter itself refused the event (schema, check digit, rule); it was never sent."""

    @property
    def is_final(self) -> bool:
        """An in-beraad answer is followed by a decision; every other outcome is the last word."""
        return self is not Outcome.IN_BERAAD


@dataclass(frozen=True)
class Issue:
    """One error found in an event or reported by the central application.

    ``expression`` is a FHIRPath-like pointer at the element concerned (for the EPD) or the
    XML location reported by the central application. ``text`` never contains personal data:
    it names the field and the rule, not the value.
    """

    code: str
    text: str
    expression: str | None = None
    level: str = "E"
    """E: plain error; F: one invoice; R: one service; B: blocking, the whole batch."""


@dataclass(frozen=True)
class Envelope:
    """What the engine needs from any event, even one whose body is invalid.

    Only ``event_id`` is indispensable; an envelope without a readable dossier or sequence
    is still stored (and refused) so the EPD gets an answer correlated by its event id.
    """

    event_id: str
    event_code: str | None
    dossier_id: str | None
    sequence: int | None
    document: dict[str, Any]
    issues: tuple[Issue, ...] = ()
    """Defects of the body's strings found while reading it (``mappings.body``)."""


@dataclass(frozen=True)
class Facility:
    """The sending facility: RIZIV/NIHDI number and HCO number."""

    nihdi: str
    hco: str


@dataclass(frozen=True)
class MessageContext:
    """Per-send facts the engine adds to the event when it builds the VSB message."""

    message_id: str
    created_at: datetime
    facility: Facility
    vsb_reference: str | None = None
    """Filled from the dossier's accepted application for modifications (e.g. a stop)."""
    replaces_message_id: str | None = None
    """Set when a corrected message replaces a dead-lettered one."""


@dataclass(frozen=True)
class CentralAnswer:
    """An answer of the central application: the head every ``vsb:Answer`` has.

    ``element`` is the whole answer, valid against vsb-1.0.xsd: the message type's answer
    kind reads its own part from it.
    """

    answer_id: str
    in_reply_to: str
    created_at: datetime
    outcome: Outcome
    element: etree._Element
    vsb_reference: str | None = None
    issues: tuple[Issue, ...] = ()
