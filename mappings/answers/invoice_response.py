"""The EPD's answer to an invoice batch: one ClaimResponse per invoice (docs/events.md,
"Invoice batch answers"), and the answer kind of ``invoice-batch``.

Each invoice's ClaimResponse (``use`` claim) names it by its invoice number and says its
outcome three ways an EPD can switch on: ``outcome`` (complete, partial: accepted without
some lines, error, queued: not judged yet), the adjudication's MyCareNet decision value as
for applications (agreement, refusal, intreatment), and the exact status in an extension
(accepted, refused, refused-by-adapter, held, pending). Each decided line is an ``item`` with
its own decision; each error carries its code, level (F, R, B) and, when it names one, its
line (``itemSequence``). The batch number and the acknowledgement ride on every invoice's
ClaimResponse, so each stands on its own; so do the batch's errors (B, and those naming no
invoice sent). Nothing personal is repeated: the EPD knows each person from its own invoice.
"""

from __future__ import annotations

from typing import Any, Final

from mappings.answer_kind import AnswerHead, AnswerKindOf
from mappings.answers.common import DISPOSITIONS, INSURER, PATIENT, timestamp
from mappings.answers.invoice_batch import (
    MAX_FHIR_INT,
    BatchAcknowledgement,
    BatchOutcome,
    InvoiceError,
    InvoiceOutcome,
    InvoiceStatus,
    read,
)
from mappings.model import Outcome
from mappings.vocabulary import (
    DECISION_SYSTEM,
    ERROR_LEVEL_EXTENSION,
    ERROR_LOCATION_EXTENSION,
    EVENT_ID_SYSTEM,
    INVOICE_ACKNOWLEDGEMENT_EXTENSION,
    INVOICE_BATCH_SYSTEM,
    INVOICE_NUMBER_SYSTEM,
    INVOICE_OUTCOME_EXTENSION,
    VSB_ERROR_SYSTEM,
)

CLAIM_TYPE_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/claim-type"
_DECISIONS: Final = {
    InvoiceStatus.ACCEPTED: "agreement",
    InvoiceStatus.REFUSED: "refusal",
    InvoiceStatus.REFUSED_BY_ADAPTER: "refusal",
    InvoiceStatus.HELD: "intreatment",
    InvoiceStatus.PENDING: "intreatment",
}
"""MyCareNet's decision values, as for applications: the invoice's (and each line's)."""
_DISPOSITIONS: Final = {
    InvoiceStatus.ACCEPTED: "Accepted by the central application.",
    InvoiceStatus.REFUSED: "Refused by the central application; its errors say why.",
    InvoiceStatus.REFUSED_BY_ADAPTER: "Refused by the adapter before sending: it was not sent.",
    InvoiceStatus.HELD: (
        "Held by the adapter until the credit note of the invoice it corrects is accepted;"
        " it goes with a later batch of this care fund."
    ),
    InvoiceStatus.PENDING: "Taken in by the central application; the content answer follows.",
}
_HEAD_OUTCOMES: Final = {
    Outcome.ACCEPTED: "complete",
    Outcome.IN_BERAAD: "queued",
    Outcome.REFUSED: "error",
}


def render(head: AnswerHead, body: BatchOutcome | None) -> list[dict[str, Any]]:
    """One ClaimResponse per invoice (``use`` claim, ``request`` its invoice number), each
    with its lines' decisions, its errors and the batch's; with no invoice to show (an
    adapter's own answer has no body), one ClaimResponse about the batch event itself."""
    if isinstance(body, BatchAcknowledgement):
        # What ``read`` gives is not enough: only the sender knows the lines it sent.
        raise TypeError("an invoice batch's answer renders combine()'s BatchOutcome")
    if body is None or not body.invoices:
        return [_batch_response(head, body)]
    shared = _shared_extensions(body)
    batch_errors = [_fhir_error(e, None) for e in body.batch_errors]
    return [_invoice_response(head, invoice, shared, batch_errors) for invoice in body.invoices]


def _invoice_response(
    head: AnswerHead,
    invoice: InvoiceOutcome,
    shared: list[dict[str, Any]],
    batch_errors: list[dict[str, Any]],
) -> dict[str, Any]:
    status = invoice.status
    resource = _claim_response(
        head,
        [{"url": INVOICE_OUTCOME_EXTENSION, "valueCode": status.value}, *shared],
        {"system": INVOICE_NUMBER_SYSTEM, "value": invoice.number},
        _outcome(invoice),
        _disposition(invoice),
        _DECISIONS[status],
    )
    if status is InvoiceStatus.ACCEPTED and invoice.refused_lines:
        # The invoice's own adjudication is the decision of every line not listed; only the
        # lines decided otherwise (refused in an accepted invoice) are listed. Listing every
        # line made a 100,000-line batch's answer 21 MB, past RabbitMQ 4's 16 MiB default
        # message limit; the refused lines alone keep it a few MB at most. The lines share
        # one adjudication dict: each a dict less to build.
        denied = _adjudication("refusal")
        resource["item"] = [
            {"itemSequence": line, "adjudication": denied}
            for line in sorted(invoice.refused_lines)
            if 1 <= line <= MAX_FHIR_INT
        ]
        if not resource["item"]:
            del resource["item"]
    lines = set(invoice.lines) if invoice.errors else set()
    errors = [_fhir_error(e, e.line if e.line in lines else None) for e in invoice.errors]
    if errors or batch_errors:
        resource["error"] = errors + batch_errors
    return resource


