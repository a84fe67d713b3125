"""Stores of earlier schemas are upgraded and work on, on both backends.

A store written by release 0.1 (schema 0001), and one at 0003 that gains the invoicing
ledger (0004) and the table of failed tries (0005), and can lose them again.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from adapter.engine.ingest import Ingest
from adapter.store import (
    InvoiceLedger,
    Sealer,
    Store,
    Support,
    create_store_engine,
    migrate,
    schema_revision,
)
from adapter.store.database import MIGRATIONS
from adapter.store.sealing import Keyring, StoreKey, new_key_id
from adapter.testing import FixedClock, memory_sealer
from mappings import Facility, Outcome
from mappings.invoice_batch import BatchHead
from monitoring import Metrics
from queues import Delivery, Disposition
from tests.support import events

T0 = datetime(2026, 11, 20, 9, tzinfo=UTC)
HEAD = "0006"


def upgrade_to(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@pytest.fixture
def old_store(store_url: str) -> Iterator[Engine]:
    """A store at schema 0001 holding what release 0.1 wrote for two dossiers.

    D-OK: its application accepted with a reference, the next number 2 due. D-NO: refused.
    """
    engine = create_store_engine(store_url, 2)
    upgrade_to(engine, "0001")
    application = events.application("old-app", "D-OK", 1).decode()
    with engine.begin() as db:
        db.execute(
            sa.text(
                "INSERT INTO events (event_id, received_at, event_code, dossier_id, sequence,"
                " valid, issues, payload) VALUES (:id, :at, 'reva-application', 'D-OK', 1,"
                " :valid, NULL, :payload)"
            ),
            {"id": "old-app", "at": T0.replace(tzinfo=None), "valid": True, "payload": application},
        )
        db.execute(
            sa.text(
                "INSERT INTO messages (message_id, event_id, event_code, ordering_key, sequence,"
                " ordered, state, outcome, attempts, created_at, updated_at, next_attempt_at,"
                " fence) VALUES ('m-old', 'old-app', 'reva-application', 'dossier:D-OK', 1,"
                " :yes, 'done', 'accepted', 1, :at, :at, :at, 1)"
            ),
            {"yes": True, "at": T0.replace(tzinfo=None)},
        )
        db.execute(
            sa.text(
                "INSERT INTO dossiers (key, next_sequence, vsb_reference, application_outcome,"
                " application_issues, updated_at) VALUES"
                " ('dossier:D-OK', 2, 'VSB-2026-000777', 'accepted', NULL, :at),"
                " ('dossier:D-NO', 2, NULL, 'refused', :issues, :at),"
                " ('dossier:D-LOOK', 4, NULL, NULL, NULL, :at)"
            ),
            {
                "at": T0.replace(tzinfo=None),
                "issues": '[{"code": "VSB-AFF-02", "text": "cannot join",'
                ' "expression": null, "level": "E"}]',
            },
        )
    yield engine
    engine.dispose()


class TestUpgradeFromRelease01:
    """Every row of 0.1 is carried over, and the engine goes on from where 0.1 left off."""

    def test_the_dossiers_split_into_orderings_and_applications(self, old_store: Engine) -> None:
        """Next numbers, outcomes, references and refusal issues survive the split."""
        migrate(old_store)
        with old_store.connect() as db:
            orderings: dict[str, int] = {
                key: sequence
                for key, sequence in db.execute(sa.text("SELECT key, next_sequence FROM orderings"))
            }
            applications = {
                row[0]: row[1:]
                for row in db.execute(
                    sa.text(
                        "SELECT dossier_key, outcome, vsb_reference, issues, closed"
                        " FROM applications"
                    )
                )
            }
            tables = set(sa.inspect(db).get_table_names())
        assert orderings == {"dossier:D-OK": 2, "dossier:D-NO": 2, "dossier:D-LOOK": 4}
        assert set(applications) == {"dossier:D-OK", "dossier:D-NO"}
        assert applications["dossier:D-OK"][:2] == ("accepted", "VSB-2026-000777")
        assert "VSB-AFF-02" in str(applications["dossier:D-NO"][2])
        assert not any(closed for *_rest, closed in applications.values())
        assert "dossiers" not in tables
        assert {"orderings", "applications", "instances"} <= tables

    def test_a_stop_after_the_upgrade_takes_the_old_reference(self, old_store: Engine) -> None:
        """The dossier's next message is due at once and carries the 0.1 acceptance."""
        migrate(old_store)
        store = Store(old_store, sealer=memory_sealer())
        ingest = Ingest(store, Facility("71012314001", "40012345"), FixedClock(T0), Metrics())
        stop = events.stop("new-stop", "D-OK", 2)
        refused_stop = events.stop("no-stop", "D-NO", 2)
        deliveries = [Delivery(b, False, None) for b in (stop, refused_stop)]
        assert ingest(deliveries) == [Disposition.ACK] * 2
        claims = {c.event_id: c for c in store.claim_due(T0, "t", timedelta(seconds=60), 10)}
        ok, no = claims["new-stop"].application, claims["no-stop"].application
        assert ok is not None
        assert (ok.outcome, ok.vsb_reference) == (Outcome.ACCEPTED, "VSB-2026-000777")
        assert no is not None
        assert no.outcome is Outcome.REFUSED
        assert [i.code for i in no.issues] == ["VSB-AFF-02"]

    def test_an_old_event_redelivered_is_a_silent_duplicate(self, old_store: Engine) -> None:
        """Events of 0.1 have no body digest: a redelivery of one is no conflict."""
        migrate(old_store)
        store = Store(old_store, sealer=memory_sealer())
        ingest = Ingest(store, Facility("71012314001", "40012345"), FixedClock(T0), Metrics())
        ingest([Delivery(events.application("old-app", "D-OK", 1), False, None)])
        assert store.unpublished_answers(10) == []
        assert len(Support(store).dossier("dossier:D-OK")) == 1


