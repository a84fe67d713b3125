"""Invoicing end to end: invoice and batch events on RabbitMQ, the adapter's judgement and
ledger, the batch written and signed as a stream, the simulator's two answers, and the one
FHIR answer per batch read back from RabbitMQ.

Each test has its own store, simulator and daemon (the one-batch-per-month rule spans a
store), its own people and applications, accepted through the adapter like any other event.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from adapter.clock import SystemClock
from adapter.daemon import Daemon, broker_address
from adapter.devpki import DevPki
from adapter.store import Support
from adapter.support import SupportDesk
from queues import AnswerWatcher, ConfirmedPublisher
from simulator import Simulator
from tests.integration.conftest import make_settings
from tests.support import events, reva
from tests.support.events import placed
from tests.support.invoices import (
    BatchSpec,
    Day,
    InvoiceAnswer,
    InvoiceSpec,
    batch_event,
    days,
    invoice_answers,
    invoice_event,
)
from tests.support.rig import Harness, issue_codes, outcome, reference

_SERIALS = itertools.count(101, 2)


class Billing:
    """A facility billing through the adapter: people, applications, invoices, batches."""

    def __init__(self, adapter: Harness, simulator: Simulator) -> None:
        self.adapter, self.simulator = adapter, simulator
        self.tag = uuid.uuid4().hex[:8]
        self._numbers: dict[str, int] = {}

    def _next(self, dossier: str) -> int:
        self._numbers[dossier] = self._numbers.get(dossier, 0) + 1
        return self._numbers[dossier]

    def person(self, care_fund: str = "180", *, look_up: bool = True) -> str:
        """A person affiliated with ``care_fund``, whose status the adapter relayed."""
        insz = reva.insz(date(1975, 1, 1), next(_SERIALS))
        self.simulator.set_person(insz, "affiliated", care_fund, date(2001, 10, 1))
        if look_up:
            dossier = f"{self.tag}-status"
            sequence = self._next(dossier)
            [sent] = self.adapter.send(
                events.lookup(f"{dossier}-{sequence}", dossier, sequence, insz)
            )
            assert outcome(self.adapter.answers([sent])[sent][-1]) == "accepted"
        return insz

    def application(self, insz: str, start: date, request_type: str = "new") -> str:
        """An accepted REVA application of ``insz`` from ``start``: its VSB reference."""
        self.simulator.set_today(start)
        document = reva.application(
            start, start + timedelta(days=3 * 365), request_type=request_type
        )
        dossier = f"{self.tag}-app-{insz[-4:]}"
        body = placed(document, f"{dossier}-1", dossier, 1, insz)
        [sent] = self.adapter.send(body)
        answer = self.adapter.answers([sent])[sent][-1]
        assert outcome(answer) == "accepted", issue_codes(answer)
        found = reference(answer)
        assert found is not None
        return found

    def send_batch(self, batch: BatchSpec, today: date) -> tuple[str, dict[str, Any]]:
        """Publish the batch's invoices, then the batch; its final answer."""
        self.simulator.set_today(today)
        dossier = f"{self.tag}-invoices-{batch.number}"
        bodies = []
        for spec in batch.invoices:
            sequence = self._next(dossier)
            document = invoice_event(batch, spec)
            bodies.append(placed(document, f"{dossier}-{sequence}", dossier, sequence))
        invoice_ids = self.adapter.send(*bodies)
        closing = f"{self.tag}-batches-{batch.care_fund}"
        sequence = self._next(closing)
        body = placed(batch_event(batch, invoice_ids), f"{closing}-{sequence}", closing, sequence)
        [sent] = self.adapter.send(body)
        return sent, self.adapter.answers([sent], timeout=60)[sent][-1]


BillingWith = Callable[..., Billing]


