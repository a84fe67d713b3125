"""The rules of PVT admissions (DOMAIN.md "PVT: admissions and the migration procedure").

PVT joins VSB on 1 April 2023. An admission is either a **migration file** (``Migration``
true: a file the VI had approved, sent with limited content, accepted automatically when
the user's insurability is in order) or a **new request** (stays from 1/4/2023, granted at
the earliest 30 days before its receipt). Both are refused for a wrong INSZ, an unknown
facility or a user who cannot join, and are "in beraad" for a user who can still join.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

from simulator.answers import Error, GrantedPeriod, Outcome
from simulator.population import Affiliation, Person
from simulator.pvt_messages import PvtAdmission
from simulator.rules.application import status_on
from simulator.rules.codes import (
    CAN_JOIN,
    CANNOT_JOIN,
    PVT_BEFORE_SWITCH_OVER,
    PVT_END_BEFORE_START,
    PVT_LATE,
    PVT_MIGRATION_CONSENT,
    PVT_MIGRATION_END,
    PVT_MIGRATION_NEW,
    PVT_MIGRATION_NO_VI_APPROVAL,
    PVT_MIGRATION_NOTHING_LEFT,
    PVT_MIGRATION_RECEIVED_LATE,
    PVT_NO_CONSENT,
)
from simulator.rules.verdict import Verdict, identity_errors

PVT_SWITCH_OVER: Final = date(2023, 4, 1)
"""PVT joins VSB: stays up to and including 31/3/2023 belong to the VI."""
LAST_VI_DAY: Final = PVT_SWITCH_OVER - timedelta(days=1)
"""31/3/2023: a VI-approved period ending on it is migrated (its extension follows)."""
VI_RECEIPT_DEADLINE: Final = date(2023, 4, 30)
"""A migration file's request reached the VI on or before this day ("voor 30/04/23",
read as on or before: DOMAIN.md case 2); later it is a late request, a new request."""
GRANTED_DAYS_BEFORE_RECEIPT: Final = 30
"""A new request is granted at the earliest this many days before its receipt."""

KIND: Final = "PvtAdmission"


def granted_period(admission: PvtAdmission, today: date) -> GrantedPeriod:
    """The period an admission would be granted when received ``today``.

    A migration file: its VI-approved period from 1/4/2023 on (a period ending on 31/3/2023
    gives start 1/4/2023 after end 31/3/2023: nothing granted yet, the extension from
    1/4/2023 follows as a PvtExtension). A new request: from its StartDate, at the earliest
    30 days before today, to its EndDate (open without one).
    """
    approval = admission.vi_approval
    if admission.migration and approval is not None:
        return GrantedPeriod(max(approval.approved_start, PVT_SWITCH_OVER), approval.approved_end)
    earliest = today - timedelta(days=GRANTED_DAYS_BEFORE_RECEIPT)
    return GrantedPeriod(max(admission.start_date, earliest), admission.end_date)


def _migration_errors(admission: PvtAdmission) -> list[Error]:
    where = f"/{KIND}"
    errors = []
    if admission.admission_date >= PVT_SWITCH_OVER:
        text = (
            f"admission on or after {PVT_SWITCH_OVER.isoformat()}: not a migration file,"
            " send a new request"
        )
        errors.append(Error(PVT_MIGRATION_NEW, text, f"{where}/AdmissionDate"))
    approval = admission.vi_approval
    if approval is None:
        text = "a migration file carries the VI's approval (ViApproval)"
        errors.append(Error(PVT_MIGRATION_NO_VI_APPROVAL, text, f"{where}/ViApproval"))
    else:
        where_vi = f"{where}/ViApproval"
        if approval.receipt_date > VI_RECEIPT_DEADLINE:
            text = (
                f"received by the VI after {VI_RECEIPT_DEADLINE.isoformat()}: a late request,"
                " send it as a new request"
            )
            errors.append(Error(PVT_MIGRATION_RECEIVED_LATE, text, f"{where_vi}/ReceiptDate"))
        if approval.approved_end < approval.approved_start:
            text = "the VI-approved period ends before it starts"
            errors.append(Error(PVT_MIGRATION_END, text, f"{where_vi}/ApprovedEnd"))
        if approval.approved_end < LAST_VI_DAY:
            text = (
                f"the VI-approved period ended before {LAST_VI_DAY.isoformat()}: nothing to migrate"
            )
            errors.append(Error(PVT_MIGRATION_NOTHING_LEFT, text, f"{where_vi}/ApprovedEnd"))
    if admission.informed_consent is not None:
        text = "a migration file carries no informed consent (limited content)"
        errors.append(Error(PVT_MIGRATION_CONSENT, text, f"{where}/InformedConsent"))
    return errors


def _new_request_errors(admission: PvtAdmission, today: date) -> list[Error]:
    where = f"/{KIND}"
    errors = []
    if admission.start_date < PVT_SWITCH_OVER:
        text = (
            f"stays before {PVT_SWITCH_OVER.isoformat()} belong to the VI:"
            " a new request starts on or after it"
        )
        errors.append(Error(PVT_BEFORE_SWITCH_OVER, text, f"{where}/StartDate"))
    consent = admission.informed_consent
    if consent is None or not consent.signed:
        text = "a new request needs the user's signed informed consent"
        errors.append(Error(PVT_NO_CONSENT, text, f"{where}/InformedConsent"))
    end = admission.end_date
    if end is not None and end < admission.start_date:
        errors.append(Error(PVT_END_BEFORE_START, "end date before start date", f"{where}/EndDate"))
    else:
        granted = granted_period(admission, today)
        if end is not None and granted.start > end:
            text = (
                f"granted at the earliest from {granted.start.isoformat()}"
                f" (30 days before receipt), after the end date {end.isoformat()}"
            )
            errors.append(Error(PVT_LATE, text, f"{where}/EndDate"))
    return errors


def judge_pvt_admission(
    admission: PvtAdmission, person: Person, today: date, recognised: bool
) -> Verdict:
    """Judge a PVT admission received ``today``.

    Refused (every error found is named): wrong INSZ, unknown facility, a user who cannot
    join on the StartDate; a migration file admitted on or after 1/4/2023, without the VI's
    approval, received by the VI after 30/4/2023, whose approved period ends before it
    starts or before 31/3/2023, or carrying an informed consent; a new request starting
    before 1/4/2023, without signed informed consent, ending before it starts, or ending
    before the first day it can be granted (30 days before receipt). Otherwise "in beraad"
    for a user who can still join; otherwise accepted with the granted period.
    """
    refusals = identity_errors(KIND, admission.insz, recognised)
    status = status_on(person, admission.start_date)
    if status.affiliation == Affiliation.CANNOT_JOIN.value:
        refusals.append(
            Error(CANNOT_JOIN, "the user is not affiliated and cannot join", f"/{KIND}/Insz")
        )
    if admission.migration:
        refusals.extend(_migration_errors(admission))
    else:
        refusals.extend(_new_request_errors(admission, today))
    if refusals:
        return Verdict(Outcome.REFUSED, tuple(refusals))
    if status.affiliation == Affiliation.CAN_JOIN.value:
        text = "the user is not affiliated but can join: ask the user to join"
        return Verdict(Outcome.IN_BERAAD, (Error(CAN_JOIN, text, f"/{KIND}/Insz"),))
    return Verdict(Outcome.ACCEPTED, body=granted_period(admission, today))
