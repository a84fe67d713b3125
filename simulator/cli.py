"""``vsb-simulator``: run the simulated central application until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from types import FrameType

from simulator.config import SimulatorConfig
from simulator.contract import DEFAULT_WSDL, DEFAULT_XSD
from simulator.control import Simulator
from simulator.errors import SimulatorError
from simulator.faults import DEFAULT_STALL_SECONDS, FaultKind, FaultPlan
from simulator.population import DEFAULT_POPULATION

log = logging.getLogger("simulator")


def parser() -> argparse.ArgumentParser:
    """The command-line options."""
    p = argparse.ArgumentParser(
        prog="vsb-simulator",
        description="Simulated VSB central care-fund application (SOAP + admin JSON API).",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8700, help="port (default 8700; 0 = any free)")
    p.add_argument(
        "--trust-cert",
        action="append",
        default=[],
        type=Path,
        metavar="PEM",
        help="PEM file of a certificate whose signatures are accepted (repeatable)",
    )
    p.add_argument("--tls-cert", type=Path, metavar="PEM", help="serve HTTPS with this certificate")
    p.add_argument("--tls-key", type=Path, metavar="PEM", help="the key of --tls-cert")
    p.add_argument(
        "--client-ca",
        type=Path,
        metavar="PEM",
        help="require client certificates issued by this CA (mutual TLS; needs --tls-cert)",
    )
    p.add_argument("--sign-key", type=Path, metavar="PEM", help="key signing the answers")
    p.add_argument("--sign-cert", type=Path, metavar="PEM", help="certificate of --sign-key")
    p.add_argument(
        "--allow-unsigned-requests",
        action="store_true",
        help="accept SOAP requests without a WS-Security header (tools posting bare envelopes)",
    )
    p.add_argument(
        "--wssecurity-skew-seconds",
        type=float,
        default=300.0,
        help="clock skew allowed on a request's Timestamp (default 300)",
    )
    p.add_argument("--today", type=date.fromisoformat, help="pin today's date, YYYY-MM-DD")
    p.add_argument("--latency-ms", type=float, default=0.0, help="simulated latency per call")
    p.add_argument("--jitter-ms", type=float, default=0.0, help="extra random latency, 0..N ms")
    p.add_argument("--population", type=Path, default=DEFAULT_POPULATION, help="population JSON")
    p.add_argument(
        "--facility",
        action="append",
        metavar="NIHDI",
        help="recognise only these facilities (repeatable; default: all)",
    )
    p.add_argument("--fault", choices=[k.value for k in FaultKind], help="inject this fault")
    p.add_argument("--fault-next", type=int, help="... on the next N calls")
    p.add_argument("--fault-rate", type=float, help="... on each call with this probability")
    p.add_argument("--stall-seconds", type=float, default=DEFAULT_STALL_SECONDS)
    p.add_argument("--xsd", type=Path, default=DEFAULT_XSD, help="VSB schema")
    p.add_argument("--wsdl", type=Path, default=DEFAULT_WSDL, help="WSDL to serve")
    p.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default INFO)")
    p.add_argument(
        "--admin-token",
        default=os.environ.get("VSB_SIMULATOR_ADMIN_TOKEN") or None,
        help="bearer token the admin API requires (default: $VSB_SIMULATOR_ADMIN_TOKEN);"
        " needed to bind beyond loopback",
    )
    return p


def config_from(args: argparse.Namespace) -> SimulatorConfig:
    """The simulator configuration the options describe."""
    plan = None
    if args.fault:
        plan = FaultPlan(
            kind=FaultKind(args.fault),
            next=args.fault_next
            if args.fault_next is not None or args.fault_rate is not None
            else 1,
            rate=args.fault_rate,
            stall_seconds=args.stall_seconds,
        )
    return SimulatorConfig(
        host=args.host,
        port=args.port,
        trusted_certs=list(args.trust_cert),
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        client_ca=args.client_ca,
        sign_key=args.sign_key,
        sign_cert=args.sign_cert,
        require_wssecurity=not args.allow_unsigned_requests,
        wssecurity_skew_seconds=args.wssecurity_skew_seconds,
        today=args.today,
        latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms,
        faults=plan,
        population=args.population,
        recognised_facilities=args.facility,
        xsd_path=args.xsd,
        wsdl_path=args.wsdl,
        admin_token=args.admin_token,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run until SIGINT or SIGTERM; return the exit status."""
    args = parser().parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        simulator = Simulator(config_from(args))
        simulator.start()
    except (OSError, ValueError, SimulatorError) as exc:
        log.error("cannot start: %s", exc)
        return 2
    done = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        done.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    print(f"VSB simulator: SOAP {simulator.url}  WSDL {simulator.wsdl_url}", file=sys.stderr)
    # A timed wait keeps the main thread responsive to signals.
    while not done.wait(0.5):
        pass
    simulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
