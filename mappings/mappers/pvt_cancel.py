"""pvt-cancel (Claim use=preauthorization, supportingInfo cancel) -> vsb:PvtCancel.

As ``reva-cancel``: accepted, the admission is deleted for good, so its role closes the
dossier's application and the adapter refuses anything sent after it
(``application-closed``) without sending it. A stay that ends is a ``pvt-discharge``.
"""

from __future__ import annotations

from dataclasses import replace

from lxml import etree

from mappings import vsb_schema
from mappings.answers.claim_response import CLAIM_RESPONSE
from mappings.bundle import EventBundle, Node
from mappings.mappers.modification import add_head, head_only, part
from mappings.message_type import MessageType
from mappings.model import MessageContext
from mappings.ordering import BY_DOSSIER
from mappings.role import CLOSES


def build(bundle: EventBundle, claim: Node, context: MessageContext, root: etree._Element) -> None:
    """Append the reference, the INSZ and the reason, if one was given."""
    add_head(bundle, context, root)
    reason = part(bundle, claim, "cancel").child("valueString").text
    if reason is not None:
        vsb_schema.add(root, "Reason", reason)


MESSAGE_TYPE = MessageType(
    code="pvt-cancel",
    message_kind="PvtCancel",
    # checked as a head-only modification (the cancel once); the message adds its reason
    request=replace(head_only("cancel"), build=build),
    answer=CLAIM_RESPONSE,
    ordering=BY_DOSSIER,
    role=CLOSES,
)
