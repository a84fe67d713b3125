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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar, assert_never

from lxml import etree

from simulator import rules
from simulator.answers import Answer, Error, Outcome
from simulator.clock import Clock
from simulator.contract import Contract
from simulator.errors import AdminInputError, UnknownCase
from simulator.history import Application, Sessions, Status
from simulator.invoice_desk import InvoiceDesk
from simulator.invoice_messages import InvoiceBatch
from simulator.message_parts import local_name
from simulator.messages import (
    IncreasedAllowanceRequest,
    InsuranceStatusRequest,
    ModificationRequest,
    PersonalShareRequest,
    Request,
    RevaApplication,
    RevaCancel,
    RevaDataChange,
    RevaDocument,
    RevaExtension,
    RevaExtensionCancel,
    RevaInterruption,
    RevaInterruptionCancel,
    RevaInterruptionChange,
    RevaKmChange,
    RevaKmRequest,
    RevaKmStop,
    RevaKmStopCancel,
    RevaMedicalReportChange,
    RevaStartChange,
    RevaStop,
    RevaStopCancel,
    read_message,
)
from simulator.population import Person, Population
from simulator.pvt_desk import PvtDesk
from simulator.pvt_messages import PvtAdmission, PvtCancel, PvtDischarge, PvtExtension
from simulator.signature import TrustStore
from simulator.state import PendingCase, Store

log = logging.getLogger("simulator.central")

PVT_ADMISSION = PvtAdmission.__name__
"""The kind of a pending PVT admission (its case has no modification)."""


M = TypeVar("M", bound=ModificationRequest)
Judge = Callable[[M, Application | None, date, bool], rules.Verdict]
"""A modification's rule: request, the application it names, today, facility recognised."""

L = TypeVar("L", InsuranceStatusRequest, IncreasedAllowanceRequest, PersonalShareRequest)
LookUpJudge = Callable[[L, Person, bool], rules.Verdict]
"""A look-up's rule: request, the person as the population knows them, facility recognised."""


