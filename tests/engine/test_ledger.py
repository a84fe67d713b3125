"""The invoicing ledger keeps batches, lines and statuses and judges the store-level rules.

One contract suite on both backends (``store``: SQLite and PostgreSQL): the month rule, the
answers, credit notes, held corrections, insurance statuses under a blind index, amounts.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from adapter.errors import ConfigError
from adapter.store import (
    BatchState,
    BlindIndex,
    InvoiceLedger,
    InvoiceResult,
    LineOutcome,
    Sealer,
    Store,
)
from adapter.store import ledger as ledger_functions
from adapter.store.sealing import (
    INDEX_MARK,
    Keyring,
    StoreKey,
    add_index_key,
    add_key,
    load_keyring,
    new_key_id,
    parse_keyring,
    remove_key,
)
from mappings import Facility, Issue
from mappings.invoice_batch import (
    BatchHead,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    LineKind,
    LineReference,
)
from tests.integration.test_at_rest import raw_postgres, raw_sqlite

T0 = datetime(2026, 11, 20, 9, tzinfo=UTC)
FACILITY = Facility("71012314001", "40012345")
INSZ = "85073003328"
OTHER_INSZ = "90020199714"
FUND = "180"
MONTH = "2026-10"
INVOICE_DATE = date(2026, 11, 5)


@pytest.fixture
def sealer() -> Sealer:
    """A fresh store key and index key of this test's own (real AES-GCM and HMAC)."""
    key = StoreKey(new_key_id(), os.urandom(32))
    return Sealer(Keyring((key,), "(test keyring in memory)", os.urandom(32)))


@pytest.fixture
def ledger(store: Store) -> InvoiceLedger:
    """The ledger of the test's store, under the store keyring's index key."""
    return InvoiceLedger(store)


def head(
    batch_number: str = "1001",
    *,
    message_id: str | None = None,
    care_fund: str = FUND,
    month: str = MONTH,
    invoice_type: str = "reva",
    invoice_date: date = INVOICE_DATE,
    replaces: str | None = None,
) -> BatchHead:
    return BatchHead(
        message_id=message_id or f"m-{batch_number}",
        created_at=T0,
        facility=FACILITY,
        batch_number=batch_number,
        care_fund=care_fund,
        invoice_type=invoice_type,
        billing_month=month,
        invoice_date=invoice_date,
        replaces_message_id=replaces,
    )


def invoice(
    number: str,
    days: int = 2,
    *,
    insz: str = INSZ,
    corrects: str | None = None,
    amount: Decimal = Decimal("151.23"),
) -> Invoice:
    """An invoice of ``days`` service days, each with its personal-share line."""
    lines: list[InvoiceLine] = []
    for day in range(days):
        service = 2 * day + 1
        served = date(2026, 10, 1 + day)
        lines.append(InvoiceLine(service, LineKind.SERVICE, "771012", served, amount))
        lines.append(
            InvoiceLine(
                service + 1, LineKind.PERSONAL_SHARE, "779990", served, Decimal("0"), service
            )
        )
    return Invoice(number, InvoiceKind.INVOICE, insz, "VSB-2026-000777", tuple(lines), corrects)


def credit_note(number: str, *targets: tuple[str, int]) -> Invoice:
    """A credit note with one line per credited (invoice number, line number)."""
    lines = tuple(
        InvoiceLine(
            i + 1,
            LineKind.SERVICE,
            "771012",
            date(2026, 10, 1),
            Decimal("151.23"),
            credits=LineReference(target, line),
        )
        for i, (target, line) in enumerate(targets)
    )
    return Invoice(number, InvoiceKind.CREDIT_NOTE, INSZ, "VSB-2026-000777", lines)


def accepted_batch(
    ledger: InvoiceLedger, batch_head: BatchHead, *invoices: Invoice, refused: str = ""
) -> None:
    """Send and have accepted a batch; ``refused`` names an invoice the care fund refused."""
    ledger.open_batch(batch_head, invoices, T0)
    ledger.record_technical(batch_head.message_id, "931000", T0)
    results = [InvoiceResult(i.number, i.number != refused) for i in invoices]
    ledger.record_content(batch_head.message_id, "931000", results, T0)


def codes(issues: Sequence[Issue]) -> list[str]:
    return [issue.code for issue in issues]


# ---- one batch per care fund per month ---------------------------------------------------------

EARLIER = head("1001")
"""The earlier batch of the month in the table below: care fund 180, October, REVA."""

