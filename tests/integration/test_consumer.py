"""The consumer on real RabbitMQ: no content of a delivery makes it reconnect or lose another."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import pytest

from queues import BrokerAddress, ConfirmedPublisher, Consumer, Delivery, Disposition, Topology
from tests.support.processes import RABBITMQ_URL
from tests.support.processes import topology as topology_of
from tests.support.rig import take_dead_letters, wait_for


class Recorder:
    """A handler double: acks what it is given, raises on a batch holding ``b"boom"``."""

    def __init__(self) -> None:
        self.acked: list[bytes] = []
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, deliveries: Sequence[Delivery]) -> list[Disposition]:
        with self.lock:
            self.calls += 1
            if any(d.body == b"boom" for d in deliveries):
                raise RuntimeError("a bug met by this content")
            self.acked += [d.body for d in deliveries]
        return [Disposition.ACK] * len(deliveries)


@pytest.fixture
def topology(broker_names: dict[str, str]) -> Topology:
    return topology_of(broker_names)


@pytest.fixture
def running(topology: Topology) -> Iterator[tuple[Consumer, Recorder, list[str]]]:
    """A consumer with a recording handler; the list collects its reconnects."""
    recorder = Recorder()
    reconnects: list[str] = []
    consumer = Consumer(
        BrokerAddress(RABBITMQ_URL),
        topology,
        recorder,
        prefetch=50,
        max_body_bytes=4096,
        on_reconnect=lambda: reconnects.append("lost"),
    )
    consumer.start()
    assert wait_for(lambda: consumer.connected)
    yield consumer, recorder, reconnects
    consumer.stop(5)


class TestIsolation:
    """A delivery the handler fails on is dead-lettered alone, with its reason."""

    def test_a_failing_delivery_costs_its_batch_nothing(
        self, topology: Topology, running: tuple[Consumer, Recorder, list[str]]
    ) -> None:
        """Its neighbours are handled and acked; it goes to the dead-letter queue; no reconnect."""
        consumer, recorder, reconnects = running
        publisher = ConfirmedPublisher(BrokerAddress(RABBITMQ_URL))
        bodies = [f"event-{n}".encode() for n in range(40)]
        bodies.insert(20, b"boom")
        bodies.append(b"x" * 5000)  # over max_body_bytes
        for n, body in enumerate(bodies):
            publisher.publish(topology.events_exchange, "event", body, message_id=f"m-{n}")
        publisher.close()
        assert wait_for(lambda: len(recorder.acked) == 40)
        assert sorted(recorder.acked) == sorted(b for b in bodies if b.startswith(b"event-"))
        dead = take_dead_letters(topology.dead_letter_queue, 2)
        reasons = {body[:10]: headers["x-vsb-reason"] for body, headers in dead}
        assert reasons == {
            b"boom": "handler failed: RuntimeError",
            b"x" * 10: "oversized: 5000 bytes, more than broker.max_event_bytes",
        }
        assert all(h["x-vsb-dead-lettered-by"] == "vsb-adapter" for _b, h in dead)
        assert reconnects == []
        assert consumer.connected
