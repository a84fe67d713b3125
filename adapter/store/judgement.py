"""The adapter's own judgement of a batch's latest try, kept for that batch's answers.

When a batch is sent the adapter decides which invoice event carried each invoice, which
corrections it holds and which invoices it refused before sending. The content answer
comes later, through the mailbox, and must show all of that beside the central
application's outcomes; so the judgement is kept with the batch (``invoice_batches.judged``)
as JSON: invoice numbers, line numbers and issue codes and texts, never personal data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from adapter.store.tables import INVOICE_BATCHES, INVOICE_LINES
from mappings.answers.invoice_batch import AdapterVerdict, InvoiceStatus, SentInvoice
from mappings.model import Issue

_BATCH = INVOICE_BATCHES.c
_LINE = INVOICE_LINES.c


@dataclass(frozen=True)
class Judgement:
    """Which event carried each invoice of the batch, and the adapter's own verdicts."""

    events: dict[str, str]
    """Invoice number -> event id, for every invoice the batch listed or took along."""
    sent: tuple[str, ...] = ()
    """The invoice numbers sent, in the batch's order."""
    verdicts: tuple[AdapterVerdict, ...] = ()


def save_judgement(db: Connection, batch_number: str, judgement: Judgement) -> None:
    """Keep ``judgement`` with the batch (recorded by ``open_batch`` just before)."""
    text = json.dumps(
        {
            "events": judgement.events,
            "sent": list(judgement.sent),
            "verdicts": [
                {
                    "number": v.number,
                    "status": v.status.value,
                    "lines": list(v.lines),
                    "issues": [[i.code, i.text, i.expression, i.level] for i in v.issues],
                }
                for v in judgement.verdicts
            ],
        },
        separators=(",", ":"),
    )
    db.execute(
        update(INVOICE_BATCHES).where(_BATCH.batch_number == batch_number).values(judged=text)
    )


def load_judgement(db: Connection, batch_number: str) -> Judgement:
    """The judgement kept with the batch; empty for a batch without one."""
    text = db.execute(
        select(_BATCH.judged).where(_BATCH.batch_number == batch_number)
    ).scalar_one_or_none()
    if not text:
        return Judgement({})
    found = json.loads(text)
    verdicts = tuple(
        AdapterVerdict(
            v["number"],
            InvoiceStatus(v["status"]),
            tuple(v["lines"]),
            tuple(Issue(code, text, where, level) for code, text, where, level in v["issues"]),
        )
        for v in found["verdicts"]
    )
    return Judgement(dict(found["events"]), tuple(found["sent"]), verdicts)


def sent_invoices(db: Connection, batch_number: str, order: Sequence[str]) -> list[SentInvoice]:
    """The invoices of the batch's lines with their line numbers, in ``order``."""
    lines: dict[str, list[int]] = {number: [] for number in order}
    rows = db.execute(
        select(_LINE.invoice_number, _LINE.line_number)
        .where(_LINE.batch_number == batch_number)
        .order_by(_LINE.invoice_number, _LINE.line_number)
    )
    for number, line in rows:
        lines.setdefault(number, []).append(line)
    return [SentInvoice(number, tuple(numbers)) for number, numbers in lines.items()]