MONTH_CASES = [
    # (case, the earlier batch's answers (technical, content), the new batch, refusal code)
    ("the first batch of the fund", None, head("1001"), None),
    ("a second batch the same month, first accepted", ("931000", "931000"), head("1002"),
     "invoice-month-taken"),
    ("a second batch the same month, first in flight", (), head("1002"), "invoice-month-taken"),
    ("a second batch the same month, first taken in", ("931000",), head("1002"),
     "invoice-month-taken"),
    ("another number though the first was refused", ("920999",), head("1002"),
     "invoice-month-taken"),
    ("the resend of a file refused", ("920999",), head("1001", message_id="m-1001b"), None),
    ("the resend of a content refused", ("931000", "920099"),
     head("1001", message_id="m-1001b"), None),
    ("the resend with another invoice date", ("920999",),
     head("1001", message_id="m-1001b", invoice_date=date(2026, 11, 6)),
     "invoice-resend-changed"),
    ("the resend with another invoice type", ("920999",),
     head("1001", message_id="m-1001b", invoice_type="pvt"), "invoice-resend-changed"),
    ("a resend of a batch not refused", ("931000", "931000"),
     head("1001", message_id="m-1001b"), "invoice-month-taken"),
    ("the same message again (a send in doubt)", (), head("1001"), None),
    ("a replay replacing an unanswered try", (),
     head("1001", message_id="m-1001b", replaces="m-1001", invoice_date=date(2026, 11, 6)), None),
    ("a replay replacing a try taken in", ("931000",),
     head("1001", message_id="m-1001b", replaces="m-1001"), "invoice-month-taken"),
    ("the month before", ("931000", "931000"), head("1002", month="2026-09"), None),
    ("the month after", ("931000", "931000"), head("1002", month="2026-11"), None),
    ("another care fund, the same month", ("931000", "931000"), head("1002", care_fund="280"),
     None),
    ("the number again for another month", ("920999",),
     head("1001", message_id="m-1001b", month="2026-11"), "invoice-batch-number-taken"),
    ("the number again for another fund", ("931000", "931000"),
     head("1001", message_id="m-1001b", care_fund="280"), "invoice-batch-number-taken"),
]  # fmt: skip


class TestMonthRule:
    """One batch per care fund per month; only a batch refused as a whole is resent, unchanged."""

    @pytest.mark.parametrize(
        ("answers", "new", "expected"),
        [case[1:] for case in MONTH_CASES],
        ids=[case[0] for case in MONTH_CASES],
    )
    def test_the_month_rule(
        self,
        ledger: InvoiceLedger,
        answers: tuple[str, ...] | None,
        new: BatchHead,
        expected: str | None,
    ) -> None:
        """Each case of the table gets its refusal code (or None: the batch may be sent)."""
        if answers is not None:
            ledger.open_batch(EARLIER, [invoice("F-1")], T0)
            if answers:
                ledger.record_technical(EARLIER.message_id, answers[0], T0)
            if len(answers) > 1:
                ledger.record_content(
                    EARLIER.message_id, answers[1], [InvoiceResult("F-1", True)], T0
                )
        issue = ledger.month_refusal(new)
        assert (issue.code if issue else None) == expected
        if issue is not None:
            assert "1001" in issue.text  # names the earlier batch

    def test_an_accepted_resend_is_one_more_try_of_the_batch(self, ledger: InvoiceLedger) -> None:
        """The resend of a refused batch keeps its number, counts a try and replaces its lines."""
        ledger.open_batch(EARLIER, [invoice("F-1"), invoice("F-2")], T0)
        ledger.record_technical(EARLIER.message_id, "920999", T0)
        resend = head("1001", message_id="m-1001b")
        assert ledger.month_refusal(resend) is None
        later = T0 + timedelta(days=1)
        opened = ledger.open_batch(resend, [invoice("F-1", days=1)], later)
        assert (opened.message_id, opened.tries, opened.state) == (
            "m-1001b",
            2,
            BatchState.SENDING,
        )
        assert (opened.created_at, opened.updated_at) == (T0, later)
        lines = ledger.batch_lines("1001")
        assert [(x.invoice_number, x.line_number) for x in lines] == [("F-1", 1), ("F-1", 2)]
        assert {x.outcome for x in lines} == {LineOutcome.PENDING}
        assert ledger.batch_by_message("m-1001") is None  # the old try is no longer the batch's

    def test_a_send_in_doubt_is_the_same_try(self, ledger: InvoiceLedger) -> None:
        """Opening the batch again under its message id counts no try and keeps one copy."""
        ledger.open_batch(EARLIER, [invoice("F-1")], T0)
        again = ledger.open_batch(EARLIER, [invoice("F-1")], T0)
        assert again.tries == 1
        assert len(ledger.batch_lines("1001")) == 4

    def test_an_invoice_number_serves_one_batch(self, store: Store, ledger: InvoiceLedger) -> None:
        """A number sent in another batch is refused, naming that batch; the batch's own is not."""
        accepted_batch(ledger, EARLIER, invoice("F-1"))
        with store.connection(read_only=True) as db:
            taken = ledger_functions.number_refusals(
                db, head("1002", month="2026-11"), [invoice("F-1"), invoice("F-9")]
            )
            own = ledger_functions.number_refusals(db, EARLIER, [invoice("F-1")])
        assert codes(taken) == ["invoice-number-taken"]
        assert "F-1" in taken[0].text
        assert "1001" in taken[0].text
        assert own == []

    def test_opening_a_taken_number_is_an_integrity_error(self, ledger: InvoiceLedger) -> None:
        """Unjudged, a number another batch holds stops the opening whole, on both backends."""
        accepted_batch(ledger, EARLIER, invoice("F-1"))
        with pytest.raises(IntegrityError):
            ledger.open_batch(head("1002", month="2026-11"), [invoice("F-2"), invoice("F-1")], T0)
        assert ledger.batch("1002") is None
        assert ledger.invoice_lines("F-2") == []