@pytest.fixture
def billing_with(
    pki: DevPki,
    broker_names: dict[str, str],
    simulator: Simulator,
    sqlite_url: str,
) -> Iterator[BillingWith]:
    """Billing through a daemon with some settings of its own (``delivery=``, ``central=``:
    the fields to change in that section)."""
    started: list[tuple[Daemon, ConfirmedPublisher, AnswerWatcher]] = []

    def build(**sections: dict[str, Any]) -> Billing:
        settings = make_settings(sqlite_url, broker_names, simulator, pki)
        changes = {
            name: dataclasses.replace(getattr(settings, name), **fields)
            for name, fields in sections.items()
        }
        settings = dataclasses.replace(settings, **changes)
        daemon = Daemon(settings)
        address = broker_address(settings)
        watcher = AnswerWatcher(address, settings.broker.answers_exchange).__enter__()
        daemon.start()
        publisher = ConfirmedPublisher(address)
        started.append((daemon, publisher, watcher))
        return Billing(Harness(settings, daemon, watcher, publisher), simulator)

    yield build
    for daemon, publisher, watcher in started:
        publisher.close()
        watcher.__exit__(None, None, None)
        daemon.stop()


@pytest.fixture
def billing(
    start_adapter: Callable[..., Harness], sqlite_url: str, simulator: Simulator
) -> Billing:
    """A daemon on a fresh store, billing to its simulator."""
    return Billing(start_adapter(sqlite_url), simulator)


def per_invoice(answer: dict[str, Any]) -> dict[str, InvoiceAnswer]:
    found = invoice_answers(answer)
    assert found, f"no invoice in the answer: {issue_codes(answer)}"
    return found


JAN = date(2026, 1, 1)
MARCH_10 = date(2026, 3, 10)


def march(number: str, *invoices: InvoiceSpec, fund: str = "180") -> BatchSpec:
    return BatchSpec(number, fund, "2026-03", MARCH_10, invoices=list(invoices))


class TestLevels:
    """F errors reject their invoice, R errors their line, a B error the whole batch."""

    def test_f_and_r_reject_only_their_invoice_and_line(self, billing: Billing) -> None:
        """An F fault refuses invoice 2, an R fault line 3 of invoice 1; the rest is accepted."""
        insz = billing.person()
        ref = billing.application(insz, JAN)
        billing.simulator.set_invoice_faults(
            [
                {"invoice": f"{billing.tag}-1", "line": 3, "code": "X-R", "level": "R"},
                {"invoice": f"{billing.tag}-2", "code": "X-F", "level": "F"},
            ]
        )
        batch = march(
            "1",
            InvoiceSpec(f"{billing.tag}-1", insz, ref, days(date(2026, 3, 2), 2)),
            InvoiceSpec(f"{billing.tag}-2", insz, ref, days(date(2026, 2, 2), 1)),
            InvoiceSpec(f"{billing.tag}-3", insz, ref, days(JAN + timedelta(days=5), 20)),
        )
        _, answer = billing.send_batch(batch, MARCH_10)
        assert outcome(answer) == "accepted"
        found = per_invoice(answer)
        assert found[f"{billing.tag}-1"].status == "accepted"
        assert found[f"{billing.tag}-1"].refused_lines == (3, 4)  # the share goes with it
        assert ("X-R", "R") in found[f"{billing.tag}-1"].errors
        assert found[f"{billing.tag}-2"].status == "refused"
        assert ("X-F", "F") in found[f"{billing.tag}-2"].errors
        assert found[f"{billing.tag}-3"] == InvoiceAnswer("accepted", (), ())

    def test_a_b_error_alone_refuses_the_batch(self, billing: Billing) -> None:
        """One B fault and nothing else wrong: every invoice refused, 920099."""
        insz = billing.person()
        ref = billing.application(insz, JAN)
        billing.simulator.set_invoice_faults(
            [{"invoice": f"{billing.tag}-1", "code": "X-B", "level": "B"}]
        )
        batch = march(
            "1",
            InvoiceSpec(f"{billing.tag}-1", insz, ref, days(date(2026, 3, 2), 2)),
            InvoiceSpec(f"{billing.tag}-2", insz, ref, days(date(2026, 2, 2), 2)),
        )
        _, answer = billing.send_batch(batch, MARCH_10)
        assert outcome(answer) == "refused"
        found = per_invoice(answer)
        assert {a.status for a in found.values()} == {"refused"}
        assert all(("X-B", "B") in a.errors for a in found.values())


