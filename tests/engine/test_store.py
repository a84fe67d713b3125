"""The store keeps each dossier's order, single flight and blocks (SQLite and PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from adapter.store import (
    AnswerSource,
    Claim,
    IngestResult,
    MessageState,
    NewEvent,
    PreparedAnswer,
    Store,
    Support,
    SupportError,
)
from adapter.store.rows import apply_changes
from mappings.model import Outcome
from mappings.role import CLOSES, MODIFIES, OPENS, ApplicationChange, Role

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


def event(
    event_id: str,
    dossier: str = "D1",
    sequence: int | None = 1,
    *,
    ordered: bool = True,
    valid: bool = True,
) -> NewEvent:
    answer = None
    if not valid:
        answer = answer_for(event_id, f"a-{event_id}", "invalid")
    return NewEvent(
        event_id=event_id,
        payload="{}",
        body_digest="0" * 64,
        event_code="reva-application" if ordered else "insurance-status",
        dossier_id=dossier,
        sequence=sequence,
        ordering_key=f"dossier:{dossier}" if sequence is not None else None,
        ordered=ordered,
        valid=valid,
        issues=(),
        message_id=f"m-{event_id}" if valid else None,
        answer=answer,
    )


def answer_for(
    event_id: str, answer_id: str, outcome: str, source: str = "sync", reference: str | None = None
) -> PreparedAnswer:
    return PreparedAnswer(
        answer_id=answer_id,
        event_id=event_id,
        event_code="reva-application",
        message_id=f"m-{event_id}",
        outcome=Outcome(outcome),
        source=AnswerSource(source),
        body="{}",
        vsb_reference=reference,
    )


def reference_of(claim: Claim) -> str | None:
    """The VSB reference the dossier's application gives the claimed modification."""
    return claim.application.vsb_reference if claim.application is not None else None


def due_events(store: Store, now: datetime = T0) -> set[str]:
    ids = store.due(now, 100)
    with store.transaction() as session:
        from adapter.store.tables import MessageRow

        return {session.get_one(MessageRow, i).event_id for i in ids}


def send_and_answer(store: Store, event_id: str, outcome: str = "accepted") -> None:
    [pk] = [i for i in store.due(T0, 100) if _event_of(store, i) == event_id]
    claim = store.claim(pk, "test", T0, LEASE)
    assert claim is not None
    reference = "VSB-1" if outcome == "accepted" else None
    answer = answer_for(event_id, f"a-{event_id}", outcome, reference=reference)
    assert store.record_answer(claim, answer, T0, role=OPENS)


def _event_of(store: Store, pk: int) -> str:
    from adapter.store.tables import MessageRow

    with store.transaction() as session:
        return session.get_one(MessageRow, pk).event_id


class TestIngest:
    def test_a_redelivered_event_is_stored_once(self, store: Store) -> None:
        """Ingesting the same event id twice is a no-op the second time."""
        assert store.ingest(event("e1"), T0) is IngestResult.STORED
        assert store.ingest(event("e1"), T0) is IngestResult.DUPLICATE
        assert due_events(store) == {"e1"}

    def test_a_sequence_number_cannot_be_used_twice(self, store: Store) -> None:
        """A second event claiming a dossier's sequence number is not stored."""
        store.ingest(event("e1", sequence=1), T0)
        assert store.ingest(event("e2", sequence=1), T0) is IngestResult.SEQUENCE_TAKEN

    def test_a_number_the_dossier_has_passed_is_refused(self, store: Store) -> None:
        """An event numbered below the dossier's head (a skipped or resent number) is refused."""
        store.ingest(event("e3", sequence=3), T0)
        Support(store).skip_gap("dossier:D1", "carol", T0)
        assert store.ingest(event("late", sequence=1), T0) is IngestResult.SEQUENCE_PASSED

    def test_an_invalid_event_uses_up_its_number(self, store: Store) -> None:
        """An invalid event at the head lets the next sequence number through."""
        store.ingest(event("bad", sequence=1, valid=False), T0)
        store.ingest(event("e2", sequence=2), T0)
        assert due_events(store) == {"e2"}
        assert [a.answer_id for a in store.unpublished_answers(10)] == ["a-bad"]