# ---- recording batches and their answers ------------------------------------------------------


class TestAnswers:
    """The technical and the content answer give the batch its state and each line its outcome."""

    def test_a_batch_is_opened_sending_with_every_line_pending(self, ledger: InvoiceLedger) -> None:
        """Every line is kept with its kind, code, day, amount and personal-share link."""
        opened = ledger.open_batch(EARLIER, [invoice("F-1")], T0)
        assert opened.state is BatchState.SENDING
        assert (opened.care_fund, opened.billing_month, opened.invoice_type) == (
            FUND,
            MONTH,
            "reva",
        )
        assert opened.invoice_date == INVOICE_DATE
        lines = ledger.batch_lines("1001")
        assert [(x.kind, x.for_line) for x in lines] == [
            (LineKind.SERVICE, None),
            (LineKind.PERSONAL_SHARE, 1),
            (LineKind.SERVICE, None),
            (LineKind.PERSONAL_SHARE, 3),
        ]
        assert lines[2].day == date(2026, 10, 2)
        assert lines[0].invoice_kind is InvoiceKind.INVOICE
        assert {x.outcome for x in lines} == {LineOutcome.PENDING}

    def test_a_file_taken_in_waits_for_its_content_answer(self, ledger: InvoiceLedger) -> None:
        """931000 at the technical stage: taken in, the lines still pending."""
        ledger.open_batch(EARLIER, [invoice("F-1")], T0)
        taken = ledger.record_technical("m-1001", "931000", T0)
        assert taken is not None
        assert taken.state is BatchState.TAKEN_IN
        assert {x.outcome for x in ledger.batch_lines("1001")} == {LineOutcome.PENDING}

    def test_a_file_refused_refuses_every_line(self, ledger: InvoiceLedger) -> None:
        """920999: the batch is refused-file and none of its lines was accepted."""
        ledger.open_batch(EARLIER, [invoice("F-1")], T0)
        refused = ledger.record_technical("m-1001", "920999", T0)
        assert refused is not None
        assert refused.state is BatchState.REFUSED_FILE
        assert {x.outcome for x in ledger.batch_lines("1001")} == {LineOutcome.REFUSED}

    def test_a_content_refusal_refuses_the_whole_batch(self, ledger: InvoiceLedger) -> None:
        """920099: refused-content, every line refused, the results ignored."""
        ledger.open_batch(EARLIER, [invoice("F-1")], T0)
        ledger.record_technical("m-1001", "931000", T0)
        batch = ledger.record_content("m-1001", "920099", [InvoiceResult("F-1", True)], T0)
        assert batch is not None
        assert batch.state is BatchState.REFUSED_CONTENT
        assert {x.outcome for x in ledger.batch_lines("1001")} == {LineOutcome.REFUSED}

    def test_each_invoice_and_line_gets_its_outcome(self, ledger: InvoiceLedger) -> None:
        """An F error refuses its invoice, an R error its line; an unnamed invoice stays pending."""
        invoices = [invoice("F-1"), invoice("F-2"), invoice("F-3"), invoice("F-4")]
        ledger.open_batch(EARLIER, invoices, T0)
        ledger.record_technical("m-1001", "931000", T0)
        results = [
            InvoiceResult("F-1", True),
            InvoiceResult("F-2", False),
            InvoiceResult("F-3", True, frozenset({3})),
        ]
        batch = ledger.record_content("m-1001", "931000", results, T0 + timedelta(hours=2))
        assert batch is not None
        assert batch.state is BatchState.ACCEPTED
        assert batch.updated_at == T0 + timedelta(hours=2)
        outcomes = {
            (x.invoice_number, x.line_number): x.outcome for x in ledger.batch_lines("1001")
        }
        assert {outcomes[("F-1", n)] for n in range(1, 5)} == {LineOutcome.ACCEPTED}
        assert {outcomes[("F-2", n)] for n in range(1, 5)} == {LineOutcome.REFUSED}
        assert [outcomes[("F-3", n)] for n in range(1, 5)] == [
            LineOutcome.ACCEPTED,
            LineOutcome.ACCEPTED,
            LineOutcome.REFUSED,
            LineOutcome.ACCEPTED,
        ]
        assert {outcomes[("F-4", n)] for n in range(1, 5)} == {LineOutcome.PENDING}

    def test_an_answer_fetched_again_changes_nothing(self, ledger: InvoiceLedger) -> None:
        """Once judged, another content or technical answer leaves the batch as it was."""
        accepted_batch(ledger, EARLIER, invoice("F-1"))
        again = ledger.record_content("m-1001", "920099", [], T0 + timedelta(days=1))
        late = ledger.record_technical("m-1001", "920999", T0 + timedelta(days=1))
        assert again is not None
        assert late is not None
        assert again.state is late.state is BatchState.ACCEPTED
        assert again.updated_at == T0
        assert {x.outcome for x in ledger.batch_lines("1001")} == {LineOutcome.ACCEPTED}

    def test_a_result_for_another_batch_s_invoice_is_ignored(self, ledger: InvoiceLedger) -> None:
        """An answer judges only the lines of its own batch, whatever invoices it names."""
        accepted_batch(ledger, EARLIER, invoice("F-1"))
        later = head("1002", month="2026-11")
        ledger.open_batch(later, [invoice("F-2")], T0)
        ledger.record_technical("m-1002", "931000", T0)
        results = [InvoiceResult("F-2", True), InvoiceResult("F-1", False)]
        ledger.record_content("m-1002", "931000", results, T0)
        assert {x.outcome for x in ledger.invoice_lines("F-1")} == {LineOutcome.ACCEPTED}
        assert {x.outcome for x in ledger.invoice_lines("F-2")} == {LineOutcome.ACCEPTED}

    def test_an_unanswered_batch_can_be_forgotten(self, ledger: InvoiceLedger) -> None:
        """A batch message ended without an answer frees its month; an answered one does not."""
        ledger.open_batch(EARLIER, [invoice("F-1")], T0)
        assert ledger.forget_unanswered("m-1001")
        assert ledger.batch("1001") is None
        assert ledger.batch_lines("1001") == []
        assert ledger.month_refusal(head("1002")) is None
        accepted_batch(ledger, head("1002"), invoice("F-1"))
        ledger.open_batch(head("1003", month="2026-11"), [invoice("F-3")], T0)
        ledger.record_technical("m-1003", "931000", T0)
        assert not ledger.forget_unanswered("m-1002")
        assert not ledger.forget_unanswered("m-1003")
        assert not ledger.forget_unanswered("m-none")
        assert ledger.batch("1003") is not None

    def test_an_unknown_message_is_no_batch(self, ledger: InvoiceLedger) -> None:
        """An answer to a message the ledger does not hold records nothing."""
        assert ledger.record_technical("m-none", "931000", T0) is None
        assert ledger.record_content("m-none", "931000", [], T0) is None
        assert ledger.batch("9999") is None

    @pytest.mark.parametrize("code", ["920099", "000000", ""])
    def test_a_code_of_no_technical_answer_is_an_error(
        self, ledger: InvoiceLedger, code: str
    ) -> None:
        """Only 931000 and 920999 are technical answers."""
        ledger.open_batch(EARLIER, [invoice("F-1")], T0)
        with pytest.raises(ValueError, match="technical"):
            ledger.record_technical("m-1001", code, T0)

    @pytest.mark.parametrize("code", ["920999", "931001"])
    def test_a_code_of_no_content_answer_is_an_error(
        self, ledger: InvoiceLedger, code: str
    ) -> None:
        """Only 931000 and 920099 are content answers."""
        ledger.open_batch(EARLIER, [invoice("F-1")], T0)
        with pytest.raises(ValueError, match="content"):
            ledger.record_content("m-1001", code, [], T0)

    def test_the_ledger_changes_with_the_transaction_it_runs_in(self, store: Store) -> None:
        """Functions on the caller's connection commit and roll back with its transaction."""
        seen_inside: list[object] = []

        def record_then_fail() -> None:
            with store.connection() as db:
                ledger_functions.open_batch(db, EARLIER, [invoice("F-1")], T0)
                seen_inside.append(ledger_functions.batch(db, "1001"))
                raise RuntimeError("the answer could not be recorded")

        with pytest.raises(RuntimeError):
            record_then_fail()
        assert seen_inside[0] is not None
        with store.connection(read_only=True) as db:
            assert ledger_functions.batch(db, "1001") is None
            assert ledger_functions.batch_lines(db, "1001") == []


