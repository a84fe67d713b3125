"""The deadline dates each example event carries, as ingest reads them (``check_event``)."""

from __future__ import annotations

from datetime import date

import pytest

from mappings import check_event
from mappings.deadline import Days, DeadlineRule, EventDates, PeriodEffect, due_for_change
from tests.mappings.helpers import FACILITY
from tests.support.events import example_path

LATE = DeadlineRule.LATE_CHANGE


class TestEventDates:
    """Each declaring message type reads its dates; the others read none."""

    @pytest.mark.parametrize(
        ("name", "dates"),
        [
            # start 2026-11-02 + 30 days; the period ends 2029-11-01
            (
                "02-reva-application-diagnosis",
                EventDates(
                    DeadlineRule.APPLICATION,
                    date(2026, 12, 2),
                    PeriodEffect.ENDS,
                    date(2029, 11, 1),
                ),
            ),
            ("26-pvt-admission-new", EventDates(DeadlineRule.APPLICATION, date(2026, 12, 16))),
            # a migration file: the VI's dates fix its right, no 30-day rule
            ("27-pvt-admission-migration", EventDates(DeadlineRule.APPLICATION, None)),
            (
                "20-reva-stop-running",
                EventDates(LATE, None, PeriodEffect.STOPS, date(2026, 11, 19)),
            ),
            ("21-reva-stop-cancel", EventDates(LATE, None, PeriodEffect.RESUMES)),
            ("24-reva-extension", EventDates(None, None, PeriodEffect.ENDS, date(2029, 10, 31))),
            ("09-reva-data-change", EventDates(LATE)),
            ("15-reva-document", EventDates()),
            ("28-pvt-extension", EventDates()),
            ("01-insurance-status", EventDates()),
        ],
    )
    def test_dates(self, name: str, dates: EventDates) -> None:
        """The rule, the due day and the period effect of the example."""
        verdict = check_event(example_path(name).read_bytes(), FACILITY)
        assert verdict.issues == ()
        assert verdict.dates == dates


class TestDueDays:
    """The 5-day window counts from the earlier of stop and end; near and passed at the edges."""

    @pytest.mark.parametrize(
        ("ends", "stopped", "due"),
        [
            (date(2026, 11, 30), None, date(2026, 12, 5)),
            (None, date(2026, 11, 10), date(2026, 11, 15)),
            (date(2026, 11, 30), date(2026, 11, 10), date(2026, 11, 15)),
            (date(2026, 11, 5), date(2026, 11, 10), date(2026, 11, 10)),
            (None, None, None),
        ],
    )
    def test_due_for_change(
        self, ends: date | None, stopped: date | None, due: date | None
    ) -> None:
        """Closed on D, a change is due on D+5."""
        assert due_for_change(ends, stopped) == due

    @pytest.mark.parametrize(
        ("due", "near", "passed"),
        [
            (date(2026, 11, 19), False, True),  # yesterday
            (date(2026, 11, 20), True, False),  # today
            (date(2026, 11, 27), True, False),  # the horizon's last day
            (date(2026, 11, 28), False, False),  # the day after it
        ],
    )
    def test_near_and_passed(self, due: date, near: bool, passed: bool) -> None:
        """Seen on 2026-11-20 with a horizon of 7 days."""
        days = Days(date(2026, 11, 20), 7)
        assert (days.near(due), days.passed(due)) == (near, passed)
