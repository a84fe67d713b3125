"""The central application's business rules (DOMAIN.md), as pure functions.

Each ``judge_*`` function takes a request, the facts it needs and "today", and returns a
``Verdict``; it changes nothing. Handing out reference numbers and recording effects is the
caller's job (``central``). Error codes are listed in ``docs/simulator.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from simulator.answers import Error, InsuranceStatus, Outcome
from simulator.messages import InsuranceStatusRequest, RevaApplication, RevaStop
from simulator.population import Affiliation, Person, insz_is_valid

INVALID_INSZ: Final = "VSB-INSZ-01"
UNKNOWN_FACILITY: Final = "VSB-FAC-01"
CAN_JOIN: Final = "VSB-AFF-01"
CANNOT_JOIN: Final = "VSB-AFF-02"
LATE: Final = "VSB-REVA-30D"
END_BEFORE_START: Final = "VSB-REVA-END"
PERIOD_TOO_LONG: Final = "VSB-REVA-PERIOD"
EXCEPTION_REQUEST: Final = "VSB-REVA-EXC"
BAD_REFERENCE: Final = "VSB-MOD-REF"
BAD_STOP_DATE: Final = "VSB-STOP-DATE"
ALREADY_STOPPED: Final = "VSB-STOP-DONE"
REFUSED_AFTER_REVIEW: Final = "VSB-BERAAD-REF"

LATE_AFTER_DAYS: Final = 30
"""An application must be received at most this many days after its start date."""

PERIOD_YEARS: Final = {"diagnosis": 3, "new": 5, "restart": 5, "extension": 5}
"""Maximum period length by request type. Extensions are kept simple: a new five-year period."""


@dataclass(frozen=True)
class Verdict:
    """What the central application answers, before any reference number is handed out."""

    outcome: Outcome
    errors: tuple[Error, ...] = ()
    insurance_status: InsuranceStatus | None = None


@dataclass(frozen=True)
class ApplicationFacts:
    """What a modification's rules need to know about the application it names."""

    insz: str
    start_date: date
    end_date: date
    accepted: bool
    stop_message_id: str | None = None
    """The message that recorded a stop, if the application was stopped."""


