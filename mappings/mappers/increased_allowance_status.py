"""increased-allowance-status (CoverageEligibilityRequest) -> vsb:IncreasedAllowanceRequest.

The increased allowance (verhoogde tegemoetkoming) of a person on a reference day: required
before invoicing, it sets the personal share. The request is insurance-status's (the INSZ
and the reference date, checked as a calendar date); what is asked is the message kind, and
the event's JSON Schema pins its item (``increased-allowance``).
"""

from __future__ import annotations

from mappings.answers.increased_allowance import INCREASED_ALLOWANCE
from mappings.mappers import insurance_status
from mappings.message_type import MessageType
from mappings.ordering import UNORDERED
from mappings.role import LOOKUP

MESSAGE_TYPE = MessageType(
    code="increased-allowance-status",
    message_kind="IncreasedAllowanceRequest",
    request=insurance_status.MESSAGE_TYPE.request,
    answer=INCREASED_ALLOWANCE,
    ordering=UNORDERED,
    role=LOOKUP,
)
