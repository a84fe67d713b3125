"""Fault tests: the adapter as a real process, killed and cut off; the checks come from the
simulator's record and the answers exchange."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapter.devpki import DevPki
from queues import AnswerWatcher, BrokerAddress, ConfirmedPublisher, Topology
from simulator import Simulator
from tests.integration.conftest import outcome
from tests.support.processes import RABBITMQ_URL, AdapterProcess, adapter_environ


@dataclass
class FaultRig:
    """An adapter process, the simulator it talks to, and the EPD's side of RabbitMQ."""

    adapter: AdapterProcess
    simulator: Simulator
    watcher: AnswerWatcher
    publisher: ConfirmedPublisher
    events_exchange: str

    def send(self, *bodies: bytes) -> list[str]:
        """Publish events as the EPD would; returns their ids."""
        ids = []
        for body in bodies:
            event_id = json.loads(body)["id"]
            self.publisher.publish(self.events_exchange, "event", body, message_id=event_id)
            ids.append(event_id)
        return ids

    def final_answers(self, event_ids: list[str], timeout: float = 60) -> dict[str, list[str]]:
        """Outcomes per event, waiting until each has a final one."""
        found = self.watcher.collect(event_ids, timeout, until_final=True)
        outcomes: dict[str, list[str]] = defaultdict(list)
        for answer in found:
            outcomes[str(answer.event_id)].append(outcome(json.loads(answer.body)))
        return outcomes

    def assert_delivery_guarantees(self, event_ids: list[str], outcomes: dict[str, Any]) -> None:
        """No event lost or unanswered, no second effect, no reordering within a dossier."""
        unanswered = [e for e in event_ids if not any(o != "in-beraad" for o in outcomes[e])]
        assert unanswered == [], f"unanswered: {unanswered}"
        effects: dict[str, int] = defaultdict(int)
        for call in self.simulator.record():
            if call.outcome is not None and not call.duplicate:
                effects[str(call.message_id)] += 1
        assert [m for m, n in effects.items() if n > 1] == [], "a message had two effects"
        assert self.simulator.dossier_overlaps() == []
        by_dossier: dict[str, list[int]] = defaultdict(list)
        for call in self.simulator.record():
            if call.dossier_id and call.outcome is not None and not call.duplicate:
                by_dossier[call.dossier_id].append(int(call.sequence or 0))
        for dossier, sequences in by_dossier.items():
            assert sequences == sorted(sequences), f"dossier {dossier} reordered: {sequences}"


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
        topology = Topology(**broker_names)
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
