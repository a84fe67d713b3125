"""Soak: many events through an adapter that is killed, cut off and failed on, then counted.

The adapter runs as a child process (``python -m adapter run``) behind two fault proxies
(``tests/support/proxy.py``): one in front of RabbitMQ, one in front of the simulator, which
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
- unanswered: an event with no final answer (valid events only);
- consumer reconnects: adapter log lines "event consumer lost RabbitMQ" outside the windows
  of the broker cuts (a cut makes at least one, one more per refused reconnect; a SIGKILL
  makes none: the new process just connects);
- daemon crashes: exits of the adapter the soak did not cause (each restarted at once; the
  end of adapter.log at the first one is printed).

With ``--malformed N``, N hostile events are mixed into the traffic at random places (seeded
by ``--seed``), rotating through every kind of ``POISONS`` (nesting 5,000 deep, a number of
5,000 digits, NaN, a raw NUL, bytes that are not UTF-8, a lone surrogate or a zero-width
space, BOM or RLO in the dossier id, a string over the string limit, a body over
``broker.max_event_bytes`` (at most ``--malformed-oversized`` of those: 16 MiB each), a JSON
array, an empty body, an XML entity bomb in a text, and a second body under the id of an
earlier valid event). Each is made from a valid application of a dossier of its own, so no
poison takes a sequence number of a valid dossier. Each must end refused (an ``invalid``
answer under its event id, under ``unreadable-<sha256>`` if its id cannot be read, or an
``event-id-conflict`` answer) or in the dead-letter queue with an ``x-vsb-reason``; the soak
counts those that got neither, and reads the dead-letter queue at the end. Run it without
broker cuts, so that any reconnect is one that content caused::

    .venv/bin/python -m bench.soak --events 1000 --dossiers 100 --malformed 10000 --broker-cuts 0
    .venv/bin/python -m bench.soak --events 1000 --dossiers 100 --malformed 10000 --broker-cuts 0 \
        --store postgres

Without it::

    .venv/bin/python -m bench.soak --events 20000 --dossiers 1000
    .venv/bin/python -m bench.soak --events 2000 --dossiers 200      # shorter

Exit status 0 when every count is 0: lost, duplicated, reordered, unanswered, malformed events
with neither answer nor dead letter, consumer reconnects (outside cut windows), crashes.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import random
import re
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from adapter.settings import BrokerSettings
from bench.common import (
    AnswerCollector,
    Event,
    QueuedMessage,
    Received,
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
    publish_body,
    publisher_for,
    queue_depth,
    read_queue,
    say,
    stop_on_sigterm,
)
from mappings.body import MAX_STRING_CHARS
from queues.errors import BrokerError
from tests.support import events as example_events
from tests.support.processes import RABBITMQ_URL, AdapterProcess, adapter_environ, rabbitmq_via
from tests.support.processes import topology as topology_of
from tests.support.proxy import FaultProxy

FAULT_KINDS = (
    "http500",
    "soap-server-fault",
    "drop",
    "timeout",
    "apply-then-drop",
    "apply-then-timeout",
)
STALL_KINDS = {"timeout", "apply-then-timeout"}

# ---- malformed events --------------------------------------------------------------------

MAX_EVENT_BYTES = BrokerSettings().max_event_bytes
"""The adapter's default ``broker.max_event_bytes`` (the soak does not change it)."""
CONFLICT_GAP = 500
"""A conflicting body comes at least this many publishes after the valid event whose id it
takes: well beyond the adapter's prefetch (200), so the valid event is stored first even when
a SIGKILL puts deliveries back in the queue. Otherwise the poison would own the id."""
CONSUMER_LOST = "event consumer lost RabbitMQ"
"""The adapter's log line for a consumer connection that ended (or failed to open)."""
XML_BOMB = (
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "lol-lol-lol-lol-lol-lol-lol-lol">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
    '<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e SYSTEM "file:///etc/passwd">]>'
    "&d;&e;</Diagnosis><Injected>1</Injected><Diagnosis>"
)
"""Entity expansion, an external entity and a closing tag in a text: must reach the central
application as escaped characters (the event is otherwise valid, so it is accepted)."""


def _document(event: Event) -> dict[str, Any]:
    """The event's JSON document, to be changed."""
    return dict(json.loads(event.body))


def _in_body(event: Event, old: bytes, new: bytes) -> bytes:
    """The body with its one ``old`` replaced by ``new`` (bytes: the result need not be JSON)."""
    assert event.body.count(old) == 1, f"{old!r} is not in the body exactly once"
    return event.body.replace(old, new)


