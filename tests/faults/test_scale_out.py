"""Two adapter processes on one PostgreSQL store share the work and never overlap a dossier."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from tests.support import events
from tests.support.processes import AdapterProcess
from tests.support.rig import FaultRig

Rig = Callable[..., FaultRig]
SHORT_LEASES = {
    "VSB_CENTRAL__TIMEOUT_SECONDS": "3",
    "VSB_DELIVERY__QUICK_TRIES": "1",
    "VSB_DELIVERY__LEASE_SECONDS": "14",
}


def dossier_traffic(prefix: str, dossiers: int) -> list[bytes]:
    bodies = []
    for n in range(dossiers):
        dossier = f"{prefix}-{n}"
        bodies.append(events.application(f"{dossier}-1", dossier, 1))
        bodies += [events.stop(f"{dossier}-{s}", dossier, s) for s in (2, 3)]
    return bodies


def wait_until_sending(store_url: str, owner: str, timeout: float = 20) -> bool:
    """Wait until ``owner`` holds a message in flight (a committed ``sending`` lease)."""
    engine = sa.create_engine(store_url)
    query = sa.text("SELECT count(*) FROM messages WHERE state = 'sending' AND lease_owner = :o")
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with engine.connect() as connection:
                    if connection.execute(query, {"o": owner}).scalar_one():
                        return True
            except sa.exc.ProgrammingError:
                pass  # the adapter has not created its tables yet
            time.sleep(0.02)
        return False
    finally:
        engine.dispose()


def second_process(rig: FaultRig, tmp_path: Path, instance: str) -> AdapterProcess:
    environ = {**rig.adapter._environ, "VSB_INSTANCE_ID": instance}
    return AdapterProcess(environ, tmp_path / f"{instance}.log")


def test_two_instances_share_dossiers_without_overlap(
    fault_rig: Rig, postgres_url: str, tmp_path: Path
) -> None:
    """Both instances send, and no dossier ever has two messages in processing."""
    rig = fault_rig(postgres_url, VSB_INSTANCE_ID="a", **SHORT_LEASES)
    rig.simulator.set_latency(50)
    other = second_process(rig, tmp_path, "b")
    rig.adapter.start()
    other.start()
    try:
        ids = rig.send(*dossier_traffic("SCALE", 12))
        outcomes = rig.final_answers(ids, timeout=90)
        rig.assert_delivery_guarantees(ids, outcomes)
    finally:
        other.kill()
    assert "started" in other.log_text()


def test_the_work_of_a_killed_instance_is_taken_over(
    fault_rig: Rig, postgres_url: str, tmp_path: Path
) -> None:
    """An instance killed mid-send loses nothing: its leases expire and the other resends."""
    rig = fault_rig(postgres_url, VSB_INSTANCE_ID="a", **SHORT_LEASES)
    rig.simulator.set_latency(1000)
    other = second_process(rig, tmp_path, "b")
    rig.adapter.start()
    try:
        ids = rig.send(*dossier_traffic("TAKE", 6))
        assert wait_until_sending(postgres_url, "a"), "instance a never had a message in flight"
        # b starts only now: started together, b could claim every head before a got one.
        other.start()
        rig.adapter.kill()
        outcomes = rig.final_answers(ids, timeout=120)
        rig.assert_delivery_guarantees(ids, outcomes)
    finally:
        other.kill()
    assert "expired lease" in other.log_text()
