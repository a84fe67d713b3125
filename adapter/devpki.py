"""A throw-away PKI for the demo and the tests: a CA and the certificates issued by it.

- the facility's certificate and key in a PKCS#12 keystore (signing; the TLS client
  certificate towards the central application);
- the central application's signing certificate and key (its signed answers);
- a TLS server certificate for ``localhost`` / ``127.0.0.1`` (the simulator over HTTPS).

The CA's key is kept beside them so that tests can issue more (an expired server
certificate, one for another host name) with ``issue``. Production uses the facility's real
eHealth certificate and the central application's published ones; nothing here is used then.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from adapter.settings import Settings


@dataclass(frozen=True)
class DevPki:
    """Paths of a generated PKI."""

    keystore: Path
    passphrase_file: Path
    facility_cert: Path
    ca_cert: Path
    ca_key: Path
    facility_key: Path
    """The facility's key in PEM (unencrypted; dev only): a TLS client key for tools."""
    central_cert: Path
    central_key: Path
    server_cert: Path
    server_key: Path

    @property
    def files(self) -> tuple[Path, ...]:
        """Every file of the PKI."""
        return tuple(getattr(self, name) for name in self.__dataclass_fields__)


def _name(common_name: str, unit: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "BE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "vsb-adapter test PKI"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def issue(
    pki: DevPki,
    common_name: str,
    *,
    unit: str = "test",
    dns: tuple[str, ...] = (),
    ips: tuple[str, ...] = (),
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """A new certificate signed by the PKI's CA (a TLS server one when ``dns``/``ips``)."""
    ca_key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), None)
    assert isinstance(ca_key, rsa.RSAPrivateKey)
    ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    now = datetime.now(UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, unit))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(days=1))
        .not_valid_after(not_after or now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def _layout(folder: Path) -> DevPki:
    return DevPki(
        keystore=folder / "facility.p12",
        passphrase_file=folder / "passphrase.txt",
        facility_cert=folder / "facility.pem",
        ca_cert=folder / "ca.pem",
        ca_key=folder / "ca-key.pem",
        facility_key=folder / "facility-key.pem",
        central_cert=folder / "central.pem",
        central_key=folder / "central-key.pem",
        server_cert=folder / "server.pem",
        server_key=folder / "server-key.pem",
    )


def existing_dev_pki(keystore: Path) -> DevPki | None:
    """The development PKI whose keystore is ``keystore``, if one is complete there."""
    pki = _layout(keystore.parent)
    if pki.keystore != keystore or not all(path.exists() for path in pki.files):
        return None
    return pki


def create_dev_pki(folder: Path, nihdi: str, passphrase: str = "dev-only") -> DevPki:  # noqa: S107
    """Write the CA and every certificate into ``folder`` (the facility's on ``nihdi``).

    Existing files are reused, so the demo keeps one identity across runs; a folder from an
    older release, missing some, is made anew.
    """
    folder.mkdir(parents=True, exist_ok=True)
    pki = _layout(folder)
    if all(path.exists() for path in pki.files):
        _tighten(pki)  # a folder from before the permission check, made with the umask's 644
        return pki
    now = datetime.now(UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = _name("vsb-adapter test CA", "CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    for path, content in ((pki.ca_key, _pem_key(ca_key)), (pki.ca_cert, _pem(ca))):
        path.write_bytes(content)
    pki.ca_key.chmod(0o600)
    cert, key = issue(pki, f"NIHDI={nihdi}", unit="eHealth-platform Belgium")
    pki.keystore.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"facility",
            key,
            cert,
            [ca],
            serialization.BestAvailableEncryption(passphrase.encode()),
        )
    )
    pki.passphrase_file.write_text(passphrase + "\n")
    pki.facility_cert.write_bytes(_pem(cert))
    pki.facility_key.write_bytes(_pem_key(key))
    central, central_key = issue(pki, "VSB central care-fund application", unit="VSB")
    pki.central_cert.write_bytes(_pem(central))
    pki.central_key.write_bytes(_pem_key(central_key))
    server, server_key = issue(pki, "localhost", unit="TLS", dns=("localhost",), ips=("127.0.0.1",))
    pki.server_cert.write_bytes(_pem(server))
    pki.server_key.write_bytes(_pem_key(server_key))
    for secret in (pki.passphrase_file, pki.facility_key, pki.central_key, pki.server_key):
        secret.chmod(0o600)
    _tighten(pki)
    return pki


def _tighten(pki: DevPki) -> None:
    """Keystore and passphrase file readable by their owner only, as the daemon requires
    (adapter/keyfiles.py)."""
    for path in (pki.keystore, pki.passphrase_file):
        path.chmod(0o600)


def demo_settings(settings: Settings, pki: DevPki) -> Settings:
    """The settings with the development PKI filled in where they leave it open: its
    passphrase file, the simulator's answer certificate and, over HTTPS, the dev CA as the
    only CA trusted (``check`` uses the same on the demo's defaults)."""
    settings = dataclasses.replace(
        settings,
        signing=dataclasses.replace(
            settings.signing, keystore=str(pki.keystore), passphrase_file=str(pki.passphrase_file)
        ),
        central=dataclasses.replace(settings.central, answer_certificate=str(pki.central_cert)),
    )
    if urlsplit(settings.central.url).scheme == "https" and not settings.central.ca_bundle:
        # The simulator's server certificate comes from the dev CA: trust that CA, and only it.
        central = dataclasses.replace(settings.central, ca_bundle=str(pki.ca_cert))
        settings = dataclasses.replace(settings, central=central)
    return settings
