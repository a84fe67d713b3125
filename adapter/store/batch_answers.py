"""The answers to an invoice batch in the ledger: the batch's state, each line's outcome.

The technical answer (931000 taken in, 920999 file refused) and the content answer (931000
with each invoice's result, 920099 the whole batch refused) are written here, in the
transaction that records the answer, and an accepted credit note's lines mark the lines
they cancel.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, select, tuple_, update

from adapter.store.batches import batch, batch_by_message, chunks
from adapter.store.records import Batch, BatchState, InvoiceResult, LineOutcome
from adapter.store.tables import INVOICE_BATCHES, INVOICE_LINES

TECHNICAL_ACCEPTED = "931000"
"""The file was taken in (technical stage)."""
TECHNICAL_REFUSED = "920999"
"""The file was refused (technical stage)."""
CONTENT_ACCEPTED = "931000"
"""The content was judged: per-invoice results follow (content stage)."""
CONTENT_REFUSED = "920099"
"""The whole batch was refused on its content: a B error, or F and R errors ≥ 5 %."""

_BATCH = INVOICE_BATCHES.c
_LINE = INVOICE_LINES.c


def record_technical(db: Connection, message_id: str, code: str, now: datetime) -> Batch | None:
    """Record the technical answer to the batch sent as ``message_id``; None if none was.

    931000 makes a ``sending`` batch ``taken-in``; 920999 makes it ``refused-file`` and
    refuses its lines (nothing of the file was judged). An answer to a batch already past
    ``sending`` (fetched again) changes nothing. ``ValueError`` for another code.
    """
    if code == TECHNICAL_ACCEPTED:
        state = BatchState.TAKEN_IN
    elif code == TECHNICAL_REFUSED:
        state = BatchState.REFUSED_FILE
    else:
        raise ValueError(f"technical acknowledgement code {code!r} is neither 931000 nor 920999")
    found = batch_by_message(db, message_id)
    if found is None or found.state is not BatchState.SENDING:
        return found
    _set_state(db, found.batch_number, state, now)
    if state is BatchState.REFUSED_FILE:
        _refuse_all(db, found.batch_number)
    return batch(db, found.batch_number)


def record_content(
    db: Connection,
    message_id: str,
    code: str,
    results: Iterable[InvoiceResult],
    now: datetime,
) -> Batch | None:
    """Record the content answer to the batch sent as ``message_id``; None if none was.

    931000: the batch is ``accepted`` and each invoice of ``results`` gets its lines'
    outcomes (a refused invoice: all refused; an accepted one: all accepted but its
    ``refused_lines``); a line of an invoice the results do not name stays ``pending``
    (the answer names every invoice: one missing is not taken as accepted). Each accepted
    line of a credit note marks the line it credits ``credited_by``. 920099: the batch is
    ``refused-content`` and every line refused. An answer to a batch already judged
    changes nothing. ``ValueError`` for another code.
    """
    if code not in (CONTENT_ACCEPTED, CONTENT_REFUSED):
        raise ValueError(f"content acknowledgement code {code!r} is neither 931000 nor 920099")
    found = batch_by_message(db, message_id)
    if found is None or found.state not in (BatchState.SENDING, BatchState.TAKEN_IN):
        return found
    number = found.batch_number
    if code == CONTENT_REFUSED:
        _set_state(db, number, BatchState.REFUSED_CONTENT, now)
        _refuse_all(db, number)
        return batch(db, number)
    _set_state(db, number, BatchState.ACCEPTED, now)
    # Statements by invoice number (the primary key's prefix), for invoices of this batch
    # only: one with the batch number in its WHERE lets SQLite pick the batch's index and
    # scan the whole batch once per invoice (30 s for 100,000 lines instead of 1 s).
    in_batch = set(
        db.execute(
            select(_LINE.invoice_number).where(_LINE.batch_number == number).distinct()
        ).scalars()
    )
    verdicts: dict[LineOutcome, list[str]] = {LineOutcome.ACCEPTED: [], LineOutcome.REFUSED: []}
    refused_lines: list[tuple[str, int]] = []
    for result in results:
        if result.invoice_number not in in_batch:
            continue
        outcome = LineOutcome.ACCEPTED if result.accepted else LineOutcome.REFUSED
        verdicts[outcome].append(result.invoice_number)
        if result.accepted:
            refused_lines.extend((result.invoice_number, line) for line in result.refused_lines)
    for outcome, numbers in verdicts.items():
        for chunk in chunks(numbers):
            db.execute(
                update(INVOICE_LINES)
                .where(_LINE.invoice_number.in_(chunk))
                .values(outcome=outcome.value)
            )
    for pairs in chunks(refused_lines):
        db.execute(
            update(INVOICE_LINES)
            .where(tuple_(_LINE.invoice_number, _LINE.line_number).in_(pairs))
            .values(outcome=LineOutcome.REFUSED.value)
        )
    _mark_credited(db, number)
    return batch(db, number)


def forget_unanswered(db: Connection, message_id: str) -> bool:
    """Forget the batch whose latest try is ``message_id`` if no answer came to it.

    For a batch message that ends without ever being answered (support discards it): its
    month is free again and its lines never count as sent. True if a batch was forgotten;
    a batch with an answer is kept (an answered month stays taken).
    """
    found = batch_by_message(db, message_id)
    if found is None or found.state is not BatchState.SENDING:
        return False
    db.execute(delete(INVOICE_LINES).where(_LINE.batch_number == found.batch_number))
    db.execute(delete(INVOICE_BATCHES).where(_BATCH.batch_number == found.batch_number))
    return True


def _set_state(db: Connection, batch_number: str, state: BatchState, now: datetime) -> None:
    db.execute(
        update(INVOICE_BATCHES)
        .where(_BATCH.batch_number == batch_number)
        .values(state=state.value, updated_at=now)
    )


def _refuse_all(db: Connection, batch_number: str) -> None:
    db.execute(
        update(INVOICE_LINES)
        .where(_LINE.batch_number == batch_number)
        .values(outcome=LineOutcome.REFUSED.value)
    )


def _mark_credited(db: Connection, batch_number: str) -> None:
    credits = [
        {"by": str(by), "ci": str(invoice), "cl": int(line)}
        for by, invoice, line in db.execute(
            select(_LINE.invoice_number, _LINE.credits_invoice, _LINE.credits_line).where(
                _LINE.batch_number == batch_number,
                _LINE.outcome == LineOutcome.ACCEPTED.value,
                _LINE.credits_invoice.is_not(None),
            )
        )
    ]
    if credits:
        db.execute(
            update(INVOICE_LINES)
            .where(
                _LINE.invoice_number == bindparam("ci"),
                _LINE.line_number == bindparam("cl"),
                _LINE.outcome == LineOutcome.ACCEPTED.value,
                _LINE.credited_by.is_(None),
            )
            .values(credited_by=bindparam("by")),
            credits,
        )
