"""Soak: many events through an adapter that is killed, cut off and failed on, then counted.

The adapter runs as a child process (``python -m adapter run``) behind two fault proxies
(``tests/faults/proxy.py``): one in front of RabbitMQ, one in front of the simulator, which
runs as a process of its own. While ``--events`` events over ``--dossiers`` dossiers are
published (sequence 1 an application, later ones stops or look-ups, arrival order slightly
shuffled within each dossier), the soak:

- SIGKILLs the adapter ``--kills`` times and restarts it at once (one in the middle of the
  outage, the others at random points of progress, i.e. of the share of events answered);
- cuts the adapter's RabbitMQ connections ``--broker-cuts`` times (then refuses them 5 s);
- takes the central application away for ``--outage-seconds`` once 30 % are answered;
- injects ``--fault-rate`` transient faults at the simulator, rotating through every kind
  (HTTP 500, SOAP server fault, drop, timeout, apply-then-drop, apply-then-timeout).

Then it waits for every event's final answer (or until ``--max-minutes``, or until no answer
came for ``--stall-seconds``) and counts, from the simulator's call record and the answers
seen on the answers exchange:

- lost: an ordered event with no effect at the central application (a look-up carries no
  dossier there: one without an answer counts as unanswered);
- duplicated effects: a (dossier, sequence) or a message id applied more than once;
- reordered: a dossier whose effects are not in sequence order, or two different messages of
  one dossier in processing at once (stalls the simulator injected itself not counted);
- unanswered: an event with no final answer.

    .venv/bin/python -m bench.soak --events 20000 --dossiers 1000
    .venv/bin/python -m bench.soak --events 2000 --dossiers 200      # shorter

Exit status 0 when all four counts are 0.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from bench.common import (
    AnswerCollector,
    Event,
    SimulatorProcess,
    StoreUnderTest,
    broker_names,
    declare,
    delete_broker_names,
    dossier_kind,
    load_average,
    make_event,
    memory_mb,
    pki_in,
    publish,
    publisher_for,
    queue_depth,
    say,
    stop_on_sigterm,
)
from queues import Topology
from queues.errors import BrokerError
from tests.faults.proxy import FaultProxy
from tests.support.processes import AdapterProcess, adapter_environ

FAULT_KINDS = (
    "http500",
    "soap-server-fault",
    "drop",
    "timeout",
    "apply-then-drop",
    "apply-then-timeout",
)
STALL_KINDS = {"timeout", "apply-then-timeout"}


def traffic(args: argparse.Namespace, tag: str, rng: random.Random) -> list[Event]:
    """Every event, in publishing order: round robin, neighbours in a dossier sometimes swapped."""
    per_dossier = max(1, args.events // args.dossiers)
    keyed = []
    for dossier in range(args.dossiers):
        for sequence in range(1, per_dossier + 1):
            kind = dossier_kind(sequence, args.lookup_share, rng.random())
            key = sequence + rng.uniform(-args.shuffle, args.shuffle)
            keyed.append((key, dossier, sequence, kind))
    keyed.sort()
    return [make_event(tag, dossier, sequence, kind) for _, dossier, sequence, kind in keyed]


class Schedule:
    """When each fault strikes: by progress (share of events answered), so that every fault
    happens while there is work, however fast the adapter turns out to be; one SIGKILL falls
    in the middle of the central application's outage."""

    def __init__(self, args: argparse.Namespace, rng: random.Random) -> None:
        self.kills = sorted(rng.uniform(0.02, 0.95) for _ in range(max(0, args.kills - 1)))
        self.cuts = sorted(rng.uniform(0.1, 0.8) for _ in range(args.broker_cuts))
        self.outage_at = 0.3
        """The outage starts once this share of the events is answered..."""
        self.outage_seconds = args.outage_seconds
        """...and lasts this long; a SIGKILL falls in its middle."""


