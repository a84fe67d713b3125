"""Restoring a discarded message: only while its dossier has not moved on past it."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, text

from adapter.store import MessageState, Store, Support, SupportError
from adapter.store import store as store_module
from adapter.store import support as support_module
from adapter.store.rows import claim_rows
from adapter.store.support import NotFound
from tests.engine.test_store import LEASE, T0, answer_for, due_events, event, send_and_answer


def discarded_head(store: Store, *, then_sent: bool) -> None:
    """e1 dead and discarded, e2 behind it; ``then_sent``: e2 was then sent and answered."""
    store.ingest(event("e1", sequence=1), T0)
    store.ingest(event("e2", sequence=2), T0)
    claim = store.claim(store.due(T0, 10)[0], "t", T0, LEASE)
    assert claim is not None
    store.dead_letter(claim, "HTTP 500 from the central application", T0)
    answer = answer_for("e1", "a-discard", "invalid", source="adapter")
    Support(store).discard("m-e1", "bob", "given up", T0, answer)
    if then_sent:
        send_and_answer(store, "e2")


class TestRestore:
    """``Support.restore`` at its boundaries: the next message never tried, tried, sent."""

    def test_restored_before_the_dossier_moved_on(self, store: Store) -> None:
        """The next message was never tried: the discarded one is the head again, dead,
        with its error, and the unpublished discard answer is withdrawn."""
        discarded_head(store, then_sent=False)
        view = Support(store).restore("m-e1", "ann", T0 + timedelta(minutes=1))
        assert view.state is MessageState.DEAD
        assert view.last_error == "HTTP 500 from the central application"
        assert due_events(store, T0 + timedelta(minutes=1)) == set()  # blocked again
        assert store.unpublished_answers(10) == []
        [line] = Support(store).audit_lines(1)
        assert (line.action, line.detail["discard_answer"]) == ("restore", "withdrawn")
        Support(store).replay("m-e1", "ann", T0 + timedelta(minutes=2))
        assert due_events(store, T0 + timedelta(minutes=2)) == {"e1"}

    def test_a_published_discard_answer_stays(self, store: Store) -> None:
        """The EPD has the discard answer already: it is kept, and the audit says so."""
        discarded_head(store, then_sent=False)
        store.mark_published(["a-discard"], T0)
        Support(store).restore("m-e1", "ann", T0)
        [line] = Support(store).audit_lines(1)
        assert line.detail["discard_answer"] == "published"

    def test_refused_once_the_next_message_was_tried(self, store: Store) -> None:
        """A try of the next message (even one that failed) means the dossier moved on."""
        discarded_head(store, then_sent=False)
        claim = store.claim(store.due(T0, 10)[0], "t", T0, LEASE)
        assert claim is not None
        store.schedule_retry(claim, "timeout waiting for the central application", T0, T0)
        with pytest.raises(SupportError, match="moved on"):
            Support(store).restore("m-e1", "ann", T0)

    def test_refused_once_the_next_message_was_sent(self, store: Store) -> None:
        """The next message was sent and answered: restoring would reorder the dossier."""
        discarded_head(store, then_sent=True)
        with pytest.raises(SupportError, match=r"moved on \(#2"):
            Support(store).restore("m-e1", "ann", T0)
        assert Support(store).audit_lines(1)[0].action == "discard"

    def test_only_discarded_messages_and_known_ones(self, store: Store) -> None:
        """A dead letter is not restored; an unknown (or purged) id is not found."""
        store.ingest(event("e1", sequence=1), T0)
        claim = store.claim(store.due(T0, 10)[0], "t", T0, LEASE)
        assert claim is not None
        store.dead_letter(claim, "HTTP 500 from the central application", T0)
        with pytest.raises(SupportError, match="not discarded"):
            Support(store).restore("m-e1", "ann", T0)
        with pytest.raises(NotFound):
            Support(store).restore("m-nope", "ann", T0)


class Pause:
    """Holds one thread's transaction open, just before its commit, until the test says go."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.go = threading.Event()
        self.backend: int | None = None
        """The held transaction's PostgreSQL backend (None on SQLite)."""

    def hold(self, db: Connection) -> None:
        if db.dialect.name == "postgresql":
            self.backend = db.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        self.reached.set()
        assert self.go.wait(20), "the test never let the held transaction go"


def wait_until_blocked(store: Store, pause: Pause, work: Future[Any]) -> None:
    """Until ``work`` is done or waits for a lock of the held transaction.

    On PostgreSQL the lock wait is seen (``pg_blocking_pids``), so the interleaving is the
    one intended whatever the machine's speed. On SQLite a writer waits for the in-process
    write lock, which nothing shows: a short wait stands in (the outcome does not depend on
    it there, the store having one writer at a time).
    """
    deadline = time.monotonic() + 20
    while not work.done() and time.monotonic() < deadline:
        if pause.backend is None:
            wait([work], timeout=0.5)
            return
        with store.engine.connect() as db:
            waiting = db.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE :b = ANY(pg_blocking_pids(pid))"),
                {"b": pause.backend},
            ).scalar_one()
        if waiting:
            return
        time.sleep(0.01)


def head_is_restored(store: Store, now: datetime) -> None:
    """e1 a dead letter at the head again, e2 never tried and waiting behind it."""
    e1, e2 = store.message("m-e1"), store.message("m-e2")
    assert e1 is not None
    assert e2 is not None
    assert (e1.state, e2.state, e2.attempts) == (MessageState.DEAD, MessageState.PENDING, 0)
    assert due_events(store, now) == set()
    assert store.claim_due(now, "t", LEASE, 10) == []
    Support(store).replay("m-e1", "ann", now)
    assert due_events(store, now) == {"e1"}