@pytest.mark.parametrize(("faults", "expected"), [(4, "accepted"), (5, "refused")])
def test_the_five_percent_rule_at_its_boundary(
    billing: Billing, faults: int, expected: str
) -> None:
    """100 lines: 4 R errors (4 %) leave the batch accepted, 5 (5 %) refuse it whole."""
    insz = billing.person()
    ref = billing.application(insz, JAN)
    number = f"{billing.tag}-1"
    billing.simulator.set_invoice_faults(
        [{"invoice": number, "line": 1 + 2 * n, "code": "X-R", "level": "R"} for n in range(faults)]
    )
    batch = march("1", InvoiceSpec(number, insz, ref, days(JAN, 50)))
    _, answer = billing.send_batch(batch, MARCH_10)
    assert outcome(answer) == expected
    found = per_invoice(answer)[number]
    if expected == "accepted":
        assert found.refused_lines == tuple(range(1, 2 * faults + 1))
    else:
        assert found.status == "refused"
        assert ("VSB-INV-FIVE-PERCENT", "B") in found.errors


class TestMonths:
    """One batch per care fund and month; a batch refused whole is resent under its number."""

    def test_a_second_batch_for_the_month_is_refused(self, billing: Billing) -> None:
        """The adapter refuses it before sending, naming the first batch."""
        insz = billing.person()
        ref = billing.application(insz, JAN)
        first = march("1", InvoiceSpec(f"{billing.tag}-1", insz, ref, days(date(2026, 3, 2), 1)))
        assert outcome(billing.send_batch(first, MARCH_10)[1]) == "accepted"
        second = march("2", InvoiceSpec(f"{billing.tag}-2", insz, ref, days(date(2026, 3, 3), 1)))
        _, answer = billing.send_batch(second, MARCH_10)
        assert outcome(answer) == "refused"
        assert "invoice-month-taken" in issue_codes(answer)
        [response] = [e["resource"] for e in answer["entry"][1:]]
        assert response["disposition"].startswith("Refused by the adapter before sending")
        calls = [c for c in billing.simulator.record() if c.kind == "InvoiceBatch"]
        assert len(calls) == 1, "the second batch must never reach the central application"

    def test_the_corrected_resend_keeps_its_number(self, billing: Billing) -> None:
        """Refused whole, corrected and resent as B1 with the same type and date: accepted."""
        insz = billing.person()
        ref = billing.application(insz, JAN)
        billing.simulator.set_invoice_faults(
            [{"invoice": f"{billing.tag}-1", "code": "X-B", "level": "B"}]
        )
        refused = march("1", InvoiceSpec(f"{billing.tag}-1", insz, ref, days(date(2026, 3, 2), 1)))
        assert outcome(billing.send_batch(refused, MARCH_10)[1]) == "refused"
        billing.simulator.set_invoice_faults([])
        corrected = march(
            "1", InvoiceSpec(f"{billing.tag}-1b", insz, ref, days(date(2026, 3, 2), 1))
        )
        _, answer = billing.send_batch(corrected, MARCH_10)
        assert outcome(answer) == "accepted"
        assert per_invoice(answer)[f"{billing.tag}-1b"].status == "accepted"


