"""Restoring a discarded message: only while its dossier has not moved on past it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapter.store import MessageState, Store, Support, SupportError
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
