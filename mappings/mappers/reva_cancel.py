"""reva-cancel (Claim use=preauthorization, supportingInfo cancel) -> vsb:RevaCancel.

Accepted, the application is deleted for good: its role closes the dossier's application, so
the adapter refuses anything sent after it (``application-closed``) without sending it.
"""

from __future__ import annotations

from lxml import etree

from mappings import rules, vsb_schema
from mappings.answers.claim_response import CLAIM_RESPONSE
from mappings.bundle import EventBundle, Node
from mappings.mapper import Mapper
from mappings.mappers.modification import add_head, part
from mappings.message_type import MessageType
from mappings.model import Issue, MessageContext
from mappings.ordering import BY_DOSSIER
from mappings.role import CLOSES


def check(bundle: EventBundle, claim: Node) -> list[Issue]:
    """The cancel occurs once."""
    issues: list[Issue] = []
    rules.parts(bundle, claim, issues, required=["cancel"])
    return issues


def build(bundle: EventBundle, claim: Node, context: MessageContext, root: etree._Element) -> None:
    """Append the reference, the INSZ and the reason, if one was given."""
    add_head(bundle, context, root)
    reason = part(bundle, claim, "cancel").child("valueString").text
    if reason is not None:
        vsb_schema.add(root, "Reason", reason)


MESSAGE_TYPE = MessageType(
    code="reva-cancel",
    message_kind="RevaCancel",
    request=Mapper(focus_type="Claim", check=check, build=build),
    answer=CLAIM_RESPONSE,
    ordering=BY_DOSSIER,
    role=CLOSES,
)
