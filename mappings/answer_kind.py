"""The answer half of a message type: how the central application's answer is read and shown.

Every answer shares a head (answer id, event id, outcome, VSB reference, issues); what else
it carries depends on the message type: an insurance status for a look-up, nothing more for
an application, per-invoice outcomes for a batch. An ``AnswerKind`` reads that part of a
``vsb:Answer`` into a typed body and renders head and body as the FHIR resource the EPD gets.
Answers the adapter makes itself (a refused modification) have no body.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from lxml import etree

from mappings.migration import Classification
from mappings.model import Issue, Outcome

B = TypeVar("B")


@dataclass(frozen=True)
class AnswerHead:
    """What every answer carries, whatever its message type."""

    answer_id: str
    event_id: str
    event_code: str | None
    outcome: Outcome
    vsb_reference: str | None
    issues: tuple[Issue, ...]
    created_at: datetime
    classification: Classification | None = None
    """The adapter's migration class of the event answered, if its type has one."""


@dataclass(frozen=True)
class AnswerKind(Generic[B]):
    """Reading and rendering the type-specific part of an answer."""

    resource: str
    """The FHIR resource of a processed answer (``ClaimResponse`` …)."""
    read: Callable[[etree._Element], B]
    """The type's part of a ``vsb:Answer`` (valid against vsb-1.0.xsd) as a typed body."""
    render: Callable[[AnswerHead, B | None], dict[str, Any]]
    """The FHIR resource for an outcome of the central application (or the adapter's refusal,
    with no body). Never called for ``invalid``: that is always an OperationOutcome."""
