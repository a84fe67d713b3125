"""reva-document (Claim use=preauthorization, supportingInfo document) -> vsb:RevaDocument.

An additional medical report or document, for example for the fund's a posteriori check:
``valueAttachment`` is the document, ``reason.text`` says what it is. It is processed
whenever it comes, even after the period closed (DOMAIN.md, "Late changes").
"""

from __future__ import annotations

from dataclasses import replace

from lxml import etree

from mappings import vsb_schema
from mappings.answers.claim_response import CLAIM_RESPONSE
from mappings.bundle import EventBundle, Node
from mappings.mappers.common import add_document
from mappings.mappers.modification import add_head, head_only, part
from mappings.message_type import MessageType
from mappings.model import MessageContext
from mappings.ordering import BY_DOSSIER
from mappings.role import MODIFIES


def build(bundle: EventBundle, claim: Node, context: MessageContext, root: etree._Element) -> None:
    """Append the reference, the INSZ, the description and the document."""
    add_head(bundle, context, root)
    document = part(bundle, claim, "document")
    description = document.child("reason").child("text").text
    if description is not None:
        vsb_schema.add(root, "Description", description)
    add_document(root, "Document", document.child("valueAttachment"))


MESSAGE_TYPE = MessageType(
    code="reva-document",
    message_kind="RevaDocument",
    # checked as a head-only modification (the document once; mappings.attachment checks
    # its data); the message adds the document
    request=replace(head_only("document"), build=build),
    answer=CLAIM_RESPONSE,
    ordering=BY_DOSSIER,
    role=MODIFIES,
)
