"""The invoicing events: every event-level rule at its boundary, the readers, and poison."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from mappings import MESSAGE_TYPES, check_event, read_envelope
from mappings.invoice_batch import Invoice, InvoiceKind, InvoiceLine, LineKind, LineReference
from mappings.invoicing import (
    BatchClose,
    InvoicePart,
    read_batch_document,
    read_invoice_document,
)
from mappings.invoicing.checks import last_billable_day
from mappings.message_type import Carriage
from mappings.model import Issue
from tests.mappings.helpers import FACILITY, example, raw, resource

REVA = "34-invoice-reva"
PVT = "35-invoice-pvt"
CREDIT_NOTE = "36-invoice-reva-credit-note"
CORRECTION = "37-invoice-reva-correction"
BATCH = "38-invoice-batch-reva"

FOR_LINE = "urn:vsb-adapter:fhir:for-line"
CREDITS = "urn:vsb-adapter:fhir:credits"
BILLING_MONTH = "urn:vsb-adapter:fhir:billing-month"
INVOICE_BATCH = "urn:vsb-adapter:fhir:invoice-batch"
CARE_FUND = "urn:vsb-adapter:fhir:care-fund"
EVENT_ID = "urn:vsb-adapter:fhir:event-id"

Edit = Callable[[dict[str, Any]], None]
Pairs = set[tuple[str, str | None]]


def checked(document: dict[str, Any]) -> tuple[str | None, tuple[Issue, ...]]:
    """The event code ingest accepts ``document`` as (None if refused), and its issues."""
    verdict = check_event(raw(document), FACILITY)
    return (verdict.message_type.code if verdict.message_type else None), verdict.issues


def pairs_of(document: dict[str, Any]) -> Pairs:
    """The (code, expression) of every issue ``check_event`` finds."""
    return {(issue.code, issue.expression) for issue in checked(document)[1]}


def claim(document: dict[str, Any]) -> dict[str, Any]:
    """The Claim of an invoice event."""
    return resource(document, "Claim")


def items(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The lines of an invoice event."""
    found: list[dict[str, Any]] = claim(document)["item"]
    return found


def batch_list(document: dict[str, Any]) -> dict[str, Any]:
    """The List of an invoice-batch event."""
    return resource(document, "List")


def dated(created: str, day: str, line: int = 0) -> Edit:
    """Set the invoice date and the day of one line."""

    def edit(document: dict[str, Any]) -> None:
        claim(document)["created"] = created
        items(document)[line]["servicedDate"] = day

    return edit


def edits(*steps: Edit) -> Edit:
    """Several edits in turn."""

    def edit(document: dict[str, Any]) -> None:
        for step in steps:
            step(document)

    return edit


def line_set(line: int, key: str, value: Any) -> Edit:
    """Set one member of one line."""

    def edit(document: dict[str, Any]) -> None:
        items(document)[line][key] = value

    return edit


def line_code(line: int, code: str) -> Edit:
    """Set the service code of one line."""

    def edit(document: dict[str, Any]) -> None:
        items(document)[line]["productOrService"]["coding"][0]["code"] = code

    return edit


def line_extensions(line: int, extensions: list[dict[str, Any]]) -> Edit:
    """Replace the extensions of one line."""

    def edit(document: dict[str, Any]) -> None:
        items(document)[line]["extension"] = extensions

    return edit


def drop_line(line: int) -> Edit:
    """Remove one line."""

    def edit(document: dict[str, Any]) -> None:
        del items(document)[line]

    return edit


def copy_line(line: int, number: int) -> Edit:
    """Append a copy of one line under another line number."""

    def edit(document: dict[str, Any]) -> None:
        added = copy.deepcopy(items(document)[line])
        added["sequence"] = number
        items(document).append(added)

    return edit


def credits(invoice: str, line: int) -> dict[str, Any]:
    """A credits extension."""
    return {
        "url": CREDITS,
        "extension": [
            {"url": "invoice", "valueString": invoice},
            {"url": "line", "valuePositiveInt": line},
        ],
    }


