"""Fault tests: the adapter as a real process, killed and cut off; the checks come from the
simulator's record and the answers exchange."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from adapter.devpki import DevPki
from queues import AnswerWatcher, BrokerAddress, ConfirmedPublisher
from simulator import Simulator
from tests.support.processes import RABBITMQ_URL, AdapterProcess, adapter_environ
from tests.support.processes import topology as topology_of
from tests.support.rig import FaultRig


@pytest.fixture
def fault_rig(
    tmp_path: Path,
    pki: DevPki,
    broker_names: dict[str, str],
    simulator: Simulator,
    sqlite_url: str,
) -> Iterator[Callable[..., FaultRig]]:
    """Build a rig around an adapter process on this test's store and broker names."""
    rigs: list[FaultRig] = []

    def build(
        store_url: str | None = None, central_url: str | None = None, **extra: str
    ) -> FaultRig:
        environ = adapter_environ(
            store_url or sqlite_url, broker_names, central_url or simulator.url, pki, **extra
        )
        topology = topology_of(broker_names)
        address = BrokerAddress(RABBITMQ_URL)
        watcher = AnswerWatcher(address, broker_names["answers_exchange"]).__enter__()
        rig = FaultRig(
            adapter=AdapterProcess(environ, tmp_path / "adapter.log"),
            simulator=simulator,
            watcher=watcher,
            publisher=ConfirmedPublisher(address, on_connect=topology.declare),
            events_exchange=broker_names["events_exchange"],
        )
        rigs.append(rig)
        return rig

    yield build
    for rig in rigs:
        rig.adapter.kill()
        rig.publisher.close()
        rig.watcher.__exit__(None, None, None)
