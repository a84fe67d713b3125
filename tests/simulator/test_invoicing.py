"""Invoice batches through the simulator's SOAP endpoint (signed, over HTTP): the technical
stage, the content stage with its F, R and B errors and the 5 % rule, the ledger (credit
notes, corrections, duplicates), session quotas fed by invoiced lines, configured faults
and poison beside valid traffic."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import requests

from simulator import Simulator
from simulator.rules import codes

from .builders_invoice import (
    PVT_DAY,
    PVT_SHARE,
    Batch,
    Exchange,
    Inv,
    Line,
    day_lines,
    send,
)
from .builders_pvt import migration_file
from .conftest import AFFILIATED, NS, SoapClient, admin, reva_application, status_request
from .scenario import MINOR, Signer

# MINOR (born 2010-05-15, not listed) is derived as affiliated with fund 480.
PADDING_USER = "90010102596"
"""Not in population.json: affiliated with fund 180 (derived from the number)."""


def _pin(simulator: Simulator, day: str) -> None:
    admin(simulator, "POST", "today", {"date": day})


def open_reva(
    simulator: Simulator,
    client: SoapClient,
    sign: Signer,
    start: str = "2026-03-01",
    request_type: str = "new",
    end: str | None = None,
    insz: str = AFFILIATED,
) -> str:
    """An accepted REVA application from ``start`` (sent that day); its reference."""
    _pin(simulator, start)
    year = int(start[:4])
    last = end or f"{year + 3}-{start[5:]}"
    element = reva_application(
        insz,
        dossier=f"D-{insz}",
        request_type=request_type,
        start=start,
        end=last,
        request_date=start,
    )
    reply = client.submit(sign(element))
    assert reply.text("v:Outcome") == "accepted", reply.text("v:Error/v:Code")
    return reply.text("v:VsbReference") or ""


def open_pvt(simulator: Simulator, client: SoapClient, sign: Signer) -> str:
    """An accepted PVT migration file granted 2023-04-01 .. 2024-05-31; its reference."""
    reply = client.submit(sign(migration_file()))
    assert reply.text("v:Outcome") == "accepted"
    return reply.text("v:VsbReference") or ""


@pytest.fixture
def sim(fresh_simulator: Simulator) -> Simulator:
    """The module's simulator, as new."""
    return fresh_simulator


@pytest.fixture
def client(sim: Simulator) -> SoapClient:
    """A SOAP client for it."""
    return SoapClient(sim.url)


@dataclass(frozen=True)
class DayRow:
    """One line's day judged on a pinned today."""

    id: str
    invoice_type: str
    day: str
    today: str
    refused_with: str | None


DAY_ROWS = [
    DayRow("two years: the day of", "reva", "2024-03-10", "2026-03-10", None),
    DayRow("two years: the day after", "reva", "2024-03-09", "2026-03-10", codes.LINE_TOO_OLD),
    DayRow("two years from 29/2: on 28/2", "reva", "2024-02-29", "2026-02-28", None),
    DayRow("two years from 29/2: on 1/3", "reva", "2024-02-29", "2026-03-01", codes.LINE_TOO_OLD),
    DayRow("today", "reva", "2026-03-10", "2026-03-10", None),
    DayRow("tomorrow", "reva", "2026-03-11", "2026-03-10", codes.LINE_FUTURE),
    DayRow("REVA 31/10/2023", "reva", "2023-10-31", "2023-12-01", codes.LINE_REVA_BEFORE),
    DayRow("REVA 1/11/2023", "reva", "2023-11-01", "2023-12-01", None),
    DayRow("PVT 31/3/2023", "pvt", "2023-03-31", "2024-05-01", codes.LINE_PVT_VI),
    DayRow("PVT 1/4/2023", "pvt", "2023-04-01", "2024-05-01", None),
]