def related(number: str) -> Edit:
    """Make the invoice correct ``number``."""

    def edit(document: dict[str, Any]) -> None:
        claim(document)["related"] = [
            {
                "claim": {
                    "identifier": {"system": "urn:vsb-adapter:fhir:invoice-number", "value": number}
                },
                "relationship": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship",
                            "code": "prior",
                        }
                    ]
                },
            }
        ]

    return edit


def claim_extension(url: str, value: str | None) -> Edit:
    """Set (or, with None, remove) a Claim extension."""

    def edit(document: dict[str, Any]) -> None:
        extensions = [e for e in claim(document)["extension"] if e["url"] != url]
        if value is not None:
            extensions.append({"url": url, "valueString": value})
        claim(document)["extension"] = extensions

    return edit


def coverage_fund(fund: str) -> Edit:
    """Set the care fund of the invoice's insurance."""

    def edit(document: dict[str, Any]) -> None:
        claim(document)["insurance"][0]["coverage"]["identifier"]["value"] = fund

    return edit


def item_path(line: int, rest: str = "") -> str:
    """The expression of a line (and of an element under it)."""
    return f"Claim.item[{line}]{rest}"


SHARE_CODE = ".productOrService.coding[0].code"
FOR_LINE_VALUE = f".extension('{FOR_LINE}').valuePositiveInt"
CREDITS_EXT = f".extension('{CREDITS}')"

