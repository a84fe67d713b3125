"""Store errors are told apart (refused data for good, an unavailable store for now) and carry
no event data; a run of repeated failures is logged once."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from adapter.errors import StoreUnavailable, UnstorableData
from adapter.failure_log import FailureLog
from adapter.store import Store, create_store_engine
from adapter.store.store import describe
from adapter.store.write_watch import WriteWatch
from adapter.testing import FixedClock, memory_sealer

SECRET = "85073003328"
"""An INSZ: it must never reach an error text."""


class TestClassification:
    """What the database refuses for good is UnstorableData; what is away is StoreUnavailable."""

    def test_a_value_the_database_refuses_is_unstorable(self, store: Store) -> None:
        """A value too long for its column (PostgreSQL) or badly encoded (both) is permanent."""
        statement = text("INSERT INTO instances (instance_id, seen_at) VALUES (:id, :at)")
        bad = "x" * 200 if store.engine.dialect.name == "postgresql" else "x\ud800"
        with pytest.raises(UnstorableData) as caught, store.connection() as db:
            db.execute(statement, {"id": bad, "at": datetime(2026, 1, 1, tzinfo=UTC)})
        assert "x" * 20 not in str(caught.value)

    def test_a_database_that_is_away_is_unavailable(self, store_url: str) -> None:
        """No server listening is passing trouble, worth a retry."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if not store_url.startswith("postgresql"):
            pytest.skip("SQLite has no server to be away")
        url = store_url.replace("127.0.0.1:5432", f"127.0.0.1:{port}")
        engine = create_store_engine(url, 1)
        with (
            pytest.raises(StoreUnavailable),
            Store(engine, sealer=memory_sealer()).connection() as db,
        ):
            db.execute(text("SELECT 1"))
        engine.dispose()

    @pytest.mark.parametrize(
        "statement",
        [
            # A key's value quoted in PostgreSQL's DETAIL line.
            "INSERT INTO instances (instance_id, seen_at) VALUES (:v, :at), (:v, :at)",
            # A value quoted in PostgreSQL's primary message.
            "SELECT CAST(:v AS INTEGER) + CAST(:v || 'x' AS INTEGER)",
        ],
    )
    def test_values_never_appear_in_an_error(self, store: Store, statement: str) -> None:
        """Neither the parameters nor the database's own quoting of values reach the text."""
        values = {"v": SECRET, "at": datetime(2026, 1, 1, tzinfo=UTC)}
        if store.engine.dialect.name == "sqlite" and "CAST" in statement:
            pytest.skip("SQLite casts anything to an integer without a word")
        with pytest.raises(UnstorableData) as caught:
            run(store, statement, values)
        assert SECRET not in str(caught.value)


def run(store: Store, statement: str, values: dict[str, object]) -> None:
    """Run one statement the way the store runs its own, errors translated."""
    try:
        with store.connection() as db:
            db.execute(text(statement), values)
    except IntegrityError as exc:  # passed through for the store's retries, which end so
        raise UnstorableData(f"store conflict: {describe(exc)}") from exc


class TestWriteWatch:
    """Readiness learns from the writes: down while the last fails, degraded for a while after."""

    def test_down_degraded_ok(self) -> None:
        """A failed write is down; the next success degraded for the window; then ok."""
        now = [0.0]
        watch = WriteWatch(window_seconds=30, monotonic=lambda: now[0])
        assert watch.health().status == "ok"
        watch.failed("OperationalError")
        assert (watch.health().status, watch.health().text) == (
            "down",
            "error: writes fail (OperationalError)",
        )
        watch.succeeded()
        assert watch.health().status == "degraded"
        now[0] = 30.5
        assert watch.health().status == "ok"

    def test_a_store_counts_a_failing_write(self, store: Store) -> None:
        """A write that fails for the store's sake reaches the store's watch; a read does not."""
        with pytest.raises(StoreUnavailable), store.connection() as db:
            db.execute(text("SELECT * FROM no_such_table"))
        assert store.writes.health().status == "down"
        store.heartbeat("me", datetime(2026, 1, 1, tzinfo=UTC))
        assert store.writes.health().status == "degraded"


class TestFailureLog:
    """A run of failures is logged when it starts, when it changes, and when it ends."""

    def test_a_thousand_failures_make_three_lines(self, caplog: pytest.LogCaptureFixture) -> None:
        """Same error 999 times, another once, then success: start, change, recovery."""
        clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
        failures = FailureLog(logging.getLogger("test.failures"), "storing events", clock)
        with caplog.at_level(logging.INFO, logger="test.failures"):
            for _ in range(999):
                failures.failed(StoreUnavailable("disk full"))
                clock.advance(2)
            failures.failed(StoreUnavailable("connection lost"))
            failures.succeeded()
            failures.succeeded()
        assert [r.getMessage() for r in caplog.records] == [
            "storing events failed: StoreUnavailable: disk full; retrying,"
            " logged again when it recovers",
            "storing events still failing (1000 times), now: StoreUnavailable: connection lost",
            "storing events works again after 1000 failure(s) over 1998 s",
        ]
        assert all(r.exc_info is None for r in caplog.records), "no traceback"
