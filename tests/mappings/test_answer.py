"""Reading the central application's vsb:Answer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from mappings import AnswerFormatError, Outcome, parse_answer
from mappings.answers.eligibility import ELIGIBILITY, InsuranceStatus


def answer(body: str) -> etree._Element:
    """A vsb:Answer element with the given content after the common fields."""
    xml = f"""<Answer xmlns="urn:vsb-adapter:vsb:1">
      <AnswerId>ans-1</AnswerId>
      <InReplyTo>msg-0001</InReplyTo>
      <CreatedAt>2026-11-20T10:31:00Z</CreatedAt>
      {body}
    </Answer>"""
    return etree.fromstring(xml.encode())


def test_accepted_application() -> None:
    """An acceptance yields the outcome and the VSB reference number."""
    parsed = parse_answer(
        answer("<Outcome>accepted</Outcome><VsbReference>VSB-2026-000042</VsbReference>")
    )
    assert parsed.answer_id == "ans-1"
    assert parsed.in_reply_to == "msg-0001"
    assert parsed.created_at == datetime(2026, 11, 20, 10, 31, tzinfo=UTC)
    assert parsed.outcome is Outcome.ACCEPTED
    assert parsed.vsb_reference == "VSB-2026-000042"
    assert parsed.issues == ()
    assert ELIGIBILITY.read(parsed.element) is None


def test_insurance_status() -> None:
    """The look-up's answer kind reads affiliation, care fund and valid-from date."""
    parsed = parse_answer(
        answer(
            "<Outcome>accepted</Outcome><InsuranceStatus><Affiliation>affiliated</Affiliation>"
            "<CareFund>180</CareFund><ValidFrom>2026-01-01</ValidFrom></InsuranceStatus>"
        )
    )
    assert ELIGIBILITY.read(parsed.element) == InsuranceStatus("affiliated", "180", "2026-01-01")


def test_partial_insurance_status() -> None:
    """Only the insurance fields present are read."""
    parsed = parse_answer(
        answer(
            "<Outcome>in-beraad</Outcome>"
            "<InsuranceStatus><Affiliation>can-join</Affiliation></InsuranceStatus>"
        )
    )
    assert parsed.outcome is Outcome.IN_BERAAD
    assert ELIGIBILITY.read(parsed.element) == InsuranceStatus("can-join", None, None)


def test_refusal_with_errors() -> None:
    """A refusal yields each error with its code, level, text and location."""
    parsed = parse_answer(
        answer(
            "<Outcome>refused</Outcome>"
            "<Error><Code>E-AFF-03</Code><Level>E</Level><Text>Cannot join.</Text>"
            "<Location>/RevaApplication/Insz</Location></Error>"
            "<Error><Code>E-X</Code><Level>B</Level><Text>Other.</Text></Error>"
        )
    )
    assert parsed.outcome is Outcome.REFUSED
    assert [(i.code, i.level, i.text, i.expression) for i in parsed.issues] == [
        ("E-AFF-03", "E", "Cannot join.", "/RevaApplication/Insz"),
        ("E-X", "B", "Other.", None),
    ]


def test_not_an_answer() -> None:
    """Another element than vsb:Answer is an AnswerFormatError."""
    with pytest.raises(AnswerFormatError):
        parse_answer(etree.fromstring(b'<Other xmlns="urn:vsb-adapter:vsb:1"/>'))


def test_invalid_answer() -> None:
    """An answer that breaks the XSD is an AnswerFormatError."""
    with pytest.raises(AnswerFormatError):
        parse_answer(answer("<Outcome>maybe</Outcome>"))