class TestOrder:
    def test_only_the_head_of_a_dossier_is_due(self, store: Store) -> None:
        """Later messages of a dossier wait until the head has its final answer."""
        for n in (1, 2, 3):
            store.ingest(event(f"e{n}", sequence=n), T0)
        assert due_events(store) == {"e1"}
        send_and_answer(store, "e1")
        assert due_events(store) == {"e2"}

    def test_arrival_order_is_not_trusted(self, store: Store) -> None:
        """A message that arrives before its predecessor waits for it."""
        store.ingest(event("e2", sequence=2), T0)
        assert due_events(store) == set()
        store.ingest(event("e1", sequence=1), T0)
        assert due_events(store) == {"e1"}

    def test_dossiers_are_independent(self, store: Store) -> None:
        """Heads of different dossiers are due together."""
        store.ingest(event("a1", "A", 1), T0)
        store.ingest(event("b1", "B", 1), T0)
        assert due_events(store) == {"a1", "b1"}

    def test_lookups_neither_wait_nor_block(self, store: Store) -> None:
        """A look-up is due at once and its number never holds the dossier."""
        store.ingest(event("app", sequence=1), T0)
        store.ingest(event("look", sequence=2, ordered=False), T0)
        store.ingest(event("stop", sequence=3), T0)
        assert due_events(store) == {"app", "look"}
        send_and_answer(store, "app")
        assert "stop" in due_events(store)

    def test_in_beraad_parks_the_dossier_until_the_decision(self, store: Store) -> None:
        """An in-beraad answer holds the dossier; the later final answer releases it."""
        store.ingest(event("e1", sequence=1), T0)
        store.ingest(event("e2", sequence=2), T0)
        send_and_answer(store, "e1", "in-beraad")
        assert due_events(store) == set()
        decision = answer_for("e1", "decision", "accepted", "mailbox", "VSB-9")
        assert store.record_later_answer("m-e1", decision, T0, role=OPENS)
        assert due_events(store) == {"e2"}
        claim = store.claim(store.due(T0, 1)[0], "t", T0, LEASE)
        assert claim is not None
        assert reference_of(claim) == "VSB-9"

    def test_a_mailbox_answer_is_stored_once(self, store: Store) -> None:
        """Fetching the same later answer again changes nothing."""
        store.ingest(event("e1"), T0)
        send_and_answer(store, "e1", "in-beraad")
        decision = answer_for("e1", "d", "accepted", "mailbox", "R")
        assert store.record_later_answer("m-e1", decision, T0, role=OPENS)
        assert not store.record_later_answer("m-e1", decision, T0, role=OPENS)

    def test_a_decision_fetched_during_a_resend_is_not_lost(self, store: Store) -> None:
        """If the decision arrives before the resent in-beraad answer, the decision wins."""
        store.ingest(event("e1", sequence=1), T0)
        store.ingest(event("e2", sequence=2), T0)
        claim = store.claim(store.due(T0, 10)[0], "t", T0, LEASE)
        assert claim is not None
        decision = answer_for("e1", "decision", "accepted", "mailbox", "VSB-7")
        assert store.record_later_answer("m-e1", decision, T0, role=OPENS)
        assert store.record_answer(claim, answer_for("e1", "a-e1", "in-beraad"), T0, role=OPENS)
        assert due_events(store) == {"e2"}
        # The EPD hears the decision only: a late "in beraad" after it would mislead.
        assert [a.answer_id for a in store.unpublished_answers(10)] == ["decision"]
        head = store.claim(store.due(T0, 10)[0], "t", T0, LEASE)
        assert head is not None
        assert reference_of(head) == "VSB-7"

    def test_a_long_run_of_lookups_is_passed_at_once(self, store: Store) -> None:
        """Finishing the head skips every look-up behind it, more than one read's worth."""
        store.ingest(event("app", sequence=1), T0)
        for n in range(2, 42):
            store.ingest(event(f"look{n}", sequence=n, ordered=False), T0)
        store.ingest(event("stop", sequence=42), T0)
        send_and_answer(store, "app")
        assert "stop" in due_events(store)

    def test_answers_recorded_together_keep_each_dossier_apart(self, store: Store) -> None:
        """Answers of many threads at once each move their own dossier, with their reference."""
        for n in range(12):
            store.ingest(event(f"a{n}", f"G{n}", 1), T0)
            store.ingest(event(f"s{n}", f"G{n}", 2), T0)
        claims = store.claim_due(T0, "t", LEASE, 100)
        assert len(claims) == 12

        def record(claim: Claim) -> bool:
            n = claim.event_id[1:]
            answer = answer_for(claim.event_id, f"x{n}", "accepted", reference=f"VSB-{n}")
            return store.record_answer(claim, answer, T0, role=OPENS)

        with ThreadPoolExecutor(12) as pool:
            assert all(pool.map(record, claims))
        heads = store.claim_due(T0, "t", LEASE, 100)
        assert {(c.event_id, reference_of(c)) for c in heads} == {
            (f"s{n}", f"VSB-{n}") for n in range(12)
        }


