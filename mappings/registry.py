"""The one place where event codes meet their event types and mappers.

A new sector (PVT admissions, invoices) is a new set of entries here, a schema per event
code in ``schemas/events`` and a mapper module per VSB message type; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from mappings.event_schema import SCHEMA_CODES
from mappings.event_type import EventType
from mappings.mapper import Mapper
from mappings.mappers import insurance_status, reva_application, reva_stop
from mappings.model import Ordering

CLAIM_RESPONSE: Final = "ClaimResponse"
COVERAGE_ELIGIBILITY_RESPONSE: Final = "CoverageEligibilityResponse"

_REGISTRATIONS: Final[tuple[tuple[EventType, Mapper], ...]] = (
    (
        EventType(
            code="insurance-status",
            ordering=Ordering.NONE,
            message_kind="InsuranceStatusRequest",
            is_application=False,
            needs_reference=False,
            answer_resource=COVERAGE_ELIGIBILITY_RESPONSE,
        ),
        insurance_status.MAPPER,
    ),
    (
        EventType(
            code="reva-application",
            ordering=Ordering.DOSSIER,
            message_kind="RevaApplication",
            is_application=True,
            needs_reference=False,
            answer_resource=CLAIM_RESPONSE,
        ),
        reva_application.MAPPER,
    ),
    (
        EventType(
            code="reva-stop",
            ordering=Ordering.DOSSIER,
            message_kind="RevaStop",
            is_application=False,
            needs_reference=True,
            answer_resource=CLAIM_RESPONSE,
        ),
        reva_stop.MAPPER,
    ),
)

EVENT_TYPES: Final[Mapping[str, EventType]] = MappingProxyType(
    {event_type.code: event_type for event_type, _ in _REGISTRATIONS}
)
"""Every event code the adapter accepts."""

MAPPERS: Final[Mapping[str, Mapper]] = MappingProxyType(
    {event_type.code: mapper for event_type, mapper in _REGISTRATIONS}
)

_WITHOUT_SCHEMA = set(EVENT_TYPES) - SCHEMA_CODES
if _WITHOUT_SCHEMA:
    # Fail at import, not on the first event of that code in production.
    raise RuntimeError(f"event codes without a JSON Schema: {sorted(_WITHOUT_SCHEMA)}")
