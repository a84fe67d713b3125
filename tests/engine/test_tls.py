"""Mutual TLS to the central application: real handshakes against the simulator over HTTPS.

Each broken certificate is issued by the dev PKI in the test (or comes from a second,
unrelated PKI); the client is the adapter's own ``ZeepCentral`` with its TLS settings.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from lxml import etree

from adapter.central import ZeepCentral, probe_central
from adapter.cli import main
from adapter.devpki import DevPki, create_dev_pki, issue
from adapter.errors import ConfigError, TransientDeliveryError
from adapter.settings import CentralSettings, load_settings
from adapter.signing import Signer
from adapter.tls import TlsFailure
from mappings import Facility, MessageContext, build_message, read_envelope
from simulator import Simulator
from tests.conftest import FACILITY_NIHDI, signing_config
from tests.support import events
from tests.support.processes import adapter_environ


@pytest.fixture(scope="module")
def other_pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    """A second, unrelated CA: its server certificate is from a CA the adapter does not know."""
    return create_dev_pki(tmp_path_factory.mktemp("other-pki"), FACILITY_NIHDI)


@pytest.fixture
def signer(pki: DevPki) -> Signer:
    """The facility's key and certificate: the WS-Security signer and the TLS client cert."""
    return Signer.from_keystore(pki.keystore, b"dev-only")


@pytest.fixture
def message(signer: Signer) -> etree._Element:
    """A signed application message."""
    envelope = read_envelope(events.application("tls-1", "D-TLS", 1))
    context = MessageContext(
        message_id="msg-tls-1",
        created_at=datetime(2026, 11, 20, 10, tzinfo=UTC),
        facility=Facility("71012314001", "40012345"),
    )
    return signer.sign(build_message(envelope, context))


def write_pair(folder: Path, pki: DevPki, common_name: str, **kwargs: object) -> tuple[Path, Path]:
    """A certificate (and key) from ``pki``'s CA, written as PEM files."""
    cert, key = issue(pki, common_name, unit="TLS", **kwargs)  # type: ignore[arg-type]
    cert_path, key_path = folder / f"{common_name}.pem", folder / f"{common_name}-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@contextlib.contextmanager
def serving(pki: DevPki, cert: Path, key: Path) -> Iterator[Simulator]:
    """The simulator over mutual TLS with the given server certificate."""
    with Simulator(signing_config(pki, tls_cert=cert, tls_key=key)) as sim:
        yield sim


def client(
    sim: Simulator, pki: DevPki, signer: Signer, heard: list[str], **tls: str
) -> ZeepCentral:
    """The adapter's client, trusting the dev CA, its TLS failures heard in ``heard``."""
    settings = CentralSettings(
        url=sim.url,
        timeout_seconds=5,
        answer_certificate=str(pki.central_cert),
        ca_bundle=str(pki.ca_cert),
        **tls,  # type: ignore[arg-type]
    )
    central = ZeepCentral(settings, signer)
    central.on_tls_failure = heard.append
    return central


def refused(central: ZeepCentral, message: etree._Element, sim: Simulator, reason: str) -> str:
    """Submit fails as a transient TLS failure with ``reason``; nothing reached the simulator."""
    with pytest.raises(TlsFailure) as caught:
        central.submit(message)
    assert isinstance(caught.value, TransientDeliveryError)  # retried, breaker: no dead letter
    assert caught.value.reason == reason
    assert str(caught.value).startswith(f"TLS failure ({reason}): ")
    assert "cannot connect" not in str(caught.value)
    assert sim.record() == []
    return str(caught.value)


def test_mutual_tls_works(
    simulator: Simulator, pki: DevPki, signer: Signer, message: etree._Element
) -> None:
    """The fixtures' simulator speaks HTTPS, requires our client certificate and accepts it."""
    assert simulator.url.startswith("https://127.0.0.1:")
    heard: list[str] = []
    answer = client(simulator, pki, signer, heard).submit(message)
    assert answer.findtext("{urn:vsb-adapter:vsb:1}InReplyTo") == "msg-tls-1"
    assert heard == []


def test_an_unknown_ca_is_refused(
    pki: DevPki, other_pki: DevPki, signer: Signer, message: etree._Element
) -> None:
    """A server certificate from a CA outside central.ca_bundle: unknown_ca."""
    with serving(pki, other_pki.server_cert, other_pki.server_key) as sim:
        heard: list[str] = []
        text = refused(client(sim, pki, signer, heard), message, sim, "unknown_ca")
        assert "not issued by a CA in central.ca_bundle" in text
        assert heard == ["unknown_ca"]


def test_a_wrong_host_name_is_refused(
    pki: DevPki, signer: Signer, message: etree._Element, tmp_path: Path
) -> None:
    """A valid certificate of the right CA, but for another host: hostname_mismatch."""
    cert, key = write_pair(tmp_path, pki, "elsewhere", dns=("central.example",))
    with serving(pki, cert, key) as sim:
        heard: list[str] = []
        refused(client(sim, pki, signer, heard), message, sim, "hostname_mismatch")
        assert heard == ["hostname_mismatch"]


