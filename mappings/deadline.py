"""The domain's deadlines: by when a message must reach the central application.

Two rules of DOMAIN.md, each the last day the central application still takes a message as
it is meant (slides "Aanvragen van tegemoetkomingen" and "Wijzigingen van aanvaarde
aanvragen"):

- **30-day** (``DeadlineRule.APPLICATION``): an application is sent within 30 days after
  its start. Started on D, it must be received by D+30; later, the central application
  refuses it (a REVA application) or grants it from 30 days before its receipt only (a PVT
  admission). Not for a migration file or a PVT late request, whose right is fixed by the
  VI's dates (``mappings.migration``): their classification is not a new request.
- **5-day** (``DeadlineRule.LATE_CHANGE``): a change of a REVA application after its period
  closed (on a stop's date, or on the period's end date) is processed automatically up to
  5 days after the close; from D+6 it is "in beraad". Not for an additional document or an
  extension, processed whenever they come. The close is the dossier's: the adapter keeps it
  from the accepted messages that set it (``PeriodEffect``): the application's end, an
  extension's new end, a stop's date, a stop's cancel. A close the adapter cannot see (the
  period's sessions used up, counted by the fund) is not kept: such a change is counted by
  no deadline gauge.

A message type declares what it has of these (``Deadlines``, on its ``MessageType``); the
engine reads the dates from the event at ingest and the store keeps them, so that the
metrics count the messages still undelivered close to their deadline (``due_for_change``,
``Days``). Dates are local dates in Europe/Brussels (DOMAIN.md, "Late changes").
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from mappings import rules
from mappings.bundle import EventBundle, Node
from mappings.migration import Classification, MigrationClass

APPLICATION_DAYS: Final = 30
"""An application reaches the central application at most this many days after its start."""
LATE_CHANGE_DAYS: Final = 5
"""A change after its period closed is processed automatically up to this many days after."""
ZONE: Final = ZoneInfo("Europe/Brussels")
"""Where the domain's days are counted (DOMAIN.md: dates are local dates in Brussels)."""


class DeadlineRule(enum.StrEnum):
    """The rule a message's deadline comes from (the metric label ``rule``)."""

    APPLICATION = "30-day"
    LATE_CHANGE = "5-day"


class PeriodEffect(enum.StrEnum):
    """What an accepted message does to its dossier's period, for the 5-day rule."""

    ENDS = "ends"
    """The period ends on the message's date (an application, an extension)."""
    STOPS = "stops"
    """The period is stopped on the message's date (a stop)."""
    RESUMES = "resumes"
    """The stop in force is withdrawn (a stop's cancel)."""


DateReader = Callable[[EventBundle, Node], date | None]
"""Reads one date of a validated event: (bundle, focus) -> date, None when it has none."""


@dataclass(frozen=True)
class Deadlines:
    """What a message type has of the domain's deadlines (none, by default)."""

    due_on: DateReader | None = None
    """The 30-day rule: the last day its event must reach the central application."""
    period: PeriodEffect | None = None
    """What its acceptance does to its dossier's period."""
    period_date: DateReader | None = None
    """The date ``period`` sets (the end, the stop date); needed for ``ENDS`` and ``STOPS``."""
    late_change: bool = False
    """The 5-day rule holds for it: due 5 days after its dossier's period closed."""

    def problems(self) -> list[str]:
        """What is inconsistent in the declaration (checked at registration)."""
        dated = self.period in (PeriodEffect.ENDS, PeriodEffect.STOPS)
        return [
            problem
            for failed, problem in (
                (dated and self.period_date is None, f"declares {self.period} without a date"),
                (not dated and self.period_date is not None, "reads a period date it never sets"),
                (self.due_on is not None and self.late_change, "has both deadline rules"),
            )
            if failed
        ]

    @property
    def rule(self) -> DeadlineRule | None:
        """The rule its messages' deadline follows (None: no deadline)."""
        if self.due_on is not None:
            return DeadlineRule.APPLICATION
        return DeadlineRule.LATE_CHANGE if self.late_change else None


NO_DEADLINES: Final = Deadlines()
LATE_CHANGE: Final = Deadlines(late_change=True)
"""A change of a REVA application that sets nothing of its period."""


@dataclass(frozen=True)
class EventDates:
    """The deadline dates one event carries, as the store keeps them."""

    rule: DeadlineRule | None = None
    due_on: date | None = None
    period: PeriodEffect | None = None
    period_date: date | None = None


NO_DATES: Final = EventDates()


def event_dates(deadlines: Deadlines, bundle: EventBundle, focus: Node) -> EventDates:
    """The dates of a validated event its message type declares."""
    return EventDates(
        rule=deadlines.rule,
        due_on=deadlines.due_on(bundle, focus) if deadlines.due_on else None,
        period=deadlines.period,
        period_date=deadlines.period_date(bundle, focus) if deadlines.period_date else None,
    )


def application_due(classify: Callable[[EventBundle, Node], Classification | None]) -> DateReader:
    """The 30-day rule of an application classified by ``classify``: its start + 30 days,
    for a new request only."""

    def due_on(bundle: EventBundle, focus: Node) -> date | None:
        found = classify(bundle, focus)
        if found is None or found.kind is not MigrationClass.NEW_REQUEST:
            return None
        return found.start + timedelta(days=APPLICATION_DAYS)

    return due_on


def period_end(_bundle: EventBundle, claim: Node) -> date | None:
    """``Claim.billablePeriod.end``: the end of an application's or an extension's period."""
    return rules.parse_date(claim.child("billablePeriod").child("end"))


def part_date(category: str) -> DateReader:
    """The ``timingDate`` of the Claim's supportingInfo item of ``category`` (a stop's date)."""

    def read(bundle: EventBundle, claim: Node) -> date | None:
        found = bundle.supporting_info(claim, category)
        return rules.parse_date(found[0].child("timingDate")) if found else None

    return read


def due_for_change(period_ends_on: date | None, stopped_on: date | None) -> date | None:
    """The last day a change is processed automatically: 5 days after the period closes
    (the earlier of its stop and its end); None while the dossier's close is unknown."""
    closes = min((d for d in (period_ends_on, stopped_on) if d is not None), default=None)
    return None if closes is None else closes + timedelta(days=LATE_CHANGE_DAYS)


def local_day(moment: datetime) -> date:
    """The Brussels calendar day of an aware moment."""
    return moment.astimezone(ZONE).date()


@dataclass(frozen=True)
class Days:
    """How close a due day is, seen on ``today`` with a warning horizon of ``horizon`` days."""

    today: date
    horizon: int

    def near(self, due: date) -> bool:
        """Due today or within the horizon: still on time, but not for long."""
        return self.today <= due <= self.today + timedelta(days=self.horizon)

    def passed(self, due: date) -> bool:
        """Due before today: it can no longer reach the central application in time."""
        return due < self.today
