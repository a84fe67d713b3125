"""The rules of the km allowance for wheelchair-dependent transport (DOMAIN.md "Transport",
"Km allowance"): request, change, stop, cancel the stop.

Open to users of any age (DOMAIN.md reading: under 18 it replaces the flat rate, which is
paid again while the km allowance is stopped).
"""

from __future__ import annotations

from datetime import date

from simulator.answers import Error
from simulator.history import Application
from simulator.message_parts import Modification
from simulator.messages import (
    RevaKmChange,
    RevaKmRequest,
    RevaKmStop,
    RevaKmStopCancel,
)
from simulator.rules.codes import KM_EXISTS, KM_NOT_STOPPED, KM_STOPPED, NO_KM
from simulator.rules.modification import judge_modification
from simulator.rules.verdict import Verdict


def _no_km(request: Modification, application: Application) -> list[Error]:
    if application.km_allowance is not None:
        return []
    return [Error(NO_KM, "no accepted km allowance", f"/{request.kind}/VsbReference")]


def judge_km_request(
    request: RevaKmRequest, application: Application | None, today: date, recognised: bool
) -> Verdict:
    """VSB-KM-EXISTS while a km allowance is in force (accepted and not stopped)."""

    def check(application: Application) -> list[Error]:
        km = application.km_allowance
        if km is None or km.stopped_on is not None:
            return []
        text = "a km allowance is in force: change it instead"
        return [Error(KM_EXISTS, text, f"/{request.kind}/TransportReport")]

    return judge_modification(request, application, today, recognised, check)


def judge_km_change(
    request: RevaKmChange, application: Application | None, today: date, recognised: bool
) -> Verdict:
    """VSB-KM-NONE without an accepted km allowance."""

    def check(application: Application) -> list[Error]:
        return _no_km(request, application)

    return judge_modification(request, application, today, recognised, check)


def judge_km_stop(
    request: RevaKmStop, application: Application | None, today: date, recognised: bool
) -> Verdict:
    """VSB-KM-NONE without an accepted km allowance; VSB-KM-STOPPED when it is stopped."""

    def check(application: Application) -> list[Error]:
        km = application.km_allowance
        if km is None or km.stopped_on is None:
            return _no_km(request, application)
        text = f"the km allowance was stopped on {km.stopped_on.isoformat()}"
        return [Error(KM_STOPPED, text, f"/{request.kind}/StopDate")]

    return judge_modification(request, application, today, recognised, check)


def judge_km_stop_cancel(
    request: RevaKmStopCancel, application: Application | None, today: date, recognised: bool
) -> Verdict:
    """VSB-KM-NONE without an accepted km allowance; VSB-KM-NOT-STOPPED when it runs."""

    def check(application: Application) -> list[Error]:
        km = application.km_allowance
        if km is None or km.stopped_on is not None:
            return _no_km(request, application)
        text = "the km allowance is not stopped"
        return [Error(KM_NOT_STOPPED, text, f"/{request.kind}/VsbReference")]

    return judge_modification(request, application, today, recognised, check)
