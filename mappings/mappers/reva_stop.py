"""reva-stop (Claim use=preauthorization, supportingInfo stop and referral-after)
-> vsb:RevaStop.

``stop`` carries the stop date (``timingDate``) and the reason (``code``); ``referral-after``
(``valueString``) where the person goes after the trajectory.
"""

from __future__ import annotations

from lxml import etree

from mappings import rules, vsb_schema
from mappings.answers.claim_response import CLAIM_RESPONSE
from mappings.bundle import EventBundle, Node
from mappings.deadline import Deadlines, PeriodEffect, part_date
from mappings.mapper import Mapper, required_text
from mappings.mappers.common import code_text, date_value
from mappings.mappers.modification import add_head, part
from mappings.message_type import MessageType
from mappings.model import Issue, MessageContext
from mappings.ordering import BY_DOSSIER
from mappings.role import MODIFIES


def check(bundle: EventBundle, claim: Node) -> list[Issue]:
    """The stop and the referral after the trajectory occur once; the stop date is a date."""
    issues: list[Issue] = []
    stop = rules.parts(bundle, claim, issues, required=["stop", "referral-after"])["stop"]
    dated = [claim.child("created")] + ([stop.child("timingDate")] if stop is not None else [])
    issues.extend(rules.date_issues(bundle, dated))
    return issues


def build(bundle: EventBundle, claim: Node, context: MessageContext, root: etree._Element) -> None:
    """Append the reference, the INSZ, the stop date, the reason and the referral."""
    add_head(bundle, context, root)
    stop = part(bundle, claim, "stop")
    vsb_schema.add(root, "StopDate", date_value(stop.child("timingDate")))
    vsb_schema.add(root, "Reason", code_text(stop.child("code"), "stop.code"))
    referral = part(bundle, claim, "referral-after").child("valueString")
    vsb_schema.add(root, "ReferralAfter", required_text(referral))


MESSAGE_TYPE = MessageType(
    code="reva-stop",
    message_kind="RevaStop",
    request=Mapper(focus_type="Claim", check=check, build=build),
    answer=CLAIM_RESPONSE,
    ordering=BY_DOSSIER,
    role=MODIFIES,
    deadlines=Deadlines(period=PeriodEffect.STOPS, period_date=part_date("stop"), late_change=True),
)
