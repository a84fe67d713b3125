"""The content of an invoice batch judged (DOMAIN.md "Invoicing", "Billing around the
switch-over"; seed 001, slides "Facturatie en prestaties").

Pure: the ledger, the people and the grants come in, a ``BatchJudgement`` comes out; the
desk records it. Errors are level B (the batch), F (one invoice) or R (one line). An invoice
gets at most one F error and a line at most one R error (the first rule failed, configured
faults first), so the non-blocking count is the number of invoices and lines refused.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from simulator.answers import Error
from simulator.history import Application, Sessions
from simulator.invoice_ledger import DayKey, FacilityLedger
from simulator.invoice_messages import Invoice, InvoiceBatch, InvoiceLine
from simulator.population import Affiliation, Person, insz_is_valid
from simulator.rules import codes
from simulator.rules.quota import judge_sessions
from simulator.rules.service_codes import code_allowed

PVT_TO_CARE_FUNDS = date(2023, 4, 1)
"""PVT stay days up to and including 31/3/2023 are billed to the mutualities (VI)."""
REVA_TO_CARE_FUNDS = date(2023, 11, 1)
"""REVA is invoiced to the care funds from 1/11/2023."""


@dataclass(frozen=True)
class Grant:
    """The accepted application or admission an invoice's services fall under."""

    start: date
    end: date | None
    application: Application | None = None
    """REVA: the application whose sessions ledger the service lines feed."""


@dataclass(frozen=True)
class Fault:
    """A configured error: on one invoice (F or B) or one line of it (R)."""

    invoice: str
    line: int | None
    code: str
    level: str
    text: str


@dataclass
class BatchJudgement:
    """What the content stage found."""

    blocking: list[Error] = field(default_factory=list)
    errors: list[Error] = field(default_factory=list)
    """F and R errors, in batch order."""
    refused_invoices: set[str] = field(default_factory=set)
    refused_lines: dict[str, list[int]] = field(default_factory=dict)
    sessions: dict[str, Application] = field(default_factory=dict)
    """Shadow applications with the batch's accepted sessions (kept only if accepted)."""
    lines: int = 0

    @property
    def non_blocking(self) -> int:
        """The number of F and R errors."""
        return len(self.errors)

    @property
    def refused_whole(self) -> bool:
        """Whether the batch is refused as a whole."""
        return bool(self.blocking)


def two_years_after(day: date) -> date:
    """The last day a service of ``day`` may be billed (29/2 → 28/2)."""
    try:
        return day.replace(year=day.year + 2)
    except ValueError:
        return day.replace(year=day.year + 2, day=28)


def judge_batch_blocking(
    batch: InvoiceBatch, today: date, recognised: bool, faults: Iterable[Fault]
) -> list[Error]:
    """The B errors of the batch itself (facility, dates) and configured B faults."""
    errors = []
    if not recognised:
        errors.append(_b(codes.INVOICE_FACILITY, "not a recognised facility"))
    if batch.invoice_date > today:
        errors.append(_b(codes.INVOICE_DATE, "the invoice date is after today"))
    if batch.billing_month > (today.year, today.month):
        errors.append(_b(codes.INVOICE_MONTH, "the billing month is after this month"))
    for fault in faults:
        if fault.level == "B":
            errors.append(Error(fault.code, fault.text, f"Invoice[{fault.invoice}]", "B"))
    return errors


def _b(code: str, text: str) -> Error:
    return Error(code, text, None, "B")


