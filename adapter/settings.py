"""Settings: one frozen object, built once from a TOML file plus environment overrides.

Every key has a default fit for the demo (SQLite, local RabbitMQ, the bundled simulator), so
the daemon runs with no file at all. An environment variable ``VSB_<SECTION>__<KEY>`` overrides
the file (``VSB_STORE__URL=postgresql+psycopg://…``). Secrets never live in the file: the
keystore passphrase comes from ``passphrase_file`` or the environment variable named by
``passphrase_env``.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import urlsplit

from adapter.crashpoints import CrashPoint
from adapter.errors import ConfigError

ENV_PREFIX = "VSB_"


@dataclass(frozen=True)
class FacilitySettings:
    """The one facility this instance speaks for (one certificate, one RIZIV number)."""

    nihdi: str = "71012314001"
    hco: str = "40012345"


@dataclass(frozen=True)
class BrokerSettings:
    """RabbitMQ connection and topology names (see docs/sysadmin.md for the topology)."""

    url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    events_exchange: str = "vsb.events"
    events_queue: str = "vsb.events"
    answers_exchange: str = "vsb.answers"
    answers_queue: str = "vsb.answers"
    dead_letter_exchange: str = "vsb.events.dlx"
    dead_letter_queue: str = "vsb.events.dead"
    prefetch: int = 200
    max_event_bytes: int = 16_777_216
    delivery_limit: int = 5
    heartbeat_seconds: int = 30
    blocked_timeout_seconds: int = 60
    connect_retry_seconds: float = 2.0
    ca_bundle: str = ""
    """amqps://: PEM file of the CAs the broker's certificate must chain to (empty: the
    system's store). The host name in the URL is checked against the certificate."""
    client_certificate: str = ""
    """amqps://: PEM file of a client certificate to offer (with ``client_key``)."""
    client_key: str = ""
    """Its unencrypted PEM key (mode 600 or 640, checked like the keystore)."""
    external_auth: bool = False
    """Log in with the client certificate (RabbitMQ's EXTERNAL mechanism), no password."""
    allow_plain_amqp: bool = False
    """True accepts amqp:// (no TLS) to a host other than this machine: not for production."""


@dataclass(frozen=True)
class StoreSettings:
    """The SQL store: SQLite (embedded default) or PostgreSQL by URL."""

    url: str = "sqlite:///var/vsb-adapter.db"
    pool_size: int = 10
    key_file: str = "var/store-keyring"
    """The keyring that seals the events' payloads and the answers' bodies (AES-256-GCM):
    ``<key id> <base64 key>`` lines, the first one sealing new values. Mode 600. Under systemd
    it may be a credential: ``%d/store-keyring`` (docs/sysadmin.md, Encryption at rest)."""


@dataclass(frozen=True)
class CentralSettings:
    """The central care-fund application's SOAP endpoint."""

    url: str = "https://127.0.0.1:8700/soap"
    """https:// (an http:// URL is refused unless ``allow_plain_http``)."""
    wsdl: str = ""
    """Empty: the WSDL shipped with the adapter (``mappings/wsdl``). A local file only: the
    service description is part of the adapter, never fetched from the network."""
    max_answer_bytes: int = 1_048_576
    """Longest response read from the central application (1 MiB); a longer one is refused
    unread as an unreadable answer. 50 mailbox answers take about 100 KiB."""
    timeout_seconds: float = 30.0
    batch_timeout_seconds: float = 300.0
    """The Submit of an invoice batch (up to ~20 MiB, judged whole before its answer): a
    timeout resends the whole file, so it is given far longer than a single message."""
    mailbox_poll_seconds: float = 5.0
    mailbox_batch: int = 50
    ca_bundle: str = ""
    """PEM file of the CA(s) the server's certificate must chain to (host name checked too).
    Empty: the public CAs of the certifi bundle, as requests uses by default."""
    client_certificate: str = "keystore"
    """The TLS client certificate: ``keystore`` (the facility's signing certificate and key),
    ``files`` (``client_cert_file`` and ``client_key_file``) or ``none``."""
    client_cert_file: str = ""
    client_key_file: str = ""
    """PEM files of another client certificate and its unencrypted key (``files`` only)."""
    allow_plain_http: bool = False
    """True accepts an http:// central.url (no TLS at all): the demo and tests only."""
    wssecurity_ttl_seconds: float = 300.0
    """WS-Security: a request's Timestamp expires this long after it was made; an answer's
    Timestamp may be this far off the adapter's clock (see docs/sysadmin.md, Security)."""
    answer_certificate: str = "var/dev-pki/central.pem"
    """PEM file of the central application's signing certificate: answers must be signed by it."""
    require_signed_answers: bool = True
    """False believes answers without checking their signature (never in production)."""


