"""A message type: everything the engine and the answer path know of one event code.

A message type is **one registration** (``MESSAGE_TYPE`` at the end of its mapper module,
collected in ``mappings.registry``). It declares:

- its request half (``request``): the FHIR focus it takes, its domain checks, how it builds
  its VSB message (``mappings.mapper``);
- its answer half (``answer``): how the central application's answer is read into a typed
  body and rendered as FHIR (``mappings.answer_kind``);
- its ordering (``ordering``): the ordering key its sequence number belongs to, and whether
  it waits for its turn (``mappings.ordering``);
- its role in the dossier (``role``): what it needs of the application, what its answer does
  to it (``mappings.role``);
- its carriage (``carriage``): sent alone as one message, stored as a part of another
  event's message (an invoice of its batch), or a batch written and sent as a stream of its
  stored parts;
- its deadlines (``deadlines``): the 30-day rule of an application, the 5-day window of a
  late change, what its acceptance does to the dossier's period (``mappings.deadline``).

Ingest, dispatcher, sender, store and answer path read these; none of them branches on a
type's name.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from mappings.answer_kind import AnswerKind
from mappings.deadline import NO_DEADLINES, Deadlines
from mappings.mapper import Mapper
from mappings.ordering import Ordering
from mappings.role import Role


class Carriage(enum.Enum):
    """How the events of a message type travel to the central application."""

    ALONE = "alone"
    """One event, one VSB message, built as a tree, signed and submitted."""
    PART = "part"
    """Stored as a part of another event's message (an invoice of its batch), never sent
    alone; answered with that message."""
    BATCH = "batch"
    """A batch of stored parts, written, signed and submitted as a stream (a batch reaches
    100,000 lines: never a tree, ``mappings.invoice_batch``)."""


@dataclass(frozen=True)
class MessageType:
    """One event code of the contract and how every part of the adapter treats it."""

    code: str
    """The ``MessageHeader.eventCoding.code`` of the event (and its JSON Schema's name)."""
    message_kind: str
    """The root element of its VSB message in vsb-1.0.xsd."""
    request: Mapper
    answer: AnswerKind[Any]
    ordering: Ordering
    role: Role
    carriage: Carriage = Carriage.ALONE
    deadlines: Deadlines = NO_DEADLINES