def downgrade_to(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


INVOICING_TABLES = {"invoice_batches", "invoice_lines", "held_invoices", "insurance_statuses"}


@pytest.fixture
def store_at_0003(store_url: str) -> Iterator[Engine]:
    """A store at schema 0003 holding an event, its message and its dossier's order."""
    engine = create_store_engine(store_url, 2)
    upgrade_to(engine, "0003")
    with engine.begin() as db:
        db.execute(
            sa.text(
                "INSERT INTO events (event_id, received_at, event_code, dossier_id, sequence,"
                " valid, issues, payload, body_digest) VALUES ('e-03', :at, 'reva-application',"
                " 'D-03', 1, :yes, NULL, '{}', :digest)"
            ),
            {"at": T0.replace(tzinfo=None), "yes": True, "digest": "0" * 64},
        )
        db.execute(
            sa.text(
                "INSERT INTO messages (message_id, event_id, event_code, ordering_key, sequence,"
                " ordered, state, attempts, created_at, updated_at, next_attempt_at, fence)"
                " VALUES ('m-03', 'e-03', 'reva-application', 'dossier:D-03', 1, :yes,"
                " 'pending', 0, :at, :at, :at, 0)"
            ),
            {"yes": True, "at": T0.replace(tzinfo=None)},
        )
        db.execute(
            sa.text(
                "INSERT INTO orderings (key, next_sequence, updated_at)"
                " VALUES ('dossier:D-03', 1, :at)"
            ),
            {"at": T0.replace(tzinfo=None)},
        )
    yield engine
    engine.dispose()


class TestInvoicingRevision:
    """0004 adds the invoicing ledger to a store in use, and can be taken back."""

    def test_the_upgrade_adds_the_ledger_beside_the_rows(self, store_at_0003: Engine) -> None:
        """The four tables appear empty, the earlier rows stay, and the ledger works at once."""
        migrate(store_at_0003)
        with store_at_0003.connect() as db:
            tables = set(sa.inspect(db).get_table_names())
            kept = db.execute(sa.text("SELECT message_id, state FROM messages")).all()
            empty = [
                db.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in sorted(INVOICING_TABLES)
            ]
        assert tables >= INVOICING_TABLES
        assert [tuple(row) for row in kept] == [("m-03", "pending")]
        assert empty == [0, 0, 0, 0]
        keyring = Keyring((StoreKey(new_key_id(), os.urandom(32)),), "test", os.urandom(32))
        store = Store(store_at_0003, sealer=Sealer(keyring))
        ledger = InvoiceLedger(store)
        batch_head = BatchHead(
            "m-b1", T0, Facility("71012314001", "40012345"), "1", "180", "reva", "2026-10",
            T0.date(),
        )  # fmt: skip
        ledger.open_batch(batch_head, [], T0)
        ledger.remember_status("85073003328", "180", None, T0)
        assert ledger.batch("1") is not None
        assert store.due(T0, 10)  # the message of 0003 is still due

    def test_the_downgrade_drops_the_ledger_and_keeps_the_rest(self, store_at_0003: Engine) -> None:
        """Back at 0003 the ledger is gone, the flow's rows are intact, and 0004 applies again."""
        migrate(store_at_0003)
        downgrade_to(store_at_0003, "0003")
        with store_at_0003.connect() as db:
            tables = set(sa.inspect(db).get_table_names())
            kept = db.execute(sa.text("SELECT event_id FROM events")).scalars().all()
        assert not INVOICING_TABLES & tables
        assert kept == ["e-03"]
        assert schema_revision(store_at_0003) == "0003"
        migrate(store_at_0003)
        assert schema_revision(store_at_0003) == HEAD


class TestAttemptsRevision:
    """0005 adds the table of failed tries to a store in use, and can be taken back."""

    def test_the_upgrade_adds_attempts_and_the_store_writes_them(
        self, store_at_0003: Engine
    ) -> None:
        """At 0004 with a message, the upgrade adds an empty ``attempts``; a failed try of
        the old message is then kept there with its error."""
        upgrade_to(store_at_0003, "0004")
        migrate(store_at_0003)
        assert schema_revision(store_at_0003) == HEAD
        with store_at_0003.connect() as db:
            assert "attempts" in set(sa.inspect(db).get_table_names())
            assert db.execute(sa.text("SELECT count(*) FROM attempts")).scalar_one() == 0
        keyring = Keyring((StoreKey(new_key_id(), os.urandom(32)),), "test", os.urandom(32))
        store = Store(store_at_0003, sealer=Sealer(keyring))
        [claim] = store.claim_due(T0, "test", timedelta(seconds=30), 1)
        assert store.schedule_retry(claim, "HTTP 503 from the central application", T0, T0)
        _, tries = Support(store).message("m-03")
        assert [(t.kind.value, t.attempt, t.error) for t in tries] == [
            ("retry", 1, "HTTP 503 from the central application")
        ]

    def test_the_downgrade_drops_attempts_and_keeps_the_rest(self, store_at_0003: Engine) -> None:
        """Back at 0004 the table is gone, the messages stay, and 0005 applies again."""
        migrate(store_at_0003)
        downgrade_to(store_at_0003, "0004")
        with store_at_0003.connect() as db:
            tables = set(sa.inspect(db).get_table_names())
            kept = db.execute(sa.text("SELECT message_id FROM messages")).scalars().all()
        assert "attempts" not in tables
        assert tables >= INVOICING_TABLES
        assert kept == ["m-03"]
        migrate(store_at_0003)
        assert schema_revision(store_at_0003) == HEAD
