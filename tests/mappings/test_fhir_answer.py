"""The FHIR-shaped answers the adapter publishes to the EPD."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from mappings import MESSAGE_TYPES, AnswerHead, Issue, Outcome, to_fhir_answer
from mappings.answers.eligibility import InsuranceStatus
from mappings.answers.increased_allowance import IncreasedAllowance
from mappings.answers.personal_share import PersonalShare
from mappings.migration import classify_reva
from mappings.vocabulary import (
    DECISION_SYSTEM,
    ELIGIBILITY_ITEM_SYSTEM,
    MIGRATION_CLASS_EXTENSION,
    OUTCOME_EXTENSION,
)
from tests.support.fhir import parse_r4

CREATED = datetime(2026, 11, 20, 10, 31, tzinfo=UTC)


def answer(
    outcome: Outcome,
    event_code: str | None = "reva-application",
    issues: tuple[Issue, ...] = (),
    body: object = None,
    vsb_reference: str | None = None,
    created_at: datetime = CREATED,
) -> dict[str, Any]:
    """An answer for event evt-1 with answer id ans-1, checked to be valid FHIR."""
    head = AnswerHead("ans-1", "evt-1", event_code, outcome, vsb_reference, issues, created_at)
    message_type = MESSAGE_TYPES.get(event_code or "")
    kind = message_type.answer if message_type is not None else None
    bundle = to_fhir_answer(head, kind, body)
    parse_r4(bundle)
    return bundle


def header(bundle: dict[str, Any]) -> dict[str, Any]:
    """The MessageHeader of an answer."""
    resource: dict[str, Any] = bundle["entry"][0]["resource"]
    return resource


def focus(bundle: dict[str, Any]) -> dict[str, Any]:
    """The focus resource of an answer, found through MessageHeader.focus."""
    reference = header(bundle)["focus"][0]["reference"]
    for entry in bundle["entry"]:
        if entry["fullUrl"] == reference:
            resource: dict[str, Any] = entry["resource"]
            return resource
    raise KeyError(reference)


def outcome_code(bundle: dict[str, Any]) -> str:
    """The one field an integrator switches on."""
    for extension in header(bundle)["extension"]:
        if extension["url"] == OUTCOME_EXTENSION:
            return str(extension["valueCode"])
    raise KeyError(OUTCOME_EXTENSION)


def test_envelope() -> None:
    """The answer is a message Bundle with the answer id, answering the event id."""
    bundle = answer(Outcome.ACCEPTED)
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "message"
    assert bundle["id"] == "ans-1"
    assert bundle["timestamp"] == "2026-11-20T10:31:00+00:00"
    assert header(bundle)["response"] == {"identifier": "evt-1", "code": "ok"}
    assert header(bundle)["eventCoding"]["code"] == "reva-application"


def test_accepted_application() -> None:
    """An accepted application is a complete ClaimResponse with agreement and preAuthRef."""
    bundle = answer(Outcome.ACCEPTED, vsb_reference="VSB-2026-000042")
    claim_response = focus(bundle)
    assert outcome_code(bundle) == "accepted"
    assert claim_response["resourceType"] == "ClaimResponse"
    assert claim_response["outcome"] == "complete"
    assert claim_response["preAuthRef"] == "VSB-2026-000042"
    assert claim_response["request"]["identifier"]["value"] == "evt-1"
    assert claim_response["adjudication"][0]["category"]["coding"][0] == {
        "system": DECISION_SYSTEM,
        "code": "agreement",
    }
    assert "error" not in claim_response


def test_in_beraad() -> None:
    """An application in beraad is a partial ClaimResponse with decision intreatment."""
    bundle = answer(Outcome.IN_BERAAD)
    claim_response = focus(bundle)
    assert outcome_code(bundle) == "in-beraad"
    assert claim_response["outcome"] == "partial"
    assert claim_response["adjudication"][0]["category"]["coding"][0]["code"] == "intreatment"
    assert "preAuthRef" not in claim_response


def test_refused() -> None:
    """A refusal is a complete ClaimResponse with decision refusal and every error."""
    issue = Issue("E-AFF-03", "Cannot join.", "/RevaApplication/Insz", level="E")
    bundle = answer(Outcome.REFUSED, event_code="reva-stop", issues=(issue,))
    claim_response = focus(bundle)
    assert outcome_code(bundle) == "refused"
    assert header(bundle)["response"]["code"] == "ok"
    assert claim_response["adjudication"][0]["category"]["coding"][0]["code"] == "refusal"
    error = claim_response["error"][0]
    assert error["code"]["coding"][0]["code"] == "E-AFF-03"
    assert error["code"]["text"] == "Cannot join."
    assert {"url": "urn:vsb-adapter:fhir:error-level", "valueCode": "E"} in error["extension"]


def test_invalid() -> None:
    """An invalid event is answered by an OperationOutcome with one issue per problem."""
    issues = (
        Issue("insz-check-digit", "Patient… is not a valid INSZ.", "Patient.identifier.value"),
        Issue("required", "Bundle.timestamp is required.", None),
    )
    bundle = answer(Outcome.INVALID, event_code=None, issues=issues)
    outcome = focus(bundle)
    assert outcome_code(bundle) == "invalid"
    assert header(bundle)["response"]["code"] == "fatal-error"
    assert header(bundle)["response"]["details"] == header(bundle)["focus"][0]
    assert "code" not in header(bundle)["eventCoding"]
    assert outcome["resourceType"] == "OperationOutcome"
    first, second = outcome["issue"]
    assert first["severity"] == "error"
    assert (first["code"], second["code"]) == ("value", "required")
    assert first["details"]["coding"][0]["code"] == "insz-check-digit"
    assert first["diagnostics"] == "Patient… is not a valid INSZ."
    assert first["expression"] == ["Patient.identifier.value"]
    assert "expression" not in second


def test_insurance_status() -> None:
    """An insurance status is a CoverageEligibilityResponse with affiliation and care fund."""
    insurance = InsuranceStatus("affiliated", "180", "2026-01-01")
    bundle = answer(Outcome.ACCEPTED, event_code="insurance-status", body=insurance)
    response = focus(bundle)
    assert response["resourceType"] == "CoverageEligibilityResponse"
    assert response["outcome"] == "complete"
    item = response["insurance"][0]
    assert item["inforce"] is True
    assert item["coverage"]["identifier"]["value"] == "180"
    assert item["benefitPeriod"] == {"start": "2026-01-01"}
    assert item["extension"][0]["valueCode"] == "affiliated"


def test_insurance_status_can_join() -> None:
    """A person who can still join is not in force and has no care fund."""
    bundle = answer(
        Outcome.IN_BERAAD,
        event_code="insurance-status",
        body=InsuranceStatus("can-join", None, None),
    )
    item = focus(bundle)["insurance"][0]
    assert item["inforce"] is False
    assert "identifier" not in item["coverage"]
    assert item["extension"][0]["valueCode"] == "can-join"


def test_deterministic_and_serialisable() -> None:
    """The same answer is built byte-for-byte the same, so a republish is a true duplicate."""
    first = json.dumps(answer(Outcome.ACCEPTED), sort_keys=True)
    second = json.dumps(answer(Outcome.ACCEPTED), sort_keys=True)
    assert first == second
    assert answer(Outcome.ACCEPTED)["entry"][0]["fullUrl"].startswith("urn:uuid:")


def test_naive_timestamp_is_utc() -> None:
    """A naive creation time is read as UTC so the timestamp is a valid FHIR instant."""
    bundle = answer(Outcome.ACCEPTED, created_at=datetime(2026, 11, 20, 10, 31))
    assert bundle["timestamp"] == "2026-11-20T10:31:00+00:00"


def test_the_patient_is_named_without_personal_data() -> None:
    """FHIR requires a patient: it is there, withheld as masked, with no identifier."""
    for code in ("reva-application", "insurance-status"):
        patient = focus(answer(Outcome.ACCEPTED, event_code=code))["patient"]
        assert patient == {
            "extension": [
                {
                    "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                    "valueCode": "masked",
                }
            ]
        }


def test_migration_class_is_an_extension_of_the_focus() -> None:
    """The adapter's migration class and its reason lead the focus's extensions, valid R4."""
    classification = classify_reva(date(2023, 9, 30), date(2023, 9, 15))
    for kind in ("reva-application", "insurance-status"):
        head = AnswerHead(
            "ans-1", "evt-1", kind, Outcome.ACCEPTED, None, (), CREATED, classification
        )
        bundle = to_fhir_answer(head, MESSAGE_TYPES[kind].answer, None)
        parse_r4(bundle)
        (extension, *others) = focus(bundle)["extension"]
        assert extension["url"] == MIGRATION_CLASS_EXTENSION
        assert extension["extension"] == [
            {"url": "class", "valueCode": "migration-file"},
            {"url": "reason", "valueString": classification.reason},
        ]
        assert others == []
    assert "extension" not in focus(answer(Outcome.ACCEPTED))


def benefits_of(response: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The benefits of a look-up's one item, by their type code."""
    [item] = response["insurance"][0]["item"]
    return {benefit["type"]["coding"][0]["code"]: benefit for benefit in item["benefit"]}


