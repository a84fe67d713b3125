"""reva-km-request (Claim use=preauthorization, supportingInfo transport-report)
-> vsb:RevaKmRequest.

The km allowance for wheelchair-dependent transport (part 4), asked after the application:
``transport-report`` carries the transport type (``code``: professional or own) and the
doctor's report (``valueAttachment``), the physician is a ``Claim.careTeam`` member with role
``transport-report``, as in the application.
"""

from __future__ import annotations

from lxml import etree

from mappings import rules, vsb_schema
from mappings.answers.claim_response import CLAIM_RESPONSE
from mappings.bundle import EventBundle, Node
from mappings.deadline import LATE_CHANGE
from mappings.mapper import Mapper
from mappings.mappers.common import add_report_parts, code_text, physician_issues
from mappings.mappers.modification import add_head, part
from mappings.message_type import MessageType
from mappings.model import Issue, MessageContext
from mappings.ordering import BY_DOSSIER
from mappings.role import MODIFIES


def check(bundle: EventBundle, claim: Node) -> list[Issue]:
    """The report once, its physician once with a valid NIHDI."""
    issues: list[Issue] = []
    rules.parts(bundle, claim, issues, required=["transport-report"])
    issues.extend(physician_issues(bundle, claim, ("transport-report",)))
    return issues


def build(bundle: EventBundle, claim: Node, context: MessageContext, root: etree._Element) -> None:
    """Append the reference, the INSZ and the vsb:TransportReport."""
    add_head(bundle, context, root)
    report = part(bundle, claim, "transport-report")
    transport_type = code_text(report.child("code"), "transport-report.code")
    element = vsb_schema.add(root, "TransportReport")
    vsb_schema.add(element, "TransportType", transport_type)
    add_report_parts(bundle, claim, element, "transport-report", report)


MESSAGE_TYPE = MessageType(
    code="reva-km-request",
    message_kind="RevaKmRequest",
    request=Mapper(focus_type="Claim", check=check, build=build),
    answer=CLAIM_RESPONSE,
    ordering=BY_DOSSIER,
    role=MODIFIES,
    deadlines=LATE_CHANGE,
)
