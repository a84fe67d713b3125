"""reva-interruption-change (Claim use=preauthorization, supportingInfo interruption-start and
interruption) -> vsb:RevaInterruptionChange.

``interruption-start`` names the accepted interruption by its start date; ``interruption``
(and ``expected-end``) say what it becomes, as in reva-interruption.
"""

from __future__ import annotations

from lxml import etree

from mappings.answers.claim_response import CLAIM_RESPONSE
from mappings.bundle import EventBundle, Node
from mappings.deadline import LATE_CHANGE
from mappings.mapper import Mapper
from mappings.mappers.modification import one_date
from mappings.mappers.reva_interruption import add_interruption, interruption_issues
from mappings.message_type import MessageType
from mappings.model import Issue, MessageContext
from mappings.ordering import BY_DOSSIER
from mappings.role import MODIFIES

_NAMED = one_date("interruption-start", "InterruptionStartDate")
"""The head and the accepted interruption's start, as in reva-interruption-cancel."""


def check(bundle: EventBundle, claim: Node) -> list[Issue]:
    """The interruption named once by a calendar date, and the interruption's own rules."""
    issues = _NAMED.check(bundle, claim)
    interruption_issues(bundle, claim, issues)
    return issues


def build(bundle: EventBundle, claim: Node, context: MessageContext, root: etree._Element) -> None:
    """Append the reference, the INSZ, the start of the interruption and what it becomes."""
    _NAMED.build(bundle, claim, context, root)
    add_interruption(bundle, claim, root)


MESSAGE_TYPE = MessageType(
    code="reva-interruption-change",
    message_kind="RevaInterruptionChange",
    request=Mapper(focus_type="Claim", check=check, build=build),
    answer=CLAIM_RESPONSE,
    ordering=BY_DOSSIER,
    role=MODIFIES,
    deadlines=LATE_CHANGE,
)
