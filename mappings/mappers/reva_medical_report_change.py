"""reva-medical-report-change (Claim use=preauthorization, diagnosis, supportingInfo
medical-report) -> vsb:RevaMedicalReportChange.

The new medical report (part 3) replaces the one sent: the diagnosis as text
(``Claim.diagnosis``), the document (supportingInfo ``medical-report``) and the physician
(``Claim.careTeam``, role ``medical-report``), as in the application.
"""

from __future__ import annotations

from lxml import etree

from mappings import rules
from mappings.answers.claim_response import CLAIM_RESPONSE
from mappings.bundle import EventBundle, Node
from mappings.deadline import LATE_CHANGE
from mappings.mapper import Mapper
from mappings.mappers.common import add_medical_report, physician_issues
from mappings.mappers.modification import add_head, part
from mappings.message_type import MessageType
from mappings.model import Issue, MessageContext
from mappings.ordering import BY_DOSSIER
from mappings.role import MODIFIES


def check(bundle: EventBundle, claim: Node) -> list[Issue]:
    """The report once, its physician once with a valid NIHDI."""
    issues: list[Issue] = []
    rules.parts(bundle, claim, issues, required=["medical-report"])
    issues.extend(physician_issues(bundle, claim, ("medical-report",)))
    return issues


def build(bundle: EventBundle, claim: Node, context: MessageContext, root: etree._Element) -> None:
    """Append the reference, the INSZ and the new medical report."""
    add_head(bundle, context, root)
    add_medical_report(bundle, claim, root, part(bundle, claim, "medical-report"))


MESSAGE_TYPE = MessageType(
    code="reva-medical-report-change",
    message_kind="RevaMedicalReportChange",
    request=Mapper(focus_type="Claim", check=check, build=build),
    answer=CLAIM_RESPONSE,
    ordering=BY_DOSSIER,
    role=MODIFIES,
    deadlines=LATE_CHANGE,
)
