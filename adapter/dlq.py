"""The broker's dead-letter queue (``broker.dead_letter_queue``) as support sees it.

It holds deliveries the adapter could not even store (oversized, or failing past the
delivery limit): no event, message or answer in the store. Read over AMQP: a look takes the
messages without acknowledging them and gives them all back when its channel closes, so they
keep their order (a look reads the whole queue: ``look``). ``requeue`` publishes a message
again to the events exchange (confirmed) before it takes it off the queue: a crash in
between leaves a copy in both, and the adapter ignores the second delivery of an event id it
stored. ``purge`` takes messages off for good.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pika

from queues import BrokerAddress, BrokerError
from queues.errors import PublishRefused

_MAX_PARSED = 1_048_576
"""Bodies larger than this are not parsed for their id (an oversized one may be huge)."""


@dataclass(frozen=True)
class DeadDelivery:
    """One message of the dead-letter queue, as RabbitMQ or the adapter recorded it."""

    position: int
    """1 for the head of the queue."""
    event_id: str | None
    """The AMQP message id, else the ``id`` of the body when it reads as JSON."""
    reason: str
    """``x-vsb-reason`` (the adapter's), else the reason of the first ``x-death`` entry."""
    deaths: int
    """How many times RabbitMQ dead-lettered it (``x-death`` counts; 0 for the adapter's)."""
    size: int
    body: bytes


def read_delivery(position: int, properties: Any, body: bytes) -> DeadDelivery:
    """What a dead-lettered delivery says about itself (no personal data but in ``body``)."""
    headers = dict(getattr(properties, "headers", None) or {})
    reason = _text(headers.get("x-vsb-reason"))
    deaths = headers.get("x-death") or []
    count = 0
    if isinstance(deaths, list) and deaths:
        first = deaths[0] if isinstance(deaths[0], dict) else {}
        count = sum(int(d.get("count", 1)) for d in deaths if isinstance(d, dict))
        if reason is None:
            reason = (
                f"{_text(first.get('reason')) or '?'} (from {_text(first.get('queue')) or '?'})"
            )
    return DeadDelivery(
        position=position,
        event_id=_text(getattr(properties, "message_id", None)) or _body_id(body),
        reason=reason or "no reason recorded",
        deaths=count,
        size=len(body),
        body=body,
    )


class DeadLetterQueue:
    """List, requeue and purge the broker's dead-letter queue."""

    def __init__(self, address: BrokerAddress, queue: str, events_exchange: str) -> None:
        self._address = address
        self._queue = queue
        self._events_exchange = events_exchange

    def look(self, limit: int | None = None) -> list[DeadDelivery]:
        """The messages from the head on (at most ``limit``), left in the queue.

        The whole queue is read even for a few: a quorum queue puts the messages a channel
        gives back behind those it did not hand out, so a partial look would move the first
        ``limit`` to the tail; given back all together, they keep their order.
        """
        with self._channel() as channel:
            return [d for d, _ in self._walk(channel)][:limit]

    def requeue(self, wanted: Callable[[DeadDelivery], bool]) -> list[DeadDelivery]:
        """Publish every message ``wanted`` picks to the events exchange again, then take it
        off the dead-letter queue; returns them."""
        return self._take(wanted, republish=True)

    def purge(self, wanted: Callable[[DeadDelivery], bool]) -> list[DeadDelivery]:
        """Take every message ``wanted`` picks off the queue for good; returns them."""
        return self._take(wanted, republish=False)

    def _take(self, wanted: Callable[[DeadDelivery], bool], republish: bool) -> list[DeadDelivery]:
        taken = []
        with self._channel() as channel:
            if republish:
                channel.confirm_delivery()
            for delivery, tag in self._walk(channel):
                if not wanted(delivery):
                    continue  # left unacknowledged: back in its place when the channel closes
                if republish:
                    self._republish(channel, delivery)
                channel.basic_ack(tag)
                taken.append(delivery)
        return taken

    def _republish(self, channel: Any, delivery: DeadDelivery) -> None:
        properties = pika.BasicProperties(
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=delivery.event_id,
            content_type="application/fhir+json",
        )
        try:
            channel.basic_publish(
                self._events_exchange, "event", delivery.body, properties, mandatory=True
            )
        except pika.exceptions.UnroutableError as exc:
            raise PublishRefused(f"{self._events_exchange} routed the event nowhere") from exc
        except pika.exceptions.NackError as exc:
            raise PublishRefused(f"RabbitMQ refused the event on {self._events_exchange}") from exc

    def _walk(self, channel: Any) -> Iterator[tuple[DeadDelivery, int]]:
        """Every message once, unacknowledged: at most as many as the queue held at the start
        (a message put back is not read twice)."""
        held = channel.queue_declare(self._queue, passive=True).method.message_count
        for position in range(1, held + 1):
            method, properties, body = channel.basic_get(self._queue, auto_ack=False)
            if method is None:
                return
            yield read_delivery(position, properties, body), method.delivery_tag

    @contextmanager
    def _channel(self) -> Iterator[Any]:
        connection = self._address.connect("vsb-adapter dlq")
        try:
            channel = connection.channel()
            yield channel
        except pika.exceptions.ChannelClosedByBroker as exc:
            raise BrokerError(f"RabbitMQ refused queue {self._queue}: {exc.reply_text}") from exc
        finally:
            if connection.is_open:
                connection.close()  # what was not acknowledged goes back in its place


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value) if value is not None else None


def _body_id(body: bytes) -> str | None:
    if len(body) > _MAX_PARSED:
        return None
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested past Python's stack
        return None
    found = document.get("id") if isinstance(document, dict) else None
    return found if isinstance(found, str) and len(found) <= 64 else None
