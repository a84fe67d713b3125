"""Credit notes and the corrections that follow them, judged on the ledger's lines.

A credit note's line credits a line the care fund accepted and nobody credited yet
(``credit_refusals``); a correcting invoice waits, held, until an accepted credit note
cancelled the invoice it corrects (``correction_ready``, ``hold``, ``held_ready``,
``release``), then goes with its care fund's next batch.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, select, tuple_, update

from adapter.store.batches import chunks
from adapter.store.records import LineOutcome
from adapter.store.tables import HELD_INVOICES, INVOICE_LINES
from adapter.store.upsert import dialect_insert
from mappings.invoice_batch import Invoice, InvoiceKind, LineReference
from mappings.model import Issue

_LINE = INVOICE_LINES.c
_HELD = HELD_INVOICES.c


def credit_refusals(db: Connection, invoice: Invoice) -> list[Issue]:
    """The lines of credit note ``invoice`` that credit no line open to a credit.

    A line may be credited once it was accepted, and only once: not a line never sent, nor
    one refused or not judged yet, nor one an accepted credit note cancelled, nor one a
    credit note still waiting for its answer credits, nor one another line of this credit
    note credits already. An invoice that is no credit note has nothing to refuse here.
    """
    if invoice.kind is not InvoiceKind.CREDIT_NOTE:
        return []
    refs = {line.credits for line in invoice.lines if line.credits is not None}
    if not refs:
        return []
    keys = [(ref.invoice_number, ref.line_number) for ref in refs]
    targets: dict[LineReference, _Target] = {}
    pending_credits: dict[LineReference, str] = {}
    for chunk in chunks(keys):
        for number, line_number, kind, outcome, by in db.execute(
            select(
                _LINE.invoice_number,
                _LINE.line_number,
                _LINE.invoice_kind,
                _LINE.outcome,
                _LINE.credited_by,
            ).where(tuple_(_LINE.invoice_number, _LINE.line_number).in_(chunk))
        ):
            targets[LineReference(number, int(line_number))] = _Target(
                InvoiceKind(kind), LineOutcome(outcome), by
            )
        for credit_note, number, line_number in db.execute(
            select(_LINE.invoice_number, _LINE.credits_invoice, _LINE.credits_line).where(
                tuple_(_LINE.credits_invoice, _LINE.credits_line).in_(chunk),
                _LINE.outcome == LineOutcome.PENDING.value,
                _LINE.invoice_number != invoice.number,
            )
        ):
            pending_credits[LineReference(number, int(line_number))] = str(credit_note)
    issues: list[Issue] = []
    seen: set[LineReference] = set()
    for index, line in enumerate(invoice.lines):
        ref = line.credits
        if ref is None:
            continue
        why = _why_not_creditable(targets.get(ref), pending_credits.get(ref), ref in seen)
        seen.add(ref)
        if why is not None:
            issues.append(
                Issue(
                    "invoice-credit-unknown-line",
                    f"credit note {invoice.number} line {line.number} credits line"
                    f" {ref.line_number} of invoice {ref.invoice_number}, {why}",
                    f"Claim.item[{index}]",
                )
            )
    return issues


class _Target(NamedTuple):
    invoice_kind: InvoiceKind
    outcome: LineOutcome
    credited_by: str | None


def _why_not_creditable(
    target: _Target | None, pending_credit: str | None, seen: bool
) -> str | None:
    if target is None:
        return "which the adapter never sent"
    outcome, credited_by = target.outcome, target.credited_by
    if target.invoice_kind is InvoiceKind.CREDIT_NOTE:
        return "a credit note's line (only an invoice's line can be credited)"
    if outcome is LineOutcome.REFUSED:
        return "which the care fund refused (a refused line needs no credit note)"
    if outcome is LineOutcome.PENDING:
        return "which the care fund has not judged yet"
    if credited_by is not None:
        return f"which credit note {credited_by} credited already"
    if pending_credit is not None:
        return f"which credit note {pending_credit}, still waiting for its answer, credits"
    if seen:
        return "which another line of this credit note credits too"
    return None


def correction_ready(db: Connection, invoice: Invoice) -> bool:
    """Whether ``invoice`` may be sent now: it corrects nothing, or an accepted credit note
    cancelled (a line of) the invoice it corrects."""
    if invoice.corrects is None:
        return True
    found = db.execute(
        select(_LINE.line_number)
        .where(_LINE.invoice_number == invoice.corrects, _LINE.credited_by.is_not(None))
        .limit(1)
    ).first()
    return found is not None


def hold(db: Connection, event_id: str, care_fund: str, corrects: str, now: datetime) -> bool:
    """Hold the correcting invoice of ``event_id`` until its credit note is accepted.

    True if it was held now; False if it was held already (a batch judged again).
    """
    statement = (
        dialect_insert(db, HELD_INVOICES)
        .values(event_id=event_id, care_fund=care_fund, corrects=corrects, held_at=now)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(_HELD.event_id)
    )
    # RETURNING, not the row count: psycopg reports no count for a skipped ON CONFLICT row.
    return db.execute(statement).first() is not None


def held_ready(db: Connection, care_fund: str) -> list[str]:
    """The event ids of ``care_fund``'s held invoices whose credit note is now accepted,
    oldest held first: they go with the fund's next batch."""
    credited = (
        select(_LINE.line_number)
        .where(_LINE.invoice_number == _HELD.corrects, _LINE.credited_by.is_not(None))
        .exists()
    )
    rows = db.execute(
        select(_HELD.event_id)
        .where(_HELD.care_fund == care_fund, _HELD.released_at.is_(None), credited)
        .order_by(_HELD.held_at, _HELD.event_id)
    )
    return [str(event_id) for event_id in rows.scalars()]


def still_held(db: Connection, care_fund: str | None = None) -> list[str]:
    """The event ids held and not released (of ``care_fund``, or of every fund)."""
    query = select(_HELD.event_id).where(_HELD.released_at.is_(None))
    if care_fund is not None:
        query = query.where(_HELD.care_fund == care_fund)
    return [str(e) for e in db.execute(query.order_by(_HELD.held_at, _HELD.event_id)).scalars()]


def release(db: Connection, event_ids: Collection[str], now: datetime) -> int:
    """Mark held invoices released (sent with a batch); returns how many were still held."""
    released = 0
    for chunk in chunks(list(event_ids)):
        result = db.execute(
            update(HELD_INVOICES)
            .where(_HELD.event_id.in_(chunk), _HELD.released_at.is_(None))
            .values(released_at=now)
        )
        released += int(result.rowcount)
    return released
