"""Validation rules: each violation gives its own issue code and FHIRPath expression."""

from __future__ import annotations

from typing import Any

import pytest

from mappings import Facility, read_envelope, validate_event
from mappings.vocabulary import HCO_SYSTEM, SUPPORTING_INFO_SYSTEM
from tests.mappings.helpers import (
    DOSSIER_EXPRESSION,
    FACILITY,
    INSZ_EXPRESSION,
    NIHDI_EXPRESSION,
    SEQUENCE_EXPRESSION,
    category,
    drop_info,
    info,
    issues_of,
    migrate,
    pairs,
    patient_insz,
    raw,
    resource,
    set_insz,
)

HCO_EXPRESSION = f"Organization.identifier.where(system='{HCO_SYSTEM}').value"


def si(code: str) -> str:
    """The expression of a supportingInfo item of a category."""
    return f"Claim.supportingInfo.where(category.coding.code='{code}')"


class TestIdentifiers:
    """INSZ/BIS of the Patient, NIHDI/HCO of the Organization."""

    def test_bad_insz_check_digit(self, application: dict[str, Any]) -> None:
        """An INSZ with wrong check digits gives insz-check-digit on the INSZ value."""
        set_insz(application, "85073003329")
        assert pairs(issues_of(application)) == {("insz-check-digit", INSZ_EXPRESSION)}

    def test_bad_bis_check_digit(self, application: dict[str, Any]) -> None:
        """A BIS number with wrong check digits is refused the same way."""
        set_insz(application, "90411706254")
        assert pairs(issues_of(application)) == {("insz-check-digit", INSZ_EXPRESSION)}

    def test_post_2000_insz_accepted(self, application: dict[str, Any]) -> None:
        """An INSZ of a child born in 2012 is accepted."""
        set_insz(application, "12031512419")
        validate_event(read_envelope(raw(application)), FACILITY)

    @pytest.mark.parametrize("value", ["8507300332", "85.07.30-033.28", "850730033280"])
    def test_insz_format(self, application: dict[str, Any], value: str) -> None:
        """An INSZ that is not 11 digits is a schema issue on the INSZ value."""
        set_insz(application, value)
        issues = issues_of(application)
        assert pairs(issues) == {("schema", INSZ_EXPRESSION)}
        assert value not in issues[0].text

    def test_insz_missing(self, application: dict[str, Any]) -> None:
        """A Patient without an INSZ identifier gives a required issue."""
        resource(application, "Patient")["identifier"][0]["system"] = "urn:other"
        assert pairs(issues_of(application)) == {("required", INSZ_EXPRESSION)}

    def test_organization_nihdi_check_digit(self, application: dict[str, Any]) -> None:
        """A facility NIHDI failing both check schemes gives nihdi-check-digit."""
        resource(application, "Organization")["identifier"][0]["value"] = "71012315001"
        assert pairs(issues_of(application)) == {("nihdi-check-digit", NIHDI_EXPRESSION)}

    def test_nihdi_of_another_facility(self, application: dict[str, Any]) -> None:
        """An event of another facility gives facility-mismatch on the NIHDI."""
        other = Facility(nihdi="71012308001", hco=FACILITY.hco)
        assert pairs(issues_of(application, other)) == {("facility-mismatch", NIHDI_EXPRESSION)}

    def test_hco_of_another_facility(self, application: dict[str, Any]) -> None:
        """An event with another HCO number gives facility-mismatch on the HCO."""
        other = Facility(nihdi=FACILITY.nihdi, hco="40012346")
        assert pairs(issues_of(application, other)) == {("facility-mismatch", HCO_EXPRESSION)}

    def test_hco_missing(self, application: dict[str, Any]) -> None:
        """An Organization without an HCO identifier gives a required issue."""
        organization = resource(application, "Organization")
        organization["identifier"] = organization["identifier"][:1]
        assert pairs(issues_of(application)) == {("required", HCO_EXPRESSION)}

    def test_physician_nihdi_check_digit(self, application: dict[str, Any]) -> None:
        """A physician NIHDI failing the check gives nihdi-check-digit on the care team member."""
        claim = resource(application, "Claim")
        claim["careTeam"][0]["provider"]["identifier"]["value"] = "12345626580"
        expression = (
            "Claim.careTeam.where(role.coding.code='medical-report').provider.identifier.value"
        )
        assert pairs(issues_of(application)) == {("nihdi-check-digit", expression)}


