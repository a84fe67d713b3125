"""pvt-admission: the checks the adapter decides alone, the class of the file, the message.

Each rule is a table at its boundary (the day before, of, after): the switch-over of
2023-04-01, the VI's last receipt of 2023-04-30, the approved period ending on 2023-03-31,
receipt before approval, the periods' ends, the DSM-5 code's forms.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from lxml import etree

from mappings import (
    MESSAGE_TYPES,
    AnswerHead,
    Outcome,
    build_message,
    classify_event,
    read_envelope,
    to_fhir_answer,
    validate_event,
)
from mappings.answers.granted import GRANTED, GrantedPeriod
from mappings.migration import MigrationClass
from mappings.vocabulary import MIGRATION_CLASS_EXTENSION
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
from tests.support.events import example
from tests.support.fhir import parse_r4

VSB = "{urn:vsb-adapter:vsb:1}"
DSM5 = "http://hl7.org/fhir/sid/dsm5"
DSM5_CODE = "Claim.diagnosis[0].diagnosisCodeableConcept.coding[0].code"
START = "Claim.billablePeriod.start"


def si(code: str) -> str:
    """The expression of a supportingInfo item of a category."""
    return f"Claim.supportingInfo.where(category.coding.code='{code}')"


def claim_of(event: dict[str, Any]) -> dict[str, Any]:
    return resource(event, "Claim")


def message(event: dict[str, Any]) -> etree._Element:
    envelope = read_envelope(raw(event))
    validate_event(envelope, FACILITY)
    return build_message(envelope, context())


def field(root: etree._Element, path: str) -> str | None:
    """The text of a VSB element by its slash-separated local names."""
    found = root.find("/".join(f"{VSB}{part}" for part in path.split("/")))
    return None if found is None else found.text


def children(root: etree._Element) -> list[str]:
    return [etree.QName(child).localname for child in root]


def set_fact(claim: dict[str, Any], name: str, **value: Any) -> None:
    """Give the supportingInfo ``name`` (replacing it) the value given, or drop it (None)."""
    drop_info(claim, name)
    if all(v is not None for v in value.values()):
        claim["supportingInfo"].append({"sequence": 90, "category": category(name), **value})


def admission(
    start: str,
    *,
    receipt: str | None = None,
    approval: str | None = None,
    approved: tuple[str, str] | None = None,
    flagged: bool = False,
    follows: bool | None = None,
) -> dict[str, Any]:
    """The new-request example (26) admitted on ``start``, with the VI's facts given."""
    event = example("26-pvt-admission-new")
    claim = claim_of(event)
    claim["billablePeriod"] = {"start": start}
    info(claim, "migration")["valueBoolean"] = flagged
    set_fact(claim, "vi-receipt", timingDate=receipt)
    set_fact(claim, "vi-approval", timingDate=approval)
    period = {"start": approved[0], "end": approved[1]} if approved else None
    set_fact(claim, "vi-approved-period", timingPeriod=period)
    set_fact(claim, "extension-follows", valueBoolean=follows)
    if flagged:
        drop_info(claim, "informed-consent")
    return event


def migration_file(**overrides: Any) -> dict[str, Any]:
    """Admitted 2022-06-01, received 2022-05-20, approved 2022-05-30 until 2024-05-31."""
    facts: dict[str, Any] = {
        "receipt": "2022-05-20",
        "approval": "2022-05-30",
        "approved": ("2022-06-01", "2024-05-31"),
        "flagged": True,
    }
    return admission("2022-06-01", **(facts | overrides))


def kind_of(event: dict[str, Any]) -> MigrationClass | None:
    found = classify_event(read_envelope(raw(event)))
    return None if found is None else found.kind


class TestExamples:
    """The two examples: a new request, a migration file."""

    def test_new_request(self) -> None:
        """Every field of the new request, in the XSD's order, consent included."""
        root = message(example("26-pvt-admission-new"))
        assert children(root) == [
            "Header",
            "Insz",
            "RequestDate",
            "AdmissionDate",
            "StartDate",
            "EndDate",
            "UserType",
            "Diagnosis",
            "InformedConsent",
            "Migration",
        ]
        assert [field(root, p) for p in ("RequestDate", "AdmissionDate", "StartDate")] == [
            "2026-11-20",
            "2026-11-16",
            "2026-11-16",
        ]
        assert field(root, "EndDate") == "2027-11-15"
        assert field(root, "UserType") == "psychiatric-patient"
        assert field(root, "Diagnosis") == "F20.9"
        assert field(root, "InformedConsent/Date") == "2026-11-16"
        assert field(root, "Migration") == "false"
        assert kind_of(example("26-pvt-admission-new")) is MigrationClass.NEW_REQUEST

    def test_migration_file(self) -> None:
        """The limited content and the VI's approval; the end is the approved period's."""
        root = message(example("27-pvt-admission-migration"))
        assert "InformedConsent" not in children(root)
        assert field(root, "Migration") == "true"
        assert field(root, "EndDate") == "2024-05-31"
        assert [
            field(root, f"ViApproval/{p}")
            for p in ("ReceiptDate", "ApprovalDate", "ApprovedStart", "ApprovedEnd")
        ] == ["2022-05-20", "2022-05-30", "2022-06-01", "2024-05-31"]
        assert kind_of(example("27-pvt-admission-migration")) is MigrationClass.MIGRATION_FILE


