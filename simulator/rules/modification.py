"""What every modification of an accepted application is checked for, and the modifications
with no rule of their own (DOMAIN.md "REVA: modifications of accepted applications").

Each ``judge_*`` function takes the request, the stored application its ``VsbReference``
names (``None`` if none) and "today", and returns a ``Verdict``; ``judge_modification`` is
the frame they share. In order: VSB-MOD-REF, VSB-MOD-CANCELLED, VSB-INSZ-01 / VSB-FAC-01,
the message's own rules; any of those refuses (every error found is named). Only then the
late-change rule may put the message "in beraad": refusals win over review.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Final, Protocol

from simulator.answers import Error, Outcome
from simulator.history import Application, Status
from simulator.message_parts import Modification
from simulator.messages import (
    RevaCancel,
    RevaDataChange,
    RevaDocument,
    RevaMedicalReportChange,
)
from simulator.rules.codes import BAD_REFERENCE, CANCELLED, LATE_CHANGE, NO_DATA, OTHER_SECTOR
from simulator.rules.quota import balance
from simulator.rules.verdict import Verdict, identity_errors, refused_or_accepted

LATE_CHANGE_DAYS: Final = 5
"""A modification is processed automatically up to this many days after the period closed."""

NOT_LATE: Final = frozenset({"RevaDocument", "RevaExtension"})
"""Processed whenever they come: an additional medical report or document, an extension."""

Check = Callable[[Application], list[Error]]
"""A message's own rules, given the application it names."""


def closed_on(application: Application, today: date) -> date | None:
    """The day the period closes: the earliest of the stop date of a stop in force, the end
    date once it has passed, and the day the current period's sessions quota was reached."""
    candidates = []
    stop = application.active_stop
    if stop is not None:
        candidates.append(stop.day)
    if today > application.end_date:
        candidates.append(application.end_date)
    reached_on = balance(application).reached_on
    if reached_on is not None:
        candidates.append(reached_on)
    return min(candidates, default=None)


class Filed(Protocol):
    """What the shared checks read of the file a modification names: a REVA application
    (``history.Application``) or a PVT admission (``admission.Admission``)."""

    @property
    def insz(self) -> str:
        """The user's INSZ."""
        ...

    @property
    def status(self) -> Status:
        """Where the file stands."""
        ...


def reference_errors(request: Modification, filed: Filed | None) -> list[Error]:
    """VSB-MOD-REF when the reference names no accepted file of this user (unknown, refused,
    in beraad, another user's); VSB-MOD-CANCELLED when it was cancelled."""
    where = f"/{request.kind}/VsbReference"
    if (
        filed is None
        or filed.insz != request.insz
        or filed.status not in (Status.ACCEPTED, Status.CANCELLED)
    ):
        text = "no accepted application with this reference for this user"
        return [Error(BAD_REFERENCE, text, where)]
    if filed.status is Status.CANCELLED:
        return [Error(CANCELLED, "the application was cancelled: nothing may follow", where)]
    return []


def judge_other_sector(request: Modification, named: str, recognised: bool) -> Verdict:
    """VSB-MOD-SECTOR: the reference names a file of the other sector (``named``: what it
    is, e.g. "a PVT admission"), with the identity checks; nothing else is checked."""
    text = f"{request.vsb_reference} is {named}: a {request.kind} cannot modify it"
    errors = [Error(OTHER_SECTOR, text, f"/{request.kind}/VsbReference")]
    return refused_or_accepted(errors + identity_errors(request.kind, request.insz, recognised))


def judge_modification(
    request: Modification,
    application: Application | None,
    today: date,
    recognised: bool,
    check: Check,
) -> Verdict:
    """Judge a modification: the common checks, then ``check``, then the late-change rule.

    Late: received more than 5 days after the period closed (closed on D: D+5 is processed,
    D+6 is "in beraad" with VSB-MOD-LATE), except for the kinds in ``NOT_LATE``.
    """
    errors = reference_errors(request, application)
    errors += identity_errors(request.kind, request.insz, recognised)
    if application is None or errors:
        return refused_or_accepted(errors)
    errors = check(application)
    if errors:
        return refused_or_accepted(errors)
    closed = closed_on(application, today)
    if request.kind not in NOT_LATE and closed is not None:
        days = (today - closed).days
        if days > LATE_CHANGE_DAYS:
            text = (
                f"received {days} days after the period closed on {closed.isoformat()}:"
                " the care fund contacts the facility"
            )
            return Verdict(Outcome.IN_BERAAD, (Error(LATE_CHANGE, text, f"/{request.kind}"),))
    return Verdict(Outcome.ACCEPTED)


def _no_rule(_: Application) -> list[Error]:
    return []


def judge_cancel(
    request: RevaCancel, application: Application | None, today: date, recognised: bool
) -> Verdict:
    """A cancel has no rule of its own; once accepted nothing more is accepted."""
    return judge_modification(request, application, today, recognised, _no_rule)


def judge_data_change(
    request: RevaDataChange, application: Application | None, today: date, recognised: bool
) -> Verdict:
    """A data change must change something: VSB-DATA-EMPTY without contact person, location
    and accident code."""

    def check(_: Application) -> list[Error]:
        if request.contact_person or request.location or request.accident_code:
            return []
        text = "nothing to change: give a contact person, location or accident code"
        return [Error(NO_DATA, text, f"/{request.kind}")]

    return judge_modification(request, application, today, recognised, check)


def judge_medical_report_change(
    request: RevaMedicalReportChange,
    application: Application | None,
    today: date,
    recognised: bool,
) -> Verdict:
    """A new medical report (part 3) has no rule of its own."""
    return judge_modification(request, application, today, recognised, _no_rule)


def judge_document(
    request: RevaDocument, application: Application | None, today: date, recognised: bool
) -> Verdict:
    """An additional document has no rule of its own, and is never late."""
    return judge_modification(request, application, today, recognised, _no_rule)