class TestEnvelope:
    """Event code, dossier id, sequence number and the Bundle's resources."""

    def test_unknown_event_code(self, application: dict[str, Any]) -> None:
        """An event code the adapter does not know gives unknown-event."""
        resource(application, "MessageHeader")["eventCoding"]["code"] = "no-such-event"
        issues = issues_of(application)
        assert ("unknown-event", "MessageHeader.eventCoding.code") in pairs(issues)

    def test_missing_event_code(self, application: dict[str, Any]) -> None:
        """An event without an event code gives a required issue."""
        del resource(application, "MessageHeader")["eventCoding"]["code"]
        assert ("required", "MessageHeader.eventCoding.code") in pairs(issues_of(application))

    def test_missing_dossier(self, application: dict[str, Any]) -> None:
        """An event without a dossier id gives a required issue on the dossier extension."""
        header = resource(application, "MessageHeader")
        header["extension"] = header["extension"][1:]
        assert pairs(issues_of(application)) == {("required", DOSSIER_EXPRESSION)}

    def test_missing_sequence(self, application: dict[str, Any]) -> None:
        """An event without a sequence number gives a required issue on the sequence extension."""
        header = resource(application, "MessageHeader")
        header["extension"] = header["extension"][:1]
        assert pairs(issues_of(application)) == {("required", SEQUENCE_EXPRESSION)}

    def test_missing_both(self, look_up: dict[str, Any]) -> None:
        """A look-up without extensions misses both its dossier id and its sequence number."""
        del resource(look_up, "MessageHeader")["extension"]
        expected = {("required", DOSSIER_EXPRESSION), ("required", SEQUENCE_EXPRESSION)}
        assert pairs(issues_of(look_up)) == expected

    @pytest.mark.parametrize("value", [0, "2", True, 2**31])
    def test_malformed_sequence(self, application: dict[str, Any], value: object) -> None:
        """A sequence that is not a positive integer gives a sequence issue."""
        resource(application, "MessageHeader")["extension"][1]["valuePositiveInt"] = value
        assert ("sequence", SEQUENCE_EXPRESSION) in pairs(issues_of(application))

    def test_blank_dossier(self, application: dict[str, Any]) -> None:
        """A blank dossier id gives a dossier-id issue."""
        resource(application, "MessageHeader")["extension"][0]["valueString"] = "  "
        assert ("dossier-id", DOSSIER_EXPRESSION) in pairs(issues_of(application))

    def test_two_patients(self, application: dict[str, Any]) -> None:
        """A second Patient gives a duplicate issue on the Patient resources."""
        application["entry"].append(
            {
                "fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000001",
                "resource": resource(application, "Patient"),
            }
        )
        expected = ("duplicate", "Bundle.entry.resource.ofType(Patient)")
        assert expected in pairs(issues_of(application))

    def test_missing_organization(self, application: dict[str, Any]) -> None:
        """An event without the facility Organization gives a required issue."""
        application["entry"] = [
            entry
            for entry in application["entry"]
            if entry["resource"]["resourceType"] != "Organization"
        ]
        expected = ("required", "Bundle.entry.resource.ofType(Organization)")
        assert expected in pairs(issues_of(application))

    def test_dangling_focus(self, application: dict[str, Any]) -> None:
        """A focus that references no entry gives a focus issue."""
        header = resource(application, "MessageHeader")
        header["focus"][0]["reference"] = "urn:uuid:00000000-0000-4000-8000-000000000002"
        assert pairs(issues_of(application)) == {("focus", "MessageHeader.focus[0].reference")}

    def test_focus_of_wrong_type(
        self, look_up: dict[str, Any], application: dict[str, Any]
    ) -> None:
        """An insurance-status event whose focus is a Claim gives a focus issue."""
        header = resource(application, "MessageHeader")
        header["eventCoding"]["code"] = "insurance-status"
        assert ("focus", "MessageHeader.focus[0].reference") in pairs(issues_of(application))

    def test_patient_reference(self, application: dict[str, Any]) -> None:
        """A Claim.patient that is not the Patient entry gives a reference issue."""
        resource(application, "Claim")["patient"]["reference"] = "urn:uuid:other"
        assert pairs(issues_of(application)) == {("reference", "Claim.patient.reference")}

    def test_header_must_come_first(self, application: dict[str, Any]) -> None:
        """A MessageHeader that is not the first entry is refused."""
        application["entry"].reverse()
        issues = issues_of(application)
        assert ("message-header", "Claim.resourceType") in pairs(issues)
        assert "first entry" in issues[0].text

    def test_not_a_message(self, application: dict[str, Any]) -> None:
        """A Bundle that is not of type message is a schema issue on Bundle.type."""
        application["type"] = "collection"
        assert pairs(issues_of(application)) == {("schema", "Bundle.type")}


