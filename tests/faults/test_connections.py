"""Lost, refused, hung and flaky connections to RabbitMQ and to the central application.

The adapter runs as a real process; a ``FaultProxy`` sits between it and RabbitMQ or the
simulator. The EPD's side (publisher and answer watcher) always talks to RabbitMQ directly.
Every test checks, from the simulator's record and the answers exchange, that no event was
lost or left unanswered, that no message had a second effect and that no dossier was
reordered or had two messages in processing at once.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from adapter.store import Store, create_store_engine
from adapter.store.support import Support
from adapter.testing import memory_sealer
from simulator import Simulator
from tests.support import events
from tests.support.processes import RABBITMQ_URL, rabbitmq_via
from tests.support.proxy import FaultProxy
from tests.support.rig import FaultRig

Rig = Callable[..., FaultRig]


# --- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture
def broker_proxy() -> Iterator[FaultProxy]:
    """A fault proxy in front of the test RabbitMQ (for the adapter only)."""
    target = urlsplit(RABBITMQ_URL)
    with FaultProxy(target.hostname or "127.0.0.1", target.port or 5672) as proxy:
        yield proxy


@pytest.fixture
def central_proxy(simulator: Simulator) -> Iterator[FaultProxy]:
    """A fault proxy in front of the simulator's HTTP server."""
    target = urlsplit(simulator.url)
    with FaultProxy(target.hostname or "127.0.0.1", target.port or 80) as proxy:
        yield proxy


def through(proxy: FaultProxy, simulator: Simulator) -> str:
    """The simulator's SOAP endpoint, reached through ``proxy`` (TLS passes through it)."""
    return proxy.http_url(urlsplit(simulator.url).path).replace("http://", "https://", 1)


def traffic(tag: str, dossiers: int, lookups: int = 0) -> list[bytes]:
    """``dossiers`` dossiers of application (1) then stop (2), and some look-ups."""
    bodies = []
    for n in range(dossiers):
        bodies += [
            events.application(f"{tag}-{n}-1", f"{tag.upper()}-{n}", 1),
            events.stop(f"{tag}-{n}-2", f"{tag.upper()}-{n}", 2),
        ]
    bodies += [
        events.lookup(f"{tag}-look-{n}", f"{tag.upper()}-LOOK-{n}", 1) for n in range(lookups)
    ]
    return bodies


def wait_for_log(rig: FaultRig, text: str, timeout: float, *, after: int = 0) -> bool:
    """Whether ``text`` shows in the adapter's log (past offset ``after``) within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in rig.adapter.log_text()[after:]:
            return True
        time.sleep(0.1)
    return False


def answered(rig: FaultRig, event_ids: list[str]) -> set[str]:
    """Events that already have a final answer (without waiting)."""
    rig.watcher.collect(event_ids, 0.3, until_final=True)
    return {
        str(a.event_id)
        for a in rig.watcher.seen
        if a.event_id in event_ids and not a.routing_key.endswith(".in-beraad")
    }


def assert_answer_ids_stable(rig: FaultRig, event_ids: list[str]) -> None:
    """An answer published again (a lost confirm, a resend) keeps its id: the EPD can dedupe."""
    ids_by_kind: dict[tuple[str, str], set[str]] = defaultdict(set)
    for answer in rig.watcher.seen:
        if answer.event_id in event_ids:
            ids_by_kind[(str(answer.event_id), answer.routing_key)].add(str(answer.answer_id))
    unstable = {key: ids for key, ids in ids_by_kind.items() if len(ids) > 1}
    assert unstable == {}, f"one answer published under several ids: {unstable}"


def settled_record(simulator: Simulator, timeout: float = 10) -> list[Any]:
    """The simulator's record once every call finished (stalled ones are filled in late)."""
    deadline = time.monotonic() + timeout
    record = simulator.record()
    while any(c.finished_at is None for c in record) and time.monotonic() < deadline:
        time.sleep(0.1)
        record = simulator.record()
    return record


def accepted_applications(simulator: Simulator) -> int:
    """Applications the simulator accepted (each must have taken one reference number)."""
    return sum(1 for a in simulator.applications() if a.status == "accepted")


