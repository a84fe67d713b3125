"""Time and peak memory of writing, validating and signing one large invoice batch.

A batch of ``--days`` days (50,000 by default: 100,000 lines, each day's service with its
personal share), in invoices of 30 days, is written as a stream to a file
(``mappings.invoice_batch``), validated as a stream against vsb-1.0.xsd and signed with the
streamed XAdES signature (``adapter.streamed_signature``). ``--tree`` also runs the way every
other message goes (an lxml tree, validated, signed by signxml) for comparison, and
``--verify`` has the simulator's verifier check the streamed signature (the receiver's cost,
a tree). Stage figures as in ``bench.attachment``: wall time, peak rise, what stays.

``--send`` then takes the adapter's own path for a batch, as the sender does: the batch file
(``adapter.batch_file``: written, signed and validated in a 0600 file), its Submit envelope
streamed with the WS-Security header (``adapter.streamed_envelope``) and POSTed by
``ZeepCentral.submit_file`` over mutual TLS to a simulator in its own process (its parse,
checks and judgement are its own cost, inside the Submit's wall time, not in this process's
memory), the signed answer verified. The peak RSS printed is this process's: the adapter's
side.

    .venv/bin/python -m bench.invoice_batch [--days 50000] [--tree] [--verify] [--send]
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from lxml import etree

from adapter.batch_file import write_signed_batch
from adapter.central import ZeepCentral
from adapter.devpki import DevPki, create_dev_pki
from adapter.settings import CentralSettings
from adapter.signing import Signer
from adapter.streamed_signature import streamed_signature
from bench.attachment import FACILITY, Stages
from bench.common import SimulatorProcess
from mappings import vsb_schema
from mappings.invoice_batch import (
    CLOSING_TAG,
    ROOT,
    BatchHead,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    LineKind,
    validate_batch,
    write_batch,
)

DAYS_PER_INVOICE = 30


def invoices(days: int) -> Iterator[Invoice]:
    """``days`` days of REVA services with their personal shares, 30 days per invoice."""
    first = date(2026, 10, 1)
    for start in range(0, days, DAYS_PER_INVOICE):
        count = min(DAYS_PER_INVOICE, days - start)
        lines: list[InvoiceLine] = []
        for offset in range(count):
            day = first + timedelta(days=offset)
            number = 2 * offset + 1
            lines.append(InvoiceLine(number, LineKind.SERVICE, "771021", day, Decimal("98.76")))
            lines.append(
                InvoiceLine(
                    number + 1, LineKind.PERSONAL_SHARE, "779990", day, Decimal(0), for_line=number
                )
            )
        insz = f"{85073000000 + start // DAYS_PER_INVOICE:011d}"
        yield Invoice(
            f"INV-{start // DAYS_PER_INVOICE + 1}",
            InvoiceKind.INVOICE,
            insz,
            "VSB-2026-000001",
            tuple(lines),
        )


def _peak_rss() -> int:
    """This process's resident peak since the last reset (``Stages`` resets it per stage)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def send(
    stages: Stages, pki: DevPki, signer: Signer, head: BatchHead, days: int, workdir: Path
) -> list[str]:
    """The adapter's path: batch file, streamed envelope, Submit to a simulator process."""
    simulator = SimulatorProcess(pki, workdir / "simulator.log").start()
    try:
        central = ZeepCentral(
            CentralSettings(
                url=simulator.url,
                timeout_seconds=300,
                answer_certificate=str(pki.central_cert),
                ca_bundle=str(pki.ca_cert),
            ),
            signer,
        )
        stages("client: WSDL, TLS context", lambda: central.fetch_answers(FACILITY.nihdi, 1))
        peaks = [_peak_rss()]
        with contextlib.ExitStack() as stack:
            batch = stages(
                "batch file: write + sign + validate",
                lambda: stack.enter_context(
                    write_signed_batch(head, invoices(days), signer, workdir / "batches")
                ),
            )
            peaks.append(_peak_rss())
            cpu = time.process_time()
            answer = stages("envelope + POST + answer (TLS)", lambda: central.submit_file(batch))
            cpu = time.process_time() - cpu
            peaks.append(_peak_rss())
    finally:
        simulator.stop()
    code = answer.findtext(
        f"{{{vsb_schema.VSB_NS}}}InvoiceAcknowledgement/{{{vsb_schema.VSB_NS}}}Code"
    )
    mib = 1024 * 1024
    return [
        f"sent: {batch.size / mib:.1f} MiB batch file, technical answer {code}; this process's"
        f" CPU during the POST: {1000 * cpu:.0f} ms (the rest is the simulator's)",
        f"peak RSS of this process (the adapter's side) over the send: {max(peaks) / mib:.0f} MiB",
    ]


def run(days: int, tree: bool, verify: bool, workdir: Path, send_it: bool = False) -> str:
    """Run the stages; return the report."""
    pki = create_dev_pki(workdir / "pki", FACILITY.nihdi)
    signer = Signer.from_keystore(pki.keystore, pki.passphrase_file.read_bytes().strip())
    head = BatchHead(
        message_id="bench-batch",
        created_at=datetime.now(UTC),
        facility=FACILITY,
        batch_number="1",
        care_fund="180",
        invoice_type="reva",
        billing_month="2026-11",
        invoice_date=date(2026, 12, 1),
    )
    path = workdir / "batch.xml"
    stages = Stages(body_bytes=1)  # only its rows are used: no body here

    def write() -> bytes:
        with path.open("wb") as out:
            written = write_batch(out, head, invoices(days))
            signature = streamed_signature(
                signer,
                written.digest,
                vsb_schema.qname(ROOT),
                {"vsb": vsb_schema.VSB_NS},
                datetime.now(UTC),
            )
            out.write(signature)
            out.write(CLOSING_TAG)
        return written.digest

    stages("write + sign (stream)", write)
    stages("validate (stream)", lambda: validate_batch(str(path)))
    size = path.stat().st_size
    if verify:
        from simulator.signature import TrustStore

        trust = TrustStore([signer.certificate])
        stages("simulator: parse + verify", lambda: trust.verify(etree.parse(str(path)).getroot()))
    if tree:

        def as_tree() -> None:
            root = etree.parse(str(path)).getroot()
            root.remove(root[-1])  # the streamed signature
            vsb_schema.validate_xml(root)
            signer.sign(root)

        stages("tree: parse + validate + signxml", as_tree)
    sent = send(stages, pki, signer, head, days, workdir) if send_it else []
    mib = 1024 * 1024
    report = [
        f"batch: {days} days, {2 * days} lines, {size / mib:.1f} MiB of XML",
        f"{'stage':34} {'wall ms':>9} {'peak rise MiB':>14} {'kept MiB':>9}",
    ]
    report.extend(
        f"{name:34} {1000 * elapsed:9.0f} {rise / mib:14.1f} {kept / mib:9.1f}"
        for name, elapsed, rise, kept in stages.rows
    )
    return "\n".join(report + sent)


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=50_000)
    parser.add_argument("--tree", action="store_true")
    parser.add_argument("--verify", action="store_true")
    parser.add_argument("--send", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vsb-bench-") as folder:
        print(run(args.days, args.tree, args.verify, Path(folder), args.send))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
