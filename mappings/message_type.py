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
  to it (``mappings.role``).

Ingest, dispatcher, sender, store and answer path read these; none of them branches on a
type's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mappings.answer_kind import AnswerKind
from mappings.mapper import Mapper
from mappings.ordering import Ordering
from mappings.role import Role


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