# ---- credit notes ------------------------------------------------------------------------------


class TestCreditNotes:
    """A credit note's line credits a line the care fund accepted, and only once."""

    @pytest.fixture
    def sent(self, ledger: InvoiceLedger) -> InvoiceLedger:
        """Batch 1001 judged: F-1 accepted but its line 3, F-2 refused, F-3 not judged yet."""
        ledger.open_batch(EARLIER, [invoice("F-1"), invoice("F-2")], T0)
        ledger.record_technical("m-1001", "931000", T0)
        results = [InvoiceResult("F-1", True, frozenset({3})), InvoiceResult("F-2", False)]
        ledger.record_content("m-1001", "931000", results, T0)
        ledger.open_batch(head("1002", month="2026-11"), [invoice("F-3")], T0)
        return ledger

    @pytest.mark.parametrize(
        ("target", "why"),
        [
            (("F-1", 1), None),
            (("F-1", 3), "refused"),
            (("F-2", 1), "refused"),
            (("F-3", 1), "not judged"),
            (("F-1", 9), "never sent"),
            (("F-404", 1), "never sent"),
        ],
        ids=[
            "accepted",
            "refused-line",
            "refused-invoice",
            "pending",
            "no-such-line",
            "never-sent",
        ],
    )
    def test_what_a_credit_note_may_credit(
        self, sent: InvoiceLedger, target: tuple[str, int], why: str | None
    ) -> None:
        """Only an accepted line may be credited; the refusal names the line and says why."""
        issues = sent.credit_refusals(credit_note("C-1", target))
        if why is None:
            assert issues == []
            return
        [issue] = issues
        assert issue.code == "invoice-credit-unknown-line"
        assert issue.expression == "Claim.item[0]"
        assert f"line {target[1]} of invoice {target[0]}" in issue.text
        assert "C-1 line 1" in issue.text
        assert why in issue.text

    def test_an_accepted_credit_marks_its_line_and_a_second_is_refused(
        self, sent: InvoiceLedger
    ) -> None:
        """Once a credit note's line is accepted its target is credited, and credited once."""
        accepted_batch(sent, head("1003", month="2026-12"), credit_note("C-1", ("F-1", 1)))
        credited = {x.line_number: x.credited_by for x in sent.invoice_lines("F-1")}
        assert credited == {1: "C-1", 2: None, 3: None, 4: None}
        [issue] = sent.credit_refusals(credit_note("C-2", ("F-1", 1)))
        assert "credited already" in issue.text
        assert "C-1" in issue.text

    def test_a_refused_credit_note_credits_nothing(self, sent: InvoiceLedger) -> None:
        """A credit note the care fund refused leaves its target open to another one."""
        accepted_batch(
            sent, head("1003", month="2026-12"), credit_note("C-1", ("F-1", 1)), refused="C-1"
        )
        assert {x.credited_by for x in sent.invoice_lines("F-1")} == {None}
        assert sent.credit_refusals(credit_note("C-2", ("F-1", 1))) == []

    def test_a_line_a_credit_note_in_flight_credits_is_refused(self, sent: InvoiceLedger) -> None:
        """While one credit note waits for its answer, another for the same line is refused."""
        sent.open_batch(head("1003", month="2026-12"), [credit_note("C-1", ("F-1", 1))], T0)
        [issue] = sent.credit_refusals(credit_note("C-2", ("F-1", 1)))
        assert "C-1" in issue.text
        assert "waiting" in issue.text
        assert sent.credit_refusals(credit_note("C-1", ("F-1", 1))) == []  # its own try again

    def test_the_same_line_twice_in_one_credit_note(self, sent: InvoiceLedger) -> None:
        """The second line crediting the same line is refused, at its own item."""
        issues = sent.credit_refusals(credit_note("C-1", ("F-1", 1), ("F-1", 2), ("F-1", 1)))
        assert [i.expression for i in issues] == ["Claim.item[2]"]
        assert "another line of this credit note" in issues[0].text

    def test_a_credit_note_s_line_is_not_credited(self, sent: InvoiceLedger) -> None:
        """Only an invoice's line can be credited, not the line of another credit note."""
        accepted_batch(sent, head("1003", month="2026-12"), credit_note("C-1", ("F-1", 1)))
        [issue] = sent.credit_refusals(credit_note("C-2", ("C-1", 1)))
        assert "only an invoice's line" in issue.text

    def test_an_invoice_is_not_judged_as_a_credit_note(self, sent: InvoiceLedger) -> None:
        """An ordinary invoice has nothing a credit rule could refuse."""
        assert sent.credit_refusals(invoice("F-9")) == []


