"""Benchmark of the adapter against the bare pipeline, on SQLite and PostgreSQL.

Three processes as in production: the adapter (``python -m adapter run``), the simulator
(``python -m simulator``) and this script (the EPD: publisher and answer collector).

Modes:

``throughput`` (default): closed loop. ``--window`` events are outstanding at any time; each
final answer lets the next event go (round robin over ``--dossiers``: sequence 1 an
application, later ones stops). After ``--warmup`` seconds, ``--seconds`` of steady state
are measured: answers/s, latency publish → answer, adapter-added latency (end-to-end minus
the simulator's own service time for that message, from its call record), peak RSS, CPU
seconds per event of every process. The bare pipeline (``bench/bare.py``) runs the same
traffic against the same simulator with the same concurrency; the ratio adapter / bare is
printed.

``paced``: open loop at ``--rate`` events/s (30 by default) for latency percentiles.

``backlog``: ``--events`` (100,000) are published while the central application is down,
the adapter stores them all; then the simulator starts and the drain is watched for
``--drain-seconds``. Reports RSS after ingest and its peak during the drain.

    .venv/bin/python -m bench.bench --store sqlite --seconds 60
    .venv/bin/python -m bench.bench --store sqlite postgres --latency-ms 0 100 --seconds 60
    .venv/bin/python -m bench.bench --mode paced --rate 30 --seconds 60 --store sqlite postgres
    .venv/bin/python -m bench.bench --mode backlog --events 100000 --store sqlite
    .venv/bin/python -m bench.bench --seconds 20 --warmup 5      # a quick check
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import profile
from bench.common import (
    AnswerCollector,
    CpuWindow,
    RoundRobinTraffic,
    SimulatorProcess,
    StoreUnderTest,
    broker_names,
    bulk_publish,
    declare,
    delete_broker_names,
    load_average,
    make_event,
    memory_mb,
    percentile,
    pki_in,
    publish,
    publisher_for,
    queue_depth,
    rabbitmq_pid,
    say,
    stop_on_sigterm,
)
from queues import Topology
from tests.support.processes import ROOT, AdapterProcess, adapter_environ
from tests.support.processes import topology as topology_of

# ---- what is measured ----------------------------------------------------------------------


@dataclass
class PhaseResult:
    """The figures of one measured phase."""

    mode: str
    target: str
    """``adapter`` or ``bare``."""
    store: str
    latency_ms: float
    concurrency: int
    seconds: float
    published: int = 0
    answered_in_window: int = 0
    throughput: float = 0.0
    e2e_ms: dict[str, float] = field(default_factory=dict)
    added_ms: dict[str, float] = field(default_factory=dict)
    service_ms: dict[str, float] = field(default_factory=dict)
    rss_mb: float = 0.0
    peak_rss_mb: float = 0.0
    cpu_ms_per_event: dict[str, float] = field(default_factory=dict)
    machine_cpu_share: float = 0.0
    """Busy share of both cores over the measured window (1.0 = both cores busy)."""
    other_cpu_share: float = 0.0
    """The part of it used by processes outside the bench (other work on the machine)."""
    outcomes: dict[str, int] = field(default_factory=dict)
    unanswered: int = 0
    notes: list[str] = field(default_factory=list)


def _percentiles(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 50) * 1000, 1),
        "p95": round(percentile(values, 95) * 1000, 1),
        "p99": round(percentile(values, 99) * 1000, 1),
        "max": round(max(values) * 1000, 1) if values else float("nan"),
    }


# ---- the system under test -----------------------------------------------------------------


class Target:
    """The adapter or the bare pipeline, as a child process for one phase."""

    name = "?"
    store_kind = "-"

    def start(self, names: dict[str, str]) -> None:
        """Start consuming the phase's events queue."""
        raise NotImplementedError

    @property
    def pid(self) -> int:
        """The child's process id."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop the child and clean up."""
        raise NotImplementedError


