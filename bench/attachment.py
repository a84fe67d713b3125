"""Peak memory and time of each stage for one modification with a large attachment.

A ``reva-document`` with a PDF of ``--megabytes`` MiB (10 by default, the contract's maximum)
goes through the adapter's own code, stage by stage, in this process: decode the body,
validate it, store it (``Ingest``), claim it, build the VSB message, sign it, send it over
SOAP to the simulator (a child process, so its memory is not counted here) and record the
answer. Before each stage freed memory goes back to the system (``malloc_trim``; blocks of
128 KiB and more are mapped on their own, ``M_MMAP_THRESHOLD``, so a freed copy leaves the
resident set at once) and the peak resident set size is reset (``/proc/self/clear_refs``).
After it the script prints the stage's wall time, how far the peak rose above the resident
size at its start ("x body": in copies of the body as the broker delivers it), and what the
stage's result holds when the stage is over.

    .venv/bin/python -m bench.attachment [--megabytes 10] [--store sqlite|postgres]
"""

from __future__ import annotations

import argparse
import base64
import ctypes
import gc
import os
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from adapter.central import ZeepCentral
from adapter.clock import SystemClock
from adapter.engine.answers import from_central
from adapter.engine.breaker import CircuitBreaker
from adapter.engine.ingest import Ingest
from adapter.engine.sender import Sender
from adapter.settings import CentralSettings, DeliverySettings
from adapter.signing import Signer
from adapter.store import AnswerSource, Store, create_store_engine, migrate
from adapter.testing import memory_sealer
from bench.common import SimulatorProcess, StoreUnderTest, pki_in, say
from mappings import MESSAGE_TYPES, MessageContext, build_message, parse_answer, read_envelope
from mappings.model import Facility, Outcome
from monitoring import Metrics
from queues import Delivery
from tests.support import events

FACILITY = Facility("71012314001", "40012345")
T = TypeVar("T")


_LIBC = ctypes.CDLL("libc.so.6")
_M_MMAP_THRESHOLD = -3


def _release() -> None:
    """Collect garbage and give free heap memory back, so the resident set is what lives."""
    gc.collect()
    _LIBC.malloc_trim(0)


def _status(field: str) -> int:
    """A ``/proc/self/status`` figure in bytes (VmRSS, VmHWM)."""
    text = Path("/proc/self/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    assert match, field
    return int(match.group(1)) * 1024


class Stages:
    """Runs stages one after the other and keeps their figures."""

    def __init__(self, body_bytes: int) -> None:
        self.body_bytes = body_bytes
        self.rows: list[tuple[str, float, int, int]] = []

    def __call__(self, name: str, work: Callable[[], T]) -> T:
        _release()
        Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) starts again here
        start = _status("VmRSS")
        began = time.perf_counter()
        result = work()
        elapsed = time.perf_counter() - began
        peak = _status("VmHWM")
        _release()
        kept = _status("VmRSS") - start
        self.rows.append((name, elapsed, peak - start, kept))
        return result

    def report(self) -> str:
        mib = 1024 * 1024
        lines = [
            f"body: {self.body_bytes / mib:.1f} MiB as received from the broker",
            f"{'stage':34} {'wall ms':>9} {'peak rise MiB':>14} {'x body':>7} {'kept MiB':>9}",
        ]
        for name, elapsed, rise, kept in self.rows:
            lines.append(
                f"{name:34} {1000 * elapsed:9.0f} {rise / mib:14.1f}"
                f" {rise / self.body_bytes:7.2f} {kept / mib:9.1f}"
            )
        lines.append(
            f"process peak RSS: {_status('VmPeak') / mib:.0f} MiB virtual, "
            f"resident now {_status('VmRSS') / mib:.0f} MiB"
        )
        return "\n".join(lines)


def document_event(megabytes: float, dossier: str, sequence: int = 2) -> bytes:
    """A reva-document (number ``sequence`` of ``dossier``) with a PDF of ``megabytes`` MiB."""
    size = int(megabytes * 1024 * 1024)
    pdf = b"%PDF-1.7\n" + os.urandom(size - 9)
    event = events.example("15-reva-document")
    claim = next(e["resource"] for e in event["entry"] if e["resource"]["resourceType"] == "Claim")
    claim["supportingInfo"][0]["valueAttachment"]["data"] = base64.b64encode(pdf).decode()
    return events.placed(event, f"{dossier}-{sequence}", dossier, sequence)