class TestSingleFlight:
    def test_a_message_is_claimed_once(self, store: Store) -> None:
        """The second claim of the same message fails."""
        store.ingest(event("e1"), T0)
        [pk] = store.due(T0, 10)
        assert store.claim(pk, "one", T0, LEASE) is not None
        assert store.claim(pk, "two", T0, LEASE) is None
        assert store.due(T0, 10) == []

    def test_claiming_due_work_takes_heads_only_and_once(self, store: Store) -> None:
        """One batch claim takes each dossier's head and look-ups; a second finds nothing new."""
        store.ingest(event("a1", "A", 1), T0)
        store.ingest(event("a2", "A", 2), T0)
        store.ingest(event("b1", "B", 1), T0)
        store.ingest(event("look", "C", 1, ordered=False), T0)
        claims = store.claim_due(T0, "one", LEASE, 10)
        assert sorted(c.event_id for c in claims) == ["a1", "b1", "look"]
        assert all(c.fence == 1 and c.attempts == 1 for c in claims)
        assert store.claim_due(T0, "two", LEASE, 10) == []

    def test_a_batch_claim_respects_its_limit(self, store: Store) -> None:
        """No more messages are claimed than the free send slots."""
        for n in range(5):
            store.ingest(event(f"e{n}", f"D{n}", 1), T0)
        assert len(store.claim_due(T0, "one", LEASE, 2)) == 2
        assert len(store.claim_due(T0, "one", LEASE, 10)) == 3

    def test_a_stale_claim_cannot_finish(self, store: Store) -> None:
        """After a lease expires and another process claims, the first finish is ignored."""
        store.ingest(event("e1"), T0)
        [pk] = store.due(T0, 10)
        first = store.claim(pk, "one", T0, LEASE)
        assert first is not None
        later = T0 + LEASE * 2
        assert store.release_expired_leases(later) == 1
        second = store.claim(pk, "two", later, LEASE)
        assert second is not None
        assert second.fence > first.fence
        assert second.message_id == first.message_id
        assert not store.record_answer(
            first, answer_for("e1", "x", "accepted"), later, role=MODIFIES
        )
        assert store.dead_letter(second, "boom", later)

    def test_in_doubt_sends_are_released_at_start(self, store: Store) -> None:
        """Messages left sending by a dead process go back to pending with their id."""
        store.ingest(event("e1"), T0)
        claim = store.claim(store.due(T0, 10)[0], "gone", T0, LEASE)
        assert claim is not None
        assert store.release_leases(None, T0) == 1
        again = store.claim(store.due(T0, 10)[0], "new", T0, LEASE)
        assert again is not None
        assert again.message_id == claim.message_id
        assert again.attempts == 2