INVOICE_ROWS: list[tuple[str, str, Edit, Pairs]] = [
    # the two-year rule (DOMAIN.md "PVT": 16/6/2023 can be billed until 16/6/2025)
    ("two-year-day-of", PVT, dated("2025-06-16", "2023-06-16"), set()),
    (
        "two-year-day-before",
        PVT,
        dated("2025-06-16", "2023-06-15"),
        {("invoice-two-year-rule", item_path(0, ".servicedDate"))},
    ),
    (
        "two-year-invoice-date-after",
        PVT,
        dated("2025-06-17", "2023-06-16"),
        {("invoice-two-year-rule", item_path(0, ".servicedDate"))},
    ),
    ("two-year-29-february-until-28th", PVT, dated("2026-02-28", "2024-02-29"), set()),
    (
        "two-year-29-february-not-1st-march",
        PVT,
        dated("2026-03-01", "2024-02-29"),
        {("invoice-two-year-rule", item_path(0, ".servicedDate"))},
    ),
    # PVT from the switch-over (DOMAIN.md "PVT", billing around the switch-over)
    (
        "pvt-last-vi-day",
        PVT,
        dated("2025-03-01", "2023-03-31"),
        {("invoice-pvt-before-switch", item_path(0, ".servicedDate"))},
    ),
    ("pvt-first-care-fund-day", PVT, dated("2025-03-01", "2023-04-01"), set()),
    # REVA from 1/11/2023 (DOMAIN.md "Invoicing")
    (
        "reva-day-before-start",
        REVA,
        dated("2025-06-01", "2023-10-31"),
        {("invoice-reva-before-start", item_path(0, ".servicedDate"))},
    ),
    ("reva-first-day", REVA, dated("2025-06-01", "2023-11-01"), set()),
    ("reva-rule-is-not-pvt", PVT, dated("2025-06-01", "2023-10-31"), set()),
    # no periods (DOMAIN.md "Invoicing": every day separately)
    (
        "period",
        REVA,
        edits(
            line_set(0, "servicedPeriod", {"start": "2026-11-02", "end": "2026-11-05"}),
            lambda document: items(document)[0].pop("servicedDate"),
        ),
        {
            ("invoice-line-period", item_path(0, ".servicedPeriod")),
            ("required", item_path(0, ".servicedDate")),
        },
    ),
    (
        "period-beside-a-date",
        REVA,
        line_set(0, "servicedPeriod", {"start": "2026-11-02", "end": "2026-11-02"}),
        {("invoice-line-period", item_path(0, ".servicedPeriod"))},
    ),
    # every service line its one personal-share line, even at 0
    (
        "share-missing",
        REVA,
        drop_line(1),
        {("invoice-personal-share-missing", item_path(0))},
    ),
    ("share-at-zero", REVA, line_set(1, "net", {"value": 0, "currency": "EUR"}), set()),
    (
        "share-twice",
        REVA,
        copy_line(1, 7),
        {("invoice-personal-share-duplicate", item_path(6, FOR_LINE_VALUE))},
    ),
    (
        "share-for-a-share-line",
        REVA,
        line_extensions(1, [{"url": FOR_LINE, "valuePositiveInt": 4}]),
        {
            ("invoice-for-line", item_path(1, FOR_LINE_VALUE)),
            ("invoice-personal-share-missing", item_path(0)),
        },
    ),
    (
        "share-for-no-line",
        REVA,
        line_extensions(1, [{"url": FOR_LINE, "valuePositiveInt": 99}]),
        {
            ("invoice-for-line", item_path(1, FOR_LINE_VALUE)),
            ("invoice-personal-share-missing", item_path(0)),
        },
    ),
    (
        "share-without-for-line",
        REVA,
        line_extensions(1, []),
        {
            ("required", item_path(1, FOR_LINE_VALUE)),
            ("invoice-personal-share-missing", item_path(0)),
        },
    ),
    (
        "service-with-for-line",
        REVA,
        line_extensions(0, [{"url": FOR_LINE, "valuePositiveInt": 3}]),
        {("invoice-for-line", item_path(0, FOR_LINE_VALUE))},
    ),
    # line numbers
    (
        "line-number-taken",
        REVA,
        line_set(3, "sequence", 1),
        {("invoice-line-number-taken", item_path(3, ".sequence"))},
    ),
    (
        "line-number-zero",
        REVA,
        line_set(3, "sequence", 0),
        {("schema", item_path(3, ".sequence"))},
    ),
    # personal-share codes (REVA 779990, PVT 769990)
    (
        "reva-share-with-pvt-code",
        REVA,
        line_code(1, "769990"),
        {("invoice-share-code", item_path(1, SHARE_CODE))},
    ),
    (
        "pvt-share-with-reva-code",
        PVT,
        line_code(1, "779990"),
        {("invoice-share-code", item_path(1, SHARE_CODE))},
    ),
    (
        "service-with-share-code",
        REVA,
        line_code(0, "779990"),
        {("invoice-share-code", item_path(0, SHARE_CODE))},
    ),
    ("service-code-unknown-is-central", REVA, line_code(0, "123456"), set()),
    (
        "service-code-five-digits",
        REVA,
        line_code(0, "77101"),
        {("schema", item_path(0, SHARE_CODE))},
    ),
    # credits: a credit note's lines only
    (
        "invoice-line-with-credits",
        REVA,
        line_extensions(0, [credits("R2026-10-0001", 1)]),
        {("invoice-line-credits", item_path(0, CREDITS_EXT))},
    ),
    (
        "credit-note-line-without-credits",
        CREDIT_NOTE,
        line_extensions(0, []),
        {("invoice-line-credits", item_path(0, CREDITS_EXT))},
    ),
    (
        "credit-note-crediting-itself",
        CREDIT_NOTE,
        line_extensions(0, [credits("C2026-12-0001", 1)]),
        {("invoice-line-credits", item_path(0, CREDITS_EXT))},
    ),
    (
        "credit-note-crediting-a-line-twice",
        CREDIT_NOTE,
        line_extensions(1, [{"url": FOR_LINE, "valuePositiveInt": 1}, credits("R2026-11-0001", 1)]),
        {("invoice-line-credits", item_path(1, CREDITS_EXT))},
    ),
    (
        "credits-without-its-line",
        CREDIT_NOTE,
        line_extensions(
            0, [{"url": CREDITS, "extension": [{"url": "invoice", "valueString": "R2026-11-0001"}]}]
        ),
        {
            ("required", item_path(0, f"{CREDITS_EXT}.extension('line').valuePositiveInt")),
            ("schema", item_path(0, f"{CREDITS_EXT}.extension")),
        },
    ),
    # corrections
    ("correction", REVA, related("R2026-10-0001"), set()),
    (
        "credit-note-correcting",
        CREDIT_NOTE,
        related("R2026-11-0001"),
        {("invoice-corrects", "Claim.related[0].claim.identifier.value")},
    ),
    (
        "correcting-itself",
        CORRECTION,
        related("R2027-01-0001"),
        {("invoice-corrects", "Claim.related[0].claim.identifier.value")},
    ),
    # care fund, amounts, month, batch number
    (
        "care-fund-mismatch",
        REVA,
        coverage_fund("280"),
        {("invoice-care-fund", "Claim.insurance[0].coverage.identifier.value")},
    ),
    (
        "amount-three-decimals",
        REVA,
        line_set(0, "net", {"value": 86.505, "currency": "EUR"}),
        {("invoice-amount", item_path(0, ".net.value"))},
    ),
    ("amount-largest", REVA, line_set(0, "net", {"value": 99999.99, "currency": "EUR"}), set()),
    (
        "amount-too-large",
        REVA,
        line_set(0, "net", {"value": 100000, "currency": "EUR"}),
        {("schema", item_path(0, ".net.value"))},
    ),
    (
        "amount-negative",
        REVA,
        line_set(0, "net", {"value": -0.01, "currency": "EUR"}),
        {("schema", item_path(0, ".net.value"))},
    ),
    (
        "amount-in-dollars",
        REVA,
        line_set(0, "net", {"value": 1, "currency": "USD"}),
        {("schema", item_path(0, ".net.currency"))},
    ),
    (
        "month-13",
        REVA,
        claim_extension(BILLING_MONTH, "2026-13"),
        {("billing-month", f"Claim.extension('{BILLING_MONTH}').valueString")},
    ),
    (
        "batch-number-missing",
        REVA,
        claim_extension(INVOICE_BATCH, None),
        {("required", f"Claim.extension('{INVOICE_BATCH}').valueString")},
    ),
    (
        "day-that-does-not-exist",
        REVA,
        line_set(0, "servicedDate", "2026-02-30"),
        {("date-invalid", item_path(0, ".servicedDate"))},
    ),
]


