"""The rules of look-ups and REVA applications (DOMAIN.md "REVA: rehabilitation
applications")."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

from simulator.answers import Error, InsuranceStatus, Outcome
from simulator.history import Application, Status
from simulator.messages import InsuranceStatusRequest, RevaApplication
from simulator.population import Affiliation, Person
from simulator.rules.codes import (
    BAD_PREVIOUS,
    CAN_JOIN,
    CANNOT_JOIN,
    END_BEFORE_START,
    EXCEPTION_REQUEST,
    LATE,
    PERIOD_TOO_LONG,
    PREVIOUS_END,
    REVA_MIGRATION_NO_VI_APPROVAL,
    REVA_MIGRATION_TOO_LATE,
)
from simulator.rules.dates import last_day_of_period
from simulator.rules.verdict import Verdict, identity_errors

LATE_AFTER_DAYS: Final = 30
"""An application must be received at most this many days after its start date."""

REVA_SWITCH_OVER: Final = date(2023, 10, 1)
"""REVA joins VSB: a migration file is one whose rehabilitation started before this day."""

PERIOD_YEARS: Final = {"diagnosis": 3, "new": 5, "restart": 5, "extension": 5}
"""Maximum period length by request type. Extensions are kept simple: a new five-year period."""


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


def judge_status_request(
    request: InsuranceStatusRequest, person: Person, recognised: bool
) -> Verdict:
    """A look-up is always accepted and carries the status, whatever the affiliation."""
    errors = identity_errors("InsuranceStatusRequest", request.insz, recognised)
    if errors:
        return Verdict(Outcome.REFUSED, tuple(errors))
    return Verdict(Outcome.ACCEPTED, body=status_on(person, request.reference_date))


def _previous_errors(application: RevaApplication, previous: Application | None) -> list[Error]:
    # A change of facility continues the previous facility's period: its end date carries over.
    kind = "RevaApplication"
    if previous is None or previous.status != Status.ACCEPTED or previous.insz != application.insz:
        return [
            Error(
                BAD_PREVIOUS,
                "no accepted application with this previous reference for this user",
                f"/{kind}/PreviousVsbReference",
            )
        ]
    if application.end_date > previous.end_date:
        return [
            Error(
                PREVIOUS_END,
                f"the end date carries over: at most {previous.end_date.isoformat()}",
                f"/{kind}/EndDate",
            )
        ]
    return []


def _migration_errors(application: RevaApplication) -> list[Error]:
    # DOMAIN.md "PVT: admissions and the migration procedure": a REVA migration file is one
    # the VI had approved, of a rehabilitation started before 1/10/2023. Only such a file is
    # spared the 30-day rule; one that is not gets these errors instead (it is judged as
    # what it claims to be, so VSB-REVA-30D is not added).
    kind = "RevaApplication"
    errors = []
    if application.start_date >= REVA_SWITCH_OVER:
        text = (
            f"rehabilitation started on or after {REVA_SWITCH_OVER.isoformat()}:"
            " not a migration file, send a new request"
        )
        errors.append(Error(REVA_MIGRATION_TOO_LATE, text, f"/{kind}/StartDate"))
    if application.vi_approval_date is None:
        text = "a migration file carries the day the VI approved it (ViApprovalDate)"
        errors.append(Error(REVA_MIGRATION_NO_VI_APPROVAL, text, f"/{kind}/ViApprovalDate"))
    return errors


def judge_application(
    application: RevaApplication,
    person: Person,
    today: date,
    recognised: bool,
    previous: Application | None = None,
) -> Verdict:
    """Judge a REVA application.

    Refused (every error found is named): wrong INSZ, unknown facility, a user who cannot
    join, received more than 30 days after the start (not for a migration file; one that
    started on or after 1/10/2023 or carries no VI approval date is refused instead), an
    end before the start, a period longer than its type allows, and on a change of facility a
    ``previous`` application that is not an accepted one of this user or ends earlier.
    Otherwise "in beraad" for a request for exception (checked a priori) or a user who is
    not affiliated on the start date but can join; otherwise accepted.
    """
    kind = "RevaApplication"
    refusals = identity_errors(kind, application.insz, recognised)
    status = status_on(person, application.start_date)
    if status.affiliation == Affiliation.CANNOT_JOIN.value:
        refusals.append(
            Error(CANNOT_JOIN, "the user is not affiliated and cannot join", f"/{kind}/Insz")
        )
    if application.migration:
        refusals.extend(_migration_errors(application))
    elif (application.start_date + timedelta(days=LATE_AFTER_DAYS)) < today:
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
    if application.previous_reference is not None:
        refusals.extend(_previous_errors(application, previous))
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
