"""Each issue code of the contract and the FHIR IssueType its OperationOutcome entry carries.

``OperationOutcome.issue.code`` is bound (required) to FHIR's IssueType; the project's own,
finer code travels in ``issue.details`` (``urn:vsb-adapter:fhir:issue``). The table is the
one list of the issue codes the adapter can give: docs/events.md lists the same codes, and a
test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

ISSUE_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        # the body and the envelope
        "not-json": "structure",
        "not-object": "structure",
        "too-deep": "too-costly",
        "number": "value",
        "string-too-long": "too-long",
        "bad-character": "value",
        "event-id": "required",
        "message-header": "structure",
        "unknown-event": "not-supported",
        "dossier-id": "value",
        "sequence": "value",
        "sequence-taken": "conflict",
        "sequence-passed": "business-rule",
        "event-id-conflict": "duplicate",
        # the contract's structure
        "required": "required",
        "schema": "structure",
        "duplicate": "duplicate",
        "focus": "invalid",
        "reference": "invalid",
        # values and rules
        "insz-check-digit": "value",
        "nihdi-check-digit": "value",
        "facility-mismatch": "business-rule",
        "date-invalid": "value",
        "period-order": "business-rule",
        "care-setting": "business-rule",
        "consent-required": "required",
        "migration-flag": "business-rule",
        "base64": "value",
        "xml-character": "value",
        "attachment-type": "value",
        "attachment-content": "value",
        "attachment-too-large": "too-long",
        "nothing-to-change": "required",
        "interruption-end": "business-rule",
        "dsm5-code": "value",
        "nothing-to-migrate": "business-rule",
        "awaiting-vi-approval": "business-rule",
        "discharge-time": "required",
        # invoicing (docs/events.md, "Invoicing")
        "invoice-line-period": "business-rule",
        "invoice-personal-share-missing": "required",
        "invoice-personal-share-duplicate": "duplicate",
        "invoice-for-line": "business-rule",
        "invoice-line-number-taken": "duplicate",
        "invoice-two-year-rule": "business-rule",
        "invoice-pvt-before-switch": "business-rule",
        "invoice-reva-before-start": "business-rule",
        "invoice-line-credits": "business-rule",
        "invoice-share-code": "value",
        "invoice-corrects": "business-rule",
        "invoice-care-fund": "business-rule",
        "invoice-amount": "value",
        "billing-month": "value",
        "invoice-batch-entry-duplicate": "duplicate",
        # the adapter itself
        "unprocessable": "exception",
        "unstorable": "exception",
        "unmappable": "exception",
        "discarded": "processing",
    }
)


def issue_type(code: str) -> str:
    """The FHIR IssueType of an issue code (``invalid`` for a code not in the table)."""
    return ISSUE_TYPES.get(code, "invalid")