class TestInvoiceRules:
    """``check_event`` judges every event-level rule of an invoice at its boundary."""

    @pytest.mark.parametrize(
        ("name", "edit", "expected"),
        [row[1:] for row in INVOICE_ROWS],
        ids=[row[0] for row in INVOICE_ROWS],
    )
    def test_rule(self, name: str, edit: Edit, expected: Pairs) -> None:
        """The edited example gets exactly the issues of the row (none: accepted as an invoice)."""
        document = example(name)
        edit(document)
        code, issues = checked(document)
        assert {(issue.code, issue.expression) for issue in issues} == expected
        assert code == (None if expected else "invoice")

    @pytest.mark.parametrize("name", [REVA, PVT, CREDIT_NOTE, CORRECTION])
    def test_examples_are_invoices(self, name: str) -> None:
        """Each invoice example is accepted as an invoice part, never sent alone."""
        code, issues = checked(example(name))
        assert (code, issues) == ("invoice", ())
        assert MESSAGE_TYPES["invoice"].carriage is Carriage.PART

    def test_texts_name_the_field_not_the_value(self) -> None:
        """An issue quotes its expression and never the INSZ or the invoice number."""
        document = example(REVA)
        drop_line(1)(document)
        [issue] = checked(document)[1]
        assert issue.expression is not None
        assert issue.expression in issue.text
        assert "85073003328" not in issue.text
        assert "R2026-11-0001" not in issue.text


