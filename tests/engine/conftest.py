"""Fixtures of the engine tests: a migrated store on a SQLite file of the test's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapter.store import Store, create_store_engine, migrate


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh store (``test_store.py`` overrides it to run on SQLite and PostgreSQL)."""
    engine = create_store_engine(f"sqlite:///{tmp_path / 's.db'}")
    migrate(engine)
    yield Store(engine)
    engine.dispose()