def main(argv: list[str] | None = None) -> int:
    """Run the soak; print the counts."""
    p = argparse.ArgumentParser(
        prog="bench.soak",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--events", type=int, default=20_000)
    p.add_argument("--dossiers", type=int, default=1000)
    p.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--kills", type=int, default=12, help="SIGKILLs of the adapter (>= 10)")
    p.add_argument("--broker-cuts", type=int, default=2)
    p.add_argument("--outage-seconds", type=float, default=60)
    p.add_argument("--fault-rate", type=float, default=0.05)
    p.add_argument("--fault-period", type=float, default=15, help="seconds per fault kind")
    p.add_argument("--latency-ms", type=float, default=5, help="simulated latency")
    p.add_argument("--jitter-ms", type=float, default=10)
    p.add_argument("--publish-rate", type=float, default=100, help="events/s published")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--lookup-share", type=float, default=0.1)
    p.add_argument("--shuffle", type=float, default=0.6, help="arrival disorder in a dossier")
    p.add_argument("--max-minutes", type=float, default=45, help="bound on the whole run")
    p.add_argument(
        "--stall-seconds", type=float, default=180, help="give up after no progress this long"
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workdir", type=Path)
    args = p.parse_args(argv)
    rng = random.Random(args.seed)
    stop_on_sigterm()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="vsb-soak-"))
    workdir.mkdir(parents=True, exist_ok=True)
    tag = f"s{uuid.uuid4().hex[:6]}"
    names = broker_names(tag)
    topology = Topology(**names)
    events = traffic(args, tag, rng)
    schedule = Schedule(args, rng)
    say(
        f"soak {len(events)} events / {args.dossiers} dossiers on {args.store}; work dir "
        f"{workdir}; load average {load_average()}"
    )
    pki = pki_in(workdir)
    simulator = SimulatorProcess(pki, workdir / "simulator.log")
    central = FaultProxy("127.0.0.1", simulator.port)
    broker = FaultProxy("127.0.0.1", 5672)
    store = StoreUnderTest(args.store, workdir, tag)
    adapter: AdapterProcess | None = None
    collector: AnswerCollector | None = None
    counts: dict[str, Any] = {}
    began = time.monotonic()
    deadline = began + 60 * args.max_minutes
    try:
        simulator.start(args.latency_ms, args.jitter_ms)
        central.start()
        broker.start()
        collector = AnswerCollector(topology.answers_exchange).start()
        publisher = publisher_for(topology)
        declare(topology)
        environ = adapter_environ(
            store.url,
            names,
            central.http_url("/soap"),
            pki,
            VSB_BROKER__URL=broker.amqp_url(),
            VSB_DELIVERY__CONCURRENCY=str(args.concurrency),
            VSB_STORE__POOL_SIZE=str(args.concurrency + 8),
            VSB_CENTRAL__MAILBOX_POLL_SECONDS="2",
        )
        adapter = AdapterProcess(environ, workdir / "adapter.log").start()

        published = threading.Event()
        publish_errors: list[str] = []
        sent: list[Event] = []

        def publish_all() -> None:
            start = time.monotonic()
            try:
                for n, event in enumerate(events):
                    delay = start + n / args.publish_rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    for _attempt in range(20):
                        try:
                            publish(publisher, topology, event)
                            sent.append(event)
                            break
                        except BrokerError as exc:
                            publish_errors.append(str(exc))
                            time.sleep(0.5)
            except Exception as exc:  # reported, and the soak still ends and counts
                publish_errors.append(f"publisher stopped: {exc!r}")
            finally:
                published.set()

        threading.Thread(target=publish_all, name="publisher", daemon=True).start()

        kills, cuts, fault_turn, peak_rss = 0, 0, 0, 0.0
        next_fault_at = refuse_until = outage_began = last_kill = 0.0
        outage_kill = False
        half_outage = args.outage_seconds / 2
        outage = "before"
        injected_kinds: list[str] = []
        last_progress = 0.0
        stalled = interrupted = False
        last_answered, progress_at = -1, 0.0
        while time.monotonic() < deadline:
            try:
                time.sleep(0.2)
            except KeyboardInterrupt:
                say("  interrupted: counting what was seen so far")
                interrupted = True
                break
            now = time.monotonic() - began
            answered = collector.final_count()
            if answered != last_answered:
                last_answered, progress_at = answered, now
            elif published.is_set() and outage != "on" and now - progress_at > args.stall_seconds:
                say(f"  no new answer for {args.stall_seconds:g} s: the adapter is stuck")
                stalled = True
                break
            if adapter.alive():
                peak_rss = max(peak_rss, memory_mb(adapter.pid)[1])
            if now - last_progress >= 15:
                last_progress = now
                say(
                    f"  t={now:4.0f}s answered {answered}/{len(sent)} (of {len(events)}) "
                    f"kills {kills} "
                    f"cuts {cuts} outage {outage} faults {injected_kinds[-1:]}"
                )
            # rotating transient faults at the simulator
            if now >= next_fault_at:
                kind = FAULT_KINDS[fault_turn % len(FAULT_KINDS)]
                simulator.set_faults(
                    kind, rate=args.fault_rate, seed=args.seed + fault_turn, stall_seconds=4
                )
                injected_kinds.append(kind)
                fault_turn += 1
                next_fault_at = now + args.fault_period
            progress = answered / max(len(events), 1)
            # the central application's outage, with a SIGKILL in its middle
            if outage == "before" and progress >= schedule.outage_at:
                say(f"  central application down for {args.outage_seconds:g} s")
                central.refuse(True)
                central.cut()
                outage, outage_began = "on", now
            elif outage == "on" and not outage_kill and now - outage_began >= half_outage:
                adapter.kill()
                kills += 1
                outage_kill = True
                adapter.start()
            elif outage == "on" and now >= outage_began + args.outage_seconds:
                central.refuse(False)
                outage = "over"
                say("  central application back")
            # broker connection cuts
            if cuts < len(schedule.cuts) and progress >= schedule.cuts[cuts]:
                broker.refuse(True)
                cut = broker.cut()
                refuse_until = now + 5
                cuts += 1
                say(f"  broker connections cut ({cut}) and refused for 5 s")
            if refuse_until and now >= refuse_until:
                broker.refuse(False)
                refuse_until = 0.0
            # SIGKILLs
            planned = kills - (1 if outage_kill else 0)
            if (
                planned < len(schedule.kills)
                and progress >= schedule.kills[planned]
                and now - last_kill >= 3
            ):
                adapter.kill()
                kills += 1
                last_kill = now
                adapter.start()
            if not adapter.alive():
                say("  the adapter exited by itself; restarting it (see adapter.log)")
                adapter.start()
            done_faulting = (
                kills >= len(schedule.kills) + 1 and cuts >= len(schedule.cuts) and outage == "over"
            )
            if published.is_set() and answered >= len(sent):
                if not done_faulting:
                    # The remaining faults would find nothing to do: say so, in the counts too.
                    say("  every event answered before the fault schedule ended")
                break
        duration = time.monotonic() - began
        simulator.set_faults(None)
        time.sleep(2)  # late answers of the last sends
        # Only what RabbitMQ confirmed is the adapter's responsibility.
        counts = check(sent, collector, simulator.record())
        counts.update(
            duration=round(duration),
            kills=kills,
            broker_cuts=cuts,
            outage=outage,
            stalled=stalled,
            interrupted=interrupted,
            fault_kinds=sorted(set(injected_kinds)),
            peak_rss_mb=round(peak_rss, 1),
            published=f"{len(sent)} of {len(events)}",
            publish_errors=publish_errors[-3:],
            dead_letters=store.count("SELECT count(*) FROM messages WHERE state = 'dead'"),
            undelivered_in_rabbitmq=queue_depth(topology.events_queue),
            rabbitmq_dead_letter_queue=queue_depth(topology.dead_letter_queue),
        )
    finally:
        if adapter is not None:
            with contextlib.suppress(Exception):
                adapter.terminate(timeout=30)
            adapter.kill()
        if collector is not None:
            collector.stop()
        broker.stop()
        central.stop()
        simulator.stop()
        delete_broker_names(names)
    failed = not counts or any(counts[k] for k in ("lost", "duplicated", "reordered", "unanswered"))
    if failed:
        say(f"store kept for inspection: {store.url}")
    else:
        store.drop()
    print(
        f"\n# soak {time.strftime('%Y-%m-%d %H:%M')}: {len(events)} events over "
        f"{args.dossiers} dossiers, {args.store}, concurrency {args.concurrency}, "
        f"{args.fault_rate:.0%} faults, latency {args.latency_ms:g}+{args.jitter_ms:g} ms"
    )
    if counts:
        print(
            f"lost {counts['lost']} / duplicated effects {counts['duplicated']} / "
            f"reordered {counts['reordered']} / unanswered {counts['unanswered']}"
        )
        for key, value in counts.items():
            if key not in ("lost", "duplicated", "reordered", "unanswered"):
                print(f"  {key}: {value}")
    say(f"logs in {workdir}")
    return 1 if failed else 0


