"""Where an event's sequence number lives, and whether its message waits for its turn.

Every event carries a dossier id and a sequence number (docs/events.md). A message type's
``Ordering`` says which ordering key the number belongs to, computed from the event, and
whether the message waits for its predecessors under that key or runs at once:

- ``BY_DOSSIER``: applications and their modifications, one in processing per dossier, in
  the EPD's sequence order;
- ``BY_CARE_FUND``: invoice batches (their invoices and credit notes travel inside them),
  one in processing per (facility, care fund), in sequence order (DESIGN.md, "Ordering
  keys"); the care fund is a Claim's insurer or an ``invoice-batch`` List's care-fund
  extension;
- ``UNORDERED``: look-ups; they use up their number in the dossier but never wait and never
  hold the dossier back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from mappings.bundle import EventBundle, Node
from mappings.model import Envelope
from mappings.vocabulary import CARE_FUND_SYSTEM

OrderingKey = Callable[[Envelope], "str | None"]
"""The ordering key of an event (None when the event does not say enough to have one)."""


def dossier_key(dossier_id: str) -> str:
    """The ordering key of an EPD dossier."""
    return f"dossier:{dossier_id}"


def _by_dossier(envelope: Envelope) -> str | None:
    return dossier_key(envelope.dossier_id) if envelope.dossier_id is not None else None


def _by_care_fund(envelope: Envelope) -> str | None:
    # One adapter instance serves one facility, so the care fund alone tells the batches
    # apart; the facility stays in the key for a store that ever serves more than one.
    focus = EventBundle(envelope.document).focus()
    if focus is None:
        return None
    fund = _care_fund(focus)
    return None if fund is None else f"care-fund:{fund}"


def _care_fund(focus: Node) -> str | None:
    # A Claim names its care fund as its insurer; a List (an invoice batch) in its
    # care-fund extension's valueIdentifier, exactly once.
    if focus.child("resourceType").value == "List":
        found = [
            extension.child("valueIdentifier")
            for extension in focus.child("extension").items()
            if extension.child("url").value == CARE_FUND_SYSTEM
        ]
        if len(found) != 1:
            return None
        identifier = found[0]
    else:
        identifier = focus.child("insurer").child("identifier")
    if identifier.child("system").value != CARE_FUND_SYSTEM:
        return None
    return identifier.child("value").text


@dataclass(frozen=True)
class Ordering:
    """How the engine orders the messages of one message type."""

    name: str
    """For documentation and metrics: ``dossier``, ``care-fund`` or ``none``."""
    key: OrderingKey
    waits: bool
    """False: sent at once, beside everything; its number is used up as it is stored."""


BY_DOSSIER: Final = Ordering("dossier", _by_dossier, waits=True)
BY_CARE_FUND: Final = Ordering("care-fund", _by_care_fund, waits=True)
UNORDERED: Final = Ordering("none", _by_dossier, waits=False)
