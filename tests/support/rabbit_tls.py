"""A throw-away RabbitMQ node with a TLS listener only, for the broker-over-TLS tests.

The machine's own node (rabbit@localhost, 127.0.0.1:5672) is never touched: this one has its
own name, ports, data and log folders, and a configuration that listens on TLS alone,
verifies client certificates (``fail_if_no_peer_cert``) and offers RabbitMQ's EXTERNAL
mechanism (the certificate's common name is the user). ``rabbitmq-server`` drops to the
``rabbitmq`` account, so the folder is handed to it. If the node cannot start, the tests
fail with its log: CI runs on this same machine and must not skip them.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pika
from cryptography.hazmat.primitives import serialization

from adapter.devpki import DevPki, issue
from queues import BrokerAddress, BrokerError, BrokerTls

CERTIFICATE_USER = "NIHDI=71012314001"
"""The common name of the dev PKI's facility certificate: the EXTERNAL login."""


@dataclass
class TlsBroker:
    """A running TLS-only node: where it listens and the files a client needs."""

    node: str
    port: int
    folder: Path
    ca_bundle: Path
    client_certificate: Path
    client_key: Path

    def url(self, host: str = "localhost", credentials: str = "guest:guest@") -> str:
        """An amqps:// URL of the node (guest logs in from loopback only: use localhost)."""
        return f"amqps://{credentials}{host}:{self.port}/%2F"

    def tls(self, *, external: bool = False, client: bool = True) -> BrokerTls:
        """The client side: the dev CA, and the facility's certificate unless ``client`` is off."""
        return BrokerTls(
            ca_bundle=str(self.ca_bundle),
            client_certificate=str(self.client_certificate) if client else "",
            client_key=str(self.client_key) if client else "",
            external_auth=external,
        )

    def ctl(self, *args: str) -> None:
        """Run ``rabbitmqctl`` against this node."""
        subprocess.run(
            ["rabbitmqctl", "-q", "-n", self.node, *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def log(self) -> str:
        """The node's log, for a failure message."""
        texts = [path.read_text(errors="replace") for path in (self.folder / "log").glob("*.log")]
        return "\n".join(texts)[-4000:]


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pem_key(key: object) -> bytes:
    assert hasattr(key, "private_bytes")
    return bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def start_tls_broker(pki: DevPki) -> TlsBroker:
    """Start the node (a few seconds); raises ``RuntimeError`` with its log if it does not.

    Its folder is made outside pytest's (0700, which the ``rabbitmq`` account cannot enter)
    and removed by ``stop_tls_broker``.
    """
    folder = Path(tempfile.mkdtemp(prefix="vsb-rabbit-tls-"))
    folder.chmod(0o755)
    # The server's certificate names localhost only (no IP address): 127.0.0.1 is then a
    # host name that does not match, for the mismatch test.
    cert, key = issue(pki, "localhost", unit="broker", dns=("localhost",))
    (folder / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "server-key.pem").write_bytes(_pem_key(key))
    shutil.copy(pki.ca_cert, folder / "ca.pem")
    client_key = folder / "client-key.pem"
    shutil.copy(pki.facility_key, client_key)
    client_key.chmod(0o600)
    port, dist_port = free_port(), free_port()
    (folder / "rabbitmq.conf").write_text(
        "\n".join(
            [
                "listeners.tcp = none",
                f"listeners.ssl.default = 127.0.0.1:{port}",
                f"ssl_options.cacertfile = {folder / 'ca.pem'}",
                f"ssl_options.certfile = {folder / 'server.pem'}",
                f"ssl_options.keyfile = {folder / 'server-key.pem'}",
                "ssl_options.verify = verify_peer",
                "ssl_options.fail_if_no_peer_cert = true",
                "auth_mechanisms.1 = PLAIN",
                "auth_mechanisms.2 = EXTERNAL",
                "ssl_cert_login_from = common_name",
                "",
            ]
        )
    )
    (folder / "enabled_plugins").write_text("[rabbitmq_auth_mechanism_ssl].\n")
    # Else /etc/rabbitmq/rabbitmq-env.conf is read, which names the machine's own node.
    (folder / "rabbitmq-env.conf").write_text("")
    account = pwd.getpwnam("rabbitmq")
    for path in [folder, *folder.iterdir()]:
        if path.name != "client-key.pem":
            os.chown(path, account.pw_uid, account.pw_gid)
    broker = TlsBroker(
        node=f"vsbtls{os.getpid()}@localhost",
        port=port,
        folder=folder,
        ca_bundle=folder / "ca.pem",
        client_certificate=pki.facility_cert,
        client_key=client_key,
    )
    environment = os.environ | {
        "RABBITMQ_NODENAME": broker.node,
        "RABBITMQ_NODE_PORT": str(free_port()),
        "RABBITMQ_DIST_PORT": str(dist_port),
        "RABBITMQ_CONFIG_FILE": str(folder / "rabbitmq.conf"),
        "RABBITMQ_MNESIA_BASE": str(folder / "mnesia"),
        "RABBITMQ_LOG_BASE": str(folder / "log"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(folder / "enabled_plugins"),
        "RABBITMQ_PID_FILE": str(folder / "node.pid"),
        "RABBITMQ_CONF_ENV_FILE": str(folder / "rabbitmq-env.conf"),
    }
    subprocess.run(["rabbitmq-server", "-detached"], env=environment, check=True, timeout=60)
    if not _wait_until_up(broker, timeout=90):
        stop_tls_broker(broker)
        raise RuntimeError(f"the TLS RabbitMQ node did not start:\n{broker.log()}")
    broker.ctl("add_user", CERTIFICATE_USER, "unused-password")
    broker.ctl("clear_password", CERTIFICATE_USER)
    broker.ctl("set_permissions", CERTIFICATE_USER, ".*", ".*", ".*")
    return broker


def _wait_until_up(broker: TlsBroker, timeout: float) -> bool:
    """Up when a TLS connection with the client certificate opens."""
    address = BrokerAddress(broker.url(), tls=broker.tls())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            address.connect("tls broker probe").close()
            return True
        except (BrokerError, pika.exceptions.AMQPError):
            time.sleep(0.5)
    return False


def stop_tls_broker(broker: TlsBroker) -> None:
    """Stop the node (kill it if it does not stop) and remove its folder."""
    try:
        broker.ctl("stop")
    except (subprocess.SubprocessError, OSError):
        _kill(broker)
    shutil.rmtree(broker.folder, ignore_errors=True)


def _kill(broker: TlsBroker) -> None:
    pid_file = broker.folder / "node.pid"
    if pid_file.exists():
        with contextlib.suppress(ValueError, ProcessLookupError):
            os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)
