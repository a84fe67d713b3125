"""The central application's business rules (DOMAIN.md), as pure functions.

Each ``judge_*`` function takes a request, the facts it needs (the person, the stored
application history) and "today", and returns a ``Verdict``; it changes nothing. Handing
out reference numbers and recording effects is the caller's job (``central``, and
``history.Application.record``). Error codes are in ``codes`` and ``docs/simulator.md``.

Modules: ``codes`` (every error code, as ``rules.codes.LATE``), ``verdict`` (the verdict,
identity checks), ``dates`` (periods counting both ends, ages), ``application`` (the
insurance status look-up, REVA applications), ``lookup`` (increased allowance, personal
share),
``modification`` (checks shared by every modification, the late-change rule, the
modifications without rules of their own), ``period`` (start change, extension, stop),
``interruption``, ``transport`` (km allowance), ``quota`` (sessions and their ledger),
``pvt`` (PVT admissions: migration files and new requests), ``pvt_modification`` (their
extension, discharge and cancel).
"""

from __future__ import annotations

from simulator.rules import codes
from simulator.rules.application import (
    LATE_AFTER_DAYS,
    PERIOD_YEARS,
    judge_application,
    judge_status_request,
    status_on,
)
from simulator.rules.dates import anniversary, last_day_of_months, last_day_of_period
from simulator.rules.interruption import (
    judge_interruption,
    judge_interruption_cancel,
    judge_interruption_change,
)
from simulator.rules.lookup import (
    INCREASED_DAILY_SHARE,
    NORMAL_DAILY_SHARE,
    increased_allowance_on,
    judge_increased_allowance_request,
    judge_personal_share_request,
    personal_share_on,
)
from simulator.rules.modification import (
    LATE_CHANGE_DAYS,
    closed_on,
    judge_cancel,
    judge_data_change,
    judge_document,
    judge_medical_report_change,
    judge_other_sector,
)
from simulator.rules.period import (
    judge_extension,
    judge_extension_cancel,
    judge_start_change,
    judge_stop,
    judge_stop_cancel,
)
from simulator.rules.pvt import (
    GRANTED_DAYS_BEFORE_RECEIPT,
    PVT_SWITCH_OVER,
    VI_RECEIPT_DEADLINE,
    granted_period,
    judge_pvt_admission,
)
from simulator.rules.pvt_modification import (
    judge_pvt_cancel,
    judge_pvt_discharge,
    judge_pvt_extension,
)
from simulator.rules.quota import (
    Balance,
    SessionsVerdict,
    balance,
    judge_sessions,
    period_sessions,
    session_quota,
)
from simulator.rules.transport import (
    judge_km_change,
    judge_km_request,
    judge_km_stop,
    judge_km_stop_cancel,
)
from simulator.rules.verdict import Verdict

__all__ = [
    "GRANTED_DAYS_BEFORE_RECEIPT",
    "INCREASED_DAILY_SHARE",
    "LATE_AFTER_DAYS",
    "LATE_CHANGE_DAYS",
    "NORMAL_DAILY_SHARE",
    "PERIOD_YEARS",
    "PVT_SWITCH_OVER",
    "VI_RECEIPT_DEADLINE",
    "Balance",
    "SessionsVerdict",
    "Verdict",
    "anniversary",
    "balance",
    "closed_on",
    "codes",
    "granted_period",
    "increased_allowance_on",
    "judge_application",
    "judge_cancel",
    "judge_data_change",
    "judge_document",
    "judge_extension",
    "judge_extension_cancel",
    "judge_increased_allowance_request",
    "judge_interruption",
    "judge_interruption_cancel",
    "judge_interruption_change",
    "judge_km_change",
    "judge_km_request",
    "judge_km_stop",
    "judge_km_stop_cancel",
    "judge_medical_report_change",
    "judge_other_sector",
    "judge_personal_share_request",
    "judge_pvt_admission",
    "judge_pvt_cancel",
    "judge_pvt_discharge",
    "judge_pvt_extension",
    "judge_sessions",
    "judge_start_change",
    "judge_status_request",
    "judge_stop",
    "judge_stop_cancel",
    "last_day_of_months",
    "last_day_of_period",
    "period_sessions",
    "personal_share_on",
    "session_quota",
    "status_on",
]
