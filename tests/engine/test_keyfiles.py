"""The keystore at rest: loose permissions refuse the start, SIGHUP swaps the key in place.

Real keystore files (PKCS#12 from the dev PKI's CA) with real file modes; the daemon is built
(not started: the key is loaded in its constructor) on a SQLite store of the test's own.
"""

from __future__ import annotations

import base64
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from lxml import etree

from adapter.daemon import Daemon
from adapter.devpki import DevPki, issue
from adapter.errors import ConfigError
from adapter.keyfiles import check_key_files
from adapter.settings import Settings, SigningSettings, load_settings
from adapter.signing import Signer
from adapter.testing import ScriptedCentral, keyring_file
from mappings import Facility, MessageContext, build_message, read_envelope
from tests.support import events

DS = "{http://www.w3.org/2000/09/xmldsig#}"


def keystore(pki: DevPki, path: Path, common_name: str, days: int) -> Path:
    """A PKCS#12 keystore (passphrase "dev-only", mode 600) with a new certificate."""
    not_after = datetime.now(UTC) + timedelta(days=days)
    cert, key = issue(pki, common_name, unit="eHealth-platform Belgium", not_after=not_after)
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"facility", key, cert, None, serialization.BestAvailableEncryption(b"dev-only")
        )
    )
    path.chmod(0o600)
    return path


@pytest.fixture
def signing(pki: DevPki, tmp_path: Path) -> SigningSettings:
    """Settings naming a copy of the dev keystore and passphrase file, both mode 600."""
    store = shutil.copy(pki.keystore, tmp_path / "facility.p12")
    phrase = shutil.copy(pki.passphrase_file, tmp_path / "passphrase.txt")
    for path in (store, phrase):
        Path(path).chmod(0o600)
    return SigningSettings(keystore=str(store), passphrase_file=str(phrase))


def settings_with(signing: SigningSettings, sqlite_url: str) -> Settings:
    environ = {
        "VSB_STORE__URL": sqlite_url,
        "VSB_STORE__KEY_FILE": str(keyring_file(Path(signing.keystore).parent / "keyring")),
        "VSB_SIGNING__KEYSTORE": signing.keystore,
        "VSB_SIGNING__PASSPHRASE_FILE": signing.passphrase_file,
        "VSB_MONITORING__PORT": "0",
    }
    return load_settings(None, environ)


@pytest.mark.parametrize(
    ("which", "mode", "verdict"),
    [
        ("keystore", 0o600, "ok"),
        ("keystore", 0o400, "ok"),
        ("keystore", 0o640, "warn"),
        ("passphrase_file", 0o640, "warn"),
        ("keystore", 0o644, "refused"),
        ("keystore", 0o604, "refused"),
        ("keystore", 0o602, "refused"),
        ("keystore", 0o660, "refused"),
        ("passphrase_file", 0o644, "refused"),
    ],
)
def test_key_file_permissions(
    signing: SigningSettings, which: str, mode: int, verdict: str
) -> None:
    """Others: refused; group write: refused; group read: a warning; owner only: silent."""
    path = Path(getattr(signing, which))
    path.chmod(mode)
    if verdict == "refused":
        with pytest.raises(ConfigError, match=f"{path} has mode {mode:04o}.*chmod 600"):
            check_key_files(signing)
    else:
        warnings = check_key_files(signing)
        assert len(warnings) == (verdict == "warn"), warnings
        assert all(f"{mode:04o}" in warning for warning in warnings)


def test_the_daemon_refuses_to_start_with_a_world_readable_keystore(
    signing: SigningSettings, sqlite_url: str
) -> None:
    """The constructor loads the key (before the store or anything else): refused."""
    Path(signing.keystore).chmod(0o644)
    with pytest.raises(ConfigError, match="other accounts"):
        Daemon(settings_with(signing, sqlite_url), central=ScriptedCentral([]))


def message(message_id: str) -> etree._Element:
    envelope = read_envelope(events.application(message_id, "D-K", 1))
    context = MessageContext(
        message_id=message_id,
        created_at=datetime(2026, 11, 20, 10, tzinfo=UTC),
        facility=Facility("71012314001", "40012345"),
    )
    return build_message(envelope, context)


def signed_by(signed: etree._Element) -> str:
    """The subject CN of the certificate in a signed message's X509Data."""
    der = signed.findtext(f"{DS}Signature/{DS}KeyInfo/{DS}X509Data/{DS}X509Certificate")
    assert der is not None
    cert = x509.load_der_x509_certificate(base64.b64decode(der))
    return str(cert.subject.rfc4514_string())


