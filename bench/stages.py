"""CPU cost of each of the adapter's own steps, measured in-process on one thread.

Where the bench says the adapter spends N ms of CPU per event, this says on which step:
the validation at ingest, each store transaction of the flow (ingest, due, claim, record the
answer, outbox read + mark), building + signing the message, and the bare pipeline's
equivalents. No broker, no SOAP (those are the same in the adapter and the bare pipeline).

    .venv/bin/python -m bench.stages [--store sqlite|postgres] [--events 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import event

from adapter.clock import SystemClock
from adapter.engine.answers import from_central
from adapter.engine.ingest import Ingest
from adapter.signing import Signer
from adapter.store import AnswerSource, Store, create_store_engine, migrate
from adapter.testing import memory_sealer
from bench.common import StoreUnderTest, make_event, pki_in
from mappings import MESSAGE_TYPES, build_message, read_envelope, validate_event
from mappings.model import CentralAnswer, Facility, MessageContext, Outcome
from monitoring import Metrics
from queues import Delivery

FACILITY = Facility("71012314001", "40012345")


class Timer:
    """CPU time, wall time and SQL statements of repeated calls of one step."""

    def __init__(self, engine: Any) -> None:
        self.cpu: dict[str, list[float]] = {}
        self.wall: dict[str, list[float]] = {}
        self.statements: dict[str, list[int]] = {}
        self._count = 0
        event.listen(engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, *_args: Any) -> None:
        self._count += 1

    def __call__(self, name: str, work: Callable[[], Any]) -> Any:
        before = self._count
        cpu, wall = time.thread_time(), time.perf_counter()
        result = work()
        self.cpu.setdefault(name, []).append(time.thread_time() - cpu)
        self.wall.setdefault(name, []).append(time.perf_counter() - wall)
        self.statements.setdefault(name, []).append(self._count - before)
        return result

    def report(self) -> str:
        lines = [f"{'step':44} {'cpu ms':>8} {'wall ms':>8} {'SQL statements':>15}"]
        for name in self.cpu:
            lines.append(
                f"{name:44} {1000 * statistics.median(self.cpu[name]):8.2f} "
                f"{1000 * statistics.median(self.wall[name]):8.2f} "
                f"{statistics.median(self.statements[name]):15g}"
            )
        lines.append("(medians; SQL statements include BEGIN/COMMIT issued as SQL)")
        return "\n".join(lines)


def run(store_kind: str, count: int, workdir: Path) -> str:
    """Push ``count`` events of distinct dossiers through every step; report medians."""
    under_test = StoreUnderTest(store_kind, workdir, uuid.uuid4().hex[:8])
    engine = create_store_engine(under_test.url, 10)
    try:
        migrate(engine)
        store = Store(engine, sealer=memory_sealer())
        pki = pki_in(workdir)
        signer = Signer.from_keystore(pki.keystore, pki.passphrase_file.read_bytes().strip())
        clock = SystemClock()
        ingest = Ingest(store, FACILITY, clock, Metrics())
        timer = Timer(engine)
        tag = f"s{uuid.uuid4().hex[:6]}"
        lease = timedelta(seconds=60)
        for n in range(count):
            event = make_event(tag, n, 1, "application")
            envelope = timer("read_envelope", lambda e=event: read_envelope(e.body))
            timer(
                "validate_event (jsonschema + rules)",
                lambda e=envelope: validate_event(e, FACILITY),
            )
            delivery = Delivery(event.body, False, event.event_id)
            timer("Ingest.__call__ (validate + Store.ingest)", lambda d=delivery: ingest([d]))
            now = clock.now()
            timer("Store.due(limit 64)", lambda now=now: store.due(now, 64))
            claims = timer(
                "Store.claim_due(limit 1)",
                lambda now=now: store.claim_due(now, "stages", lease, 1),
            )
            assert claims, "the stored event should be due"
            claim = claims[0]
            context = MessageContext(claim.message_id, clock.now(), FACILITY)
            message = timer(
                "build_message (map + XSD)",
                lambda c=context, k=claim: build_message(read_envelope(k.payload.encode()), c),
            )
            timer("Signer.sign (XAdES)", lambda m=message: signer.sign(m))
            central = accepted(claim.message_id, f"VSB-2026-{n:06d}")
            prepared = timer(
                "from_central (FHIR answer)",
                lambda a=central, k=claim: from_central(
                    a, MESSAGE_TYPES[k.event_code], event_id=k.event_id, source=AnswerSource.SYNC
                ),
            )
            timer(
                "Store.record_answer",
                lambda p=prepared, k=claim: store.record_answer(
                    k, p, clock.now(), role=MESSAGE_TYPES[k.event_code].role
                ),
            )
            answers = timer(
                "Store.unpublished_answers(100)", lambda: store.unpublished_answers(100)
            )
            timer(
                "Store.mark_published",
                lambda a=answers: store.mark_published([x.answer_id for x in a], clock.now()),
            )
        batches(store, ingest, signer, clock, timer, tag, count)
        return timer.report()
    finally:
        engine.dispose()
        under_test.drop()


def accepted(message_id: str, reference: str) -> CentralAnswer:
    """An acceptance of the central application, as ``parse_answer`` would give it."""
    return CentralAnswer(
        answer_id=f"A-{uuid.uuid4()}",
        in_reply_to=message_id,
        created_at=datetime.now(UTC),
        outcome=Outcome.ACCEPTED,
        element=etree.Element("{urn:vsb-adapter:vsb:1}Answer"),
        vsb_reference=reference,
    )


def batches(
    store: Store, ingest: Ingest, signer: Signer, clock: Any, timer: Timer, tag: str, count: int
) -> None:
    """The batched paths, per event: ingest of 50 deliveries, claims of up to 32, the outbox."""
    lease = timedelta(seconds=60)
    for round_no in range(max(1, count // 50)):
        events = [make_event(f"{tag}b", 50 * round_no + n, 1, "application") for n in range(50)]
        deliveries = [Delivery(e.body, False, e.event_id) for e in events]
        per_event(timer, "Ingest of 50 deliveries, per event", 50, lambda d=deliveries: ingest(d))
        claimed: list[Any] = []
        while len(claimed) < 50:
            got = per_event(
                timer,
                "Store.claim_due(limit 32), per claim",
                32,
                lambda: store.claim_due(clock.now(), "stages", lease, 32),
            )
            if not got:
                break
            claimed += got
        for claim in claimed:
            message_type = MESSAGE_TYPES[claim.event_code]
            central = accepted(claim.message_id, "VSB-2026-000001")
            prepared = from_central(
                central, message_type, event_id=claim.event_id, source=AnswerSource.SYNC
            )
            store.record_answer(claim, prepared, clock.now(), role=message_type.role)
        answers = per_event(
            timer,
            "unpublished_answers(100) of 50, per answer",
            50,
            lambda: store.unpublished_answers(100),
        )
        per_event(
            timer,
            "mark_published of 50, per answer",
            50,
            lambda a=answers: store.mark_published([x.answer_id for x in a], clock.now()),
        )


def per_event(timer: Timer, name: str, count: int, work: Callable[[], Any]) -> Any:
    """Time ``work`` and book the cost divided by ``count``."""
    result = timer(name, work)
    timer.cpu[name][-1] /= count
    timer.wall[name][-1] /= count
    return result


def main(argv: list[str] | None = None) -> int:
    """Print the per-step CPU cost on each chosen store."""
    p = argparse.ArgumentParser(prog="bench.stages", description=__doc__.split("\n\n")[0])
    p.add_argument("--store", nargs="+", choices=["sqlite", "postgres"], default=["sqlite"])
    p.add_argument("--events", type=int, default=300)
    args = p.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="vsb-stages-"))
    for kind in args.store:
        print(f"\n# adapter steps on {kind}, {args.events} events, one thread", flush=True)
        print(run(kind, args.events, workdir))
    print(f"(work dir {workdir})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