class TestDays:
    """Each line's day against the two-year rule, today, and the switch-over dates."""

    @pytest.mark.parametrize("row", DAY_ROWS, ids=lambda row: row.id)
    def test_the_day(self, sim: Simulator, client: SoapClient, signed: Signer, row: DayRow) -> None:
        """The line is accepted, or refused R with the row's code (its share with it)."""
        if row.invoice_type == "pvt":
            reference = open_pvt(sim, client, signed)
            lines = day_lines([row.day], code=PVT_DAY, share=PVT_SHARE)
        else:
            reference = open_reva(sim, client, signed, start="2023-10-01", end="2028-09-30")
            lines = day_lines([row.day])
        _pin(sim, row.today)
        # 22 good lines beside the row's two: one R error stays under 5 %.
        today = dt.date.fromisoformat(row.today)
        padding = [(today - dt.timedelta(days=n)).isoformat() for n in range(1, 12)]
        pad_code = (PVT_DAY, PVT_SHARE) if row.invoice_type == "pvt" else ("771021", "779990")
        invoices = [
            Inv("F-1", reference, lines),
            Inv("F-2", reference, day_lines(padding, code=pad_code[0], share=pad_code[1])),
        ]
        batch = Batch("1", invoices, row.invoice_type, row.today[:7], row.today)
        exchange = send(client, signed, batch)
        assert exchange.code(exchange.technical.answer) == "931000"
        assert exchange.outcome == "accepted", exchange.errors
        if row.refused_with is None:
            assert exchange.invoice("F-1") == ("accepted", [])
        else:
            assert exchange.errors == [(row.refused_with, "R", "Invoice[F-1]/Line[1]")]
            assert exchange.invoice("F-1") == ("accepted", [1, 2])


def _faults(sim: Simulator, faults: list[dict[str, object]]) -> None:
    admin(sim, "POST", "invoice-faults", {"faults": faults})


class TestFivePercent:
    """F and R errors on 5 % or more of the lines refuse the batch as a whole."""

    @pytest.mark.parametrize(("errors", "code"), [(4, "931000"), (5, "920099")])
    def test_the_boundary(
        self, sim: Simulator, client: SoapClient, signed: Signer, errors: int, code: str
    ) -> None:
        """100 lines: 4 line faults leave it accepted, 5 refuse it (VSB-INV-FIVE-PERCENT)."""
        reference = open_reva(sim, client, signed, start="2026-01-01")
        _pin(sim, "2026-03-10")
        days = [(dt.date(2026, 1, 1) + dt.timedelta(days=n)).isoformat() for n in range(50)]
        _faults(
            sim,
            [
                {"invoice": "F-1", "line": 1 + 2 * n, "code": "X-TEST", "level": "R"}
                for n in range(errors)
            ],
        )
        exchange = send(client, signed, Batch("7", [Inv("F-1", reference, day_lines(days))]))
        assert (exchange.code(), exchange.count("Lines")) == (code, 100)
        assert exchange.count("NonBlockingErrors") == errors
        if errors == 5:
            assert exchange.outcome == "refused"
            assert exchange.errors[0] == (codes.INVOICE_FIVE_PERCENT, "B", None)
            assert exchange.content is not None
            assert exchange.content.find("v:InvoiceAcknowledgement/v:Invoice", NS) is None
            assert admin(sim, "GET", "batches")["batches"][0]["state"] == "refused"
        else:
            assert exchange.invoice("F-1") == ("accepted", [1, 2, 3, 4, 5, 6, 7, 8])