class TestRestoreAgainstAClaim:
    """A claim never wins a message its dossier's head was moved back before.

    The dispatcher picks the due heads, then claims them with a compare-and-set; a restore
    moves a head back. On PostgreSQL both run at once (READ COMMITTED, several instances):
    the later message must not be claimed once the head is back on the restored one, nor the
    restore pass while a claim of the later message is not yet committed.
    """

    def test_a_head_picked_before_the_restore_is_not_claimed_after_it(self, store: Store) -> None:
        """e2 was due when picked; the restore commits before the claim: e2 is not claimed."""
        discarded_head(store, then_sent=False)
        now = T0 + timedelta(minutes=1)
        [picked] = store.due(now, 10)
        Support(store).restore("m-e1", "ann", now)
        assert store.claim(picked, "t", now, LEASE) is None
        head_is_restored(store, now)

    def test_a_claim_during_a_restore_waits_and_leaves_the_later_message(
        self, store: Store, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The restore has moved the head back but not committed; a claim that picked e2
        (the head it saw) must not win it."""
        discarded_head(store, then_sent=False)
        now = T0 + timedelta(minutes=1)
        pause = Pause()
        audit = support_module._audit

        def audit_then_hold(session: Any, *args: Any) -> None:
            audit(session, *args)
            session.flush()
            pause.hold(session.connection())

        monkeypatch.setattr(support_module, "_audit", audit_then_hold)
        with ThreadPoolExecutor(2) as pool:
            restore = pool.submit(Support(store).restore, "m-e1", "ann", now)
            assert pause.reached.wait(20)
            assert store.due(now, 10), "the claim sees e2 as the head (restore not committed)"
            claim = pool.submit(store.claim_due, now, "t", LEASE, 10)
            wait_until_blocked(store, pause, claim)
            pause.go.set()
            restore.result(timeout=20)
            claimed = claim.result(timeout=20)
        assert [c.message_id for c in claimed] == []
        monkeypatch.undo()
        head_is_restored(store, now)

    def test_a_restore_during_a_claim_of_the_later_message_is_refused(
        self, store: Store, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """e2 is claimed but not committed when the restore checks the dossier: the restore
        waits for the claim, then sees e2 tried and refuses."""
        discarded_head(store, then_sent=False)
        now = T0 + timedelta(minutes=1)
        pause = Pause()

        def claim_then_hold(db: Connection, *args: Any) -> Any:
            claims = claim_rows(db, *args)
            pause.hold(db)
            return claims

        monkeypatch.setattr(store_module, "claim_rows", claim_then_hold)
        with ThreadPoolExecutor(2) as pool:
            claim = pool.submit(store.claim_due, now, "t", LEASE, 10)
            assert pause.reached.wait(20)
            restore: Future[Any] = pool.submit(Support(store).restore, "m-e1", "ann", now)
            wait_until_blocked(store, pause, restore)
            pause.go.set()
            assert [c.message_id for c in claim.result(timeout=20)] == ["m-e2"]
            with pytest.raises(SupportError, match=r"moved on \(#2"):
                restore.result(timeout=20)
        e1 = store.message("m-e1")
        assert e1 is not None
        assert e1.state is MessageState.DISCARDED

    def test_a_gap_skipped_during_a_restore_is_no_gap_any_more(
        self, store: Store, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """e1 discarded, #2 missing, e3 behind: a skip of the gap that read the head while
        the restore was not committed must not move the head past the restored e1."""
        store.ingest(event("e1", sequence=1), T0)
        store.ingest(event("e3", sequence=3), T0)
        claim = store.claim(store.due(T0, 10)[0], "t", T0, LEASE)
        assert claim is not None
        store.dead_letter(claim, "HTTP 500 from the central application", T0)
        answer = answer_for("e1", "a-discard", "invalid", source="adapter")
        Support(store).discard("m-e1", "bob", "given up", T0, answer)
        pause = Pause()
        audit = support_module._audit

        def audit_then_hold(
            session: Any, now: datetime, actor: str, action: str, *rest: Any
        ) -> None:
            audit(session, now, actor, action, *rest)
            if action == "restore":
                session.flush()
                pause.hold(session.connection())

        monkeypatch.setattr(support_module, "_audit", audit_then_hold)
        with ThreadPoolExecutor(2) as pool:
            restore = pool.submit(Support(store).restore, "m-e1", "ann", T0)
            assert pause.reached.wait(20)
            skip: Future[Any] = pool.submit(Support(store).skip_gap, "dossier:D1", "ann", T0)
            wait_until_blocked(store, pause, skip)
            pause.go.set()
            restore.result(timeout=20)
            with pytest.raises(SupportError, match="not waiting on a gap"):
                skip.result(timeout=20)
        assert due_events(store, T0) == set()
        assert store.claim_due(T0, "t", LEASE, 10) == []

    def test_look_ups_of_a_restored_dossier_are_still_claimed(self, store: Store) -> None:
        """A look-up never waits for its dossier: it is claimed with the head back on a
        dead letter."""
        discarded_head(store, then_sent=False)
        Support(store).restore("m-e1", "ann", T0)
        store.ingest(event("look", sequence=3, ordered=False), T0)
        assert [c.message_id for c in store.claim_due(T0, "t", LEASE, 10)] == ["m-look"]
