"""The daemon on real components: RabbitMQ, SQLite or PostgreSQL, the simulator over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any, NamedTuple

import pytest

from adapter.daemon import Daemon, broker_address
from adapter.devpki import DevPki
from adapter.settings import Settings, load_settings
from queues import AnswerWatcher, ConfirmedPublisher
from simulator import Simulator
from tests.conftest import signing_config
from tests.support.processes import adapter_environ, unique_broker_names
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


class DomainRig(NamedTuple):
    """A daemon and the simulator it talks to, shared by a module's rule table."""

    adapter: Harness
    simulator: Simulator


@pytest.fixture(scope="module")
def domain_rig(pki: DevPki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DomainRig]:
    """A simulator and a daemon on SQLite and the local RabbitMQ, for a whole module: rule
    tables set the simulator's "today" per step and give each row its own dossiers."""
    config = signing_config(pki, today=date(2026, 1, 1))
    store = tmp_path_factory.mktemp("domain") / "store.db"
    with Simulator(config) as simulator, unique_broker_names() as names:
        settings = make_settings(f"sqlite:///{store}", names, simulator, pki)
        daemon = Daemon(settings)
        with AnswerWatcher(broker_address(settings), settings.broker.answers_exchange) as watcher:
            daemon.start()
            publisher = ConfirmedPublisher(broker_address(settings))
            try:
                yield DomainRig(Harness(settings, daemon, watcher, publisher), simulator)
            finally:
                publisher.close()
                daemon.stop()
