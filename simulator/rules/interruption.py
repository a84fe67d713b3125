"""The rules of interruptions: create, change, cancel (DOMAIN.md "Interruption").

An interruption lasts at most six months, both ends counted: its end (or expected end) is
on or before the last day of six months from its start (1 January → 30 June). It starts
within the current period (start date .. end date) and overlaps no other interruption in
force (both ends counted: one ending on the 30th and one starting on the 30th overlap).
"""

from __future__ import annotations

from datetime import date
from typing import Final

from simulator.answers import Error
from simulator.history import Application, Interruption
from simulator.messages import (
    InterruptionPeriod,
    RevaInterruption,
    RevaInterruptionCancel,
    RevaInterruptionChange,
)
from simulator.rules.codes import (
    INTERRUPTION_END,
    INTERRUPTION_OUTSIDE_PERIOD,
    INTERRUPTION_OVERLAP,
    INTERRUPTION_TOO_LONG,
    NO_INTERRUPTION,
)
from simulator.rules.dates import last_day_of_months
from simulator.rules.modification import judge_modification
from simulator.rules.verdict import Verdict

MAX_MONTHS: Final = 6


def interruption_errors(
    kind: str,
    period: InterruptionPeriod,
    application: Application,
    ignoring: Interruption | None = None,
) -> list[Error]:
    """VSB-INT-LONG, VSB-INT-END, VSB-INT-PERIOD and VSB-INT-OVERLAP for one span (overlap
    with any interruption in force but ``ignoring``, the one being changed)."""
    end_name = "ExpectedEndDate" if period.expected else "EndDate"
    errors = []
    if period.end < period.start:
        text = "the interruption ends before it starts"
        errors.append(Error(INTERRUPTION_END, text, f"/{kind}/Interruption/{end_name}"))
    else:
        last_day = last_day_of_months(period.start, MAX_MONTHS)
        if period.end > last_day:
            text = f"an interruption lasts at most six months: until {last_day.isoformat()}"
            errors.append(Error(INTERRUPTION_TOO_LONG, text, f"/{kind}/Interruption/{end_name}"))
    if not application.start_date <= period.start <= application.end_date:
        text = "the interruption does not start within the period"
        errors.append(Error(INTERRUPTION_OUTSIDE_PERIOD, text, f"/{kind}/Interruption/StartDate"))
    for other in application.active_interruptions:
        if other is not ignoring and (
            other.period.start <= period.end and period.start <= other.period.end
        ):
            text = f"overlaps the interruption from {other.period.start.isoformat()}"
            errors.append(Error(INTERRUPTION_OVERLAP, text, f"/{kind}/Interruption/StartDate"))
            break
    return errors


def judge_interruption(
    request: RevaInterruption, application: Application | None, today: date, recognised: bool
) -> Verdict:
    """Judge a new interruption by ``interruption_errors``."""

    def check(application: Application) -> list[Error]:
        return interruption_errors(request.kind, request.interruption, application)

    return judge_modification(request, application, today, recognised, check)


def _no_interruption(kind: str) -> Error:
    text = "no interruption in force starts on this date"
    return Error(NO_INTERRUPTION, text, f"/{kind}/InterruptionStartDate")


def judge_interruption_change(
    request: RevaInterruptionChange,
    application: Application | None,
    today: date,
    recognised: bool,
) -> Verdict:
    """VSB-INT-NONE when no interruption in force starts on InterruptionStartDate; the new
    values obey ``interruption_errors`` (overlap not counted with the one changed)."""

    def check(application: Application) -> list[Error]:
        changed = application.interruption_starting(request.interruption_start_date)
        if changed is None:
            return [_no_interruption(request.kind)]
        return interruption_errors(request.kind, request.interruption, application, changed)

    return judge_modification(request, application, today, recognised, check)


def judge_interruption_cancel(
    request: RevaInterruptionCancel,
    application: Application | None,
    today: date,
    recognised: bool,
) -> Verdict:
    """VSB-INT-NONE when no interruption in force starts on InterruptionStartDate."""

    def check(application: Application) -> list[Error]:
        if application.interruption_starting(request.interruption_start_date) is None:
            return [_no_interruption(request.kind)]
        return []

    return judge_modification(request, application, today, recognised, check)