def run(megabytes: float, store_kind: str, workdir: Path) -> str:
    """One application (to get a VSB reference), then the large document, stage by stage."""
    under_test = StoreUnderTest(store_kind, workdir, uuid.uuid4().hex[:8])
    pki = pki_in(workdir)
    simulator = SimulatorProcess(pki, workdir / "simulator.log").start()
    engine = create_store_engine(under_test.url, 4)
    try:
        migrate(engine)
        store, clock = Store(engine, sealer=memory_sealer()), SystemClock()
        signer = Signer.from_keystore(pki.keystore, pki.passphrase_file.read_bytes().strip())
        central = ZeepCentral(
            CentralSettings(
                url=simulator.url,
                ca_bundle=str(pki.ca_cert),
                timeout_seconds=120,
                answer_certificate=str(pki.central_cert),
            ),
            signer,
        )
        ingest = Ingest(store, FACILITY, clock, Metrics())
        dossier = f"att-{uuid.uuid4().hex[:6]}"
        lease = timedelta(seconds=600)

        def deliver(claim: Any, stages: Stages | None) -> None:
            step: Callable[[str, Callable[[], Any]], Any] = stages or (lambda _n, w: w())
            message_type = MESSAGE_TYPES[claim.event_code]
            reference = claim.application.vsb_reference if claim.application else None
            context = MessageContext(claim.message_id, clock.now(), FACILITY, reference)
            payload = claim.payload.encode()
            envelope = step("read the stored event", lambda: read_envelope(payload))
            message = step(
                "build the VSB message (+ XSD)", lambda: build_message(envelope, context)
            )
            signed = step("sign (XAdES)", lambda: signer.sign(message))
            answer_xml = step("send over SOAP, read the answer", lambda: central.submit(signed))
            answer = parse_answer(answer_xml)
            prepared = from_central(
                answer, message_type, event_id=claim.event_id, source=AnswerSource.SYNC
            )
            step(
                "record the answer",
                lambda: store.record_answer(claim, prepared, clock.now(), role=message_type.role),
            )
            assert answer.outcome.value == "accepted", answer

        application = events.application(f"{dossier}-1", dossier, 1)
        ingest([Delivery(application, False, f"{dossier}-1")])
        [first] = store.claim_due(clock.now(), "bench", lease, 1)
        deliver(first, None)

        body = document_event(megabytes, dossier)
        stages = Stages(len(body))
        stages("decode the body", lambda: read_envelope(body))
        stages("ingest (decode, validate, store)", lambda: ingest([Delivery(body, False, "d")]))
        [claim] = stages(
            "claim (read it back)", lambda: store.claim_due(clock.now(), "b", lease, 1)
        )
        deliver(claim, stages)

        # The same again in one go, as a sender thread of the daemon does it: what it holds at
        # once (the stored event, the message, the signed copy) is the figure per message in
        # flight.
        sender = Sender(
            store,
            central,
            signer,
            FACILITY,
            clock,
            Metrics(),
            CircuitBreaker(5, 30, clock),
            DeliverySettings(),
        )
        ingest([Delivery(document_event(megabytes, dossier, 3), False, "d3")])
        [claim] = store.claim_due(clock.now(), "b", lease, 1)
        stages("whole delivery (Sender.send)", lambda: sender.send(claim))
        outcomes = {a.event_id: a.outcome for a in store.unpublished_answers(100)}
        assert outcomes.get(claim.event_id) is Outcome.ACCEPTED, outcomes
        return stages.report()
    finally:
        engine.dispose()
        under_test.drop()
        simulator.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--megabytes", type=float, default=10.0)
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args(argv)
    _LIBC.mallopt(_M_MMAP_THRESHOLD, 128 * 1024)  # fixed: glibc would raise it up to 32 MiB
    with tempfile.TemporaryDirectory(prefix="vsb-attachment-") as tmp:
        say(f"a reva-document with a {args.megabytes} MiB PDF, store {args.store}")
        print(run(args.megabytes, args.store, Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
