"""What every REVA modification shares: its head (the application's reference and the person)
and the way its parts travel (``Claim.supportingInfo`` by category).

The VSB reference comes from the dossier's accepted application through
``MessageContext.vsb_reference`` (the adapter fills it in; ``Claim.insurance.preAuthRef`` in
the event is ignored), so an EPD that does not know the number yet can send the modification
right away.
"""

from __future__ import annotations

from dataclasses import replace

from lxml import etree

from mappings import rules, vsb_schema
from mappings.bundle import EventBundle, Node
from mappings.mapper import Mapper, Unmappable
from mappings.mappers.common import date_value, insz
from mappings.model import Issue, MessageContext


def add_head(bundle: EventBundle, context: MessageContext, root: etree._Element) -> None:
    """Append the VSB reference and the INSZ that follow the Header of every modification."""
    if context.vsb_reference is None:
        raise Unmappable("vsb_reference")
    vsb_schema.add(root, "VsbReference", context.vsb_reference)
    vsb_schema.add(root, "Insz", insz(bundle))


def part(bundle: EventBundle, claim: Node, category: str) -> Node:
    """The supportingInfo item of ``category`` of a validated event (``Unmappable`` if none)."""
    found = bundle.supporting_info(claim, category)
    if not found:
        raise Unmappable(category)
    return found[0]


def head_only(category: str) -> Mapper:
    """A modification that names nothing beyond its application (a stop's cancel, the km
    stop's cancel): the supportingInfo ``category`` once; the message is its head."""

    def check(bundle: EventBundle, claim: Node) -> list[Issue]:
        issues: list[Issue] = []
        rules.parts(bundle, claim, issues, required=[category])
        return issues

    def build(
        bundle: EventBundle, claim: Node, context: MessageContext, root: etree._Element
    ) -> None:
        del claim
        add_head(bundle, context, root)

    return Mapper(focus_type="Claim", check=check, build=build)


def cancel_with_reason() -> Mapper:
    """A cancel of the whole application (``reva-cancel``, ``pvt-cancel``): the supportingInfo
    ``cancel`` once; the message is its head and the reason, if one was given."""

    def build(
        bundle: EventBundle, claim: Node, context: MessageContext, root: etree._Element
    ) -> None:
        add_head(bundle, context, root)
        reason = part(bundle, claim, "cancel").child("valueString").text
        if reason is not None:
            vsb_schema.add(root, "Reason", reason)

    return replace(head_only("cancel"), build=build)


def one_date(category: str, element: str) -> Mapper:
    """A modification that carries one date: the ``timingDate`` of the supportingInfo
    ``category`` (once, a calendar date) becomes the VSB ``element`` after the head."""

    def check(bundle: EventBundle, claim: Node) -> list[Issue]:
        issues: list[Issue] = []
        found = rules.parts(bundle, claim, issues, required=[category])[category]
        if found is not None:
            issues.extend(rules.date_issues(bundle, [found.child("timingDate")]))
        return issues

    def build(
        bundle: EventBundle, claim: Node, context: MessageContext, root: etree._Element
    ) -> None:
        add_head(bundle, context, root)
        vsb_schema.add(root, element, date_value(part(bundle, claim, category).child("timingDate")))

    return Mapper(focus_type="Claim", check=check, build=build)