class TestApplication:
    """Domain rules of reva-application that need no central application."""

    def test_care_setting_must_be_ambulant(self, application: dict[str, Any]) -> None:
        """A care setting other than ambulant gives care-setting."""
        claim = resource(application, "Claim")
        info(claim, "care-setting")["code"]["coding"][0]["code"] = "residential"
        expression = f"{si('care-setting')}.code.coding[0].code"
        assert pairs(issues_of(application)) == {("care-setting", expression)}

    def test_end_before_start(self, application: dict[str, Any]) -> None:
        """An end date before the start date gives period-order on the end date."""
        resource(application, "Claim")["billablePeriod"]["end"] = "2026-11-01"
        assert pairs(issues_of(application)) == {("period-order", "Claim.billablePeriod.end")}

    def test_end_equal_to_start(self, application: dict[str, Any]) -> None:
        """An end date equal to the start date is not after it."""
        resource(application, "Claim")["billablePeriod"]["end"] = "2026-11-02"
        assert pairs(issues_of(application)) == {("period-order", "Claim.billablePeriod.end")}

    def test_impossible_date(self, application: dict[str, Any]) -> None:
        """A well-formed but impossible date gives date-invalid."""
        resource(application, "Claim")["billablePeriod"]["start"] = "2026-02-30"
        assert pairs(issues_of(application)) == {("date-invalid", "Claim.billablePeriod.start")}

    def test_malformed_date(self, application: dict[str, Any]) -> None:
        """A date in another format is a schema issue that says which format is expected."""
        resource(application, "Claim")["billablePeriod"]["start"] = "02/11/2026"
        issues = issues_of(application)
        assert pairs(issues) == {("schema", "Claim.billablePeriod.start")}
        assert "YYYY-MM-DD" in issues[0].text

    def test_created_may_be_a_datetime(self, application: dict[str, Any]) -> None:
        """Claim.created may be a dateTime, as FHIR libraries often write it."""
        resource(application, "Claim")["created"] = "2026-11-20T08:15:00+01:00"
        validate_event(read_envelope(raw(application)), FACILITY)

    @pytest.mark.parametrize("code", ["request-type", "care-setting", "location", "referred-by"])
    def test_required_part_missing(self, application: dict[str, Any], code: str) -> None:
        """A missing required supportingInfo item gives a required issue naming its category."""
        drop_info(resource(application, "Claim"), code)
        assert pairs(issues_of(application)) == {("required", si(code))}

    def test_part_repeated(self, application: dict[str, Any]) -> None:
        """A repeated supportingInfo item gives a duplicate issue."""
        claim = resource(application, "Claim")
        claim["supportingInfo"].append(dict(info(claim, "location")))
        assert pairs(issues_of(application)) == {("duplicate", si("location"))}

    def test_consent_required(self, application: dict[str, Any]) -> None:
        """An application without informed consent gives consent-required."""
        drop_info(resource(application, "Claim"), "informed-consent")
        assert pairs(issues_of(application)) == {("consent-required", si("informed-consent"))}

    def test_migration_needs_no_consent(self, application: dict[str, Any]) -> None:
        """A migration file (before 1/10/2023, VI-approved) may come without informed consent."""
        claim = resource(application, "Claim")
        drop_info(claim, "informed-consent")
        migrate(claim, start="2023-09-30", approval="2023-09-15")
        validate_event(read_envelope(raw(application)), FACILITY)

    @pytest.mark.parametrize(
        ("start", "approval", "flagged", "refused"),
        [
            ("2023-09-30", "2023-09-15", True, False),
            ("2023-10-01", "2023-09-15", True, True),
            ("2023-10-02", None, True, True),
            ("2023-09-30", None, True, True),
            ("2023-09-30", "2023-09-15", False, True),
            ("2023-10-01", None, False, False),
        ],
        ids=["0930-approved", "1001-approved", "1002", "0930-unapproved", "0930-unflagged",
             "1001-normal"],
    )  # fmt: skip
    def test_migration_flag_must_agree_with_the_dates(
        self,
        application: dict[str, Any],
        start: str,
        approval: str | None,
        flagged: bool,
        refused: bool,
    ) -> None:
        """A flag contradicting the switch-over of 1/10/2023 is refused with the class's reason."""
        claim = resource(application, "Claim")
        migrate(claim, start=start, approval=approval, flagged=flagged)
        if refused:
            assert pairs(issues_of(application)) == {("migration-flag", si("migration"))}
        else:
            validate_event(read_envelope(raw(application)), FACILITY)

    def test_unknown_category(self, application: dict[str, Any]) -> None:
        """A supportingInfo category outside the CodeSystem is a schema issue."""
        claim = resource(application, "Claim")
        claim["supportingInfo"].append({"sequence": 9, "category": category("colour")})
        expression = (
            "Claim.supportingInfo.where(category.coding.code='colour').category.coding[0].code"
        )
        assert pairs(issues_of(application)) == {("schema", expression)}

    @pytest.mark.parametrize("data", ["not base64!", "QQ", "QR=="])
    def test_bad_base64(self, application: dict[str, Any], data: str) -> None:
        """A medical report that is not canonical base64 gives a base64 issue on its data."""
        claim = resource(application, "Claim")
        info(claim, "medical-report")["valueAttachment"]["data"] = data
        expression = f"{si('medical-report')}.valueAttachment.data"
        assert pairs(issues_of(application)) == {("base64", expression)}

    def test_transport_physician_without_report(self, application: dict[str, Any]) -> None:
        """A transport physician without part 4 gives a required issue on part 4."""
        claim = resource(application, "Claim")
        member = dict(claim["careTeam"][0])
        member["role"] = {
            "coding": [
                {"system": "urn:vsb-adapter:fhir:care-team-role", "code": "transport-report"}
            ]
        }
        claim["careTeam"].append(member)
        assert pairs(issues_of(application)) == {("required", si("transport-report"))}

    def test_contact_person_required(self, application: dict[str, Any]) -> None:
        """An application without a contact person (part 1) gives a required issue."""
        del resource(application, "Organization")["contact"]
        assert pairs(issues_of(application)) == {("required", "Organization.contact.name")}

    def test_diagnosis_required(self, application: dict[str, Any]) -> None:
        """An application without a diagnosis (part 3) gives a required issue."""
        del resource(application, "Claim")["diagnosis"]
        assert pairs(issues_of(application)) == {("required", "Claim.diagnosis")}

    def test_exception_request_needs_motivation(self, application: dict[str, Any]) -> None:
        """An exception request without motivation gives a required issue on its reason."""
        claim = resource(application, "Claim")
        report = info(claim, "medical-report")["valueAttachment"]
        claim["supportingInfo"].append(
            {"category": category("exception-request"), "valueAttachment": report}
        )
        expression = f"{si('exception-request')}.reason"
        assert pairs(issues_of(application)) == {("required", expression)}

    def test_xml_incompatible_character(self, application: dict[str, Any]) -> None:
        """A control character in a text sent to the central application gives xml-character."""
        info(resource(application, "Claim"), "referred-by")["valueString"] = "GP\u0007"
        expression = f"{si('referred-by')}.valueString"
        assert pairs(issues_of(application)) == {("xml-character", expression)}

    def test_xml_incompatible_contact(self, application: dict[str, Any]) -> None:
        """A control character in the contact person is found too."""
        resource(application, "Organization")["contact"][0]["name"]["text"] = "An\u0000"
        expression = "Organization.contact[0].name.text"
        assert pairs(issues_of(application)) == {("xml-character", expression)}

    def test_all_issues_at_once(self, application: dict[str, Any]) -> None:
        """Validation reports every broken rule, not only the first."""
        set_insz(application, "85073003329")
        resource(application, "Claim")["billablePeriod"]["end"] = "2026-01-01"
        drop_info(resource(application, "Claim"), "location")
        header = resource(application, "MessageHeader")
        header["extension"] = header["extension"][:1]
        assert pairs(issues_of(application)) == {
            ("insz-check-digit", INSZ_EXPRESSION),
            ("period-order", "Claim.billablePeriod.end"),
            ("required", si("location")),
            ("required", SEQUENCE_EXPRESSION),
        }


