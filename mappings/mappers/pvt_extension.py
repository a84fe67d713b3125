"""pvt-extension (Claim use=preauthorization, billablePeriod) -> vsb:PvtExtension.

A modification of the admission's approved period: ``billablePeriod`` is the extension, which
starts the day after the admission's current end. Whether it does, and whether the admission
may be extended, is judged by the central application, which keeps the admission's history;
the adapter checks the dates alone. A migration file approved until 31/3/2023 is extended from
1/4/2023 this way (PVT class 3): the extension is a modification, not a migration file.
"""

from __future__ import annotations

from lxml import etree

from mappings import rules, vsb_schema
from mappings.answers.granted import GRANTED
from mappings.bundle import EventBundle, Node
from mappings.mapper import Mapper
from mappings.mappers.common import date_value
from mappings.mappers.modification import add_head
from mappings.message_type import MessageType
from mappings.model import Issue, MessageContext
from mappings.ordering import BY_DOSSIER
from mappings.role import MODIFIES


def check(bundle: EventBundle, claim: Node) -> list[Issue]:
    """Both dates calendar dates, the end not before the start."""
    period = claim.child("billablePeriod")
    start, end = period.child("start"), period.child("end")
    issues = rules.date_issues(bundle, [claim.child("created"), start, end])
    order = rules.period_order_issue(bundle, start, end, strict=False)
    return issues + ([order] if order is not None else [])


def build(bundle: EventBundle, claim: Node, context: MessageContext, root: etree._Element) -> None:
    """Append the reference, the INSZ and the extension's dates."""
    add_head(bundle, context, root)
    period = claim.child("billablePeriod")
    vsb_schema.add(root, "StartDate", date_value(period.child("start")))
    vsb_schema.add(root, "EndDate", date_value(period.child("end")))


MESSAGE_TYPE = MessageType(
    code="pvt-extension",
    message_kind="PvtExtension",
    request=Mapper(focus_type="Claim", check=check, build=build),
    answer=GRANTED,
    ordering=BY_DOSSIER,
    role=MODIFIES,
)
