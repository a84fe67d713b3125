"""reva-interruption-cancel (Claim use=preauthorization, supportingInfo interruption-start)
-> vsb:RevaInterruptionCancel.

The accepted interruption to cancel is named by its start date.
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
    """The interruption named once, by a calendar date."""
    issues: list[Issue] = []
    named = parts(bundle, claim, issues, required=["interruption-start"])["interruption-start"]
    if named is not None:
        issues.extend(rules.date_issues(bundle, [named.child("timingDate")]))
    return issues


def build(bundle: EventBundle, claim: Node, context: MessageContext, root: etree._Element) -> None:
    """Append the reference, the INSZ and the start of the interruption to cancel."""
    add_head(bundle, context, root)
    named = part(bundle, claim, "interruption-start").child("timingDate")
    vsb_schema.add(root, "InterruptionStartDate", date_value(named))


MESSAGE_TYPE = MessageType(
    code="reva-interruption-cancel",
    message_kind="RevaInterruptionCancel",
    request=Mapper(focus_type="Claim", check=check, build=build),
    answer=CLAIM_RESPONSE,
    ordering=BY_DOSSIER,
    role=MODIFIES,
)