class TestClass:
    """The class of the file decides what is sent, and what is refused."""

    @pytest.mark.parametrize(
        ("start", "flagged", "issues", "kind"),
        [
            ("2023-03-31", False, set(), MigrationClass.LATE_REQUEST),
            ("2023-04-01", False, set(), MigrationClass.NEW_REQUEST),
            ("2023-04-02", False, set(), MigrationClass.NEW_REQUEST),
            # from 1/4 no VI fact could make it a migration file: the flag is what is wrong
            ("2023-04-01", True, {("migration-flag", si("migration"))}, None),
            ("2023-03-31", True, {("required", si(f)) for f in ("vi-receipt", "vi-approval",
                                                                  "vi-approved-period")}, None),
        ],
        ids=["0331-late", "0401-new", "0402-new", "0401-flagged-without-facts",
             "0331-flagged-without-facts"],
    )  # fmt: skip
    def test_switch_over(
        self, start: str, flagged: bool, issues: set[Any], kind: MigrationClass | None
    ) -> None:
        """Without the VI's facts: a late request before 1/4/2023, a new request from it."""
        event = admission(start, flagged=flagged)
        if issues:
            assert pairs(issues_of(event)) == issues
            return
        root = message(event)
        assert kind_of(event) is kind
        assert field(root, "AdmissionDate") == start
        assert field(root, "StartDate") == max(start, "2023-04-01")
        assert field(root, "Migration") == "false"

    def test_a_new_request_flagged_as_a_migration_file(self) -> None:
        """The flag of a file admitted on 2023-04-01 contradicts it: migration-flag."""
        event = migration_file()
        claim_of(event)["billablePeriod"] = {"start": "2023-04-01"}
        issues = issues_of(event)
        assert pairs(issues) == {("migration-flag", si("migration"))}
        assert "flagged as a migration file, but the admission starts on 2023-04-01" in (
            issues[0].text
        )

    @pytest.mark.parametrize(
        ("receipt", "flagged", "code", "start"),
        [
            ("2023-04-29", True, None, "2023-01-10"),
            ("2023-04-30", True, None, "2023-01-10"),
            ("2023-05-01", True, "migration-flag", None),
            ("2023-05-01", False, None, "2023-04-01"),
            ("2023-05-31", False, None, "2023-05-01"),
            ("2023-04-30", False, "migration-flag", None),
        ],
        ids=["0429", "0430", "0501-flagged", "0501-late", "0531-late", "0430-unflagged"],
    )
    def test_last_receipt_by_the_vi(
        self, receipt: str, flagged: bool, code: str | None, start: str | None
    ) -> None:
        """Received on or before 30/4/2023: a migration file; later: a late request, which
        starts 30 days before the receipt at the earliest and is requested on that day."""
        event = admission(
            "2023-01-10",
            receipt=receipt,
            approval="2023-06-15",
            approved=("2023-01-10", "2024-01-09"),
            flagged=flagged,
        )
        if code is not None:
            assert pairs(issues_of(event)) == {(code, si("migration"))}
            return
        root = message(event)
        assert field(root, "StartDate") == start
        assert field(root, "Migration") == ("true" if flagged else "false")
        if not flagged:
            assert field(root, "RequestDate") == receipt
            assert field(root, "ViApproval/ReceiptDate") is None
            assert field(root, "InformedConsent/Date") == "2026-11-16"

    def test_a_late_request_the_vi_never_received(self) -> None:
        """No receipt: requested on the Claim's date, from 2023-04-01."""
        root = message(admission("2023-01-10"))
        assert field(root, "RequestDate") == "2026-11-20"
        assert field(root, "StartDate") == "2023-04-01"

    @pytest.mark.parametrize(
        ("flagged", "issues"),
        [
            (False, {("awaiting-vi-approval", START)}),
            (True, {("required", si("vi-approval")), ("required", si("vi-approved-period"))}),
        ],
        ids=["unflagged", "flagged"],
    )
    def test_awaiting_the_vis_approval(self, flagged: bool, issues: set[Any]) -> None:
        """Received in time, not approved yet: not sent now (awaiting-vi-approval)."""
        event = admission("2023-01-10", receipt="2023-04-20", flagged=flagged)
        found = issues_of(event)
        assert pairs(found) == issues
        if not flagged:
            assert "send it as a migration file once the VI's approval is in" in found[0].text

    @pytest.mark.parametrize(
        ("end", "follows", "code", "kind"),
        [
            ("2023-03-30", True, "nothing-to-migrate", None),
            ("2023-03-31", None, "nothing-to-migrate", None),
            ("2023-03-31", False, "nothing-to-migrate", None),
            ("2023-03-31", True, None, MigrationClass.MIGRATION_FILE_EXTENSION_FOLLOWS),
            ("2023-04-01", None, None, MigrationClass.MIGRATION_FILE),
        ],
        ids=["0330", "0331", "0331-no-extension", "0331-extension", "0401"],
    )
    def test_the_end_of_the_approved_period(
        self, end: str, follows: bool | None, code: str | None, kind: MigrationClass | None
    ) -> None:
        """Ended before the switch-over without an extension: nothing to migrate."""
        event = migration_file(approved=("2022-06-01", end), follows=follows)
        if code is not None:
            found = issues_of(event)
            assert pairs(found) == {(code, START)}
            assert "nothing to migrate" in found[0].text
            return
        assert kind_of(event) is kind
        assert field(message(event), "EndDate") == end


