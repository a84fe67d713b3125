"""The look-ups before invoicing (DOMAIN.md "What the facility's software must do", items 2
and 5): the increased-allowance status and a PVT resident's daily personal share.

Like the insurance status look-up they are answered on the person as the population knows
them, whatever the affiliation: refused only for a wrong INSZ or an unrecognised facility.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Final

from simulator.answers import IncreasedAllowance, Outcome, PersonalShare
from simulator.messages import IncreasedAllowanceRequest, PersonalShareRequest
from simulator.population import Person
from simulator.rules.verdict import Verdict, identity_errors

NORMAL_DAILY_SHARE: Final = Decimal("35.00")
"""A PVT resident's personal share per day of stay without the increased allowance.

The simulator's own figure (DOMAIN.md names no amounts); a person in the population may
override it with ``daily_share``."""
INCREASED_DAILY_SHARE: Final = Decimal("28.00")
"""The personal share per day with the increased allowance (the simulator's own figure)."""


def increased_allowance_on(person: Person, day: date) -> IncreasedAllowance:
    """The increased-allowance status on ``day``: entitled, with its first and (if known) last
    day; not entitled, without dates, also before it starts or after it ended."""
    if not person.increased_allowance_on(day):
        return IncreasedAllowance(False)
    return IncreasedAllowance(True, person.increased_allowance_from, person.increased_allowance_to)


def personal_share_on(person: Person, day: date) -> PersonalShare:
    """The daily personal share on ``day``: the person's own amount if set, else the
    documented amount for someone with or without the increased allowance that day.

    ``ValidFrom`` is the day the amount began to apply as far as the population tells:
    the first day of the increased allowance, or the day after it ended; none otherwise.
    """
    entitled = person.increased_allowance_on(day)
    amount = INCREASED_DAILY_SHARE if entitled else NORMAL_DAILY_SHARE
    if person.daily_share is not None:
        amount = person.daily_share
    since = None
    if entitled:
        since = person.increased_allowance_from
    elif person.increased_allowance_to is not None and person.increased_allowance_to < day:
        since = person.increased_allowance_to + timedelta(days=1)
    return PersonalShare(amount, entitled, since)


def judge_increased_allowance_request(
    request: IncreasedAllowanceRequest, person: Person, recognised: bool
) -> Verdict:
    """Accepted with the increased-allowance status on the reference date (refused only
    for VSB-INSZ-01 / VSB-FAC-01)."""
    errors = identity_errors(request.kind, request.insz, recognised)
    if errors:
        return Verdict(Outcome.REFUSED, tuple(errors))
    return Verdict(Outcome.ACCEPTED, body=increased_allowance_on(person, request.reference_date))


def judge_personal_share_request(
    request: PersonalShareRequest, person: Person, recognised: bool
) -> Verdict:
    """Accepted with the daily personal share on the reference date (refused only for
    VSB-INSZ-01 / VSB-FAC-01; whether the person is a PVT resident is not checked)."""
    errors = identity_errors(request.kind, request.insz, recognised)
    if errors:
        return Verdict(Outcome.REFUSED, tuple(errors))
    return Verdict(Outcome.ACCEPTED, body=personal_share_on(person, request.reference_date))
