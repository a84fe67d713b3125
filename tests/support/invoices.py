"""Invoicing events for end-to-end tests, made from the bundled examples (34: an invoice,
38: a batch), and the reading of a batch's FHIR answer.

A line here is one day: its service line and its personal-share line (two invoice lines,
numbered 2n-1 and 2n), as the EPD sends them.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from tests.support.events import example

Document = dict[str, Any]
SERVICE = {"reva": "771011", "pvt": "761011"}
SHARE = {"reva": "779990", "pvt": "769990"}
_OUTCOME = "urn:vsb-adapter:fhir:invoice-outcome"
_INVOICE_NUMBER = "urn:vsb-adapter:fhir:invoice-number"


@dataclass(frozen=True)
class Day:
    """One day billed: its service code, amount and personal share."""

    day: date
    code: str | None = None
    amount: str = "86.50"
    share: str = "5.00"
    credits: tuple[str, int] | None = None
    """A credit note's day: (invoice, service line number) it cancels (and its share)."""


@dataclass(frozen=True)
class InvoiceSpec:
    """What a test says of one invoice."""

    number: str
    insz: str
    reference: str
    days: list[Day]
    kind: str = "invoice"
    corrects: str | None = None


@dataclass
class BatchSpec:
    """What a test says of one batch (its invoices' head fields come from it)."""

    number: str
    care_fund: str
    month: str
    invoice_date: date
    invoice_type: str = "reva"
    invoices: list[InvoiceSpec] = field(default_factory=list)


def days(first: date, count: int, **values: Any) -> list[Day]:
    """``count`` consecutive days from ``first``."""
    return [Day(first + timedelta(days=n), **values) for n in range(count)]


def _resource(document: Document, kind: str) -> Document:
    found: Document = next(
        e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == kind
    )
    return found


def invoice_event(batch: BatchSpec, spec: InvoiceSpec) -> Document:
    """The ``invoice`` event of ``spec`` in ``batch`` (id, dossier and number placed later)."""
    document = example("34-invoice-reva")
    for entry in document["entry"]:
        if entry["resource"]["resourceType"] == "Patient":
            entry["resource"]["identifier"][0]["value"] = spec.insz
    claim = _resource(document, "Claim")
    for extension in claim["extension"]:
        if extension["url"].endswith(":invoice-batch"):
            extension["valueString"] = batch.number
        elif extension["url"].endswith(":billing-month"):
            extension["valueString"] = batch.month
    claim["identifier"][0]["value"] = spec.number
    claim["type"]["coding"][0]["code"] = batch.invoice_type
    claim["subType"]["coding"][0]["code"] = spec.kind
    claim["created"] = batch.invoice_date.isoformat()
    claim["insurer"]["identifier"]["value"] = batch.care_fund
    claim["insurance"][0]["coverage"]["identifier"]["value"] = batch.care_fund
    claim["insurance"][0]["preAuthRef"] = [spec.reference]
    if spec.corrects is not None:
        related = example("37-invoice-reva-correction")
        claim["related"] = copy.deepcopy(_resource(related, "Claim")["related"])
        claim["related"][0]["claim"]["identifier"]["value"] = spec.corrects
    template_service, template_share = claim["item"][0], claim["item"][1]
    items = []
    for n, day in enumerate(spec.days):
        service, share = copy.deepcopy(template_service), copy.deepcopy(template_share)
        service["sequence"], share["sequence"] = 2 * n + 1, 2 * n + 2
        share["extension"] = [
            {"url": "urn:vsb-adapter:fhir:for-line", "valuePositiveInt": 2 * n + 1}
        ]
        service["productOrService"]["coding"][0]["code"] = day.code or SERVICE[batch.invoice_type]
        share["productOrService"]["coding"][0]["code"] = SHARE[batch.invoice_type]
        service["servicedDate"] = share["servicedDate"] = day.day.isoformat()
        service["net"]["value"], share["net"]["value"] = float(day.amount), float(day.share)
        if day.credits is not None:
            invoice, line = day.credits
            service["extension"] = [_credits(invoice, line)]
            share["extension"].append(_credits(invoice, line + 1))
        items += [service, share]
    claim["item"] = items
    return document


def _credits(invoice: str, line: int) -> Document:
    return {
        "url": "urn:vsb-adapter:fhir:credits",
        "extension": [
            {"url": "invoice", "valueString": invoice},
            {"url": "line", "valuePositiveInt": line},
        ],
    }


def batch_event(batch: BatchSpec, event_ids: list[str]) -> Document:
    """The ``invoice-batch`` event closing ``batch`` with the invoice events ``event_ids``."""
    document = example("38-invoice-batch-reva")
    listing = _resource(document, "List")
    for extension in listing["extension"]:
        if extension["url"].endswith(":billing-month"):
            extension["valueString"] = batch.month
        elif extension["url"].endswith(":invoice-type"):
            extension["valueCode"] = batch.invoice_type
        elif extension["url"].endswith(":care-fund"):
            extension["valueIdentifier"]["value"] = batch.care_fund
    listing["identifier"][0]["value"] = batch.number
    listing["date"] = batch.invoice_date.isoformat()
    entry = listing["entry"][0]
    listing["entry"] = []
    for event_id in event_ids:
        item = copy.deepcopy(entry)
        item["item"]["identifier"]["value"] = event_id
        listing["entry"].append(item)
    return document


@dataclass(frozen=True)
class InvoiceAnswer:
    """One invoice's part of a batch answer."""

    status: str
    refused_lines: tuple[int, ...]
    errors: tuple[tuple[str, str], ...]
    """(code, level) of each error shown on it."""


def invoice_answers(answer: Document) -> dict[str, InvoiceAnswer]:
    """Each invoice's outcome in a batch's FHIR answer, by invoice number."""
    found = {}
    for entry in answer["entry"][1:]:
        resource = entry["resource"]
        identifier = resource.get("request", {}).get("identifier", {})
        if identifier.get("system") != _INVOICE_NUMBER:
            continue
        status = next(x["valueCode"] for x in resource.get("extension", []) if x["url"] == _OUTCOME)
        refused = tuple(
            item["itemSequence"]
            for item in resource.get("item", [])
            if any(
                c["code"] == "refusal"
                for a in item["adjudication"]
                for c in a["category"]["coding"]
            )
        )
        errors = tuple(
            (
                error["code"]["coding"][0].get("code", ""),
                next(
                    (x["valueCode"] for x in error.get("extension", []) if "level" in x["url"]),
                    "",
                ),
            )
            for error in resource.get("error", [])
        )
        found[identifier["value"]] = InvoiceAnswer(status, refused, errors)
    return found


def dumps(document: Document) -> bytes:
    """The event's body."""
    return json.dumps(document).encode()