def eligibility_coding(code: str) -> dict[str, Any]:
    """A CodeableConcept of the project's eligibility-item CodeSystem."""
    return {"coding": [{"system": ELIGIBILITY_ITEM_SYSTEM, "code": code}]}


class TestIncreasedAllowance:
    """increased-allowance-status answers: a CoverageEligibilityResponse of purpose benefits."""

    def test_entitled_with_its_period(self) -> None:
        """Entitled: VSB coverage, the period, the item with its benefit ``entitled``."""
        body = IncreasedAllowance(True, date(2026, 1, 1), date(2026, 12, 31))
        bundle = answer(Outcome.ACCEPTED, event_code="increased-allowance-status", body=body)
        response = focus(bundle)
        assert response["resourceType"] == "CoverageEligibilityResponse"
        assert response["purpose"] == ["benefits"]
        assert response["outcome"] == "complete"
        assert response["insurance"] == [
            {
                "coverage": {"display": "VSB"},
                "benefitPeriod": {"start": "2026-01-01", "end": "2026-12-31"},
                "item": [
                    {
                        "category": eligibility_coding("increased-allowance"),
                        "benefit": [
                            {
                                "type": eligibility_coding("increased-allowance"),
                                "allowedString": "entitled",
                            }
                        ],
                    }
                ],
            }
        ]
        assert "error" not in response

    def test_not_entitled_without_dates(self) -> None:
        """Not entitled, no period known: no benefitPeriod (FHIR allows no empty one)."""
        body = IncreasedAllowance(False)
        response = focus(
            answer(Outcome.ACCEPTED, event_code="increased-allowance-status", body=body)
        )
        insurance = response["insurance"][0]
        assert "benefitPeriod" not in insurance
        assert benefits_of(response)["increased-allowance"]["allowedString"] == "not-entitled"

    @pytest.mark.parametrize(
        ("valid_from", "valid_to", "period"),
        [
            (date(2026, 1, 1), None, {"start": "2026-01-01"}),
            (None, date(2026, 12, 31), {"end": "2026-12-31"}),
        ],
    )
    def test_one_bound_known(
        self, valid_from: date | None, valid_to: date | None, period: dict[str, str]
    ) -> None:
        """Only the bound the answer gave is in the period."""
        body = IncreasedAllowance(True, valid_from, valid_to)
        response = focus(
            answer(Outcome.ACCEPTED, event_code="increased-allowance-status", body=body)
        )
        assert response["insurance"][0]["benefitPeriod"] == period

    def test_refused_without_body(self) -> None:
        """Refused (a wrong INSZ, say): no insurance, the error's code, outcome error."""
        issue = Issue("VSB-INSZ-01", "Unknown person.", "/IncreasedAllowanceRequest/Insz", "E")
        bundle = answer(Outcome.REFUSED, event_code="increased-allowance-status", issues=(issue,))
        response = focus(bundle)
        assert outcome_code(bundle) == "refused"
        assert response["outcome"] == "error"
        assert response["purpose"] == ["benefits"]
        assert "insurance" not in response
        assert response["error"][0]["code"]["coding"][0]["code"] == "VSB-INSZ-01"

    def test_in_beraad_without_body(self) -> None:
        """In beraad without the part: partial, no insurance."""
        response = focus(answer(Outcome.IN_BERAAD, event_code="increased-allowance-status"))
        assert response["outcome"] == "partial"
        assert "insurance" not in response


