"""Reading the head of an answer of the central application (vsb:Answer).

The head is what every answer has; the part only some message types' answers carry (an
insurance status) is read by their answer kind (``mappings.answers``).
"""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from mappings import vsb_schema
from mappings.errors import AnswerFormatError, SchemaViolation
from mappings.model import CentralAnswer, Issue, Outcome


def parse_answer(element: etree._Element) -> CentralAnswer:
    """Read a ``vsb:Answer`` after validating it against vsb-1.0.xsd.

    Raises ``AnswerFormatError`` if it is not a valid VSB answer.
    """
    if element.tag != vsb_schema.qname("Answer"):
        raise AnswerFormatError(f"expected a vsb:Answer element, got {element.tag!s}")
    try:
        vsb_schema.validate_xml(element)
    except SchemaViolation as exc:
        raise AnswerFormatError(f"the answer does not match vsb-1.0.xsd: {exc}") from exc
    created = _text(element, "CreatedAt")
    try:
        created_at = datetime.fromisoformat(created)
    except ValueError as exc:
        raise AnswerFormatError("the answer's CreatedAt cannot be read") from exc
    return CentralAnswer(
        answer_id=_text(element, "AnswerId"),
        in_reply_to=_text(element, "InReplyTo"),
        created_at=created_at,
        outcome=Outcome(_text(element, "Outcome")),
        element=element,
        vsb_reference=_optional_text(element, "VsbReference"),
        issues=tuple(_issue(error) for error in element.iterfind(vsb_schema.qname("Error"))),
    )


def _issue(error: etree._Element) -> Issue:
    return Issue(
        code=_text(error, "Code"),
        text=_text(error, "Text"),
        expression=_optional_text(error, "Location"),
        level=_text(error, "Level"),
    )


def _optional_text(parent: etree._Element, local: str) -> str | None:
    value = parent.findtext(vsb_schema.qname(local))
    return value.strip() if value is not None else None


def _text(parent: etree._Element, local: str) -> str:
    value = _optional_text(parent, local)
    if value is None:
        raise AnswerFormatError(f"the answer has no {local}")
    return value
