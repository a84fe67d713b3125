"""reva-extension-cancel (Claim use=preauthorization, supportingInfo extension)
-> vsb:RevaExtensionCancel.

The extension to cancel is named by its start date (``timingDate``); accepted, the period
ends as it did before the extension.
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
    """The extension occurs once; its start is a calendar date."""
    issues: list[Issue] = []
    extension = parts(bundle, claim, issues, required=["extension"])["extension"]
    if extension is not None:
        issues.extend(rules.date_issues(bundle, [extension.child("timingDate")]))
    return issues


def build(bundle: EventBundle, claim: Node, context: MessageContext, root: etree._Element) -> None:
    """Append the reference, the INSZ and the start date of the extension to cancel."""
    add_head(bundle, context, root)
    start = part(bundle, claim, "extension").child("timingDate")
    vsb_schema.add(root, "ExtensionStartDate", date_value(start))


MESSAGE_TYPE = MessageType(
    code="reva-extension-cancel",
    message_kind="RevaExtensionCancel",
    request=Mapper(focus_type="Claim", check=check, build=build),
    answer=CLAIM_RESPONSE,
    ordering=BY_DOSSIER,
    role=MODIFIES,
)
