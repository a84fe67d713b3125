"""pvt-extension, pvt-discharge, pvt-cancel: their checks at the boundaries, their messages.

The head (the dossier's VSB reference, the INSZ) is every modification's and is tested in
test_modifications.py; here what each adds.
"""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from mappings import build_message, read_envelope, validate_event
from tests.mappings.helpers import FACILITY, context, info, issues_of, pairs, raw, resource
from tests.support.events import example

VSB = "{urn:vsb-adapter:vsb:1}"
END = "Encounter.period.end"


def message(event: dict[str, Any]) -> etree._Element:
    envelope = read_envelope(raw(event))
    validate_event(envelope, FACILITY)
    return build_message(envelope, context(vsb_reference="VSB-2026-000042"))


def field(root: etree._Element, local: str) -> str | None:
    found = root.find(f"{VSB}{local}")
    return None if found is None else found.text


def children(root: etree._Element) -> list[str]:
    return [etree.QName(child).localname for child in root]


def discharge(start: str | None = "2026-11-16", end: str | None = None) -> dict[str, Any]:
    """The discharge example with the period given (the example's end if ``end`` is None)."""
    event = example("29-pvt-discharge")
    period = resource(event, "Encounter")["period"]
    if start is None:
        del period["start"]
    else:
        period["start"] = start
    if end is not None:
        period["end"] = end
    return event


class TestExtension:
    """The extension's end not before its start."""

    @pytest.mark.parametrize(
        ("end", "refused"), [("2027-11-15", True), ("2027-11-16", False), ("2027-11-17", False)]
    )
    def test_period(self, end: str, refused: bool) -> None:
        """From 2027-11-16: a one-day extension is fine, one ending the day before is not."""
        event = example("28-pvt-extension")
        resource(event, "Claim")["billablePeriod"]["end"] = end
        if refused:
            assert pairs(issues_of(event)) == {("period-order", "Claim.billablePeriod.end")}
        else:
            root = message(event)
            assert children(root)[3:] == ["StartDate", "EndDate"]
            assert (field(root, "StartDate"), field(root, "EndDate")) == ("2027-11-16", end)

    @pytest.mark.parametrize("key", ["start", "end"])
    def test_both_dates_required(self, key: str) -> None:
        """An extension is a period: both ends."""
        event = example("28-pvt-extension")
        del resource(event, "Claim")["billablePeriod"][key]
        assert pairs(issues_of(event)) == {("required", f"Claim.billablePeriod.{key}")}

    def test_calendar_dates(self) -> None:
        """The dates must exist."""
        event = example("28-pvt-extension")
        resource(event, "Claim")["billablePeriod"]["start"] = "2027-02-29"
        assert pairs(issues_of(event)) == {("date-invalid", "Claim.billablePeriod.start")}