class AdapterTarget(Target):
    """``python -m adapter run`` on a fresh store."""

    name = "adapter"

    def __init__(
        self,
        store_kind: str,
        workdir: Path,
        pki: Any,
        central_url: str,
        concurrency: int,
        switch_interval: float = 0.0,
        **extra: str,
    ) -> None:
        self.store_kind = store_kind
        self._switch_interval = switch_interval
        self._workdir = workdir
        self._pki = pki
        self._central_url = central_url
        self._concurrency = concurrency
        self._extra = extra
        self.store: StoreUnderTest | None = None
        self.process: AdapterProcess | None = None

    def start(self, names: dict[str, str]) -> None:
        """A new store (file or schema) and the adapter on it."""
        tag = uuid.uuid4().hex[:8]
        self.store = StoreUnderTest(self.store_kind, self._workdir, tag)
        # Production-like timings, not the fault tests' quick ones; ``extra`` may override them.
        timings = {
            "VSB_DELIVERY__CONCURRENCY": str(self._concurrency),
            "VSB_STORE__POOL_SIZE": str(self._concurrency + 8),
            "VSB_DELIVERY__POLL_SECONDS": "0.5",
            "VSB_CENTRAL__MAILBOX_POLL_SECONDS": "5",
            "VSB_CENTRAL__TIMEOUT_SECONDS": "10",
            "VSB_DELIVERY__LEASE_SECONDS": "60",
            "VSB_DELIVERY__BACKOFF_INITIAL_SECONDS": "1",
            "VSB_DELIVERY__BACKOFF_MAX_SECONDS": "30",
            "VSB_DELIVERY__BREAKER_PROBE_SECONDS": "2",
        }
        environ = adapter_environ(
            self.store.url, names, self._central_url, self._pki, **{**timings, **self._extra}
        )
        log = self._workdir / f"adapter-{tag}.log"
        if self._switch_interval:
            self.process = SwitchIntervalAdapter(environ, log, self._switch_interval).start()
        else:
            self.process = AdapterProcess(environ, log).start()

    @property
    def pid(self) -> int:
        """The adapter's process id."""
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        """SIGTERM (SIGKILL if it hangs), then drop the store."""
        if self.process is not None and self.process.alive():
            try:
                self.process.terminate(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.store is not None:
            with contextlib.suppress(Exception):
                self.store.drop()


class SwitchIntervalAdapter(AdapterProcess):
    """The adapter with another GIL switch interval (an experiment: ``--switch-interval``).

    Runs ``adapter.cli.main(["run"])`` after ``sys.setswitchinterval``; nothing else differs.
    """

    def __init__(self, environ: dict[str, str], log_path: Path, interval: float) -> None:
        super().__init__(environ, log_path)
        self._interval = interval

    def start(self, **extra: str) -> SwitchIntervalAdapter:
        """Start the child with the switch interval set first."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("VSB_")}
        code = (
            f"import sys; sys.setswitchinterval({self._interval!r}); "
            "from adapter.cli import main; sys.exit(main(['run']))"
        )
        log = open(self._log_path, "ab")  # noqa: SIM115 - the child owns it
        self._process = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**base, **self._environ, **extra},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return self


class BareTarget(Target):
    """``python -m bench.bare``: the ceiling."""

    name = "bare"

    def __init__(self, workdir: Path, pki: Any, central_url: str, concurrency: int) -> None:
        self._workdir = workdir
        self._pki = pki
        self._central_url = central_url
        self._concurrency = concurrency
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, names: dict[str, str]) -> None:
        """Start and wait for its ``ready``."""
        log = open(self._workdir / "bare.log", "ab")  # noqa: SIM115 - the child owns it
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.bare",
                "--events-queue",
                names["events_queue"],
                "--answers-exchange",
                names["answers_exchange"],
                "--central-url",
                self._central_url,
                "--ca-bundle",
                str(self._pki.ca_cert),
                "--keystore",
                str(self._pki.keystore),
                "--passphrase-file",
                str(self._pki.passphrase_file),
                "--answer-certificate",
                str(self._pki.central_cert),
                "--concurrency",
                str(self._concurrency),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=log,
        )
        log.close()
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line.strip() != b"ready":
            raise RuntimeError("the bare pipeline did not start; see bare.log")

    @property
    def pid(self) -> int:
        """The bare pipeline's process id."""
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        """SIGTERM, then SIGKILL."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


# ---- phases --------------------------------------------------------------------------------


class Rig:
    """The simulator (one process for the whole run) and what every phase needs."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.pki = pki_in(workdir)
        self.simulator = SimulatorProcess(self.pki, workdir / "simulator.log")
        self.rabbitmq = rabbitmq_pid()

    def adapter(self, store: str) -> AdapterTarget:
        """An adapter on a fresh store of this kind."""
        return AdapterTarget(
            store,
            self.workdir,
            self.pki,
            self.simulator.url,
            self.args.concurrency,
            self.args.switch_interval,
        )

    def bare(self) -> BareTarget:
        """The bare pipeline."""
        return BareTarget(self.workdir, self.pki, self.simulator.url, self.args.concurrency)


def _service_times(simulator: SimulatorProcess) -> dict[tuple[str, int], float]:
    """Seconds the simulator spent on each (dossier, sequence), from its call record."""
    service: dict[tuple[str, int], float] = {}
    for call in simulator.record():
        if call.get("dossier_id") and call.get("finished_at") is not None:
            key = (str(call["dossier_id"]), int(call["sequence"]))
            service[key] = service.get(key, 0.0) + call["finished_at"] - call["received_at"]
    return service


@contextlib.contextmanager
def _phase(rig: Rig, target: Target, latency_ms: float) -> Iterator[tuple[Topology, str]]:
    """Names, simulator latency, the target started; everything cleaned up afterwards."""
    tag = f"{target.name[0]}{uuid.uuid4().hex[:6]}"
    names = broker_names(tag)
    topology = topology_of(names)
    rig.simulator.set_latency(latency_ms)
    rig.simulator.reset_record()
    try:
        yield topology, tag
    finally:
        target.stop()
        delete_broker_names(names)


def closed_loop(rig: Rig, target: Target, latency_ms: float) -> PhaseResult:
    """Saturate the target with ``--window`` outstanding events; measure the steady state."""
    args = rig.args
    result = PhaseResult(
        "throughput", target.name, target.store_kind, latency_ms, args.concurrency, args.seconds
    )
    say(f"throughput: {target.name} {target.store_kind} at {latency_ms:g} ms latency")
    with _phase(rig, target, latency_ms) as (topology, tag):
        published: dict[str, tuple[float, str, int]] = {}
        slots = threading.Semaphore(args.window)

        def on_final(event_id: str) -> None:
            if event_id in published:
                slots.release()

        collector = AnswerCollector(topology.answers_exchange, on_final).start()
        publisher = publisher_for(topology)
        try:
            declare(topology)
            target.start(_names(topology))
            traffic = RoundRobinTraffic(tag, args.dossiers)
            cpu = _cpu_window(rig, target)
            began = time.monotonic()
            window_start = began + args.warmup
            window_end = window_start + args.seconds
            measuring = False
            spy = None
            while time.monotonic() < window_end:
                if not measuring and time.monotonic() >= window_start:
                    measuring = True
                    cpu.start()
                    if args.profile:
                        spy = profile.record(
                            target.pid,
                            min(args.profile, args.seconds),
                            rig.workdir / f"profile-{target.name}-{target.store_kind}"
                            f"-{latency_ms:g}ms.txt",
                            gil=args.profile_gil,
                        )
                if not slots.acquire(timeout=0.2):
                    continue
                event = next(traffic)
                published[event.event_id] = (time.monotonic(), event.dossier, event.sequence)
                publish(publisher, topology, event)
            cpu.stop()
            result.rss_mb, result.peak_rss_mb = (round(x, 1) for x in memory_mb(target.pid))
            _drain(collector, published, 60)
            if spy is not None:
                spy.wait(60)
        finally:
            publisher.close()
            collector.stop()
        seen = collector.snapshot()
        service = _service_times(rig.simulator)
    _figures(result, published, seen, service, window_start, window_end, cpu)
    return result


def _cpu_window(rig: Rig, target: Target) -> CpuWindow:
    """CPU accounting of the processes a phase measures."""
    pids = {
        "target": target.pid,
        "simulator": rig.simulator.pid,
        "rabbitmq": rig.rabbitmq,
        "bench": os.getpid(),
    }
    return CpuWindow({name: pid for name, pid in pids.items() if pid is not None})


def _names(topology: Topology) -> dict[str, str]:
    return {
        "events_exchange": topology.events_exchange,
        "events_queue": topology.events_queue,
        "answers_exchange": topology.answers_exchange,
        "answers_queue": topology.answers_queue,
        "dead_letter_exchange": topology.dead_letter_exchange,
        "dead_letter_queue": topology.dead_letter_queue,
    }


def _drain(collector: AnswerCollector, published: dict[str, Any], timeout: float) -> None:
    """Wait (bounded) until every published event has a final answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = collector.snapshot()
        if all(seen.get(e) and seen[e].first_final_at for e in published):
            return
        time.sleep(0.2)


def _figures(
    result: PhaseResult,
    published: dict[str, tuple[float, str, int]],
    seen: dict[str, Any],
    service: dict[tuple[str, int], float],
    window_start: float,
    window_end: float,
    cpu: CpuWindow,
    *,
    by_publish_time: bool = False,
) -> None:
    """Throughput, latencies, outcomes and CPU of one phase."""
    e2e: list[float] = []
    added: list[float] = []
    services: list[float] = []
    outcomes: Counter[str] = Counter()
    in_window = 0
    answered_in_window = 0  # by the time the answer came, whatever the mode
    for event_id, (sent_at, dossier, sequence) in published.items():
        received = seen.get(event_id)
        if received is None or received.first_final_at is None:
            result.unanswered += 1
            continue
        outcomes[received.outcomes[-1]] += 1
        if window_start <= received.first_final_at < window_end:
            answered_in_window += 1
        when = sent_at if by_publish_time else received.first_final_at
        if not window_start <= when < window_end:
            continue
        in_window += 1
        latency = received.first_final_at - sent_at
        e2e.append(latency)
        spent = service.get((dossier, sequence))
        if spent is not None:
            services.append(spent)
            added.append(latency - spent)
    result.published = len(published)
    result.answered_in_window = answered_in_window
    result.throughput = round(answered_in_window / (window_end - window_start), 1)
    result.e2e_ms = _percentiles(e2e)
    result.added_ms = _percentiles(added)
    result.service_ms = _percentiles(services)
    result.outcomes = dict(outcomes)
    result.machine_cpu_share = round(cpu.machine_share, 3)
    if cpu.elapsed_cores:
        result.other_cpu_share = round(cpu.other_seconds / cpu.elapsed_cores, 3)
    if answered_in_window:
        result.cpu_ms_per_event = {
            name: round(1000 * used / answered_in_window, 2) for name, used in cpu.used.items()
        }
    if len(added) < in_window:
        result.notes.append(f"{in_window - len(added)} events without a simulator record")


def paced(rig: Rig, target: Target, latency_ms: float) -> PhaseResult:
    """Open loop at ``--rate`` events/s: latency percentiles at a modest load."""
    args = rig.args
    result = PhaseResult(
        "paced", target.name, target.store_kind, latency_ms, args.concurrency, args.seconds
    )
    say(f"paced {args.rate:g}/s: {target.name} {target.store_kind} at {latency_ms:g} ms latency")
    with _phase(rig, target, latency_ms) as (topology, tag):
        published: dict[str, tuple[float, str, int]] = {}
        collector = AnswerCollector(topology.answers_exchange).start()
        publisher = publisher_for(topology)
        try:
            declare(topology)
            target.start(_names(topology))
            time.sleep(3)  # the adapter's start (imports, keystore, WSDL) is not measured
            traffic = RoundRobinTraffic(tag, args.dossiers)
            cpu = _cpu_window(rig, target)
            began = time.monotonic()
            window_start = began + args.warmup
            window_end = window_start + args.seconds
            measuring = False
            tick = 1.0 / args.rate
            n = 0
            while True:
                due = began + n * tick
                now = time.monotonic()
                if due >= window_end:
                    break
                if due > now:
                    time.sleep(due - now)
                if not measuring and time.monotonic() >= window_start:
                    measuring = True
                    cpu.start()
                event = next(traffic)
                published[event.event_id] = (time.monotonic(), event.dossier, event.sequence)
                publish(publisher, topology, event)
                n += 1
            _drain(collector, published, 30)
            cpu.stop()
            result.rss_mb, result.peak_rss_mb = (round(x, 1) for x in memory_mb(target.pid))
        finally:
            publisher.close()
            collector.stop()
        seen = collector.snapshot()
        service = _service_times(rig.simulator)
    _figures(result, published, seen, service, window_start, window_end, cpu, by_publish_time=True)
    return result


def backlog(rig: Rig, store: str) -> PhaseResult:
    """A backlog stored while the central application is down, then drained."""
    args = rig.args
    result = PhaseResult("backlog", "adapter", store, 0.0, args.concurrency, args.drain_seconds)
    sim = rig.simulator
    say(f"backlog: {args.events} events over {args.dossiers} dossiers, {store}, central down")
    target = rig.adapter(store)
    tag = f"k{uuid.uuid4().hex[:6]}"
    names = broker_names(tag)
    topology = topology_of(names)
    samples: list[tuple[float, float, float, int]] = []  # (t, rss, hwm, stored)
    try:
        collector = AnswerCollector(topology.answers_exchange).start()
        target.start(names)
        began = time.monotonic()
        per_dossier = max(1, args.events // args.dossiers)

        def bodies() -> Iterator[tuple[str, bytes]]:
            for sequence in range(1, per_dossier + 1):
                for dossier in range(args.dossiers):
                    kind = "application" if sequence == 1 else "stop"
                    event = make_event(tag, dossier, sequence, kind)
                    yield event.event_id, event.body

        total = per_dossier * args.dossiers
        published_box: list[int] = []
        publishing = threading.Thread(
            target=lambda: published_box.append(bulk_publish(topology, bodies())), daemon=True
        )
        publishing.start()
        assert target.store is not None
        stored = 0
        deadline = began + args.ingest_timeout
        last_say = 0.0
        while time.monotonic() < deadline:
            time.sleep(2)
            rss, hwm = memory_mb(target.pid)
            stored = target.store.count("SELECT count(*) FROM events")
            samples.append((time.monotonic() - began, rss, hwm, stored))
            if time.monotonic() - last_say > 30:
                say(f"  stored {stored}/{total}, adapter RSS {rss:.0f} MB (peak {hwm:.0f})")
                last_say = time.monotonic()
            if stored >= total:
                break
        ingest_seconds = time.monotonic() - began
        publishing.join(5)
        rss_ingested, hwm_ingested = memory_mb(target.pid)
        result.published = total
        result.notes.append(
            f"stored {stored}/{total} events in {ingest_seconds:.0f} s "
            f"({stored / ingest_seconds:.0f}/s incl. publishing)"
        )
        result.notes.append(
            f"RSS with the backlog stored: {rss_ingested:.1f} MB (peak so far {hwm_ingested:.1f})"
        )
        # The central application comes up; watch the drain.
        sim.start(latency_ms=0)
        say("  simulator up; draining")
        drain_began = time.monotonic()
        first_answers = collector.final_count()
        drain_end = drain_began + args.drain_seconds
        while time.monotonic() < drain_end:
            time.sleep(1)
            rss, hwm = memory_mb(target.pid)
            samples.append((time.monotonic() - began, rss, hwm, collector.final_count()))
        answered = collector.final_count() - first_answers
        result.rss_mb, result.peak_rss_mb = (round(x, 1) for x in memory_mb(target.pid))
        result.answered_in_window = answered
        result.throughput = round(answered / args.drain_seconds, 1)
        result.notes.append(
            f"drain: {answered} answers in {args.drain_seconds:g} s; "
            f"{queue_depth(topology.events_queue)} events still in RabbitMQ"
        )
        collector.stop()
    finally:
        target.stop()
        sim.stop()
        delete_broker_names(names)
    (rig.workdir / "backlog-rss.json").write_text(json.dumps(samples))
    return result


# ---- output --------------------------------------------------------------------------------


def report(results: list[PhaseResult]) -> str:
    """The figures as a text table, with the ratios the goals name."""
    lines = []
    header = (
        f"{'mode':10} {'target':8} {'store':8} {'lat':>5} {'conc':>4} {'ev/s':>7} "
        f"{'e2e p50/p95/p99 ms':>22} {'added p50/p95/p99 ms':>22} {'svc p50':>8} "
        f"{'peakRSS':>8} {'cpu ms/ev tgt/sim/mq/bench':>27} {'cpu% all/other':>14}"
    )
    lines.append(header)
    for r in results:
        e, a = r.e2e_ms, r.added_ms
        cpu = r.cpu_ms_per_event
        lines.append(
            f"{r.mode:10} {r.target:8} {r.store:8} {r.latency_ms:5g} {r.concurrency:4} "
            f"{r.throughput:7.1f} "
            f"{e.get('p50', 0):7.1f}/{e.get('p95', 0):6.1f}/{e.get('p99', 0):7.1f} "
            f"{a.get('p50', 0):7.1f}/{a.get('p95', 0):6.1f}/{a.get('p99', 0):7.1f} "
            f"{r.service_ms.get('p50', 0):8.1f} {r.peak_rss_mb:7.1f}M "
            f"{cpu.get('target', 0):7.1f}/{cpu.get('simulator', 0):6.1f}/"
            f"{cpu.get('rabbitmq', 0):5.1f}/{cpu.get('bench', 0):4.1f} "
            f"{100 * r.machine_cpu_share:8.0f}/{100 * r.other_cpu_share:3.0f}"
        )
    for r in results:
        if r.notes or r.unanswered:
            lines.append(
                f"  {r.mode} {r.target} {r.store} {r.latency_ms:g} ms: outcomes {r.outcomes}"
                f", unanswered {r.unanswered}; " + "; ".join(r.notes)
            )
    bare = {r.latency_ms: r for r in results if r.target == "bare" and r.mode == "throughput"}
    zero = {
        r.store: r
        for r in results
        if r.target == "adapter" and r.mode == "throughput" and r.latency_ms == 0
    }
    for r in results:
        if r.target != "adapter" or r.mode != "throughput":
            continue
        if r.latency_ms in bare and bare[r.latency_ms].throughput:
            ratio = r.throughput / bare[r.latency_ms].throughput
            lines.append(
                f"ratio adapter/bare, {r.store}, {r.latency_ms:g} ms: {ratio:.2f}"
                + ("  (goal >= 0.6 at 0 ms)" if r.latency_ms == 0 else "")
            )
        if r.latency_ms > 0 and r.store in zero and zero[r.store].throughput:
            ratio = r.throughput / zero[r.store].throughput
            lines.append(
                f"adapter {r.store}: {r.latency_ms:g} ms / 0 ms throughput: {ratio:.2f}"
                "  (goal >= 0.8 at 100 ms)"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen mode on the chosen stores; print the figures."""
    p = argparse.ArgumentParser(
        prog="bench.bench",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--mode", choices=["throughput", "paced", "backlog"], default="throughput")
    p.add_argument("--store", nargs="+", choices=["sqlite", "postgres"], default=["sqlite"])
    p.add_argument("--latency-ms", nargs="+", type=float, default=[0.0])
    p.add_argument("--seconds", type=float, default=60, help="measured steady state")
    p.add_argument("--warmup", type=float, default=15, help="not measured")
    p.add_argument("--dossiers", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=32, help="adapter and bare alike")
    p.add_argument("--window", type=int, help="outstanding events (default 2 x concurrency)")
    p.add_argument("--no-bare", action="store_true", help="skip the bare pipeline")
    p.add_argument("--rate", type=float, default=30, help="paced: events/s")
    p.add_argument("--events", type=int, default=100_000, help="backlog: events to store")
    p.add_argument("--drain-seconds", type=float, default=60, help="backlog: drain watched")
    p.add_argument("--ingest-timeout", type=float, default=1800, help="backlog: bound")
    p.add_argument("--profile", type=float, default=0, help="py-spy the target for N s")
    p.add_argument("--profile-gil", action="store_true", help="sample the GIL holder only")
    p.add_argument(
        "--switch-interval",
        type=float,
        default=0.0,
        help="experiment: run the adapter with sys.setswitchinterval(S) (default: Python's 5 ms)",
    )
    p.add_argument("--workdir", type=Path, help="logs, stores, profiles (default: a temp dir)")
    p.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = p.parse_args(argv)
    args.window = args.window or 2 * args.concurrency
    stop_on_sigterm()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="vsb-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    say(f"work dir {workdir}; load average {load_average()}")
    rig = Rig(args, workdir)
    results: list[PhaseResult] = []
    try:
        if args.mode == "backlog":
            for store in args.store:
                results.append(backlog(rig, store))
        else:
            rig.simulator.start()
            run = closed_loop if args.mode == "throughput" else paced
            for latency in args.latency_ms:
                if not args.no_bare:
                    results.append(run(rig, rig.bare(), latency))
                for store in args.store:
                    results.append(run(rig, rig.adapter(store), latency))
    except KeyboardInterrupt:
        say("interrupted")
    finally:
        rig.simulator.stop()
    text = report(results)
    print(
        f"\n# bench {args.mode}, {time.strftime('%Y-%m-%d %H:%M')}, "
        f"window {args.window}, dossiers {args.dossiers}, load avg now {load_average()}"
    )
    print(text)
    if args.profile:
        for raw in sorted(workdir.glob("profile-*.txt")):
            print(f"\n## py-spy {raw.name}\n" + profile.summarise(raw))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))
    say(f"logs in {workdir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
