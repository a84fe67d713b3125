"""reva-km-stop-cancel (Claim use=preauthorization, supportingInfo cancel) -> vsb:RevaKmStopCancel.

Accepted, the stop of the km allowance is undone: the km allowance resumes.
"""

from __future__ import annotations

from lxml import etree

from mappings.answers.claim_response import CLAIM_RESPONSE
from mappings.bundle import EventBundle, Node
from mappings.mapper import Mapper
from mappings.mappers.modification import add_head, parts
from mappings.message_type import MessageType
from mappings.model import Issue, MessageContext
from mappings.ordering import BY_DOSSIER
from mappings.role import MODIFIES


def check(bundle: EventBundle, claim: Node) -> list[Issue]:
    """The cancel occurs once."""
    issues: list[Issue] = []
    parts(bundle, claim, issues, required=["cancel"])
    return issues


def build(bundle: EventBundle, claim: Node, context: MessageContext, root: etree._Element) -> None:
    """Append the reference and the INSZ: the km stop to cancel is the application's."""
    del claim
    add_head(bundle, context, root)


MESSAGE_TYPE = MessageType(
    code="reva-km-stop-cancel",
    message_kind="RevaKmStopCancel",
    request=Mapper(focus_type="Claim", check=check, build=build),
    answer=CLAIM_RESPONSE,
    ordering=BY_DOSSIER,
    role=MODIFIES,
)