class TestLevels:
    """B refuses the batch, F only its invoice, R only its line."""

    def test_a_b_error_alone(self, sim: Simulator, client: SoapClient, signed: Signer) -> None:
        """A billing month after this month refuses a batch with no other error."""
        reference = open_reva(sim, client, signed)
        _pin(sim, "2026-03-10")
        batch = Batch("1", [Inv("F-1", reference, day_lines(["2026-03-02"]))], month="2026-04")
        exchange = send(client, signed, batch)
        assert (exchange.outcome, exchange.code()) == ("refused", "920099")
        assert exchange.errors == [(codes.INVOICE_MONTH, "B", None)]
        with pytest.raises(requests.HTTPError):
            admin(sim, "GET", "invoices/F-1")

    def test_f_and_r(self, sim: Simulator, client: SoapClient, signed: Signer) -> None:
        """An unknown reference refuses one invoice, a bad code one line; the rest is kept."""
        reference = open_reva(sim, client, signed, start="2026-01-01")
        _pin(sim, "2026-03-10")
        lines = day_lines(["2026-03-02", "2026-03-03"])
        lines[2] = Line(3, "2026-03-03", code="123456")
        # 46 lines: 2 errors stay under 5 %.
        good = [(dt.date(2026, 1, 10) + dt.timedelta(days=n)).isoformat() for n in range(20)]
        invoices = [
            Inv("F-1", reference, lines),
            Inv("F-2", "VSB-2026-999999", day_lines(["2026-03-02"])),
            Inv("F-3", reference, day_lines(good)),
        ]
        exchange = send(client, signed, Batch("1", invoices))
        assert (exchange.outcome, exchange.code()) == ("accepted", "931000")
        assert exchange.errors == [
            (codes.LINE_SERVICE_CODE, "R", "Invoice[F-1]/Line[3]"),
            (codes.INVOICE_NO_GRANT, "F", "Invoice[F-2]"),
        ]
        assert exchange.invoice("F-1") == ("accepted", [3, 4])
        assert exchange.invoice("F-2") == ("refused", [])
        shown = admin(sim, "GET", "invoices/F-1")
        assert [line["line"] for line in shown["lines"]] == [1, 2]
        assert shown["insz"] == "*********28"


class TestBatches:
    """One batch per care fund and month; the resend of a batch refused as a whole."""

    def test_second_batch_for_the_month(
        self, sim: Simulator, client: SoapClient, signed: Signer
    ) -> None:
        """A second batch for the same fund and month is refused 920999, nothing kept."""
        reference = open_reva(sim, client, signed)
        _pin(sim, "2026-03-10")
        first = send(client, signed, Batch("1", [Inv("F-1", reference, day_lines(["2026-03-02"]))]))
        assert first.outcome == "accepted"
        second = send(
            client, signed, Batch("2", [Inv("F-2", reference, day_lines(["2026-03-03"]))])
        )
        answer = second.technical.answer
        assert (second.technical.text("v:Outcome"), second.code(answer)) == ("refused", "920999")
        assert second.technical.text("v:Error/v:Code") == codes.INVOICE_MONTH_TAKEN
        assert second.technical.text("v:Error/v:Level") == "B"
        again = send(client, signed, Batch("1", [Inv("F-3", reference, day_lines(["2026-03-04"]))]))
        assert again.technical.text("v:Error/v:Code") == codes.INVOICE_BATCH_NUMBER

    def test_resend(self, sim: Simulator, client: SoapClient, signed: Signer) -> None:
        """Refused as a whole, resent under its number: a changed invoice date is refused,
        the same head fields accepted."""
        reference = open_reva(sim, client, signed)
        _pin(sim, "2026-03-10")
        _faults(sim, [{"invoice": "F-1", "code": "X-BLOCK", "level": "B"}])
        invoice = Inv("F-1", reference, day_lines(["2026-03-02"]))
        assert send(client, signed, Batch("5", [invoice])).code() == "920099"
        _faults(sim, [])
        changed = send(client, signed, Batch("5", [invoice], invoice_date="2026-03-09"))
        assert changed.technical.text("v:Error/v:Code") == codes.INVOICE_RESEND_CHANGED
        resent = send(client, signed, Batch("5", [invoice]))
        assert (resent.outcome, resent.code()) == ("accepted", "931000")
        (batch,) = admin(sim, "GET", "batches")["batches"]
        assert (batch["number"], batch["state"], batch["billing_month"]) == (
            "5",
            "accepted",
            "2026-03",
        )


