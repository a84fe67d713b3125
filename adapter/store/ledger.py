"""The invoicing ledger: every batch and line sent, its outcome, and the rules judged on them.

The store-level rules of invoicing (docs/architecture.md, "The invoicing ledger") are
functions of what was sent before, so they live here, next to the rows they read:

- one batch per care fund per month, but for the resend of a batch refused as a whole with
  its number, invoice type and invoice date (``month_refusal``; ``forget_unanswered`` frees
  the month of a batch whose message ended without an answer);
- an invoice number serves one invoice (``number_refusals``);
- a credit note only for lines the care fund accepted and nobody credited yet
  (``credit_refusals``);
- a correcting invoice only once its credit note was accepted: until then it is held
  (``correction_ready``, ``hold``, ``held_ready``, ``release``);
- the care fund of an invoice is the one of the person's last relayed insurance status
  (``care_fund_refusal``, ``remember_status``, ``known_status``: ``adapter.store.statuses``,
  re-exported here).

Each function takes a SQLAlchemy ``Connection``, so the sender runs them in the transaction
that records an answer (``Store.record_answer``'s effect); ``InvoiceLedger`` runs each in a
transaction of its own for callers outside one. Enums become strings, and amounts whole
cents, only in this module's statements.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Connection, Row, bindparam, delete, insert, select, tuple_, update
from sqlalchemy.exc import DBAPIError

from adapter.store.records import (
    Batch,
    BatchState,
    InvoiceResult,
    KnownStatus,
    LedgerLine,
    LineOutcome,
)
from adapter.store.sealing import BlindIndex
from adapter.store.statuses import care_fund_refusal, known_status, remember_status
from adapter.store.store import Store
from adapter.store.tables import HELD_INVOICES, INVOICE_BATCHES, INVOICE_LINES
from adapter.store.upsert import dialect_insert
from mappings.invoice_batch import BatchHead, Invoice, InvoiceKind, LineKind, LineReference
from mappings.model import Issue

TECHNICAL_ACCEPTED = "931000"
"""The file was taken in (technical stage)."""
TECHNICAL_REFUSED = "920999"
"""The file was refused (technical stage)."""
CONTENT_ACCEPTED = "931000"
"""The content was judged: per-invoice results follow (content stage)."""
CONTENT_REFUSED = "920099"
"""The whole batch was refused on its content: a B error, or F and R errors ≥ 5 %."""

T = TypeVar("T")
_CHUNK = 2000
"""Rows per statement when a batch's lines are written or looked up (bound parameters)."""
_BATCH = INVOICE_BATCHES.c
_LINE = INVOICE_LINES.c
_HELD = HELD_INVOICES.c


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
    for chunk in _chunks(numbers):
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


# ---- recording a batch and its answers ---------------------------------------------------------


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
        for chunk in _chunks(rows):
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
        for chunk in _chunks(numbers):
            db.execute(
                update(INVOICE_LINES)
                .where(_LINE.invoice_number.in_(chunk))
                .values(outcome=outcome.value)
            )
    for pairs in _chunks(refused_lines):
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


# ---- credit notes and the corrections that follow them ----------------------------------------


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
    for chunk in _chunks(keys):
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
    for chunk in _chunks(list(event_ids)):
        result = db.execute(
            update(HELD_INVOICES)
            .where(_HELD.event_id.in_(chunk), _HELD.released_at.is_(None))
            .values(released_at=now)
        )
        released += int(result.rowcount)
    return released


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


