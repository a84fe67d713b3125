"""The command line: starts, serves, and stops cleanly on SIGTERM."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from .conftest import Credentials

ROOT = Path(__file__).resolve().parents[2]


def test_cli_serves_until_sigterm(tmp_path: Path, credentials: Credentials) -> None:
    """``python -m simulator`` serves the admin API and exits 0 on SIGTERM."""
    cert = tmp_path / "facility.pem"
    cert.write_bytes(credentials.cert_pem)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulator",
            "--port",
            "0",
            "--trust-cert",
            str(cert),
            "--today",
            "2026-03-10",
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        url = None
        deadline = time.monotonic() + 20
        while url is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            found = re.search(r"SOAP (http://\S+)/soap", line)
            url = found.group(1) if found else None
        assert url is not None, "the simulator did not print its URL"
        health = requests.get(url + "/admin/health", timeout=5).json()
        assert (health["today"], health["trusted_certs"]) == ("2026-03-10", 1)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
