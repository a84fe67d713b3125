"""The REVA modifications: what the adapter checks from the event alone, and what it sends.

The rules only the central application can judge (30/60 days, three or five years, six
months, the 5-day rule, quotas) are the simulator's; here the dates in order, the parts
required, and the VSB fields each example becomes.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from lxml import etree

from mappings import MESSAGE_TYPES, build_message, read_envelope, validate_event
from mappings.errors import MissingReference
from tests.mappings.helpers import (
    FACILITY,
    category,
    context,
    drop_info,
    info,
    issues_of,
    pairs,
    raw,
    resource,
)
from tests.support.events import event_code, example, examples_of

VSB = "{urn:vsb-adapter:vsb:1}"
REFERENCE = "VSB-2026-000042"
START = date(2026, 11, 20)


def si(code: str) -> str:
    """The expression of a supportingInfo item of a category."""
    return f"Claim.supportingInfo.where(category.coding.code='{code}')"


def claim_of(event: dict[str, Any]) -> dict[str, Any]:
    return resource(event, "Claim")


def message(event: dict[str, Any], vsb_reference: str | None = REFERENCE) -> etree._Element:
    envelope = read_envelope(raw(event))
    validate_event(envelope, FACILITY)
    return build_message(envelope, context(vsb_reference=vsb_reference))


def field(root: etree._Element, path: str) -> str | None:
    """The text of a VSB element by its slash-separated local names."""
    found = root.find("/".join(f"{VSB}{part}" for part in path.split("/")))
    return None if found is None else found.text


def day(offset: int) -> str:
    return (START + timedelta(days=offset)).isoformat()


MODIFICATION_EXAMPLES = [
    name
    for code, message_type in sorted(MESSAGE_TYPES.items())
    if message_type.role.modifies
    for name in examples_of(code)
]


class TestEveryModification:
    """Every modification example names its application and person, and needs the reference."""

    @pytest.mark.parametrize("name", MODIFICATION_EXAMPLES)
    def test_head(self, name: str) -> None:
        """VsbReference from the dossier (not the event), then the INSZ, after the Header."""
        event = example(name)
        if MESSAGE_TYPES[event_code(event)].request.focus_type == "Claim":
            claim_of(event)["insurance"] = [{"preAuthRef": ["VSB-FROM-THE-EVENT"]}]
        root = message(event)
        assert [etree.QName(child).localname for child in root][:3] == [
            "Header",
            "VsbReference",
            "Insz",
        ]
        assert field(root, "VsbReference") == REFERENCE

    @pytest.mark.parametrize("name", MODIFICATION_EXAMPLES)
    def test_no_reference_is_not_mapped(self, name: str) -> None:
        """Without the dossier's VSB reference the message is not built (the engine refuses)."""
        with pytest.raises(MissingReference):
            message(example(name), vsb_reference=None)