def anniversary(start: date, years: int) -> date:
    """``start`` moved ``years`` years on; 29 February becomes 1 March in a common year."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return date(start.year + years, 3, 1)


def last_day_of_period(start: date, years: int) -> date:
    """The last day of a period of ``years`` years starting on ``start``, both ends included.

    A three-year period starting 1 January 2024 ends on 31 December 2026.
    """
    return anniversary(start, years) - timedelta(days=1)


def status_on(person: Person, day: date) -> InsuranceStatus:
    """A person's insurance status on a day.

    An affiliation that only starts after ``day`` did not cover it: on that day the person
    was not affiliated but could join (affiliation is always possible).
    """
    if person.affiliation is Affiliation.AFFILIATED:
        if person.valid_from is None or person.valid_from <= day:
            valid_from = person.valid_from.isoformat() if person.valid_from else None
            return InsuranceStatus(Affiliation.AFFILIATED.value, person.care_fund, valid_from)
        return InsuranceStatus(Affiliation.CAN_JOIN.value)
    return InsuranceStatus(person.affiliation.value)


def _identity_errors(kind: str, insz: str, recognised: bool) -> list[Error]:
    errors = []
    if not insz_is_valid(insz):
        errors.append(Error(INVALID_INSZ, "INSZ/BIS check digits are wrong", f"/{kind}/Insz"))
    if not recognised:
        errors.append(
            Error(UNKNOWN_FACILITY, "not a recognised facility", f"/{kind}/Header/Facility/Nihdi")
        )
    return errors


def judge_status_request(
    request: InsuranceStatusRequest, person: Person, recognised: bool
) -> Verdict:
    """A look-up is always accepted and carries the status, whatever the affiliation."""
    errors = _identity_errors("InsuranceStatusRequest", request.insz, recognised)
    if errors:
        return Verdict(Outcome.REFUSED, tuple(errors))
    return Verdict(Outcome.ACCEPTED, insurance_status=status_on(person, request.reference_date))


def judge_application(
    application: RevaApplication, person: Person, today: date, recognised: bool
) -> Verdict:
    """Judge a REVA application.

    Refused (every error found is named): wrong INSZ, unknown facility, a user who cannot
    join, received more than 30 days after the start (except migration files), an end
    before the start, a period longer than its type allows. Otherwise "in beraad" for a
    request for exception (checked a priori) or a user who is not affiliated on the start
    date but can join; otherwise accepted.
    """
    kind = "RevaApplication"
    refusals = _identity_errors(kind, application.insz, recognised)
    status = status_on(person, application.start_date)
    if status.affiliation == Affiliation.CANNOT_JOIN.value:
        refusals.append(
            Error(CANNOT_JOIN, "the user is not affiliated and cannot join", f"/{kind}/Insz")
        )
    if (
        not application.migration
        and (application.start_date + timedelta(days=LATE_AFTER_DAYS)) < today
    ):
        refusals.append(
            Error(LATE, "received more than 30 days after the start date", f"/{kind}/StartDate")
        )
    if application.end_date < application.start_date:
        refusals.append(Error(END_BEFORE_START, "end date before start date", f"/{kind}/EndDate"))
    else:
        years = PERIOD_YEARS[application.request_type]
        if application.end_date > last_day_of_period(application.start_date, years):
            refusals.append(
                Error(
                    PERIOD_TOO_LONG,
                    f"a {application.request_type} period lasts at most {years} years",
                    f"/{kind}/EndDate",
                )
            )
    if refusals:
        return Verdict(Outcome.REFUSED, tuple(refusals))

    reviews = []
    if application.exception_request:
        reviews.append(
            Error(
                EXCEPTION_REQUEST,
                "request for exception: checked a priori",
                f"/{kind}/ExceptionRequest",
            )
        )
    if status.affiliation == Affiliation.CAN_JOIN.value:
        reviews.append(
            Error(
                CAN_JOIN,
                "the user is not affiliated but can join: ask the user to join",
                f"/{kind}/Insz",
            )
        )
    if reviews:
        return Verdict(Outcome.IN_BERAAD, tuple(reviews))
    return Verdict(Outcome.ACCEPTED)


def judge_stop(stop: RevaStop, application: ApplicationFacts | None, recognised: bool) -> Verdict:
    """Judge a stop of an application.

    Refused when the reference names no accepted application of the same person, when the
    stop date lies outside the application's period, or when the application was already
    stopped (unless this message replaces the one that stopped it). Otherwise accepted.
    """
    kind = "RevaStop"
    errors = _identity_errors(kind, stop.insz, recognised)
    if application is None or not application.accepted or application.insz != stop.insz:
        errors.append(
            Error(
                BAD_REFERENCE,
                "no accepted application with this reference for this user",
                f"/{kind}/VsbReference",
            )
        )
        return Verdict(Outcome.REFUSED, tuple(errors))
    if stop.stop_date < application.start_date:
        errors.append(
            Error(BAD_STOP_DATE, "stop date before the start of the period", f"/{kind}/StopDate")
        )
    elif stop.stop_date > application.end_date:
        errors.append(
            Error(BAD_STOP_DATE, "stop date after the end of the period", f"/{kind}/StopDate")
        )
    replaces_stop = (
        application.stop_message_id is not None
        and stop.header.replaces_message_id == application.stop_message_id
    )
    if application.stop_message_id is not None and not replaces_stop:
        errors.append(
            Error(ALREADY_STOPPED, "the application was already stopped", f"/{kind}/VsbReference")
        )
    if errors:
        return Verdict(Outcome.REFUSED, tuple(errors))
    return Verdict(Outcome.ACCEPTED)
