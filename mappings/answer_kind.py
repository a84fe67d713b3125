"""The answer half of a message type: how the central application's answer is read and shown.

Every answer shares a head (answer id, event id, outcome, VSB reference, issues); what else
it carries depends on the message type: an insurance status for a look-up, nothing more for
an application, per-invoice outcomes for a batch. An ``AnswerKind`` reads that part of a
``vsb:Answer`` into a typed body and renders head and body as the FHIR resource the EPD gets.
Answers the adapter makes itself (a refused modification) have no body.

For most types the body rendered is the body read (``AnswerKind[B]``). An invoice batch's
answer is rendered from more than the central application said: the adapter adds the
invoices it held or refused itself before sending, and the lines it sent. Its kind is an
``AnswerKindOf[R, B]``: ``read`` gives the acknowledgement ``R``, the sender completes it
into ``B``, and ``render`` takes ``B`` (``mappings.answers.invoice_batch``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from lxml import etree

from mappings.migration import Classification
from mappings.model import Issue, Outcome

R = TypeVar("R")
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
class AnswerKindOf(Generic[R, B]):
    """Reading and rendering the type-specific part of an answer: ``read`` gives ``R``,
    ``render`` takes ``B`` (the same type for every kind but the invoice batch's)."""

    resource: str
    """The FHIR resource of a processed answer (``ClaimResponse`` …)."""
    read: Callable[[etree._Element], R]
    """The type's part of a ``vsb:Answer`` (valid against vsb-1.0.xsd) as a typed body."""
    render: Callable[[AnswerHead, B | None], dict[str, Any] | list[dict[str, Any]]]
    """The FHIR resource for an outcome of the central application (or the adapter's refusal,
    with no body), or several (an invoice batch: one per invoice), each a focus of the
    answer. Never called for ``invalid``: that is always an OperationOutcome."""


AnswerKind = AnswerKindOf[B, B]
"""A kind whose ``render`` takes what its ``read`` gives."""
