"""The events a file to migrate becomes: the same FHIR Bundles an EPD would publish.

Everything in an event derives from the export row and the facility, nothing from the clock:
the same row gives the same event id and the same bytes on every run, so a second run (or a
run after a crash) is recognised by the adapter's store and never sent twice.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from adapter.migration.export import MigrationFile, Sector
from mappings.migration import PVT_SWITCH_OVER, Classification
from mappings.model import Facility
from mappings.vocabulary import (
    CARE_SETTING_SYSTEM,
    DSM5_SYSTEM,
    EVENT_SYSTEM,
    HCO_SYSTEM,
    NIHDI_SYSTEM,
    PVT_SUBTYPE,
    PVT_USER_TYPE_SYSTEM,
    REHABILITATION_SUBTYPE,
    REQUEST_TYPE_SYSTEM,
    SSIN_SYSTEM,
    SUBTYPE_SYSTEM,
    SUPPORTING_INFO_SYSTEM,
)

_NAMESPACE: Final = uuid.UUID("b1f7d3c2-5e8a-4f0b-9c61-2d4e8a7f3b90")
SOURCE: Final = {"name": "vsb-adapter migration", "endpoint": "urn:vsb-adapter:migration"}


@dataclass(frozen=True)
class PlannedEvent:
    """One event of a file: its id, code and the exact bytes to publish."""

    event_id: str
    code: str
    body: bytes


def events_of(file: MigrationFile, found: Classification, facility: Facility) -> list[PlannedEvent]:
    """The events of one classified file (none when it is not sent now)."""
    if not found.sendable:
        return []
    if file.sector is Sector.REVA:
        return [_event(file, facility, "reva-application", 1, _reva_application(file, found))]
    events = [_event(file, facility, "pvt-admission", 1, _pvt_admission(file, found))]
    if file.extension_end is not None and found.migration:
        period = {"start": PVT_SWITCH_OVER.isoformat(), "end": file.extension_end.isoformat()}
        events.append(_event(file, facility, "pvt-extension", 2, _claim(file, PVT_SUBTYPE, period)))
    return events


def _event(
    file: MigrationFile, facility: Facility, code: str, sequence: int, focus: dict[str, Any]
) -> PlannedEvent:
    event_id = str(uuid.uuid5(_NAMESPACE, f"{file.sector.value}/{file.dossier_id}/{code}"))

    def urn(part: str) -> str:
        return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{event_id}/{part}')}"

    focus["patient"] = {"reference": urn("patient")}
    focus["provider"] = {"reference": urn("organization")}
    header = {
        "resourceType": "MessageHeader",
        "extension": [
            {"url": "urn:vsb-adapter:fhir:dossier", "valueString": file.dossier_id},
            {"url": "urn:vsb-adapter:fhir:sequence", "valuePositiveInt": sequence},
        ],
        "eventCoding": {"system": EVENT_SYSTEM, "code": code},
        "source": SOURCE,
        "focus": [{"reference": urn("focus")}],
    }
    bundle = {
        "resourceType": "Bundle",
        "id": event_id,
        "type": "message",
        "timestamp": f"{_request_date(file).isoformat()}T00:00:00+00:00",
        "entry": [
            {"fullUrl": urn("header"), "resource": header},
            {"fullUrl": urn("patient"), "resource": _patient(file)},
            {"fullUrl": urn("organization"), "resource": _organization(file, facility)},
            {"fullUrl": urn("focus"), "resource": focus},
        ],
    }
    return PlannedEvent(event_id, code, json.dumps(bundle, ensure_ascii=False).encode())


def _request_date(file: MigrationFile) -> date:
    return file.request_date or file.vi_receipt or file.vi_approval or file.start


def _patient(file: MigrationFile) -> dict[str, Any]:
    return {"resourceType": "Patient", "identifier": [{"system": SSIN_SYSTEM, "value": file.insz}]}


def _organization(file: MigrationFile, facility: Facility) -> dict[str, Any]:
    organization: dict[str, Any] = {
        "resourceType": "Organization",
        "identifier": [
            {"system": NIHDI_SYSTEM, "value": facility.nihdi},
            {"system": HCO_SYSTEM, "value": facility.hco},
        ],
    }
    if file.contact_name is not None:
        telecom = [
            {"system": system, "value": value}
            for system, value in (("phone", file.contact_phone), ("email", file.contact_email))
            if value is not None
        ]
        contact: dict[str, Any] = {"name": {"text": file.contact_name}}
        organization["contact"] = [contact | ({"telecom": telecom} if telecom else {})]
    return organization


def _claim(file: MigrationFile, subtype: str, period: dict[str, str]) -> dict[str, Any]:
    return {
        "resourceType": "Claim",
        "status": "active",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/claim-type",
                    "code": "institutional",
                }
            ]
        },
        "subType": {"coding": [{"system": SUBTYPE_SYSTEM, "code": subtype}]},
        "use": "preauthorization",
        "created": _request_date(file).isoformat(),
        "priority": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/processpriority",
                    "code": "normal",
                }
            ]
        },
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"display": "VSB"}}],
        "billablePeriod": period,
    }


def _info(category: str, **value: Any) -> dict[str, Any]:
    return {"category": {"coding": [{"system": SUPPORTING_INFO_SYSTEM, "code": category}]}} | value


def _with_info(claim: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    claim["supportingInfo"] = [{"sequence": n} | item for n, item in enumerate(items, start=1)]
    return claim


def _period(start: date, end: date | None) -> dict[str, str]:
    return {"start": start.isoformat()} | ({"end": end.isoformat()} if end else {})


def _vi_facts(file: MigrationFile) -> list[dict[str, Any]]:
    items = []
    if file.vi_receipt is not None:
        items.append(_info("vi-receipt", timingDate=file.vi_receipt.isoformat()))
    if file.vi_approval is not None:
        items.append(_info("vi-approval", timingDate=file.vi_approval.isoformat()))
    if file.vi_approved_start is not None and file.vi_approved_end is not None:
        approved = _period(file.vi_approved_start, file.vi_approved_end)
        items.append(_info("vi-approved-period", timingPeriod=approved))
    return items


def _consent(file: MigrationFile, found: Classification) -> list[dict[str, Any]]:
    # A migration file does not carry the informed consent again (seed 000).
    if found.migration or file.consent_date is None:
        return []
    return [_info("informed-consent", timingDate=file.consent_date.isoformat(), valueBoolean=True)]


def _pvt_admission(file: MigrationFile, found: Classification) -> dict[str, Any]:
    claim = _claim(file, PVT_SUBTYPE, _period(file.start, file.end))
    claim["diagnosis"] = [
        {
            "sequence": 1,
            "diagnosisCodeableConcept": {"coding": [{"system": DSM5_SYSTEM, "code": file.dsm5}]},
        }
    ]
    user_type = {"coding": [{"system": PVT_USER_TYPE_SYSTEM, "code": file.user_type}]}
    items = [
        _info("user-type", code=user_type),
        *_consent(file, found),
        _info("migration", valueBoolean=found.migration),
        *_vi_facts(file),
    ]
    if file.extension_end is not None:
        items.append(_info("extension-follows", valueBoolean=True))
    return _with_info(claim, items)


def _reva_application(file: MigrationFile, found: Classification) -> dict[str, Any]:
    end = file.end or file.vi_approved_end
    claim = _claim(file, REHABILITATION_SUBTYPE, _period(file.start, end))
    claim["diagnosis"] = [{"sequence": 1, "diagnosisCodeableConcept": {"text": file.diagnosis}}]
    request_type = {"coding": [{"system": REQUEST_TYPE_SYSTEM, "code": file.request_type}]}
    ambulant = {"coding": [{"system": CARE_SETTING_SYSTEM, "code": "ambulant"}]}
    items = [
        _info("request-type", code=request_type),
        _info("care-setting", code=ambulant),
        _info("location", valueString=file.location),
        _info("referred-by", valueString=file.referred_by),
        *_consent(file, found),
        _info("migration", valueBoolean=found.migration),
    ]
    if file.vi_approval is not None:
        items.append(_info("vi-approval", timingDate=file.vi_approval.isoformat()))
    return _with_info(claim, items)
