"""Benchmark of one large invoice batch end to end: 100,000 lines through RabbitMQ, the
adapter and the simulator (issue 11 item 6; goal <= 20 s and <= 600 MB peak RSS of the
adapter).

Three processes as in production: the adapter (``python -m adapter run`` on a fresh SQLite
file or PostgreSQL schema), the simulator (``python -m simulator``) and this script (the EPD).

Set-up, not measured: persons affiliated with care fund 180 (the simulator's admin API), an
insurance-status look-up of each and an accepted REVA application of request type "new"
(both sent through the adapter, the simulator's today at the application start), then today
set to the invoice date. A coordination grant allows 70 sessions per five years and every
REVA service line is a session, so a person gets at most ``--days-per-person`` days (62: two
invoices of 31 days, on different days); 50,000 days are 807 persons, not 100.

Measured, from the first invoice published: (1) every invoice event published (RabbitMQ's
confirm); (2) every invoice stored (the store's message rows in state ``part``, polled every
0.1 s); then the batch event goes; (3) the batch's technical answer (``in-beraad``) published
by the adapter; (4) its content answer published. The batch directory is watched meanwhile:
when its file appeared (the batch judged, writing begins), reached its final size (written and
signed), and went (validated and submitted). The adapter's and the simulator's peak RSS
(VmHWM, reset after the set-up) and CPU seconds are reported apart: the simulator's cost is
not the adapter's.

    .venv/bin/python -m bench.invoicing [--days 50000] [--store sqlite|postgres]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import re
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench import profile
from bench.bench import AdapterTarget
from bench.common import (
    AnswerCollector,
    SimulatorProcess,
    StoreUnderTest,
    broker_names,
    bulk_publish,
    cpu_seconds,
    declare,
    delete_broker_names,
    load_average,
    memory_mb,
    pki_in,
    say,
    stop_on_sigterm,
)
from queues import Topology
from tests.support import events, reva
from tests.support.events import placed
from tests.support.invoices import (
    BatchSpec,
    InvoiceSpec,
    batch_event,
    days,
    invoice_answers,
    invoice_event,
)
from tests.support.processes import topology as topology_of
from tests.support.rig import issue_codes, outcome, reference

CARE_FUND = "180"
GRANT_START = date(2025, 6, 1)
INVOICE_DATE = date(2026, 11, 20)
DAYS_PER_INVOICE = 31
PARTS_SQL = "SELECT count(*) FROM messages WHERE state = 'part'"


class KeepingCollector(AnswerCollector):
    """The answer collector that also keeps every answer's body, by event id."""

    def __init__(self, answers_exchange: str) -> None:
        super().__init__(answers_exchange)
        self.bodies: dict[str, list[bytes]] = {}
        self.arrivals: dict[str, list[tuple[float, str]]] = {}
        self._bodies_lock = threading.Lock()

    def _on_message(self, channel: Any, method: Any, properties: Any, body: bytes) -> None:
        outcome = str(method.routing_key).rsplit(".", 1)[-1]
        with self._bodies_lock:
            self.bodies.setdefault(str(properties.correlation_id), []).append(body)
            self.arrivals.setdefault(str(properties.correlation_id), []).append(
                (time.monotonic(), outcome)
            )
        super()._on_message(channel, method, properties, body)

    def arrived(self, event_id: str) -> list[tuple[float, str]]:
        """(when, outcome) of each answer to ``event_id``, in the order they came."""
        with self._bodies_lock:
            return list(self.arrivals.get(event_id, []))

    def last_body(self, event_id: str) -> bytes | None:
        """The latest answer's body for ``event_id``."""
        with self._bodies_lock:
            found = self.bodies.get(event_id)
            return found[-1] if found else None

    def wait_final(self, event_ids: list[str], timeout: float, what: str) -> None:
        """Wait until each of ``event_ids`` has a final answer (RuntimeError after timeout)."""
        wanted = set(event_ids)
        deadline = time.monotonic() + timeout
        while self.final_count(wanted) < len(wanted):
            if time.monotonic() > deadline:
                got = self.final_count(wanted)
                raise RuntimeError(f"{what}: {got} of {len(wanted)} answered in {timeout:g} s")
            time.sleep(0.1)


# ---- the people and their invoices ----------------------------------------------------------