class TestCredits:
    """Credit notes only for accepted lines; a correction waits for its credit note."""

    def test_a_credit_note_for_a_never_accepted_line_is_refused(self, billing: Billing) -> None:
        """The adapter refuses the credit note (no such accepted line), the rest goes."""
        insz = billing.person()
        ref = billing.application(insz, JAN)
        note = InvoiceSpec(
            f"{billing.tag}-C1",
            insz,
            ref,
            [Day(date(2026, 3, 2), credits=(f"{billing.tag}-never", 1))],
            kind="credit-note",
        )
        batch = march("1", note, InvoiceSpec(f"{billing.tag}-1", insz, ref, days(JAN, 2)))
        _, answer = billing.send_batch(batch, MARCH_10)
        found = per_invoice(answer)
        assert found[f"{billing.tag}-C1"].status == "refused-by-adapter"
        assert found[f"{billing.tag}-C1"].errors[0][0] == "invoice-credit-unknown-line"
        assert found[f"{billing.tag}-1"].status == "accepted"

    def test_a_correction_is_held_until_its_credit_note_is_accepted(self, billing: Billing) -> None:
        """January: F1. February: its credit note goes, the correction F2 is held. March:
        F2 goes with the March batch by itself, and is accepted."""
        insz = billing.person()
        ref = billing.application(insz, JAN)
        t = billing.tag
        first = BatchSpec(
            "1",
            "180",
            "2026-01",
            date(2026, 1, 31),
            invoices=[InvoiceSpec(f"{t}-F1", insz, ref, days(date(2026, 1, 5), 1))],
        )
        assert per_invoice(billing.send_batch(first, date(2026, 1, 31))[1])[f"{t}-F1"].status == (
            "accepted"
        )
        note = InvoiceSpec(
            f"{t}-C1",
            insz,
            ref,
            [Day(date(2026, 1, 5), credits=(f"{t}-F1", 1))],
            kind="credit-note",
        )
        fix = InvoiceSpec(f"{t}-F2", insz, ref, days(date(2026, 1, 5), 1), corrects=f"{t}-F1")
        second = BatchSpec("2", "180", "2026-02", date(2026, 2, 28), invoices=[note, fix])
        found = per_invoice(billing.send_batch(second, date(2026, 2, 28))[1])
        assert found[f"{t}-C1"].status == "accepted"
        assert found[f"{t}-F2"].status == "held"
        assert found[f"{t}-F2"].errors[0][0] == "invoice-correction-held"
        daemon = billing.adapter.daemon
        report = SupportDesk(daemon.store, daemon.facility, SystemClock()).invoice_batch("2")
        assert (report.batch.state.value, report.invoices) == ("accepted", 1)
        assert report.lines_by_outcome == {"accepted": 2}  # the credit note's two lines
        assert len(report.held) == 1, "support sees the held correction"
        third = march("3", InvoiceSpec(f"{t}-F3", insz, ref, days(date(2026, 3, 2), 1)))
        found = per_invoice(billing.send_batch(third, MARCH_10)[1])
        assert found[f"{t}-F3"].status == "accepted"
        assert found[f"{t}-F2"].status == "accepted", "the held correction went with March"


class TestStatus:
    """An invoice goes to the care fund of the person's last relayed insurance status."""

    def test_another_fund_or_no_status_is_refused_by_the_adapter(self, billing: Billing) -> None:
        """Fund 280's person in a 180 batch, and a person never looked up: both refused."""
        other = billing.person("280")
        unknown = billing.person(look_up=False)
        known = billing.person()
        ref_other = billing.application(other, JAN)
        ref_unknown = billing.application(unknown, JAN)
        ref = billing.application(known, JAN)
        t = billing.tag
        batch = march(
            "1",
            InvoiceSpec(f"{t}-1", other, ref_other, days(date(2026, 3, 2), 1)),
            InvoiceSpec(f"{t}-2", unknown, ref_unknown, days(date(2026, 3, 2), 1)),
            InvoiceSpec(f"{t}-3", known, ref, days(date(2026, 3, 2), 1)),
        )
        found = per_invoice(billing.send_batch(batch, MARCH_10)[1])
        assert found[f"{t}-1"].status == "refused-by-adapter"
        assert found[f"{t}-1"].errors[0][0] == "invoice-care-fund"
        assert found[f"{t}-2"].errors[0][0] == "invoice-status-unknown"
        assert found[f"{t}-3"].status == "accepted"


def test_a_diagnosis_quota_is_reached_by_invoiced_sessions(billing: Billing) -> None:
    """An adult's diagnosis allows 16 sessions: of 18 days invoiced, the 17th and 18th are
    refused (R, VSB-REVA-QUOTA) and the application has used 16."""
    insz = billing.person()
    ref = billing.application(insz, date(2026, 3, 1), request_type="diagnosis")
    padding_person = billing.person()
    padding = billing.application(padding_person, JAN)
    t = billing.tag
    batch = BatchSpec(
        "1",
        "180",
        "2026-03",
        date(2026, 3, 31),
        invoices=[
            InvoiceSpec(f"{t}-1", insz, ref, days(date(2026, 3, 1), 18)),
            # Another user's 40 days beside them: 2 errors on 116 lines stay under 5 %.
            InvoiceSpec(f"{t}-2", padding_person, padding, days(JAN, 40)),
        ],
    )
    _, answer = billing.send_batch(batch, date(2026, 3, 31))
    found = per_invoice(answer)[f"{t}-1"]
    assert found.status == "accepted"
    assert found.refused_lines == (33, 34, 35, 36)
    assert [code for code, _ in found.errors] == ["VSB-REVA-QUOTA"] * 2
    assert billing.simulator.history(ref)["sessions"]["used"] == 16


