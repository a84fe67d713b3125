"""reva-application (Claim use=preauthorization) -> vsb:RevaApplication.

Where each part of the application travels in the Claim (see docs/events.md):
request type, care setting, location, referred by, informed consent (part 2),
medical report document (part 3), transport report (part 4), migration flag and exception
request are ``Claim.supportingInfo`` items of the project's category CodeSystem; the
diagnosis text is ``Claim.diagnosis``; the physicians of parts 3 and 4 are ``Claim.careTeam``
members; the contact person (part 1) is the facility Organization's ``contact``.
"""

from __future__ import annotations

from lxml import etree

from mappings import fhirpath, rules, vsb_schema
from mappings.answers.claim_response import CLAIM_RESPONSE
from mappings.bundle import EventBundle, Node, coding_code
from mappings.mapper import Mapper, Unmappable, required_text
from mappings.mappers.common import add_document, insz
from mappings.message_type import MessageType
from mappings.model import Issue, MessageContext
from mappings.ordering import BY_DOSSIER
from mappings.role import OPENS
from mappings.vocabulary import NIHDI_SYSTEM

_REQUIRED = ("request-type", "care-setting", "location", "referred-by")
_OPTIONAL = (
    "informed-consent",
    "medical-report",
    "transport-report",
    "migration",
    "exception-request",
)
_ATTACHED = ("medical-report", "transport-report", "exception-request")


def check(bundle: EventBundle, claim: Node) -> list[Issue]:
    """Rules the adapter can decide alone: parts present once, dates, period order, etc."""
    issues: list[Issue] = []
    parts = {
        category: rules.supporting_info(
            bundle, claim, category, issues, required=category in _REQUIRED
        )
        for category in _REQUIRED + _OPTIONAL
    }
    if parts["informed-consent"] is None and not _is_migration(parts["migration"]):
        expression = bundle.expression(claim.child("supportingInfo")) + fhirpath.where(
            "category.coding.code", "informed-consent"
        )
        issues.append(
            Issue(
                "consent-required",
                f"{expression} (part 2) is required unless the file is a migration file.",
                expression,
            )
        )
    for role in ("medical-report", "transport-report"):
        members = bundle.care_team(claim, role)
        if len(members) > 1:
            expression = bundle.expression(members[1])
            issues.append(Issue("duplicate", f"{expression} must occur at most once.", expression))
        for member in members:
            issue = rules.nihdi_issue(
                bundle, member.child("provider").child("identifier").child("value")
            )
            issues.extend([issue] if issue is not None else [])
    if bundle.care_team(claim, "transport-report") and parts["transport-report"] is None:
        expression = bundle.expression(claim.child("supportingInfo")) + fhirpath.where(
            "category.coding.code", "transport-report"
        )
        text = f"{expression} (part 4) is required when a transport physician is given."
        issues.append(Issue("required", text, expression))
    issues.extend(_period_issues(bundle, claim))
    consent = parts["informed-consent"]
    dated = (
        [claim.child("created"), consent.child("timingDate")]
        if consent
        else [claim.child("created")]
    )
    issues.extend(rules.date_issues(bundle, dated))
    for category in _ATTACHED:
        part = parts[category]
        issue = rules.base64_issue(bundle, part.child("valueAttachment")) if part else None
        issues.extend([issue] if issue is not None else [])
    issues.extend(_contact_issues(bundle))
    return issues


def _is_migration(part: Node | None) -> bool:
    return part is not None and part.child("valueBoolean").value is True


def _period_issues(bundle: EventBundle, claim: Node) -> list[Issue]:
    period = claim.child("billablePeriod")
    start, end = period.child("start"), period.child("end")
    issues = rules.date_issues(bundle, [start, end])
    first, last = rules.parse_date(start), rules.parse_date(end)
    if first is not None and last is not None and last <= first:
        expression = bundle.expression(end)
        issues.append(
            Issue("period-order", f"{expression} must be after the start date.", expression)
        )
    return issues


def _contact_issues(bundle: EventBundle) -> list[Issue]:
    organization = bundle.single("Organization")
    if organization is None or _contact(organization) is not None:
        return []
    expression = bundle.expression(organization.child("contact")) + ".name"
    return [
        Issue("required", f"{expression} (part 1, the contact person) is required.", expression)
    ]


def _contact(organization: Node) -> tuple[str, Node] | None:
    """The first contact person with a name, and the contact node."""
    for contact in organization.child("contact").items():
        name = contact.child("name")
        if name.child("text").text is not None:
            return name.child("text").text or "", contact
        given = [part.text for part in name.child("given").items() if part.text]
        family = name.child("family").text
        words = [word.strip() for word in [*given, family or ""] if word and word.strip()]
        if words:
            return " ".join(words), contact
    return None


