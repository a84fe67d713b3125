"""One REVA application as the central application remembers it: how it was asked, where it
stands now, and every accepted modification since (stop, extensions, interruptions, km
allowance, documents) with the sessions ledger.

``Application.record`` is what an accepted modification changes; the rules that decide
whether it is accepted are in ``simulator.rules``. Cancelled parts are kept, flagged, so
the history shows what happened. The caller holds the store's lock around any change.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from typing import Any, assert_never

from simulator.messages import (
    InterruptionPeriod,
    ModificationRequest,
    RevaCancel,
    RevaDataChange,
    RevaDocument,
    RevaExtension,
    RevaExtensionCancel,
    RevaInterruption,
    RevaInterruptionCancel,
    RevaInterruptionChange,
    RevaKmChange,
    RevaKmRequest,
    RevaKmStop,
    RevaKmStopCancel,
    RevaMedicalReportChange,
    RevaStartChange,
    RevaStop,
    RevaStopCancel,
)
from simulator.population import mask_insz


class Status(enum.StrEnum):
    """Where an application stands (a ``str``, so it compares with "accepted")."""

    ACCEPTED = "accepted"
    IN_BERAAD = "in-beraad"
    REFUSED = "refused"
    CANCELLED = "cancelled"


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


@dataclass
class Stop:
    """An accepted stop."""

    day: date
    reason: str
    message_id: str
    cancelled: bool = False

    def to_json(self) -> dict[str, Any]:
        """The admin API's JSON shape."""
        return {
            "date": self.day.isoformat(),
            "reason": self.reason,
            "message_id": self.message_id,
            "cancelled": self.cancelled,
        }


@dataclass
class Extension:
    """An accepted extension and the end date it replaced (restored if it is cancelled)."""

    start: date
    end: date
    previous_end: date
    message_id: str
    cancelled: bool = False

    def to_json(self) -> dict[str, Any]:
        """The admin API's JSON shape."""
        return {
            "start_date": self.start.isoformat(),
            "end_date": self.end.isoformat(),
            "previous_end_date": self.previous_end.isoformat(),
            "message_id": self.message_id,
            "cancelled": self.cancelled,
        }


@dataclass
class Interruption:
    """An accepted interruption; ``period.expected`` when only an expected end is known."""

    period: InterruptionPeriod
    message_id: str
    cancelled: bool = False

    def to_json(self) -> dict[str, Any]:
        """The admin API's JSON shape."""
        return {
            "start_date": self.period.start.isoformat(),
            "end_date": self.period.end.isoformat(),
            "end_is_expected": self.period.expected,
            "reason": self.period.reason,
            "message_id": self.message_id,
            "cancelled": self.cancelled,
        }


@dataclass
class KmAllowance:
    """The accepted km allowance for wheelchair-dependent transport."""

    transport_type: str
    message_id: str
    stopped_on: date | None = None

    def to_json(self) -> dict[str, Any]:
        """The admin API's JSON shape."""
        return {
            "transport_type": self.transport_type,
            "message_id": self.message_id,
            "stopped_on": _iso(self.stopped_on),
        }


@dataclass(frozen=True)
class Sessions:
    """Sessions accepted into the ledger on one day."""

    day: date
    count: int