def test_a_batch_given_up_by_support_frees_its_month(billing_with: BillingWith) -> None:
    """The central application fails the batch's every try: a dead letter. Support discards
    it; a new batch for the same fund and month, listing the same invoices, is accepted."""
    billing = billing_with(delivery={"max_attempts": 2, "quick_tries": 1})
    insz = billing.person()
    ref = billing.application(insz, JAN)
    billing.simulator.set_today(MARCH_10)
    billing.simulator.set_faults("http500", next=100)
    first = march("1", InvoiceSpec(f"{billing.tag}-1", insz, ref, days(date(2026, 3, 2), 1)))
    dossier = f"{billing.tag}-invoices"
    [invoice_id] = billing.adapter.send(
        placed(invoice_event(first, first.invoices[0]), f"{dossier}-1", dossier, 1)
    )
    closing = f"{billing.tag}-batches-180"
    billing.adapter.send(placed(batch_event(first, [invoice_id]), f"{closing}-1", closing, 1))
    desk = SupportDesk(billing.adapter.daemon.store, billing.adapter.daemon.facility, SystemClock())
    deadline = time.monotonic() + 60
    while not (dead := desk.dead_letters()):
        assert time.monotonic() < deadline, "the batch never became a dead letter"
        time.sleep(0.2)
    billing.simulator.clear_faults()
    desk.discard(dead[0].message_id, "test", "the central application was down")
    again = march("1", first.invoices[0])  # its own number again: the month is free
    sequence = 2
    body = placed(batch_event(again, [invoice_id]), f"{closing}-{sequence}", closing, sequence)
    [sent] = billing.adapter.send(body)
    answer = billing.adapter.answers([sent], timeout=60)[sent][-1]
    assert outcome(answer) == "accepted", json.dumps(answer)[-1500:]
    assert per_invoice(answer)[f"{billing.tag}-1"].status == "accepted"


def test_a_batch_answered_while_its_submit_timed_out_is_resent_not_judged_again(
    billing_with: BillingWith,
) -> None:
    """The central application takes the batch in (and puts its content answer in the
    mailbox) but answers the Submit too late: the resend under the same message id gets the
    stored answer, and the EPD hears "accepted" once, never a refusal of its own invoices."""
    # The retry waits 2-4 s, the mailbox is polled every 0.2 s: the content answer is in
    # before the resend, as when a busy central application answers the Submit late.
    billing = billing_with(
        central={"batch_timeout_seconds": 1.0, "mailbox_poll_seconds": 0.2},
        delivery={"quick_tries": 1, "backoff_initial_seconds": 4.0, "backoff_max_seconds": 4.0},
    )
    insz = billing.person()
    ref = billing.application(insz, JAN)
    billing.simulator.set_faults("apply-then-timeout", next=1, stall_seconds=3)
    batch = march("1", InvoiceSpec(f"{billing.tag}-1", insz, ref, days(date(2026, 3, 2), 2)))
    sent, answer = billing.send_batch(batch, MARCH_10)
    assert outcome(answer) == "accepted", issue_codes(answer)
    support = Support(billing.adapter.daemon.store)
    deadline = time.monotonic() + 30
    while (views := support.dossier("care-fund:180"))[0].state.value != "done":
        assert time.monotonic() < deadline, f"the batch's message never ended: {views}"
        time.sleep(0.2)
    outcomes = [outcome(a) for a in billing.adapter.answers([sent], timeout=5)[sent]]
    assert "refused" not in outcomes
    assert outcomes.count("accepted") == 1
    submits = [c for c in billing.simulator.record() if c.kind == "InvoiceBatch"]
    assert len(submits) >= 2, "the Submit should have been resent"
    assert sum(1 for c in submits if not c.duplicate) == 1, "applied once"
