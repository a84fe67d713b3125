"""Opening pika connections with the adapter's liveness settings, errors translated."""

from __future__ import annotations

from dataclasses import dataclass

import pika
import pika.exceptions

from queues.errors import BrokerUnavailable


@dataclass(frozen=True)
class BrokerAddress:
    """Where RabbitMQ is and how a connection notices that it is gone."""

    url: str
    heartbeat_seconds: int = 30
    blocked_timeout_seconds: int = 60

    def connect(self, name: str) -> pika.BlockingConnection:
        """A new blocking connection named ``name`` in the management UI."""
        params = pika.URLParameters(self.url)
        params.heartbeat = self.heartbeat_seconds
        params.blocked_connection_timeout = self.blocked_timeout_seconds
        params.client_properties = {"connection_name": name}
        params.connection_attempts = 1
        params.socket_timeout = 5
        try:
            return pika.BlockingConnection(params)
        except pika.exceptions.AMQPError as exc:
            raise BrokerUnavailable(
                f"cannot connect to RabbitMQ at {self.safe_url}: {exc!r}"
            ) from exc
        except (OSError, ValueError) as exc:
            # pika raises ValueError when the socket is reset during its own connect.
            raise BrokerUnavailable(
                f"cannot connect to RabbitMQ at {self.safe_url}: {exc}"
            ) from exc

    @property
    def safe_url(self) -> str:
        """The URL without its password, for logs."""
        params = pika.URLParameters(self.url)
        return f"{params.host}:{params.port}{params.virtual_host and '/' + params.virtual_host}"
