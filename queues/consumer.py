"""Consuming the EPD's events: manual acks, one callback per delivery, reconnect on loss.

The consumer is transport only: it hands the deliveries to the callback the engine gives it,
in batches, and acts on the returned ``Disposition`` of each. The callback must have stored
an event before it returns ``ACK`` for it (that is the whole durability contract of ingest).
"""

from __future__ import annotations

import contextlib
import enum
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pika
import pika.exceptions

from queues.connection import BrokerAddress
from queues.topology import Topology

log = logging.getLogger(__name__)

_CONNECT_SECONDS = 60.0
"""Time a connection attempt may take (TCP, TLS, AMQP handshake) before the loop is late."""
_TURN_SECONDS = 60.0
"""Time one turn may take: half a second of waiting, then storing a batch of up to
``batch_bytes`` (seconds under load, longer while the store is away and retried)."""


class Action(enum.Enum):
    """The three things the consumer can do with a delivery."""

    ACK = "ack"
    """Stored (or a known duplicate): remove it from the queue."""
    DEAD_LETTER = "dead-letter"
    """Cannot ever be stored: published to the dead-letter exchange with the reason, acked."""
    RETRY = "retry"
    """Not stored for a passing reason (store down): offered to the handler again, in place.

    The delivery is not returned to the queue meanwhile: a return would count toward the
    queue's delivery limit and a long store outage would dead-letter good events.
    """


@dataclass(frozen=True)
class Disposition:
    """What to do with a delivery once the callback is done with it, and why."""

    action: Action
    reason: str = ""
    """For a dead letter: the ``x-vsb-reason`` header (no personal data)."""

    ACK: ClassVar[Disposition]
    RETRY: ClassVar[Disposition]

    @classmethod
    def dead_letter(cls, reason: str) -> Disposition:
        """To the dead-letter queue with ``reason`` in its headers."""
        return cls(Action.DEAD_LETTER, reason)


Disposition.ACK = Disposition(Action.ACK)
Disposition.RETRY = Disposition(Action.RETRY)


@dataclass(frozen=True)
class Delivery:
    """One message from the events queue."""

    body: bytes
    redelivered: bool
    message_id: str | None


Handler = Callable[[Sequence[Delivery]], list[Disposition]]
"""Takes a batch of deliveries, returns one disposition each, in order."""


