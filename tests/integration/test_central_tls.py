"""A TLS failure end to end: the daemon retries it as a connection failure (no dead letter),
counts it by reason and logs it as a TLS failure; once the certificate is fixed, the message
goes (real handshakes against the simulator over HTTPS, certificates of the dev PKI)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from adapter.devpki import DevPki, issue
from adapter.store import Support
from simulator import Simulator
from simulator.tls import server_context
from tests.support import events
from tests.support.rig import Harness, outcome, wait_for

Start = Callable[..., Harness]


def tls_failures(harness: Harness, reason: str) -> float:
    """``vsb_central_tls_failures_total{reason}`` of the daemon."""
    value = harness.daemon.metrics.registry.get_sample_value(
        "vsb_central_tls_failures_total", {"reason": reason}
    )
    return value or 0.0


def test_an_expired_server_certificate_is_retried_counted_and_logged(
    start_adapter: Start,
    sqlite_url: str,
    simulator: Simulator,
    pki: DevPki,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The central application's certificate expired: nothing dead-lettered, the metric and
    the log say "expired"; renewed, the waiting message is answered."""
    now = datetime.now(UTC)
    cert, key = issue(
        pki,
        "localhost",
        unit="TLS",
        dns=("localhost",),
        ips=("127.0.0.1",),
        not_before=now - timedelta(days=30),
        not_after=now - timedelta(days=1),
    )
    cert_path, key_path = tmp_path / "expired.pem", tmp_path / "expired-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = simulator._server
    assert server is not None
    assert server.tls is not None
    renewed = server.tls
    # Read per connection: from now on every handshake shows the expired certificate.
    server.tls = server_context(cert_path, key_path, pki.ca_cert)
    caplog.set_level(logging.WARNING, logger="adapter.central")
    adapter = start_adapter(sqlite_url)
    adapter.send(events.application("tls-e-1", "D-TLS-E", 1))
    assert wait_for(lambda: tls_failures(adapter, "expired") >= 2, 20)
    assert simulator.record() == []
    assert Support(adapter.daemon.store).dead_letters() == []
    assert tls_failures(adapter, "unknown_ca") == 0
    assert any(
        "TLS failure (expired): the server's certificate has expired" in r.getMessage()
        for r in caplog.records
    )
    server.tls = renewed
    answers = adapter.answers(["tls-e-1"], timeout=30)
    assert [outcome(a) for a in answers["tls-e-1"]] == ["accepted"]