class TestPersonalShare:
    """personal-share answers: the amount as Money, with the increased allowance it rests on."""

    def test_amount_and_increased_allowance(self) -> None:
        """The personal-share benefit first (allowedMoney, EUR), then increased-allowance."""
        body = PersonalShare(Decimal("17.55"), True, date(2026, 3, 1))
        bundle = answer(Outcome.ACCEPTED, event_code="personal-share", body=body)
        response = focus(bundle)
        assert response["purpose"] == ["benefits"]
        insurance = response["insurance"][0]
        assert insurance["coverage"] == {"display": "VSB"}
        assert insurance["benefitPeriod"] == {"start": "2026-03-01"}
        [item] = insurance["item"]
        assert item["category"] == eligibility_coding("personal-share")
        assert item["benefit"] == [
            {
                "type": eligibility_coding("personal-share"),
                "allowedMoney": {"value": 17.55, "currency": "EUR"},
            },
            {"type": eligibility_coding("increased-allowance"), "allowedString": "entitled"},
        ]
        # As the EPD reads it: the JSON text of the amount is the answer's, not a float's tail.
        text = json.dumps(bundle)
        assert '"value": 17.55,' in text
        value = json.loads(text, parse_float=Decimal)["entry"][1]["resource"]["insurance"][0]
        assert value["item"][0]["benefit"][0]["allowedMoney"]["value"] == Decimal("17.55")

    def test_without_increased_allowance_and_start(self) -> None:
        """Not entitled, no start known: no period, ``not-entitled``."""
        body = PersonalShare(Decimal("35.00"), False)
        response = focus(answer(Outcome.ACCEPTED, event_code="personal-share", body=body))
        assert "benefitPeriod" not in response["insurance"][0]
        benefits = benefits_of(response)
        assert benefits["personal-share"]["allowedMoney"] == {"value": 35.0, "currency": "EUR"}
        assert benefits["increased-allowance"]["allowedString"] == "not-entitled"

    @pytest.mark.parametrize(
        "amount", ["0.00", "0", "0.01", "99999.99", "123456789012.99", "9999999999999.99"]
    )
    def test_amounts_at_the_edges_come_out_as_written(self, amount: str) -> None:
        """Zero, a cent, and large amounts (up to 15 digits) are exact in the JSON."""
        body = PersonalShare(Decimal(amount), False)
        bundle = answer(Outcome.ACCEPTED, event_code="personal-share", body=body)
        parsed = json.loads(json.dumps(bundle), parse_float=Decimal)
        money = benefits_of(parsed["entry"][1]["resource"])["personal-share"]["allowedMoney"]
        assert money["value"] == Decimal(amount)
        assert money["currency"] == "EUR"

    def test_refused_without_body(self) -> None:
        """Refused: no insurance, the errors' codes."""
        issue = Issue("VSB-FAC-01", "Unknown facility.", None, "E")
        bundle = answer(Outcome.REFUSED, event_code="personal-share", issues=(issue,))
        response = focus(bundle)
        assert response["outcome"] == "error"
        assert "insurance" not in response
        assert [e["code"]["coding"][0]["code"] for e in response["error"]] == ["VSB-FAC-01"]
