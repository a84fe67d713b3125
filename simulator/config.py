"""The simulator's start-up configuration."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from simulator.contract import DEFAULT_WSDL, DEFAULT_XSD
from simulator.faults import FaultPlan
from simulator.population import DEFAULT_POPULATION


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything the simulator needs at start; most of it can be changed later by admin calls."""

    host: str = "127.0.0.1"
    port: int = 0
    """0 picks a free port."""
    trusted_certs: Sequence[bytes | str | Path] = ()
    """PEM certificates (bytes) or PEM files whose signatures are accepted."""
    today: date | None = None
    """Pin "today" (Europe/Brussels); ``None`` follows the clock."""
    clock: Callable[[], datetime] | None = None
    """Injectable "now" (an aware datetime); the system clock by default."""
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    faults: FaultPlan | None = None
    population: Path = DEFAULT_POPULATION
    recognised_facilities: Sequence[str] | None = None
    """NIHDI numbers of recognised facilities; ``None`` recognises every facility."""
    tls_cert: str | Path | None = None
    """PEM server certificate (chain): HTTPS instead of HTTP. Needs ``tls_key``."""
    tls_key: str | Path | None = None
    client_ca: str | Path | None = None
    """PEM CA file: clients must show a certificate it issued (mutual TLS), the admin API's too."""
    xsd_path: Path = DEFAULT_XSD
    wsdl_path: Path = DEFAULT_WSDL
    admin_token: str | None = None
    """Bearer token every admin request must carry; required to listen beyond loopback
    (``simulator.admin_auth``). ``None`` on loopback: the admin API is open."""
    require_wssecurity: bool = True
    """Refuse SOAP requests without a valid WS-Security header (docs/simulator.md); False
    only for tools that post bare envelopes."""
    wssecurity_skew_seconds: float = 300.0
    """How far a request's Timestamp may lie beyond its Expires or before its Created."""
    sign_key: bytes | str | Path | None = None
    """PEM key (bytes or file) signing every SOAP response; None: answers go unsigned."""
    sign_cert: bytes | str | Path | None = None
    """PEM certificate of ``sign_key``, sent as the responses' security token."""
    max_body_bytes: int = 64 * 1024 * 1024
    """Largest SOAP request read (413 beyond): a message with the adapter's 10 MiB of
    attachments is about 14 MB of base64, signed; an invoice batch of 100,000 lines is
    25-35 MB, so 64 MiB leaves room for a larger one."""
