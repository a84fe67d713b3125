"""reva-stop (Claim use=preauthorization with a stop) -> vsb:RevaStop.

The VSB reference number comes from the dossier's accepted application through
``MessageContext.vsb_reference``; a ``Claim.insurance.preAuthRef`` in the event is ignored,
so an EPD that does not know the number yet can send the stop right away.
"""

from __future__ import annotations

from lxml import etree

from mappings import rules, vsb_schema
from mappings.answers.claim_response import CLAIM_RESPONSE
from mappings.bundle import EventBundle, Node, coding_code
from mappings.mapper import Mapper, Unmappable, required_text
from mappings.mappers.common import insz
from mappings.message_type import MessageType
from mappings.model import Issue, MessageContext
from mappings.ordering import BY_DOSSIER
from mappings.role import MODIFIES


def check(bundle: EventBundle, claim: Node) -> list[Issue]:
    """The stop and the referral after the trajectory occur once; the stop date is a date."""
    issues: list[Issue] = []
    stop = rules.supporting_info(bundle, claim, "stop", issues, required=True)
    rules.supporting_info(bundle, claim, "referral-after", issues, required=True)
    dated = [claim.child("created")] + ([stop.child("timingDate")] if stop is not None else [])
    issues.extend(rules.date_issues(bundle, dated))
    return issues


def build(bundle: EventBundle, claim: Node, context: MessageContext, root: etree._Element) -> None:
    """Append the reference, the INSZ, the stop date, the reason and the referral."""
    if context.vsb_reference is None:
        raise Unmappable("vsb_reference")
    stops = bundle.supporting_info(claim, "stop")
    referrals = bundle.supporting_info(claim, "referral-after")
    if not stops or not referrals:
        raise Unmappable("supportingInfo")
    stop_date = rules.date_text(stops[0].child("timingDate"))
    reason = coding_code(stops[0].child("code"))
    if stop_date is None or reason is None:
        raise Unmappable("stop")
    vsb_schema.add(root, "VsbReference", context.vsb_reference)
    vsb_schema.add(root, "Insz", insz(bundle))
    vsb_schema.add(root, "StopDate", stop_date)
    vsb_schema.add(root, "Reason", required_text(reason))
    vsb_schema.add(root, "ReferralAfter", required_text(referrals[0].child("valueString")))


MESSAGE_TYPE = MessageType(
    code="reva-stop",
    message_kind="RevaStop",
    request=Mapper(focus_type="Claim", check=check, build=build),
    answer=CLAIM_RESPONSE,
    ordering=BY_DOSSIER,
    role=MODIFIES,
)
