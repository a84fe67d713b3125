"""A throw-away PKI for the demo and the tests: a CA, a facility certificate, a keystore.

Production uses the facility's real eHealth certificate; nothing here is used then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class DevPki:
    """Paths of a generated PKI."""

    keystore: Path
    passphrase_file: Path
    facility_cert: Path
    ca_cert: Path


def _name(common_name: str, unit: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "BE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "vsb-adapter test PKI"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def create_dev_pki(folder: Path, nihdi: str, passphrase: str = "dev-only") -> DevPki:  # noqa: S107
    """Write a CA, a facility certificate on ``nihdi`` and a PKCS#12 keystore into ``folder``.

    Existing files are reused, so the demo keeps one identity across runs.
    """
    folder.mkdir(parents=True, exist_ok=True)
    pki = DevPki(
        keystore=folder / "facility.p12",
        passphrase_file=folder / "passphrase.txt",
        facility_cert=folder / "facility.pem",
        ca_cert=folder / "ca.pem",
    )
    if all(p.exists() for p in (pki.keystore, pki.passphrase_file, pki.facility_cert, pki.ca_cert)):
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
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(f"NIHDI={nihdi}", "eHealth-platform Belgium"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
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
    pki.passphrase_file.chmod(0o600)
    pki.facility_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.ca_cert.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return pki
