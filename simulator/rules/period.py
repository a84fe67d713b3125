"""The rules of the modifications that move the period: start-date change, extension and
stop, and their cancellations (DOMAIN.md "Change start date", "Extension", "Stop")."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

from simulator.answers import Error
from simulator.history import Application
from simulator.messages import (
    RevaExtension,
    RevaExtensionCancel,
    RevaStartChange,
    RevaStop,
    RevaStopCancel,
)
from simulator.rules.application import PERIOD_YEARS
from simulator.rules.codes import (
    ALREADY_STOPPED,
    BAD_STOP_DATE,
    END_BEFORE_START,
    EXTENSION_BEYOND_MAXIMUM,
    EXTENSION_BREAK,
    EXTENSION_PERIOD_TOO_LONG,
    EXTENSION_WHILE_RUNNING,
    NO_EXTENSION,
    NO_STOP,
    START_AFTER_END,
    START_CHANGED_TOO_LATE,
    START_TOO_EARLY,
)
from simulator.rules.dates import days_in, last_day_of_period
from simulator.rules.modification import judge_modification
from simulator.rules.verdict import Verdict

START_EARLIER_DAYS: Final = 30
"""The new start may be at most this many days before the date the limits count from."""
START_CHANGE_DAYS: Final = 60
"""A start date may be changed up to this many days after the date the limits count from."""


def start_limits_base(application: Application) -> date:
    """The date the start-change limits count from: the initial start date when the
    application was sent before it, else the request date."""
    if application.request_date < application.initial_start_date:
        return application.initial_start_date
    return application.request_date


def judge_start_change(
    request: RevaStartChange, application: Application | None, today: date, recognised: bool
) -> Verdict:
    """Judge a start-date change (B = ``start_limits_base``).

    VSB-START-EARLY: the new start is more than 30 days before B; VSB-START-LATE: the change
    comes more than 60 days after B; VSB-START-END: the new start is after the end date.
    """
    where = f"/{request.kind}/NewStartDate"

    def check(application: Application) -> list[Error]:
        base = start_limits_base(application)
        earliest = base - timedelta(days=START_EARLIER_DAYS)
        last_day = base + timedelta(days=START_CHANGE_DAYS)
        errors = []
        if request.new_start_date < earliest:
            text = f"the new start may be at most 30 days earlier: from {earliest.isoformat()}"
            errors.append(Error(START_TOO_EARLY, text, where))
        if today > last_day:
            text = f"the start date could be changed until {last_day.isoformat()}"
            errors.append(Error(START_CHANGED_TOO_LATE, text, where))
        if request.new_start_date > application.end_date:
            errors.append(Error(START_AFTER_END, "the new start is after the end date", where))
        return errors

    return judge_modification(request, application, today, recognised, check)


def extension_maximum(application: Application) -> date:
    """The last day a diagnosis period may reach: three years from its first start, plus the
    days of every interruption in force that has a (not only expected) end."""
    interrupted = sum(
        days_in(each.period.start, each.period.end)
        for each in application.active_interruptions
        if not each.period.expected
    )
    years = PERIOD_YEARS["diagnosis"]
    return last_day_of_period(application.period_start, years) + timedelta(days=interrupted)


def judge_extension(
    request: RevaExtension, application: Application | None, today: date, recognised: bool
) -> Verdict:
    """Judge an extension; never late (it is only possible once the period has ended).

    VSB-EXT-RUNNING: the end date has not passed (today <= end); VSB-EXT-BREAK: it does not
    start the day after the end date; VSB-REVA-END: it ends before it starts; VSB-EXT-MAX
    (diagnosis): it ends after ``extension_maximum``; VSB-EXT-PERIOD (coordination): it ends
    after the last day of five years from its start.
    """
    kind = request.kind

    def check(application: Application) -> list[Error]:
        errors = []
        if today <= application.end_date:
            text = f"the period runs until {application.end_date.isoformat()}"
            errors.append(Error(EXTENSION_WHILE_RUNNING, text, f"/{kind}/StartDate"))
        follows = application.end_date + timedelta(days=1)
        if request.start_date != follows:
            text = f"an extension continues the period: it starts on {follows.isoformat()}"
            errors.append(Error(EXTENSION_BREAK, text, f"/{kind}/StartDate"))
        if request.end_date < request.start_date:
            errors.append(Error(END_BEFORE_START, "end date before start date", f"/{kind}/EndDate"))
        elif application.diagnosis:
            maximum = extension_maximum(application)
            if request.end_date > maximum:
                text = f"a diagnosis period ends at the latest on {maximum.isoformat()}"
                errors.append(Error(EXTENSION_BEYOND_MAXIMUM, text, f"/{kind}/EndDate"))
        else:
            years = PERIOD_YEARS[application.request_type]
            if request.end_date > last_day_of_period(request.start_date, years):
                text = f"an extension is a new period of at most {years} years"
                errors.append(Error(EXTENSION_PERIOD_TOO_LONG, text, f"/{kind}/EndDate"))
        return errors

    return judge_modification(request, application, today, recognised, check)


def judge_extension_cancel(
    request: RevaExtensionCancel,
    application: Application | None,
    today: date,
    recognised: bool,
) -> Verdict:
    """VSB-EXT-NONE unless the latest extension in force starts on ExtensionStartDate."""

    def check(application: Application) -> list[Error]:
        extensions = application.active_extensions
        if extensions and extensions[-1].start == request.extension_start_date:
            return []
        text = "no extension in force starts on this date, or a later one stands"
        return [Error(NO_EXTENSION, text, f"/{request.kind}/ExtensionStartDate")]

    return judge_modification(request, application, today, recognised, check)


def judge_stop(
    stop: RevaStop, application: Application | None, today: date, recognised: bool
) -> Verdict:
    """Judge a stop: VSB-STOP-DATE outside start .. end; VSB-STOP-DONE when a stop is in
    force, unless this message replaces the one that made it (a corrected stop)."""
    kind = stop.kind

    def check(application: Application) -> list[Error]:
        errors = []
        if stop.stop_date < application.start_date:
            text = "stop date before the start of the period"
            errors.append(Error(BAD_STOP_DATE, text, f"/{kind}/StopDate"))
        elif stop.stop_date > application.end_date:
            text = "stop date after the end of the period"
            errors.append(Error(BAD_STOP_DATE, text, f"/{kind}/StopDate"))
        standing = application.active_stop
        if standing is not None and stop.header.replaces_message_id != standing.message_id:
            text = "the application was already stopped"
            errors.append(Error(ALREADY_STOPPED, text, f"/{kind}/VsbReference"))
        return errors

    return judge_modification(stop, application, today, recognised, check)


def judge_stop_cancel(
    request: RevaStopCancel, application: Application | None, today: date, recognised: bool
) -> Verdict:
    """VSB-STOP-NONE when no stop is in force."""

    def check(application: Application) -> list[Error]:
        if application.active_stop is not None:
            return []
        return [Error(NO_STOP, "no stop in force to cancel", f"/{request.kind}/VsbReference")]

    return judge_modification(request, application, today, recognised, check)
