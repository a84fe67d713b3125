"""reva-km-stop (Claim use=preauthorization, supportingInfo km-stop) -> vsb:RevaKmStop.

Accepted, the km allowance stops on the stop date and the flat rate is paid again.
"""

from __future__ import annotations

from lxml import etree

from mappings import rules, vsb_schema
from mappings.answers.claim_response import CLAIM_RESPONSE
from mappings.bundle import EventBundle, Node
from mappings.mapper import Mapper
from mappings.mappers.common import date_value
from mappings.mappers.modification import add_head, part, parts
from mappings.message_type import MessageType
from mappings.model import Issue, MessageContext
from mappings.ordering import BY_DOSSIER
from mappings.role import MODIFIES


def check(bundle: EventBundle, claim: Node) -> list[Issue]:
    """The stop occurs once; its date is a calendar date."""
    issues: list[Issue] = []
    stop = parts(bundle, claim, issues, required=["km-stop"])["km-stop"]
    if stop is not None:
        issues.extend(rules.date_issues(bundle, [stop.child("timingDate")]))
    return issues


def build(bundle: EventBundle, claim: Node, context: MessageContext, root: etree._Element) -> None:
    """Append the reference, the INSZ and the stop date."""
    add_head(bundle, context, root)
    vsb_schema.add(root, "StopDate", date_value(part(bundle, claim, "km-stop").child("timingDate")))


MESSAGE_TYPE = MessageType(
    code="reva-km-stop",
    message_kind="RevaKmStop",
    request=Mapper(focus_type="Claim", check=check, build=build),
    answer=CLAIM_RESPONSE,
    ordering=BY_DOSSIER,
    role=MODIFIES,
)
