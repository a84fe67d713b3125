"""Answers to PVT admissions and extensions: the ClaimResponse, with the period granted.

The vsb:Answer to an accepted admission or extension may carry a ``vsb:GrantedPeriod``
(Start, optional End): the central application grants a new request at the earliest 30 days
before its receipt, so the right may start later than asked. The ClaimResponse is the one
every application gets (``claim_response.render``) plus ``preAuthPeriod``, the period the
preauthorization holds for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from lxml import etree

from mappings import vsb_schema
from mappings.answer_kind import AnswerHead, AnswerKind
from mappings.answers import claim_response


@dataclass(frozen=True)
class GrantedPeriod:
    """The period the central application granted (``end`` None: open-ended)."""

    start: str
    end: str | None


def read(answer: etree._Element) -> GrantedPeriod | None:
    """The granted period of the answer, if it carries one."""
    period = answer.find(vsb_schema.qname("GrantedPeriod"))
    if period is None:
        return None
    start = period.findtext(vsb_schema.qname("Start"))
    end = period.findtext(vsb_schema.qname("End"))
    if start is None:
        return None  # the XSD requires it; an answer without one grants nothing to show
    return GrantedPeriod(start.strip(), end.strip() if end is not None else None)


def render(head: AnswerHead, body: GrantedPeriod | None) -> dict[str, Any]:
    """The application's ClaimResponse, with ``preAuthPeriod`` when a period was granted."""
    resource = claim_response.render(head, None)
    if body is not None:
        period = {"start": body.start} | ({"end": body.end} if body.end is not None else {})
        resource["preAuthPeriod"] = period
    return resource


GRANTED: Final = AnswerKind[GrantedPeriod | None](
    resource="ClaimResponse", read=read, render=render
)