class TestLastBillableDay:
    """A day can be billed until the same date two years later."""

    @pytest.mark.parametrize(
        ("day", "last"),
        [
            (date(2023, 6, 16), date(2025, 6, 16)),
            (date(2023, 12, 31), date(2025, 12, 31)),
            (date(2024, 2, 29), date(2026, 2, 28)),
            (date(2024, 2, 28), date(2026, 2, 28)),
        ],
    )
    def test_last_day(self, day: date, last: date) -> None:
        """The last invoice date for ``day``."""
        assert last_billable_day(day) == last


def batch_entries(*event_ids: str) -> Edit:
    """Replace the invoices a batch lists."""

    def edit(document: dict[str, Any]) -> None:
        batch_list(document)["entry"] = [
            {"item": {"identifier": {"system": EVENT_ID, "value": event_id}}}
            for event_id in event_ids
        ]

    return edit


def batch_extension(url: str, extension: dict[str, Any] | None) -> Edit:
    """Set (or, with None, remove) one extension of the batch List."""

    def edit(document: dict[str, Any]) -> None:
        kept = [e for e in batch_list(document)["extension"] if e["url"] != url]
        batch_list(document)["extension"] = kept + ([extension] if extension else [])

    return edit


BATCH_ROWS: list[tuple[str, Edit, Pairs]] = [
    ("two-invoices", batch_entries("evt-1", "evt-2"), set()),
    (
        "an-invoice-twice",
        batch_entries("evt-1", "evt-2", "evt-1"),
        {("invoice-batch-entry-duplicate", "List.entry[2].item.identifier.value")},
    ),
    ("largest", batch_entries(*(f"evt-{n}" for n in range(20_000))), set()),
    (
        "too-many",
        batch_entries(*(f"evt-{n}" for n in range(20_001))),
        {("schema", "List.entry")},
    ),
    ("empty", batch_entries(), {("schema", "List.entry")}),
    (
        "month-00",
        batch_extension(BILLING_MONTH, {"url": BILLING_MONTH, "valueString": "2026-00"}),
        {("billing-month", f"List.extension('{BILLING_MONTH}').valueString")},
    ),
    (
        "month-12",
        batch_extension(BILLING_MONTH, {"url": BILLING_MONTH, "valueString": "2026-12"}),
        set(),
    ),
    (
        "care-fund-missing",
        batch_extension(CARE_FUND, None),
        {("required", f"List.extension('{CARE_FUND}').valueIdentifier")},
    ),
    (
        "care-fund-unknown",
        batch_extension(
            CARE_FUND,
            {"url": CARE_FUND, "valueIdentifier": {"system": CARE_FUND, "value": "780"}},
        ),
        {("schema", f"List.extension('{CARE_FUND}').valueIdentifier.value")},
    ),
    (
        "date-that-does-not-exist",
        lambda document: batch_list(document).update(date="2026-11-31"),
        {("date-invalid", "List.date")},
    ),
]


class TestBatchRules:
    """``check_event`` judges an invoice-batch event's own rules."""

    @pytest.mark.parametrize(
        ("edit", "expected"), [row[1:] for row in BATCH_ROWS], ids=[row[0] for row in BATCH_ROWS]
    )
    def test_rule(self, edit: Edit, expected: Pairs) -> None:
        """The edited batch example gets exactly the issues of the row."""
        document = example(BATCH)
        edit(document)
        code, issues = checked(document)
        assert {(issue.code, issue.expression) for issue in issues} == expected
        assert code == (None if expected else "invoice-batch")

    def test_the_example_is_a_batch_of_its_care_fund(self) -> None:
        """The batch example is accepted; its ordering key is its care fund's."""
        document = example(BATCH)
        assert checked(document) == ("invoice-batch", ())
        batch_type = MESSAGE_TYPES["invoice-batch"]
        assert batch_type.carriage is Carriage.BATCH
        assert batch_type.ordering.key(read_envelope(raw(document))) == "care-fund:180"

    def test_a_claim_keeps_its_insurer_as_care_fund(self) -> None:
        """An invoice's Claim gives the same key by its insurer (the Claim way)."""
        envelope = read_envelope(raw(example(REVA)))
        assert MESSAGE_TYPES["invoice-batch"].ordering.key(envelope) == "care-fund:180"

    def test_a_list_with_two_care_funds_has_no_key(self) -> None:
        """Two care-fund extensions give no ordering key (and the checks refuse it)."""
        document = example(BATCH)
        second = {"url": CARE_FUND, "valueIdentifier": {"system": CARE_FUND, "value": "280"}}
        batch_list(document)["extension"].append(second)
        assert MESSAGE_TYPES["invoice-batch"].ordering.key(read_envelope(raw(document))) is None
        assert ("duplicate", f"List.extension('{CARE_FUND}').valueIdentifier") in pairs_of(document)


