"""The insurance statuses the adapter relays, remembered for the invoices that follow.

An invoice goes to the care fund of its person's last known insurance status (DOMAIN.md,
"Invoicing"; ``adapter.store.ledger.care_fund_refusal``). The adapter knows a status when it
relayed one: the answer to an ``insurance-status`` look-up. Whatever message type carries
it, an answer whose typed body is an ``InsuranceStatus`` is remembered, under the blind
index of the person's INSZ, in the transaction that records the answer.
"""

from __future__ import annotations

import json
import logging
from datetime import date

from adapter.errors import ConfigError
from adapter.store import Store, ledger
from adapter.store.store import Effect
from mappings import MessageType
from mappings.answers.eligibility import InsuranceStatus
from mappings.bundle import EventBundle
from mappings.mappers.common import insz
from mappings.model import CentralAnswer, Outcome

_AFFILIATED = "affiliated"
log = logging.getLogger(__name__)


class StatusMemory:
    """Makes the effect that remembers a relayed insurance status."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._warned = False

    def effect(
        self, payload: str, message_type: MessageType, answer: CentralAnswer
    ) -> Effect | None:
        """The effect for ``answer`` to the event ``payload``; None if it is no status."""
        if answer.outcome is not Outcome.ACCEPTED:
            return None
        body = message_type.answer.read(answer.element)
        if not isinstance(body, InsuranceStatus):
            return None
        person = insz(EventBundle(json.loads(payload)))
        # Not affiliated is a status too: no care fund, so an invoice for it is refused.
        fund = body.care_fund if body.affiliation == _AFFILIATED else None
        valid_from = date.fromisoformat(body.valid_from) if body.valid_from else None
        try:
            index = self._store.sealer.blind_index()
        except ConfigError as exc:
            # The look-up's answer still goes to the EPD; invoices for the person are then
            # refused as of an unknown status, and the log says what to fix.
            if not self._warned:
                log.warning("insurance statuses are not remembered: %s", exc)
                self._warned = True
            return None
        answered_at = answer.created_at
        return lambda db: ledger.remember_status(db, index, person, fund, valid_from, answered_at)
