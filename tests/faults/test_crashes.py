"""SIGKILL at every state change loses nothing, sends nothing twice and reorders nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from adapter.crashpoints import CrashPoint
from tests.support import events
from tests.support.rig import FaultRig

Rig = Callable[..., FaultRig]


def traffic() -> list[bytes]:
    """Three dossiers of application + stop, and a look-up."""
    bodies = []
    for n in range(3):
        bodies += [
            events.application(f"c{n}-1", f"CRASH-{n}", 1),
            events.stop(f"c{n}-2", f"CRASH-{n}", 2),
        ]
    bodies.append(events.lookup("c-look", "CRASH-LOOK", 1))
    return bodies


@pytest.mark.parametrize(
    "point",
    [
        CrashPoint.AFTER_STORE_BEFORE_ACK,
        CrashPoint.AFTER_SENDING_BEFORE_ANSWER,
        CrashPoint.AFTER_ANSWER_BEFORE_PUBLISH,
    ],
)
def test_a_killed_adapter_resumes_exactly(fault_rig: Rig, point: CrashPoint) -> None:
    """Killed at the crash point, restarted, every event is answered with one effect each."""
    rig = fault_rig()
    rig.adapter.start(VSB_CRASH_POINT=point.value)
    ids = rig.send(*traffic())
    assert rig.adapter.wait_exit(30) == -9, "the adapter should have killed itself"
    rig.adapter.start()
    outcomes = rig.final_answers(ids)
    rig.assert_delivery_guarantees(ids, outcomes)
    assert all(outcomes[f"c{n}-2"][-1] == "accepted" for n in range(3))
    if point is CrashPoint.AFTER_SENDING_BEFORE_ANSWER:
        assert any(call.duplicate for call in rig.simulator.record()), "a resend was expected"


def test_a_kill_before_the_mailbox_confirm_fetches_the_decision_again(fault_rig: Rig) -> None:
    """A decision published but not confirmed is fetched again, not lost, and then confirmed."""
    rig = fault_rig()
    rig.adapter.start(VSB_CRASH_POINT=CrashPoint.AFTER_PUBLISH_BEFORE_CONFIRM.value)
    ids = rig.send(
        events.application("m-1", "MAILBOX", 1, insz=events.CAN_JOIN),
        events.stop("m-2", "MAILBOX", 2, insz=events.CAN_JOIN),
    )
    rig.watcher.collect(ids[:1], 30)
    [case] = rig.simulator.pending()
    rig.simulator.decide(case.message_id, decision="accept")
    assert rig.adapter.wait_exit(30) == -9, "the adapter should have killed itself"
    assert rig.simulator.mailbox("71012314001"), "the decision must still be in the mailbox"
    rig.adapter.start()
    outcomes = rig.final_answers(ids)
    rig.assert_delivery_guarantees(ids, outcomes)
    assert "accepted" in outcomes["m-1"]
    assert outcomes["m-2"][-1] == "accepted"
    decision_ids = {a.answer_id for a in rig.watcher.seen if a.event_id == "m-1"}
    assert len(decision_ids) == 2, "in-beraad and one decision, however often published"


def test_sigterm_stops_cleanly_within_the_drain_time(fault_rig: Rig) -> None:
    """SIGTERM with work in flight ends the process with code 0 in bounded time."""
    rig = fault_rig()
    rig.simulator.set_latency(500)
    rig.adapter.start()
    ids = rig.send(*traffic())
    rig.watcher.collect(ids[:1], 20)
    assert rig.adapter.terminate(timeout=30) == 0
    assert rig.adapter.stop_seconds < 15
    rig.simulator.set_latency(0)
    rig.adapter.start()
    outcomes = rig.final_answers(ids)
    rig.assert_delivery_guarantees(ids, outcomes)
