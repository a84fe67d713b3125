"""The PVT (psychiatric care home) requests as the simulator reads them (vsb-1.0.xsd):
the admission, a new request or a migration file, and its modifications.

Only the fields the rules or the stored admission use are kept; ``read_pvt`` is called by
``simulator.messages.read_message`` for a schema-valid, signature-checked payload.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from lxml import etree

from simulator.message_parts import (
    NS,
    Header,
    Modification,
    boolean,
    day,
    modification_head,
    optional_day,
    required,
    text,
)


@dataclass(frozen=True)
class InformedConsent:
    """The user's informed consent as sent."""

    signed: bool
    day: date


@dataclass(frozen=True)
class ViApproval:
    """What the VI (the mutuality) had decided on a file before the switch-over."""

    receipt_date: date
    approval_date: date
    approved_start: date
    approved_end: date


@dataclass(frozen=True)
class PvtAdmission:
    """An admission to a psychiatric care home: a new request or a migration file."""

    header: Header
    insz: str
    request_date: date
    admission_date: date
    """The day the stay began."""
    start_date: date
    """The day the requested right begins (later than the admission for a late request)."""
    end_date: date | None
    """``None``: an open admission."""
    user_type: str
    diagnosis: str
    informed_consent: InformedConsent | None
    migration: bool
    vi_approval: ViApproval | None

    @property
    def kind(self) -> str:
        """The message's element name."""
        return type(self).__name__


@dataclass(frozen=True)
class PvtExtension(Modification):
    """An extension of the admission's approved period, from the day after its end."""

    start_date: date
    end_date: date


@dataclass(frozen=True)
class PvtDischarge(Modification):
    """The end of the stay: date and hour of discharge."""

    discharge_date: date
    discharge_time: time
    destination: str | None


@dataclass(frozen=True)
class PvtCancel(Modification):
    """Cancel an accepted admission: final, nothing may follow."""


PvtModificationRequest = PvtExtension | PvtDischarge | PvtCancel
"""Every modification of an accepted PVT admission the simulator takes."""


def _consent(root: etree._Element) -> InformedConsent | None:
    if root.find("v:InformedConsent", NS) is None:
        return None
    return InformedConsent(
        boolean(root, "v:InformedConsent/v:Signed"), day(root, "v:InformedConsent/v:Date")
    )


def _vi_approval(root: etree._Element) -> ViApproval | None:
    if root.find("v:ViApproval", NS) is None:
        return None
    return ViApproval(
        receipt_date=day(root, "v:ViApproval/v:ReceiptDate"),
        approval_date=day(root, "v:ViApproval/v:ApprovalDate"),
        approved_start=day(root, "v:ViApproval/v:ApprovedStart"),
        approved_end=day(root, "v:ViApproval/v:ApprovedEnd"),
    )


def _time(root: etree._Element, path: str) -> time:
    # xs:time may carry fractions and a time zone ("10:30:00.5+01:00"): the local hour counts.
    value = required(root, path)
    return time.fromisoformat(value[:8])


def _admission(root: etree._Element, header: Header) -> PvtAdmission:
    return PvtAdmission(
        header=header,
        insz=required(root, "v:Insz"),
        request_date=day(root, "v:RequestDate"),
        admission_date=day(root, "v:AdmissionDate"),
        start_date=day(root, "v:StartDate"),
        end_date=optional_day(root, "v:EndDate"),
        user_type=required(root, "v:UserType"),
        diagnosis=required(root, "v:Diagnosis"),
        informed_consent=_consent(root),
        migration=boolean(root, "v:Migration"),
        vi_approval=_vi_approval(root),
    )


def read_pvt(
    kind: str, root: etree._Element, header: Header
) -> PvtAdmission | PvtModificationRequest | None:
    """The typed PVT request for a payload of ``kind``, ``None`` when it is no PVT kind."""
    match kind:
        case "PvtAdmission":
            return _admission(root, header)
        case "PvtExtension":
            common = modification_head(root, header)
            return PvtExtension(*common, day(root, "v:StartDate"), day(root, "v:EndDate"))
        case "PvtDischarge":
            return PvtDischarge(
                *modification_head(root, header),
                discharge_date=day(root, "v:DischargeDate"),
                discharge_time=_time(root, "v:DischargeTime"),
                destination=text(root, "v:Destination"),
            )
        case "PvtCancel":
            return PvtCancel(*modification_head(root, header))
    return None
