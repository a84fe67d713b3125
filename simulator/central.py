"""The central care-fund application: takes requests, applies the rules, keeps the state.

The order of checks on Submit: schema, then signature, then the idempotency key (a message
id answered before gets that first answer again, with no second effect), then the rules.
Schema and signature problems are ``RequestError`` (soap:Client faults): such a request
was never accepted for processing, so it has no answer to repeat.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import assert_never

from lxml import etree

from simulator import rules
from simulator.answers import Answer, Error, Outcome
from simulator.clock import Clock
from simulator.contract import Contract
from simulator.errors import AdminInputError
from simulator.messages import (
    InsuranceStatusRequest,
    Request,
    RevaApplication,
    RevaStop,
    local_name,
    read_message,
)
from simulator.population import Population
from simulator.signature import TrustStore
from simulator.state import Application, PendingCase, Store

log = logging.getLogger("simulator.central")


@dataclass(frozen=True)
class SubmitResult:
    """The answer to a Submit and whether it repeats an earlier one."""

    answer: Answer
    kind: str
    duplicate: bool


def new_answer_id() -> str:
    """A globally unique answer id: it must stay unique across simulator restarts too."""
    return f"A-{uuid.uuid4()}"


class CentralApplication:
    """The simulated central application (without its transport)."""

    def __init__(
        self,
        contract: Contract,
        trust: TrustStore,
        population: Population,
        clock: Clock,
        recognised_facilities: Iterable[str] | None = None,
    ):
        self.contract = contract
        self.trust = trust
        self.population = population
        self.clock = clock
        self.store = Store()
        self._facilities_lock = threading.Lock()
        self._facilities = (
            None if recognised_facilities is None else frozenset(recognised_facilities)
        )

    # --- configuration -----------------------------------------------------------------

    def set_recognised_facilities(self, nihdi: Iterable[str] | None) -> None:
        """Limit the recognised facilities to these NIHDI numbers (``None``: any facility)."""
        with self._facilities_lock:
            self._facilities = None if nihdi is None else frozenset(nihdi)

    def recognised_facilities(self) -> frozenset[str] | None:
        """The recognised NIHDI numbers, or ``None`` when any facility is recognised."""
        with self._facilities_lock:
            return self._facilities

    def _recognises(self, nihdi: str) -> bool:
        facilities = self.recognised_facilities()
        return facilities is None or nihdi in facilities

    # --- SOAP operations ---------------------------------------------------------------

    def submit(self, payload: etree._Element) -> SubmitResult:
        """Handle one Submit: check, deduplicate, judge, remember; return the answer."""
        self.contract.validate(payload)
        signed = self.trust.verify(payload)
        request = read_message(signed)
        kind = local_name(signed)
        message_id = request.header.message_id
        with self.store.lock:
            first = self.store.answer_for(message_id)
            if first is not None:
                log.info(
                    "duplicate %s %s: first answer %s again", kind, message_id, first.answer_id
                )
                return SubmitResult(first, kind, duplicate=True)
            answer = self._apply(request)
            self.store.remember_answer(message_id, answer)
        log.info("%s %s: %s", kind, message_id, answer.outcome.value)
        return SubmitResult(answer, kind, duplicate=False)

    def fetch(self, nihdi: str, limit: int) -> list[Answer]:
        """FetchAnswers: the facility's unconfirmed later answers, oldest first."""
        return self.store.fetch(nihdi, limit)

    def confirm(self, nihdi: str, answer_ids: list[str]) -> int:
        """ConfirmAnswers: drop the confirmed answers; return how many were dropped."""
        return self.store.confirm(nihdi, answer_ids)

    # --- admin decisions ---------------------------------------------------------------

    def decide(
        self,
        *,
        message_id: str | None = None,
        vsb_reference: str | None = None,
        decision: str,
        code: str | None = None,
        text: str | None = None,
    ) -> Answer:
        """Decide a case "in beraad" and put the decision in the facility's mailbox."""
        if decision not in ("accept", "refuse"):
            raise AdminInputError("decision must be 'accept' or 'refuse'")
        if message_id is None and vsb_reference is None:
            raise AdminInputError("name the case by message_id or vsb_reference")
        with self.store.lock:
            case = self.store.take_pending(message_id, vsb_reference)
            if decision == "accept":
                reference = case.vsb_reference
                if case.kind == "RevaApplication":
                    reference = self.store.next_reference(self.clock.today().year)
                    self.store.accept_application(case.message_id, reference)
                verdict = rules.Verdict(Outcome.ACCEPTED)
            else:
                if case.kind == "RevaApplication":
                    self.store.refuse_application(case.message_id)
                error = Error(code or rules.REFUSED_AFTER_REVIEW, text or "refused after review")
                verdict, reference = rules.Verdict(Outcome.REFUSED, (error,)), None
            answer = self._answer(case.message_id, verdict, reference)
            self.store.deliver(case.nihdi, answer)
        log.info("decided %s: %s (answer %s)", case.message_id, decision, answer.answer_id)
        return answer

    # --- the rules applied -------------------------------------------------------------

    def _answer(
        self, in_reply_to: str, verdict: rules.Verdict, vsb_reference: str | None = None
    ) -> Answer:
        return Answer(
            answer_id=new_answer_id(),
            in_reply_to=in_reply_to,
            created_at=self.clock.now(),
            outcome=verdict.outcome,
            vsb_reference=vsb_reference,
            insurance_status=verdict.insurance_status,
            errors=verdict.errors,
        )

    def _apply(self, request: Request) -> Answer:
        recognised = self._recognises(request.header.nihdi)
        match request:
            case InsuranceStatusRequest():
                person = self.population.find(request.insz)
                verdict = rules.judge_status_request(request, person, recognised)
                return self._answer(request.header.message_id, verdict)
            case RevaApplication():
                return self._apply_application(request, recognised)
            case RevaStop():
                return self._apply_stop(request, recognised)
            case _:
                # A kind added to Request without its branch here fails the type check.
                assert_never(request)

    def _apply_application(self, request: RevaApplication, recognised: bool) -> Answer:
        today = self.clock.today()
        person = self.population.find(request.insz)
        verdict = rules.judge_application(request, person, today, recognised)
        header = request.header
        reference = None
        if verdict.outcome is Outcome.ACCEPTED:
            reference = self.store.next_reference(today.year)
        elif verdict.outcome is Outcome.IN_BERAAD:
            self.store.add_pending(_pending(request, "RevaApplication", today, verdict))
        self.store.add_application(
            Application(
                message_id=header.message_id,
                insz=request.insz,
                nihdi=header.nihdi,
                dossier_id=header.dossier_id,
                request_type=request.request_type,
                start_date=request.start_date,
                end_date=request.end_date,
                migration=request.migration,
                status=verdict.outcome.value,
                vsb_reference=reference,
            )
        )
        return self._answer(header.message_id, verdict, reference)

    def _apply_stop(self, request: RevaStop, recognised: bool) -> Answer:
        application = self.store.application_by_reference(request.vsb_reference)
        facts = None
        if application is not None:
            facts = rules.ApplicationFacts(
                insz=application.insz,
                start_date=application.start_date,
                end_date=application.end_date,
                accepted=application.status == "accepted",
                stop_message_id=application.stop_message_id,
            )
        verdict = rules.judge_stop(request, facts, recognised)
        reference = None
        if verdict.outcome is Outcome.ACCEPTED and application is not None:
            # The live record, changed under the store's lock held by submit().
            application.stop_date = request.stop_date
            application.stop_reason = request.reason
            application.stop_message_id = request.header.message_id
            reference = request.vsb_reference
        return self._answer(request.header.message_id, verdict, reference)


def _pending(
    request: RevaApplication, kind: str, today: date, verdict: rules.Verdict
) -> PendingCase:
    return PendingCase(
        message_id=request.header.message_id,
        kind=kind,
        nihdi=request.header.nihdi,
        insz=request.insz,
        dossier_id=request.header.dossier_id,
        received_on=today,
        reasons=tuple(error.code for error in verdict.errors),
    )