class TestFields:
    """Each example becomes the VSB fields of its message, as docs/events.md maps them."""

    @pytest.mark.parametrize(
        ("name", "path", "expected"),
        [
            ("22-reva-cancel", "Reason", "Entered for the wrong person."),
            ("09-reva-data-change", "Location", "Revalidatiecentrum De Linde, campus Aalst"),
            ("09-reva-data-change", "ContactPerson/Name", "Els Peeters"),
            ("10-reva-start-change", "NewStartDate", "2026-10-26"),
            ("24-reva-extension", "StartDate", "2026-11-16"),
            ("24-reva-extension", "EndDate", "2029-10-31"),
            ("25-reva-extension-cancel", "ExtensionStartDate", "2026-11-16"),
            ("11-reva-interruption", "Interruption/StartDate", "2026-11-20"),
            ("11-reva-interruption", "Interruption/ExpectedEndDate", "2027-01-31"),
            ("11-reva-interruption", "Interruption/Reason", "hospital-stay"),
            ("12-reva-interruption-change", "InterruptionStartDate", "2026-11-20"),
            ("12-reva-interruption-change", "Interruption/EndDate", "2027-02-28"),
            ("13-reva-interruption-cancel", "InterruptionStartDate", "2026-11-20"),
            ("14-reva-medical-report-change", "MedicalReport/Physician", "12345625580"),
            (
                "15-reva-document",
                "Description",
                "Speech therapy assessment, for the a posteriori check",
            ),
            ("16-reva-km-request", "TransportReport/TransportType", "own"),
            ("17-reva-km-change", "TransportReport/TransportType", "professional"),
            ("18-reva-km-stop", "StopDate", "2026-11-20"),
        ],
    )
    def test_field(self, name: str, path: str, expected: str) -> None:
        """The element holds the event's value."""
        assert field(message(example(name)), path) == expected

    @pytest.mark.parametrize("name", ["19-reva-km-stop-cancel", "21-reva-stop-cancel"])
    def test_a_cancel_of_a_stop_is_its_head_only(self, name: str) -> None:
        """The stop to cancel is the application's one: nothing follows the INSZ."""
        root = message(example(name))
        assert [etree.QName(child).localname for child in root][3:] == []

    def test_data_change_sends_only_what_is_given(self) -> None:
        """A location alone: no contact person, no accident code."""
        event = example("09-reva-data-change")
        resource(event, "Organization").pop("contact")
        root = message(event)
        assert field(root, "ContactPerson/Name") is None
        assert field(root, "AccidentCode") is None
        assert field(root, "Location") is not None

    def test_previous_reference_of_a_facility_change(self) -> None:
        """An application naming the earlier application sends PreviousVsbReference."""
        event = example("08-reva-application-running")
        claim_of(event)["related"] = [
            {
                "relationship": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship",
                            "code": "prior",
                        }
                    ]
                },
                "reference": {"value": "VSB-2025-000007"},
            }
        ]
        assert field(message(event, vsb_reference=None), "PreviousVsbReference") == (
            "VSB-2025-000007"
        )


def interruption(event: dict[str, Any]) -> dict[str, Any]:
    return info(claim_of(event), "interruption")


def with_end(end: int | None, expected_end: int | None) -> dict[str, Any]:
    """The interruption example starting on START, with an end and/or an expected end."""
    event = example("11-reva-interruption")
    claim = claim_of(event)
    period: dict[str, str] = {"start": day(0)}
    if end is not None:
        period["end"] = day(end)
    interruption(event)["timingPeriod"] = period
    drop_info(claim, "expected-end")
    if expected_end is not None:
        claim["supportingInfo"].append(
            {"category": category("expected-end"), "timingDate": day(expected_end)}
        )
    return event


class TestInterruption:
    """One end, known or expected, not before the start: the day before, of, after."""

    @pytest.mark.parametrize(
        ("end", "expected_end", "issues"),
        [
            (-1, None, {("period-order", f"{si('interruption')}.timingPeriod.end")}),
            (0, None, set()),
            (1, None, set()),
            (None, -1, {("period-order", f"{si('expected-end')}.timingDate")}),
            (None, 0, set()),
            (None, 1, set()),
            (30, 30, {("interruption-end", f"{si('interruption')}.timingPeriod.end")}),
            (None, None, {("interruption-end", f"{si('interruption')}.timingPeriod.end")}),
        ],
    )
    def test_ends(self, end: int | None, expected_end: int | None, issues: set[Any]) -> None:
        """Each row: the issues of an interruption starting on day 0."""
        event = with_end(end, expected_end)
        if issues:
            assert pairs(issues_of(event)) == issues
        else:
            assert field(message(event), "Interruption/StartDate") == day(0)

    def test_change_follows_the_same_rules(self) -> None:
        """A change whose new end is before its start is refused the same way."""
        event = example("12-reva-interruption-change")
        interruption(event)["timingPeriod"] = {"start": day(0), "end": day(-1)}
        assert pairs(issues_of(event)) == {
            ("period-order", f"{si('interruption')}.timingPeriod.end")
        }

    @pytest.mark.parametrize("name", ["12-reva-interruption-change", "13-reva-interruption-cancel"])
    def test_named_by_a_calendar_date(self, name: str) -> None:
        """The interruption to change or cancel is named by a date that exists."""
        event = example(name)
        info(claim_of(event), "interruption-start")["timingDate"] = "2026-02-30"
        assert pairs(issues_of(event)) == {
            ("date-invalid", f"{si('interruption-start')}.timingDate")
        }


