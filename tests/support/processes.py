"""The adapter as a real process, for fault tests and the soak and benchmark scripts."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pika

from adapter.devpki import DevPki
from adapter.testing import keyring_file
from queues import Topology

RABBITMQ_URL = os.environ.get("VSB_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672/%2F")
"""The test broker; its credentials and virtual host are kept by every URL made from it."""


def rabbitmq_via(host: str, port: int, url: str = RABBITMQ_URL) -> str:
    """``url`` (the test broker) reached through ``host:port``, say a fault proxy.

    Credentials, virtual host and query are kept, so tests honour a ``VSB_TEST_RABBITMQ``
    with a vhost of its own.
    """
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}:{port}" if userinfo else f"{host}:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def unique_broker_names() -> Iterator[dict[str, str]]:
    """Exchange and queue names of their own on the local RabbitMQ; deleted afterwards."""
    tag = uuid.uuid4().hex[:10]
    names = {
        "events_exchange": f"t.{tag}.events",
        "events_queue": f"t.{tag}.events",
        "answers_exchange": f"t.{tag}.answers",
        "answers_queue": f"t.{tag}.answers",
        "dead_letter_exchange": f"t.{tag}.dlx",
        "dead_letter_queue": f"t.{tag}.dead",
    }
    try:
        yield names
    finally:
        connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
        channel = connection.channel()
        for key, name in names.items():
            if key.endswith("queue"):
                channel.queue_delete(name)
            else:
                channel.exchange_delete(name)
        connection.close()


def topology(names: dict[str, str]) -> Topology:
    """The topology of a test's (or a bench run's) own exchange and queue names."""
    return Topology(
        events_exchange=names["events_exchange"],
        events_queue=names["events_queue"],
        answers_exchange=names["answers_exchange"],
        answers_queue=names["answers_queue"],
        dead_letter_exchange=names["dead_letter_exchange"],
        dead_letter_queue=names["dead_letter_queue"],
    )


def adapter_environ(
    store_url: str,
    broker_names: dict[str, str],
    central_url: str,
    pki: DevPki,
    **extra: str,
) -> dict[str, str]:
    """VSB_* variables for one test's adapter: its store, broker names, quick timings."""
    environ = {
        "VSB_STORE__URL": store_url,
        # One keyring beside the session's PKI: the store's personal data sealed as in
        # production (a test that needs its own keys overrides it).
        "VSB_STORE__KEY_FILE": str(keyring_file(pki.keystore.parent / "store-keyring")),
        "VSB_BROKER__URL": RABBITMQ_URL,
        "VSB_BROKER__CONNECT_RETRY_SECONDS": "0.5",
        "VSB_CENTRAL__URL": central_url,
        "VSB_CENTRAL__CA_BUNDLE": str(pki.ca_cert),  # the simulator's dev-CA certificate
        "VSB_CENTRAL__TIMEOUT_SECONDS": "3",
        "VSB_CENTRAL__MAILBOX_POLL_SECONDS": "0.2",
        "VSB_SIGNING__KEYSTORE": str(pki.keystore),
        "VSB_SIGNING__PASSPHRASE_FILE": str(pki.passphrase_file),
        "VSB_CENTRAL__ANSWER_CERTIFICATE": str(pki.central_cert),
        "VSB_DELIVERY__POLL_SECONDS": "0.05",
        "VSB_DELIVERY__BACKOFF_INITIAL_SECONDS": "0.2",
        "VSB_DELIVERY__BACKOFF_MAX_SECONDS": "1",
        "VSB_DELIVERY__BREAKER_PROBE_SECONDS": "0.5",
        "VSB_DELIVERY__LEASE_SECONDS": "30",
        "VSB_DELIVERY__DRAIN_SECONDS": "5",
        "VSB_MONITORING__PORT": "0",
        **{f"VSB_BROKER__{key.upper()}": value for key, value in broker_names.items()},
    }
    environ.update(extra)
    return environ


class AdapterProcess:
    """``python -m adapter run`` in a child process with the given VSB_* variables."""

    def __init__(self, environ: dict[str, str], log_path: Path) -> None:
        self._environ = environ
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, **extra: str) -> AdapterProcess:
        """Start (again) with ``extra`` variables on top, e.g. ``VSB_CRASH_POINT``."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("VSB_")}
        env = {**base, **self._environ, **extra}
        log = open(self._log_path, "ab")  # noqa: SIM115 - the child owns it
        self._process = subprocess.Popen(
            [sys.executable, "-m", "adapter", "run"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return self

    @property
    def environ(self) -> dict[str, str]:
        """The VSB_* variables the child runs with (for a command on the same settings)."""
        return dict(self._environ)

    @property
    def pid(self) -> int:
        """The child's process id."""
        assert self._process is not None
        return self._process.pid

    def alive(self) -> bool:
        """Whether the child still runs."""
        return self._process is not None and self._process.poll() is None

    def wait_exit(self, timeout: float) -> int | None:
        """Wait for the child to end by itself; its exit code, or None if it still runs."""
        assert self._process is not None
        try:
            return self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """SIGKILL, as a power cut would."""
        if self.alive():
            assert self._process is not None
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(10)

    def terminate(self, timeout: float = 45) -> int:
        """SIGTERM and wait for the clean stop; returns the exit code."""
        assert self._process is not None
        if self.alive():
            self._process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        code = self._process.wait(timeout)
        self.stop_seconds = time.monotonic() - started
        return code

    def log_text(self) -> str:
        """Everything the child wrote so far."""
        return self._log_path.read_text(errors="replace")