class _Judge:
    """One batch being judged: the state the rules share across its invoices."""

    def __init__(
        self,
        batch: InvoiceBatch,
        ledger: FacilityLedger,
        today: date,
        person: Callable[[str], Person],
        grant: Callable[[Invoice], Grant | None],
        faults: Sequence[Fault],
    ):
        self.batch, self.ledger, self.today = batch, ledger, today
        self.person, self.grant = person, grant
        self.invoice_faults = {f.invoice: f for f in faults if f.line is None and f.level == "F"}
        self.line_faults = {(f.invoice, f.line): f for f in faults if f.line is not None}
        self.numbers: set[str] = set()
        self.billed: set[DayKey] = set()
        self.credited: set[tuple[str, int]] = set()
        self.result = BatchJudgement(lines=batch.line_count)

    def invoice_error(self, invoice: Invoice) -> tuple[str, str] | None:
        fault = self.invoice_faults.get(invoice.number)
        if fault is not None:
            return fault.code, fault.text
        person = self.person(invoice.insz)
        if not insz_is_valid(invoice.insz) or person.affiliation is not Affiliation.AFFILIATED:
            return codes.INVOICE_INSZ, "the INSZ is unknown or not affiliated"
        if person.care_fund != self.batch.care_fund:
            return codes.INVOICE_CARE_FUND, "the user is affiliated with another care fund"
        if invoice.number in self.ledger.invoices or invoice.number in self.numbers:
            return codes.INVOICE_NUMBER_USED, "the invoice number was used before"
        if len({line.number for line in invoice.lines}) != len(invoice.lines):
            return codes.INVOICE_LINE_NUMBER, "a line number appears twice in the invoice"
        credit_note = invoice.kind == "credit-note"
        if (credit_note and invoice.corrects is not None) or (
            not credit_note and any(line.credits is not None for line in invoice.lines)
        ):
            return codes.INVOICE_KIND, "a credit note corrects nothing; an invoice credits none"
        if invoice.corrects is not None and invoice.corrects not in self.ledger.credit_notes:
            return (
                codes.INVOICE_CORRECTION_EARLY,
                "no credit note of the corrected invoice was accepted in an earlier batch",
            )
        if not credit_note and self.grant(invoice) is None:
            return codes.INVOICE_NO_GRANT, "the VSB reference names no accepted grant of this user"
        return None

    def judge(self, invoice: Invoice) -> None:
        where = f"Invoice[{invoice.number}]"
        found = self.invoice_error(invoice)
        self.numbers.add(invoice.number)
        if found is not None:
            self.result.errors.append(Error(found[0], found[1], where, "F"))
            self.result.refused_invoices.add(invoice.number)
            return
        refused: list[int] = []
        by_number = {line.number: line for line in invoice.lines}
        shares: dict[int, list[InvoiceLine]] = {}
        for line in invoice.lines:
            if line.kind == "personal-share" and line.for_line is not None:
                shares.setdefault(line.for_line, []).append(line)
        grant = None if invoice.kind == "credit-note" else self.grant(invoice)
        for line in invoice.lines:
            if line.kind != "service":
                target = by_number.get(line.for_line) if line.for_line is not None else None
                if target is None or target.kind != "service":
                    self._refuse(refused, where, line, codes.LINE_PERSONAL_SHARE, "names no line")
                continue
            own = shares.get(line.number, [])
            error = self.line_error(invoice, line, own, grant)
            if error is not None:
                self._refuse(refused, where, line, *error)
                # The personal share goes with its service line, without a second error.
                refused.extend(share.number for share in own if share.number not in refused)
            elif own and not self._share_ok(invoice, own[0]):
                self._refuse(refused, where, own[0], codes.LINE_SERVICE_CODE, "not a share code")
                refused.append(line.number)
        if refused:
            self.result.refused_lines[invoice.number] = sorted(set(refused))

    def _share_ok(self, invoice: Invoice, share: InvoiceLine) -> bool:
        return code_allowed(self.batch.invoice_type, share.kind, share.service_code)

    def _refuse(
        self, refused: list[int], where: str, line: InvoiceLine, code: str, text: str
    ) -> None:
        self.result.errors.append(Error(code, text, f"{where}/Line[{line.number}]", "R"))
        refused.append(line.number)

    def line_error(
        self, invoice: Invoice, line: InvoiceLine, own: list[InvoiceLine], grant: Grant | None
    ) -> tuple[str, str] | None:
        fault = self.line_faults.get((invoice.number, line.number))
        if fault is not None:
            return fault.code, fault.text
        if len(own) != 1 or own[0].day != line.day:
            return codes.LINE_PERSONAL_SHARE, "a service needs one personal share of its day"
        if not code_allowed(self.batch.invoice_type, line.kind, line.service_code):
            return codes.LINE_SERVICE_CODE, "the service code is not in the list for this type"
        if invoice.kind == "credit-note":
            return self.credit_error(invoice, line)
        return self.day_error(invoice, line, grant)

    def day_error(
        self, invoice: Invoice, line: InvoiceLine, grant: Grant | None
    ) -> tuple[str, str] | None:
        day, reva = line.day, self.batch.invoice_type == "reva"
        if day > self.today:
            return codes.LINE_FUTURE, "the day is after today"
        if two_years_after(day) < self.today:
            return codes.LINE_TOO_OLD, "the day is more than two years ago"
        if not reva and day < PVT_TO_CARE_FUNDS:
            return codes.LINE_PVT_VI, "a stay up to 31/3/2023 is billed to the mutuality"
        if reva and day < REVA_TO_CARE_FUNDS:
            return codes.LINE_REVA_BEFORE, "REVA is billed to the care funds from 1/11/2023"
        if grant is None or day < grant.start or (grant.end is not None and day > grant.end):
            return codes.LINE_OUTSIDE_PERIOD, "the day is outside the granted period"
        key = (invoice.insz, day, line.service_code)
        if key in self.ledger.billed or key in self.billed:
            return codes.LINE_DUPLICATE, "this service of this day was billed before"
        if reva and grant.application is not None:
            shadow = self.result.sessions.get(invoice.vsb_reference)
            if shadow is None:
                ledger = list(grant.application.ledger)
                shadow = dataclasses.replace(grant.application, ledger=ledger)
                self.result.sessions[invoice.vsb_reference] = shadow
            verdict = judge_sessions(shadow, day, 1)
            if not verdict.accepted:
                return codes.QUOTA_USED, f"past the quota of {verdict.quota} sessions"
            shadow.ledger.append(Sessions(day, 1))
        self.billed.add(key)
        return None

    def credit_error(self, invoice: Invoice, line: InvoiceLine) -> tuple[str, str] | None:
        credits = line.credits
        try:
            if credits is None:
                raise KeyError(line.number)
            earlier, target = self.ledger.line(credits.invoice_number, credits.line_number)
        except KeyError:
            return codes.LINE_CREDIT_UNKNOWN, "credits no line accepted in an earlier batch"
        if earlier.insz != invoice.insz or earlier.kind != "invoice":
            return codes.LINE_CREDIT_UNKNOWN, "credits no line of this user accepted before"
        key = (credits.invoice_number, credits.line_number)
        if target.credited or key in self.credited:
            return codes.LINE_CREDIT_TWICE, "the line was credited before"
        if target.amount != line.amount:
            return codes.LINE_CREDIT_AMOUNT, "the amount differs from the credited line's"
        self.credited.add(key)
        return None


def judge_content(
    batch: InvoiceBatch,
    ledger: FacilityLedger,
    today: date,
    recognised: bool,
    person: Callable[[str], Person],
    grant: Callable[[Invoice], Grant | None],
    faults: Sequence[Fault],
) -> BatchJudgement:
    """Judge every invoice and line, then the 5 % rule: 100 * (F + R errors) >= 5 * lines
    (every line, service and personal-share) refuses the batch as a whole."""
    judge = _Judge(batch, ledger, today, person, grant, faults)
    for invoice in batch.invoices:
        judge.judge(invoice)
    result = judge.result
    result.blocking = judge_batch_blocking(batch, today, recognised, faults)
    if result.non_blocking * 100 >= 5 * result.lines and result.non_blocking:
        result.blocking.append(
            _b(
                codes.INVOICE_FIVE_PERCENT,
                f"{result.non_blocking} F and R errors on {result.lines} lines: 5 % or more",
            )
        )
    return result
