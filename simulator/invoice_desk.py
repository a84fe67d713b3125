"""The central application's invoicing side: the technical stage at Submit, the content
stage put in the facility's mailbox, and the ledger kept (``simulator.invoice_ledger``).

``CentralApplication`` dispatches an InvoiceBatch here; everything runs under the store's
lock held by ``CentralApplication.submit``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator import rules
from simulator.answers import Answer, Error, InvoiceAcknowledgement, InvoiceResult, Outcome
from simulator.clock import Clock
from simulator.errors import AdminInputError, UnknownCase
from simulator.history import Status
from simulator.invoice_ledger import (
    BatchRecord,
    BatchState,
    FacilityLedger,
    LedgerInvoice,
    LedgerLine,
)
from simulator.invoice_messages import Invoice, InvoiceBatch
from simulator.population import Population
from simulator.rules import codes
from simulator.rules.invoicing import BatchJudgement, Fault, Grant, judge_content
from simulator.state import Store

AnswerMaker = Callable[[str, rules.Verdict, str | None], Answer]

ACCEPTED, REFUSED_FILE, REFUSED_CONTENT = "931000", "920999", "920099"


def parse_faults(body: Any) -> list[Fault]:
    """``{"faults": [{"invoice", "line"?, "code", "level", "text"?}]}`` checked; a fault with
    a line is level R, without one F or B."""
    items = body.get("faults") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise AdminInputError("faults must be a list")
    faults = []
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise AdminInputError(f"fault {position}: must be an object")
        invoice, code, level = item.get("invoice"), item.get("code"), item.get("level")
        line, text = item.get("line"), item.get("text", "configured fault")
        if not isinstance(invoice, str) or not isinstance(code, str) or not isinstance(text, str):
            raise AdminInputError(f"fault {position}: invoice, code and text must be strings")
        if line is not None and (not isinstance(line, int) or isinstance(line, bool) or line < 1):
            raise AdminInputError(f"fault {position}: line must be a positive whole number")
        allowed = ("R",) if line is not None else ("F", "B")
        if level not in allowed:
            raise AdminInputError(f"fault {position}: level must be one of {allowed}")
        faults.append(Fault(invoice, line, code, str(level), text))
    return faults


class InvoiceDesk:
    """Judges invoice batches and keeps each facility's invoicing ledger."""

    def __init__(
        self,
        store: Store,
        population: Population,
        clock: Clock,
        recognises: Callable[[str], bool],
        answer: AnswerMaker,
    ):
        self.store, self.population, self.clock = store, population, clock
        self.recognises, self.answer = recognises, answer

    def take(self, batch: InvoiceBatch) -> Answer:
        """The technical stage (the Submit's answer); a batch taken in is judged at once and
        its content answer delivered to the facility's mailbox."""
        header = batch.header
        ledger = self.store.invoice_ledger(header.nihdi)
        refusal = self._technical(batch, ledger)
        if refusal is not None:
            ack = InvoiceAcknowledgement("technical", REFUSED_FILE, batch.batch_number)
            verdict = rules.Verdict(Outcome.REFUSED, (refusal,), ack)
            return self.answer(header.message_id, verdict, None)
        record = BatchRecord(
            batch.batch_number,
            batch.care_fund,
            batch.invoice_type,
            batch.billing_month,
            batch.invoice_date,
            header.message_id,
            BatchState.ACCEPTED,
        )
        judgement = judge_content(
            batch,
            ledger,
            self.clock.today(),
            self.recognises(header.nihdi),
            self.population.find,
            self._grant,
            self.store.invoice_faults,
        )
        if judgement.refused_whole:
            record.state = BatchState.REFUSED
        else:
            self._record(batch, ledger, judgement)
        ledger.batches[batch.batch_number] = record
        self.store.deliver(header.nihdi, self._content_answer(batch, judgement))
        ack = InvoiceAcknowledgement("technical", ACCEPTED, batch.batch_number)
        return self.answer(header.message_id, rules.Verdict(Outcome.IN_BERAAD, body=ack), None)

    def _technical(self, batch: InvoiceBatch, ledger: FacilityLedger) -> Error | None:
        earlier = ledger.batches.get(batch.batch_number)
        if earlier is not None and earlier.state is not BatchState.REFUSED:
            return _b(codes.INVOICE_BATCH_NUMBER, "the batch number was used before")
        if earlier is not None and (
            earlier.care_fund,
            earlier.invoice_type,
            earlier.billing_month,
            earlier.invoice_date,
        ) != (batch.care_fund, batch.invoice_type, batch.billing_month, batch.invoice_date):
            return _b(
                codes.INVOICE_RESEND_CHANGED,
                "a refused batch is resent with the same care fund, type, month and date",
            )
        if ledger.month_taken(batch.care_fund, batch.billing_month, batch.batch_number):
            return _b(codes.INVOICE_MONTH_TAKEN, "this care fund has a batch for this month")
        return None

    def _grant(self, invoice: Invoice) -> Grant | None:
        application = self.store.application_by_reference(invoice.vsb_reference)
        if application is not None:
            if application.status is not Status.ACCEPTED or application.insz != invoice.insz:
                return None
            stop = application.active_stop
            end = application.end_date if stop is None else min(stop.day, application.end_date)
            return Grant(application.start_date, end, application)
        admission = self.store.admission_by_reference(invoice.vsb_reference)
        if admission is None or admission.status is not Status.ACCEPTED:
            return None
        if admission.insz != invoice.insz:
            return None
        return Grant(admission.start_date, admission.end_date)

    def _record(self, batch: InvoiceBatch, ledger: FacilityLedger, judged: BatchJudgement) -> None:
        for invoice in batch.invoices:
            if invoice.number in judged.refused_invoices:
                continue
            refused = set(judged.refused_lines.get(invoice.number, ()))
            kept = {
                line.number: LedgerLine(
                    line.number, line.kind, line.service_code, line.day, line.amount
                )
                for line in invoice.lines
                if line.number not in refused
            }
            ledger.invoices[invoice.number] = LedgerInvoice(
                invoice.number,
                invoice.kind,
                invoice.insz,
                invoice.vsb_reference,
                batch.batch_number,
                invoice.corrects,
                kept,
            )
            for line in invoice.lines:
                if line.number in refused:
                    continue
                if invoice.kind == "invoice" and line.kind == "service":
                    ledger.billed.add((invoice.insz, line.day, line.service_code))
                if line.credits is not None:
                    earlier, target = ledger.line(
                        line.credits.invoice_number, line.credits.line_number
                    )
                    target.credited = True
                    ledger.billed.discard((earlier.insz, target.day, target.service_code))
                    ledger.credit_notes[earlier.number] = batch.batch_number
        for reference, shadow in judged.sessions.items():
            application = self.store.application_by_reference(reference)
            if application is not None:
                application.ledger = shadow.ledger

    def _content_answer(self, batch: InvoiceBatch, judged: BatchJudgement) -> Answer:
        errors = tuple(judged.blocking + judged.errors)
        if judged.refused_whole:
            ack = InvoiceAcknowledgement(
                "content", REFUSED_CONTENT, batch.batch_number, judged.lines, judged.non_blocking
            )
            verdict = rules.Verdict(Outcome.REFUSED, errors, ack)
        else:
            results = tuple(
                InvoiceResult(
                    invoice.number,
                    invoice.number not in judged.refused_invoices,
                    tuple(judged.refused_lines.get(invoice.number, ())),
                )
                for invoice in batch.invoices
            )
            ack = InvoiceAcknowledgement(
                "content",
                ACCEPTED,
                batch.batch_number,
                judged.lines,
                judged.non_blocking,
                results,
            )
            verdict = rules.Verdict(Outcome.ACCEPTED, errors, ack)
        return self.answer(batch.header.message_id, verdict, None)

    # --- admin reads --------------------------------------------------------------------

    def invoice(self, number: str) -> dict[str, Any]:
        """An accepted invoice with its lines (INSZ masked), from any facility."""
        with self.store.lock:
            for nihdi, ledger in self.store.invoice_ledgers():
                found = ledger.invoices.get(number)
                if found is not None:
                    return {"nihdi": nihdi} | found.to_json()
        raise UnknownCase(f"no accepted invoice {number}")

    def batches(self) -> list[dict[str, Any]]:
        """Every batch taken in, per facility."""
        with self.store.lock:
            return [
                {"nihdi": nihdi} | batch.to_json()
                for nihdi, ledger in self.store.invoice_ledgers()
                for batch in ledger.batches.values()
            ]

    def fault_list(self) -> list[dict[str, Any]]:
        """The configured faults."""
        with self.store.lock:
            return [
                {"invoice": f.invoice, "line": f.line, "code": f.code, "level": f.level}
                | {"text": f.text}
                for f in self.store.invoice_faults
            ]


def _b(code: str, text: str) -> Error:
    return Error(code, text, None, "B")
