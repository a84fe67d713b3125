"""Building VSB messages: header, body in XSD order, validation against vsb-1.0.xsd."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from mappings import (
    Facility,
    InvalidEvent,
    MappingError,
    MessageContext,
    MissingReference,
    SchemaViolation,
    build_message,
    read_envelope,
    validate_event,
    validate_xml,
)
from mappings.vsb_schema import VSB_NS
from tests.mappings.helpers import (
    CREATED_AT,
    FACILITY,
    category,
    context,
    drop_info,
    example,
    info,
    migrate,
    raw,
    resource,
)

NS = {"v": VSB_NS}


def built(document: dict[str, Any], ctx: MessageContext | None = None) -> etree._Element:
    """Validate then build an event, as the engine does."""
    envelope = read_envelope(raw(document))
    validate_event(envelope, FACILITY)
    return build_message(envelope, ctx or context())


def text(element: etree._Element, path: str) -> str | None:
    """The text at a VSB path (prefix v)."""
    found = element.find(path, NS)
    return found.text if found is not None else None


class TestHeader:
    """The Header every message starts with."""

    def test_header_of_an_ordered_event(self, application: dict[str, Any]) -> None:
        """An application carries message id, creation time, facility, dossier and sequence."""
        message = built(application)
        assert text(message, "v:Header/v:MessageId") == "msg-0001"
        assert text(message, "v:Header/v:CreatedAt") == CREATED_AT.isoformat()
        assert text(message, "v:Header/v:Facility/v:Nihdi") == FACILITY.nihdi
        assert text(message, "v:Header/v:Facility/v:Hco") == FACILITY.hco
        assert text(message, "v:Header/v:DossierId") == "REVA-2026-0042"
        assert text(message, "v:Header/v:Sequence") == "1"
        assert message.find("v:Header/v:ReplacesMessageId", NS) is None

    def test_look_up_has_no_dossier(self, look_up: dict[str, Any]) -> None:
        """A look-up omits dossier id and sequence: it is outside any chronology."""
        message = built(look_up)
        assert message.find("v:Header/v:DossierId", NS) is None
        assert message.find("v:Header/v:Sequence", NS) is None

    def test_replaces_message_id(self, application: dict[str, Any]) -> None:
        """A corrected resend names the message it replaces."""
        message = built(application, context(replaces="msg-0000"))
        assert text(message, "v:Header/v:ReplacesMessageId") == "msg-0000"


class TestBodies:
    """The body of each VSB message type."""

    def test_insurance_status(self, look_up: dict[str, Any]) -> None:
        """An insurance-status look-up carries the INSZ and the reference date."""
        message = built(look_up)
        assert etree.QName(message).localname == "InsuranceStatusRequest"
        assert text(message, "v:Insz") == "85073003328"
        assert text(message, "v:ReferenceDate") == "2026-11-20"

    def test_application(self, application: dict[str, Any]) -> None:
        """A diagnosis application carries every part in the XSD's order."""
        message = built(application)
        names = [etree.QName(child).localname for child in message]
        assert names == [
            "Header",
            "Insz",
            "RequestType",
            "CareSetting",
            "RequestDate",
            "StartDate",
            "EndDate",
            "Location",
            "ReferredBy",
            "ContactPerson",
            "InformedConsent",
            "MedicalReport",
            "Migration",
        ]
        assert text(message, "v:RequestType") == "diagnosis"
        assert text(message, "v:CareSetting") == "ambulant"
        assert text(message, "v:StartDate") == "2026-11-02"
        assert text(message, "v:EndDate") == "2029-11-01"
        assert text(message, "v:ContactPerson/v:Name") == "An Janssens"
        assert text(message, "v:ContactPerson/v:Email") == "reva@delinde.example"
        assert text(message, "v:InformedConsent/v:Signed") == "true"
        assert text(message, "v:MedicalReport/v:Physician") == "12345625580"
        document = message.find("v:MedicalReport/v:Document", NS)
        assert document is not None
        assert document.get("contentType") == "application/pdf"
        assert text(message, "v:Migration") == "false"

    def test_transport_report(self) -> None:
        """Part 4 carries the transport type, the physician and the document."""
        message = built(example("04-reva-application-can-join"))
        assert text(message, "v:TransportReport/v:TransportType") == "own"
        assert text(message, "v:TransportReport/v:Physician") == "10203053004"
        assert message.find("v:TransportReport/v:Document", NS) is not None

    def test_optional_parts(self, application: dict[str, Any]) -> None:
        """Accident code, exception request and a dateTime request date are mapped."""
        claim = resource(application, "Claim")
        claim["created"] = "2026-11-20T23:30:00+01:00"
        claim["accident"] = {"type": {"coding": [{"code": "A12"}]}}
        report = info(claim, "medical-report")["valueAttachment"]
        claim["supportingInfo"].append(
            {
                "category": category("exception-request"),
                "reason": {"text": "Needs more sessions than the convention allows."},
                "valueAttachment": report,
            }
        )
        message = built(application)
        assert text(message, "v:RequestDate") == "2026-11-20"
        assert text(message, "v:AccidentCode") == "A12"
        assert text(message, "v:ExceptionRequest/v:Motivation") is not None
        assert message.find("v:ExceptionRequest/v:ExtraMedicalReport", NS) is not None

    def test_wrapped_base64(self, application: dict[str, Any]) -> None:
        """Base64 wrapped over several lines is accepted and sent without the line breaks."""
        attachment = info(resource(application, "Claim"), "medical-report")["valueAttachment"]
        data = attachment["data"]
        attachment["data"] = f"{data[:20]}\n{data[20:]}"
        assert text(built(application), "v:MedicalReport/v:Document") == data

    def test_migration_without_consent(self, application: dict[str, Any]) -> None:
        """A migration file maps without informed consent and with the VI's approval date."""
        claim = resource(application, "Claim")
        drop_info(claim, "informed-consent")
        migrate(claim, start="2023-06-01", approval="2023-06-20")
        message = built(application)
        assert message.find("v:InformedConsent", NS) is None
        assert text(message, "v:Migration") == "true"
        assert text(message, "v:ViApprovalDate") == "2023-06-20"

    def test_an_approval_date_without_the_flag_stays_out(self, application: dict[str, Any]) -> None:
        """A normal application after 1/10/2023 carries no VI approval date, even if given."""
        migrate(
            resource(application, "Claim"), start="2026-11-02", approval="2026-11-01", flagged=False
        )
        assert built(application).find("v:ViApprovalDate", NS) is None

    def test_stop_uses_the_context_reference(self, stop: dict[str, Any]) -> None:
        """A stop carries the dossier's VSB reference from the context, not from the event."""
        resource(stop, "Claim")["insurance"][0]["preAuthRef"] = ["FROM-THE-EPD"]
        message = built(stop, context(vsb_reference="VSB-2026-000042"))
        assert text(message, "v:VsbReference") == "VSB-2026-000042"
        assert text(message, "v:StopDate") == "2026-11-19"
        assert text(message, "v:Reason") == "early"
        assert text(message, "v:ReferralAfter") == "Follow-up by the general practitioner."


