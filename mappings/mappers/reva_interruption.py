"""reva-interruption (Claim use=preauthorization, supportingInfo interruption) ->
vsb:RevaInterruption.

An interruption beyond the user's will: ``interruption`` carries the start
(``timingPeriod.start``), the end when it is known (``timingPeriod.end``) and the reason
(``code``); while the end is not known, an ``expected-end`` item carries the expected one.
Exactly one of the two ends. The six-month maximum is judged by the central application.
"""

from __future__ import annotations

from lxml import etree

from mappings import rules, vsb_schema
from mappings.answers.claim_response import CLAIM_RESPONSE
from mappings.bundle import EventBundle, Node
from mappings.deadline import LATE_CHANGE
from mappings.mapper import Mapper
from mappings.mappers.common import code_text, date_value
from mappings.mappers.modification import add_head, part
from mappings.message_type import MessageType
from mappings.model import Issue, MessageContext
from mappings.ordering import BY_DOSSIER
from mappings.role import MODIFIES


def interruption_issues(bundle: EventBundle, claim: Node, issues: list[Issue]) -> None:
    """The interruption once, one end (known or expected), dates valid and in order."""
    found = rules.parts(bundle, claim, issues, required=["interruption"], optional=["expected-end"])
    interruption, expected = found["interruption"], found["expected-end"]
    if interruption is None:
        return
    period = interruption.child("timingPeriod")
    start, end = period.child("start"), period.child("end")
    expected_end = expected.child("timingDate") if expected is not None else None
    issues.extend(
        rules.date_issues(bundle, [start, end, *([expected_end] if expected_end else [])])
    )
    if end.present == (expected is not None):
        expression = rules.supporting_info_expression(bundle, claim, "expected-end")
        text = (
            f"{bundle.expression(end)} (a known end) or {expression} (an expected end) is"
            " required, not both."
        )
        issues.append(Issue("interruption-end", text, bundle.expression(end)))
    last = end if end.present else expected_end
    if last is not None:
        order = rules.period_order_issue(bundle, start, last, strict=False)
        issues.extend([order] if order is not None else [])


def add_interruption(bundle: EventBundle, claim: Node, root: etree._Element) -> None:
    """Append the vsb:Interruption: start, end or expected end, reason."""
    interruption = part(bundle, claim, "interruption")
    period = interruption.child("timingPeriod")
    element = vsb_schema.add(root, "Interruption")
    vsb_schema.add(element, "StartDate", date_value(period.child("start")))
    if period.child("end").present:
        vsb_schema.add(element, "EndDate", date_value(period.child("end")))
    else:
        expected = part(bundle, claim, "expected-end").child("timingDate")
        vsb_schema.add(element, "ExpectedEndDate", date_value(expected))
    vsb_schema.add(element, "Reason", code_text(interruption.child("code"), "interruption.code"))


def check(bundle: EventBundle, claim: Node) -> list[Issue]:
    """See ``interruption_issues``."""
    issues: list[Issue] = []
    interruption_issues(bundle, claim, issues)
    return issues


def build(bundle: EventBundle, claim: Node, context: MessageContext, root: etree._Element) -> None:
    """Append the reference, the INSZ and the interruption."""
    add_head(bundle, context, root)
    add_interruption(bundle, claim, root)


MESSAGE_TYPE = MessageType(
    code="reva-interruption",
    message_kind="RevaInterruption",
    request=Mapper(focus_type="Claim", check=check, build=build),
    answer=CLAIM_RESPONSE,
    ordering=BY_DOSSIER,
    role=MODIFIES,
    deadlines=LATE_CHANGE,
)
