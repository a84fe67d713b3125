"""The answer to a PVT admission or extension: the ClaimResponse and the period granted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from mappings import AnswerHead, Outcome, parse_answer
from mappings.answers import claim_response
from mappings.answers.granted import GRANTED, GrantedPeriod
from tests.support.fhir import parse_r4

CREATED = datetime(2026, 11, 20, 10, 31, tzinfo=UTC)


def central(part: str, outcome: str = "accepted") -> etree._Element:
    """A vsb:Answer, valid against vsb-1.0.xsd, with ``part`` after the VSB reference."""
    xml = f"""<Answer xmlns="urn:vsb-adapter:vsb:1">
      <AnswerId>ans-1</AnswerId><InReplyTo>msg-0001</InReplyTo>
      <CreatedAt>2026-11-20T10:31:00Z</CreatedAt><Outcome>{outcome}</Outcome>
      <VsbReference>VSB-2026-000005</VsbReference>{part}
    </Answer>"""
    return parse_answer(etree.fromstring(xml.encode())).element


def head(outcome: Outcome = Outcome.ACCEPTED, code: str = "pvt-admission") -> AnswerHead:
    return AnswerHead("ans-1", "evt-1", code, outcome, "VSB-2026-000005", (), CREATED)


@pytest.mark.parametrize(
    ("part", "expected"),
    [
        (
            "<GrantedPeriod><Start>2026-11-16</Start><End>2027-11-15</End></GrantedPeriod>",
            GrantedPeriod("2026-11-16", "2027-11-15"),
        ),
        (
            "<GrantedPeriod><Start>2026-11-20</Start></GrantedPeriod>",
            GrantedPeriod("2026-11-20", None),
        ),
        ("", None),
    ],
    ids=["period", "open-ended", "none"],
)
def test_read(part: str, expected: GrantedPeriod | None) -> None:
    """The optional GrantedPeriod of the vsb:Answer, its end optional too."""
    assert GRANTED.read(central(part)) == expected


@pytest.mark.parametrize(
    ("body", "period"),
    [
        (GrantedPeriod("2026-12-01", "2027-11-15"), {"start": "2026-12-01", "end": "2027-11-15"}),
        (GrantedPeriod("2026-12-01", None), {"start": "2026-12-01"}),
    ],
)
def test_render_adds_the_period(body: GrantedPeriod, period: dict[str, str]) -> None:
    """The application's ClaimResponse, plus preAuthPeriod: valid FHIR R4."""
    resource = GRANTED.render(head(), body)
    assert isinstance(resource, dict), "one focus resource"
    parse_r4(resource)
    assert resource.pop("preAuthPeriod") == period
    assert resource == claim_response.render(head(), None)


@pytest.mark.parametrize("outcome", [Outcome.ACCEPTED, Outcome.IN_BERAAD, Outcome.REFUSED])
def test_render_without_a_period_is_the_claim_response(outcome: Outcome) -> None:
    """Nothing granted (in beraad, refused, or the adapter's own refusal): no period."""
    assert GRANTED.render(head(outcome), None) == claim_response.render(head(outcome), None)
