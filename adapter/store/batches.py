"""The ledger's batches and lines: the month rule, invoice numbers, recording a batch, reads.

One batch per care fund per month (``month_refusal``), an invoice number used once
(``number_refusals``), a batch and its lines recorded when it is sent (``open_batch``; its
answers: ``adapter.store.batch_answers``), and the reads support and the answer need.
Enums become strings, and amounts whole cents, only in the ledger's statements.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import Connection, Row, delete, insert, select, update
from sqlalchemy.exc import DBAPIError

from adapter.store.records import Batch, BatchState, LedgerLine, LineOutcome
from adapter.store.tables import INVOICE_BATCHES, INVOICE_LINES
from mappings.invoice_batch import BatchHead, Invoice, InvoiceKind, LineKind, LineReference
from mappings.model import Issue

T = TypeVar("T")
_CHUNK = 2000
"""Rows per statement when a batch's lines are written or looked up (bound parameters)."""
_BATCH = INVOICE_BATCHES.c
_LINE = INVOICE_LINES.c


# ---- one batch per care fund per month ---------------------------------------------------------


def month_refusal(db: Connection, head: BatchHead) -> Issue | None:
    """Why ``head`` may not be sent as its care fund's batch of its month; None if it may.

    It may when no other batch of that fund and month exists, when it is a try of the batch
    already recorded under its message id (a send in doubt), when its message replaces the
    batch's latest try before any answer came (support's corrected replay of a dead
    letter), or when it is the resend of its own batch refused as a whole, with the same
    invoice type and invoice date.
    """
    earlier = batch(db, head.batch_number)
    if earlier is not None and earlier.message_id != head.message_id:
        if (earlier.care_fund, earlier.billing_month) != (head.care_fund, head.billing_month):
            return Issue(
                "invoice-batch-number-taken",
                f"batch number {head.batch_number} was used for care fund {earlier.care_fund},"
                f" month {earlier.billing_month}; a batch number is used for one batch only",
                "List.identifier[0]",
            )
        unanswered_replaced = (
            earlier.state is BatchState.SENDING and head.replaces_message_id == earlier.message_id
        )
        if not (earlier.state.refused_whole or unanswered_replaced):
            return _month_taken(head, earlier.batch_number)
        changed = (earlier.invoice_type, earlier.invoice_date) != (
            head.invoice_type,
            head.invoice_date,
        )
        if earlier.state.refused_whole and changed:
            return Issue(
                "invoice-resend-changed",
                f"batch {head.batch_number} was refused as a whole and may be resent only with"
                f" its invoice type ({earlier.invoice_type}) and invoice date"
                f" ({earlier.invoice_date.isoformat()})",
                "List.date"
                if earlier.invoice_date != head.invoice_date
                else "List.extension('urn:vsb-adapter:fhir:invoice-type')",
            )
    other = db.execute(
        select(_BATCH.batch_number)
        .where(
            _BATCH.care_fund == head.care_fund,
            _BATCH.billing_month == head.billing_month,
            _BATCH.batch_number != head.batch_number,
        )
        .order_by(_BATCH.created_at)
        .limit(1)
    ).scalar()
    return None if other is None else _month_taken(head, str(other))


def _month_taken(head: BatchHead, earlier: str) -> Issue:
    return Issue(
        "invoice-month-taken",
        f"care fund {head.care_fund} already has batch {earlier} for {head.billing_month};"
        " one batch per care fund per month (only a batch refused as a whole may be resent,"
        " with its own number)",
        "List.extension('urn:vsb-adapter:fhir:billing-month')",
    )


def number_refusals(db: Connection, head: BatchHead, invoices: Iterable[Invoice]) -> list[Issue]:
    """Invoices whose number another batch already used (a number serves one invoice)."""
    numbers = [invoice.number for invoice in invoices]
    taken: dict[str, str] = {}
    for chunk in chunks(numbers):
        taken.update(
            (str(number), str(batch_number))
            for number, batch_number in db.execute(
                select(_LINE.invoice_number, _LINE.batch_number)
                .where(_LINE.invoice_number.in_(chunk), _LINE.batch_number != head.batch_number)
                .distinct()
            )
        )
    return [
        Issue(
            "invoice-number-taken",
            f"invoice number {number} was sent in batch {taken[number]}; an invoice number"
            " is used once",
            "Claim.identifier[0]",
        )
        for number in numbers
        if number in taken
    ]


# ---- recording a batch --------------------------------------------------------------------------


def open_batch(
    db: Connection, head: BatchHead, invoices: Iterable[Invoice], now: datetime
) -> Batch:
    """Record ``head`` as ``sending`` and every line of ``invoices`` as ``pending``.

    A try already recorded under the same message id (a send in doubt) and the resend of a
    batch refused as a whole replace the batch's lines; the resend counts one more try.
    Judge the batch first (``month_refusal``, ``number_refusals``): a batch the month rule
    refuses raises ``ValueError`` (the lines of a batch sent and not refused as a whole are
    never replaced), a number another batch holds ``IntegrityError``. ``ValueError`` too for
    an amount that is not whole cents.
    """
    refusal = month_refusal(db, head)
    if refusal is not None:
        raise ValueError(f"batch {head.batch_number} cannot be opened: {refusal.text}")
    earlier = batch(db, head.batch_number)
    values = {
        "care_fund": head.care_fund,
        "invoice_type": head.invoice_type,
        "billing_month": head.billing_month,
        "invoice_date": head.invoice_date,
        "message_id": head.message_id,
        "state": BatchState.SENDING.value,
        "updated_at": now,
    }
    if earlier is None:
        db.execute(
            insert(INVOICE_BATCHES).values(
                batch_number=head.batch_number, tries=1, created_at=now, **values
            )
        )
    else:
        tries = earlier.tries + (earlier.message_id != head.message_id)
        db.execute(
            update(INVOICE_BATCHES)
            .where(_BATCH.batch_number == head.batch_number)
            .values(tries=tries, **values)
        )
        db.execute(delete(INVOICE_LINES).where(_LINE.batch_number == head.batch_number))
    _insert_lines(db, _line_rows(head.batch_number, invoices))
    opened = batch(db, head.batch_number)
    assert opened is not None
    return opened


