"""reva-km-change (as reva-km-request) -> vsb:RevaKmChange: the km allowance as it now is."""

from __future__ import annotations

from mappings.answers.claim_response import CLAIM_RESPONSE
from mappings.deadline import LATE_CHANGE
from mappings.mapper import Mapper
from mappings.mappers.reva_km_request import build, check
from mappings.message_type import MessageType
from mappings.ordering import BY_DOSSIER
from mappings.role import MODIFIES

MESSAGE_TYPE = MessageType(
    code="reva-km-change",
    message_kind="RevaKmChange",
    request=Mapper(focus_type="Claim", check=check, build=build),
    answer=CLAIM_RESPONSE,
    ordering=BY_DOSSIER,
    role=MODIFIES,
    deadlines=LATE_CHANGE,
)