@dataclass
class Application:
    """A REVA application as received, with where it stands now and its history."""

    message_id: str
    insz: str
    nihdi: str
    dossier_id: str | None
    request_type: str
    request_date: date
    initial_start_date: date
    """The start date of the application message; the start-date limits count from it."""
    start_date: date
    """The current start date (a start-date change moves it)."""
    end_date: date
    """The current end date (an extension moves it, its cancellation moves it back)."""
    migration: bool
    status: Status
    vsb_reference: str | None = None
    vi_approval_date: date | None = None
    """A migration file: the day the VI had approved it."""
    previous_reference: str | None = None
    carried_start: date | None = None
    """The first start of the period at the previous facility (a change of facility)."""
    location: str | None = None
    accident_code: str | None = None
    contact_person: str | None = None
    """Only a changed contact person; kept, not shown (personal data)."""
    stop: Stop | None = None
    extensions: list[Extension] = field(default_factory=list)
    interruptions: list[Interruption] = field(default_factory=list)
    km_allowance: KmAllowance | None = None
    documents: int = 0
    medical_report_changes: int = 0
    ledger: list[Sessions] = field(default_factory=list)
    """Accepted sessions, in the order recorded."""

    # --- derived -----------------------------------------------------------------------

    @property
    def diagnosis(self) -> bool:
        """Whether this is a diagnosis period (else coordination: new, restart, extension)."""
        return self.request_type == "diagnosis"

    @property
    def period_start(self) -> date:
        """The first day of the period: carried over on a change of facility, else the start."""
        return self.carried_start or self.start_date

    @property
    def active_stop(self) -> Stop | None:
        """The stop in force, if any."""
        return None if self.stop is None or self.stop.cancelled else self.stop

    @property
    def active_extensions(self) -> list[Extension]:
        """The extensions in force, oldest first."""
        return [extension for extension in self.extensions if not extension.cancelled]

    @property
    def active_interruptions(self) -> list[Interruption]:
        """The interruptions in force, in the order accepted."""
        return [each for each in self.interruptions if not each.cancelled]

    def interruption_starting(self, day: date) -> Interruption | None:
        """The interruption in force that starts on ``day``."""
        return next((i for i in self.active_interruptions if i.period.start == day), None)

    # --- what an accepted modification records ------------------------------------------

    def record(self, request: ModificationRequest) -> None:
        """Record the effect of an accepted modification of this application."""
        message_id = request.header.message_id
        match request:
            case RevaStop():
                self.stop = Stop(request.stop_date, request.reason, message_id)
            case RevaStopCancel():
                if self.stop is not None:
                    self.stop.cancelled = True
            case RevaCancel():
                self.status = Status.CANCELLED
            case RevaDataChange():
                self.contact_person = request.contact_person or self.contact_person
                self.location = request.location or self.location
                self.accident_code = request.accident_code or self.accident_code
            case RevaStartChange():
                self.start_date = request.new_start_date
            case RevaExtension():
                self.extensions.append(
                    Extension(request.start_date, request.end_date, self.end_date, message_id)
                )
                self.end_date = request.end_date
            case RevaExtensionCancel():
                # The rules let only the latest extension be cancelled.
                if self.active_extensions:
                    extension = self.active_extensions[-1]
                    extension.cancelled = True
                    self.end_date = extension.previous_end
            case RevaInterruption():
                self.interruptions.append(Interruption(request.interruption, message_id))
            case RevaInterruptionChange():
                changed = self.interruption_starting(request.interruption_start_date)
                if changed is not None:
                    changed.period, changed.message_id = request.interruption, message_id
            case RevaInterruptionCancel():
                cancelled = self.interruption_starting(request.interruption_start_date)
                if cancelled is not None:
                    cancelled.cancelled = True
            case RevaMedicalReportChange():
                self.medical_report_changes += 1
            case RevaDocument():
                self.documents += 1
            case RevaKmRequest():
                self.km_allowance = KmAllowance(request.transport_type, message_id)
            case RevaKmChange():
                if self.km_allowance is not None:
                    self.km_allowance.transport_type = request.transport_type
                    self.km_allowance.message_id = message_id
            case RevaKmStop():
                if self.km_allowance is not None:
                    self.km_allowance.stopped_on = request.stop_date
            case RevaKmStopCancel():
                if self.km_allowance is not None:
                    self.km_allowance.stopped_on = None
            case _:
                assert_never(request)

    # --- JSON --------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The summary in ``GET /admin/state`` (it shows the INSZ, as it always did)."""
        stop = self.active_stop
        return {
            "message_id": self.message_id,
            "insz": self.insz,
            "nihdi": self.nihdi,
            "dossier_id": self.dossier_id,
            "request_type": self.request_type,
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat(),
            "migration": self.migration,
            "status": self.status.value,
            "vsb_reference": self.vsb_reference,
            "stop_date": None if stop is None else stop.day.isoformat(),
            "stop_reason": None if stop is None else stop.reason,
            "stop_message_id": None if stop is None else stop.message_id,
        }

    def history_json(self) -> dict[str, Any]:
        """The whole stored history, INSZ masked (``GET /admin/applications/<reference>``)."""
        return {
            "sector": "REVA",
            "vsb_reference": self.vsb_reference,
            "previous_reference": self.previous_reference,
            "message_id": self.message_id,
            "insz": mask_insz(self.insz),
            "nihdi": self.nihdi,
            "dossier_id": self.dossier_id,
            "request_type": self.request_type,
            "request_date": self.request_date.isoformat(),
            "initial_start_date": self.initial_start_date.isoformat(),
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat(),
            "period_start": self.period_start.isoformat(),
            "migration": self.migration,
            "vi_approval_date": _iso(self.vi_approval_date),
            "status": self.status.value,
            "location": self.location,
            "accident_code": self.accident_code,
            "stop": None if self.stop is None else self.stop.to_json(),
            "extensions": [extension.to_json() for extension in self.extensions],
            "interruptions": [interruption.to_json() for interruption in self.interruptions],
            "km_allowance": None if self.km_allowance is None else self.km_allowance.to_json(),
            "documents": self.documents,
            "medical_report_changes": self.medical_report_changes,
        }