@dataclass(frozen=True)
class SigningSettings:
    """The facility's eHealth certificate and key, as a PKCS#12 keystore."""

    keystore: str = "var/dev-pki/facility.p12"
    passphrase_file: str = ""
    passphrase_env: str = "VSB_KEYSTORE_PASSPHRASE"  # noqa: S105 - a variable name


@dataclass(frozen=True)
class DeliverySettings:
    """How the delivery engine paces, retries and gives up."""

    concurrency: int = 8
    """Messages in flight at once, across dossiers (look-ups included)."""
    quick_tries: int = 3
    """In-process tries before a transient failure becomes a stored, delayed retry."""
    backoff_initial_seconds: float = 5.0
    backoff_max_seconds: float = 1800.0
    max_attempts: int = 20
    max_age_seconds: float = 172_800.0
    """Give up (dead letter) after this long failing, not counting time the breaker was open."""
    breaker_failures: int = 5
    breaker_probe_seconds: float = 15.0
    lease_seconds: float = 120.0
    drain_seconds: float = 20.0
    """On SIGTERM, how long sends in flight may take to finish (unfinished ones are resent)."""
    poll_seconds: float = 0.5
    gap_alert_seconds: float = 900.0
    """A dossier waiting this long on a missing sequence number shows as stuck."""
    batch_directory: str = "var/batches"
    """Where an invoice batch is written, signed, while it is sent (mode 0600, deleted
    after its Submit; relative to the working directory)."""


@dataclass(frozen=True)
class MonitoringSettings:
    """Where /metrics and /health are served."""

    host: str = "127.0.0.1"
    port: int = 9108
    log_level: str = "INFO"
    log_json: bool = False
    deadline_warning_days: int = 7
    """A message not yet received by the central application counts as near its domain
    deadline (the 30-day rule, the 5-day window) from this many days before it."""


@dataclass(frozen=True)
class ConsoleSettings:
    """The web console for support staff (``vsb-adapter console``; docs/sysadmin.md)."""

    enabled: bool = False
    """Off by default: ``vsb-adapter console`` refuses to start until this is true."""
    host: str = "127.0.0.1"
    """Loopback by default; any other address needs a TLS reverse proxy in front of it."""
    port: int = 9109
    users_file: str = "/etc/vsb-adapter/console-users"
    """``NAME ROLE ARGON2-HASH`` lines (mode 600 or 640), written by ``console-user add``."""
    session_secret_file: str = ""
    """A file whose content signs the session cookies (mode 600 or 640). Empty: a key
    derived from the store keyring's index secret, the same on every instance."""
    session_hours: float = 8.0
    """A log-in lasts this long; then the console asks for the password again."""
    cookie_secure: bool = False
    """True marks the session cookie Secure (sent over HTTPS only): set it behind TLS."""


