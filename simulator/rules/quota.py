"""Session quotas and the sessions ledger (DOMAIN.md "Diagnosis", "New request").

A diagnosis period has 32 sessions when the user is under 18 at the start of the period and
16 from 18 on, however often it is extended (it never passes three years). A coordination
period (new, restart) has 70 sessions per five-year period, and each accepted extension of
it opens a new five-year period with a quota of its own. Sessions are used up by invoiced
session lines; until invoicing exists the ledger is fed through the admin API. A session
counts for the period its date falls in (a date before the first period counts for it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from simulator.answers import Error
from simulator.history import Application, Sessions
from simulator.population import birth_date
from simulator.rules.codes import QUOTA_USED
from simulator.rules.dates import is_adult_on

DIAGNOSIS_QUOTA_UNDER_18: Final = 32
DIAGNOSIS_QUOTA_FROM_18: Final = 16
COORDINATION_QUOTA: Final = 70


def session_quota(application: Application) -> int:
    """The number of sessions of one period of this application.

    The age is taken at the start of the diagnosis period (carried over on a change of
    facility); an INSZ or BIS number without a birth date counts as adult.
    """
    if not application.diagnosis:
        return COORDINATION_QUOTA
    adult = is_adult_on(birth_date(application.insz), application.period_start)
    return DIAGNOSIS_QUOTA_FROM_18 if adult else DIAGNOSIS_QUOTA_UNDER_18


def period_starts(application: Application) -> list[date]:
    """The first day of each quota period, oldest first."""
    if application.diagnosis:
        return [application.period_start]
    return [application.period_start] + [e.start for e in application.active_extensions]


def _period_of(starts: list[date], day: date) -> date:
    return max((start for start in starts if start <= day), default=starts[0])


@dataclass(frozen=True)
class Balance:
    """The quota of one period and how much of it is used."""

    quota: int
    period_start: date
    used: int
    reached_on: date | None
    """The date of the sessions that used the quota up (the period closes on it)."""

    def to_json(self) -> dict[str, Any]:
        """The admin API's JSON shape."""
        return {
            "quota": self.quota,
            "period_start": self.period_start.isoformat(),
            "used": self.used,
            "quota_reached_on": None if self.reached_on is None else self.reached_on.isoformat(),
        }


def _period(application: Application, day: date | None) -> tuple[date, list[Sessions]]:
    starts = period_starts(application)
    period = starts[-1] if day is None else _period_of(starts, day)
    return period, [s for s in application.ledger if _period_of(starts, s.day) == period]


def period_sessions(application: Application) -> list[Sessions]:
    """The ledger entries of the latest period (those that carry over on a change of
    facility)."""
    return _period(application, None)[1]


def balance(application: Application, day: date | None = None) -> Balance:
    """The balance of the period ``day`` falls in; without ``day``, of the latest period."""
    period, entries = _period(application, day)
    quota = session_quota(application)
    used, reached_on = 0, None
    for sessions in entries:
        used += sessions.count
        if reached_on is None and used >= quota:
            reached_on = sessions.day
    return Balance(quota, period, used, reached_on)


@dataclass(frozen=True)
class SessionsVerdict:
    """How many of the sessions offered on one day fit in the quota."""

    quota: int
    accepted: int
    refused: int
    errors: tuple[Error, ...]


def judge_sessions(application: Application, day: date, count: int) -> SessionsVerdict:
    """Accept sessions up to the quota of the period ``day`` falls in; refuse the rest
    (VSB-REVA-QUOTA): the quota-th session is accepted, the next one refused."""
    current = balance(application, day)
    accepted = max(0, min(count, current.quota - current.used))
    refused = count - accepted
    errors: tuple[Error, ...] = ()
    if refused:
        errors = (
            Error(
                QUOTA_USED,
                f"{refused} session(s) past the quota of {current.quota} for the period"
                f" from {current.period_start.isoformat()}",
                "/sessions",
            ),
        )
    return SessionsVerdict(current.quota, accepted, refused, errors)
