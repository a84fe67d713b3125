"""pvt-discharge (Encounter, period.end) -> vsb:PvtDischarge.

The end of the stay of an accepted admission: the Encounter of the stay, finished, whose
``period.end`` is the date **and hour** of discharge (seed 000: both matter for the care
budget), so a date alone is refused. The date and the time travel as written, in the local
time of the offset the EPD gave, with no shift to another zone (as ``rules.date_text`` does
for dates): DischargeDate is its date, DischargeTime its time with the offset.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

from lxml import etree

from mappings import rules, vsb_schema
from mappings.answers.claim_response import CLAIM_RESPONSE
from mappings.bundle import EventBundle, Node, coding_code
from mappings.mapper import Mapper, Unmappable, required_text
from mappings.mappers.common import date_value
from mappings.mappers.modification import add_head
from mappings.message_type import MessageType
from mappings.model import Issue, MessageContext
from mappings.ordering import BY_DOSSIER
from mappings.role import MODIFIES
from mappings.vocabulary import DISCHARGE_DESTINATION_SYSTEM

_DATE_TIME: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})"
    r"(?:\.[0-9]+)?(?:Z|[+-](?P<zone_hour>[0-9]{2}):(?P<zone_minute>[0-9]{2}))"
)
"""A FHIR dateTime with its time and offset (the schema's form of one)."""
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
"""A date alone: a FHIR dateTime without the hour."""


def check(bundle: EventBundle, encounter: Node) -> list[Issue]:
    """The stay's Patient and facility; the discharge a date with a valid time and offset,
    not before the start."""
    issues = _reference_issues(bundle, encounter)
    period = encounter.child("period")
    start, end = period.child("start"), period.child("end")
    issues.extend(rules.date_issues(bundle, [start, end]))
    if end.text is not None and _DATE.fullmatch(end.text):
        expression = bundle.expression(end)
        text = (
            f"{expression} must be the date and hour of discharge: a FHIR dateTime with"
            " its time and time-zone offset, not a date alone."
        )
        issues.append(Issue("discharge-time", text, expression))
    elif end.text is not None and _DATE_TIME.fullmatch(end.text) and not _valid_time(end.text):
        expression = bundle.expression(end)
        text = f"{expression} is not a valid time of day with a time-zone offset."
        issues.append(Issue("date-invalid", text, expression))
    order = rules.period_order_issue(bundle, start, end, strict=False) or _instant_order(
        bundle, start, end
    )
    issues.extend([order] if order is not None else [])
    return issues


def _valid_time(text: str) -> bool:
    """Hours to 23, minutes and seconds to 59, an offset to 14:00 (what xs:time takes)."""
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        return False
    hour, minute, second = (int(match[name]) for name in ("hour", "minute", "second"))
    if hour > 23 or minute > 59 or second > 59:
        return False
    if match["zone_hour"] is None:
        return True  # Z
    zone = int(match["zone_hour"]) * 60 + int(match["zone_minute"])
    return int(match["zone_minute"]) <= 59 and zone <= 14 * 60


def _instant_order(bundle: EventBundle, start: Node, end: Node) -> Issue | None:
    # The same day: when both carry a time, the discharge must not come before the start.
    first, last = _instant(start), _instant(end)
    if first is None or last is None or last >= first:
        return None
    expression = bundle.expression(end)
    return Issue("period-order", f"{expression} must not be before the start.", expression)


def _instant(node: Node) -> datetime | None:
    text = node.text
    if text is None or not _DATE_TIME.fullmatch(text) or not _valid_time(text):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None  # not a calendar date: date_issues names it


def _reference_issues(bundle: EventBundle, encounter: Node) -> list[Issue]:
    issues = []
    for key, resource_type in (("subject", "Patient"), ("serviceProvider", "Organization")):
        resource = bundle.single(resource_type)
        reference = encounter.child(key).child("reference")
        if resource is None or reference.text is None:
            continue  # the schema or the envelope's checks name what is missing
        if reference.text != bundle.full_url(resource):
            expression = bundle.expression(reference)
            text = f"{expression} must be the fullUrl of the {resource_type} entry."
            issues.append(Issue("reference", text, expression))
    return issues


def build(
    bundle: EventBundle, encounter: Node, context: MessageContext, root: etree._Element
) -> None:
    """Append the reference, the INSZ, the discharge's date and time, and the destination."""
    add_head(bundle, context, root)
    end = encounter.child("period").child("end")
    text = required_text(end)
    if not _DATE_TIME.fullmatch(text):
        raise Unmappable(str(end.path))
    vsb_schema.add(root, "DischargeDate", date_value(end))
    vsb_schema.add(root, "DischargeTime", text[11:])  # as written: time, fraction, offset
    disposition = encounter.child("hospitalization").child("dischargeDisposition")
    destination = coding_code(disposition, DISCHARGE_DESTINATION_SYSTEM)
    if destination is not None:
        vsb_schema.add(root, "Destination", required_text(destination))


MESSAGE_TYPE = MessageType(
    code="pvt-discharge",
    message_kind="PvtDischarge",
    request=Mapper(focus_type="Encounter", check=check, build=build),
    answer=CLAIM_RESPONSE,
    ordering=BY_DOSSIER,
    role=MODIFIES,
)
