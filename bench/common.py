"""What the bench and the soak share: the simulator as a process, stores, broker names, the
EPD's side of RabbitMQ (a publisher and an answer collector), traffic, and /proc figures.

Everything here runs in the script's own process except the simulator, the adapter and the
bare pipeline, which are child processes (as in production: three processes on two cores).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pika
import pika.exceptions
import sqlalchemy as sa

from adapter.devpki import DevPki, create_dev_pki
from adapter.engine.answers import summarize
from queues import BrokerAddress, ConfirmedPublisher, Topology
from tests.support import events
from tests.support.processes import RABBITMQ_URL, ROOT

POSTGRES_URL = os.environ.get(
    "VSB_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
FACILITY_NIHDI = "71012314001"
TODAY = "2026-11-20"


def say(text: str) -> None:
    """Progress on stderr (the figures go to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def stop_on_sigterm() -> None:
    """SIGTERM (and SIGINT, even when a background shell ignores it) interrupts the main thread
    like Ctrl-C, so the scripts' ``finally`` blocks stop every child process."""

    def interrupt(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pki_in(workdir: Path) -> DevPki:
    """A throw-away PKI for the facility (71012314001)."""
    return create_dev_pki(workdir / "pki", FACILITY_NIHDI)


# ---- child processes ---------------------------------------------------------------------


def _ends(process: subprocess.Popen[bytes] | None, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if it does not end in time."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


class SimulatorProcess:
    """``python -m simulator`` in a child process, driven through its admin API."""

    def __init__(self, pki: DevPki, log_path: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self._pki = pki
        self._log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """``https://127.0.0.1:<port>`` (mutual TLS with the dev PKI)."""
        return f"https://127.0.0.1:{self.port}"

    def _tls(self) -> ssl.SSLContext:
        """The admin API is behind the same mutual TLS: the dev CA, the facility's cert."""
        context = ssl.create_default_context(cafile=str(self._pki.ca_cert))
        context.load_cert_chain(self._pki.facility_cert, self._pki.facility_key)
        return context

    @property
    def url(self) -> str:
        """The SOAP endpoint."""
        return self.base_url + "/soap"

    @property
    def pid(self) -> int:
        """The child's process id."""
        assert self.process is not None
        return self.process.pid

    def start(self, latency_ms: float = 0.0, jitter_ms: float = 0.0) -> SimulatorProcess:
        """Start and wait until the admin API answers."""
        command = [
            sys.executable,
            "-m",
            "simulator",
            "--port",
            str(self.port),
            "--trust-cert",
            str(self._pki.facility_cert),
            "--tls-cert",
            str(self._pki.server_cert),
            "--tls-key",
            str(self._pki.server_key),
            "--client-ca",
            str(self._pki.ca_cert),
            "--sign-key",
            str(self._pki.central_key),
            "--sign-cert",
            str(self._pki.central_cert),
            "--today",
            TODAY,
            "--latency-ms",
            str(latency_ms),
            "--jitter-ms",
            str(jitter_ms),
            "--log-level",
            "WARNING",
        ]
        log = open(self._log_path, "ab")  # noqa: SIM115 - the child owns it
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the simulator exited; see {self._log_path}")
            with contextlib.suppress(OSError):
                self.get("health")
                return self
            time.sleep(0.1)
        raise RuntimeError("the simulator did not start within 30 s")

    def stop(self) -> None:
        """Stop the child (SIGTERM, then SIGKILL)."""
        _ends(self.process)

    def get(self, action: str, timeout: float = 60) -> Any:
        """GET /admin/<action> as JSON."""
        url = f"{self.base_url}/admin/{action}"
        with urllib.request.urlopen(url, timeout=timeout, context=self._tls()) as r:
            return json.loads(r.read())

    def post(self, action: str, body: Any = None) -> Any:
        """POST /admin/<action> with a JSON body."""
        request = urllib.request.Request(
            f"{self.base_url}/admin/{action}",
            data=json.dumps(body if body is not None else {}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30, context=self._tls()) as r:
            return json.loads(r.read())

    def set_latency(self, latency_ms: float, jitter_ms: float = 0.0) -> None:
        """Every SOAP call takes this long (plus jitter)."""
        self.post("latency", {"latency_ms": latency_ms, "jitter_ms": jitter_ms})

    def set_faults(self, kind: str | None, **plan: Any) -> None:
        """Replace the fault plan (``None``: no faults)."""
        self.post("faults", {"kind": kind, **plan})

    def record(self) -> list[dict[str, Any]]:
        """Every Submit call since the last reset."""
        return list(self.get("record", timeout=120)["calls"])

    def reset_record(self) -> None:
        """Forget the recorded calls."""
        self.post("reset-record")


# ---- stores and broker names -------------------------------------------------------------


class StoreUnderTest:
    """A fresh SQLite file or PostgreSQL schema for one adapter phase; dropped by ``drop()``."""

    def __init__(self, kind: str, workdir: Path, tag: str) -> None:
        self.kind = kind
        self._schema = f"bench_{tag}".replace("-", "_")
        if kind == "sqlite":
            self.path: Path | None = workdir / f"store-{tag}.db"
            self.url = f"sqlite:///{self.path}"
        elif kind == "postgres":
            self.path = None
            admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.exec_driver_sql(f"CREATE SCHEMA {self._schema}")
            admin.dispose()
            self.url = f"{POSTGRES_URL}?options=-csearch_path%3D{self._schema}"
        else:
            raise ValueError(f"unknown store {kind!r} (sqlite or postgres)")

    def count(self, sql: str) -> int:
        """One integer from the store (read-only; the adapter may be writing meanwhile)."""
        if self.kind == "sqlite":
            assert self.path is not None
            if not self.path.exists():
                return 0
            connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
            try:
                return int(connection.execute(sql).fetchone()[0])
            except sqlite3.OperationalError:
                return 0  # not migrated yet
            finally:
                connection.close()
        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as db:
                return int(db.exec_driver_sql(sql).scalar() or 0)
        except sa.exc.ProgrammingError:
            return 0
        finally:
            engine.dispose()

    def drop(self) -> None:
        """Remove the file or the schema."""
        if self.kind == "sqlite":
            assert self.path is not None
            for suffix in ("", "-wal", "-shm", ".lock"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            return
        admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {self._schema} CASCADE")
        admin.dispose()


def broker_names(tag: str) -> dict[str, str]:
    """Exchange and queue names of their own for one phase."""
    return {
        "events_exchange": f"bench.{tag}.events",
        "events_queue": f"bench.{tag}.events",
        "answers_exchange": f"bench.{tag}.answers",
        "answers_queue": f"bench.{tag}.answers",
        "dead_letter_exchange": f"bench.{tag}.dlx",
        "dead_letter_queue": f"bench.{tag}.dead",
    }


def delete_broker_names(names: dict[str, str]) -> None:
    """Delete a phase's exchanges and queues (best effort)."""
    try:
        connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    except pika.exceptions.AMQPError:
        return
    try:
        for key, name in names.items():
            channel = connection.channel()
            with contextlib.suppress(pika.exceptions.AMQPError):
                if key.endswith("queue"):
                    channel.queue_delete(name)
                else:
                    channel.exchange_delete(name)
    finally:
        with contextlib.suppress(pika.exceptions.AMQPError):
            connection.close()


@dataclass(frozen=True)
class QueuedMessage:
    """One message read from a queue: its message id, headers and body size."""

    message_id: str | None
    headers: dict[str, Any]
    size: int


def read_queue(queue: str) -> list[QueuedMessage]:
    """Every ready message of ``queue`` (basic_get, none acknowledged: they stay queued)."""
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    found = []
    try:
        channel = connection.channel()
        while True:
            method, properties, body = channel.basic_get(queue, auto_ack=False)
            if method is None:
                break
            found.append(
                QueuedMessage(properties.message_id, dict(properties.headers or {}), len(body))
            )
    finally:
        with contextlib.suppress(pika.exceptions.AMQPError):
            connection.close()
    return found


def queue_depth(queue: str) -> int:
    """Ready messages in a queue (unacked ones not counted)."""
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    try:
        result = connection.channel().queue_declare(queue, passive=True)
        return int(result.method.message_count)
    finally:
        connection.close()


# ---- traffic -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One event of the generated traffic."""

    event_id: str
    dossier: str
    sequence: int
    kind: str
    """``application``, ``stop`` or ``lookup``."""
    body: bytes

    @property
    def ordered(self) -> bool:
        """Whether the adapter orders it within its dossier (look-ups are not ordered)."""
        return self.kind != "lookup"


def make_event(tag: str, dossier_no: int, sequence: int, kind: str) -> Event:
    """An event of dossier ``<tag>-<n>`` with this sequence number (ids are FHIR ids)."""
    dossier = f"{tag}-{dossier_no:05d}"
    event_id = f"{dossier}-{sequence}"
    build = {"application": events.application, "stop": events.stop, "lookup": events.lookup}
    return Event(event_id, dossier, sequence, kind, build[kind](event_id, dossier, sequence))


def dossier_kind(sequence: int, lookup_share: float, draw: float) -> str:
    """Sequence 1 is the application, later ones stops (the 2nd+ refused) or look-ups."""
    if sequence == 1:
        return "application"
    return "lookup" if draw < lookup_share else "stop"


class RoundRobinTraffic:
    """An endless stream: dossier 0..n-1 in turn, each one's sequence counting up."""

    def __init__(self, tag: str, dossiers: int) -> None:
        self._tag = tag
        self._dossiers = dossiers
        self._next = [1] * dossiers
        self._turn = 0

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        dossier = self._turn % self._dossiers
        self._turn += 1
        sequence = self._next[dossier]
        self._next[dossier] += 1
        return make_event(self._tag, dossier, sequence, dossier_kind(sequence, 0.0, 1.0))


# ---- the EPD's side of RabbitMQ ----------------------------------------------------------


def declare(topology: Topology) -> None:
    """Declare the phase's exchanges and queues (before the adapter or the EPD starts)."""
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    try:
        topology.declare(connection.channel())
    finally:
        connection.close()


def publisher_for(topology: Topology) -> ConfirmedPublisher:
    """A confirmed publisher that declares the topology on connect (as the EPD's would)."""
    return ConfirmedPublisher(
        BrokerAddress(RABBITMQ_URL), "bench publisher", on_connect=topology.declare
    )


def publish(publisher: ConfirmedPublisher, topology: Topology, event: Event) -> None:
    """Publish one event and wait for RabbitMQ's confirm."""
    publish_body(publisher, topology, event.body, event.event_id)


def publish_body(
    publisher: ConfirmedPublisher, topology: Topology, body: bytes, message_id: str
) -> None:
    """Publish any bytes as an event (not JSON, not UTF-8, empty...) and wait for the confirm.

    The same path as ``publish``: hostile bodies must reach the adapter exactly as valid ones.
    """
    publisher.publish(topology.events_exchange, "event", body, message_id=message_id)


def bulk_publish(topology: Topology, bodies: Iterable[tuple[str, bytes]]) -> int:
    """Publish many events fast: no per-message confirm, one confirm round at the end."""
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    count = 0
    try:
        channel = connection.channel()
        topology.declare(channel)
        for event_id, body in bodies:
            channel.basic_publish(
                topology.events_exchange,
                "event",
                body,
                pika.BasicProperties(
                    delivery_mode=pika.DeliveryMode.Persistent,
                    content_type="application/fhir+json",
                    message_id=event_id,
                ),
            )
            count += 1
            if count % 2000 == 0:
                connection.process_data_events(0)
        # A confirmed publish after the rest (to a queue of our own): RabbitMQ handles a
        # channel's publishes in order, so its confirm means every event before it is queued.
        fence = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
        channel.confirm_delivery()
        channel.basic_publish("", fence, b"fence")
    finally:
        connection.close()
    return count


_CONFLICT_CODE = b'"event-id-conflict"'
"""The issue code of the answer to a second body under a known event id (in its JSON)."""


@dataclass
class Received:
    """Answers seen for one event."""

    first_final_at: float | None = None
    first_at: float | None = None
    outcomes: list[str] = field(default_factory=list)
    answer_ids: list[str] = field(default_factory=list)
    issue_codes: list[str] = field(default_factory=list)
    """The issue codes of its ``invalid`` answers (what the adapter refused it for)."""


class AnswerCollector:
    """A private queue on the answers exchange, consumed on its own thread and connection.

    Records when each event's first (final) answer arrived, on this process's monotonic clock,
    and calls ``on_final(event_id)`` once per event for the first final answer.

    An ``event-id-conflict`` answer (a second body under a known event id) is kept apart, in
    ``conflicts``: it answers the second body, not the event that owns the id, and must not
    pass for that event's answer.
    """

    def __init__(
        self, answers_exchange: str, on_final: Callable[[str], None] | None = None
    ) -> None:
        self._exchange = answers_exchange
        self._on_final = on_final or (lambda _event_id: None)
        self.by_event: dict[str, Received] = {}
        self.conflicts: dict[str, list[str]] = {}
        """Event id -> answer ids of the ``event-id-conflict`` answers under that id."""
        self.answers = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="collector", daemon=True)

    def start(self) -> AnswerCollector:
        """Bind the private queue and start consuming (returns once bound)."""
        self._thread.start()
        if not self._ready.wait(15):
            raise RuntimeError(f"answer collector did not start: {self._error!r}")
        return self

    def stop(self) -> None:
        """Stop consuming and close the connection."""
        self._stopping.set()
        self._thread.join(5)

    def final_count(self, among: Collection[str] | None = None) -> int:
        """Events with a final answer so far (only those ``among`` these ids, if given)."""
        with self._lock:
            return sum(
                1
                for event_id, r in self.by_event.items()
                if r.first_final_at is not None and (among is None or event_id in among)
            )

    def conflict_snapshot(self) -> dict[str, list[str]]:
        """A copy of the ``event-id-conflict`` answers seen so far, by event id."""
        with self._lock:
            return {k: list(v) for k, v in self.conflicts.items()}

    def snapshot(self) -> dict[str, Received]:
        """A copy of what was seen so far."""
        with self._lock:
            return {
                k: Received(
                    v.first_final_at,
                    v.first_at,
                    list(v.outcomes),
                    list(v.answer_ids),
                    list(v.issue_codes),
                )
                for k, v in self.by_event.items()
            }

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._consume()
            except (pika.exceptions.AMQPError, OSError) as exc:
                self._error = exc
                if self._stopping.wait(1):
                    return

    def _consume(self) -> None:
        connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
        try:
            channel = connection.channel()
            channel.exchange_declare(self._exchange, "topic", durable=True)
            if not hasattr(self, "_queue"):
                # Not auto-deleted: a reconnect must find the answers published meanwhile.
                self._queue = f"bench.collector.{uuid.uuid4().hex[:10]}"
                channel.queue_declare(self._queue, arguments={"x-expires": 600_000})
                channel.queue_bind(self._queue, self._exchange, routing_key="#")
            channel.basic_qos(prefetch_count=500)
            channel.basic_consume(self._queue, self._on_message, auto_ack=True)
            self._ready.set()
            while not self._stopping.is_set():
                connection.process_data_events(time_limit=0.2)
            with contextlib.suppress(pika.exceptions.AMQPError):
                channel.queue_delete(self._queue)
        finally:
            with contextlib.suppress(pika.exceptions.AMQPError, OSError):
                connection.close()

    def _on_message(self, _channel: Any, method: Any, properties: Any, body: bytes) -> None:
        now = time.monotonic()
        event_id = str(properties.correlation_id)
        outcome = str(method.routing_key).rsplit(".", 1)[-1]
        final = outcome != "in-beraad"
        newly_final = False
        if _CONFLICT_CODE in body:
            with self._lock:
                self.answers += 1
                self.conflicts.setdefault(event_id, []).append(str(properties.message_id))
            return
        # Only refusals are decoded: the usual answer costs the collector no JSON parse.
        codes = _issue_codes(body) if outcome == "invalid" else []
        with self._lock:
            self.answers += 1
            seen = self.by_event.get(event_id)
            if seen is None:
                seen = self.by_event[event_id] = Received()
            if seen.first_at is None:
                seen.first_at = now
            seen.outcomes.append(outcome)
            seen.answer_ids.append(str(properties.message_id))
            seen.issue_codes.extend(codes)
            if final and seen.first_final_at is None:
                seen.first_final_at = now
                newly_final = True
        if newly_final:
            self._on_final(event_id)


def _issue_codes(body: bytes) -> list[str]:
    """The issue codes of a FHIR answer (``issues=a,b`` of the adapter's own summary)."""
    try:
        line = summarize(json.loads(body))
    except (ValueError, AttributeError, TypeError):
        return ["(answer not readable)"]
    for part in line.split("  "):
        if part.startswith("issues="):
            return part.removeprefix("issues=").split(",")
    return []


# ---- figures from /proc and from lists -----------------------------------------------------


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB; (0, 0) once it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0, 0.0
    values = {}
    for name in ("VmRSS", "VmHWM"):
        match = re.search(rf"^{name}:\s+(\d+) kB", text, re.MULTILINE)
        values[name] = int(match.group(1)) / 1024 if match else 0.0
    return values["VmRSS"], values["VmHWM"]


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process used so far (children not included)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, for a CPU utilisation over a window."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    total = sum(fields[:8])
    return float(total - idle), float(total)


def rabbitmq_pid() -> int | None:
    """The broker's process id (beam.smp), if it runs on this machine."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "beam.smp":
                    return int(entry.name)
    return None


class CpuWindow:
    """CPU seconds used by named processes (and the machine) between ``start`` and ``stop``."""

    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = {name: pid for name, pid in pids.items() if pid}
        self._start: dict[str, float] = {}
        self._machine: tuple[float, float] = (0.0, 0.0)
        self.used: dict[str, float] = {}
        self.machine_share = 0.0
        self.other_seconds = 0.0
        self.elapsed_cores = 0.0

    def start(self) -> None:
        """Take the first reading."""
        self._start = {name: cpu_seconds(pid) for name, pid in self._pids.items()}
        self._machine = machine_busy()

    def stop(self) -> None:
        """Take the second reading."""
        self.used = {name: cpu_seconds(pid) - self._start[name] for name, pid in self._pids.items()}
        busy, total = machine_busy()
        self.machine_share = (busy - self._machine[0]) / max(total - self._machine[1], 1.0)
        # Whatever else ran on the machine meanwhile (other people's tests, say).
        self.other_seconds = max(0.0, (busy - self._machine[0]) / _TICKS - sum(self.used.values()))
        self.elapsed_cores = (total - self._machine[1]) / _TICKS


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of ``values``; NaN for an empty list."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[rank]


def load_average() -> str:
    """The 1-minute load average, as text."""
    return Path("/proc/loadavg").read_text().split()[0]
