"""``vsb-adapter demo``: the bundled simulator and the daemon together, on the defaults.

Creates a throw-away PKI under ``var/dev-pki`` and a store keyring (``store.key_file``,
``var/store-keyring``) when missing (both kept across runs), starts the simulator with
that facility certificate trusted and "today" pinned (so the example events' dates stay
valid forever), then runs the daemon until Ctrl-C stops both.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from adapter.daemon import Daemon
from adapter.devpki import create_dev_pki, demo_settings
from adapter.settings import Settings
from adapter.store.sealing import add_index_key, add_key
from simulator import Simulator, SimulatorConfig

log = logging.getLogger(__name__)
EXAMPLES = Path(__file__).resolve().parent.parent / "mappings" / "examples"


def run_demo(settings: Settings, today: str) -> int:
    """Run simulator and daemon until SIGINT/SIGTERM; returns the exit code."""
    pki = create_dev_pki(Path(settings.signing.keystore).parent, settings.facility.nihdi)
    if not Path(settings.store.key_file).exists():
        # A development keyring, kept across runs like the dev PKI (the demo store opens
        # again); production creates its own with `vsb-adapter store-key create`.
        key = add_key(settings.store.key_file)
        log.info("created the store keyring %s (key %s)", settings.store.key_file, key.key_id)
    add_index_key(settings.store.key_file)  # a demo keyring from before release 0.3 too
    settings = demo_settings(settings, pki)
    endpoint = urlsplit(settings.central.url)
    https = endpoint.scheme == "https"
    simulator = Simulator(
        SimulatorConfig(
            host=endpoint.hostname or "127.0.0.1",
            port=endpoint.port or 8700,
            trusted_certs=[pki.facility_cert],
            # HTTPS with mutual TLS, as the real central application (unless http:// is set).
            tls_cert=pki.server_cert if https else None,
            tls_key=pki.server_key if https else None,
            client_ca=pki.ca_cert if https else None,
            sign_key=pki.central_key,
            sign_cert=pki.central_cert,
            today=date.fromisoformat(today),
        )
    )
    simulator.start()
    shown = EXAMPLES.relative_to(Path.cwd()) if EXAMPLES.is_relative_to(Path.cwd()) else EXAMPLES
    log.info(
        "demo ready: in another terminal run\n"
        "    .venv/bin/vsb-adapter send %s/*.json --wait 30\n"
        "  an invalid event (checked by send unless --no-validate):\n"
        "    .venv/bin/vsb-adapter send --no-validate %s/invalid/*.json --wait 30\n"
        '  decide the in-beraad case:  curl %s-X POST %sdecide -d \'{"message_id": "…"}\'\n'
        "  metrics: http://%s:%d/metrics",
        shown,
        shown,
        f"--cacert {pki.ca_cert} --cert {pki.facility_cert} --key {pki.facility_key} "
        if https
        else "",
        simulator.admin_url,
        settings.monitoring.host,
        settings.monitoring.port,
    )
    try:
        Daemon(settings).run_forever()
    finally:
        simulator.stop()
    return 0