class TestCredits:
    """Credit notes cancel lines accepted before; a correction follows in a later batch."""

    def test_a_credit_for_a_never_accepted_line(
        self, sim: Simulator, client: SoapClient, signed: Signer
    ) -> None:
        """A credit-note line naming no accepted line is refused VSB-INV-CREDIT-UNKNOWN."""
        reference = open_reva(sim, client, signed)
        _pin(sim, "2026-03-10")
        lines = [
            Line(1, "2026-03-02", credits=("F-0", 1)),
            Line(2, "2026-03-02", "personal-share", "779990", "0.00", for_line=1),
        ]
        note = Inv("C-1", reference, lines, kind="credit-note")
        exchange = send(client, signed, Batch("1", [note]))
        assert (codes.LINE_CREDIT_UNKNOWN, "R", "Invoice[C-1]/Line[1]") in exchange.errors

    def test_correction_order(self, sim: Simulator, client: SoapClient, signed: Signer) -> None:
        """The correcting invoice is refused beside its credit note, accepted a batch later."""
        reference = open_reva(sim, client, signed, start="2026-01-01")
        _pin(sim, "2026-03-10")
        first = send(
            client,
            signed,
            Batch("1", [Inv("F-1", reference, day_lines(["2026-01-05"]))], month="2026-01"),
        )
        assert first.invoice("F-1") == ("accepted", [])
        lines = [
            Line(1, "2026-01-05", credits=("F-1", 1)),
            Line(2, "2026-01-05", "personal-share", "779990", "0.00", for_line=1),
        ]
        note = Inv("C-1", reference, lines, kind="credit-note")
        fix = Inv("F-2", reference, day_lines(["2026-01-05"]), corrects="F-1")
        second = send(client, signed, Batch("2", [note, fix], month="2026-02"))
        assert second.code() == "920099"  # 1 F error on 4 lines: past 5 %
        assert (codes.INVOICE_CORRECTION_EARLY, "F", "Invoice[F-2]") in second.errors
        alone = send(client, signed, Batch("3", [note], month="2026-02"))
        assert alone.invoice("C-1") == ("accepted", [])
        assert admin(sim, "GET", "invoices/F-1")["lines"][0]["state"] == "credited"
        later = send(client, signed, Batch("4", [fix], month="2026-03"))
        assert later.invoice("F-2") == ("accepted", [])


class TestQuota:
    """Accepted REVA service lines are sessions: the diagnosis quota is judged on them."""

    def test_diagnosis_16(self, sim: Simulator, client: SoapClient, signed: Signer) -> None:
        """An adult's diagnosis: 18 days invoiced, the 17th and 18th refused VSB-REVA-QUOTA."""
        reference = open_reva(sim, client, signed, request_type="diagnosis", end="2029-02-28")
        _pin(sim, "2026-03-31")
        days = [(dt.date(2026, 3, 1) + dt.timedelta(days=n)).isoformat() for n in range(18)]
        # Another user's 40 days beside them: 2 errors on 116 lines stay under 5 %.
        other = open_reva(sim, client, signed, start="2026-01-01", insz=PADDING_USER)
        _pin(sim, "2026-03-31")
        padding = [(dt.date(2026, 1, 1) + dt.timedelta(days=n)).isoformat() for n in range(40)]
        invoices = [
            Inv("F-1", reference, day_lines(days)),
            Inv("F-2", other, day_lines(padding), insz=PADDING_USER),
        ]
        exchange = send(client, signed, Batch("1", invoices))
        assert exchange.outcome == "accepted", exchange.errors
        assert exchange.errors == [
            (codes.QUOTA_USED, "R", "Invoice[F-1]/Line[33]"),
            (codes.QUOTA_USED, "R", "Invoice[F-1]/Line[35]"),
        ]
        assert exchange.invoice("F-1") == ("accepted", [33, 34, 35, 36])
        history = admin(sim, "GET", f"applications/{reference}")
        assert history["sessions"]["used"] == 16

    def test_diagnosis_32(self, sim: Simulator, client: SoapClient, signed: Signer) -> None:
        """A minor's diagnosis: 34 days invoiced, the 33rd and 34th refused VSB-REVA-QUOTA."""
        reference = open_reva(
            sim, client, signed, request_type="diagnosis", end="2029-02-28", insz=MINOR
        )
        _pin(sim, "2026-04-30")
        days = [(dt.date(2026, 3, 1) + dt.timedelta(days=n)).isoformat() for n in range(34)]
        invoice = Inv("F-1", reference, day_lines(days), insz=MINOR)
        batch = Batch("1", [invoice], month="2026-04", invoice_date="2026-04-30", care_fund="480")
        exchange = send(client, signed, batch)
        assert exchange.invoice("F-1") == ("accepted", [65, 66, 67, 68])
        assert [e[0] for e in exchange.errors] == [codes.QUOTA_USED] * 2
        assert admin(sim, "GET", f"applications/{reference}")["sessions"]["used"] == 32


