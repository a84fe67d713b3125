"""One PVT admission as the central application remembers it: how it was asked (a new
request or a migration file), the period granted, and every accepted modification since
(extensions, the discharge, a cancel).

``Admission.record`` is what an accepted modification changes; whether it is accepted is
decided in ``simulator.rules.pvt_modification``. The caller holds the store's lock around
any change. Its ``Status`` is the REVA application's: accepted, in beraad, refused,
cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from typing import Any, assert_never

from simulator.answers import GrantedPeriod
from simulator.history import Status
from simulator.population import mask_insz
from simulator.pvt_messages import (
    PvtCancel,
    PvtDischarge,
    PvtExtension,
    PvtModificationRequest,
    ViApproval,
)


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


@dataclass(frozen=True)
class AdmissionExtension:
    """An accepted extension and the end date it replaced."""

    start: date
    end: date
    previous_end: date
    message_id: str

    def to_json(self) -> dict[str, Any]:
        """The admin API's JSON shape."""
        return {
            "start_date": self.start.isoformat(),
            "end_date": self.end.isoformat(),
            "previous_end_date": self.previous_end.isoformat(),
            "message_id": self.message_id,
        }


@dataclass(frozen=True)
class Discharge:
    """The accepted discharge: the day and hour the resident left, and where to."""

    day: date
    at: time
    destination: str | None
    message_id: str

    def to_json(self) -> dict[str, Any]:
        """The admin API's JSON shape."""
        return {
            "date": self.day.isoformat(),
            "time": self.at.isoformat(),
            "destination": self.destination,
            "message_id": self.message_id,
        }


@dataclass
class Admission:
    """A PVT admission as received, with where it stands now and its history."""

    message_id: str
    insz: str
    nihdi: str
    dossier_id: str | None
    received_on: date
    """"Today" when it came in: a new request's receipt date (the 30 days count from it)."""
    admission_date: date
    """The day the stay began."""
    requested_start: date
    """The message's StartDate."""
    start_date: date
    """The first day granted (later than asked for a late new request, or a migration file
    whose VI-approved period began before 1/4/2023)."""
    end_date: date | None
    """The current end of the granted period (an extension moves it); ``None``: open."""
    migration: bool
    status: Status
    user_type: str
    vi_approval: ViApproval | None = None
    vsb_reference: str | None = None
    extensions: list[AdmissionExtension] = field(default_factory=list)
    discharge: Discharge | None = None

    @property
    def granted(self) -> GrantedPeriod:
        """The period granted at admission, as the answer carries it."""
        first_end = self.extensions[0].previous_end if self.extensions else self.end_date
        return GrantedPeriod(self.start_date, first_end)

    def record(self, request: PvtModificationRequest) -> None:
        """Record the effect of an accepted modification of this admission."""
        message_id = request.header.message_id
        match request:
            case PvtExtension():
                # The rules accept an extension only of an admission with an end.
                if self.end_date is not None:
                    self.extensions.append(
                        AdmissionExtension(
                            request.start_date, request.end_date, self.end_date, message_id
                        )
                    )
                self.end_date = request.end_date
            case PvtDischarge():
                self.discharge = Discharge(
                    request.discharge_date,
                    request.discharge_time,
                    request.destination,
                    message_id,
                )
            case PvtCancel():
                self.status = Status.CANCELLED
            case _:
                assert_never(request)

    def to_json(self) -> dict[str, Any]:
        """The summary in ``GET /admin/state`` (it shows the INSZ, as for applications)."""
        return {
            "message_id": self.message_id,
            "insz": self.insz,
            "nihdi": self.nihdi,
            "dossier_id": self.dossier_id,
            "admission_date": self.admission_date.isoformat(),
            "start_date": self.start_date.isoformat(),
            "end_date": _iso(self.end_date),
            "migration": self.migration,
            "status": self.status.value,
            "vsb_reference": self.vsb_reference,
            "discharge_date": None if self.discharge is None else self.discharge.day.isoformat(),
        }

    def history_json(self) -> dict[str, Any]:
        """The whole stored history, INSZ masked (``GET /admin/applications/<reference>``)."""
        approval = self.vi_approval
        return {
            "sector": "PVT",
            "vsb_reference": self.vsb_reference,
            "message_id": self.message_id,
            "insz": mask_insz(self.insz),
            "nihdi": self.nihdi,
            "dossier_id": self.dossier_id,
            "received_on": self.received_on.isoformat(),
            "admission_date": self.admission_date.isoformat(),
            "requested_start_date": self.requested_start.isoformat(),
            "start_date": self.start_date.isoformat(),
            "end_date": _iso(self.end_date),
            "user_type": self.user_type,
            "migration": self.migration,
            "vi_approval": None
            if approval is None
            else {
                "receipt_date": approval.receipt_date.isoformat(),
                "approval_date": approval.approval_date.isoformat(),
                "approved_start": approval.approved_start.isoformat(),
                "approved_end": approval.approved_end.isoformat(),
            },
            "status": self.status.value,
            "extensions": [extension.to_json() for extension in self.extensions],
            "discharge": None if self.discharge is None else self.discharge.to_json(),
        }