class TestRefusals:
    """What build_message refuses to build."""

    def test_modification_without_reference(self, stop: dict[str, Any]) -> None:
        """A stop without the dossier's VSB reference raises MissingReference."""
        with pytest.raises(MissingReference) as caught:
            built(stop)
        assert isinstance(caught.value, MappingError)

    def test_unvalidated_event(self, application: dict[str, Any]) -> None:
        """An event that would not pass validation is refused, not half-built."""
        del resource(application, "Claim")["billablePeriod"]
        with pytest.raises(InvalidEvent):
            build_message(read_envelope(raw(application)), context())

    def test_unvalidated_control_character(self, application: dict[str, Any]) -> None:
        """A character XML cannot carry is an InvalidEvent, not a crash."""
        info(resource(application, "Claim"), "location")["valueString"] = "\u0001"
        with pytest.raises(InvalidEvent):
            build_message(read_envelope(raw(application)), context())

    def test_unknown_code(self, application: dict[str, Any]) -> None:
        """An unknown event code cannot be built."""
        resource(application, "MessageHeader")["eventCoding"]["code"] = "no-such-event"
        with pytest.raises(InvalidEvent):
            build_message(read_envelope(raw(application)), context())

    def test_schema_violation(self, application: dict[str, Any]) -> None:
        """A message that breaks the XSD raises SchemaViolation naming the element."""
        envelope = read_envelope(raw(application))
        validate_event(envelope, FACILITY)
        bad = MessageContext("msg-1", CREATED_AT, Facility(nihdi=FACILITY.nihdi, hco="12x"))
        with pytest.raises(SchemaViolation, match="Hco"):
            build_message(envelope, bad)


class TestValidateXml:
    """validate_xml on its own, as the engine uses it after signing."""

    def test_signature_slot(self, application: dict[str, Any]) -> None:
        """A ds:Signature appended in the trailing slot keeps the message valid."""
        message = built(application)
        etree.SubElement(message, "{http://www.w3.org/2000/09/xmldsig#}Signature")
        validate_xml(message)

    def test_violation_hides_values(self, look_up: dict[str, Any]) -> None:
        """A schema message names the element and rule but never the offending value."""
        message = built(look_up)
        insz = message.find("v:Insz", NS)
        assert insz is not None
        insz.text = "8507300332"
        with pytest.raises(SchemaViolation) as caught:
            validate_xml(message)
        assert "Insz" in str(caught.value)
        assert "8507300332" not in str(caught.value)

    def test_wrong_order(self, look_up: dict[str, Any]) -> None:
        """Elements out of the XSD order are a violation."""
        message = built(look_up)
        insz = message.find("v:Insz", NS)
        assert insz is not None
        message.remove(insz)
        message.append(insz)
        with pytest.raises(SchemaViolation):
            validate_xml(message)