class TestDischarge:
    """The date and hour of discharge, as written, not before the start."""

    def test_example(self) -> None:
        """Date, time with its offset, destination, after the head."""
        root = message(example("29-pvt-discharge"))
        assert children(root)[3:] == ["DischargeDate", "DischargeTime", "Destination"]
        assert field(root, "DischargeDate") == "2026-11-19"
        assert field(root, "DischargeTime") == "14:30:00+01:00"
        assert field(root, "Destination") == "home"

    def test_a_date_alone_is_refused(self) -> None:
        """Without the hour: discharge-time on the end."""
        issues = issues_of(discharge(end="2026-11-30"))
        assert pairs(issues) == {("discharge-time", END)}
        assert "hour of discharge" in issues[0].text

    @pytest.mark.parametrize(
        "end", ["2026-11-30T14:30+01:00", "2026-11-30T14:30:00", "2026-11-30 14:30:00+01:00"]
    )
    def test_not_a_fhir_date_time(self, end: str) -> None:
        """No seconds, no offset, a space: not a FHIR dateTime (schema)."""
        assert pairs(issues_of(discharge(end=end))) == {("schema", END)}

    @pytest.mark.parametrize(
        ("end", "time"),
        [
            ("2026-11-30T00:00:00+01:00", "00:00:00+01:00"),
            ("2026-11-30T23:59:59+01:00", "23:59:59+01:00"),
            ("2026-11-30T14:30:00.5+01:00", "14:30:00.5+01:00"),
            ("2026-11-30T13:30:00Z", "13:30:00Z"),
            ("2026-11-30T14:30:00+14:00", "14:30:00+14:00"),
            ("2026-11-30T14:30:00-14:00", "14:30:00-14:00"),
        ],
    )
    def test_valid_times_as_written(self, end: str, time: str) -> None:
        """The time of day and its offset are sent as written (no zone shift)."""
        root = message(discharge(end=end))
        assert (field(root, "DischargeDate"), field(root, "DischargeTime")) == ("2026-11-30", time)

    @pytest.mark.parametrize(
        "end",
        [
            "2026-11-30T24:00:00+01:00",
            "2026-11-30T14:60:00+01:00",
            "2026-11-30T14:30:60+01:00",
            "2026-11-30T14:30:00+14:01",
            "2026-11-30T14:30:00+15:00",
            "2026-11-30T14:30:00+01:60",
            "2026-11-31T14:30:00+01:00",
        ],
    )
    def test_invalid_times(self, end: str) -> None:
        """A time of day, an offset or a date that does not exist: date-invalid."""
        assert pairs(issues_of(discharge(end=end))) == {("date-invalid", END)}

    def test_local_date_without_zone_shift(self) -> None:
        """Half past midnight on the 30th (+01:00) is the 30th, though UTC is still the 29th."""
        root = message(discharge(end="2026-11-30T00:30:00+01:00"))
        assert field(root, "DischargeDate") == "2026-11-30"

    @pytest.mark.parametrize(
        ("start", "end", "refused"),
        [
            ("2026-11-16", "2026-11-15T23:59:59+01:00", True),
            ("2026-11-16", "2026-11-16T00:00:00+01:00", False),
            ("2026-11-16T10:00:00+01:00", "2026-11-16T09:59:59+01:00", True),
            ("2026-11-16T10:00:00+01:00", "2026-11-16T10:00:00+01:00", False),
            ("2026-11-16T10:00:00+01:00", "2026-11-16T09:30:00+00:00", False),
            (None, "2026-11-30T14:30:00+01:00", False),
        ],
        ids=["day-before", "same-day", "second-before", "same-instant", "other-zone", "no-start"],
    )
    def test_not_before_the_start(self, start: str | None, end: str, refused: bool) -> None:
        """Not before the start: by day, and by instant when both carry a time."""
        event = discharge(start=start, end=end)
        if refused:
            assert pairs(issues_of(event)) == {("period-order", END)}
        else:
            message(event)

    def test_end_required(self) -> None:
        """The discharge is the end of the period."""
        event = example("29-pvt-discharge")
        del resource(event, "Encounter")["period"]["end"]
        assert pairs(issues_of(event)) == {("required", END)}

    def test_without_destination(self) -> None:
        """The destination is optional."""
        event = example("29-pvt-discharge")
        del resource(event, "Encounter")["hospitalization"]
        assert "Destination" not in children(message(event))

    @pytest.mark.parametrize(
        ("path", "value", "expression"),
        [
            (("status",), "in-progress", "Encounter.status"),
            (("class", "code"), "AMB", "Encounter.class.code"),
            (
                ("hospitalization", "dischargeDisposition", "coding", 0, "code"),
                "abroad",
                "Encounter.hospitalization.dischargeDisposition.coding[0].code",
            ),
        ],
    )
    def test_codes(self, path: tuple[Any, ...], value: str, expression: str) -> None:
        """A finished inpatient stay, a destination from the CodeSystem (schema)."""
        event = example("29-pvt-discharge")
        parent: Any = resource(event, "Encounter")
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = value
        assert pairs(issues_of(event)) == {("schema", expression)}

    @pytest.mark.parametrize(
        ("key", "expression"),
        [
            ("subject", "Encounter.subject.reference"),
            ("serviceProvider", "Encounter.serviceProvider.reference"),
        ],
    )
    def test_references(self, key: str, expression: str) -> None:
        """The stay is the Patient's, at the facility: their fullUrls."""
        event = example("29-pvt-discharge")
        resource(event, "Encounter")[key]["reference"] = (
            "urn:uuid:00000000-0000-0000-0000-000000000000"
        )
        assert pairs(issues_of(event)) == {("reference", expression)}


class TestCancel:
    """As reva-cancel: the cancel once, its reason if given."""

    def test_reason(self) -> None:
        """The reason is sent."""
        root = message(example("30-pvt-cancel"))
        assert children(root)[3:] == ["Reason"]
        assert field(root, "Reason") == "Migrated for the wrong resident."

    def test_without_reason(self) -> None:
        """Without a reason the message is its head."""
        event = example("30-pvt-cancel")
        del info(resource(event, "Claim"), "cancel")["valueString"]
        assert children(message(event))[3:] == []

    def test_twice(self) -> None:
        """The cancel given twice is a duplicate."""
        event = example("30-pvt-cancel")
        claim = resource(event, "Claim")
        claim["supportingInfo"].append(info(claim, "cancel"))
        expression = "Claim.supportingInfo.where(category.coding.code='cancel')"
        assert ("duplicate", expression) in pairs(issues_of(event))