def build(bundle: EventBundle, claim: Node, context: MessageContext, root: etree._Element) -> None:
    """Append the application body in the element order of vsb-1.0.xsd."""
    del context  # an application carries no VSB reference yet

    def part(category: str) -> Node | None:
        found = bundle.supporting_info(claim, category)
        return found[0] if found else None

    def coded(category: str) -> str:
        item = part(category)
        code = coding_code(item.child("code")) if item else None
        if code is None:
            raise Unmappable(category)
        return required_text(code)

    def text(category: str) -> str:
        item = part(category)
        if item is None:
            raise Unmappable(category)
        return required_text(item.child("valueString"))

    period = claim.child("billablePeriod")
    vsb_schema.add(root, "Insz", insz(bundle))
    vsb_schema.add(root, "RequestType", coded("request-type"))
    vsb_schema.add(root, "CareSetting", coded("care-setting"))
    for local, node in (
        ("RequestDate", claim.child("created")),
        ("StartDate", period.child("start")),
        ("EndDate", period.child("end")),
    ):
        vsb_schema.add(root, local, _date(node))
    vsb_schema.add(root, "Location", text("location"))
    vsb_schema.add(root, "ReferredBy", text("referred-by"))
    _add_contact(bundle, root)
    consent = part("informed-consent")
    if consent is not None:
        element = vsb_schema.add(root, "InformedConsent")
        vsb_schema.add(
            element, "Signed", "true" if consent.child("valueBoolean").value is True else "false"
        )
        vsb_schema.add(element, "Date", _date(consent.child("timingDate")))
    report = vsb_schema.add(root, "MedicalReport")
    diagnosis = next(claim.child("diagnosis").items(), Node(None, ()))
    vsb_schema.add(
        report,
        "Diagnosis",
        required_text(diagnosis.child("diagnosisCodeableConcept").child("text")),
    )
    _add_report_parts(bundle, claim, report, "medical-report", part("medical-report"))
    transport = part("transport-report")
    if transport is not None:
        element = vsb_schema.add(root, "TransportReport")
        vsb_schema.add(element, "TransportType", coded("transport-report"))
        _add_report_parts(bundle, claim, element, "transport-report", transport)
    accident = coding_code(claim.child("accident").child("type"))
    if accident is not None and accident.text is not None:
        vsb_schema.add(root, "AccidentCode", accident.text)
    vsb_schema.add(root, "Migration", "true" if _is_migration(part("migration")) else "false")
    exception = part("exception-request")
    if exception is not None:
        element = vsb_schema.add(root, "ExceptionRequest")
        vsb_schema.add(
            element, "Motivation", required_text(exception.child("reason").child("text"))
        )
        add_document(element, "ExtraMedicalReport", exception.child("valueAttachment"))


def _date(node: Node) -> str:
    text = rules.date_text(node)
    if text is None:
        raise Unmappable(str(node.path))
    return text


def _add_contact(bundle: EventBundle, root: etree._Element) -> None:
    organization = bundle.single("Organization")
    found = _contact(organization) if organization is not None else None
    if found is None:
        raise Unmappable("Organization.contact")
    name, contact = found
    element = vsb_schema.add(root, "ContactPerson")
    vsb_schema.add(element, "Name", name)
    for system, local in (("phone", "Phone"), ("email", "Email")):
        for telecom in contact.child("telecom").items():
            value = telecom.child("value").text
            if telecom.child("system").value == system and value is not None:
                vsb_schema.add(element, local, value)
                break


def _add_report_parts(
    bundle: EventBundle, claim: Node, element: etree._Element, role: str, part: Node | None
) -> None:
    """Physician (careTeam member of ``role``) then Document (the part's attachment)."""
    for member in bundle.care_team(claim, role):
        identifier = member.child("provider").child("identifier")
        if identifier.child("system").value == NIHDI_SYSTEM:
            vsb_schema.add(element, "Physician", required_text(identifier.child("value")))
            break
    if part is not None and part.child("valueAttachment").present:
        add_document(element, "Document", part.child("valueAttachment"))


MESSAGE_TYPE = MessageType(
    code="reva-application",
    message_kind="RevaApplication",
    request=Mapper(focus_type="Claim", check=check, build=build),
    answer=CLAIM_RESPONSE,
    ordering=BY_DOSSIER,
    role=OPENS,
)