# ---- held corrections --------------------------------------------------------------------------


class TestHeldCorrections:
    """A correcting invoice waits, held, until its credit note is accepted; then it is sent."""

    def test_a_correction_is_held_until_its_credit_note_is_accepted(
        self, ledger: InvoiceLedger
    ) -> None:
        """Held while the credit note waits; ready for the fund's next batch once it is accepted."""
        accepted_batch(ledger, EARLIER, invoice("F-1"))
        correction = invoice("F-1b", corrects="F-1")
        assert not ledger.correction_ready(correction)
        ledger.open_batch(head("1002", month="2026-11"), [credit_note("C-1", ("F-1", 1))], T0)
        assert ledger.hold("ev-F-1b", FUND, "F-1", T0)
        assert not ledger.correction_ready(correction)
        assert ledger.held_ready(FUND) == []
        assert ledger.still_held(FUND) == ["ev-F-1b"]
        ledger.record_technical("m-1002", "931000", T0)
        ledger.record_content("m-1002", "931000", [InvoiceResult("C-1", True)], T0)
        assert ledger.correction_ready(correction)
        assert ledger.held_ready(FUND) == ["ev-F-1b"]
        assert ledger.held_ready("280") == []
        assert ledger.release(["ev-F-1b"], T0 + timedelta(days=30)) == 1
        assert ledger.held_ready(FUND) == []
        assert ledger.still_held() == []
        assert ledger.release(["ev-F-1b"], T0 + timedelta(days=31)) == 0

    def test_a_refused_credit_note_keeps_the_correction_held(self, ledger: InvoiceLedger) -> None:
        """A credit note the care fund refused releases nothing."""
        accepted_batch(ledger, EARLIER, invoice("F-1"))
        ledger.hold("ev-F-1b", FUND, "F-1", T0)
        accepted_batch(
            ledger, head("1002", month="2026-11"), credit_note("C-1", ("F-1", 1)), refused="C-1"
        )
        assert ledger.held_ready(FUND) == []
        assert ledger.still_held(FUND) == ["ev-F-1b"]

    def test_holding_twice_is_one_hold(self, ledger: InvoiceLedger) -> None:
        """A batch judged again holds its correction once, from the first time."""
        assert ledger.hold("ev-F-1b", FUND, "F-1", T0)
        assert not ledger.hold("ev-F-1b", FUND, "F-1", T0 + timedelta(hours=1))
        assert ledger.still_held() == ["ev-F-1b"]

    def test_an_invoice_that_corrects_nothing_is_ready(self, ledger: InvoiceLedger) -> None:
        """Only a correcting invoice waits for a credit note."""
        assert ledger.correction_ready(invoice("F-1"))


