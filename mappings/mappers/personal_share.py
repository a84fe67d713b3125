"""personal-share (CoverageEligibilityRequest) -> vsb:PersonalShareRequest.

The daily personal share of a PVT resident on a reference day. The request is
insurance-status's (the INSZ and the reference date, checked as a calendar date); what is
asked is the message kind, and the event's JSON Schema pins its item (``personal-share``).
"""

from __future__ import annotations

from mappings.answers.personal_share import PERSONAL_SHARE
from mappings.mappers import insurance_status
from mappings.message_type import MessageType
from mappings.ordering import UNORDERED
from mappings.role import LOOKUP

MESSAGE_TYPE = MessageType(
    code="personal-share",
    message_kind="PersonalShareRequest",
    request=insurance_status.MESSAGE_TYPE.request,
    answer=PERSONAL_SHARE,
    ordering=UNORDERED,
    role=LOOKUP,
)
