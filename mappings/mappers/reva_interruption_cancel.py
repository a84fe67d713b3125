"""reva-interruption-cancel (Claim use=preauthorization, supportingInfo interruption-start)
-> vsb:RevaInterruptionCancel.

The accepted interruption to cancel is named by its start date.
"""

from __future__ import annotations

from mappings.answers.claim_response import CLAIM_RESPONSE
from mappings.deadline import LATE_CHANGE
from mappings.mappers.modification import one_date
from mappings.message_type import MessageType
from mappings.ordering import BY_DOSSIER
from mappings.role import MODIFIES

MESSAGE_TYPE = MessageType(
    code="reva-interruption-cancel",
    message_kind="RevaInterruptionCancel",
    request=one_date("interruption-start", "InterruptionStartDate"),
    answer=CLAIM_RESPONSE,
    ordering=BY_DOSSIER,
    role=MODIFIES,
    deadlines=LATE_CHANGE,
)