# ---- insurance statuses ------------------------------------------------------------------------


class TestInsuranceStatuses:
    """The last relayed insurance status per person decides an invoice's care fund."""

    def test_no_status_relayed_sends_the_epd_to_a_look_up(self, ledger: InvoiceLedger) -> None:
        """Without a status the invoice is refused, telling the EPD to look the person up."""
        assert ledger.known_status(INSZ) is None
        issue = ledger.care_fund_refusal(invoice("F-1"), FUND)
        assert issue is not None
        assert issue.code == "invoice-status-unknown"
        assert "look-up first" in issue.text
        assert INSZ not in issue.text

    def test_the_care_fund_of_the_last_status_is_the_invoice_s(self, ledger: InvoiceLedger) -> None:
        """The fund of the status matches: no refusal; another fund: named, the INSZ never."""
        ledger.remember_status(INSZ, FUND, date(2024, 1, 1), T0)
        assert ledger.care_fund_refusal(invoice("F-1"), FUND) is None
        issue = ledger.care_fund_refusal(invoice("F-1"), "280")
        assert issue is not None
        assert issue.code == "invoice-care-fund"
        assert "care fund 180" in issue.text
        assert "280" in issue.text
        assert INSZ not in issue.text
        assert issue.expression == "Claim.insurer"

    def test_a_person_affiliated_with_no_fund(self, ledger: InvoiceLedger) -> None:
        """A status without a care fund refuses every fund."""
        ledger.remember_status(INSZ, None, None, T0)
        issue = ledger.care_fund_refusal(invoice("F-1"), FUND)
        assert issue is not None
        assert issue.code == "invoice-care-fund"
        assert "no care fund" in issue.text

    @pytest.mark.parametrize(
        ("second_at", "kept"),
        [
            (T0 - timedelta(microseconds=1), "180"),
            (T0, "280"),
            (T0 + timedelta(microseconds=1), "280"),
        ],
        ids=["older-ignored", "same-instant-later-recorded", "newer-wins"],
    )
    def test_the_newer_answer_wins(
        self, ledger: InvoiceLedger, second_at: datetime, kept: str
    ) -> None:
        """One row per person: an answer recorded later but answered earlier does not win."""
        ledger.remember_status(INSZ, "180", date(2024, 1, 1), T0)
        ledger.remember_status(INSZ, "280", date(2026, 1, 1), second_at)
        known = ledger.known_status(INSZ)
        assert known is not None
        assert known.care_fund == kept
        assert known.answered_at == max(T0, second_at)
        assert known.valid_from == (date(2024, 1, 1) if kept == "180" else date(2026, 1, 1))

    def test_people_are_kept_apart(self, ledger: InvoiceLedger) -> None:
        """Another person's status is not this one's."""
        ledger.remember_status(INSZ, "180", None, T0)
        ledger.remember_status(OTHER_INSZ, "280", None, T0)
        assert [ledger.known_status(x).care_fund for x in (INSZ, OTHER_INSZ)] == ["180", "280"]  # type: ignore[union-attr]

    def test_a_keyring_without_an_index_key_is_told(self, store: Store) -> None:
        """Statuses need the @index key; the other rules do not."""
        unindexed = Sealer(Keyring((StoreKey(new_key_id(), os.urandom(32)),), "(no index)"))
        bare = InvoiceLedger(Store(store.engine, sealer=unindexed))
        assert bare.month_refusal(EARLIER) is None
        with pytest.raises(ConfigError, match="@index"):
            bare.known_status(INSZ)