def money(text: str) -> Decimal:
    """An amount."""
    return Decimal(text)


class TestReaders:
    """The readers turn valid events into the batch model."""

    def test_reva_invoice(self) -> None:
        """The REVA example: its batch fields, its invoice and its six lines."""
        part = read_invoice_document(example(REVA))
        days = [date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 5)]
        lines: list[InvoiceLine] = []
        for index, day in enumerate(days):
            service = 2 * index + 1
            share = money("0.00") if index == 1 else money("5.00")
            lines.append(InvoiceLine(service, LineKind.SERVICE, "771011", day, money("86.50")))
            lines.append(
                InvoiceLine(
                    service + 1, LineKind.PERSONAL_SHARE, "779990", day, share, for_line=service
                )
            )
        assert part == InvoicePart(
            batch_number="202611",
            care_fund="180",
            invoice_type="reva",
            billing_month="2026-11",
            invoice_date=date(2026, 11, 20),
            invoice=Invoice(
                number="R2026-11-0001",
                kind=InvoiceKind.INVOICE,
                insz="85073003328",
                vsb_reference="VSB-2026-000042",
                lines=tuple(lines),
            ),
        )
        assert str(part.invoice.lines[1].amount) == "5.00"

    def test_pvt_invoice(self) -> None:
        """The PVT example: its type, care fund and amounts with cents."""
        part = read_invoice_document(example(PVT))
        assert (part.invoice_type, part.care_fund) == ("pvt", "680")
        assert {line.amount for line in part.invoice.lines} == {money("98.20"), money("31.45")}

    def test_credit_note(self) -> None:
        """The credit note's lines name the lines they credit."""
        part = read_invoice_document(example(CREDIT_NOTE))
        assert part.invoice.kind is InvoiceKind.CREDIT_NOTE
        assert [line.credits for line in part.invoice.lines] == [
            LineReference("R2026-11-0001", 1),
            LineReference("R2026-11-0001", 2),
        ]

    def test_correcting_invoice(self) -> None:
        """The correcting invoice names the invoice it corrects."""
        part = read_invoice_document(example(CORRECTION))
        assert (part.invoice.kind, part.invoice.corrects) == (InvoiceKind.INVOICE, "R2026-11-0001")
        assert part.invoice_date == date(2027, 1, 20)

    def test_batch_close(self) -> None:
        """The batch example: its head fields and the event ids it lists."""
        assert read_batch_document(example(BATCH)) == BatchClose(
            batch_number="202611",
            care_fund="180",
            invoice_type="reva",
            billing_month="2026-11",
            invoice_date=date(2026, 11, 20),
            event_ids=("evt-20261120-0034",),
        )


def thousand_lines(count: int) -> dict[str, Any]:
    """The REVA example with ``count`` lines: half service lines, half their shares."""
    document = example(REVA)
    service, share = items(document)[0], items(document)[1]
    lines = []
    for number in range(1, count + 1, 2):
        lines.append({**copy.deepcopy(service), "sequence": number})
        lines.append(
            {
                **copy.deepcopy(share),
                "sequence": number + 1,
                "extension": [{"url": FOR_LINE, "valuePositiveInt": number}],
            }
        )
    claim(document)["item"] = lines[:count]
    return document