def _chunks(items: Iterable[T], size: int = _CHUNK) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class InvoiceLedger:
    """The ledger's functions, each in a transaction of its own (support, tests, tools).

    The sender calls the module's functions on its own connection instead, so the ledger
    changes with the answer it records. ``index`` defaults to the blind index of the
    store's keyring, taken when a status is first asked for (``ConfigError`` without one).
    """

    def __init__(self, store: Store, index: BlindIndex | None = None) -> None:
        self._store = store
        self._index = index

    @property
    def index(self) -> BlindIndex:
        """The blind index of the INSZ the statuses are kept under."""
        if self._index is None:
            self._index = self._store.sealer.blind_index()
        return self._index

    def month_refusal(self, head: BatchHead) -> Issue | None:
        """``month_refusal`` in a read transaction."""
        with self._store.connection(read_only=True) as db:
            return month_refusal(db, head)

    def open_batch(self, head: BatchHead, invoices: Iterable[Invoice], now: datetime) -> Batch:
        """``open_batch`` in a transaction."""
        with self._store.connection() as db:
            return open_batch(db, head, invoices, now)

    def record_technical(self, message_id: str, code: str, now: datetime) -> Batch | None:
        """``record_technical`` in a transaction."""
        with self._store.connection() as db:
            return record_technical(db, message_id, code, now)

    def record_content(
        self, message_id: str, code: str, results: Iterable[InvoiceResult], now: datetime
    ) -> Batch | None:
        """``record_content`` in a transaction."""
        with self._store.connection() as db:
            return record_content(db, message_id, code, results, now)

    def forget_unanswered(self, message_id: str) -> bool:
        """``forget_unanswered`` in a transaction."""
        with self._store.connection() as db:
            return forget_unanswered(db, message_id)

    def credit_refusals(self, invoice: Invoice) -> list[Issue]:
        """``credit_refusals`` in a read transaction."""
        with self._store.connection(read_only=True) as db:
            return credit_refusals(db, invoice)

    def correction_ready(self, invoice: Invoice) -> bool:
        """``correction_ready`` in a read transaction."""
        with self._store.connection(read_only=True) as db:
            return correction_ready(db, invoice)

    def hold(self, event_id: str, care_fund: str, corrects: str, now: datetime) -> bool:
        """``hold`` in a transaction."""
        with self._store.connection() as db:
            return hold(db, event_id, care_fund, corrects, now)

    def held_ready(self, care_fund: str) -> list[str]:
        """``held_ready`` in a read transaction."""
        with self._store.connection(read_only=True) as db:
            return held_ready(db, care_fund)

    def still_held(self, care_fund: str | None = None) -> list[str]:
        """``still_held`` in a read transaction."""
        with self._store.connection(read_only=True) as db:
            return still_held(db, care_fund)

    def release(self, event_ids: Collection[str], now: datetime) -> int:
        """``release`` in a transaction."""
        with self._store.connection() as db:
            return release(db, event_ids, now)

    def remember_status(
        self, insz: str, care_fund: str | None, valid_from: date | None, answered_at: datetime
    ) -> None:
        """``statuses.remember_status`` in a transaction."""
        with self._store.connection() as db:
            remember_status(db, self.index, insz, care_fund, valid_from, answered_at)

    def known_status(self, insz: str) -> KnownStatus | None:
        """``statuses.known_status`` in a read transaction."""
        with self._store.connection(read_only=True) as db:
            return known_status(db, self.index, insz)

    def care_fund_refusal(self, invoice: Invoice, care_fund: str) -> Issue | None:
        """``statuses.care_fund_refusal`` in a read transaction."""
        with self._store.connection(read_only=True) as db:
            return care_fund_refusal(db, self.index, invoice, care_fund)

    def batch(self, batch_number: str) -> Batch | None:
        """``batch`` in a read transaction."""
        with self._store.connection(read_only=True) as db:
            return batch(db, batch_number)

    def batch_by_message(self, message_id: str) -> Batch | None:
        """``batch_by_message`` in a read transaction."""
        with self._store.connection(read_only=True) as db:
            return batch_by_message(db, message_id)

    def batch_lines(self, batch_number: str) -> list[LedgerLine]:
        """``batch_lines`` in a read transaction."""
        with self._store.connection(read_only=True) as db:
            return batch_lines(db, batch_number)

    def invoice_lines(self, invoice_number: str) -> list[LedgerLine]:
        """``invoice_lines`` in a read transaction."""
        with self._store.connection(read_only=True) as db:
            return invoice_lines(db, invoice_number)


__all__ = [
    "CONTENT_ACCEPTED",
    "CONTENT_REFUSED",
    "TECHNICAL_ACCEPTED",
    "TECHNICAL_REFUSED",
    "InvoiceLedger",
    "batch",
    "batch_by_message",
    "batch_lines",
    "care_fund_refusal",
    "cents",
    "correction_ready",
    "credit_refusals",
    "forget_unanswered",
    "held_ready",
    "hold",
    "invoice_lines",
    "known_status",
    "month_refusal",
    "number_refusals",
    "open_batch",
    "record_content",
    "record_technical",
    "release",
    "remember_status",
    "still_held",
]
