"""reva-km-stop (Claim use=preauthorization, supportingInfo km-stop) -> vsb:RevaKmStop.

The km allowance stops on ``km-stop``'s ``timingDate``; the flat rate is paid again.
"""

from __future__ import annotations

from mappings.answers.claim_response import CLAIM_RESPONSE
from mappings.deadline import LATE_CHANGE
from mappings.mappers.modification import one_date
from mappings.message_type import MessageType
from mappings.ordering import BY_DOSSIER
from mappings.role import MODIFIES

MESSAGE_TYPE = MessageType(
    code="reva-km-stop",
    message_kind="RevaKmStop",
    request=one_date("km-stop", "StopDate"),
    answer=CLAIM_RESPONSE,
    ordering=BY_DOSSIER,
    role=MODIFIES,
    deadlines=LATE_CHANGE,
)