class TestRetries:
    def test_an_attempt_spent_on_an_outage_is_given_back(self, store: Store) -> None:
        """A retry scheduled without counting leaves the attempt count where it was."""
        store.ingest(event("e1"), T0)
        claim = store.claim(store.due(T0, 10)[0], "t", T0, LEASE)
        assert claim is not None
        assert claim.attempts == 1
        assert store.schedule_retry(claim, "down", T0, T0, count=False)
        again = store.claim(store.due(T0, 10)[0], "t", T0, LEASE)
        assert again is not None
        assert again.attempts == 1

    def test_an_outage_is_left_out_of_the_retry_age(self, store: Store) -> None:
        """After an outage the failing-since time moves later by the outage's length."""
        store.ingest(event("e1"), T0)
        claim = store.claim(store.due(T0, 10)[0], "t", T0, LEASE)
        assert claim is not None
        store.schedule_retry(claim, "timeout", T0, T0)
        assert store.exclude_outage(3600, T0 + timedelta(hours=2)) == 1
        again = store.claim(store.due(T0, 10)[0], "t", T0, LEASE)
        assert again is not None
        assert again.failing_since == T0 + timedelta(hours=1)


class TestDeadLetters:
    def _dead_head(self, store: Store) -> None:
        store.ingest(event("e1", sequence=1), T0)
        store.ingest(event("e2", sequence=2), T0)
        claim = store.claim(store.due(T0, 10)[0], "t", T0, LEASE)
        assert claim is not None
        store.dead_letter(claim, "soap:Client fault", T0)

    def test_a_dead_letter_blocks_its_dossier(self, store: Store) -> None:
        """Nothing after a dead letter is due, and the dossier counts as blocked."""
        self._dead_head(store)
        assert due_events(store) == set()
        assert store.stats(T0, timedelta(minutes=15)).blocked_dossiers == 1

    def test_replay_puts_it_back_at_the_head_with_its_id(self, store: Store) -> None:
        """An unchanged replay keeps the message id and is due before the rest."""
        self._dead_head(store)
        view = Support(store).replay("m-e1", "alice", T0)
        assert view.message_id == "m-e1"
        assert view.state == MessageState.PENDING
        assert due_events(store) == {"e1"}

    def test_a_corrected_replay_gets_a_new_id_naming_the_original(self, store: Store) -> None:
        """A corrected replay carries a new id and refers to the one it replaces."""
        self._dead_head(store)
        view = Support(store).replay(
            "m-e1", "alice", T0, corrected_payload='{"fixed": 1}', new_message_id="m-new"
        )
        assert (view.message_id, view.replaces_message_id) == ("m-new", "m-e1")
        claim = store.claim(store.due(T0, 10)[0], "t", T0, LEASE)
        assert claim is not None
        assert claim.payload == '{"fixed": 1}'
        assert Support(store).audit_log()[0][1:3] == ("alice", "replay")

    def test_discard_releases_the_next_message(self, store: Store) -> None:
        """Discarding a dead letter answers the EPD and lets the dossier move on."""
        self._dead_head(store)
        Support(store).discard(
            "m-e1", "bob", "duplicate of another file", T0, answer_for("e1", "a-discard", "invalid")
        )
        assert due_events(store) == {"e2"}
        assert "a-discard" in {a.answer_id for a in store.unpublished_answers(10)}

    def test_only_dead_letters_can_be_replayed(self, store: Store) -> None:
        """Replaying a pending message is refused with the reason."""
        store.ingest(event("e1"), T0)
        with pytest.raises(SupportError, match="not a dead letter"):
            Support(store).replay("m-e1", "alice", T0)


