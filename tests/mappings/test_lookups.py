"""The look-ups before invoicing: increased-allowance-status and personal-share.

Their events are CoverageEligibilityRequests of purpose ``benefits`` whose one item names
what is asked; their messages carry the INSZ and the reference date; their answers carry a
vsb:IncreasedAllowance or a vsb:PersonalShare, read here into typed bodies.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from mappings import (
    MESSAGE_TYPES,
    build_message,
    parse_answer,
    read_envelope,
    validate_event,
    validate_xml,
)
from mappings.answers.increased_allowance import INCREASED_ALLOWANCE, IncreasedAllowance
from mappings.answers.personal_share import PERSONAL_SHARE, PersonalShare
from mappings.ordering import UNORDERED
from mappings.role import LOOKUP
from mappings.vocabulary import ELIGIBILITY_ITEM_SYSTEM
from mappings.vsb_schema import VSB_NS
from tests.mappings.helpers import (
    FACILITY,
    context,
    example,
    issues_of,
    pairs,
    raw,
    resource,
)

NS = {"v": VSB_NS}
EXAMPLES = {
    "increased-allowance-status": ("32-increased-allowance-status", "increased-allowance"),
    "personal-share": ("33-personal-share", "personal-share"),
}
CODES = sorted(EXAMPLES)
CATEGORY_CODE = "CoverageEligibilityRequest.item[0].category.coding[0].code"


def event(code: str) -> dict[str, Any]:
    """The example of a look-up's event code."""
    return example(EXAMPLES[code][0])


def request_of(document: dict[str, Any]) -> dict[str, Any]:
    """The focus of a look-up event."""
    return resource(document, "CoverageEligibilityRequest")


def built(document: dict[str, Any]) -> etree._Element:
    """Validate then build an event, as the engine does."""
    envelope = read_envelope(raw(document))
    validate_event(envelope, FACILITY)
    return build_message(envelope, context())


