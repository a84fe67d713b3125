"""The admin API's guard: open on loopback, a bearer token beyond it (or whenever one is set)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from simulator import Simulator, SimulatorConfig
from simulator.admin_auth import authorized, is_loopback
from simulator.errors import SimulatorError

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "s3cret-admin-token"


@pytest.fixture
def guarded() -> Iterator[Simulator]:
    with Simulator(SimulatorConfig(admin_token=TOKEN)) as sim:
        yield sim


def test_admin_calls_without_the_token_get_401(guarded: Simulator) -> None:
    """No header, another scheme or a wrong token: 401 naming the scheme; nothing changes."""
    health = guarded.admin_url + "health"
    for headers in ({}, {"Authorization": f"Basic {TOKEN}"}, {"Authorization": "Bearer guess"}):
        response = requests.get(health, headers=headers, timeout=5)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    refused = requests.post(
        guarded.admin_url + "faults", json={"kind": "http500", "next": 5}, timeout=5
    )
    assert refused.status_code == 401
    assert guarded.runtime.faults.draw("Submit") is None, "the fault plan was not changed"


def test_admin_calls_with_the_token_pass_and_soap_is_not_guarded(guarded: Simulator) -> None:
    """The right bearer token opens the admin API; the WSDL and SOAP need none."""
    response = requests.get(
        guarded.admin_url + "health", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    )
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert requests.get(guarded.wsdl_url, timeout=5).status_code == 200


def test_beyond_loopback_the_simulator_needs_a_token_to_start() -> None:
    """Listening on every address with an open admin API is refused; with a token it runs."""
    with pytest.raises(SimulatorError, match="admin API would be open to the network"):
        Simulator(SimulatorConfig(host="0.0.0.0")).start()
    with Simulator(SimulatorConfig(host="0.0.0.0", admin_token=TOKEN)) as sim:
        port = sim.base_url.rsplit(":", 1)[1]
        local = f"http://127.0.0.1:{port}/admin/health"
        assert requests.get(local, timeout=5).status_code == 401


def test_the_cli_refuses_an_open_admin_api_on_the_network() -> None:
    """``--host 0.0.0.0`` without ``--admin-token`` exits 2 and says what to do."""
    done = subprocess.run(
        [sys.executable, "-m", "simulator", "--host", "0.0.0.0", "--port", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 2
    assert "--admin-token" in done.stderr


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.1.2.3", False),
        ("simulator.example", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    """A name other than "localhost" may resolve anywhere: not loopback."""
    assert is_loopback(host) is loopback


def test_the_token_comparison() -> None:
    """No token: open; a token: only ``Bearer`` and exactly that token."""
    assert authorized(None, None)
    assert authorized(f"Bearer {TOKEN}", TOKEN)
    assert not authorized(None, TOKEN)
    assert not authorized(f"Bearer {TOKEN}x", TOKEN)
    assert not authorized(TOKEN, TOKEN)