class TestParts:
    """Parts once, consent unless a migration file, the VI's facts in order."""

    def test_consent_required_of_a_new_request(self) -> None:
        """A new request without informed consent: consent-required."""
        event = example("26-pvt-admission-new")
        drop_info(claim_of(event), "informed-consent")
        assert pairs(issues_of(event)) == {("consent-required", si("informed-consent"))}

    def test_a_migration_files_consent_is_left_out(self) -> None:
        """Sent with a migration file, the consent is not refused and not sent."""
        event = example("27-pvt-admission-migration")
        consent = info(claim_of(example("26-pvt-admission-new")), "informed-consent")
        claim_of(event)["supportingInfo"].append(consent)
        assert "InformedConsent" not in children(message(event))

    def test_no_migration_flag_is_a_new_request(self) -> None:
        """Without the migration item the file is not flagged."""
        event = example("26-pvt-admission-new")
        drop_info(claim_of(event), "migration")
        assert field(message(event), "Migration") == "false"

    @pytest.mark.parametrize("part", ["user-type", "informed-consent", "migration", "vi-receipt"])
    def test_twice(self, part: str) -> None:
        """Any category given twice is a duplicate."""
        event = migration_file() if part == "vi-receipt" else example("26-pvt-admission-new")
        claim = claim_of(event)
        claim["supportingInfo"].append(info(claim, part))
        assert ("duplicate", si(part)) in pairs(issues_of(event))

    def test_user_type_required(self) -> None:
        """The user type is required, from the CodeSystem pvt-user-type."""
        event = example("26-pvt-admission-new")
        drop_info(claim_of(event), "user-type")
        assert pairs(issues_of(event)) == {("required", si("user-type"))}
        event = example("26-pvt-admission-new")
        info(claim_of(event), "user-type")["code"]["coding"][0]["code"] = "elderly"
        assert pairs(issues_of(event)) == {("schema", f"{si('user-type')}.code.coding[0].code")}

    @pytest.mark.parametrize(
        ("approval", "refused"),
        [("2022-05-19", True), ("2022-05-20", False), ("2022-05-21", False)],
    )
    def test_approval_not_before_receipt(self, approval: str, refused: bool) -> None:
        """The VI approves what it received: not before the receipt of 2022-05-20."""
        event = migration_file(approval=approval)
        if refused:
            assert pairs(issues_of(event)) == {("period-order", f"{si('vi-approval')}.timingDate")}
        else:
            assert field(message(event), "ViApproval/ApprovalDate") == approval

    @pytest.mark.parametrize(
        ("end", "refused"), [("2024-05-30", True), ("2024-05-31", False), ("2024-06-01", False)]
    )
    def test_approved_period_in_order(self, end: str, refused: bool) -> None:
        """The approved period's end is not before its start (2024-05-31)."""
        event = migration_file(approved=("2024-05-31", end))
        expression = f"{si('vi-approved-period')}.timingPeriod.end"
        if refused:
            assert ("period-order", expression) in pairs(issues_of(event))
        else:
            validate_event(read_envelope(raw(event)), FACILITY)

    @pytest.mark.parametrize(
        ("end", "refused"), [("2026-11-15", True), ("2026-11-16", False), ("2026-11-17", False)]
    )
    def test_requested_period_in_order(self, end: str, refused: bool) -> None:
        """The requested end is not before the admission (2026-11-16)."""
        event = example("26-pvt-admission-new")
        claim_of(event)["billablePeriod"]["end"] = end
        if refused:
            assert pairs(issues_of(event)) == {("period-order", "Claim.billablePeriod.end")}
        else:
            assert field(message(event), "EndDate") == end

    def test_without_an_end(self) -> None:
        """An open admission has no EndDate."""
        event = example("26-pvt-admission-new")
        del claim_of(event)["billablePeriod"]["end"]
        assert "EndDate" not in children(message(event))

    @pytest.mark.parametrize(
        ("part", "key"),
        [
            ("vi-receipt", "timingDate"),
            ("vi-approval", "timingDate"),
            ("vi-approved-period", "timingPeriod.start"),
            ("vi-approved-period", "timingPeriod.end"),
        ],
    )
    def test_calendar_dates(self, part: str, key: str) -> None:
        """Each of the VI's dates must exist (2023-02-29 does not)."""
        event = migration_file()
        item = info(claim_of(event), part)
        *parents, last = key.split(".")
        for name in parents:
            item = item[name]
        item[last] = "2023-02-29"
        assert ("date-invalid", f"{si(part)}.{key}") in pairs(issues_of(event))


