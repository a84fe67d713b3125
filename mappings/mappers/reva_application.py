"""reva-application (Claim use=preauthorization) -> vsb:RevaApplication.

Where each part of the application travels in the Claim (see docs/events.md):
request type, care setting, location, referred by, informed consent (part 2),
medical report document (part 3), transport report (part 4), migration flag and exception
request are ``Claim.supportingInfo`` items of the project's category CodeSystem; the
diagnosis text is ``Claim.diagnosis``; the physicians of parts 3 and 4 are ``Claim.careTeam``
members; the contact person (part 1) is the facility Organization's ``contact``; on a change
of facility, ``Claim.related`` (relationship ``prior``) names the earlier VSB reference.
"""

from __future__ import annotations

from lxml import etree

from mappings import rules, vsb_schema
from mappings.answers.claim_response import CLAIM_RESPONSE
from mappings.bundle import EventBundle, Node
from mappings.deadline import Deadlines, PeriodEffect, application_due, period_end
from mappings.mapper import Mapper, Unmappable, required_text
from mappings.mappers.common import (
    accident_code,
    add_contact,
    add_document,
    add_medical_report,
    add_report_parts,
    code_text,
    contact,
    date_value,
    insz,
    physician_issues,
)
from mappings.message_type import MessageType
from mappings.migration import Classification, classify_reva
from mappings.model import Issue, MessageContext
from mappings.ordering import BY_DOSSIER
from mappings.role import OPENS

_REQUIRED = ("request-type", "care-setting", "location", "referred-by")
_OPTIONAL = (
    "informed-consent",
    "medical-report",
    "transport-report",
    "migration",
    "vi-approval",
    "exception-request",
)


def check(bundle: EventBundle, claim: Node) -> list[Issue]:
    """Rules the adapter can decide alone: parts present once, dates, period order, etc."""
    issues: list[Issue] = []
    parts = rules.parts(bundle, claim, issues, required=_REQUIRED, optional=_OPTIONAL)
    if parts["informed-consent"] is None and not _is_migration(parts["migration"]):
        expression = rules.supporting_info_expression(bundle, claim, "informed-consent")
        issues.append(
            Issue(
                "consent-required",
                f"{expression} (part 2) is required unless the file is a migration file.",
                expression,
            )
        )
    issues.extend(physician_issues(bundle, claim, ("medical-report", "transport-report")))
    if bundle.care_team(claim, "transport-report") and parts["transport-report"] is None:
        expression = rules.supporting_info_expression(bundle, claim, "transport-report")
        text = f"{expression} (part 4) is required when a transport physician is given."
        issues.append(Issue("required", text, expression))
    issues.extend(_period_issues(bundle, claim))
    dated = [claim.child("created")] + [
        part.child("timingDate")
        for part in (parts["informed-consent"], parts["vi-approval"])
        if part is not None
    ]
    issues.extend(rules.date_issues(bundle, dated))
    issues.extend(_contact_issues(bundle))
    issues.extend(_migration_issues(bundle, claim, parts["migration"]))
    return issues


def classify(bundle: EventBundle, claim: Node) -> Classification | None:
    """The application's migration class: before 1/10/2023 and VI-approved, a migration file."""
    start = rules.parse_date(claim.child("billablePeriod").child("start"))
    if start is None:
        return None
    approvals = bundle.supporting_info(claim, "vi-approval")
    approval = rules.parse_date(approvals[0].child("timingDate")) if approvals else None
    return classify_reva(start, approval)


def _migration_issues(bundle: EventBundle, claim: Node, flag: Node | None) -> list[Issue]:
    """The EPD's migration flag must agree with the dates (DOMAIN.md, migration)."""
    found = classify(bundle, claim)
    contradiction = found.flag_contradiction(_is_migration(flag)) if found else None
    if contradiction is None:
        return []
    expression = rules.supporting_info_expression(bundle, claim, "migration")
    return [Issue("migration-flag", f"{expression}: {contradiction}.", expression)]


def _is_migration(part: Node | None) -> bool:
    return part is not None and part.child("valueBoolean").value is True


def _period_issues(bundle: EventBundle, claim: Node) -> list[Issue]:
    period = claim.child("billablePeriod")
    start, end = period.child("start"), period.child("end")
    issues = rules.date_issues(bundle, [start, end])
    order = rules.period_order_issue(bundle, start, end, strict=True)
    return issues + ([order] if order is not None else [])


def _contact_issues(bundle: EventBundle) -> list[Issue]:
    organization = bundle.single("Organization")
    if organization is None or contact(organization) is not None:
        return []
    expression = bundle.expression(organization.child("contact")) + ".name"
    return [
        Issue("required", f"{expression} (part 1, the contact person) is required.", expression)
    ]


def build(bundle: EventBundle, claim: Node, context: MessageContext, root: etree._Element) -> None:
    """Append the application body in the element order of vsb-1.0.xsd."""
    del context  # an application carries no VSB reference yet

    def part(category: str) -> Node | None:
        found = bundle.supporting_info(claim, category)
        return found[0] if found else None

    def coded(category: str) -> str:
        item = part(category)
        if item is None:
            raise Unmappable(category)
        return code_text(item.child("code"), category)

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
        vsb_schema.add(root, local, date_value(node))
    vsb_schema.add(root, "Location", text("location"))
    vsb_schema.add(root, "ReferredBy", text("referred-by"))
    add_contact(bundle, root)
    consent = part("informed-consent")
    if consent is not None:
        element = vsb_schema.add(root, "InformedConsent")
        vsb_schema.add(
            element, "Signed", "true" if consent.child("valueBoolean").value is True else "false"
        )
        vsb_schema.add(element, "Date", date_value(consent.child("timingDate")))
    add_medical_report(bundle, claim, root, part("medical-report"))
    transport = part("transport-report")
    if transport is not None:
        element = vsb_schema.add(root, "TransportReport")
        vsb_schema.add(element, "TransportType", coded("transport-report"))
        add_report_parts(bundle, claim, element, "transport-report", transport)
    accident = accident_code(claim)
    if accident is not None:
        vsb_schema.add(root, "AccidentCode", accident)
    migration = _is_migration(part("migration"))
    vsb_schema.add(root, "Migration", "true" if migration else "false")
    approval = part("vi-approval")
    if migration and approval is not None:
        vsb_schema.add(root, "ViApprovalDate", date_value(approval.child("timingDate")))
    exception = part("exception-request")
    if exception is not None:
        element = vsb_schema.add(root, "ExceptionRequest")
        vsb_schema.add(
            element, "Motivation", required_text(exception.child("reason").child("text"))
        )
        add_document(element, "ExtraMedicalReport", exception.child("valueAttachment"))
    previous = next(claim.child("related").items(), None)
    if previous is not None:
        # a change of facility: the earlier application's end date and sessions carry over
        vsb_schema.add(
            root, "PreviousVsbReference", required_text(previous.child("reference").child("value"))
        )


MESSAGE_TYPE = MessageType(
    code="reva-application",
    message_kind="RevaApplication",
    request=Mapper(focus_type="Claim", check=check, build=build, classify=classify),
    answer=CLAIM_RESPONSE,
    ordering=BY_DOSSIER,
    role=OPENS,
    deadlines=Deadlines(
        due_on=application_due(classify), period=PeriodEffect.ENDS, period_date=period_end
    ),
)
