"""RabbitMQ transport (pika): topology, event consumer, confirmed answer publisher.

Transport only: it never imports the store or the mappings; the engine hands it callbacks.
"""

from queues.connection import BrokerAddress, BrokerTls
from queues.consumer import Consumer, Delivery, Disposition
from queues.errors import BrokerError, BrokerTlsFailure, BrokerUnavailable, PublishRefused
from queues.publisher import ConfirmedPublisher
from queues.topology import Topology
from queues.watcher import AnswerWatcher, WatchedAnswer

__all__ = [
    "AnswerWatcher",
    "BrokerAddress",
    "BrokerError",
    "BrokerTls",
    "BrokerTlsFailure",
    "BrokerUnavailable",
    "ConfirmedPublisher",
    "Consumer",
    "Delivery",
    "Disposition",
    "PublishRefused",
    "Topology",
    "WatchedAnswer",
]
