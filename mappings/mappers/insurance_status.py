"""insurance-status (CoverageEligibilityRequest) -> vsb:InsuranceStatusRequest."""

from __future__ import annotations

from lxml import etree

from mappings import rules, vsb_schema
from mappings.answers.eligibility import ELIGIBILITY
from mappings.bundle import EventBundle, Node
from mappings.mapper import Mapper
from mappings.mappers.common import date_value, insz
from mappings.message_type import MessageType
from mappings.model import Issue, MessageContext
from mappings.ordering import UNORDERED
from mappings.role import LOOKUP


def check(bundle: EventBundle, request: Node) -> list[Issue]:
    """The reference date must be a calendar date."""
    return rules.date_issues(bundle, [request.child("servicedDate")])


def build(
    bundle: EventBundle, request: Node, context: MessageContext, root: etree._Element
) -> None:
    """Append the INSZ and the reference date."""
    del context  # a look-up needs nothing beyond the Header
    vsb_schema.add(root, "Insz", insz(bundle))
    vsb_schema.add(root, "ReferenceDate", date_value(request.child("servicedDate")))


MESSAGE_TYPE = MessageType(
    code="insurance-status",
    message_kind="InsuranceStatusRequest",
    request=Mapper(focus_type="CoverageEligibilityRequest", check=check, build=build),
    answer=ELIGIBILITY,
    ordering=UNORDERED,
    role=LOOKUP,
)
