"""Publishing answers with ``mandatory`` and publisher confirms, on a connection of its own."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from queues.connection import BrokerAddress
from queues.errors import BrokerUnavailable, PublishRefused

log = logging.getLogger(__name__)


class ConfirmedPublisher:
    """Publishes persistent messages and returns only once RabbitMQ confirmed each one.

    Not thread-safe: one owner thread (pika connections are not). Reconnects lazily.
    """

    def __init__(
        self,
        address: BrokerAddress,
        name: str = "vsb-adapter publisher",
        *,
        on_connect: Callable[[BlockingChannel], None] | None = None,
    ) -> None:
        self._address = address
        self._name = name
        self._on_connect = on_connect or (lambda _channel: None)
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None

    def _open(self) -> BlockingChannel:
        if self._channel is not None and self._channel.is_open:
            return self._channel
        self.close()
        self._connection = self._address.connect(self._name)
        channel = self._connection.channel()
        # A broker that lost its definitions (a reset node) gets them back before any publish.
        self._on_connect(channel)
        channel.confirm_delivery()
        self._channel = channel
        return channel

    def publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        *,
        message_id: str,
        correlation_id: str | None = None,
        content_type: str = "application/fhir+json",
    ) -> None:
        """Publish and wait for the confirm; raise ``PublishRefused`` or ``BrokerUnavailable``."""
        properties = pika.BasicProperties(
            delivery_mode=pika.DeliveryMode.Persistent,
            content_type=content_type,
            message_id=message_id,
            correlation_id=correlation_id,
        )
        try:
            channel = self._open()
            channel.basic_publish(exchange, routing_key, body, properties, mandatory=True)
        except pika.exceptions.UnroutableError as exc:
            raise PublishRefused(f"no queue bound for {exchange}/{routing_key}") from exc
        except pika.exceptions.NackError as exc:
            raise PublishRefused(f"RabbitMQ refused the publish to {exchange}") from exc
        except (pika.exceptions.AMQPError, OSError, ValueError) as exc:
            self.close()
            raise BrokerUnavailable(f"publish to {exchange} failed: {exc!r}") from exc

    def keepalive(self) -> None:
        """Let pika answer heartbeats while there is nothing to publish.

        A blocking connection only talks to the broker inside a pika call; left idle for two
        heartbeat intervals, RabbitMQ closes it. A closed one is reopened by the next publish.
        """
        connection = self._connection
        if connection is None or not connection.is_open:
            return
        try:
            connection.process_data_events(time_limit=0)
        except (pika.exceptions.AMQPError, OSError, ValueError):
            self.close()

    def close(self) -> None:
        """Close the connection (a later publish reopens it)."""
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except (pika.exceptions.AMQPError, OSError):
                log.debug("closing the publisher connection failed", exc_info=True)
