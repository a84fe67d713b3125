"""The contract of a mapper: one per VSB message type, registered in ``registry``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from mappings.bundle import EventBundle, Node
from mappings.migration import Classification
from mappings.model import Issue, MessageContext

Check = Callable[[EventBundle, Node], list[Issue]]
"""Domain rules on a schema-shaped event: (bundle, focus resource) -> issues."""

Build = Callable[[EventBundle, Node, MessageContext, etree._Element], None]
"""Appends the message body after the Header: (bundle, focus, context, root)."""

Classify = Callable[[EventBundle, Node], Classification | None]
"""The migration class of a schema-shaped event (None when its dates do not say)."""


@dataclass(frozen=True)
class Mapper:
    """The event-specific half of validation and mapping for one VSB message type."""

    focus_type: str
    """The FHIR resource type that ``MessageHeader.focus`` must reference."""
    check: Check
    build: Build
    classify: Classify | None = None
    """For an application or admission: its migration class, which every answer repeats."""


class Unmappable(ValueError):
    """A mapper met an element that validation should have refused (internal)."""


def required_text(node: Node) -> str:
    """The text of ``node``; ``Unmappable`` if absent (the event was not validated)."""
    text = node.text
    if text is None:
        raise Unmappable(str(node.path))
    return text