class TestExtension:
    """The extension's end not before its start; a report needs its diagnosis."""

    @pytest.mark.parametrize(("end", "refused"), [(-1, True), (0, False), (1, False)])
    def test_period(self, end: int, refused: bool) -> None:
        """A one-day extension is fine; one that ends before it starts is not."""
        event = example("24-reva-extension")
        claim_of(event)["billablePeriod"] = {"start": day(0), "end": day(end)}
        if refused:
            assert pairs(issues_of(event)) == {("period-order", "Claim.billablePeriod.end")}
        else:
            assert field(message(event), "EndDate") == day(end)

    def test_report_without_diagnosis(self) -> None:
        """A medical report without Claim.diagnosis is a required issue on the diagnosis."""
        event = example("24-reva-extension")
        report = info(claim_of(example("14-reva-medical-report-change")), "medical-report")
        claim_of(event)["supportingInfo"] = [report]
        assert pairs(issues_of(event)) == {("required", "Claim.diagnosis")}

    def test_report_with_diagnosis(self) -> None:
        """With its diagnosis the report travels as the extension's MedicalReport."""
        event = example("24-reva-extension")
        source = claim_of(example("14-reva-medical-report-change"))
        claim = claim_of(event)
        claim["supportingInfo"] = [info(source, "medical-report")]
        claim["diagnosis"], claim["careTeam"] = source["diagnosis"], source["careTeam"]
        assert field(message(event), "MedicalReport/Physician") == "12345625580"


class TestRequiredParts:
    """The part that makes each modification what it is: missing, twice, not a date."""

    @pytest.mark.parametrize(
        ("name", "part"),
        [
            ("22-reva-cancel", "cancel"),
            ("21-reva-stop-cancel", "cancel"),
            ("19-reva-km-stop-cancel", "cancel"),
            ("25-reva-extension-cancel", "extension"),
            ("13-reva-interruption-cancel", "interruption-start"),
            ("15-reva-document", "document"),
            ("16-reva-km-request", "transport-report"),
            ("18-reva-km-stop", "km-stop"),
        ],
    )
    def test_twice(self, name: str, part: str) -> None:
        """The part given twice is a duplicate."""
        event = example(name)
        claim = claim_of(event)
        claim["supportingInfo"].append(info(claim, part))
        assert ("duplicate", si(part)) in pairs(issues_of(event))

    @pytest.mark.parametrize(
        ("name", "part"),
        [
            ("25-reva-extension-cancel", "extension"),
            ("18-reva-km-stop", "km-stop"),
        ],
    )
    def test_not_a_calendar_date(self, name: str, part: str) -> None:
        """Its date must exist."""
        event = example(name)
        info(claim_of(event), part)["timingDate"] = "2026-04-31"
        assert pairs(issues_of(event)) == {("date-invalid", f"{si(part)}.timingDate")}

    def test_start_change_needs_a_calendar_date(self) -> None:
        """The new start must exist."""
        event = example("10-reva-start-change")
        claim_of(event)["billablePeriod"] = {"start": "2026-11-31"}
        assert pairs(issues_of(event)) == {("date-invalid", "Claim.billablePeriod.start")}

    @pytest.mark.parametrize(
        ("keep", "refused"),
        [("nothing", True), ("contact", False), ("location", False), ("accident", False)],
    )
    def test_data_change_needs_one_value(self, keep: str, refused: bool) -> None:
        """At least one of contact person, location, accident code."""
        event = example("09-reva-data-change")
        claim = claim_of(event)
        if keep != "contact":
            resource(event, "Organization").pop("contact")
        if keep != "location":
            drop_info(claim, "location")
        if not claim["supportingInfo"]:
            del claim["supportingInfo"]
        if keep == "accident":
            claim["accident"] = {"type": {"coding": [{"code": "ACC-01"}]}}
        if refused:
            assert pairs(issues_of(event)) == {("nothing-to-change", "Claim")}
        else:
            sent = {"contact": "ContactPerson/Name", "location": "Location"}
            assert field(message(event), sent.get(keep, "AccidentCode")) is not None
