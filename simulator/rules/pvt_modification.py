"""The rules of modifications of an accepted PVT admission: extension, discharge, cancel
(DOMAIN.md "PVT: admissions and the migration procedure": case 3's extension is "a
modification message of the admission"; "the end date of the stay and the day and hour of
discharge" matter).

They share the checks every modification gets (``modification.reference_errors``:
VSB-MOD-REF, VSB-MOD-CANCELLED; then VSB-INSZ-01 / VSB-FAC-01; if any, nothing else is
checked), then the message's own rules, every error found named. REVA's late-change rule
(5 days after the period closed) is a REVA rule and does not apply here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from simulator.admission import Admission
from simulator.answers import Error, GrantedPeriod, Outcome
from simulator.message_parts import Modification
from simulator.pvt_messages import PvtCancel, PvtDischarge, PvtExtension
from simulator.rules.codes import (
    PVT_ALREADY_DISCHARGED,
    PVT_DISCHARGE_BEFORE_ADMISSION,
    PVT_DISCHARGE_IN_FUTURE,
    PVT_END_BEFORE_START,
    PVT_EXTENSION_BREAK,
    PVT_EXTENSION_DISCHARGED,
    PVT_EXTENSION_OPEN,
)
from simulator.rules.modification import reference_errors
from simulator.rules.verdict import Verdict, identity_errors, refused_or_accepted

AdmissionCheck = Callable[[Admission], list[Error]]
"""A message's own rules, given the admission it names."""


def judge_pvt_modification(
    request: Modification, admission: Admission | None, recognised: bool, check: AdmissionCheck
) -> Verdict:
    """The shared checks, then ``check``: refused with every error found, else accepted."""
    errors = reference_errors(request, admission)
    errors += identity_errors(request.kind, request.insz, recognised)
    if admission is None or errors:
        return refused_or_accepted(errors)
    return refused_or_accepted(check(admission))


def judge_pvt_extension(
    request: PvtExtension, admission: Admission | None, today: date, recognised: bool
) -> Verdict:
    """Judge an extension of the admission's period.

    VSB-PVT-EXT-OPEN: the admission has no end (nothing to extend); VSB-PVT-EXT-BREAK:
    StartDate is not the day after the current end (no gap, no overlap); VSB-PVT-END:
    EndDate before StartDate; VSB-PVT-EXT-DISCHARGED: the resident was discharged before
    StartDate. Accepted with the granted period StartDate .. EndDate.
    """
    where = f"/{request.kind}"

    def check(admission: Admission) -> list[Error]:
        errors = []
        if admission.end_date is None:
            text = "the admission has no end date: there is nothing to extend"
            errors.append(Error(PVT_EXTENSION_OPEN, text, f"{where}/StartDate"))
        else:
            expected = admission.end_date + timedelta(days=1)
            if request.start_date != expected:
                text = (
                    f"an extension starts the day after the current end"
                    f" {admission.end_date.isoformat()}: on {expected.isoformat()}"
                )
                errors.append(Error(PVT_EXTENSION_BREAK, text, f"{where}/StartDate"))
        if request.end_date < request.start_date:
            text = "end date before start date"
            errors.append(Error(PVT_END_BEFORE_START, text, f"{where}/EndDate"))
        discharge = admission.discharge
        if discharge is not None and discharge.day < request.start_date:
            text = f"the resident was discharged on {discharge.day.isoformat()}"
            errors.append(Error(PVT_EXTENSION_DISCHARGED, text, f"{where}/StartDate"))
        return errors

    verdict = judge_pvt_modification(request, admission, recognised, check)
    if verdict.outcome is Outcome.ACCEPTED:
        return Verdict(Outcome.ACCEPTED, body=GrantedPeriod(request.start_date, request.end_date))
    return verdict


def judge_pvt_discharge(
    request: PvtDischarge, admission: Admission | None, today: date, recognised: bool
) -> Verdict:
    """Judge a discharge.

    VSB-PVT-DIS-DATE: DischargeDate before the AdmissionDate (on it is fine);
    VSB-PVT-DIS-DONE: a discharge was accepted already; VSB-PVT-DIS-FUTURE: DischargeDate
    after today (today is fine: the resident has left).
    """
    where = f"/{request.kind}"

    def check(admission: Admission) -> list[Error]:
        errors = []
        if request.discharge_date < admission.admission_date:
            text = f"discharged before the admission on {admission.admission_date.isoformat()}"
            errors.append(Error(PVT_DISCHARGE_BEFORE_ADMISSION, text, f"{where}/DischargeDate"))
        if admission.discharge is not None:
            text = f"already discharged on {admission.discharge.day.isoformat()}"
            errors.append(Error(PVT_ALREADY_DISCHARGED, text, f"{where}/DischargeDate"))
        if request.discharge_date > today:
            text = "a discharge is reported once it happened: the date is after today"
            errors.append(Error(PVT_DISCHARGE_IN_FUTURE, text, f"{where}/DischargeDate"))
        return errors

    return judge_pvt_modification(request, admission, recognised, check)


def judge_pvt_cancel(
    request: PvtCancel, admission: Admission | None, today: date, recognised: bool
) -> Verdict:
    """A cancel has no rule of its own; once accepted nothing more is accepted (it is final,
    as a RevaCancel)."""
    return judge_pvt_modification(request, admission, recognised, lambda _: [])
