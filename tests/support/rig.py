"""Rigs around a running adapter for tests and bench: feed it events, read its answers.

``Harness`` wraps an in-process ``Daemon``; ``FaultRig`` an adapter child process beside the
simulator. The fixtures that build them live in the conftest of each test folder.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pika

from adapter.daemon import Daemon
from adapter.settings import Settings
from queues import AnswerWatcher, ConfirmedPublisher
from simulator import Simulator
from tests.support.processes import RABBITMQ_URL, AdapterProcess


def publish_events(
    publisher: ConfirmedPublisher, exchange: str, bodies: Iterable[bytes]
) -> list[str]:
    """Publish JSON events as the EPD would (message id = event id); returns their ids."""
    ids = []
    for body in bodies:
        event_id = json.loads(body)["id"]
        publisher.publish(exchange, "event", body, message_id=event_id)
        ids.append(event_id)
    return ids


def wait_for(condition: Callable[[], bool], timeout: float = 10) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def take_dead_letters(
    queue: str, count: int, timeout: float = 20
) -> list[tuple[bytes, dict[str, Any]]]:
    """Take ``count`` messages off a dead-letter queue (fewer if they do not come in time):
    their bodies and headers."""
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    channel = connection.channel()
    found: list[tuple[bytes, dict[str, Any]]] = []
    deadline = time.monotonic() + timeout
    while len(found) < count and time.monotonic() < deadline:
        method, properties, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            time.sleep(0.05)
            continue
        found.append((body, dict(properties.headers or {})))
    connection.close()
    return found


@dataclass
class Harness:
    """A running daemon plus ways to feed it events and read its answers."""

    settings: Settings
    daemon: Daemon
    watcher: AnswerWatcher
    publisher: ConfirmedPublisher

    def send(self, *bodies: bytes) -> list[str]:
        """Publish events; returns their event ids."""
        return publish_events(self.publisher, self.settings.broker.events_exchange, bodies)

    def answers(
        self, event_ids: list[str], timeout: float = 30, *, final: bool = True
    ) -> dict[str, list[dict[str, Any]]]:
        """The answers of these events, by event id (waits for a final one each, by default)."""
        collected = self.watcher.collect(event_ids, timeout, until_final=final)
        by_event: dict[str, list[dict[str, Any]]] = {e: [] for e in event_ids}
        for answer in collected:
            by_event[str(answer.event_id)].append(json.loads(answer.body))
        missing = [e for e, found in by_event.items() if not found]
        assert not missing, f"no answer for {missing}"
        return by_event


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
        return publish_events(self.publisher, self.events_exchange, bodies)

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


def outcome(answer: dict[str, Any]) -> str:
    """The outcome an answer announces."""
    header = answer["entry"][0]["resource"]
    return next(x["valueCode"] for x in header["extension"] if x["url"].endswith(":outcome"))


def reference(answer: dict[str, Any]) -> str | None:
    """The VSB reference number an answer carries, if any."""
    return next((e["resource"].get("preAuthRef") for e in answer["entry"][1:]), None)


def issue_codes(answer: dict[str, Any]) -> set[str]:
    """Every error or issue code in an answer."""
    codes: set[str] = set()
    for entry in answer["entry"][1:]:
        resource = entry["resource"]
        for error in resource.get("error", []):
            codes |= {c["code"] for c in error["code"]["coding"]}
        for issue in resource.get("issue", []):
            codes |= {c["code"] for c in issue["details"]["coding"]}
    return codes
