"""Time and peak memory of the simulator judging one large invoice batch, in-process.

Builds a PVT batch of ``--days`` days (50,000 by default: 100,000 lines, each stay day with
its personal share) in invoices of 30 days, one resident each (fund 180, an accepted
admission each), serialises it, then times the simulator's side: parse (the safe parser),
read (``simulator.invoice_messages``), judge (``simulator.rules.invoicing``) and the content
answer's XML. No SOAP, no signature: those are the transport's cost.

    .venv/bin/python -m bench.simulator_invoicing [--days 50000]
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import date, timedelta

from lxml import etree

from simulator.contract import safe_parser
from simulator.invoice_ledger import FacilityLedger
from simulator.invoice_messages import read_invoice_batch
from simulator.population import Population
from simulator.rules.invoicing import Grant, judge_content

VSB = "urn:vsb-adapter:vsb:1"
TODAY = date(2026, 3, 10)
FIRST_DAY = date(2026, 2, 1)


def _insz(seed: int) -> str:
    # A valid INSZ (born 1990, check digits computed) whose derived care fund is 180.
    serial = seed
    while True:
        base = (
            f"90{1 + serial // 99_000 % 12:02d}{1 + serial // 999 % 28:02d}{serial % 999 + 1:03d}"
        )
        insz = base + f"{97 - int(base) % 97:02d}"
        if int(insz) % 6 == 0:
            return insz
        serial += 1_000_003


def build(days: int) -> bytes:
    """The serialised batch."""
    root = etree.Element(f"{{{VSB}}}InvoiceBatch", nsmap={"vsb": VSB})

    def add(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
        child = etree.SubElement(parent, f"{{{VSB}}}{name}")
        child.text = text
        return child

    header = add(root, "Header")
    add(header, "MessageId", "bench-1")
    add(header, "CreatedAt", "2026-03-10T09:00:00+01:00")
    facility = add(header, "Facility")
    add(facility, "Nihdi", "71000019997")
    add(facility, "Hco", "12345678")
    for name, value in (
        ("BatchNumber", "1"),
        ("CareFund", "180"),
        ("InvoiceType", "pvt"),
        ("BillingMonth", "2026-02"),
        ("InvoiceDate", "2026-03-10"),
    ):
        add(root, name, value)
    for number in range((days + 29) // 30):
        invoice = add(root, "Invoice")
        add(invoice, "InvoiceNumber", f"F-{number}")
        add(invoice, "Kind", "invoice")
        add(invoice, "Insz", _insz(number))
        add(invoice, "VsbReference", f"VSB-2026-{number:06d}")
        for offset in range(min(30, days - 30 * number)):
            day = (FIRST_DAY + timedelta(days=offset % 28)).isoformat()
            for line_kind, code, amount, for_line in (
                ("service", "761011" if offset < 28 else "761012", "98.20", None),
                ("personal-share", "769990", "31.45", 2 * offset + 1),
            ):
                line = add(invoice, "Line")
                add(line, "LineNumber", str(2 * offset + (1 if for_line is None else 2)))
                add(line, "Kind", line_kind)
                add(line, "ServiceCode", code)
                add(line, "Date", day)
                add(line, "Amount", amount)
                if for_line is not None:
                    add(line, "ForLine", str(for_line))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Build, then time parse, read, judge and answer; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=50_000)
    days = parser.parse_args().days
    data = build(days)
    print(
        f"batch: {days} days, {len(data) / 1e6:.1f} MB, peak RSS after build {_rss_mib():.0f} MiB"
    )
    grant = Grant(date(2025, 1, 1), None)
    population = Population()
    start = time.perf_counter()
    root = etree.fromstring(data, safe_parser())
    parsed = time.perf_counter()
    batch = read_invoice_batch(root)
    read = time.perf_counter()
    judged = judge_content(
        batch, FacilityLedger(), TODAY, True, population.find, lambda _: grant, []
    )
    done = time.perf_counter()
    print(f"lines {judged.lines}, non-blocking errors {judged.non_blocking}")
    print(
        f"parse {parsed - start:.2f} s, read {read - parsed:.2f} s, judge {done - read:.2f} s,"
        f" total {done - start:.2f} s; peak RSS {_rss_mib():.0f} MiB"
    )


if __name__ == "__main__":
    main()