class TestNothingInClear:
    """The raw store shows no INSZ, nor a plain hash of one, after the ledger was used."""

    def test_the_raw_store_holds_no_insz(
        self, store: Store, ledger: InvoiceLedger, store_url: str
    ) -> None:
        """The SQLite file's bytes and every PostgreSQL row hold neither, only the keyed index."""
        for person, fund in ((INSZ, "180"), (OTHER_INSZ, "280")):
            ledger.remember_status(person, fund, date(2024, 1, 1), T0)
        accepted_batch(ledger, EARLIER, invoice("F-1"), invoice("F-2", insz=OTHER_INSZ))
        ledger.hold("ev-F-1b", FUND, "F-1", T0)
        store.engine.dispose()  # every write is in the file (SQLite keeps its WAL beside it)
        raw = raw_sqlite(store_url) if store_url.startswith("sqlite") else raw_postgres(store_url)
        assert ledger.index.of(INSZ).encode() in raw  # the rows are there, indexed
        assert b"F-1" in raw
        for person in (INSZ, OTHER_INSZ):
            assert person.encode() not in raw
            assert hashlib.sha256(person.encode()).hexdigest().encode() not in raw
            assert hashlib.sha256(person.encode()).digest() not in raw


# ---- amounts -----------------------------------------------------------------------------------


class TestAmounts:
    """Amounts are kept exactly, as whole cents, on both backends."""

    @pytest.mark.parametrize(
        "amount",
        ["0", "0.00", "0.01", "151.23", "-151.23", "99999999999.99", "12.3", "5"],
    )
    def test_an_amount_comes_back_exactly(self, ledger: InvoiceLedger, amount: str) -> None:
        """The same Decimal, with two decimals, whatever the backend."""
        ledger.open_batch(EARLIER, [invoice("F-1", 1, amount=Decimal(amount))], T0)
        [service, _share] = ledger.batch_lines("1001")
        assert service.amount == Decimal(amount)
        assert str(service.amount) == str(Decimal(amount).quantize(Decimal("0.01")))

    @pytest.mark.parametrize("amount", ["0.001", "151.235", "NaN", "Infinity"])
    def test_an_amount_of_part_cents_is_refused(self, ledger: InvoiceLedger, amount: str) -> None:
        """An amount that is not whole cents is an error naming the invoice and line."""
        with pytest.raises(ValueError, match="invoice F-1 line 1"):
            ledger.open_batch(EARLIER, [invoice("F-1", 1, amount=Decimal(amount))], T0)
        assert ledger.batch("1001") is None


