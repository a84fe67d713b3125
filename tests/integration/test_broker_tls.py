"""RabbitMQ over TLS: events consumed and answers published over amqps://, with a client
certificate and with EXTERNAL login, and each TLS failure refused with its own reason.

Against a throw-away RabbitMQ node that listens on TLS only (tests/support/rabbit_tls.py),
certificates of the dev PKI; the daemon runs against the simulator as in production.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from adapter.daemon import Daemon, broker_address
from adapter.devpki import DevPki
from adapter.errors import ConfigError
from adapter.settings import Settings, load_settings
from queues import (
    AnswerWatcher,
    BrokerAddress,
    BrokerTlsFailure,
    BrokerUnavailable,
    ConfirmedPublisher,
)
from simulator import Simulator
from tests.integration.conftest import make_settings
from tests.support import events
from tests.support.processes import unique_broker_names
from tests.support.rabbit_tls import TlsBroker, start_tls_broker, stop_tls_broker
from tests.support.rig import Harness, outcome, wait_for


@pytest.fixture(scope="module")
def tls_broker(pki: DevPki) -> Iterator[TlsBroker]:
    broker = start_tls_broker(pki)
    try:
        yield broker
    finally:
        stop_tls_broker(broker)


def tls_settings(settings: Settings, broker: TlsBroker, *, external: bool) -> Settings:
    """``settings`` with the broker on the TLS node."""
    tls = broker.tls(external=external)
    return replace(
        settings,
        broker=replace(
            settings.broker,
            url=broker.url(credentials="" if external else "guest:guest@"),
            ca_bundle=tls.ca_bundle,
            client_certificate=tls.client_certificate,
            client_key=tls.client_key,
            external_auth=external,
        ),
    )


class TestEventsOverTls:
    """The whole flow runs over amqps://: consume, answer, publish."""

    @pytest.mark.parametrize("external", [False, True], ids=["password", "external"])
    def test_an_event_is_answered_over_tls(
        self,
        external: bool,
        tls_broker: TlsBroker,
        pki: DevPki,
        simulator: Simulator,
        tmp_path: Path,
    ) -> None:
        """A look-up published over TLS is answered over TLS (password or EXTERNAL login)."""
        with unique_broker_names() as names:
            plain = make_settings(f"sqlite:///{tmp_path / 'store.db'}", names, simulator, pki)
            settings = tls_settings(plain, tls_broker, external=external)
            daemon = Daemon(settings)
            address = broker_address(settings)
            assert address.uses_tls
            with AnswerWatcher(address, settings.broker.answers_exchange) as watcher:
                daemon.start()
                publisher = ConfirmedPublisher(address)
                try:
                    harness = Harness(settings, daemon, watcher, publisher)
                    harness.send(events.lookup("tls-look-up", "D-TLS-1", 1))
                    answers = harness.answers(["tls-look-up"], timeout=30)
                finally:
                    publisher.close()
                    daemon.stop()
        assert outcome(answers["tls-look-up"][-1]) == "accepted"


