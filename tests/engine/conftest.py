"""Fixtures of the engine tests: a migrated store of the test's own, on SQLite and PostgreSQL.

Every test that takes ``store`` runs twice, once on each backend (``store_url``): one suite
for both stores, so what one takes and the other refuses shows.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapter.store import Store, create_store_engine, migrate


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A fresh, migrated store on the backend of ``store_url``."""
    engine = create_store_engine(store_url, 4)
    migrate(engine)
    yield Store(engine)
    engine.dispose()
