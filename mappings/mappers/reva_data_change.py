"""reva-data-change (Claim use=preauthorization) -> vsb:RevaDataChange.

The administrative data that may change: the contact person (the facility Organization's
``contact``, as in the application), the location (supportingInfo ``location``) and the
accident code (``Claim.accident.type``). Whatever is sent is the new value; at least one.
"""

from __future__ import annotations

from lxml import etree

from mappings import rules, vsb_schema
from mappings.answers.claim_response import CLAIM_RESPONSE
from mappings.bundle import EventBundle, Node
from mappings.deadline import LATE_CHANGE
from mappings.mapper import Mapper, required_text
from mappings.mappers.common import accident_code, add_contact, contact
from mappings.mappers.modification import add_head
from mappings.message_type import MessageType
from mappings.model import Issue, MessageContext
from mappings.ordering import BY_DOSSIER
from mappings.role import MODIFIES


def _has_contact(bundle: EventBundle) -> bool:
    organization = bundle.single("Organization")
    return organization is not None and contact(organization) is not None


def check(bundle: EventBundle, claim: Node) -> list[Issue]:
    """The location at most once; at least one of contact person, location, accident code."""
    issues: list[Issue] = []
    location = rules.parts(bundle, claim, issues, optional=["location"])["location"]
    if location is None and accident_code(claim) is None and not _has_contact(bundle):
        issues.append(
            Issue(
                "nothing-to-change",
                "Claim: at least one of the contact person (Organization.contact), the location"
                " (Claim.supportingInfo location) or the accident code (Claim.accident) is"
                " required.",
                "Claim",
            )
        )
    return issues


def build(bundle: EventBundle, claim: Node, context: MessageContext, root: etree._Element) -> None:
    """Append the reference, the INSZ and each value given, in the order of vsb-1.0.xsd."""
    add_head(bundle, context, root)
    if _has_contact(bundle):
        add_contact(bundle, root)
    locations = bundle.supporting_info(claim, "location")
    if locations:
        vsb_schema.add(root, "Location", required_text(locations[0].child("valueString")))
    accident = accident_code(claim)
    if accident is not None:
        vsb_schema.add(root, "AccidentCode", accident)


MESSAGE_TYPE = MessageType(
    code="reva-data-change",
    message_kind="RevaDataChange",
    request=Mapper(focus_type="Claim", check=check, build=build),
    answer=CLAIM_RESPONSE,
    ordering=BY_DOSSIER,
    role=MODIFIES,
    deadlines=LATE_CHANGE,
)