def check(
    events: list[Event],
    collector: AnswerCollector,
    record: list[dict[str, Any]],
) -> dict[str, Any]:
    """The four counts (and their details) from the simulator's record and the answers."""
    seen = collector.snapshot()
    effects: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    by_message: Counter[str] = Counter()
    by_answer: dict[str, dict[str, Any]] = {}
    order: dict[str, list[int]] = defaultdict(list)
    injected: Counter[str] = Counter()
    duplicates_answered = 0
    for call in record:
        if call.get("injected"):
            injected[call["injected"]] += 1
        if call.get("duplicate"):
            duplicates_answered += 1
        if call.get("outcome") is None or call.get("duplicate"):
            continue
        by_message[str(call["message_id"])] += 1
        if call.get("answer_id"):
            by_answer[str(call["answer_id"])] = call
        if call.get("dossier_id"):
            effects[(call["dossier_id"], int(call["sequence"]))].append(call)
            order[call["dossier_id"]].append(int(call["sequence"]))
    lost, duplicated, unanswered, wrong = [], [], [], []
    first_stop: dict[str, int] = {}
    for event in sorted(events, key=lambda e: (e.dossier, e.sequence)):
        if event.kind == "stop":
            first_stop.setdefault(event.dossier, event.sequence)
    for event in events:
        received = seen.get(event.event_id)
        if received is None or received.first_final_at is None:
            unanswered.append(event.event_id)
        if event.ordered:
            applied = effects.get((event.dossier, event.sequence), [])
            if not applied:
                lost.append(event.event_id)
            elif len(applied) > 1:
                duplicated.append(event.event_id)
        elif received is not None:
            # A look-up has no dossier at the central application: its effect is traced
            # through its answer; one without an answer counts as unanswered only.
            calls = [by_answer[a] for a in received.answer_ids if a in by_answer]
            ids = {str(c["message_id"]) for c in calls}
            if any(by_message[i] > 1 for i in ids) or len(ids) > 1:
                duplicated.append(event.event_id)
        if received is not None and received.outcomes:
            expected = "accepted"
            if event.kind == "stop" and first_stop.get(event.dossier) != event.sequence:
                expected = "refused"  # VSB-STOP-DONE: the application was stopped already
            if received.outcomes[-1] != expected:
                wrong.append(f"{event.event_id}:{received.outcomes[-1]}")
    reordered = [d for d, seqs in order.items() if seqs != sorted(set(seqs))]
    pairs = overlapping(record)
    true_overlaps = []
    for first, second in pairs:
        if first["message_id"] == second["message_id"]:
            continue  # a resend of the same message (the client gave up waiting): no second effect
        if first.get("injected") in STALL_KINDS or second.get("injected") in STALL_KINDS:
            continue  # the simulator kept a call open after the client's timeout
        true_overlaps.append((first["message_id"], second["message_id"]))
    answers = sum(len(r.answer_ids) for r in seen.values())
    distinct = sum(len(set(r.answer_ids)) for r in seen.values())
    return {
        "lost": len(lost),
        "duplicated": len(duplicated),
        "reordered": len(reordered) + len(true_overlaps),
        "unanswered": len(unanswered),
        "examples": {
            "lost": lost[:5],
            "duplicated": duplicated[:5],
            "reordered": reordered[:5] + [f"{a}|{b}" for a, b in true_overlaps[:5]],
            "unanswered": unanswered[:5],
        },
        "wrong_outcomes": len(wrong),
        "wrong_outcome_examples": wrong[:5],
        "submit_calls": len(record),
        "injected_faults": dict(injected),
        "resends_answered_as_duplicates": duplicates_answered,
        "answers_published": answers,
        "answers_republished (at-least-once)": answers - distinct,
        "overlapping_calls (incl. stalls, same-id resends)": len(pairs),
    }


def overlapping(record: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Pairs of calls of one dossier in processing at the same time (as the simulator's
    ``/admin/overlaps``, but per dossier: that one compares every pair of calls)."""
    by_dossier: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for call in record:
        if call.get("dossier_id"):
            by_dossier[call["dossier_id"]].append(call)
    found = []
    for calls in by_dossier.values():
        for index, first in enumerate(calls):
            first_end = first["finished_at"] if first["finished_at"] is not None else float("inf")
            for second in calls[index + 1 :]:
                second_end = (
                    second["finished_at"] if second["finished_at"] is not None else float("inf")
                )
                if first["received_at"] < second_end and second["received_at"] < first_end:
                    found.append((first, second))
    return found


if __name__ == "__main__":
    sys.exit(main())
