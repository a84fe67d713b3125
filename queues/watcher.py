"""Watching the answers exchange without taking answers away from the EPD.

A watcher binds a private, exclusive, auto-deleted queue to the answers exchange, so it gets a
copy of every answer published while it exists. Used by ``vsb-adapter send --wait`` and tests.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass
from types import TracebackType

import pika

from queues.connection import BrokerAddress


@dataclass(frozen=True)
class WatchedAnswer:
    """One answer as published: its id, the event it answers, routing key and body."""

    answer_id: str | None
    event_id: str | None
    routing_key: str
    body: bytes


class AnswerWatcher:
    """Context manager: ``with AnswerWatcher(...) as w: ...; w.collect(ids, timeout)``."""

    def __init__(self, address: BrokerAddress, answers_exchange: str) -> None:
        self._address = address
        self._exchange = answers_exchange
        self._connection: pika.BlockingConnection | None = None
        self._queue = ""
        self.seen: list[WatchedAnswer] = []

    def __enter__(self) -> AnswerWatcher:
        self._connection = self._address.connect("vsb-adapter answer watcher")
        channel = self._connection.channel()
        channel.exchange_declare(self._exchange, "topic", durable=True)
        result = channel.queue_declare("", exclusive=True, auto_delete=True)
        self._queue = str(result.method.queue)
        channel.queue_bind(self._queue, self._exchange, routing_key="#")
        self._channel = channel
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._connection is not None and self._connection.is_open:
            self._connection.close()

    def collect(
        self, event_ids: Collection[str], timeout: float, *, until_final: bool = False
    ) -> list[WatchedAnswer]:
        """Gather answers until every event in ``event_ids`` has one (or ``timeout`` passes).

        With ``until_final``, an event whose only answers are "in-beraad" is still waited for.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answered = {a.event_id for a in self.seen if not until_final or _final(a)}
            if set(event_ids) <= answered:
                break
            method, properties, body = self._channel.basic_get(self._queue, auto_ack=True)
            if method is None:
                time.sleep(0.05)
                continue
            self.seen.append(
                WatchedAnswer(
                    answer_id=properties.message_id,
                    event_id=properties.correlation_id,
                    routing_key=method.routing_key,
                    body=body,
                )
            )
        wanted = set(event_ids)
        return [a for a in self.seen if a.event_id in wanted]


def _final(answer: WatchedAnswer) -> bool:
    return not answer.routing_key.endswith(".in-beraad")
