"""Shared fixtures: real SQLite and PostgreSQL stores, a real RabbitMQ with per-test names, a PKI.

Every test gets its own SQLite file or its own PostgreSQL schema, and its own exchange and queue
names on the local RabbitMQ; nothing is shared between tests.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from adapter.devpki import DevPki, create_dev_pki
from adapter.logs import HANDLER_NAME
from simulator import Simulator, SimulatorConfig
from tests.support.processes import unique_broker_names

POSTGRES_URL = os.environ.get(
    "VSB_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
FACILITY_NIHDI = "71012314001"
FACILITY_HCO = "40012345"
TODAY = date(2026, 11, 20)
"""The simulator's "today" in every test, so the example events' dates stay valid."""


@pytest.fixture(autouse=True)
def _adapter_log_handler_removed() -> Iterator[None]:
    """Take out the root handler a test's ``vsb-adapter`` command installed: it writes to
    that test's captured stderr, closed after it, where a later test's daemon thread would
    log ("I/O operation on closed file")."""
    yield
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(handler)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    """A throw-away CA, facility certificate and PKCS#12 keystore for the whole session."""
    return create_dev_pki(tmp_path_factory.mktemp("pki"), FACILITY_NIHDI)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file for this test."""
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL schema for this test, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL is needed at {POSTGRES_URL}: {exc}")
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest) -> str:
    """Each store test runs on SQLite and on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def broker_names() -> Iterator[dict[str, str]]:
    """Unique exchange and queue names for this test; deleted afterwards."""
    with unique_broker_names() as names:
        yield names


@pytest.fixture
def simulator(pki: DevPki) -> Iterator[Simulator]:
    """The central-application simulator trusting the test facility, "today" pinned."""
    with Simulator(signing_config(pki, today=TODAY)) as sim:
        yield sim


def signing_config(pki: DevPki, **overrides: Any) -> SimulatorConfig:
    """A simulator configuration trusting the facility and signing as the central application."""
    return SimulatorConfig(
        trusted_certs=[pki.facility_cert],
        sign_key=pki.central_key,
        sign_cert=pki.central_cert,
        **{**tls_config(pki), **overrides},
    )


def tls_config(pki: DevPki) -> dict[str, Any]:
    """HTTPS with mutual TLS: the dev PKI's server certificate, client certificates of its CA."""
    return {"tls_cert": pki.server_cert, "tls_key": pki.server_key, "client_ca": pki.ca_cert}
