"""Parts that several VSB message types share: the person, the contact person, reports and
documents, dates."""

from __future__ import annotations

from lxml import etree

from mappings import rules, vsb_schema
from mappings.attachment import compact
from mappings.bundle import EventBundle, Node, coding_code
from mappings.mapper import Unmappable, required_text
from mappings.model import Issue
from mappings.vocabulary import NIHDI_SYSTEM, SSIN_SYSTEM


def insz(bundle: EventBundle) -> str:
    """The INSZ/BIS number of the event's one Patient."""
    patient = bundle.single("Patient")
    value = bundle.identifier(patient, SSIN_SYSTEM) if patient is not None else None
    if value is None:
        raise Unmappable("Patient INSZ")
    return required_text(value)


def add_document(parent: etree._Element, local: str, attachment: Node) -> None:
    """Append a vsb:Document-typed element from a FHIR Attachment."""
    element = vsb_schema.add(parent, local, compact(required_text(attachment.child("data"))))
    element.set("contentType", required_text(attachment.child("contentType")))
    title = attachment.child("title").text
    if title is not None:
        element.set("title", title)


def contact(organization: Node) -> tuple[str, Node] | None:
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


def add_contact(bundle: EventBundle, root: etree._Element) -> None:
    """Append the vsb:ContactPerson (part 1) from the facility Organization's contact."""
    organization = bundle.single("Organization")
    found = contact(organization) if organization is not None else None
    if found is None:
        raise Unmappable("Organization.contact")
    name, person = found
    element = vsb_schema.add(root, "ContactPerson")
    vsb_schema.add(element, "Name", name)
    for system, local in (("phone", "Phone"), ("email", "Email")):
        for telecom in person.child("telecom").items():
            value = telecom.child("value").text
            if telecom.child("system").value == system and value is not None:
                vsb_schema.add(element, local, value)
                break


def add_report_parts(
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


def add_medical_report(
    bundle: EventBundle, claim: Node, root: etree._Element, part: Node | None
) -> None:
    """Append a vsb:MedicalReport (part 3): the diagnosis text, the physician, the document."""
    report = vsb_schema.add(root, "MedicalReport")
    diagnosis = next(claim.child("diagnosis").items(), Node(None, ()))
    vsb_schema.add(
        report,
        "Diagnosis",
        required_text(diagnosis.child("diagnosisCodeableConcept").child("text")),
    )
    add_report_parts(bundle, claim, report, "medical-report", part)


def date_value(node: Node) -> str:
    """The ``YYYY-MM-DD`` of a date node; ``Unmappable`` if absent (the event was not validated)."""
    text = rules.date_text(node)
    if text is None:
        raise Unmappable(str(node.path))
    return text


def accident_code(claim: Node) -> str | None:
    """The accident code, ``Claim.accident.type``'s first code, if the claim gives one."""
    code = coding_code(claim.child("accident").child("type"))
    return code.text if code is not None else None


def code_text(concept: Node, what: str) -> str:
    """The code of a CodeableConcept's first coding; ``Unmappable(what)`` if it has none."""
    code = coding_code(concept)
    if code is None:
        raise Unmappable(what)
    return required_text(code)


def physician_issues(bundle: EventBundle, claim: Node, roles: tuple[str, ...]) -> list[Issue]:
    """Each careTeam role at most once, and its physician's NIHDI number well formed."""
    issues: list[Issue] = []
    for role in roles:
        members = bundle.care_team(claim, role)
        if len(members) > 1:
            expression = bundle.expression(members[1])
            issues.append(Issue("duplicate", f"{expression} must occur at most once.", expression))
        for member in members:
            issue = rules.nihdi_issue(
                bundle, member.child("provider").child("identifier").child("value")
            )
            issues.extend([issue] if issue is not None else [])
    return issues