class TestTlsFailures:
    """Each TLS failure is a ``BrokerTlsFailure`` with its reason, never the password."""

    def test_an_unknown_ca_is_refused(self, tls_broker: TlsBroker, pki: DevPki) -> None:
        """Without the dev CA (the system store) the broker's certificate is not trusted."""
        address = BrokerAddress(tls_broker.url(), tls=replace(tls_broker.tls(), ca_bundle=""))
        with pytest.raises(BrokerTlsFailure, match="not signed by a CA") as caught:
            address.connect("test unknown ca")
        assert caught.value.reason == "unknown_ca"
        assert "guest:guest" not in str(caught.value)

    def test_a_wrong_host_name_is_refused(self, tls_broker: TlsBroker) -> None:
        """The certificate names localhost only: 127.0.0.1 does not match it."""
        address = BrokerAddress(tls_broker.url(host="127.0.0.1"), tls=tls_broker.tls())
        with pytest.raises(BrokerTlsFailure) as caught:
            address.connect("test wrong host")
        assert caught.value.reason == "hostname"

    def test_a_missing_client_certificate_is_refused(self, tls_broker: TlsBroker) -> None:
        """The node demands a client certificate; without one the handshake fails."""
        address = BrokerAddress(tls_broker.url(), tls=tls_broker.tls(client=False))
        with pytest.raises(BrokerTlsFailure, match="client certificate") as caught:
            address.connect("test no client certificate")
        assert caught.value.reason == "client_certificate"

    def test_plain_amqp_to_the_tls_port_is_not_tls(self, tls_broker: TlsBroker) -> None:
        """amqp:// to a TLS-only port fails as a connection failure, retried like any."""
        address = BrokerAddress(f"amqp://guest:guest@localhost:{tls_broker.port}/%2F")
        with pytest.raises(BrokerUnavailable) as caught:
            address.connect("test plain to tls")
        assert not isinstance(caught.value, BrokerTlsFailure)
        assert "guest" not in str(caught.value)

    def test_the_daemon_keeps_retrying_a_tls_failure(
        self,
        tls_broker: TlsBroker,
        pki: DevPki,
        simulator: Simulator,
        tmp_path: Path,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """A daemon whose CA bundle is wrong stays up, logs the TLS failure by name, retries."""
        caplog.set_level(logging.WARNING)
        with unique_broker_names() as names:
            plain = make_settings(f"sqlite:///{tmp_path / 'store.db'}", names, simulator, pki)
            settings = tls_settings(plain, tls_broker, external=False)
            wrong = replace(
                settings, broker=replace(settings.broker, ca_bundle=str(pki.facility_cert))
            )
            daemon = Daemon(wrong)
            daemon.start()
            try:
                # Two failures logged: the loop went on after the first one.
                assert wait_for(
                    lambda: (
                        sum(
                            "TLS failure towards RabbitMQ" in record.getMessage()
                            for record in caplog.records
                        )
                        >= 2
                    ),
                    30,
                )
            finally:
                daemon.stop()


class TestSettings:
    """The broker's TLS settings are checked before anything connects."""

    @pytest.mark.parametrize(
        ("values", "message"),
        [
            ({"url": "amqp://guest:guest@rabbit.example:5672/%2F"}, "plain amqp:// to rabbit"),
            (
                {"url": "amqp://guest:guest@127.0.0.1:5672/%2F", "ca_bundle": "/etc/ca.pem"},
                "need an amqps://",
            ),
            (
                {"url": "amqps://rabbit.example/%2F", "client_certificate": "/etc/c.pem"},
                "go together",
            ),
            ({"url": "amqps://rabbit.example/%2F", "external_auth": True}, "logs in with the"),
        ],
        ids=[
            "plain-remote",
            "ca-without-tls",
            "certificate-without-key",
            "external-without-certificate",
        ],
    )
    def test_inconsistent_settings_are_refused(
        self, values: dict[str, object], message: str, tmp_path: Path
    ) -> None:
        """Each inconsistency is a ConfigError naming the setting."""
        lines = [f"{key} = {value!r}".replace("True", "true") for key, value in values.items()]
        path = tmp_path / "settings.toml"
        path.write_text("[broker]\n" + "\n".join(lines).replace("'", '"') + "\n")
        with pytest.raises(ConfigError, match=message):
            load_settings(path, {})

    def test_plain_remote_amqp_can_be_allowed(self, tmp_path: Path) -> None:
        """broker.allow_plain_amqp lets a test set-up use amqp:// to another host."""
        path = tmp_path / "settings.toml"
        path.write_text(
            '[broker]\nurl = "amqp://guest:guest@rabbit.example:5672/%2F"\n'
            "allow_plain_amqp = true\n"
        )
        assert load_settings(path, {}).broker.allow_plain_amqp