@dataclass(frozen=True)
class Settings:
    """Everything the daemon needs; built once at start and passed down."""

    facility: FacilitySettings = field(default_factory=FacilitySettings)
    broker: BrokerSettings = field(default_factory=BrokerSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    central: CentralSettings = field(default_factory=CentralSettings)
    signing: SigningSettings = field(default_factory=SigningSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    monitoring: MonitoringSettings = field(default_factory=MonitoringSettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    instance_id: str = ""
    """Empty: host name and process id. Names this instance in leases and logs."""
    crash_point: str = ""
    """Fault tests only: the state change where the process kills itself (adapter.crashpoints)."""


def load_settings(
    path: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Build the settings from ``path`` (optional TOML file) and ``environ`` (default: os.environ).

    Raises ``ConfigError`` naming the key and the problem for an unknown section or key, a
    value of the wrong type, or a value out of range.
    """
    environ = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    if path is not None:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(f"cannot read settings file {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"settings file {path} is not valid TOML: {exc}") from exc
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        data.setdefault(section, {})[key] = raw
    for top_level in ("instance_id", "crash_point"):
        if f"{ENV_PREFIX}{top_level.upper()}" in environ:
            data[top_level] = environ[f"{ENV_PREFIX}{top_level.upper()}"]
    settings: Settings = _build(Settings, data, "")
    _check(settings)
    return settings


def _build(cls: type[Any], data: Mapping[str, Any], where: str) -> Any:
    hints = get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"unknown setting {where}{unknown[0]} (known: {', '.join(sorted(known))})"
        )
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        kind = hints[f.name]
        raw = data[f.name]
        key = f"{where}{f.name}"
        if dataclasses.is_dataclass(kind):
            if not isinstance(raw, Mapping):
                raise ConfigError(f"setting {key} must be a table")
            values[f.name] = _build(kind, raw, f"{key}.")  # type: ignore[arg-type]
        else:
            values[f.name] = _coerce(key, kind, raw)
    return cls(**values)


def _coerce(key: str, kind: type[Any], raw: Any) -> Any:
    try:
        if kind is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError(text)
        if kind is int and not isinstance(raw, bool):
            return int(raw)
        if kind is float and not isinstance(raw, bool):
            return float(raw)
        if kind is str:
            return str(raw)
    except ValueError:
        pass
    raise ConfigError(f"setting {key} must be {kind.__name__}, got {raw!r}")


_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _broker_tls_rules(b: BrokerSettings) -> list[tuple[bool, str]]:
    tls = b.url.startswith("amqps://")
    host = urlsplit(b.url).hostname or ""
    return [
        (
            tls or host in _LOOPBACK or b.allow_plain_amqp,
            f"broker.url is plain amqp:// to {host} (no TLS; events carry personal data):"
            " use amqps://, or set broker.allow_plain_amqp = true",
        ),
        (
            tls or not (b.ca_bundle or b.client_certificate or b.external_auth),
            "broker.ca_bundle, broker.client_certificate and broker.external_auth need an"
            " amqps:// broker.url",
        ),
        (
            bool(b.client_certificate) == bool(b.client_key),
            "broker.client_certificate and broker.client_key go together",
        ),
        (
            not b.external_auth or bool(b.client_certificate),
            "broker.external_auth logs in with the client certificate: set"
            " broker.client_certificate and broker.client_key",
        ),
    ]


def _check(s: Settings) -> None:
    rules: list[tuple[bool, str]] = [
        (
            s.facility.nihdi.isdigit() and len(s.facility.nihdi) == 11,
            "facility.nihdi must be 11 digits",
        ),
        (
            s.facility.hco.isdigit() and 8 <= len(s.facility.hco) <= 10,
            "facility.hco must be 8-10 digits",
        ),
        (
            s.broker.url.startswith(("amqp://", "amqps://")),
            "broker.url must be an amqp:// or amqps:// URL",
        ),
        *_broker_tls_rules(s.broker),
        (s.broker.prefetch >= 1, "broker.prefetch must be at least 1"),
        (s.broker.max_event_bytes >= 1024, "broker.max_event_bytes must be at least 1024"),
        (
            s.store.url.startswith(("sqlite", "postgresql")),
            "store.url must be a sqlite or postgresql URL",
        ),
        (bool(s.store.key_file), "store.key_file must name the store's keyring file"),
        (s.central.url.startswith(("http://", "https://")), "central.url must be an http(s) URL"),
        (
            not s.central.url.startswith("http://") or s.central.allow_plain_http,
            f"central.url {s.central.url} is plain http (no TLS): use https://, or set"
            " central.allow_plain_http = true (demo and tests only)",
        ),
        (
            s.central.client_certificate in {"keystore", "files", "none"},
            "central.client_certificate must be keystore, files or none",
        ),
        (
            bool(s.central.client_cert_file and s.central.client_key_file)
            if s.central.client_certificate == "files"
            else not (s.central.client_cert_file or s.central.client_key_file),
            "central.client_cert_file and central.client_key_file go together, with"
            ' central.client_certificate = "files"',
        ),
        (s.central.timeout_seconds > 0, "central.timeout_seconds must be positive"),
        (
            s.central.wssecurity_ttl_seconds > 0,
            "central.wssecurity_ttl_seconds must be positive",
        ),
        (
            bool(s.central.answer_certificate) or not s.central.require_signed_answers,
            "central.answer_certificate is needed while central.require_signed_answers is true",
        ),
        (
            "://" not in s.central.wsdl,
            "central.wsdl must be a local file (empty: the WSDL shipped with the adapter)",
        ),
        (
            s.central.max_answer_bytes >= 65_536,
            "central.max_answer_bytes must be at least 65536",
        ),
        (s.delivery.concurrency >= 1, "delivery.concurrency must be at least 1"),
        (s.delivery.quick_tries >= 1, "delivery.quick_tries must be at least 1"),
        (s.delivery.max_attempts >= 1, "delivery.max_attempts must be at least 1"),
        (
            s.delivery.lease_seconds > s.delivery.quick_tries * s.central.timeout_seconds + 10,
            "delivery.lease_seconds must exceed quick_tries x central.timeout_seconds + 10 s"
            " (a lease may not expire while its holder is still trying)",
        ),
        (
            s.crash_point in {"", *(p.value for p in CrashPoint)},
            f"crash_point must be one of {', '.join(p.value for p in CrashPoint)}",
        ),
        (0 <= s.monitoring.port <= 65535, "monitoring.port must be a TCP port (0: any free one)"),
        (0 <= s.console.port <= 65535, "console.port must be a TCP port (0: any free one)"),
        (s.console.session_hours > 0, "console.session_hours must be positive"),
    ]
    for ok, message in rules:
        if not ok:
            raise ConfigError(message)
