"""The store's side of the deadlines (SQLite and PostgreSQL): the dates kept with a message,
what accepted answers do to the dossier's period, the counts the gauges read, and a corrected
replay taking the correction's dates; and the reasons a bulk action gives for what it skips."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from adapter.selection import Selection
from adapter.store import NewEvent, Store, Support
from adapter.store.tables import APPLICATIONS
from adapter.support import SupportDesk
from adapter.testing import FixedClock
from mappings.deadline import Days, DeadlineRule, EventDates, PeriodEffect
from mappings.model import Facility
from mappings.role import MODIFIES, OPENS, Role
from tests.engine.test_store import LEASE, T0, answer_for, event

TODAY = date(2026, 11, 20)
DAYS = Days(TODAY, 7)
APPLICATION = EventDates(
    rule=DeadlineRule.APPLICATION,
    due_on=TODAY + timedelta(days=3),
    period=PeriodEffect.ENDS,
    period_date=TODAY - timedelta(days=2),
)
CHANGE = EventDates(rule=DeadlineRule.LATE_CHANGE)


def stop(day: date) -> EventDates:
    return EventDates(DeadlineRule.LATE_CHANGE, None, PeriodEffect.STOPS, day)


RESUME = EventDates(DeadlineRule.LATE_CHANGE, None, PeriodEffect.RESUMES)


def dated(event_id: str, sequence: int, dates: EventDates, dossier: str = "D1") -> NewEvent:
    return dataclasses.replace(event(event_id, dossier, sequence), dates=dates)


def accept(store: Store, event_id: str, role: Role) -> None:
    """Claim the dossier's head (``event_id``) and record its acceptance."""
    [claim] = store.claim_due(T0, "t", LEASE, 1)
    assert claim.event_id == event_id
    answer = answer_for(event_id, f"a-{event_id}", "accepted", reference="VSB-1")
    assert store.record_answer(claim, answer, T0, role=role)


def period(store: Store, dossier: str = "D1") -> tuple[date | None, date | None]:
    with store.connection(read_only=True) as db:
        row = db.execute(
            APPLICATIONS.select().where(APPLICATIONS.c.dossier_key == f"dossier:{dossier}")
        ).one()
    return row.period_ends_on, row.stopped_on


class TestPeriods:
    """Accepted messages set, stop and resume their dossier's period; others leave it."""

    def test_the_application_sets_the_end_a_stop_and_its_cancel_the_stop(
        self, store: Store
    ) -> None:
        """End from the application, stop from the stop, none again after the cancel."""
        stop_day = TODAY - timedelta(days=9)
        store.ingest(dated("e1", 1, APPLICATION), T0)
        store.ingest(dated("e2", 2, stop(stop_day)), T0)
        store.ingest(dated("e3", 3, RESUME), T0)
        accept(store, "e1", OPENS)
        assert period(store) == (APPLICATION.period_date, None)
        accept(store, "e2", MODIFIES)
        assert period(store) == (APPLICATION.period_date, stop_day)
        accept(store, "e3", MODIFIES)
        assert period(store) == (APPLICATION.period_date, None)

    def test_a_refused_message_sets_nothing(self, store: Store) -> None:
        """A refused stop leaves the period as it was."""
        store.ingest(dated("e1", 1, APPLICATION), T0)
        store.ingest(dated("e2", 2, stop(TODAY)), T0)
        accept(store, "e1", OPENS)
        [claim] = store.claim_due(T0, "t", LEASE, 1)
        store.record_answer(claim, answer_for("e2", "a-e2", "refused"), T0, role=MODIFIES)
        assert period(store) == (APPLICATION.period_date, None)


class TestCounts:
    """Messages on their way are counted by rule, near or passed; answered ones are not."""

    def test_near_and_passed_by_rule(self, store: Store) -> None:
        """An application due in 3 days is near; behind it a change of a period closed 2
        days ago is due in 3 days (near); one due 8 days ago in another dossier has passed."""
        store.ingest(dated("e1", 1, APPLICATION), T0)
        old = dataclasses.replace(APPLICATION, due_on=TODAY - timedelta(days=8))
        store.ingest(dated("f1", 1, old, dossier="D2"), T0)
        counts = store.deadlines(DAYS)
        assert (counts.near, counts.passed) == (
            {DeadlineRule.APPLICATION: 1},
            {DeadlineRule.APPLICATION: 1},
        )
        accept(store, "e1", OPENS)  # D1's application is answered: no longer counted
        store.ingest(dated("e2", 2, CHANGE), T0)
        counts = store.deadlines(DAYS)
        assert (counts.near, counts.passed) == (
            {DeadlineRule.LATE_CHANGE: 1},
            {DeadlineRule.APPLICATION: 1},
        )

    def test_a_change_of_an_unknown_period_is_not_counted(self, store: Store) -> None:
        """Without an accepted application (no period known), a change has no due day."""
        store.ingest(dated("e2", 2, CHANGE), T0)
        counts = store.deadlines(DAYS)
        assert (counts.near, counts.passed) == ({}, {})

    def test_a_corrected_replay_takes_the_corrections_dates(self, store: Store) -> None:
        """A dead application due yesterday, corrected to a start due in 3 days: near."""
        late = dataclasses.replace(APPLICATION, due_on=TODAY - timedelta(days=1))
        store.ingest(dated("e1", 1, late), T0)
        [claim] = store.claim_due(T0, "t", LEASE, 1)
        store.dead_letter(claim, "soap:Client fault", T0)
        assert store.deadlines(DAYS).passed == {DeadlineRule.APPLICATION: 1}
        Support(store).replay(
            "m-e1",
            "alice",
            T0,
            corrected_payload="{}",
            new_message_id="m-new",
            corrected_dates=APPLICATION,
        )
        counts = store.deadlines(DAYS)
        assert (counts.near, counts.passed) == ({DeadlineRule.APPLICATION: 1}, {})


class TestBulkSkipReasons:
    """A message named by id that a bulk action does not take says why."""

    def test_in_the_right_state_but_outside_the_other_criteria(self, store: Store) -> None:
        """A dead letter named by id, with an event code it does not have: skipped, and the
        reason is the criteria, not its state."""
        store.ingest(dated("e1", 1, APPLICATION), T0)
        [claim] = store.claim_due(T0, "t", LEASE, 1)
        store.dead_letter(claim, "soap:Client fault", T0)
        desk = SupportDesk(store, Facility("71012314001", "40012345"), FixedClock(T0))
        selection = Selection(message_ids=("m-e1", "m-nowhere"), event_code="reva-stop")
        result = desk.replay_many(selection, "alice", "test", dry_run=True)
        assert result.skipped == [
            ("m-e1", "outside the selection's other criteria"),
            ("m-nowhere", "unknown"),
        ]