class TestFaultsApi:
    """Invoice faults are configured, listed, checked and cleared by reset."""

    def test_configure_and_reset(self, sim: Simulator) -> None:
        """A line fault must be R; a bad body is a 400; reset clears the list."""
        _faults(sim, [{"invoice": "F-1", "line": 3, "code": "X", "level": "R", "text": "t"}])
        assert admin(sim, "GET", "invoice-faults")["faults"][0]["line"] == 3
        for bad in (
            {"faults": "x"},
            {"faults": [{"invoice": "F-1", "line": 3, "code": "X", "level": "F"}]},
        ):
            response = requests.post(sim.admin_url + "invoice-faults", json=bad, timeout=10)
            assert response.status_code == 400
        admin(sim, "POST", "reset")
        assert admin(sim, "GET", "invoice-faults")["faults"] == []


class TestPoison:
    """Hostile batches get a clean answer or a clean fault; the simulator stays alive."""

    @pytest.mark.parametrize(
        "line",
        [
            Line(10**30, "2026-03-02"),
            Line(1, "2026-03-02", amount="9" * 40 + ".99"),
            Line(1, "2026-03-02", "personal-share", "779990", "0.00", for_line=999),
        ],
        ids=["line number 10^30", "amount of 42 digits", "ForLine naming nothing"],
    )
    def test_poison(self, sim: Simulator, client: SoapClient, signed: Signer, line: Line) -> None:
        """Each is answered (refused lines or a soap:Client fault); a look-up still works."""
        reference = open_reva(sim, client, signed)
        _pin(sim, "2026-03-10")
        exchange = send(client, signed, Batch("1", [Inv("F-1", reference, [line])]))
        if exchange.technical.fault is not None:
            assert exchange.technical.fault[0].endswith("Client")
        else:
            assert exchange.content is not None
        reply = client.submit(signed(status_request()))
        assert reply.text("v:Outcome") == "accepted"

    def test_many_lines_in_one_invoice(
        self, sim: Simulator, client: SoapClient, signed: Signer
    ) -> None:
        """2,000 lines in one invoice are judged; the duplicates among them refused R."""
        reference = open_reva(sim, client, signed, start="2026-01-01")
        _pin(sim, "2026-03-10")
        lines = day_lines(["2026-01-02"] * 1000)
        exchange: Exchange = send(client, signed, Batch("1", [Inv("F-1", reference, lines)]))
        assert exchange.count("Lines") == 2000
        assert exchange.code() == "920099"


class TestScale:
    """A large batch goes through the SOAP endpoint in one piece."""

    def test_20000_lines(self, sim: Simulator, client: SoapClient, signed: Signer) -> None:
        """334 invoices of 30 days (20,040 lines, ~4 MB) on one application are judged."""
        reference = open_reva(sim, client, signed, start="2026-01-01")
        _pin(sim, "2026-03-10")
        days = [(dt.date(2026, 1, 1) + dt.timedelta(days=n)).isoformat() for n in range(30)]
        invoices = [Inv(f"F-{n}", reference, day_lines(days, code="771021")) for n in range(334)]
        exchange = send(client, signed, Batch("1", invoices), timeout=60)
        assert exchange.count("Lines") == 20040
        assert (
            exchange.code() == "920099"
        )  # one reference: every invoice after the first duplicates
