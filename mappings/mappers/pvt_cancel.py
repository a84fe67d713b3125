"""pvt-cancel (Claim use=preauthorization, supportingInfo cancel) -> vsb:PvtCancel.

As ``reva-cancel``: accepted, the admission is deleted for good, so its role closes the
dossier's application and the adapter refuses anything sent after it
(``application-closed``) without sending it. A stay that ends is a ``pvt-discharge``.
"""

from __future__ import annotations

from mappings.answers.claim_response import CLAIM_RESPONSE
from mappings.mappers.modification import cancel_with_reason
from mappings.message_type import MessageType
from mappings.ordering import BY_DOSSIER
from mappings.role import CLOSES

MESSAGE_TYPE = MessageType(
    code="pvt-cancel",
    message_kind="PvtCancel",
    request=cancel_with_reason(),
    answer=CLAIM_RESPONSE,
    ordering=BY_DOSSIER,
    role=CLOSES,
)