def _insert_lines(db: Connection, rows: Iterable[dict[str, Any]]) -> None:
    if db.dialect.name != "postgresql":
        for chunk in chunks(rows):
            db.execute(insert(INVOICE_LINES), chunk)
        return
    # COPY on the transaction's own connection: 100,000 lines in 0.8 s, where psycopg's
    # executemany of INSERTs takes 3 s. The columns are plain strings, numbers and dates,
    # so no SQLAlchemy type has anything to convert on the way.
    columns = [column.name for column in INVOICE_LINES.columns]
    statement = f"COPY invoice_lines ({', '.join(columns)}) FROM STDIN"
    driver = db.connection.driver_connection
    dbapi = db.dialect.dbapi
    assert driver is not None
    assert dbapi is not None
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([row[name] for name in columns])
    except dbapi.Error as exc:
        # The driver's own error, wrapped as SQLAlchemy wraps it for a statement of its
        # own: an invoice number taken is an IntegrityError, the rest what the store
        # translates.
        raise DBAPIError.instance(statement, None, exc, dbapi.Error, hide_parameters=True) from exc


def _line_rows(batch_number: str, invoices: Iterable[Invoice]) -> Iterator[dict[str, Any]]:
    for invoice in invoices:
        for line in invoice.lines:
            credits = line.credits
            yield {
                "invoice_number": invoice.number,
                "line_number": line.number,
                "batch_number": batch_number,
                "invoice_kind": invoice.kind.value,
                "corrects": invoice.corrects,
                "kind": line.kind.value,
                "service_code": line.service_code,
                "day": line.day,
                "amount_cents": cents(line.amount, invoice.number, line.number),
                "for_line": line.for_line,
                "credits_invoice": None if credits is None else credits.invoice_number,
                "credits_line": None if credits is None else credits.line_number,
                "outcome": LineOutcome.PENDING.value,
                "credited_by": None,
            }


def cents(amount: Decimal, invoice_number: str = "?", line_number: int = 0) -> int:
    """``amount`` in whole cents; ``ValueError`` if it is not a whole number of cents."""
    try:
        whole = amount.scaleb(2)
        exact = amount.is_finite() and whole == whole.to_integral_value()
    except InvalidOperation:
        exact = False
    if not exact:
        raise ValueError(f"invoice {invoice_number} line {line_number}: an amount is whole cents")
    return int(whole)


# ---- reads ------------------------------------------------------------------------------------


def batch(db: Connection, batch_number: str) -> Batch | None:
    """The batch recorded under ``batch_number``, if any."""
    row = db.execute(select(INVOICE_BATCHES).where(_BATCH.batch_number == batch_number)).first()
    return None if row is None else _batch(row)


def batch_by_message(db: Connection, message_id: str) -> Batch | None:
    """The batch whose latest try is the message ``message_id``, if any."""
    row = db.execute(select(INVOICE_BATCHES).where(_BATCH.message_id == message_id)).first()
    return None if row is None else _batch(row)


def batch_lines(db: Connection, batch_number: str) -> list[LedgerLine]:
    """The lines of a batch with their outcomes, by invoice number and line number."""
    rows = db.execute(
        select(INVOICE_LINES)
        .where(_LINE.batch_number == batch_number)
        .order_by(_LINE.invoice_number, _LINE.line_number)
    )
    return [_line(row) for row in rows]


def invoice_lines(db: Connection, invoice_number: str) -> list[LedgerLine]:
    """The lines of one invoice or credit note with their outcomes, by line number."""
    rows = db.execute(
        select(INVOICE_LINES)
        .where(_LINE.invoice_number == invoice_number)
        .order_by(_LINE.line_number)
    )
    return [_line(row) for row in rows]


def _batch(row: Row[Any]) -> Batch:
    m = row._mapping
    return Batch(
        batch_number=m["batch_number"],
        care_fund=m["care_fund"],
        invoice_type=m["invoice_type"],
        billing_month=m["billing_month"],
        invoice_date=m["invoice_date"],
        message_id=m["message_id"],
        tries=int(m["tries"]),
        state=BatchState(m["state"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def _line(row: Row[Any]) -> LedgerLine:
    m = row._mapping
    credits = None
    if m["credits_invoice"] is not None:
        credits = LineReference(m["credits_invoice"], int(m["credits_line"]))
    return LedgerLine(
        invoice_number=m["invoice_number"],
        line_number=int(m["line_number"]),
        batch_number=m["batch_number"],
        invoice_kind=InvoiceKind(m["invoice_kind"]),
        kind=LineKind(m["kind"]),
        service_code=m["service_code"],
        day=m["day"],
        amount=Decimal(int(m["amount_cents"])).scaleb(-2),
        for_line=m["for_line"],
        credits=credits,
        outcome=LineOutcome(m["outcome"]),
        credited_by=m["credited_by"],
        corrects=m["corrects"],
    )


def chunks(items: Iterable[T], size: int = _CHUNK) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size`` (statements with bounded parameters)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
