"""Fixtures of the engine tests: a migrated store of the test's own, on SQLite and PostgreSQL.

Every test that takes ``store`` runs twice, once on each backend (``store_url``): one suite
for both stores, so what one takes and the other refuses shows.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapter.store import Sealer, Store, create_store_engine, migrate
from adapter.testing import memory_sealer


@pytest.fixture
def sealer() -> Sealer:
    """A fresh store key of this test's own (real AES-GCM, held in memory)."""
    return memory_sealer()


@pytest.fixture
def store(store_url: str, sealer: Sealer) -> Iterator[Store]:
    """A fresh, migrated store on the backend of ``store_url``, sealing under ``sealer``."""
    engine = create_store_engine(store_url, 4)
    migrate(engine)
    yield Store(engine, sealer=sealer)
    engine.dispose()
