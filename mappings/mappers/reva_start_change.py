"""reva-start-change (Claim use=preauthorization, billablePeriod.start) -> vsb:RevaStartChange.

The new start date is ``billablePeriod.start``. Its limits (at most 30 days before the
initial start or request, the change at most 60 days after it) depend on the application's
history and are judged by the central application.
"""

from __future__ import annotations

from lxml import etree

from mappings import rules, vsb_schema
from mappings.answers.claim_response import CLAIM_RESPONSE
from mappings.bundle import EventBundle, Node
from mappings.deadline import LATE_CHANGE
from mappings.mapper import Mapper
from mappings.mappers.common import date_value
from mappings.mappers.modification import add_head
from mappings.message_type import MessageType
from mappings.model import Issue, MessageContext
from mappings.ordering import BY_DOSSIER
from mappings.role import MODIFIES


def check(bundle: EventBundle, claim: Node) -> list[Issue]:
    """The new start is a calendar date."""
    return rules.date_issues(bundle, [claim.child("billablePeriod").child("start")])


def build(bundle: EventBundle, claim: Node, context: MessageContext, root: etree._Element) -> None:
    """Append the reference, the INSZ and the new start date."""
    add_head(bundle, context, root)
    start = claim.child("billablePeriod").child("start")
    vsb_schema.add(root, "NewStartDate", date_value(start))


MESSAGE_TYPE = MessageType(
    code="reva-start-change",
    message_kind="RevaStartChange",
    request=Mapper(focus_type="Claim", check=check, build=build),
    answer=CLAIM_RESPONSE,
    ordering=BY_DOSSIER,
    role=MODIFIES,
    deadlines=LATE_CHANGE,
)