def test_a_reload_swaps_the_key_in_place_and_a_failed_one_keeps_it(
    pki: DevPki, signing: SigningSettings, sqlite_url: str
) -> None:
    """The Signer the senders share signs with the new key at once; garbage keeps the old."""
    daemon = Daemon(settings_with(signing, sqlite_url), central=ScriptedCentral([]))
    shared = daemon.signer
    first_expiry = daemon.metrics.signing_certificate_expiry._value.get()
    assert first_expiry == pytest.approx(shared.certificate.not_valid_after_utc.timestamp())
    assert "NIHDI=" in signed_by(shared.sign(message("k-1")))

    keystore(pki, Path(signing.keystore), "NIHDI=71012314001 renewed", days=20)
    assert daemon.reload_signing()
    assert daemon.signer is shared, "the same object: every sender thread sees the new key"
    assert "renewed" in signed_by(shared.sign(message("k-2")))
    renewed_expiry = daemon.metrics.signing_certificate_expiry._value.get()
    assert renewed_expiry < first_expiry
    assert renewed_expiry - datetime.now(UTC).timestamp() < 21 * 86400

    Path(signing.keystore).write_bytes(b"not a keystore")
    assert not daemon.reload_signing()
    assert "renewed" in signed_by(shared.sign(message("k-3"))), "the old key stays"
    Path(signing.keystore).chmod(0o644)
    assert not daemon.reload_signing(), "loose permissions refuse a reload as a start"
    assert daemon.metrics.signing_certificate_expiry._value.get() == renewed_expiry
    failed = daemon.metrics.signing_reloads.labels("failed")._value.get()
    ok = daemon.metrics.signing_reloads.labels("ok")._value.get()
    assert (ok, failed) == (1, 2)


def test_adopt_replaces_key_and_certificate_together(pki: DevPki, tmp_path: Path) -> None:
    """One tuple: the certificate and the key a signature uses always belong together."""
    old = Signer.from_keystore(pki.keystore, b"dev-only")
    new = Signer.from_keystore(keystore(pki, tmp_path / "n.p12", "NIHDI=1 new", 10), b"dev-only")
    old.adopt(new)
    assert old.certificate is new.certificate
    assert old._key is new._key


def test_the_header_identity_is_one_pair_even_across_a_reload(pki: DevPki, tmp_path: Path) -> None:
    """A WS-Security header signed after taking its identity uses that pair's key, reload or not."""
    signer = Signer.from_keystore(pki.keystore, b"dev-only")
    sign, certificate = signer.header_identity()
    new = Signer.from_keystore(keystore(pki, tmp_path / "n.p12", "NIHDI=1 new", 10), b"dev-only")
    signer.adopt(new)  # a SIGHUP between taking the identity and signing with it
    signature = sign(b"the canonical SignedInfo")
    public = certificate.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(signature, b"the canonical SignedInfo", padding.PKCS1v15(), hashes.SHA256())
    assert signer.header_identity()[1] is new.certificate
    assert signer.tls_identity() == new.tls_identity()


@pytest.mark.parametrize(
    ("mode", "line"),
    [
        (0o600, "OK   keystore and passphrase file readable by their owner only"),
        (0o640, "WARN {path} has mode 0640: readable by its group"),
        (0o644, "FAIL {path} has mode 0644: other accounts"),
    ],
)
def test_check_reports_the_permissions(
    signing: SigningSettings,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    mode: int,
    line: str,
) -> None:
    """``vsb-adapter check`` says what the daemon would do: accept, warn, or refuse."""
    from adapter.cli import main

    Path(signing.keystore).chmod(mode)
    monkeypatch.setenv("VSB_STORE__URL", sqlite_url)
    monkeypatch.setenv(
        "VSB_STORE__KEY_FILE", str(keyring_file(Path(signing.keystore).parent / "keyring"))
    )
    monkeypatch.setenv("VSB_SIGNING__KEYSTORE", signing.keystore)
    monkeypatch.setenv("VSB_SIGNING__PASSPHRASE_FILE", signing.passphrase_file)
    monkeypatch.setenv("VSB_CENTRAL__URL", "https://127.0.0.1:9/soap")  # nobody there
    code = main(["check"])
    captured = capsys.readouterr()
    printed = captured.out.splitlines()
    assert printed, (code, captured.err)
    assert any(row.startswith(line.format(path=signing.keystore)) for row in printed), printed