def stored_messages(store_url: str) -> tuple[list[Any], dict[str, tuple[str, int]]]:
    """Dead letters, and (state, attempts) per message id, from a stopped adapter's store."""
    engine = create_store_engine(store_url)
    try:
        store = Store(engine, sealer=memory_sealer())  # reads no payload
        dead = Support(store).dead_letters()
        with store.engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT message_id, state, attempts FROM messages"
            ).all()
        return dead, {str(r[0]): (str(r[1]), int(r[2])) for r in rows}
    finally:
        engine.dispose()


BROKER_HEARTBEAT = "2"


# --- RabbitMQ ---------------------------------------------------------------------------------


def test_broker_connection_cuts_lose_and_duplicate_nothing(
    broker_proxy: FaultProxy, fault_rig: Rig
) -> None:
    """Cutting the adapter's RabbitMQ connections twice mid-flow still answers every event once."""
    rig = fault_rig(
        VSB_BROKER__URL=rabbitmq_via(*broker_proxy.address),
        VSB_BROKER__HEARTBEAT_SECONDS=BROKER_HEARTBEAT,
    )
    rig.simulator.set_latency(20)
    rig.adapter.start()
    bodies = traffic("cut", 8, lookups=4)
    first = rig.send(*bodies[: len(bodies) // 2])
    rig.watcher.collect(first[:2], 20)
    offset = len(rig.adapter.log_text())
    assert broker_proxy.cut() >= 1, "the adapter should have been connected through the proxy"
    assert wait_for_log(rig, "consuming ", 20, after=offset), "the consumer should reconnect"
    rig.watcher.collect(first[:4], 20)
    broker_proxy.cut()
    rest = rig.send(*bodies[len(bodies) // 2 :])
    ids = first + rest
    outcomes = rig.final_answers(ids, timeout=30)
    rig.assert_delivery_guarantees(ids, outcomes)
    assert_answer_ids_stable(rig, ids)
    assert all(outcomes[f"cut-{n}-2"][-1] == "accepted" for n in range(8))
    assert broker_proxy.cuts >= 2
    assert "lost RabbitMQ" in rig.adapter.log_text()


def test_a_broker_outage_is_ridden_out(broker_proxy: FaultProxy, fault_rig: Rig) -> None:
    """RabbitMQ unreachable for 5 s: events published meanwhile are all answered afterwards."""
    rig = fault_rig(
        VSB_BROKER__URL=rabbitmq_via(*broker_proxy.address),
        VSB_BROKER__HEARTBEAT_SECONDS=BROKER_HEARTBEAT,
    )
    rig.adapter.start()
    before = rig.send(*traffic("out-a", 2))
    rig.final_answers(before, timeout=20)
    broker_proxy.refuse(True)
    broker_proxy.cut()
    during = rig.send(*traffic("out-b", 4, lookups=2))
    time.sleep(5)
    assert answered(rig, during) == set(), "nothing can be answered while RabbitMQ is away"
    assert broker_proxy.refused >= 1, "the adapter should have tried to reconnect"
    broker_proxy.refuse(False)
    ids = before + during
    outcomes = rig.final_answers(ids, timeout=25)
    rig.assert_delivery_guarantees(ids, outcomes)
    assert_answer_ids_stable(rig, ids)
    assert all(outcomes[f"out-b-{n}-2"][-1] == "accepted" for n in range(4))


def test_a_hung_broker_connection_is_detected_by_heartbeat(
    broker_proxy: FaultProxy, fault_rig: Rig
) -> None:
    """A broker connection where no byte passes is declared dead by heartbeat and reopened."""
    rig = fault_rig(
        VSB_BROKER__URL=rabbitmq_via(*broker_proxy.address), VSB_BROKER__HEARTBEAT_SECONDS="1"
    )
    rig.adapter.start()
    before = rig.send(*traffic("hang-a", 2))
    rig.final_answers(before, timeout=20)
    offset = len(rig.adapter.log_text())
    broker_proxy.stall(True)
    during = rig.send(*traffic("hang-b", 3, lookups=2))
    # pika checks every heartbeat + 5 s: a hung connection is noticed within 2 x 6 s.
    detected = wait_for_log(
        rig, "consumer lost RabbitMQ (No activity or too many missed heartbeats", 15, after=offset
    )
    assert answered(rig, during) == set(), "nothing passes while the connection hangs"
    broker_proxy.stall(False)
    assert detected, "the adapter did not notice the hung connection"
    ids = before + during
    outcomes = rig.final_answers(ids, timeout=25)
    rig.assert_delivery_guarantees(ids, outcomes)
    assert_answer_ids_stable(rig, ids)


def test_reconnecting_stays_quick_after_many_connection_losses(
    broker_proxy: FaultProxy, fault_rig: Rig
) -> None:
    """Each cut of a healthy connection is followed by a quick reconnect, however many before."""
    rig = fault_rig(
        VSB_BROKER__URL=rabbitmq_via(*broker_proxy.address),
        VSB_BROKER__HEARTBEAT_SECONDS=BROKER_HEARTBEAT,
    )
    rig.adapter.start()
    # The first latency must measure a connected adapter, not the start of a Python process.
    assert wait_for_log(rig, "consuming ", 30), "the adapter never started consuming"
    latencies = []
    for n in range(5):
        [event_id] = rig.send(events.lookup(f"blip-{n}", f"BLIP-{n}", 1))
        started = time.monotonic()
        outcomes = rig.final_answers([event_id], timeout=25)
        latencies.append(round(time.monotonic() - started, 1))
        assert outcomes[event_id], f"no answer after {n} cuts"
        assert latencies[-1] < 4, f"answer latency after 0, 1, 2... cuts: {latencies}"
        time.sleep(0.5)  # a healthy connection for a while
        broker_proxy.cut()


def test_an_idle_answer_publisher_keeps_its_connection(fault_rig: Rig) -> None:
    """After an idle spell longer than the heartbeat timeout the next answer publishes at once."""
    rig = fault_rig(VSB_BROKER__HEARTBEAT_SECONDS="1")
    rig.adapter.start()
    first = rig.send(events.lookup("idle-1", "IDLE-1", 1))
    rig.final_answers(first, timeout=20)
    time.sleep(5)  # RabbitMQ gives up on a silent connection after two heartbeats (2 s)
    offset = len(rig.adapter.log_text())
    second = rig.send(events.lookup("idle-2", "IDLE-2", 1))
    outcomes = rig.final_answers(second, timeout=20)
    assert outcomes["idle-2"]
    problems = [
        line
        for line in rig.adapter.log_text()[offset:].splitlines()
        if "cannot publish answers" in line or "Stream connection lost" in line
    ]
    assert problems == [], "the idle publisher connection was lost"


# --- the central application ------------------------------------------------------------------


def test_a_central_outage_opens_the_breaker_and_spends_no_attempts(
    central_proxy: FaultProxy, fault_rig: Rig, simulator: Simulator, sqlite_url: str
) -> None:
    """10 s of central outage under a 3-attempt cap dead-letters nothing: the breaker holds it."""
    rig = fault_rig(
        central_url=through(central_proxy, simulator),
        VSB_DELIVERY__MAX_ATTEMPTS="3",
        VSB_DELIVERY__BREAKER_FAILURES="3",
        VSB_DELIVERY__BREAKER_PROBE_SECONDS="0.5",
        VSB_DELIVERY__QUICK_TRIES="1",
    )
    rig.adapter.start()
    before = rig.send(*traffic("co-a", 2))
    rig.final_answers(before, timeout=20)
    central_proxy.refuse(True)
    central_proxy.cut()
    outage_started = time.monotonic()
    during = rig.send(*traffic("co-b", 6, lookups=3))
    assert wait_for_log(rig, "circuit breaker to the central application is now open", 10)
    time.sleep(max(0.0, 10 - (time.monotonic() - outage_started)))
    assert answered(rig, during) == set(), "nothing can be answered during the outage"
    calls_during_outage = len(simulator.record())
    central_proxy.refuse(False)
    ids = before + during
    outcomes = rig.final_answers(ids, timeout=30)
    rig.assert_delivery_guarantees(ids, outcomes)
    assert all(outcomes[f"co-b-{n}-2"][-1] == "accepted" for n in range(6))
    assert wait_for_log(rig, "circuit breaker to the central application is now closed", 5)
    assert calls_during_outage == len(before), "no call passed the proxy during the outage"
    assert rig.adapter.terminate(timeout=30) == 0
    dead, messages = stored_messages(sqlite_url)
    assert dead == [], f"dead letters after an outage: {[d.last_error for d in dead]}"
    assert {state for state, _ in messages.values()} == {"done"}
    # One successful attempt per message, plus at most the failures that opened the breaker.
    attempts = sum(n for _, n in messages.values())
    assert attempts <= len(messages) + 3, messages


def test_a_hung_central_application_is_timed_out_and_retried_once_in_effect(
    central_proxy: FaultProxy, fault_rig: Rig, simulator: Simulator
) -> None:
    """Calls hanging past the client timeout are given up and resent; each has one effect."""
    rig = fault_rig(central_url=through(central_proxy, simulator), VSB_CENTRAL__TIMEOUT_SECONDS="1")
    rig.adapter.start()
    before = rig.send(*traffic("hung-a", 2))
    rig.final_answers(before, timeout=20)
    central_proxy.stall(True)
    during = rig.send(*traffic("hung-b", 4, lookups=2))
    # Six calls time out after 1 s each: five consecutive failures open the breaker.
    assert wait_for_log(rig, "circuit breaker to the central application is now open", 10)
    time.sleep(2)
    assert answered(rig, during) == set(), "nothing can be answered while the calls hang"
    assert len(simulator.record()) == len(before), "no hung call reached the simulator"
    # The hung peer dies and comes back: what it held never arrives.
    central_proxy.cut()
    central_proxy.stall(False)
    ids = before + during
    outcomes = rig.final_answers(ids, timeout=30)
    rig.assert_delivery_guarantees(ids, outcomes)
    assert all(outcomes[f"hung-b-{n}-2"][-1] == "accepted" for n in range(4))
    assert simulator.references_issued == accepted_applications(simulator) == 6


def test_simulated_timeouts_are_retried_with_one_effect(fault_rig: Rig) -> None:
    """Calls stalled past the client timeout (and not applied) are resent, applied once each."""
    rig = fault_rig(VSB_CENTRAL__TIMEOUT_SECONDS="1")
    rig.simulator.set_faults("timeout", next=3, stall_seconds=2)
    rig.adapter.start()
    ids = rig.send(*traffic("slow", 3))
    outcomes = rig.final_answers(ids, timeout=30)
    record = settled_record(rig.simulator)
    rig.assert_delivery_guarantees(ids, outcomes)
    stalled = [c for c in record if c.injected == "timeout"]
    assert len(stalled) == 3
    for call in stalled:
        assert call.outcome is None, "a timed-out call must not have been applied"
        resent = [c for c in record if c.message_id == call.message_id and c.outcome is not None]
        assert len(resent) == 1, "resent until applied, applied once"
        assert not resent[0].duplicate
    assert rig.simulator.references_issued == accepted_applications(rig.simulator) == 3


def test_an_applied_then_timed_out_call_is_deduplicated_on_resend(fault_rig: Rig) -> None:
    """A call applied but answered after the client timeout is resent with its id, deduplicated."""
    rig = fault_rig(VSB_CENTRAL__TIMEOUT_SECONDS="1")
    # Only applications can come first: each stop waits for its application's answer.
    rig.simulator.set_faults("apply-then-timeout", next=2, stall_seconds=2)
    rig.adapter.start()
    ids = rig.send(*traffic("late", 3))
    outcomes = rig.final_answers(ids, timeout=30)
    record = settled_record(rig.simulator)
    rig.assert_delivery_guarantees(ids, outcomes)
    applied_late = [c for c in record if c.injected == "apply-then-timeout"]
    assert len(applied_late) == 2
    for call in applied_late:
        assert call.outcome == "accepted"
        again = [c for c in record if c.message_id == call.message_id and c is not call]
        assert again, f"message {call.message_id} was not resent"
        assert all(c.duplicate for c in again), "the resend must be deduplicated"
    assert rig.simulator.references_issued == accepted_applications(rig.simulator) == 3
    assert all(outcomes[f"late-{n}-2"][-1] == "accepted" for n in range(3))


def test_five_percent_transient_faults_lose_and_duplicate_nothing(fault_rig: Rig) -> None:
    """With 5 % of calls failing with HTTP 500, 40 events in 16 dossiers are all answered once."""
    rig = fault_rig()
    # Seed 21 strikes 4 times in the first 40 draws (one draw per Submit call).
    rig.simulator.set_faults("http500", rate=0.05, seed=21)
    rig.adapter.start()
    ids = rig.send(*traffic("flaky", 16, lookups=8))
    assert len(ids) == 40
    outcomes = rig.final_answers(ids, timeout=40)
    rig.assert_delivery_guarantees(ids, outcomes)
    record = rig.simulator.record()
    assert len([c for c in record if c.injected == "http500"]) >= 3
    assert all(outcomes[f"flaky-{n}-2"][-1] == "accepted" for n in range(16))
    assert rig.simulator.references_issued == accepted_applications(rig.simulator) == 16
