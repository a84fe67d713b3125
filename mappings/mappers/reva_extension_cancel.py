"""reva-extension-cancel (Claim use=preauthorization, supportingInfo extension)
-> vsb:RevaExtensionCancel.

The accepted extension to cancel is named by its start date; the period ends again on the
date it had before it.
"""

from __future__ import annotations

from mappings.answers.claim_response import CLAIM_RESPONSE
from mappings.deadline import LATE_CHANGE
from mappings.mappers.modification import one_date
from mappings.message_type import MessageType
from mappings.ordering import BY_DOSSIER
from mappings.role import MODIFIES

MESSAGE_TYPE = MessageType(
    code="reva-extension-cancel",
    message_kind="RevaExtensionCancel",
    request=one_date("extension", "ExtensionStartDate"),
    answer=CLAIM_RESPONSE,
    ordering=BY_DOSSIER,
    role=MODIFIES,
    deadlines=LATE_CHANGE,
)