def insz_of(person: int) -> str:
    """A valid INSZ for person ``person`` (born 1970 onwards, 900 serials a day)."""
    return reva.insz(date(1970, 1, 1) + timedelta(days=person // 900), person % 900 + 1)


@dataclass
class Billing:
    """The set-up's result: who is billed under which VSB reference."""

    tag: str
    people: list[str] = field(default_factory=list)
    references: dict[str, str] = field(default_factory=dict)


def invoice_specs(billing: Billing, total_days: int, per_person: int) -> list[InvoiceSpec]:
    """``total_days`` days in invoices of 31 days; each person's invoices on days of their own
    from the grant start (no duplicate day for the simulator), at most ``per_person`` days."""
    specs = []
    left = total_days
    number = 0
    while left > 0:
        person, slot = divmod(number, per_person // DAYS_PER_INVOICE)
        insz = billing.people[person]
        count = min(DAYS_PER_INVOICE, left)
        first = GRANT_START + timedelta(days=slot * DAYS_PER_INVOICE)
        specs.append(
            InvoiceSpec(
                f"B{billing.tag}-{number + 1}", insz, billing.references[insz], days(first, count)
            )
        )
        left -= count
        number += 1
    return specs


def people_needed(total_days: int, per_person: int) -> int:
    """Persons for ``total_days`` at ``per_person`` days each (whole invoices)."""
    invoices = math.ceil(total_days / DAYS_PER_INVOICE)
    return math.ceil(invoices / (per_person // DAYS_PER_INVOICE))


def set_up(
    simulator: SimulatorProcess,
    topology: Topology,
    collector: KeepingCollector,
    people: int,
) -> Billing:
    """Persons, their look-ups and accepted applications, sent through the adapter."""
    billing = Billing(uuid.uuid4().hex[:8])
    billing.people = [insz_of(n) for n in range(people)]
    simulator.post(
        "persons",
        {
            insz: {"affiliation": "affiliated", "care_fund": CARE_FUND, "valid_from": "2001-10-01"}
            for insz in billing.people
        },
    )
    say(f"set-up: {people} persons; their look-ups")
    status = f"{billing.tag}-status"
    lookups = [
        (f"{status}-{n + 1}", events.lookup(f"{status}-{n + 1}", status, n + 1, insz))
        for n, insz in enumerate(billing.people)
    ]
    bulk_publish(topology, lookups)
    _expect_accepted(collector, [event_id for event_id, _ in lookups], "look-ups")
    say("set-up: their REVA applications (request type new)")
    simulator.post("today", {"date": GRANT_START.isoformat()})
    applications = []
    for n, insz in enumerate(billing.people):
        dossier = f"{billing.tag}-app-{n}"
        document = reva.application(
            GRANT_START, GRANT_START + timedelta(days=3 * 365), request_type="new"
        )
        applications.append((f"{dossier}-1", placed(document, f"{dossier}-1", dossier, 1, insz)))
    bulk_publish(topology, applications)
    ids = [event_id for event_id, _ in applications]
    _expect_accepted(collector, ids, "applications")
    for (event_id, _), insz in zip(applications, billing.people, strict=True):
        answer = json.loads(collector.last_body(event_id) or b"{}")
        found = reference(answer)
        if found is None:
            raise RuntimeError(f"application {event_id}: no VSB reference in its answer")
        billing.references[insz] = found
    simulator.post("today", {"date": INVOICE_DATE.isoformat()})
    return billing


def _expect_accepted(collector: KeepingCollector, event_ids: list[str], what: str) -> None:
    collector.wait_final(event_ids, 300, what)
    refused: Counter[str] = Counter()
    for event_id in event_ids:
        answer = json.loads(collector.last_body(event_id) or b"{}")
        if outcome(answer) != "accepted":
            refused[f"{outcome(answer)} {sorted(issue_codes(answer))}"] += 1
    if refused:
        raise RuntimeError(f"{what} not all accepted: {dict(refused)}")


# ---- watching the measured phase --------------------------------------------------------------


class Watch:
    """A thread calling ``sample()`` every ``interval`` seconds until stopped."""

    def __init__(self, sample: Callable[[], None], interval: float) -> None:
        self._sample = sample
        self._interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._sample()
            self._stopping.wait(self._interval)

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stopping.set()
        self._thread.join(5)


@dataclass
class BatchFileSeen:
    """When the adapter's batch file appeared, stopped growing and went; its last size."""

    appeared: float | None = None
    last_growth: float | None = None
    gone: float | None = None
    size: int = 0

    def sample(self, directory: Path) -> None:
        """One look at the batch directory."""
        now = time.monotonic()
        files = list(directory.glob("batch-*.xml")) if directory.exists() else []
        if not files:
            if self.appeared is not None and self.gone is None:
                self.gone = now
            return
        with contextlib.suppress(OSError):
            size = files[0].stat().st_size
            if self.appeared is None:
                self.appeared = now
            if size != self.size:
                self.size, self.last_growth = size, now


def reset_peak(pid: int) -> bool:
    """Reset a process's VmHWM to its current RSS (``clear_refs`` 5); whether it worked."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@dataclass
class Figures:
    """What one run measured."""

    store: str
    days: int
    invoices: int
    people: int
    marks: dict[str, float] = field(default_factory=dict)
    """Seconds from the first invoice published to each stage's end."""
    file: BatchFileSeen = field(default_factory=BatchFileSeen)
    adapter_hwm_setup: float = 0.0
    adapter_hwm: float = 0.0
    adapter_peak_sampled: float = 0.0
    adapter_cpu: float = 0.0
    simulator_hwm: float = 0.0
    simulator_cpu: float = 0.0
    simulator_submit: float | None = None
    answer_bytes: int = 0
    answer_outcome: str = "?"
    statuses: dict[str, int] = field(default_factory=dict)
    refused_lines: int = 0
    issues: list[str] = field(default_factory=list)
    log_steps: dict[str, tuple[int, float]] = field(default_factory=dict)
    """From the adapter's lifecycle lines: (count, summed ms) per step of invoice events, and
    each step of the batch event."""


_STEP = re.compile(r"step=(\w+) .*event_id=(\S+) .*event_code=([\w-]+) .*duration_ms=([\d.]+)")


def log_steps(text: str, batch_id: str) -> dict[str, tuple[int, float]]:
    """Count and summed duration of each lifecycle step of the invoices and of the batch."""
    found: dict[str, tuple[int, float]] = {}
    for line in text.splitlines():
        match = _STEP.search(line)
        if match is None or match.group(3) not in ("invoice", "invoice-batch"):
            continue
        step, event_id, code, ms = match.groups()
        if code == "invoice-batch" and event_id != batch_id:
            continue
        key = f"{'invoices' if code == 'invoice' else 'batch'} {step}"
        if code == "invoice-batch" and key in found:
            key += f" ({'content'})"
        count, total = found.get(key, (0, 0.0))
        found[key] = (count + 1, total + float(ms))
    return found


def measure(
    args: argparse.Namespace,
    simulator: SimulatorProcess,
    target: AdapterTarget,
    topology: Topology,
    collector: KeepingCollector,
    billing: Billing,
    batch_directory: Path,
) -> Figures:
    """Publish the invoices and the batch; time each stage until the content answer."""
    batch = BatchSpec("1", CARE_FUND, INVOICE_DATE.strftime("%Y-%m"), INVOICE_DATE)
    batch.invoices = invoice_specs(billing, args.days, args.days_per_person)
    dossier = f"{billing.tag}-invoices"
    bodies = [
        (
            f"{dossier}-{n}",
            placed(invoice_event(batch, spec), f"{dossier}-{n}", dossier, n),
        )
        for n, spec in enumerate(batch.invoices, start=1)
    ]
    invoice_ids = [event_id for event_id, _ in bodies]
    closing = f"{billing.tag}-batches-{CARE_FUND}"
    batch_id = f"{closing}-1"
    batch_body = placed(batch_event(batch, invoice_ids), batch_id, closing, 1)
    figures = Figures(target.store_kind, args.days, len(bodies), len(billing.people))
    say(
        f"measured: {len(bodies)} invoice events ({sum(len(b) for _, b in bodies) / 1e6:.1f} MB"
        f" of JSON), then the batch ({len(batch_body) / 1e3:.0f} kB)"
    )
    assert target.store is not None
    store: StoreUnderTest = target.store
    pids = {"adapter": target.pid, "simulator": simulator.pid}
    _, figures.adapter_hwm_setup = memory_mb(target.pid)
    peaks_reset = all(reset_peak(pid) for pid in pids.values())
    if not peaks_reset:
        figures.issues.append("VmHWM could not be reset: the peaks include the set-up")
    cpu = {name: cpu_seconds(pid) for name, pid in pids.items()}
    simulator.reset_record()
    sampled = [0.0]
    stored = [0]

    def sample() -> None:
        figures.file.sample(batch_directory)
        sampled[0] = max(sampled[0], memory_mb(target.pid)[0])

    spy = None
    if args.profile:
        raw = args.workdir_path / f"profile-invoicing-{target.store_kind}.txt"
        spy = profile.record(target.pid, args.profile, raw, gil=args.profile_gil)
    began = time.monotonic()
    with Watch(sample, 0.02):
        bulk_publish(topology, bodies)
        figures.marks["invoices published"] = time.monotonic() - began
        deadline = time.monotonic() + args.timeout
        while stored[0] < len(bodies):
            stored[0] = store.count(PARTS_SQL)
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {stored[0]} of {len(bodies)} invoices stored")
            time.sleep(0.1)
        figures.marks["invoices stored"] = time.monotonic() - began
        bulk_publish(topology, [(batch_id, batch_body)])
        figures.marks["batch event published"] = time.monotonic() - began
        collector.wait_final([batch_id], args.timeout, "the batch")
        # The technical answer may come after the content answer (fetched from the mailbox
        # while the Submit's answer was still on its way): wait for it too.
        deadline = time.monotonic() + args.timeout
        while not any(o == "in-beraad" for _, o in collector.arrived(batch_id)):
            if time.monotonic() > deadline:
                figures.issues.append("no technical (in-beraad) answer published")
                break
            time.sleep(0.1)
    arrivals = collector.arrived(batch_id)
    order = [o for _, o in arrivals]
    if order and order[0] != "in-beraad":
        figures.issues.append(f"answers published in this order: {order}")
    for at, outcome_seen in arrivals:
        name = "technical" if outcome_seen == "in-beraad" else "content"
        figures.marks.setdefault(f"{name} answer published", at - began)
    for name, seen_at in (
        ("batch file appeared", figures.file.appeared),
        ("batch file written + signed", figures.file.last_growth),
        ("batch file validated + sent", figures.file.gone),
    ):
        if seen_at is not None:
            figures.marks[name] = seen_at - began
    if spy is not None:
        spy.wait(args.profile + 30)
    figures.adapter_cpu = cpu_seconds(target.pid) - cpu["adapter"]
    figures.simulator_cpu = cpu_seconds(simulator.pid) - cpu["simulator"]
    _, figures.adapter_hwm = memory_mb(target.pid)
    _, figures.simulator_hwm = memory_mb(simulator.pid)
    figures.adapter_peak_sampled = sampled[0]
    for call in simulator.record():
        if call.get("kind") == "InvoiceBatch" and call.get("finished_at") is not None:
            figures.simulator_submit = call["finished_at"] - call["received_at"]
    assert target.process is not None
    figures.log_steps = log_steps(target.process.log_text(), batch_id)
    body = collector.last_body(batch_id) or b"{}"
    figures.answer_bytes = len(body)
    answer = json.loads(body)
    figures.answer_outcome = outcome(answer)
    per_invoice = invoice_answers(answer)
    figures.statuses = dict(Counter(a.status for a in per_invoice.values()))
    figures.refused_lines = sum(len(a.refused_lines) for a in per_invoice.values())
    missing = len(batch.invoices) - len(per_invoice)
    if missing:
        figures.issues.append(
            f"{missing} invoices not in the answer; {sorted(issue_codes(answer))}"
        )
    return figures


# ---- the report -------------------------------------------------------------------------------


def report(f: Figures) -> str:
    """The figures as text."""
    mb = 1e6
    lines = [
        f"# bench.invoicing, {time.strftime('%Y-%m-%d %H:%M')}, store {f.store}, "
        f"load avg now {load_average()}",
        f"batch: {f.days} days = {2 * f.days} lines in {f.invoices} invoices of "
        f"{f.people} persons; XML {f.file.size / mb:.1f} MB ({f.file.size / 2**20:.1f} MiB)",
        f"{'stage (from the first invoice published)':44} {'at s':>7} {'took s':>7}",
    ]
    previous = 0.0
    for name, at in sorted(f.marks.items(), key=lambda item: item[1]):
        lines.append(f"  {name:42} {at:7.2f} {at - previous:7.2f}")
        previous = at
    total = f.marks.get("content answer published", float("nan"))
    lines += [
        f"total: {total:.2f} s (goal <= 20 s); from the batch event published: "
        f"{total - f.marks.get('batch event published', 0.0):.2f} s",
        f"adapter: peak RSS {f.adapter_hwm:.0f} MB over the measured phase (VmHWM; goal <= 600;"
        f" {f.adapter_peak_sampled:.0f} sampled every 20 ms; {f.adapter_hwm_setup:.0f} over the"
        f" set-up), CPU {f.adapter_cpu:.1f} s",
        f"simulator (not the adapter's cost): Submit {_seconds(f.simulator_submit)} in it, CPU "
        f"{f.simulator_cpu:.1f} s, peak RSS {f.simulator_hwm:.0f} MB",
        f"answer: {f.answer_outcome}, {f.answer_bytes / mb:.2f} MB of FHIR JSON; invoices "
        f"{f.statuses}, refused lines {f.refused_lines}",
    ]
    lines.append("the adapter's lifecycle lines (count, summed duration_ms):")
    lines += [f"  {key:42} {n:5d} {ms / 1000:8.2f} s" for key, (n, ms) in f.log_steps.items()]
    lines += [f"note: {issue}" for issue in f.issues]
    return "\n".join(lines)


def _seconds(value: float | None) -> str:
    return "?" if value is None else f"{value:.2f} s"


@contextlib.contextmanager
def _rig(args: argparse.Namespace, workdir: Path) -> Iterator[tuple[Any, ...]]:
    """The simulator, the broker names, the collector and the adapter; all stopped after."""
    pki = pki_in(workdir)
    simulator = SimulatorProcess(pki, workdir / "simulator.log").start()
    names = broker_names(f"i{uuid.uuid4().hex[:6]}")
    topology = topology_of(names)
    batch_directory = workdir / "batches"
    target = AdapterTarget(
        args.store,
        workdir,
        pki,
        simulator.url,
        args.concurrency,
        VSB_DELIVERY__BATCH_DIRECTORY=str(batch_directory),
        # The production defaults: the bench's 10 s is shorter than a 20 MiB batch's Submit
        # on a busy machine (a timeout makes the batch's retry refuse it: see the report).
        VSB_CENTRAL__TIMEOUT_SECONDS=str(args.central_timeout),
        VSB_DELIVERY__LEASE_SECONDS=str(3 * args.central_timeout + 30),
    )
    collector = KeepingCollector(topology.answers_exchange)
    try:
        declare(topology)
        collector.start()
        target.start(names)
        yield simulator, target, topology, collector, batch_directory
    finally:
        collector.stop()
        target.stop()
        simulator.stop()
        delete_broker_names(names)


def main(argv: list[str] | None = None) -> int:
    """Set up, measure one batch, print the figures."""
    parser = argparse.ArgumentParser(
        prog="bench.invoicing",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--days", type=int, default=50_000, help="days (two lines each)")
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--days-per-person", type=int, default=62, help="a multiple of 31, <= 70 (the quota)"
    )
    parser.add_argument("--concurrency", type=int, default=16, help="the adapter's senders")
    parser.add_argument("--timeout", type=float, default=300, help="per measured wait")
    parser.add_argument(
        "--central-timeout", type=float, default=30, help="the adapter's HTTP timeout (s)"
    )
    parser.add_argument("--profile", type=float, default=0, help="py-spy the adapter for N s")
    parser.add_argument("--profile-gil", action="store_true", help="sample the GIL holder only")
    parser.add_argument("--workdir", type=Path, help="logs and the store (default: a temp dir)")
    args = parser.parse_args(argv)
    if args.days_per_person < DAYS_PER_INVOICE or args.days_per_person > 70:
        parser.error("--days-per-person must be 31..70")
    stop_on_sigterm()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="vsb-bench-invoicing-"))
    workdir.mkdir(parents=True, exist_ok=True)
    args.workdir_path = workdir
    say(f"work dir {workdir}; load average {load_average()}")
    people = people_needed(args.days, args.days_per_person)
    with _rig(args, workdir) as (simulator, target, topology, collector, batch_directory):
        billing = set_up(simulator, topology, collector, people)
        figures = measure(args, simulator, target, topology, collector, billing, batch_directory)
    print(report(figures))
    for raw in sorted(workdir.glob("profile-invoicing-*.txt")):
        print(f"\n## py-spy {raw.name}\n" + profile.summarise(raw, 25))
    say(f"logs in {workdir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
