"""Where the invoicing events keep each value: the accessors the checks and readers share.

Every accessor takes a ``Node`` of a possibly malformed event and answers ``None`` (or an
empty list) for anything absent or of the wrong type, like ``mappings.bundle``: the checks
run even when the schema already found errors.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from mappings import fhirpath
from mappings.bundle import EventBundle, Node, coding_code
from mappings.vocabulary import (
    CARE_FUND_SYSTEM,
    CREDITS_EXTENSION,
    FOR_LINE_EXTENSION,
    INVOICE_KIND_SYSTEM,
    INVOICE_NUMBER_SYSTEM,
    INVOICE_TYPE_SYSTEM,
    LINE_KIND_SYSTEM,
    SERVICE_CODE_SYSTEM,
)

PERSONAL_SHARE_CODES: Final = {"reva": "779990", "pvt": "769990"}
"""The service code of the personal-share line of each invoice type (docs/simulator.md,
"Invoicing", service codes; DOMAIN.md "Invoicing": every service has its personal-share
record)."""


def extensions(resource: Node, url: str) -> list[Node]:
    """The extensions of ``resource`` with ``url``."""
    return [ext for ext in resource.child("extension").items() if ext.child("url").value == url]


def extension_expression(
    bundle: EventBundle, resource: Node, url: str, key: str | None = None
) -> str:
    """The expression of ``resource.extension('url')`` (and its ``key``), whether it exists
    or not."""
    base = bundle.expression(resource.child("extension")).removesuffix(".extension")
    return f"{base}{fhirpath.extension(url)}" + (f".{key}" if key else "")


def code_of(concept: Node, system: str) -> str | None:
    """The code of the first coding of ``concept`` with ``system``, if it is a text."""
    code = coding_code(concept, system)
    return code.text if code is not None else None


def code_node(concept: Node, system: str) -> Node:
    """The code node of ``concept``'s coding with ``system`` (or of ``coding[0]``)."""
    code = coding_code(concept, system)
    if code is not None:
        return code
    first = next(concept.child("coding").items(), None)
    return first.child("code") if first is not None else concept.child("coding")


def invoice_type(claim: Node) -> str | None:
    """``reva`` or ``pvt`` (anything else: None)."""
    code = code_of(claim.child("type"), INVOICE_TYPE_SYSTEM)
    return code if code in PERSONAL_SHARE_CODES else None


def invoice_kind(claim: Node) -> str | None:
    """``invoice`` or ``credit-note`` as written."""
    return code_of(claim.child("subType"), INVOICE_KIND_SYSTEM)


def invoice_number(claim: Node) -> str | None:
    """The invoice number (``identifier`` with the invoice-number system)."""
    value = EventBundle.identifier(claim, INVOICE_NUMBER_SYSTEM)
    return value.text if value is not None else None


def care_fund(identifier: Node) -> str | None:
    """The care fund code of an Identifier with the care-fund system."""
    if identifier.child("system").value != CARE_FUND_SYSTEM:
        return None
    return identifier.child("value").text


def line_kind(item: Node) -> str | None:
    """``service`` or ``personal-share`` as written."""
    return code_of(item.child("category"), LINE_KIND_SYSTEM)


def service_code(item: Node) -> Node:
    """The node of the line's service code."""
    return code_node(item.child("productOrService"), SERVICE_CODE_SYSTEM)


def line_number(item: Node) -> int | None:
    """The line number (``sequence``) if it is a positive integer."""
    return positive_int(item.child("sequence"))


def positive_int(node: Node) -> int | None:
    """The value of ``node`` if it is an integer of at least 1 (JSON true is not 1)."""
    value = node.value
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return None
    return value


def for_line(item: Node) -> list[Node]:
    """The line's ``for-line`` extensions."""
    return extensions(item, FOR_LINE_EXTENSION)


def credits(item: Node) -> list[Node]:
    """The line's ``credits`` extensions."""
    return extensions(item, CREDITS_EXTENSION)


def amount(value: object) -> Decimal | None:
    """A JSON number as the Decimal it was written as (the body is decoded with floats:
    ``repr`` gives back the shortest literal of the same value), None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    return None
