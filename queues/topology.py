"""The RabbitMQ topology the adapter declares at start (idempotent; names from the settings).

::

    EPD ──publish──▶ [vsb.events] topic ──#──▶ (vsb.events)  quorum, delivery-limit 5
                                                   │ rejected / poison
                                                   ▼
                                           [vsb.events.dlx] fanout ──▶ (vsb.events.dead) quorum

    adapter ──publish (mandatory, confirmed)──▶ [vsb.answers] topic ──#──▶ (vsb.answers) quorum
         routing key: answer.<event-code>.<outcome>

Only deliveries the adapter could not even store reach the dead-letter queue (oversized,
undecodable past the delivery limit); everything it could store is refused or dead-lettered
in the SQL store instead, where support staff can replay it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Topology:
    """Exchange and queue names, and the events queue's poison limit."""

    events_exchange: str
    events_queue: str
    answers_exchange: str
    answers_queue: str
    dead_letter_exchange: str
    dead_letter_queue: str
    delivery_limit: int = 5

    def declare(self, channel: Any) -> None:
        """Declare every exchange, queue and binding on ``channel`` (a pika channel)."""
        quorum = {"x-queue-type": "quorum"}
        channel.exchange_declare(self.dead_letter_exchange, "fanout", durable=True)
        channel.queue_declare(self.dead_letter_queue, durable=True, arguments=quorum)
        channel.queue_bind(self.dead_letter_queue, self.dead_letter_exchange)

        channel.exchange_declare(self.events_exchange, "topic", durable=True)
        channel.queue_declare(
            self.events_queue,
            durable=True,
            arguments={
                **quorum,
                "x-dead-letter-exchange": self.dead_letter_exchange,
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
                "x-delivery-limit": self.delivery_limit,
            },
        )
        channel.queue_bind(self.events_queue, self.events_exchange, routing_key="#")

        channel.exchange_declare(self.answers_exchange, "topic", durable=True)
        channel.queue_declare(self.answers_queue, durable=True, arguments=quorum)
        channel.queue_bind(self.answers_queue, self.answers_exchange, routing_key="#")
