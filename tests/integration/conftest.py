"""The daemon on real components: RabbitMQ, SQLite or PostgreSQL, the simulator over HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from adapter.daemon import Daemon, broker_address
from adapter.devpki import DevPki
from adapter.settings import Settings, load_settings
from queues import AnswerWatcher, ConfirmedPublisher
from simulator import Simulator
from tests.support.processes import adapter_environ


def make_settings(store_url: str, names: dict[str, str], sim: Simulator, pki: DevPki) -> Settings:
    """Settings for one test: its store, its broker names, quick timings."""
    return load_settings(None, adapter_environ(store_url, names, sim.url, pki))


@dataclass
class Harness:
    """A running daemon plus ways to feed it events and read its answers."""

    settings: Settings
    daemon: Daemon
    watcher: AnswerWatcher
    publisher: ConfirmedPublisher

    def send(self, *bodies: bytes) -> list[str]:
        """Publish events; returns their event ids."""
        ids = []
        for body in bodies:
            event_id = json.loads(body)["id"]
            self.publisher.publish(
                self.settings.broker.events_exchange, "event", body, message_id=event_id
            )
            ids.append(event_id)
        return ids

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


@pytest.fixture
def start_adapter(
    pki: DevPki, broker_names: dict[str, str], simulator: Simulator
) -> Iterator[Callable[..., Harness]]:
    """Start a daemon on the given store URL (several starts model restarts)."""
    running: list[Harness] = []

    def start(store_url: str, **daemon_args: Any) -> Harness:
        settings = make_settings(store_url, broker_names, simulator, pki)
        daemon = Daemon(settings, **daemon_args)
        watcher = AnswerWatcher(broker_address(settings), settings.broker.answers_exchange)
        watcher.__enter__()
        daemon.start()
        harness = Harness(settings, daemon, watcher, ConfirmedPublisher(broker_address(settings)))
        running.append(harness)
        return harness

    yield start
    for harness in running:
        harness.publisher.close()
        harness.watcher.__exit__(None, None, None)
        harness.daemon.stop()


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
