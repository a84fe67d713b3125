"""Builders of the unsigned PVT messages and the two look-ups before invoicing (as
``conftest`` builds the REVA ones): header first, then the fields in the XSD's order."""

from __future__ import annotations

from typing import Any

from lxml import etree

from .conftest import AFFILIATED, NIHDI, _add, _header, _root, new_id, reva_modification

IA_2023 = "48051212375"
"""population.json: increased allowance 2023-01-01 .. 2023-12-31."""
IA_OPEN = "52110324558"
"""population.json: increased allowance from 2022-07-01, no end known."""
OWN_SHARE = "60022036122"
"""population.json: no increased allowance, own daily share 31.45."""


def look_up(
    kind: str, insz: str, reference_date: str, *, message_id: str | None = None, nihdi: str = NIHDI
) -> etree._Element:
    """An unsigned IncreasedAllowanceRequest or PersonalShareRequest (no dossier)."""
    root = _root(kind)
    _header(root, message_id or new_id(), None, None, nihdi)
    _add(root, "Insz", insz)
    _add(root, "ReferenceDate", reference_date)
    return root


def increased_allowance_request(insz: str, day: str, **kwargs: Any) -> etree._Element:
    """An unsigned IncreasedAllowanceRequest for ``day``."""
    return look_up("IncreasedAllowanceRequest", insz, day, **kwargs)


def personal_share_request(insz: str, day: str, **kwargs: Any) -> etree._Element:
    """An unsigned PersonalShareRequest for ``day``."""
    return look_up("PersonalShareRequest", insz, day, **kwargs)


def pvt_admission(
    insz: str = AFFILIATED,
    *,
    message_id: str | None = None,
    dossier: str = "P-1",
    sequence: int = 1,
    nihdi: str = NIHDI,
    request_date: str = "2026-03-10",
    admission: str = "2026-03-01",
    start: str | None = None,
    end: str | None = None,
    consent: bool | None = True,
    migration: bool = False,
    vi: tuple[str, str, str, str] | None = None,
) -> etree._Element:
    """An unsigned PvtAdmission: ``start`` defaults to the admission date; ``consent`` None
    leaves InformedConsent out, False sends it unsigned; ``vi`` is the ViApproval's
    (ReceiptDate, ApprovalDate, ApprovedStart, ApprovedEnd)."""
    root = _root("PvtAdmission")
    _header(root, message_id or new_id(), dossier, sequence, nihdi)
    _add(root, "Insz", insz)
    _add(root, "RequestDate", request_date)
    _add(root, "AdmissionDate", admission)
    _add(root, "StartDate", start or admission)
    if end is not None:
        _add(root, "EndDate", end)
    _add(root, "UserType", "psychiatric-patient")
    _add(root, "Diagnosis", "F20.9")
    if consent is not None:
        node = _add(root, "InformedConsent")
        _add(node, "Signed", "true" if consent else "false")
        _add(node, "Date", admission)
    _add(root, "Migration", "true" if migration else "false")
    if vi is not None:
        approval = _add(root, "ViApproval")
        for name, value in zip(
            ("ReceiptDate", "ApprovalDate", "ApprovedStart", "ApprovedEnd"), vi, strict=True
        ):
            _add(approval, name, value)
    return root


def migration_file(
    insz: str = AFFILIATED,
    *,
    admission: str = "2022-06-01",
    receipt: str = "2023-03-01",
    approval: str = "2023-03-15",
    approved_start: str = "2022-06-01",
    approved_end: str = "2024-05-31",
    vi: bool = True,
    consent: bool | None = None,
    **kwargs: Any,
) -> etree._Element:
    """An unsigned PvtAdmission sent as a migration file (no informed consent by default)."""
    approved = (receipt, approval, approved_start, approved_end) if vi else None
    return pvt_admission(
        insz,
        admission=admission,
        start=kwargs.pop("start", admission),
        consent=consent,
        migration=True,
        vi=approved,
        **kwargs,
    )


def pvt_extension(
    reference: str, start: str, end: str, insz: str = AFFILIATED, **header: Any
) -> etree._Element:
    """An unsigned PvtExtension."""
    root = reva_modification("PvtExtension", reference, insz, **_pvt(header))
    _add(root, "StartDate", start)
    _add(root, "EndDate", end)
    return root


def pvt_discharge(
    reference: str,
    day: str,
    at: str = "10:30:00",
    insz: str = AFFILIATED,
    *,
    destination: str | None = "home",
    **header: Any,
) -> etree._Element:
    """An unsigned PvtDischarge on ``day`` at ``at``."""
    root = reva_modification("PvtDischarge", reference, insz, **_pvt(header))
    _add(root, "DischargeDate", day)
    _add(root, "DischargeTime", at)
    if destination is not None:
        _add(root, "Destination", destination)
    return root


def pvt_cancel(reference: str, insz: str = AFFILIATED, **header: Any) -> etree._Element:
    """An unsigned PvtCancel."""
    root = reva_modification("PvtCancel", reference, insz, **_pvt(header))
    _add(root, "Reason", "entered in error")
    return root


def _pvt(header: dict[str, Any]) -> dict[str, Any]:
    # A PVT file's dossier, unless the caller names one.
    return {"dossier": "P-1"} | header