class Consumer:
    """Consumes the events queue on its own thread and connection until ``stop()``.

    No content of a delivery can make it reconnect: a handler that raises on a batch is
    called again with each delivery alone, and a delivery it still raises on is
    dead-lettered with the exception's class as the reason. Only broker trouble reconnects.
    """

    def __init__(
        self,
        address: BrokerAddress,
        topology: Topology,
        handler: Handler,
        *,
        prefetch: int = 200,
        max_body_bytes: int = 16_777_216,
        batch_bytes: int = 16_777_216,
        retry_seconds: float = 2.0,
        max_retry_seconds: float = 30.0,
        on_connection_change: Callable[[bool], None] | None = None,
        on_rejected: Callable[[str], None] | None = None,
        on_reconnect: Callable[[], None] | None = None,
        on_turn: Callable[[float], None] | None = None,
    ) -> None:
        self._address = address
        self._topology = topology
        self._handler = handler
        self._prefetch = prefetch
        self._max_body = max_body_bytes
        self._batch_bytes = batch_bytes
        self._retry_seconds = retry_seconds
        self._max_retry_seconds = max_retry_seconds
        self._on_connection_change = on_connection_change or (lambda _up: None)
        self._on_rejected = on_rejected or (lambda _reason: None)
        self._on_reconnect = on_reconnect or (lambda: None)
        self._on_turn = on_turn or (lambda _within: None)
        """Told on every turn of the loop when the next one comes (the daemon's watchdog)."""
        self._connection: pika.BlockingConnection | None = None
        self._dead_letters: Any = None
        self._batch: list[tuple[int, Delivery]] = []
        self.connected = False
        self._consumed = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start consuming in a background thread."""
        self._thread = threading.Thread(target=self.run, name="consumer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the delivery in hand (unacked ones go back to the queue)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        """Consume until stopped, reconnecting with backoff when the broker goes away."""
        delay = self._retry_seconds
        while not self._stopping.is_set():
            self.connected = False
            try:
                self._consume()
            except Exception as exc:
                if self._consumed:
                    # A connection that worked resets the backoff: only failing reconnects grow it.
                    delay = self._retry_seconds
                    self._consumed = False
                    self._on_reconnect()
                self._on_connection_change(False)
                log.warning("event consumer lost RabbitMQ (%s); retrying in %.0f s", exc, delay)
                self._on_turn(delay + _CONNECT_SECONDS)
                self._stopping.wait(delay)
                delay = min(delay * 2, 60.0)

    def _consume(self) -> None:
        self._on_turn(_CONNECT_SECONDS)
        connection = self._address.connect("vsb-adapter consumer")
        self._connection = connection
        self._batch = []
        try:
            channel = connection.channel()
            self._topology.declare(channel)
            # Dead letters of the adapter's own go out on a channel with publisher confirms:
            # the delivery is acknowledged only once its copy is safe in the dead-letter queue.
            self._dead_letters = connection.channel()
            self._dead_letters.confirm_delivery()
            channel.basic_qos(prefetch_count=self._prefetch)
            channel.basic_consume(self._topology.events_queue, self._on_message)
            self.connected = self._consumed = True
            self._on_connection_change(True)
            log.info("consuming %s", self._topology.events_queue)
            while not self._stopping.is_set():
                self._on_turn(_TURN_SECONDS)
                # Returns as soon as deliveries were dispatched: at rest a batch of one, under
                # load everything the socket held (up to the prefetch).
                connection.process_data_events(time_limit=0.5)
                while self._batch:
                    self._handle_batch(channel)
        finally:
            self.connected = False
            if connection.is_open:
                with contextlib.suppress(pika.exceptions.AMQPError):
                    connection.close()

    def _on_message(self, channel: Any, method: Any, properties: Any, body: bytes) -> None:
        delivery = Delivery(
            body=body,
            redelivered=bool(method.redelivered),
            message_id=getattr(properties, "message_id", None),
        )
        if len(body) > self._max_body:
            log.error(
                "event of %d bytes exceeds broker.max_event_bytes; sent to the dead-letter queue",
                len(body),
            )
            reason = f"oversized: {len(body)} bytes, more than broker.max_event_bytes"
            self._settle(channel, method.delivery_tag, delivery, Disposition.dead_letter(reason))
            self._on_rejected("oversized")
            return
        self._batch.append((method.delivery_tag, delivery))

    def _handle_batch(self, channel: Any) -> None:
        """Hand what was delivered so far to the handler at once, then settle each.

        At most ``batch_bytes`` of bodies at once (but always one): the handler holds a few
        copies of each body while it checks and stores them, so a backlog of large events is
        taken a few at a time rather than all that the prefetch let in.
        """
        size = count = 0
        for _tag, delivery in self._batch:
            size += len(delivery.body)
            if count and size > self._batch_bytes:
                break
            count += 1
        batch, self._batch = self._batch[:count], self._batch[count:]
        deliveries = [delivery for _tag, delivery in batch]
        dispositions = self._handled(deliveries)
        delay = self._retry_seconds
        while any(d.action is Action.RETRY for d in dispositions) and not self._stopping.is_set():
            # connection.sleep keeps heartbeats flowing while the handler's store is away.
            assert self._connection is not None
            self._connection.sleep(delay)
            delay = min(delay * 2, self._max_retry_seconds)
            again = [i for i, d in enumerate(dispositions) if d.action is Action.RETRY]
            retried = self._handled([deliveries[i] for i in again])
            for i, disposition in zip(again, retried, strict=True):
                dispositions[i] = disposition
        if all(d.action is Action.ACK for d in dispositions):
            channel.basic_ack(batch[-1][0], multiple=True)
            return
        for (tag, delivery), disposition in zip(batch, dispositions, strict=True):
            self._settle(channel, tag, delivery, disposition)

    def _handled(self, deliveries: list[Delivery]) -> list[Disposition]:
        """The handler's dispositions; a batch it raises on is handed over one by one."""
        try:
            dispositions = self._handler(deliveries)
            if len(dispositions) != len(deliveries):
                raise ValueError(f"{len(dispositions)} dispositions for {len(deliveries)}")
            return dispositions
        except Exception as exc:
            if len(deliveries) == 1:
                log.exception("the event handler failed on a delivery; dead-lettering it")
                self._on_rejected("handler-error")
                return [Disposition.dead_letter(f"handler failed: {exc.__class__.__name__}")]
            log.exception("the event handler failed on a batch; handing it over one by one")
            return [self._handled([delivery])[0] for delivery in deliveries]

    def _settle(self, channel: Any, tag: int, delivery: Delivery, disposition: Disposition) -> None:
        if disposition.action is Action.ACK:
            channel.basic_ack(tag)
        elif disposition.action is Action.DEAD_LETTER:
            self._publish_dead_letter(delivery, disposition.reason)
            channel.basic_ack(tag)
        else:
            channel.basic_nack(tag, requeue=True)

    def _publish_dead_letter(self, delivery: Delivery, reason: str) -> None:
        """A copy in the dead-letter queue, with the reason; raises if it is not confirmed."""
        properties = pika.BasicProperties(
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=delivery.message_id,
            headers={"x-vsb-reason": reason, "x-vsb-dead-lettered-by": "vsb-adapter"},
        )
        self._dead_letters.basic_publish(
            self._topology.dead_letter_exchange, "", delivery.body, properties, mandatory=True
        )