class TestStop:
    """Rules of reva-stop."""

    def test_referral_required(self, stop: dict[str, Any]) -> None:
        """A stop without the referral after the trajectory gives a required issue."""
        drop_info(resource(stop, "Claim"), "referral-after")
        assert pairs(issues_of(stop)) == {("required", si("referral-after"))}

    def test_unknown_reason(self, stop: dict[str, Any]) -> None:
        """A stop reason outside the list is a schema issue on the reason code."""
        info(resource(stop, "Claim"), "stop")["code"]["coding"][0]["code"] = "bored"
        expression = f"{si('stop')}.code.coding[0].code"
        assert pairs(issues_of(stop)) == {("schema", expression)}

    def test_pre_auth_ref_is_ignored(self, stop: dict[str, Any]) -> None:
        """A VSB reference number in the event neither helps nor hurts."""
        resource(stop, "Claim")["insurance"][0]["preAuthRef"] = ["whatever"]
        validate_event(read_envelope(raw(stop)), FACILITY)


class TestPrivacy:
    """Issue texts name the field and the rule, never the value."""

    @pytest.mark.parametrize(
        "value", ["85073003329", "8507300332", "85073003328x", "90411706254", "850730033"]
    )
    def test_texts_never_contain_the_insz(self, application: dict[str, Any], value: str) -> None:
        """No issue text contains the INSZ, whatever is wrong with it."""
        set_insz(application, value)
        resource(application, "Claim")["billablePeriod"]["end"] = "2020-01-01"
        for issue in issues_of(application):
            assert value not in issue.text
            assert value not in (issue.expression or "")

    def test_texts_never_contain_free_text(self, application: dict[str, Any]) -> None:
        """A bad diagnosis or contact value is named by its field, not quoted."""
        claim = resource(application, "Claim")
        diagnosis = "x" * 2001
        claim["diagnosis"][0]["diagnosisCodeableConcept"]["text"] = diagnosis
        issues = issues_of(application)
        expression = "Claim.diagnosis[0].diagnosisCodeableConcept.text"
        assert pairs(issues) == {("schema", expression)}
        assert diagnosis[:50] not in issues[0].text

    @pytest.mark.parametrize("template", ["{} x", "{}", "code-{}"])
    def test_insz_not_used_as_selector(self, application: dict[str, Any], template: str) -> None:
        """A personal value in a discriminator is never copied into an expression."""
        claim = resource(application, "Claim")
        insz = patient_insz(application)
        code = template.format(insz)
        claim["supportingInfo"].append(
            {"category": {"coding": [{"system": SUPPORTING_INFO_SYSTEM, "code": code}]}}
        )
        for issue in issues_of(application):
            assert insz not in issue.text
            assert insz not in (issue.expression or "")
