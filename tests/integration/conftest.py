"""The daemon on real components: RabbitMQ, SQLite or PostgreSQL, the simulator over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from adapter.daemon import Daemon, broker_address
from adapter.devpki import DevPki
from adapter.settings import Settings, load_settings
from queues import AnswerWatcher, ConfirmedPublisher
from simulator import Simulator
from tests.support.processes import adapter_environ
from tests.support.rig import Harness


def make_settings(store_url: str, names: dict[str, str], sim: Simulator, pki: DevPki) -> Settings:
    """Settings for one test: its store, its broker names, quick timings."""
    return load_settings(None, adapter_environ(store_url, names, sim.url, pki))


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
