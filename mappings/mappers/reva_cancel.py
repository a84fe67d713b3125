"""reva-cancel (Claim use=preauthorization, supportingInfo cancel) -> vsb:RevaCancel.

Accepted, the application is deleted for good: its role closes the dossier's application, so
the adapter refuses anything sent after it (``application-closed``) without sending it.
"""

from __future__ import annotations

from mappings.answers.claim_response import CLAIM_RESPONSE
from mappings.deadline import LATE_CHANGE
from mappings.mappers.modification import cancel_with_reason
from mappings.message_type import MessageType
from mappings.ordering import BY_DOSSIER
from mappings.role import CLOSES

MESSAGE_TYPE = MessageType(
    code="reva-cancel",
    message_kind="RevaCancel",
    request=cancel_with_reason(),
    answer=CLAIM_RESPONSE,
    ordering=BY_DOSSIER,
    role=CLOSES,
    deadlines=LATE_CHANGE,
)
