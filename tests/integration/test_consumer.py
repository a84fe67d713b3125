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


class SizeRecorder(Recorder):
    """Records the bytes of each batch it is handed."""

    def __init__(self) -> None:
        super().__init__()
        self.batch_sizes: list[int] = []

    def __call__(self, deliveries: Sequence[Delivery]) -> list[Disposition]:
        with self.lock:
            self.batch_sizes.append(sum(len(d.body) for d in deliveries))
        return super().__call__(deliveries)


def declared(topology: Topology) -> ConfirmedPublisher:
    """A publisher to the topology, declared first (no consumer has declared it yet)."""
    connection = BrokerAddress(RABBITMQ_URL).connect("test declare")
    topology.declare(connection.channel())
    connection.close()
    return ConfirmedPublisher(BrokerAddress(RABBITMQ_URL))


class TestBatchBytes:
    """A backlog of large events reaches the handler a few at a time, all acked in the end."""

    def test_batches_stay_within_the_byte_budget(self, topology: Topology) -> None:
        """20 bodies of 1000 bytes waiting at once, a budget of 3000: no batch above it."""
        publisher = declared(topology)
        bodies = [f"{n:04d}".encode() + b"x" * 996 for n in range(20)]
        for n, body in enumerate(bodies):
            publisher.publish(topology.events_exchange, "event", body, message_id=f"m-{n}")
        publisher.close()
        recorder = SizeRecorder()
        consumer = Consumer(
            BrokerAddress(RABBITMQ_URL), topology, recorder, prefetch=50, batch_bytes=3000
        )
        consumer.start()
        try:
            assert wait_for(lambda: len(recorder.acked) == 20)
        finally:
            consumer.stop(5)
        assert sorted(recorder.acked) == sorted(bodies)
        assert max(recorder.batch_sizes) <= 3000
        assert max(recorder.batch_sizes) == 3000  # the backlog was there at once: batches filled

    def test_one_body_over_the_budget_is_handled_alone(self, topology: Topology) -> None:
        """A body larger than the budget is still handed over (alone), never stuck."""
        publisher = declared(topology)
        publisher.publish(topology.events_exchange, "event", b"y" * 5000, message_id="big")
        publisher.close()
        recorder = SizeRecorder()
        consumer = Consumer(
            BrokerAddress(RABBITMQ_URL), topology, recorder, prefetch=50, batch_bytes=3000
        )
        consumer.start()
        try:
            assert wait_for(lambda: recorder.acked == [b"y" * 5000])
        finally:
            consumer.stop(5)