class TestRetention:
    def test_purge_deletes_finished_work_and_keeps_the_order(self, store: Store) -> None:
        """Old finished events go; open ones and the dossier's place in its sequence stay."""
        store.ingest(event("e1", sequence=1), T0)
        store.ingest(event("e2", sequence=2), T0)
        send_and_answer(store, "e1")
        store.mark_published([a.answer_id for a in store.unpublished_answers(10)], T0)
        later = T0 + timedelta(days=40)
        counts = Support(store).purge(T0 + timedelta(days=30), "ops", later)
        assert counts == {"events": 1, "messages": 1, "answers": 1}
        assert [m.event_id for m in Support(store).dossier("dossier:D1")] == ["e2"]
        assert store.ingest(event("again", sequence=1), later) is IngestResult.SEQUENCE_PASSED
        assert due_events(store, later) == {"e2"}


class TestGaps:
    def test_a_gap_holds_the_dossier_and_shows_as_stuck(self, store: Store) -> None:
        """A missing number holds later messages; after the alert time it counts as stuck."""
        store.ingest(event("e2", sequence=2), T0)
        stats = store.stats(T0 + timedelta(minutes=20), timedelta(minutes=15))
        assert (stats.gapped_dossiers, stats.stuck_dossiers) == (1, 1)
        assert store.stats(T0, timedelta(minutes=15)).stuck_dossiers == 0

    def test_skipping_a_gap_releases_the_dossier(self, store: Store) -> None:
        """An operator skip moves the dossier to the next number it has."""
        store.ingest(event("e3", sequence=3), T0)
        assert Support(store).skip_gap("dossier:D1", "carol", T0) == 3
        assert due_events(store) == {"e3"}


class TestApplications:
    """The dossier's application, apart from its order, as the roles of its messages leave it."""

    def answer(self, store: Store, event_id: str, outcome: str, role: Role) -> None:
        [claim] = [c for c in store.claim_due(T0, "t", LEASE, 10) if c.event_id == event_id]
        reference = "VSB-1" if outcome == "accepted" else None
        answer = answer_for(event_id, f"a-{event_id}", outcome, reference=reference)
        assert store.record_answer(claim, answer, T0, role=role)

    def test_an_accepted_closing_message_closes_the_application(self, store: Store) -> None:
        """After an accepted cancel, the next message sees the application closed."""
        for n, event_id in enumerate(["app", "cancel", "after"], start=1):
            store.ingest(event(event_id, sequence=n), T0)
        self.answer(store, "app", "accepted", OPENS)
        self.answer(store, "cancel", "accepted", CLOSES)
        [claim] = store.claim_due(T0, "t", LEASE, 10)
        assert claim.event_id == "after"
        assert claim.application is not None
        assert (claim.application.closed, claim.application.vsb_reference) == (True, "VSB-1")

    def test_a_refused_closing_message_leaves_it_open(self, store: Store) -> None:
        """A cancel the central application refused changes nothing."""
        for n, event_id in enumerate(["app", "cancel", "after"], start=1):
            store.ingest(event(event_id, sequence=n), T0)
        self.answer(store, "app", "accepted", OPENS)
        self.answer(store, "cancel", "refused", CLOSES)
        [claim] = store.claim_due(T0, "t", LEASE, 10)
        assert claim.application is not None
        assert not claim.application.closed

    def test_a_decision_keeps_the_reference_an_earlier_answer_gave(self, store: Store) -> None:
        """An answer without a reference does not erase the one the application has."""
        store.ingest(event("app", sequence=1), T0)
        store.ingest(event("stop", sequence=2), T0)
        self.answer(store, "app", "accepted", OPENS)
        with store.connection() as db:
            apply_changes(db, {"dossier:D1": ApplicationChange(Outcome.ACCEPTED, None, ())}, T0)
        [claim] = store.claim_due(T0, "t", LEASE, 10)
        assert claim.application is not None
        assert claim.application.vsb_reference == "VSB-1"