@pytest.mark.parametrize("code", CODES)
class TestRequest:
    """Event to VSB message, and the checks of the event."""

    def test_registered_as_an_unordered_look_up(self, code: str) -> None:
        """Both run at once, in parallel, and answer with a CoverageEligibilityResponse."""
        message_type = MESSAGE_TYPES[code]
        assert message_type.ordering is UNORDERED
        assert message_type.role is LOOKUP
        assert message_type.request.focus_type == "CoverageEligibilityRequest"
        assert message_type.answer.resource == "CoverageEligibilityResponse"

    def test_message_is_header_insz_and_reference_date(self, code: str) -> None:
        """The message of its kind: Header (no dossier: a look-up), Insz, ReferenceDate."""
        message = built(event(code))
        validate_xml(message)
        assert etree.QName(message).localname == MESSAGE_TYPES[code].message_kind
        assert [etree.QName(child).localname for child in message] == [
            "Header",
            "Insz",
            "ReferenceDate",
        ]
        assert message.findtext("v:Insz", namespaces=NS) == "85073003328"
        assert message.findtext("v:ReferenceDate", namespaces=NS) == "2026-11-20"
        assert message.find("v:Header/v:DossierId", NS) is None

    def test_the_reference_date_is_the_serviced_date(self, code: str) -> None:
        """Another day asked is the day sent."""
        document = event(code)
        request_of(document)["servicedDate"] = "2024-02-29"
        assert built(document).findtext("v:ReferenceDate", namespaces=NS) == "2024-02-29"

    def test_serviced_date_is_required(self, code: str) -> None:
        """Without the reference day there is nothing to ask."""
        document = event(code)
        del request_of(document)["servicedDate"]
        expression = "CoverageEligibilityRequest.servicedDate"
        assert pairs(issues_of(document)) == {("required", expression)}

    @pytest.mark.parametrize("value", ["20-11-2026", "2026-11-20T10:00:00+01:00", "", 20261120])
    def test_serviced_date_must_be_a_date(self, code: str, value: object) -> None:
        """A dateTime, another format or another type is refused by the schema."""
        document = event(code)
        request_of(document)["servicedDate"] = value
        expression = "CoverageEligibilityRequest.servicedDate"
        assert pairs(issues_of(document)) == {("schema", expression)}

    @pytest.mark.parametrize("value", ["2026-02-29", "2026-11-31", "2026-13-01"])
    def test_serviced_date_must_exist(self, code: str, value: str) -> None:
        """A well-formed day that is not in the calendar is date-invalid."""
        document = event(code)
        request_of(document)["servicedDate"] = value
        [issue] = issues_of(document)
        assert (issue.code, issue.expression) == (
            "date-invalid",
            "CoverageEligibilityRequest.servicedDate",
        )
        assert value not in issue.text

    def test_leap_day_is_a_date(self, code: str) -> None:
        """29 February of a leap year passes (the boundary of date-invalid)."""
        document = event(code)
        request_of(document)["servicedDate"] = "2028-02-29"
        assert built(document).findtext("v:ReferenceDate", namespaces=NS) == "2028-02-29"

    def test_the_other_look_ups_category_is_refused(self, code: str) -> None:
        """The schema pins the item of each event: the other one's code is a clear issue."""
        document = event(code)
        [other] = [EXAMPLES[c][1] for c in CODES if c != code]
        request_of(document)["item"][0]["category"]["coding"][0]["code"] = other
        [issue] = issues_of(document)
        assert (issue.code, issue.expression) == ("schema", CATEGORY_CODE)
        assert issue.text == f'{CATEGORY_CODE} must be "{EXAMPLES[code][1]}".'

    def test_the_category_system_is_pinned(self, code: str) -> None:
        """The code of another system is not the project's item."""
        document = event(code)
        request_of(document)["item"][0]["category"]["coding"][0]["system"] = "http://x.example"
        expression = "CoverageEligibilityRequest.item[0].category.coding[0].system"
        assert pairs(issues_of(document)) == {("schema", expression)}

    def test_the_item_is_required(self, code: str) -> None:
        """Without its item a look-up does not say what it asks."""
        document = event(code)
        del request_of(document)["item"]
        assert pairs(issues_of(document)) == {("required", "CoverageEligibilityRequest.item")}

    def test_exactly_one_item(self, code: str) -> None:
        """A second item (even the same) is refused: one look-up asks one thing."""
        document = event(code)
        request = request_of(document)
        request["item"].append(request["item"][0])
        assert pairs(issues_of(document)) == {("schema", "CoverageEligibilityRequest.item")}

    def test_a_category_without_coding_is_refused(self, code: str) -> None:
        """A text alone does not name the item."""
        document = event(code)
        request_of(document)["item"][0]["category"] = {"text": "VT"}
        expression = "CoverageEligibilityRequest.item[0].category.coding"
        assert pairs(issues_of(document)) == {("required", expression)}

    def test_purpose_must_contain_benefits(self, code: str) -> None:
        """An insurance-status purpose (validation) alone is not this look-up."""
        document = event(code)
        request_of(document)["purpose"] = ["validation"]
        [issue] = issues_of(document)
        assert (issue.code, issue.expression) == ("schema", "CoverageEligibilityRequest.purpose")
        assert 'must contain the purpose "benefits"' in issue.text

    def test_no_personal_data_in_the_issues(self, code: str) -> None:
        """The INSZ never appears in an issue text."""
        document = event(code)
        del request_of(document)["servicedDate"]
        request_of(document)["item"][0]["category"]["coding"][0]["code"] = "85073003328"
        for issue in issues_of(document):
            assert "85073003328" not in issue.text
            assert "85073003328" not in (issue.expression or "")


def test_the_examples_ask_their_own_item() -> None:
    """Each example names the project's CodeSystem and its own code."""
    for code, (name, item) in EXAMPLES.items():
        coding = request_of(example(name))["item"][0]["category"]["coding"][0]
        assert coding == {"system": ELIGIBILITY_ITEM_SYSTEM, "code": item}, code


def answer(part: str, outcome: str = "accepted") -> etree._Element:
    """A vsb:Answer (valid against vsb-1.0.xsd) with ``part`` after the head."""
    xml = f"""<Answer xmlns="urn:vsb-adapter:vsb:1">
      <AnswerId>ans-1</AnswerId><InReplyTo>msg-0001</InReplyTo>
      <CreatedAt>2026-11-20T10:31:00Z</CreatedAt><Outcome>{outcome}</Outcome>{part}
    </Answer>"""
    return parse_answer(etree.fromstring(xml.encode())).element