def test_an_expired_server_certificate_is_refused(
    pki: DevPki, signer: Signer, message: etree._Element, tmp_path: Path
) -> None:
    """The right CA and host, but expired yesterday: expired."""
    now = datetime.now(UTC)
    cert, key = write_pair(
        tmp_path,
        pki,
        "localhost",
        dns=("localhost",),
        ips=("127.0.0.1",),
        not_before=now - timedelta(days=30),
        not_after=now - timedelta(days=1),
    )
    with serving(pki, cert, key) as sim:
        heard: list[str] = []
        text = refused(client(sim, pki, signer, heard), message, sim, "expired")
        assert "expired" in text
        assert heard == ["expired"]


def test_a_missing_client_certificate_is_refused(
    simulator: Simulator, pki: DevPki, signer: Signer, message: etree._Element
) -> None:
    """The server requires a client certificate and none is shown: client_certificate_refused."""
    heard: list[str] = []
    central = client(simulator, pki, signer, heard, client_certificate="none")
    refused(central, message, simulator, "client_certificate_refused")
    assert heard == ["client_certificate_refused"]


def test_a_client_certificate_of_another_ca_is_refused(
    simulator: Simulator, pki: DevPki, other_pki: DevPki, signer: Signer, message: etree._Element
) -> None:
    """A client certificate from files, but not of the CA the server trusts: refused too."""
    heard: list[str] = []
    central = client(
        simulator,
        pki,
        signer,
        heard,
        client_certificate="files",
        client_cert_file=str(other_pki.facility_cert),
        client_key_file=str(other_pki.facility_key),
    )
    refused(central, message, simulator, "client_certificate_refused")


def test_a_client_certificate_from_files_is_accepted(
    simulator: Simulator, pki: DevPki, signer: Signer, message: etree._Element
) -> None:
    """client_certificate = files: the PEM pair is shown instead of the keystore's."""
    heard: list[str] = []
    central = client(
        simulator,
        pki,
        signer,
        heard,
        client_certificate="files",
        client_cert_file=str(pki.facility_cert),
        client_key_file=str(pki.facility_key),
    )
    assert central.submit(message) is not None
    assert heard == []


def test_the_probe_names_the_tls_problem(
    pki: DevPki, other_pki: DevPki, signer: Signer, simulator: Simulator
) -> None:
    """check's probe runs over the same TLS settings and says which TLS problem it met."""
    good = CentralSettings(url=simulator.url, ca_bundle=str(pki.ca_cert))
    assert probe_central(good, signer) is None
    wrong_ca = CentralSettings(url=simulator.url, ca_bundle=str(other_pki.ca_cert))
    assert "TLS failure (unknown_ca)" in (probe_central(wrong_ca, signer) or "")
    assert "TLS failure (client_certificate_refused)" in (probe_central(good, None) or "")


def test_an_unreadable_ca_bundle_is_a_config_error(pki: DevPki, signer: Signer) -> None:
    """A ca_bundle that cannot be read stops the start, naming the key."""
    settings = CentralSettings(url="https://127.0.0.1:9/soap", ca_bundle=str(pki.ca_cert) + ".x")
    with pytest.raises(ConfigError, match=r"central\.ca_bundle"):
        ZeepCentral(settings, signer)


def test_plain_http_is_refused_at_settings_load() -> None:
    """An http:// central URL stops the start unless allow_plain_http says it is a test."""
    environ = {"VSB_CENTRAL__URL": "http://central.example/soap"}
    with pytest.raises(ConfigError, match=r"plain http .*central\.allow_plain_http = true"):
        load_settings(None, environ)
    allowed = load_settings(None, {**environ, "VSB_CENTRAL__ALLOW_PLAIN_HTTP": "true"})
    assert allowed.central.url == "http://central.example/soap"
    assert load_settings(None, {}).central.url.startswith("https://")


@pytest.mark.parametrize(
    ("extra", "rule"),
    [
        ({"VSB_CENTRAL__CLIENT_CERTIFICATE": "mine"}, "keystore, files or none"),
        ({"VSB_CENTRAL__CLIENT_CERTIFICATE": "files"}, "go together"),
        ({"VSB_CENTRAL__CLIENT_CERT_FILE": "c.pem", "VSB_CENTRAL__CLIENT_KEY_FILE": "k.pem"}, ""),
    ],
)
def test_client_certificate_settings_are_checked(extra: dict[str, str], rule: str) -> None:
    """client_certificate takes three values; files need both PEM paths (and only then)."""
    with pytest.raises(ConfigError, match=rule or "go together"):
        load_settings(None, extra)


def test_check_says_which_tls_mode_is_in_force(
    simulator: Simulator,
    pki: DevPki,
    sqlite_url: str,
    broker_names: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """check prints the CA bundle and client certificate in force, then probes over them."""
    for name, value in adapter_environ(sqlite_url, broker_names, simulator.url, pki).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("VSB_CENTRAL__ANSWER_CERTIFICATE", str(pki.central_cert))
    main(["check"])
    out = capsys.readouterr().out
    assert (
        f"OK   central TLS: https, server checked against {pki.ca_cert} (host name verified),"
        " client certificate CN=NIHDI=71012314001" in out
    )
    assert f"OK   central application answers at {simulator.url}" in out
    monkeypatch.setenv("VSB_CENTRAL__URL", "http://127.0.0.1:9/soap")
    monkeypatch.setenv("VSB_CENTRAL__ALLOW_PLAIN_HTTP", "true")
    main(["check"])
    assert "WARN central TLS: plain http allowed (demo/tests only)" in capsys.readouterr().out
