"""Rule helpers shared by the validation of the envelope and by the mappers' checks."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any, Final

from mappings import fhirpath
from mappings.bundle import EventBundle, Node
from mappings.identifiers import is_eleven_digits, is_valid_nihdi
from mappings.model import Issue

_DATE_PREFIX: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NOT_XML: Final = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 cannot carry (control characters, lone surrogates, U+FFFE/U+FFFF)."""


def date_text(node: Node) -> str | None:
    """The ``YYYY-MM-DD`` part of a date or dateTime, as written (no time zone shift)."""
    text = node.text
    if text is None or not _DATE_PREFIX.match(text):
        return None
    return text[:10]


def parse_date(node: Node) -> date | None:
    """The calendar date of a date or dateTime node, ``None`` if absent or impossible."""
    text = date_text(node)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def date_issues(bundle: EventBundle, nodes: list[Node]) -> list[Issue]:
    """A ``date-invalid`` issue for each well-formed date that is not a calendar date."""
    issues = []
    for node in nodes:
        if date_text(node) is not None and parse_date(node) is None:
            expression = bundle.expression(node)
            issues.append(
                Issue("date-invalid", f"{expression} is not a calendar date.", expression)
            )
    return issues


def period_order_issue(
    bundle: EventBundle, start: Node, end: Node, *, strict: bool
) -> Issue | None:
    """A ``period-order`` issue on ``end`` if it is before ``start`` (``strict``: if it is not
    after it); none while either is not a calendar date (``date_issues`` names that)."""
    first, last = parse_date(start), parse_date(end)
    if first is None or last is None or last > first or (last == first and not strict):
        return None
    expression = bundle.expression(end)
    text = (
        f"{expression} must be after the start date."
        if strict
        else f"{expression} must not be before the start."
    )
    return Issue("period-order", text, expression)


def nihdi_issue(bundle: EventBundle, node: Node) -> Issue | None:
    """A ``nihdi-check-digit`` issue if an 11-digit NIHDI number fails both check schemes."""
    if not is_eleven_digits(node.value) or is_valid_nihdi(node.value):
        return None
    expression = bundle.expression(node)
    return Issue(
        "nihdi-check-digit",
        f"{expression} fails the NIHDI check digits (modulo 97 or 89).",
        expression,
    )


def supporting_info_expression(bundle: EventBundle, claim: Node, category: str) -> str:
    """The FHIRPath expression of the ``Claim.supportingInfo`` items of ``category``."""
    return bundle.expression(claim.child("supportingInfo")) + fhirpath.where(
        "category.coding.code", category
    )


def supporting_info(
    bundle: EventBundle, claim: Node, category: str, issues: list[Issue], *, required: bool
) -> Node | None:
    """The one supportingInfo item of ``category``; a missing or repeated one adds an issue."""
    found = bundle.supporting_info(claim, category)
    if len(found) == 1:
        return found[0]
    expression = supporting_info_expression(bundle, claim, category)
    if len(found) > 1:
        issues.append(Issue("duplicate", f"{expression} must occur at most once.", expression))
    elif required and isinstance(claim.child("supportingInfo").value, list):
        issues.append(Issue("required", f"{expression} is required.", expression))
    return None


def parts(
    bundle: EventBundle,
    claim: Node,
    issues: list[Issue],
    *,
    required: Sequence[str] = (),
    optional: Sequence[str] = (),
) -> dict[str, Node | None]:
    """The one supportingInfo item of each category; a missing required or a repeated one
    is an issue."""
    found = {
        category: supporting_info(bundle, claim, category, issues, required=True)
        for category in required
    }
    found |= {
        category: supporting_info(bundle, claim, category, issues, required=False)
        for category in optional
    }
    return found


def _holds_non_xml(value: Any) -> bool:
    if isinstance(value, str):
        return _NOT_XML.search(value) is not None
    if isinstance(value, dict):
        return any(_holds_non_xml(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_non_xml(v) for v in value)
    return False


def xml_character_issues(bundle: EventBundle, nodes: list[Node]) -> list[Issue]:
    """An ``xml-character`` issue for each string under ``nodes`` that XML cannot carry.

    JSON allows control characters that lxml refuses; found at ingest, they give the EPD
    an answer instead of a message that can never be built.
    """
    if not any(_holds_non_xml(node.value) for node in nodes):
        return []  # the usual case, found without building a node per value
    issues = []
    pending = list(nodes)
    while pending:
        node = pending.pop()
        if isinstance(node.value, str) and _NOT_XML.search(node.value):
            expression = bundle.expression(node)
            text = f"{expression} contains a character that XML cannot carry."
            issues.append(Issue("xml-character", text, expression))
        elif isinstance(node.value, dict):
            pending.extend(node.child(key) for key in node.value if isinstance(key, str))
        else:
            pending.extend(node.items())
    return sorted(issues, key=lambda issue: issue.expression or "")