class TestDiagnosis:
    """A DSM-5 code in one of the XSD's two forms; never repeated in a text."""

    @pytest.mark.parametrize("code", ["F20.9", "F71", "F20.A1B2", "295", "295.9", "295.90"])
    def test_accepted_forms(self, code: str) -> None:
        """ICD-10-CM (letter, two digits, up to four more) or ICD-9-CM (three digits, two)."""
        event = example("26-pvt-admission-new")
        claim_of(event)["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][0]["code"] = code
        assert field(message(event), "Diagnosis") == code

    @pytest.mark.parametrize(
        "code", ["F2", "f20.9", "F20.", "F20.12345", "2959", "295.901", " F20.9", "F20.9 ", ""]
    )
    def test_refused_forms(self, code: str) -> None:
        """Anything else is dsm5-code, naming the code's element, not the code."""
        event = example("26-pvt-admission-new")
        claim_of(event)["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][0]["code"] = code
        issues = issues_of(event)
        assert pairs(issues) == {("dsm5-code", DSM5_CODE)}
        assert code.strip() == "" or code.strip() not in issues[0].text

    def test_a_coding_of_another_system(self) -> None:
        """Only an ICD-10 coding: dsm5-code on the missing DSM-5 coding."""
        event = example("26-pvt-admission-new")
        coding = claim_of(event)["diagnosis"][0]["diagnosisCodeableConcept"]["coding"]
        coding[0]["system"] = "http://hl7.org/fhir/sid/icd-10"
        expression = f"Claim.diagnosis[0].diagnosisCodeableConcept.coding.where(system='{DSM5}')"
        assert pairs(issues_of(event)) == {("dsm5-code", expression)}

    def test_the_dsm5_coding_beside_another(self) -> None:
        """Another coding before the DSM-5 one is not sent; the DSM-5 code is."""
        event = example("26-pvt-admission-new")
        coding = claim_of(event)["diagnosis"][0]["diagnosisCodeableConcept"]["coding"]
        coding.insert(0, {"system": "http://hl7.org/fhir/sid/icd-10", "code": "F20"})
        assert field(message(event), "Diagnosis") == "F20.9"


class TestAnswer:
    """The admission's answer: the granted period, led by the file's class."""

    @pytest.mark.parametrize("code", ["pvt-admission", "pvt-extension"])
    def test_with_the_granted_period(self, code: str) -> None:
        """The admission and the extension read the period the central application granted."""
        assert MESSAGE_TYPES[code].answer is GRANTED

    def test_the_class_leads_the_claim_response(self) -> None:
        """The focus repeats the migration file's class and reason, then its period; R4."""
        found = classify_event(read_envelope(raw(example("27-pvt-admission-migration"))))
        assert found is not None
        head = AnswerHead(
            "ans-1",
            "evt-1",
            "pvt-admission",
            Outcome.ACCEPTED,
            "VSB-2026-000005",
            (),
            datetime(2026, 11, 20, 10, 31, tzinfo=UTC),
            found,
        )
        bundle = to_fhir_answer(head, GRANTED, GrantedPeriod("2022-06-01", "2024-05-31"))
        parse_r4(bundle)
        focus: dict[str, Any] = bundle["entry"][1]["resource"]
        assert focus["extension"][0]["url"] == MIGRATION_CLASS_EXTENSION
        assert focus["extension"][0]["extension"][0]["valueCode"] == "migration-file"
        assert "2022-05-30" in focus["extension"][0]["extension"][1]["valueString"]
        assert focus["preAuthPeriod"] == {"start": "2022-06-01", "end": "2024-05-31"}
