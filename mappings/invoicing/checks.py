"""The event-level rules of the invoicing events: pure functions of one event.

What an event alone can tell is judged here, at ingest, so an invalid invoice is answered at
once, naming its line; what needs the ledger (one batch per care fund and month, the care
fund of the last insurance status, credit notes for accepted lines, a correcting invoice
after its credit note) is judged when the batch is sent (docs/events.md, "Invoicing").
Each rule cites where it comes from: ``DOMAIN.md`` (the English restatement of the seed
slides, ``../shared/seeds/``) and its section.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Final

from mappings import rules
from mappings.bundle import EventBundle, Node
from mappings.invoicing import fields
from mappings.invoicing.fields import PERSONAL_SHARE_CODES
from mappings.model import Issue
from mappings.vocabulary import (
    BILLING_MONTH_EXTENSION,
    CARE_FUND_SYSTEM,
    CREDITS_EXTENSION,
    EVENT_ID_SYSTEM,
    FOR_LINE_EXTENSION,
    INVOICE_BATCH_SYSTEM,
    INVOICE_TYPE_SYSTEM,
)

PVT_FIRST_DAY: Final = date(2023, 4, 1)
"""DOMAIN.md "PVT", billing around the switch-over (seed 000): stays up to and including
31/3/2023 are billed to the mutuality (VI); from 1/4/2023 to the care funds, per day."""
REVA_FIRST_DAY: Final = date(2023, 11, 1)
"""DOMAIN.md "Invoicing" (seed 001, slide "Facturatie en prestaties": "Vanaf 1/11/23
facturatie aan zorgkassen"): REVA is invoiced to the care funds from 1/11/2023."""
YEARS_BILLABLE: Final = 2
"""DOMAIN.md "Invoicing" and "PVT" (seed 001: "Tot max 2 jaar na prestatiedatum"): each day
can be billed until the same date two years later (16/6/2023 until 16/6/2025)."""


def invoice_issues(bundle: EventBundle, claim: Node) -> list[Issue]:
    """Every event-level rule of an ``invoice`` event, each broken one an issue."""
    issues = rules.date_issues(
        bundle,
        [claim.child("created"), *(i.child("servicedDate") for i in claim.child("item").items())],
    )
    for url in (INVOICE_BATCH_SYSTEM, BILLING_MONTH_EXTENSION):
        _one_extension(bundle, claim, url, "valueString", issues)
    issues.extend(_care_fund_issues(bundle, claim))
    issues.extend(_corrects_issues(bundle, claim))
    items = list(claim.child("item").items())
    issues.extend(_line_number_issues(bundle, items))
    issues.extend(_personal_share_issues(bundle, items))
    issues.extend(_code_issues(bundle, claim, items))
    issues.extend(_day_issues(bundle, claim, items))
    issues.extend(_credits_issues(bundle, claim, items))
    issues.extend(_amount_issues(bundle, items))
    return issues


def batch_issues(bundle: EventBundle, batch: Node) -> list[Issue]:
    """The event-level rules of an ``invoice-batch`` event.

    Its invoice date and month against the earlier batches of its care fund are store-level
    (DOMAIN.md "Invoicing": only one monthly batch per care fund); here only what the event
    says of itself: one of each extension, and each invoice listed once.
    """
    issues = rules.date_issues(bundle, [batch.child("date")])
    for url, key in (
        (BILLING_MONTH_EXTENSION, "valueString"),
        (INVOICE_TYPE_SYSTEM, "valueCode"),
        (CARE_FUND_SYSTEM, "valueIdentifier"),
    ):
        _one_extension(bundle, batch, url, key, issues)
    seen: set[str] = set()
    # A batch lists up to 20,000 invoices: the raw values are read, a node made only for
    # an entry at fault.
    entries = batch.child("entry").value
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        item = entry.get("item") if isinstance(entry, dict) else None
        identifier = item.get("identifier") if isinstance(item, dict) else None
        if not isinstance(identifier, dict) or identifier.get("system") != EVENT_ID_SYSTEM:
            continue  # the schema names it
        event_id = identifier.get("value")
        if not isinstance(event_id, str):
            continue
        if event_id in seen:
            path = (*batch.path, "entry", index, "item", "identifier", "value")
            expression = bundle.expression(path)
            text = f"{expression} lists an invoice event already listed by an earlier entry."
            issues.append(Issue("invoice-batch-entry-duplicate", text, expression))
        seen.add(event_id)
    return issues


def _one_extension(
    bundle: EventBundle, resource: Node, url: str, key: str, issues: list[Issue]
) -> None:
    found = fields.extensions(resource, url)
    if len(found) == 1:
        return
    expression = fields.extension_expression(bundle, resource, url, key)
    if not found:
        issues.append(Issue("required", f"{expression} is required.", expression))
    else:
        issues.append(Issue("duplicate", f"{expression} must occur once.", expression))


def _care_fund_issues(bundle: EventBundle, claim: Node) -> Iterator[Issue]:
    # DOMAIN.md "Invoicing": a batch gathers the invoices of one care fund; an invoice that
    # names two could be written into neither batch correctly.
    insurer = fields.care_fund(claim.child("insurer").child("identifier"))
    for insurance in claim.child("insurance").items():
        identifier = insurance.child("coverage").child("identifier")
        coverage = fields.care_fund(identifier)
        if insurer is not None and coverage is not None and coverage != insurer:
            expression = bundle.expression(identifier.child("value"))
            text = f"{expression} must be the care fund of Claim.insurer (the fund billed)."
            yield Issue("invoice-care-fund", text, expression)


def _corrects_issues(bundle: EventBundle, claim: Node) -> Iterator[Issue]:
    # DOMAIN.md "Invoicing": a correcting invoice replaces an invoice whose lines a credit
    # note cancelled; it is an invoice itself, and never corrects itself.
    number = fields.invoice_number(claim)
    for related in claim.child("related").items():
        value = related.child("claim").child("identifier").child("value")
        expression = bundle.expression(value)
        if fields.invoice_kind(claim) == "credit-note":
            text = f"{expression}: only an invoice corrects another; a credit note names its lines."
            yield Issue("invoice-corrects", text, expression)
        elif number is not None and value.text == number:
            yield Issue("invoice-corrects", f"{expression} must not be this invoice.", expression)


def _line_number_issues(bundle: EventBundle, items: list[Node]) -> Iterator[Issue]:
    # vsb-1.0.xsd InvoiceLine: the line number is unique within its invoice (a credit note
    # and a per-line answer name lines by it).
    seen: set[int] = set()
    for item in items:
        number = fields.line_number(item)
        if number is None:
            continue  # the schema names it
        if number in seen:
            expression = bundle.expression(item.child("sequence"))
            text = f"{expression} is the line number of an earlier line: line numbers are unique."
            yield Issue("invoice-line-number-taken", text, expression)
        seen.add(number)


def _personal_share_issues(bundle: EventBundle, items: list[Node]) -> Iterator[Issue]:
    """DOMAIN.md "Invoicing" (seed 001, "Elke revalidatiedag wordt afzonderlijk
    gefactureerd … persoonlijk aandeel, ook als het 0 is"): every service line has exactly
    one personal-share line, even at 0, and a personal-share line belongs to a service line
    of the same invoice."""
    services = {
        number: item
        for item in items
        if fields.line_kind(item) == "service" and (number := fields.line_number(item))
    }
    shares: dict[int, int] = {}
    for item in items:
        kind = fields.line_kind(item)
        links = fields.for_line(item)
        expression = fields.extension_expression(
            bundle, item, FOR_LINE_EXTENSION, "valuePositiveInt"
        )
        if kind == "service" and links:
            text = f"{expression}: a service line belongs to no other line; remove it."
            yield Issue("invoice-for-line", text, expression)
        if kind != "personal-share":
            continue
        if not links:
            text = f"{expression} is required: the service line this personal share is for."
            yield Issue("required", text, expression)
            continue
        if len(links) > 1:
            yield Issue("duplicate", f"{expression} must occur once.", expression)
            continue
        target = fields.positive_int(links[0].child("valuePositiveInt"))
        if target is None:
            continue  # the schema names it
        if target not in services:
            text = f"{expression} must be the line number of a service line of this invoice."
            yield Issue("invoice-for-line", text, expression)
            continue
        shares[target] = shares.get(target, 0) + 1
        if shares[target] == 2:
            text = f"{expression}: its service line already has a personal-share line."
            yield Issue("invoice-personal-share-duplicate", text, expression)
    for number, item in services.items():
        if number not in shares:
            expression = bundle.expression(item)
            text = (
                f"{expression} is a service line without its personal-share line "
                "(a line with extension for-line naming it, even at 0.00)."
            )
            yield Issue("invoice-personal-share-missing", text, expression)


def _code_issues(bundle: EventBundle, claim: Node, items: list[Node]) -> Iterator[Issue]:
    """A personal-share line bills the type's personal-share code (REVA 779990, PVT 769990;
    docs/simulator.md "Invoicing", service codes), and a service line never does. Whether a
    service code exists is for the central application (an R error)."""
    kind_of_invoice = fields.invoice_type(claim)
    for item in items:
        code = fields.service_code(item)
        kind = fields.line_kind(item)
        if code.text is None:
            continue
        expression = bundle.expression(code)
        if kind == "personal-share" and kind_of_invoice is not None:
            if code.text != PERSONAL_SHARE_CODES[kind_of_invoice]:
                text = (
                    f"{expression} must be the personal-share code of a {kind_of_invoice} "
                    f"invoice ({PERSONAL_SHARE_CODES[kind_of_invoice]})."
                )
                yield Issue("invoice-share-code", text, expression)
        elif kind == "service" and code.text in PERSONAL_SHARE_CODES.values():
            text = f"{expression}: a service line must not bill a personal-share code."
            yield Issue("invoice-share-code", text, expression)


def _day_issues(bundle: EventBundle, claim: Node, items: list[Node]) -> Iterator[Issue]:
    invoice_date = rules.parse_date(claim.child("created"))
    kind_of_invoice = fields.invoice_type(claim)
    for item in items:
        if item.child("servicedPeriod").present:
            # DOMAIN.md "Invoicing" (seed 001: "geen periodes"): every day its own line.
            expression = bundle.expression(item.child("servicedPeriod"))
            text = (
                f"{expression} is not allowed: every day is invoiced on its own line "
                "(servicedDate)."
            )
            yield Issue("invoice-line-period", text, expression)
        day = rules.parse_date(item.child("servicedDate"))
        if day is None:
            continue
        expression = bundle.expression(item.child("servicedDate"))
        if invoice_date is not None and invoice_date > last_billable_day(day):
            text = (
                f"{expression} is more than {YEARS_BILLABLE} years before the invoice date "
                "(Claim.created): a day can be billed until the same date two years later."
            )
            yield Issue("invoice-two-year-rule", text, expression)
        if kind_of_invoice == "pvt" and day < PVT_FIRST_DAY:
            text = (
                f"{expression}: PVT stay days up to and including 2023-03-31 are billed to "
                "the mutuality (VI), not to a care fund."
            )
            yield Issue("invoice-pvt-before-switch", text, expression)
        if kind_of_invoice == "reva" and day < REVA_FIRST_DAY:
            text = f"{expression}: REVA is invoiced to the care funds from 2023-11-01."
            yield Issue("invoice-reva-before-start", text, expression)


def last_billable_day(day: date) -> date:
    """The last invoice date on which ``day`` may still be billed: the same date two years
    later (29 February: 28 February, the last day that is not past two years)."""
    try:
        return day.replace(year=day.year + YEARS_BILLABLE)
    except ValueError:
        return day.replace(year=day.year + YEARS_BILLABLE, day=28)


def _credits_issues(bundle: EventBundle, claim: Node, items: list[Node]) -> Iterator[Issue]:
    """DOMAIN.md "Invoicing": a credit note cancels lines accepted before, so each of its
    lines names one (whether it was accepted is the ledger's, at send time); an invoice's
    lines credit nothing."""
    kind = fields.invoice_kind(claim)
    number = fields.invoice_number(claim)
    seen: set[tuple[str, int]] = set()
    for item in items:
        found = fields.credits(item)
        expression = fields.extension_expression(bundle, item, CREDITS_EXTENSION)
        if kind == "invoice" and found:
            text = f"{expression}: only a credit note's lines credit a line; remove it."
            yield Issue("invoice-line-credits", text, expression)
            continue
        if kind != "credit-note":
            continue
        if not found:
            text = f"{expression} is required: a credit note's line names the line it credits."
            yield Issue("invoice-line-credits", text, expression)
            continue
        if len(found) > 1:
            yield Issue("duplicate", f"{expression} must occur once.", expression)
            continue
        reference, problems = _reference(bundle, found[0])
        yield from problems
        if reference is None:
            continue
        where = bundle.expression(found[0])
        if reference[0] == number:
            text = f"{where} must credit a line of an earlier invoice, not of this credit note."
            yield Issue("invoice-line-credits", text, where)
        elif reference in seen:
            text = f"{where} credits a line an earlier line of this credit note credits."
            yield Issue("invoice-line-credits", text, where)
        seen.add(reference)


def _reference(bundle: EventBundle, credit: Node) -> tuple[tuple[str, int] | None, list[Issue]]:
    """The (invoice number, line number) a credits extension names, and its issues."""
    issues: list[Issue] = []
    values: dict[str, object] = {}
    for url, key in (("invoice", "valueString"), ("line", "valuePositiveInt")):
        parts = [ext for ext in credit.child("extension").items() if ext.child("url").value == url]
        expression = fields.extension_expression(bundle, credit, url, key)
        if len(parts) != 1:
            word = "is required" if not parts else "must occur once"
            code = "required" if not parts else "duplicate"
            issues.append(Issue(code, f"{expression} {word}.", expression))
            continue
        values[url] = parts[0].child(key).value
    invoice, line = values.get("invoice"), values.get("line")
    if not isinstance(invoice, str) or isinstance(line, bool) or not isinstance(line, int):
        return None, issues
    return (invoice, line), issues


def _amount_issues(bundle: EventBundle, items: list[Node]) -> Iterator[Issue]:
    # vsb-1.0.xsd Amount: euro with cents (fractionDigits 2); the schema bounds the range.
    for item in items:
        node = item.child("net").child("value")
        value = fields.amount(node.value)
        exponent = value.as_tuple().exponent if value is not None else 0
        if isinstance(exponent, int) and exponent < -2:
            expression = bundle.expression(node)
            text = f"{expression} must be an amount in euro with at most 2 decimals."
            yield Issue("invoice-amount", text, expression)