# ---- the index key -----------------------------------------------------------------------------


class TestIndexKey:
    """The blind index's key lives in the keyring, apart from the sealing keys it outlives."""

    def test_rotation_keeps_the_index(self, tmp_path: Path) -> None:
        """Adding a sealing key and removing the old one keep the @index key and its digests."""
        path = tmp_path / "store-keyring"
        first = add_key(path)
        assert add_index_key(path)
        before, _ = Sealer.from_file(path)
        digest = before.blind_index().of(INSZ)
        add_key(path)
        remove_key(path, first.key_id)
        after, _ = Sealer.from_file(path)
        assert after.keyring.get(first.key_id) is None
        assert after.blind_index().of(INSZ) == digest
        assert not add_index_key(path)  # never replaced
        assert Sealer.from_file(path)[0].blind_index().of(INSZ) == digest
        assert oct(path.stat().st_mode & 0o777) == "0o600"

    def test_the_index_is_keyed(self) -> None:
        """The same INSZ gives the same digest under one key, another under another key,
        and neither is its plain SHA-256."""
        secret = os.urandom(32)
        one, again, other = BlindIndex(secret), BlindIndex(secret), BlindIndex(os.urandom(32))
        assert one.of(INSZ) == again.of(INSZ) != other.of(INSZ)
        assert one.of(INSZ) != one.of(OTHER_INSZ)
        assert one.of(INSZ) != hashlib.sha256(INSZ.encode()).hexdigest()
        assert len(one.of(INSZ)) == 64
        assert BlindIndex(secret, "another use").of(INSZ) != one.of(INSZ)
        assert secret.hex() not in repr(one)

    @pytest.mark.parametrize(
        ("line", "error"),
        [
            (f"{INDEX_MARK} short", "line 2: the index key is not base64"),
            (
                f"{INDEX_MARK} {base64.b64encode(os.urandom(16)).decode()}",
                "line 2: the index key is 16 bytes",
            ),
        ],
        ids=["not-base64", "16-bytes"],
    )
    def test_a_bad_index_line_is_named(self, line: str, error: str) -> None:
        """A malformed @index line stops the keyring's reading, naming the line, not quoting it."""
        key = f"k1 {base64.b64encode(os.urandom(32)).decode()}"
        with pytest.raises(ConfigError, match=error) as raised:
            parse_keyring(f"{key}\n{line}\n", "ring")
        assert line.split()[1] not in str(raised.value)

    def test_two_index_lines_are_refused(self) -> None:
        """There is one index key: a second line is an error."""
        key = f"k1 {base64.b64encode(os.urandom(32)).decode()}"
        index = f"{INDEX_MARK} {base64.b64encode(os.urandom(32)).decode()}"
        with pytest.raises(ConfigError, match="line 3: a second @index line"):
            parse_keyring(f"{key}\n{index}\n{index}\n", "ring")

    def test_a_keyring_without_an_index_line_reads_as_before(self, tmp_path: Path) -> None:
        """A keyring written before invoicing still seals and opens; it has no index key."""
        path = tmp_path / "store-keyring"
        add_key(path)
        keyring, _ = load_keyring(path)
        assert keyring.index_secret is None
        assert INDEX_MARK not in path.read_text()
        assert replace(keyring, index_secret=b"x" * 32).index_secret is not None


class TestOpenGuard:
    """A batch the month rule refuses is never opened, so no accepted line is ever replaced."""

    def test_opening_a_refused_batch_is_an_error(self, ledger: InvoiceLedger) -> None:
        """Opening a second batch of the month, or reopening an accepted one, changes nothing."""
        accepted_batch(ledger, EARLIER, invoice("F-1"))
        with pytest.raises(ValueError, match="already has batch 1001"):
            ledger.open_batch(head("1002"), [invoice("F-2")], T0)
        with pytest.raises(ValueError, match="cannot be opened"):
            ledger.open_batch(head("1001", message_id="m-1001b"), [invoice("F-9")], T0)
        assert ledger.batch("1002") is None
        assert {x.invoice_number for x in ledger.batch_lines("1001")} == {"F-1"}
        assert {x.outcome for x in ledger.batch_lines("1001")} == {LineOutcome.ACCEPTED}
