"""reva-stop-cancel (Claim use=preauthorization, supportingInfo cancel) -> vsb:RevaStopCancel.

Accepted, the stop is undone: the approved period runs as before. The stop to cancel is the
application's, so the message is its head only.
"""

from __future__ import annotations

from mappings.answers.claim_response import CLAIM_RESPONSE
from mappings.deadline import Deadlines, PeriodEffect
from mappings.mappers.modification import head_only
from mappings.message_type import MessageType
from mappings.ordering import BY_DOSSIER
from mappings.role import MODIFIES

MESSAGE_TYPE = MessageType(
    code="reva-stop-cancel",
    message_kind="RevaStopCancel",
    request=head_only("cancel"),
    answer=CLAIM_RESPONSE,
    ordering=BY_DOSSIER,
    role=MODIFIES,
    deadlines=Deadlines(period=PeriodEffect.RESUMES, late_change=True),
)
