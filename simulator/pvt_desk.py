"""The central application's PVT side: admissions and the modifications of an accepted
admission, judged by ``simulator.rules`` and remembered in the store.

``CentralApplication`` dispatches the PVT messages here; it keeps the parts shared with REVA
(idempotency, the answer, decisions, the mailbox). Everything runs under the store's lock
held by ``CentralApplication.submit`` or ``decide``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

from simulator import rules
from simulator.admission import Admission
from simulator.answers import Answer, Outcome
from simulator.clock import Clock
from simulator.history import Status
from simulator.population import Population
from simulator.pvt_messages import PvtAdmission, PvtModificationRequest
from simulator.state import PendingCase, Store

P = TypeVar("P", bound=PvtModificationRequest)
PvtJudge = Callable[[P, Admission | None, date, bool], rules.Verdict]
"""A PVT modification's rule: request, the admission it names, today, facility recognised."""
AnswerMaker = Callable[[str, rules.Verdict, str | None], Answer]
"""Makes the answer to a message id from a verdict and the reference it carries."""


class PvtDesk:
    """Judges PVT admissions and their modifications, and records what was accepted."""

    def __init__(
        self,
        store: Store,
        population: Population,
        clock: Clock,
        recognises: Callable[[str], bool],
        answer: AnswerMaker,
    ):
        self.store = store
        self.population = population
        self.clock = clock
        self.recognises = recognises
        self.answer = answer

    def admit(self, request: PvtAdmission) -> Answer:
        """Judge an admission; keep it (any outcome) and, if accepted, give it a reference."""
        today = self.clock.today()
        person = self.population.find(request.insz)
        recognised = self.recognises(request.header.nihdi)
        verdict = rules.judge_pvt_admission(request, person, today, recognised)
        header = request.header
        # Kept as granted (even when refused, for the admin's view): a decision after a
        # review grants what the judgement found on the day it came in.
        granted = rules.granted_period(request, today)
        self.store.add_admission(
            Admission(
                message_id=header.message_id,
                insz=request.insz,
                nihdi=header.nihdi,
                dossier_id=header.dossier_id,
                received_on=today,
                admission_date=request.admission_date,
                requested_start=request.start_date,
                start_date=granted.start,
                end_date=granted.end,
                migration=request.migration,
                status=Status(verdict.outcome.value),
                user_type=request.user_type,
                vi_approval=request.vi_approval,
            )
        )
        reference = None
        if verdict.outcome is Outcome.ACCEPTED:
            reference = self.store.next_reference(today.year)
            self.store.accept_admission(header.message_id, reference)
        elif verdict.outcome is Outcome.IN_BERAAD:
            self.store.add_pending(PendingCase.for_request(request, today, verdict.errors))
        return self.answer(header.message_id, verdict, reference)

    def modify(self, request: P, judge: PvtJudge[P]) -> Answer:
        """Judge a modification against the admission its reference names; record it if
        accepted. A REVA reference is refused VSB-MOD-SECTOR."""
        today = self.clock.today()
        recognised = self.recognises(request.header.nihdi)
        admission = self.store.admission_by_reference(request.vsb_reference)
        other = self.store.application_by_reference(request.vsb_reference)
        if admission is None and other is not None:
            verdict = rules.judge_other_sector(request, "a REVA application", recognised)
        else:
            verdict = judge(request, admission, today, recognised)
        reference = None
        if verdict.outcome is Outcome.ACCEPTED and admission is not None:
            admission.record(request)
            reference = request.vsb_reference
        return self.answer(request.header.message_id, verdict, reference)

    def accept(self, message_id: str, reference: str) -> rules.Verdict:
        """A decision accepts an admission in beraad: the verdict of its later answer."""
        admission = self.store.accept_admission(message_id, reference)
        return rules.Verdict(Outcome.ACCEPTED, body=admission.granted)

    def refuse(self, message_id: str) -> None:
        """A decision refuses an admission in beraad."""
        self.store.refuse_admission(message_id)