_ADAPTER_REFUSAL: Final = (
    "Refused by the adapter before sending: nothing went to the central application."
)


def _batch_response(head: AnswerHead, body: BatchOutcome | None) -> dict[str, Any]:
    if body is None:
        extensions: list[dict[str, Any]] = []
        errors = [
            _fhir_error(InvoiceError(i.code, i.level, i.text, i.expression), None)
            for i in head.issues
        ]
    else:
        extensions = _shared_extensions(body)
        errors = [_fhir_error(e, None) for e in body.batch_errors]
    decision = {Outcome.ACCEPTED: "agreement", Outcome.REFUSED: "refusal"}
    resource = _claim_response(
        head,
        extensions,
        {"system": EVENT_ID_SYSTEM, "value": head.event_id},
        _HEAD_OUTCOMES.get(head.outcome, "error"),
        # No body: the adapter's own answer, the batch never sent (its errors say why).
        _ADAPTER_REFUSAL if body is None else DISPOSITIONS.get(head.outcome, "Refused."),
        decision.get(head.outcome, "intreatment"),
    )
    if errors:
        resource["error"] = errors
    return resource


def _claim_response(
    head: AnswerHead,
    extensions: list[dict[str, Any]],
    identifier: dict[str, str],
    outcome: str,
    disposition: str,
    decision: str,
) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "ClaimResponse"}
    if extensions:
        resource["extension"] = extensions
    resource |= {
        "status": "active",
        "type": {"coding": [{"system": CLAIM_TYPE_SYSTEM, "code": "institutional"}]},
        "use": "claim",
        "patient": PATIENT,
        "created": timestamp(head),
        "insurer": INSURER,
        "request": {"identifier": identifier},
        "outcome": outcome,
        "disposition": disposition,
        "adjudication": _adjudication(decision),
    }
    return resource


def _shared_extensions(body: BatchOutcome) -> list[dict[str, Any]]:
    """The batch number and the acknowledgement, the same on every invoice's answer."""
    extensions: list[dict[str, Any]] = [
        {"url": INVOICE_BATCH_SYSTEM, "valueString": body.batch_number}
    ]
    ack = body.acknowledgement
    if ack is None or ack.stage is None or ack.code is None:
        return extensions
    parts: list[dict[str, Any]] = [
        {"url": "stage", "valueCode": ack.stage.value},
        {"url": "code", "valueCode": ack.code},
    ]
    if ack.lines is not None:
        parts.append({"url": "lines", "valueUnsignedInt": ack.lines})
    if ack.non_blocking_errors is not None:
        parts.append({"url": "non-blocking-errors", "valueUnsignedInt": ack.non_blocking_errors})
    extensions.append({"url": INVOICE_ACKNOWLEDGEMENT_EXTENSION, "extension": parts})
    return extensions


def _outcome(invoice: InvoiceOutcome) -> str:
    """``ClaimResponse.outcome``: complete, partial (accepted without some lines), error, or
    queued (not judged yet)."""
    if invoice.status is InvoiceStatus.ACCEPTED:
        return "partial" if invoice.refused_lines else "complete"
    if invoice.status in (InvoiceStatus.HELD, InvoiceStatus.PENDING):
        return "queued"
    return "error"


def _disposition(invoice: InvoiceOutcome) -> str:
    if invoice.status is InvoiceStatus.ACCEPTED and invoice.refused_lines:
        count = len(invoice.refused_lines)
        return f"Accepted by the central application except {count} line(s) refused."
    if invoice.with_batch:
        return "Refused with the whole batch by the central application."
    return _DISPOSITIONS[invoice.status]


def _adjudication(decision: str) -> list[dict[str, Any]]:
    return [{"category": _category(decision)}]


def _category(code: str) -> dict[str, Any]:
    return {"coding": [{"system": DECISION_SYSTEM, "code": code}]}


def _fhir_error(error: InvoiceError, line: int | None) -> dict[str, Any]:
    extension: list[dict[str, Any]] = [{"url": ERROR_LEVEL_EXTENSION, "valueCode": error.level}]
    if error.location:
        extension.append({"url": ERROR_LOCATION_EXTENSION, "valueString": error.location})
    found: dict[str, Any] = {"extension": extension}
    if line is not None:
        found["itemSequence"] = line
    coding: dict[str, str] = {"system": VSB_ERROR_SYSTEM}
    if error.code:
        coding["code"] = error.code
    found["code"] = {"coding": [coding]} | ({"text": error.text} if error.text else {})
    return found


INVOICE_BATCH: Final = AnswerKindOf[BatchAcknowledgement, BatchOutcome](
    resource="ClaimResponse", read=read, render=render
)
"""The answer kind of ``invoice-batch``: ``read`` gives the acknowledgement, the sender
``combine``s it with what it sent and held, and ``render`` takes that."""