POISON: list[tuple[str, Callable[[], bytes], Pairs]] = [
    (
        "deep-nesting",
        lambda: raw(example(REVA)).replace(
            b'"value": 86.5', b'"value": ' + b"[" * 40 + b"]" * 40, 1
        ),
        {("too-deep", None)},
    ),
    (
        "huge-number",
        lambda: raw(example(REVA)).replace(b'"value": 86.5', b'"value": 1e400', 1),
        {("number", None)},
    ),
    (
        "big-but-finite-number",
        lambda: raw(example(REVA)).replace(b'"value": 86.5', b'"value": 1e300', 1),
        {("schema", item_path(0, ".net.value"))},
    ),
    (
        "nul-in-the-invoice-number",
        lambda: raw(example(REVA)).replace(b"R2026-11-0001", b"R2026\\u0000-11", 1),
        {
            (
                "schema",
                "Claim.identifier.where(system='urn:vsb-adapter:fhir:invoice-number').value",
            ),
            (
                "xml-character",
                "Claim.identifier.where(system='urn:vsb-adapter:fhir:invoice-number').value",
            ),
        },
    ),
    ("thousand-lines", lambda: raw(thousand_lines(1000)), set()),
    (
        "1001-lines",
        lambda: raw(thousand_lines(1001)),
        {("schema", "Claim.item"), ("invoice-personal-share-missing", item_path(1000))},
    ),
    (
        "a-line-that-is-a-string",
        lambda: edited(REVA, lambda document: claim(document)["item"].__setitem__(0, "day")),
        {("schema", item_path(0)), ("invoice-for-line", item_path(1, FOR_LINE_VALUE))},
    ),
    (
        "lines-that-are-an-object",
        lambda: edited(REVA, lambda document: claim(document).update(item={"sequence": 1})),
        {("schema", "Claim.item")},
    ),
]


def edited(name: str, edit: Edit) -> bytes:
    """The body of an example after ``edit``."""
    document = example(name)
    edit(document)
    return raw(document)


class TestPoison:
    """Hostile invoices beside valid ones: a specific issue each, never an exception."""

    @pytest.mark.parametrize(
        ("make", "expected"), [row[1:] for row in POISON], ids=[row[0] for row in POISON]
    )
    def test_poison(self, make: Callable[[], bytes], expected: Pairs) -> None:
        """The body gets exactly its issues (none: accepted), never ``unprocessable``."""
        verdict = check_event(make(), FACILITY)
        found = {(issue.code, issue.expression) for issue in verdict.issues}
        assert found == expected
        assert (verdict.message_type is None) == bool(expected)

    def test_a_batch_of_poison_and_valid_bodies(self) -> None:
        """Valid invoices checked between poisoned ones are accepted like alone."""
        bodies = [make() for _name, make, _expected in POISON]
        valid = raw(example(PVT))
        for body in bodies:
            assert check_event(valid, FACILITY).message_type is MESSAGE_TYPES["invoice"]
            assert all(i.code != "unprocessable" for i in check_event(body, FACILITY).issues)

    def test_a_thousand_lines_are_checked_quickly(self) -> None:
        """A valid 1,000-line invoice and a 1,000-line one with every share missing are
        judged in well under a second each (the invalid one takes the slow schema path)."""
        valid = raw(thousand_lines(1000))
        document = thousand_lines(1000)
        service = items(document)[0]
        claim(document)["item"] = [{**service, "sequence": n} for n in range(1, 1001)]
        invalid = raw(document)
        for body, accepted in ((valid, True), (invalid, False)):
            started = time.perf_counter()
            verdict = check_event(body, FACILITY)
            assert (verdict.message_type is not None) is accepted
            assert time.perf_counter() - started < 2.0
        assert len(check_event(invalid, FACILITY).issues) == 1000
