"""reva-extension (Claim use=preauthorization, billablePeriod) -> vsb:RevaExtension.

A modification of the approved period it extends: ``billablePeriod`` is the extension, which
starts the day after the period ends. A medical report may come with it (``Claim.diagnosis``,
supportingInfo ``medical-report``, the physician in ``Claim.careTeam``). When an extension is
allowed (the period ended, without a break, within the three-year maximum of a diagnosis) is
judged by the central application.
"""

from __future__ import annotations

from lxml import etree

from mappings import rules, vsb_schema
from mappings.answers.claim_response import CLAIM_RESPONSE
from mappings.bundle import EventBundle, Node
from mappings.deadline import Deadlines, PeriodEffect, period_end
from mappings.mapper import Mapper
from mappings.mappers.common import add_medical_report, date_value, physician_issues
from mappings.mappers.modification import add_head
from mappings.message_type import MessageType
from mappings.model import Issue, MessageContext
from mappings.ordering import BY_DOSSIER
from mappings.role import MODIFIES


def check(bundle: EventBundle, claim: Node) -> list[Issue]:
    """Dates valid and in order; a report has its diagnosis."""
    issues: list[Issue] = []
    period = claim.child("billablePeriod")
    start, end = period.child("start"), period.child("end")
    issues.extend(rules.date_issues(bundle, [start, end]))
    order = rules.period_order_issue(bundle, start, end, strict=False)
    issues.extend([order] if order is not None else [])
    report = rules.parts(bundle, claim, issues, optional=["medical-report"])["medical-report"]
    if report is not None and not isinstance(claim.child("diagnosis").value, list):
        expression = bundle.expression(claim.child("diagnosis"))
        where = rules.supporting_info_expression(bundle, claim, "medical-report")
        text = f"{expression} is required with a medical report ({where})."
        issues.append(Issue("required", text, expression))
    issues.extend(physician_issues(bundle, claim, ("medical-report",)))
    return issues


def build(bundle: EventBundle, claim: Node, context: MessageContext, root: etree._Element) -> None:
    """Append the reference, the INSZ, the extension's dates and the report, if any."""
    add_head(bundle, context, root)
    period = claim.child("billablePeriod")
    vsb_schema.add(root, "StartDate", date_value(period.child("start")))
    vsb_schema.add(root, "EndDate", date_value(period.child("end")))
    reports = bundle.supporting_info(claim, "medical-report")
    if reports:
        add_medical_report(bundle, claim, root, reports[0])


MESSAGE_TYPE = MessageType(
    code="reva-extension",
    message_kind="RevaExtension",
    request=Mapper(focus_type="Claim", check=check, build=build),
    answer=CLAIM_RESPONSE,
    ordering=BY_DOSSIER,
    role=MODIFIES,
    deadlines=Deadlines(period=PeriodEffect.ENDS, period_date=period_end),
)