@dataclass(frozen=True)
class SessionsResult:
    """What the sessions ledger made of sessions offered on one day."""

    vsb_reference: str
    quota: int
    used: int
    """Used in the period of that day, after these sessions."""
    accepted: int
    refused: int
    errors: tuple[Error, ...]

    def to_json(self) -> dict[str, Any]:
        """The admin API's JSON shape (``errors`` only when some were refused)."""
        body: dict[str, Any] = {
            "vsb_reference": self.vsb_reference,
            "quota": self.quota,
            "used": self.used,
            "accepted": self.accepted,
            "refused": self.refused,
        }
        if self.errors:
            body["errors"] = [error.to_json() for error in self.errors]
        return body


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
        self.pvt = PvtDesk(self.store, population, clock, self._recognises, self._answer)
        self.invoicing = InvoiceDesk(self.store, population, clock, self._recognises, self._answer)
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
                verdict = rules.Verdict(Outcome.ACCEPTED)
                if case.modification is not None:
                    # Recorded as it was judged: the review only adds the care fund's consent.
                    named = self.store.application_by_reference(case.modification.vsb_reference)
                    if named is not None:
                        named.record(case.modification)
                elif case.kind == PVT_ADMISSION:
                    reference = self.store.next_reference(self.clock.today().year)
                    verdict = self.pvt.accept(case.message_id, reference)
                else:
                    reference = self.store.next_reference(self.clock.today().year)
                    self._accept_application(case.message_id, reference)
            else:
                if case.kind == PVT_ADMISSION:
                    self.pvt.refuse(case.message_id)
                elif case.modification is None:
                    self.store.refuse_application(case.message_id)
                code = code or rules.codes.REFUSED_AFTER_REVIEW
                error = Error(code, text or "refused after review")
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
            body=verdict.body,
            errors=verdict.errors,
        )

    def _apply(self, request: Request) -> Answer:
        match request:
            case InsuranceStatusRequest():
                return self._look_up(request, rules.judge_status_request)
            case IncreasedAllowanceRequest():
                return self._look_up(request, rules.judge_increased_allowance_request)
            case PersonalShareRequest():
                return self._look_up(request, rules.judge_personal_share_request)
            case RevaApplication():
                return self._apply_application(request)
            case RevaStop():
                return self._modify(request, rules.judge_stop)
            case RevaStopCancel():
                return self._modify(request, rules.judge_stop_cancel)
            case RevaCancel():
                return self._modify(request, rules.judge_cancel)
            case RevaDataChange():
                return self._modify(request, rules.judge_data_change)
            case RevaStartChange():
                return self._modify(request, rules.judge_start_change)
            case RevaExtension():
                return self._modify(request, rules.judge_extension)
            case RevaExtensionCancel():
                return self._modify(request, rules.judge_extension_cancel)
            case RevaInterruption():
                return self._modify(request, rules.judge_interruption)
            case RevaInterruptionChange():
                return self._modify(request, rules.judge_interruption_change)
            case RevaInterruptionCancel():
                return self._modify(request, rules.judge_interruption_cancel)
            case RevaMedicalReportChange():
                return self._modify(request, rules.judge_medical_report_change)
            case RevaDocument():
                return self._modify(request, rules.judge_document)
            case RevaKmRequest():
                return self._modify(request, rules.judge_km_request)
            case RevaKmChange():
                return self._modify(request, rules.judge_km_change)
            case RevaKmStop():
                return self._modify(request, rules.judge_km_stop)
            case RevaKmStopCancel():
                return self._modify(request, rules.judge_km_stop_cancel)
            case PvtAdmission():
                return self.pvt.admit(request)
            case PvtExtension():
                return self.pvt.modify(request, rules.judge_pvt_extension)
            case PvtDischarge():
                return self.pvt.modify(request, rules.judge_pvt_discharge)
            case PvtCancel():
                return self.pvt.modify(request, rules.judge_pvt_cancel)
            case InvoiceBatch():
                return self.invoicing.take(request)
            case _:
                # A kind added to Request without its branch here fails the type check.
                assert_never(request)

    def _look_up(self, request: L, judge: LookUpJudge[L]) -> Answer:
        # Look-ups are unordered and keep nothing: judged on the person as listed today.
        person = self.population.find(request.insz)
        verdict = judge(request, person, self._recognises(request.header.nihdi))
        return self._answer(request.header.message_id, verdict)

    def _apply_application(self, request: RevaApplication) -> Answer:
        today = self.clock.today()
        person = self.population.find(request.insz)
        previous = None
        if request.previous_reference is not None:
            previous = self.store.application_by_reference(request.previous_reference)
        recognised = self._recognises(request.header.nihdi)
        verdict = rules.judge_application(request, person, today, recognised, previous)
        header = request.header
        if verdict.outcome is Outcome.IN_BERAAD:
            self.store.add_pending(PendingCase.for_request(request, today, verdict.errors))
        self.store.add_application(
            Application(
                message_id=header.message_id,
                insz=request.insz,
                nihdi=header.nihdi,
                dossier_id=header.dossier_id,
                request_type=request.request_type,
                request_date=request.request_date,
                initial_start_date=request.start_date,
                start_date=request.start_date,
                end_date=request.end_date,
                migration=request.migration,
                vi_approval_date=request.vi_approval_date,
                status=Status(verdict.outcome.value),
                previous_reference=request.previous_reference,
                location=request.location,
                accident_code=request.accident_code,
            )
        )
        reference = None
        if verdict.outcome is Outcome.ACCEPTED:
            reference = self.store.next_reference(today.year)
            self._accept_application(header.message_id, reference)
        return self._answer(header.message_id, verdict, reference)

    def _accept_application(self, message_id: str, reference: str) -> None:
        # On a change of facility the period continues: its first start and the sessions
        # used so far carry over from the previous application.
        self.store.accept_application(message_id, reference)
        application = self.store.application(message_id)
        if application.previous_reference is None:
            return
        previous = self.store.application_by_reference(application.previous_reference)
        if previous is not None:
            application.carried_start = previous.period_start
            application.ledger.extend(rules.period_sessions(previous))

    def _modify(self, request: M, judge: Judge[M]) -> Answer:
        today = self.clock.today()
        recognised = self._recognises(request.header.nihdi)
        application = self.store.application_by_reference(request.vsb_reference)
        if (
            application is None
            and self.store.admission_by_reference(request.vsb_reference) is not None
        ):
            verdict = rules.judge_other_sector(request, "a PVT admission", recognised)
        else:
            verdict = judge(request, application, today, recognised)
        reference = None
        if verdict.outcome is Outcome.ACCEPTED and application is not None:
            # The live record, changed under the store's lock held by submit().
            application.record(request)
            reference = request.vsb_reference
        elif verdict.outcome is Outcome.IN_BERAAD:
            self.store.add_pending(PendingCase.for_request(request, today, verdict.errors))
        return self._answer(request.header.message_id, verdict, reference)

    # --- the sessions ledger and the history (admin) ------------------------------------

    def _named(self, vsb_reference: str) -> Application:
        application = self.store.application_by_reference(vsb_reference)
        if application is None:
            raise UnknownCase(f"no application with reference {vsb_reference}")
        return application

    def record_sessions(self, vsb_reference: str, day: date, count: int) -> SessionsResult:
        """Feed the sessions ledger (a stand-in for invoiced session lines): sessions past
        the period's quota are refused with VSB-REVA-QUOTA."""
        if count < 1:
            raise AdminInputError("count must be a positive number of sessions")
        with self.store.lock:
            application = self._named(vsb_reference)
            verdict = rules.judge_sessions(application, day, count)
            if verdict.accepted:
                application.ledger.append(Sessions(day, verdict.accepted))
            used = rules.balance(application, day).used
        log.info(
            "sessions %s on %s: %d accepted, %d refused (%d/%d used)",
            vsb_reference,
            day.isoformat(),
            verdict.accepted,
            verdict.refused,
            used,
            verdict.quota,
        )
        return SessionsResult(
            vsb_reference, verdict.quota, used, verdict.accepted, verdict.refused, verdict.errors
        )

    def history(self, vsb_reference: str) -> dict[str, Any]:
        """An application's stored history as JSON (INSZ masked), with its sessions balance
        and the day its period closes (derived with "today"); or a PVT admission's."""
        with self.store.lock:
            admission = self.store.admission_by_reference(vsb_reference)
            if admission is not None:
                return admission.history_json()
            application = self._named(vsb_reference)
            body = application.history_json()
            body["sessions"] = rules.balance(application).to_json() | {
                "ledger": [
                    {"date": sessions.day.isoformat(), "count": sessions.count}
                    for sessions in application.ledger
                ]
            }
            closed = rules.closed_on(application, self.clock.today())
        body["closed_on"] = None if closed is None else closed.isoformat()
        return body
