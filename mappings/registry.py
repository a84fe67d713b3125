"""The one place where event codes meet their message types.

A new event code is a new ``MESSAGE_TYPE`` in a mapper module (``mappers/``), one line here,
a JSON Schema in ``schemas/events/<code>.json``, its VSB element in vsb-1.0.xsd, an example,
a section in docs/events.md and a branch in the simulator (docs/architecture.md, "Adding a
message type"). Each registration is checked here at import, so a type missing a part fails
when the adapter starts, not on its first event in production.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

from mappings import vsb_schema
from mappings.envelope import EVENT_CODE
from mappings.event_schema import SCHEMA_CODES
from mappings.mappers import (
    increased_allowance_status,
    insurance_status,
    invoice,
    invoice_batch,
    personal_share,
    pvt_admission,
    pvt_cancel,
    pvt_discharge,
    pvt_extension,
    reva_application,
    reva_cancel,
    reva_data_change,
    reva_document,
    reva_extension,
    reva_extension_cancel,
    reva_interruption,
    reva_interruption_cancel,
    reva_interruption_change,
    reva_km_change,
    reva_km_request,
    reva_km_stop,
    reva_km_stop_cancel,
    reva_medical_report_change,
    reva_start_change,
    reva_stop,
    reva_stop_cancel,
)
from mappings.message_type import MessageType


class RegistrationError(RuntimeError):
    """A message type misses a part or clashes with another one (raised at import)."""


def register(types: Iterable[MessageType]) -> Mapping[str, MessageType]:
    """The registry of ``types`` by event code, after checking each one is complete."""
    registry: dict[str, MessageType] = {}
    for message_type in types:
        code = message_type.code
        deadlines = message_type.deadlines
        problems = [
            problem
            for failed, problem in (
                (code in registry, "is registered twice"),
                (not EVENT_CODE.fullmatch(code), "is not a valid event code"),
                (code not in SCHEMA_CODES, "has no JSON Schema in schemas/events"),
                (
                    not vsb_schema.is_message(message_type.message_kind),
                    f"names {message_type.message_kind}, no message element of vsb-1.0.xsd",
                ),
                (
                    deadlines.due_on is not None and not message_type.role.opens,
                    "has the 30-day rule of an application but does not open one",
                ),
                (
                    deadlines.late_change and not message_type.role.modifies,
                    "has the 5-day rule of a change but modifies no application",
                ),
            )
            if failed
        ]
        problems += deadlines.problems()
        if problems:
            raise RegistrationError(f"event code {code!r} " + "; ".join(problems))
        registry[code] = message_type
    return MappingProxyType(registry)


MESSAGE_TYPES: Final[Mapping[str, MessageType]] = register(
    [
        insurance_status.MESSAGE_TYPE,
        increased_allowance_status.MESSAGE_TYPE,
        personal_share.MESSAGE_TYPE,
        reva_application.MESSAGE_TYPE,
        reva_stop.MESSAGE_TYPE,
        reva_cancel.MESSAGE_TYPE,
        reva_data_change.MESSAGE_TYPE,
        reva_start_change.MESSAGE_TYPE,
        reva_extension.MESSAGE_TYPE,
        reva_extension_cancel.MESSAGE_TYPE,
        reva_stop_cancel.MESSAGE_TYPE,
        reva_interruption.MESSAGE_TYPE,
        reva_interruption_change.MESSAGE_TYPE,
        reva_interruption_cancel.MESSAGE_TYPE,
        reva_medical_report_change.MESSAGE_TYPE,
        reva_document.MESSAGE_TYPE,
        reva_km_request.MESSAGE_TYPE,
        reva_km_change.MESSAGE_TYPE,
        reva_km_stop.MESSAGE_TYPE,
        reva_km_stop_cancel.MESSAGE_TYPE,
        pvt_admission.MESSAGE_TYPE,
        pvt_extension.MESSAGE_TYPE,
        pvt_discharge.MESSAGE_TYPE,
        pvt_cancel.MESSAGE_TYPE,
        invoice.MESSAGE_TYPE,
        invoice_batch.MESSAGE_TYPE,
    ]
)
"""Every event code the adapter accepts, and its message type."""