class TestReadIncreasedAllowance:
    """vsb:IncreasedAllowance into an IncreasedAllowance."""

    def test_entitled_with_its_period(self) -> None:
        """Entitled, from and to: dates as dates."""
        element = answer(
            "<IncreasedAllowance><Entitled>true</Entitled><ValidFrom>2026-01-01</ValidFrom>"
            "<ValidTo>2026-12-31</ValidTo></IncreasedAllowance>"
        )
        assert INCREASED_ALLOWANCE.read(element) == IncreasedAllowance(
            True, date(2026, 1, 1), date(2026, 12, 31)
        )

    @pytest.mark.parametrize(
        ("text", "entitled"), [("true", True), ("1", True), ("false", False), ("0", False)]
    )
    def test_every_xs_boolean(self, text: str, entitled: bool) -> None:
        """xs:boolean has four spellings."""
        element = answer(f"<IncreasedAllowance><Entitled> {text} </Entitled></IncreasedAllowance>")
        assert INCREASED_ALLOWANCE.read(element) == IncreasedAllowance(entitled)

    def test_a_date_with_a_time_zone_is_its_day(self) -> None:
        """xs:date may carry a time zone: the day as written is kept."""
        element = answer(
            "<IncreasedAllowance><Entitled>true</Entitled><ValidFrom>2026-01-01+01:00</ValidFrom>"
            "<ValidTo>2026-12-31Z</ValidTo></IncreasedAllowance>"
        )
        assert INCREASED_ALLOWANCE.read(element) == IncreasedAllowance(
            True, date(2026, 1, 1), date(2026, 12, 31)
        )

    def test_a_year_beyond_9999_is_an_open_end(self) -> None:
        """Valid XSD, no FHIR date: said as no end known rather than failing the answer."""
        element = answer(
            "<IncreasedAllowance><Entitled>true</Entitled><ValidTo>10000-01-01</ValidTo>"
            "</IncreasedAllowance>"
        )
        assert INCREASED_ALLOWANCE.read(element) == IncreasedAllowance(True)

    def test_no_part_no_body(self) -> None:
        """A refusal carries no part: there is no body, and the other kind's part is not it."""
        assert INCREASED_ALLOWANCE.read(answer("", "refused")) is None
        share = (
            "<PersonalShare><DailyAmount>1.00</DailyAmount>"
            "<IncreasedAllowance>true</IncreasedAllowance></PersonalShare>"
        )
        assert INCREASED_ALLOWANCE.read(answer(share)) is None


class TestReadPersonalShare:
    """vsb:PersonalShare into a PersonalShare, the amount a Decimal."""

    @pytest.mark.parametrize(
        ("text", "amount"),
        [
            ("17.55", Decimal("17.55")),
            ("0.00", Decimal("0")),
            ("0", Decimal("0")),
            ("+017.5", Decimal("17.50")),
            (".5", Decimal("0.50")),
            ("123456789012.99", Decimal("123456789012.99")),
        ],
    )
    def test_amount_as_decimal(self, text: str, amount: Decimal) -> None:
        """Every lexical form of xs:decimal is read exactly, never through a float."""
        element = answer(
            f"<PersonalShare><DailyAmount>{text}</DailyAmount>"
            "<IncreasedAllowance>false</IncreasedAllowance></PersonalShare>"
        )
        body = PERSONAL_SHARE.read(element)
        assert body == PersonalShare(amount, False)
        assert body is not None
        assert isinstance(body.daily_amount, Decimal)

    def test_with_increased_allowance_and_its_start(self) -> None:
        """The amount with the increased allowance, from a day."""
        element = answer(
            "<PersonalShare><DailyAmount>28.00</DailyAmount>"
            "<IncreasedAllowance>1</IncreasedAllowance><ValidFrom>2026-03-01</ValidFrom>"
            "</PersonalShare>"
        )
        assert PERSONAL_SHARE.read(element) == PersonalShare(
            Decimal("28.00"), True, date(2026, 3, 1)
        )

    def test_no_part_no_body(self) -> None:
        """A refusal carries no part."""
        assert PERSONAL_SHARE.read(answer("", "refused")) is None