def _dossier_as(event: Event, raw: bytes) -> bytes:
    """The body with the dossier id's JSON string replaced by ``raw`` (between the quotes)."""
    return _in_body(event, b'"' + event.dossier.encode() + b'"', b'"' + raw + b'"')


def _sequence_as(event: Event, literal: bytes) -> bytes:
    """The body with the sequence number's literal (``1``) replaced by ``literal``."""
    return _in_body(event, b'"valuePositiveInt": 1', b'"valuePositiveInt": ' + literal)


def _inside_dossier(event: Event, character: str) -> bytes:
    """The dossier id with ``character`` in its middle, as raw UTF-8 (as an EPD would send)."""
    middle = len(event.dossier) // 2
    return _dossier_as(
        event, (event.dossier[:middle] + character + event.dossier[middle:]).encode()
    )


def _with_diagnosis(event: Event, text: str) -> bytes:
    """The application with ``text`` as its diagnosis (mapped to the SOAP request)."""
    document = _document(event)
    for entry in document["entry"]:
        for diagnosis in entry["resource"].get("diagnosis", []):
            diagnosis["diagnosisCodeableConcept"]["text"] = text
    return json.dumps(document).encode()


def _padded_past_limit(event: Event) -> bytes:
    """Bigger than ``broker.max_event_bytes``, though every string is within the string limit
    (so that size alone is what is wrong with it)."""
    document = _document(event)
    piece = "p" * (MAX_STRING_CHARS // 2)
    document["padding"] = [piece] * (MAX_EVENT_BYTES // len(piece) + 1)
    return json.dumps(document).encode()


# One generator per kind, each from a valid application of a dossier of its own (for a
# "conflict" that event already carries the id of an earlier valid event).
POISONS: dict[str, Callable[[Event], bytes]] = {
    "too-deep": lambda e: _sequence_as(e, b"[" * 5000 + b"1" + b"]" * 5000),
    "long-number": lambda e: _sequence_as(e, b"1" + b"0" * 4999),
    "nan": lambda e: _sequence_as(e, b"NaN"),
    "nul-byte": lambda e: _dossier_as(e, e.dossier.encode() + b"\x00"),  # raw, not \u0000
    "not-utf8": lambda e: _dossier_as(e, e.dossier.encode() + b"\xff\xfe\xc3\x28"),
    "lone-surrogate": lambda e: _dossier_as(e, e.dossier.encode() + b"\\ud800"),
    "zero-width-space": lambda e: _inside_dossier(e, "\u200b"),
    "bom": lambda e: _inside_dossier(e, "\ufeff"),
    "rlo": lambda e: _inside_dossier(e, "\u202e"),
    "long-string": lambda e: _with_diagnosis(e, "x" * (MAX_STRING_CHARS + 1)),
    "oversized": _padded_past_limit,
    "array": lambda e: b"[" + e.body + b"]",
    "empty": lambda _e: b"",
    "xml-bomb": lambda e: _with_diagnosis(e, XML_BOMB),
    "conflict": lambda e: e.body,
}


@dataclass(frozen=True)
class Poison:
    """One malformed event of the traffic."""

    kind: str
    label: str
    """Its message id: the event id of its own dossier (even for a conflict)."""
    event_id: str
    """The id in its body (a valid event's for a conflict; unreadable for some kinds)."""
    body: bytes

    @property
    def digest(self) -> str:
        """SHA-256 of the body (an answer under ``unreadable-<prefix>`` is matched by it)."""
        return hashlib.sha256(self.body).hexdigest()


def mixed_traffic(args: argparse.Namespace, tag: str, valid: list[Event]) -> list[Event | Poison]:
    """The valid events, in their order, with ``--malformed`` poisons at random places.

    Kinds rotate through ``POISONS``; a kind that cannot be made at its place (an oversized
    body past ``--malformed-oversized``, a conflict with no valid event far enough before it)
    gives its turn to the next kind. A random generator of its own keeps the valid traffic
    and the fault schedule exactly those of a run without malformed events.
    """
    rng = random.Random(f"malformed-{args.seed}")
    slots = [True] * len(valid) + [False] * args.malformed
    rng.shuffle(slots)
    kinds = list(POISONS)
    mixed: list[Event | Poison] = []
    eligible: list[Event] = []
    """Valid events published at least ``CONFLICT_GAP`` places before (conflict targets)..."""
    untargeted: list[Event] = []
    """...and those of them no conflict took yet."""
    valid_at: deque[tuple[int, Event]] = deque()
    oversized = turn = 0
    remaining = iter(valid)
    for position, is_valid in enumerate(slots):
        while valid_at and valid_at[0][0] <= position - CONFLICT_GAP:
            eligible.append(valid_at.popleft()[1])
            untargeted.append(eligible[-1])
        if is_valid:
            event = next(remaining)
            mixed.append(event)
            valid_at.append((position, event))
            continue
        while True:
            kind = kinds[turn % len(kinds)]
            turn += 1
            if kind == "oversized" and oversized >= args.malformed_oversized:
                continue
            if kind == "conflict" and not eligible:
                continue
            break
        base = make_event(f"{tag}x", len(mixed), 1, "application")
        label = base.event_id
        if kind == "oversized":
            oversized += 1
        if kind == "conflict":
            # Every valid event is taken once before any is taken twice.
            if untargeted:
                target = untargeted.pop(rng.randrange(len(untargeted)))
            else:
                target = rng.choice(eligible)
            body = example_events.application(target.event_id, base.dossier, 1)
            base = Event(target.event_id, base.dossier, 1, "application", body)
        mixed.append(Poison(kind, label, base.event_id, POISONS[kind](base)))
    return mixed


def settle_malformed(
    poisons: list[Poison],
    seen: dict[str, Received],
    conflicts: dict[str, list[str]],
    dead: dict[str, QueuedMessage],
) -> dict[str, str]:
    """How each poison ended, by label: ``answered <outcome> (<issue codes>)``,
    ``dead-lettered (<reason>)`` or ``neither``.

    An answer counts if it is final and correlated with the poison's event id, or, for a body
    whose id cannot be read, under ``unreadable-<sha256 prefix>`` of the body (identical
    bodies, the empty ones, share one such answer); a conflict counts one distinct
    ``event-id-conflict`` answer under the id it took.
    """
    unreadable = {
        event_id.removeprefix("unreadable-"): received
        for event_id, received in seen.items()
        if event_id.startswith("unreadable-") and received.first_final_at is not None
    }
    lengths = {len(prefix) for prefix in unreadable}
    conflict_answers = {event_id: len(set(ids)) for event_id, ids in conflicts.items()}
    status = {}
    for poison in poisons:
        received: Received | None = None
        if poison.kind == "conflict":
            if conflict_answers.get(poison.event_id, 0) > 0:
                conflict_answers[poison.event_id] -= 1
                status[poison.label] = "answered invalid (event-id-conflict)"
                continue
        else:
            received = seen.get(poison.event_id)
        if received is None or received.first_final_at is None:
            digest = poison.digest
            received = next(
                (unreadable[digest[:n]] for n in lengths if digest[:n] in unreadable), None
            )
        if received is not None and received.first_final_at is not None:
            codes = ",".join(sorted(set(received.issue_codes))) or "-"
            status[poison.label] = f"answered {received.outcomes[-1]} ({codes})"
        elif poison.label in dead:
            status[poison.label] = f"dead-lettered ({dead_reason(dead[poison.label])})"
        else:
            status[poison.label] = "neither"
    return status


def dead_reason(message: QueuedMessage) -> str:
    """Why a message is in the dead-letter queue: the adapter's ``x-vsb-reason`` (figures
    masked, so that reasons group), or RabbitMQ's own (delivery limit...)."""
    reason = message.headers.get("x-vsb-reason")
    if isinstance(reason, bytes):
        reason = reason.decode(errors="replace")
    if reason:
        return re.sub(r"\d+", "N", str(reason))
    first = message.headers.get("x-first-death-reason")
    if isinstance(first, bytes):
        first = first.decode(errors="replace")
    return f"by RabbitMQ: {first}" if first else "no reason given"


def consumer_reconnects(log_path: Path, cut_windows: list[tuple[float, float]]) -> tuple[int, int]:
    """(all, within a broker cut's window) of the adapter's "consumer lost RabbitMQ" lines.

    The log accumulates across restarts; its lines start with the local time
    (``2026-11-20 09:02:00,123``), compared with the wall-clock windows of the cuts.
    """
    if not log_path.exists():
        return 0, 0
    total = in_cuts = 0
    with log_path.open(errors="replace") as log:
        for line in log:
            if CONSUMER_LOST not in line:
                continue
            total += 1
            try:
                at = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            except ValueError:
                continue  # not the usual format: counted as a reconnect of its own
            if any(start <= at <= end for start, end in cut_windows):
                in_cuts += 1
    return total, in_cuts


def log_tail(log_path: Path, lines: int = 30) -> list[str]:
    """The last lines of a log file."""
    if not log_path.exists():
        return []
    return log_path.read_text(errors="replace").splitlines()[-lines:]


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
    p.add_argument(
        "--malformed", type=int, default=0, help="malformed events mixed into the traffic"
    )
    p.add_argument(
        "--malformed-oversized",
        type=int,
        default=10,
        help="at most this many of them over broker.max_event_bytes (16 MiB each)",
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
    topology = topology_of(names)
    events = traffic(args, tag, rng)
    schedule = Schedule(args, rng)
    mixed = mixed_traffic(args, tag, events) if args.malformed > 0 else list[Event | Poison](events)
    valid_ids = {event.event_id for event in events}
    poison_kinds = Counter(item.kind for item in mixed if isinstance(item, Poison))
    say(
        f"soak {len(events)} events / {args.dossiers} dossiers on {args.store}; work dir "
        f"{workdir}; load average {load_average()}"
    )
    if poison_kinds:
        say(f"  with {sum(poison_kinds.values())} malformed events: {dict(poison_kinds)}")
    pki = pki_in(workdir)
    simulator = SimulatorProcess(pki, workdir / "simulator.log")
    central = FaultProxy("127.0.0.1", simulator.port)
    broker_target = urlsplit(RABBITMQ_URL)
    broker = FaultProxy(broker_target.hostname or "127.0.0.1", broker_target.port or 5672)
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
            VSB_BROKER__URL=rabbitmq_via(*broker.address),
            VSB_DELIVERY__CONCURRENCY=str(args.concurrency),
            VSB_STORE__POOL_SIZE=str(args.concurrency + 8),
            VSB_CENTRAL__MAILBOX_POLL_SECONDS="2",
        )
        adapter_log = workdir / "adapter.log"
        adapter = AdapterProcess(environ, adapter_log).start()

        published = threading.Event()
        publish_errors: list[str] = []
        sent: list[Event] = []
        sent_poisons: list[Poison] = []

        def publish_all() -> None:
            start = time.monotonic()
            try:
                for n, item in enumerate(mixed):
                    delay = start + n / args.publish_rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    for _attempt in range(20):
                        try:
                            if isinstance(item, Poison):
                                publish_body(publisher, topology, item.body, item.label)
                                sent_poisons.append(item)
                            else:
                                publish(publisher, topology, item)
                                sent.append(item)
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
        crashes: list[str] = []
        first_crash_tail: list[str] = []
        cut_windows: list[tuple[float, float]] = []
        """Wall-clock spans in which the adapter's consumer is expected to lose RabbitMQ."""
        malformed_settled, settled_checked_at = 0, -10.0
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
            answered = collector.final_count(valid_ids)
            if sent_poisons and now - settled_checked_at >= 2:
                # Answered or dead-lettered (the queue's depth, read cheaply: the exact
                # account comes at the end, message by message).
                settled_checked_at = now
                status = settle_malformed(
                    list(sent_poisons), collector.snapshot(), collector.conflict_snapshot(), {}
                )
                malformed_settled = sum(1 for v in status.values() if v != "neither")
                with contextlib.suppress(Exception):
                    malformed_settled += queue_depth(topology.dead_letter_queue)
            if answered + malformed_settled != last_answered:
                last_answered, progress_at = answered + malformed_settled, now
            elif published.is_set() and outage != "on" and now - progress_at > args.stall_seconds:
                say(f"  no new answer for {args.stall_seconds:g} s: the adapter is stuck")
                stalled = True
                break
            if adapter.alive():
                peak_rss = max(peak_rss, memory_mb(adapter.pid)[1])
            if now - last_progress >= 15:
                last_progress = now
                malformed = (
                    f"malformed settled {malformed_settled}/{len(sent_poisons)} "
                    if args.malformed > 0
                    else ""
                )
                say(
                    f"  t={now:4.0f}s answered {answered}/{len(sent)} (of {len(events)}) "
                    f"{malformed}kills {kills} crashes {len(crashes)} "
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
                cut_windows.append((time.time() - 1, float("inf")))
                broker.refuse(True)
                cut = broker.cut()
                refuse_until = now + 5
                cuts += 1
                say(f"  broker connections cut ({cut}) and refused for 5 s")
            if refuse_until and now >= refuse_until:
                broker.refuse(False)
                refuse_until = 0.0
                # The attempts that fail while refused log a line each; the next one passes.
                cut_windows[-1] = (cut_windows[-1][0], time.time() + 3)
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
                # Every exit the soak causes is followed by a start at once: this one is a crash.
                code = adapter.wait_exit(5)
                crashes.append(f"t={now:.0f}s exit code {code}")
                if not first_crash_tail:
                    first_crash_tail = log_tail(adapter_log)
                say(f"  the adapter exited by itself (exit code {code}); restarting it")
                adapter.start()
            done_faulting = (
                kills >= len(schedule.kills) + 1 and cuts >= len(schedule.cuts) and outage == "over"
            )
            if (
                published.is_set()
                and answered >= len(sent)
                and malformed_settled >= len(sent_poisons)
            ):
                if not done_faulting:
                    # The remaining faults would find nothing to do: say so, in the counts too.
                    say("  every event answered before the fault schedule ended")
                break
        duration = time.monotonic() - began
        simulator.set_faults(None)
        time.sleep(2)  # late answers of the last sends
        # Only what RabbitMQ confirmed is the adapter's responsibility.
        counts = check(sent, collector, simulator.record())
        dead_letters = read_queue(topology.dead_letter_queue)
        reconnects, in_cuts = consumer_reconnects(adapter_log, cut_windows)
        counts.update(
            valid_unanswered=counts["unanswered"],
            **malformed_counts(sent_poisons, valid_ids, collector, dead_letters),
            consumer_reconnects=reconnects - in_cuts,
            consumer_lost_lines=reconnects,
            consumer_lost_lines_in_cut_windows=in_cuts,
            crashes=len(crashes),
            crash_exits=crashes[:10],
        )
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
    failed = not counts or any(counts[k] for k in HEADLINE)
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
        if args.malformed > 0:
            print(
                f"valid unanswered {counts['valid_unanswered']} / malformed "
                f"{counts['malformed_published']}: answered {counts['malformed_answered']}, "
                f"dead-lettered {counts['malformed_dead_lettered']}, "
                f"neither {counts['malformed_neither']}"
            )
        print(
            f"consumer reconnects {counts['consumer_reconnects']} / "
            f"daemon crashes {counts['crashes']}"
        )
        if args.broker_cuts > 0:
            print(
                f"  ({counts['consumer_lost_lines']} consumer-lost lines in adapter.log, "
                f"{counts['consumer_lost_lines_in_cut_windows']} of them within the "
                f"{counts['broker_cuts']} broker cuts, which make at least one each: run with "
                "--broker-cuts 0 to see the reconnects content alone causes)"
            )
        shown = {*HEADLINE, "valid_unanswered", "malformed_published", "malformed_answered"}
        shown |= {"malformed_dead_lettered"}
        for key, value in counts.items():
            if key not in shown:
                print(f"  {key}: {value}")
        if first_crash_tail:
            print("adapter.log at the first crash (last 30 lines):")
            for line in first_crash_tail:
                print(f"  | {line}")
    say(f"logs in {workdir}")
    return 1 if failed else 0


HEADLINE = (
    "lost",
    "duplicated",
    "reordered",
    "unanswered",
    "malformed_neither",
    "consumer_reconnects",
    "crashes",
)
"""The counts whose goal is 0 (the exit status)."""


def malformed_counts(
    poisons: list[Poison],
    valid_ids: set[str],
    collector: AnswerCollector,
    dead_letters: list[QueuedMessage],
) -> dict[str, Any]:
    """The malformed events' counts: answered, dead-lettered, neither, by kind; and what the
    dead-letter queue holds, by reason."""
    if not poisons:
        return {"malformed_neither": 0}
    by_label = {message.message_id: message for message in dead_letters if message.message_id}
    seen = collector.snapshot()
    status = settle_malformed(poisons, seen, collector.conflict_snapshot(), by_label)
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for poison in poisons:
        by_kind[poison.kind][status[poison.label]] += 1
    kinds = {poison.label: poison.kind for poison in poisons}
    unreadable = [i for i, r in seen.items() if i.startswith("unreadable-") and r.outcomes]
    neither = [label for label, outcome in status.items() if outcome == "neither"]
    return {
        "malformed_published": len(poisons),
        "malformed_answered": sum(1 for v in status.values() if v.startswith("answered")),
        "malformed_dead_lettered": sum(1 for v in status.values() if v.startswith("dead")),
        "malformed_neither": len(neither),
        "malformed_neither_examples": [f"{label}:{kinds[label]}" for label in neither[:5]],
        "malformed_by_kind": {kind: dict(c) for kind, c in sorted(by_kind.items())},
        "malformed_answered_and_dead_lettered": sum(
            1 for label, v in status.items() if label in by_label and v.startswith("answered")
        ),
        "unreadable_answers (distinct ids; identical bodies share one)": len(unreadable),
        "dead_letter_queue": len(dead_letters),
        "dead_letter_reasons": dict(Counter(dead_reason(m) for m in dead_letters)),
        "dead_letters_of_valid_events": sum(1 for m in dead_letters if m.message_id in valid_ids),
        "dead_letters_unknown": sum(
            1 for m in dead_letters if m.message_id not in kinds and m.message_id not in valid_ids
        ),
    }


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
