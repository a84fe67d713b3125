"""Where a message is sent: build the VSB XML, sign it, submit it, store what came back.

One call of ``Sender.send`` handles one claimed message from start to finish, on a sender
thread. Transient failures get a few quick tries here (tenacity), then a stored, delayed retry
with exponential backoff and jitter; permanent ones make a dead letter. A refusal by the
central application is an answer like any other.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from lxml import etree
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from adapter import crashpoints
from adapter.central import CentralTransport
from adapter.clock import Clock
from adapter.crashpoints import CrashPoint
from adapter.engine.answers import from_central, made_here
from adapter.engine.batches import BatchDelivery, BatchRefused
from adapter.engine.breaker import BreakerState, CircuitBreaker
from adapter.engine.statuses import StatusMemory
from adapter.errors import PermanentDeliveryError, TransientDeliveryError, UnreadableAnswer
from adapter.lifecycle import Stage, Step, claim_step
from adapter.settings import DeliverySettings
from adapter.signing import Signer
from adapter.store import AnswerSource, Claim, PreparedAnswer, Store
from adapter.store.store import Effect
from mappings import (
    MESSAGE_TYPES,
    MessageType,
    build_message,
    classify_event,
    parse_answer,
    read_envelope,
)
from mappings.errors import AnswerFormatError, MappingError, SchemaViolation
from mappings.message_type import Carriage
from mappings.migration import Classification
from mappings.model import CentralAnswer, Facility, Issue, MessageContext, Outcome
from monitoring import Metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """When a transiently failing message is tried again, and when it is given up."""

    initial_seconds: float
    max_seconds: float
    max_attempts: int
    max_age_seconds: float

    @classmethod
    def from_settings(cls, s: DeliverySettings) -> RetryPolicy:
        """The policy the settings describe."""
        return cls(
            s.backoff_initial_seconds, s.backoff_max_seconds, s.max_attempts, s.max_age_seconds
        )

    def delay(self, attempts: int) -> float:
        """Exponential backoff with equal jitter: half fixed, half random."""
        ceiling = min(self.max_seconds, self.initial_seconds * 2 ** max(attempts - 1, 0))
        return float(ceiling / 2 + random.uniform(0, ceiling / 2))


class Sender:
    """Sends claimed messages; shared by the dispatcher's sender threads."""

    def __init__(
        self,
        store: Store,
        central: CentralTransport,
        signer: Signer,
        facility: Facility,
        clock: Clock,
        metrics: Metrics,
        breaker: CircuitBreaker,
        settings: DeliverySettings,
    ) -> None:
        self._store = store
        self._central = central
        self._signer = signer
        self._facility = facility
        self._clock = clock
        self._metrics = metrics
        self._breaker = breaker
        self._policy = RetryPolicy.from_settings(settings)
        self._quick_tries = settings.quick_tries
        self._batches = BatchDelivery(
            store, signer, facility, clock, Path(settings.batch_directory)
        )
        self._statuses = StatusMemory(store)

    def send(self, claim: Claim) -> None:
        """Deliver one claimed message and record the result (never raises on delivery errors)."""
        if claim.unreadable is not None:
            # Its stored event does not open (a key missing from the keyring, an altered
            # row): nothing can be built. A dead letter says why; once the keyring is fixed,
            # support replays it unchanged.
            self._dead(claim, f"unreadable stored event: {claim.unreadable}", "unreadable")
            return
        message_type = MESSAGE_TYPES[claim.event_code]
        refusal = message_type.role.refusal(claim.application)
        if refusal:
            self._refuse(claim, message_type, refusal)
            return
        started = self._clock.monotonic()
        try:
            answer, classification = self._exchange(claim, message_type)
        except BatchRefused as exc:
            self._refuse(claim, message_type, exc.issues, reason="batch-refused")
            return
        except UnreadableAnswer as exc:
            # Perhaps applied: in doubt, resent with the same id until the retry caps.
            self._metrics.sends.labels(claim.event_code, "unreadable_answer").inc()
            self._retry_later(claim, str(exc))
            return
        except TransientDeliveryError as exc:
            self._metrics.sends.labels(claim.event_code, "transient_error").inc()
            self._retry_later(claim, str(exc))
            return
        except SchemaViolation as exc:
            self._dead(claim, f"schema: {exc}", "schema")
            return
        except (PermanentDeliveryError, MappingError) as exc:
            self._metrics.sends.labels(claim.event_code, "permanent_error").inc()
            self._dead(claim, str(exc), "permanent")
            return
        finally:
            elapsed = self._clock.monotonic() - started
            self._metrics.send_seconds.labels(claim.event_code).observe(elapsed)
        self._metrics.sends.labels(claim.event_code, answer.outcome.value).inc()
        claim_step(
            Step.SENT,
            Stage.SEND,
            claim,
            seconds=elapsed,
            attempt=claim.attempts,
            outcome=answer.outcome.value,
        )
        effect: Effect | None
        if message_type.carriage is Carriage.BATCH:
            prepared, effect = self._batches.answers.answered(
                answer, message_type, event_id=claim.event_id, source=AnswerSource.SYNC
            )
        else:
            prepared = from_central(
                answer,
                message_type,
                event_id=claim.event_id,
                source=AnswerSource.SYNC,
                classification=classification,
            )
            effect = self._statuses.effect(claim.payload, message_type, answer)
        self._record(claim, message_type, prepared, effect)

    def _exchange(
        self, claim: Claim, message_type: MessageType
    ) -> tuple[CentralAnswer, Classification | None]:
        """Build, sign and submit the claim's message; its answer and the event's class.

        A batch is judged against the store first (``BatchRefused``: not sent) and goes as a
        signed file, never a tree (``adapter.engine.batches``).
        """
        if message_type.carriage is Carriage.BATCH:
            batch = self._batches.prepare(claim)
            with self._batches.written(batch) as signed_file:
                answer_xml = self._submit(lambda: self._central.submit_file(signed_file))
            crashpoints.reach(CrashPoint.AFTER_SENDING_BEFORE_ANSWER)
            return self._read(answer_xml, claim), None
        signed, classification = self._signed_message(claim, message_type)
        answer_xml = self._submit(lambda: self._central.submit(signed))
        crashpoints.reach(CrashPoint.AFTER_SENDING_BEFORE_ANSWER)
        return self._read(answer_xml, claim), classification

    @staticmethod
    def _read(answer_xml: etree._Element, claim: Claim) -> CentralAnswer:
        """The central answer to the claimed message; ``UnreadableAnswer`` if it is not one."""
        try:
            answer = parse_answer(answer_xml)
        except AnswerFormatError as exc:
            raise UnreadableAnswer(f"unreadable answer: {exc}") from exc
        if answer.in_reply_to not in (claim.message_id, claim.replaces_message_id):
            raise UnreadableAnswer("unreadable answer: it answers another message")
        return answer

    def _signed_message(
        self, claim: Claim, message_type: MessageType
    ) -> tuple[etree._Element, Classification | None]:
        # Built apart so that the decoded event is freed before signing: with a large
        # attachment each copy is ~14 MB, and signing makes its own (docs/performance.md,
        # set E).
        message, classification = self._message(claim, message_type)
        return self._signer.sign(message), classification

    def _message(
        self, claim: Claim, message_type: MessageType
    ) -> tuple[etree._Element, Classification | None]:
        """The unsigned message, and the event's migration class read from the same decoding
        (for its answer: the event is not decoded a second time)."""
        envelope = read_envelope(claim.payload.encode())
        application = claim.application
        context = MessageContext(
            message_id=claim.message_id,
            created_at=self._clock.now(),
            facility=self._facility,
            vsb_reference=application.vsb_reference
            if message_type.role.modifies and application is not None
            else None,
            replaces_message_id=claim.replaces_message_id,
        )
        return build_message(envelope, context), classify_event(envelope)

    def _submit(self, call: Callable[[], etree._Element]) -> etree._Element:
        """``call`` (one Submit) with a few quick tries, telling the breaker how each went."""
        retrying = Retrying(
            sleep=self._clock.sleep,
            stop=stop_after_attempt(self._quick_tries),
            wait=wait_exponential(multiplier=0.2, max=2.0) + wait_random(0, 0.2),
            # Once the breaker has opened, further quick tries would only hit the outage.
            retry=retry_if_exception(
                lambda exc: (
                    isinstance(exc, TransientDeliveryError)
                    and self._breaker.state is BreakerState.CLOSED
                )
            ),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                try:
                    answer = call()
                except UnreadableAnswer:
                    self._breaker.success()  # it answered, if unreadably: the application is up
                    self._metrics.central_up.set(1)
                    raise
                except TransientDeliveryError:
                    self._breaker.failure()
                    self._metrics.central_up.set(0)
                    raise
                except PermanentDeliveryError:
                    self._breaker.success()  # it answered: the application is up
                    self._metrics.central_up.set(1)
                    raise
                self._breaker.success()
                self._metrics.central_up.set(1)
                return answer
        raise AssertionError("unreachable")

    def _record(
        self,
        claim: Claim,
        message_type: MessageType,
        answer: PreparedAnswer,
        effect: Effect | None = None,
    ) -> None:
        recorded = self._store.record_answer(
            claim, answer, self._clock.now(), role=message_type.role, effect=effect
        )
        if not recorded:
            log.warning("message %s: lease lost before its answer was stored", claim.message_id)
            return
        crashpoints.reach(CrashPoint.AFTER_ANSWER_BEFORE_PUBLISH)
        waited = (self._clock.now() - claim.created_at).total_seconds()
        self._metrics.answer_seconds.observe(waited)
        claim_step(
            Step.ANSWERED,
            Stage.SEND,
            claim,
            answer_id=answer.answer_id,
            seconds=waited,
            outcome=answer.outcome.value,
            source=answer.source.value,
        )

    def _refuse(
        self,
        claim: Claim,
        message_type: MessageType,
        issues: list[Issue],
        reason: str = "modification-refused",
    ) -> None:
        """Refused by the adapter itself (its role, or a batch's judgement, says why): never
        sent, answered here."""
        answer = made_here(
            event_id=claim.event_id,
            event_code=claim.event_code,
            message_id=claim.message_id,
            outcome=Outcome.REFUSED,
            reason=reason,
            issues=issues,
            created_at=self._clock.now(),
        )
        self._metrics.sends.labels(claim.event_code, "refused").inc()
        self._record(claim, message_type, answer)

    def _retry_later(self, claim: Claim, error: str) -> None:
        now = self._clock.now()
        if self._breaker.state is not BreakerState.CLOSED:
            # The breaker has recognised an outage: this attempt is not the message's fault,
            # so it is given back and the message waits for the breaker, not for a backoff.
            self._store.schedule_retry(claim, error, now, now, count=False)
            self._log_retry(claim, error, now, counted=False)
            return
        failing_since = claim.failing_since or now
        if claim.attempts >= self._policy.max_attempts:
            self._dead(claim, f"gave up after {claim.attempts} attempts: {error}", "attempts")
        elif (now - failing_since).total_seconds() >= self._policy.max_age_seconds:
            self._dead(claim, f"gave up after failing for too long: {error}", "age")
        else:
            at = now + timedelta(seconds=self._policy.delay(claim.attempts))
            self._store.schedule_retry(claim, error, at, now)
            self._metrics.retries.inc()
            self._log_retry(claim, error, at)

    @staticmethod
    def _log_retry(claim: Claim, error: str, at: datetime, *, counted: bool = True) -> None:
        # An attempt given back to an open breaker is not counted: it says so.
        claim_step(
            Step.RETRIED,
            Stage.SEND,
            claim,
            attempt=claim.attempts,
            counted=counted,
            next_try=at.isoformat(timespec="milliseconds"),
            error=error,
        )

    def _dead(self, claim: Claim, error: str, reason: str) -> None:
        self._store.dead_letter(claim, error, self._clock.now())
        self._metrics.dead_lettered.labels(reason).inc()
        claim_step(
            Step.DEAD_LETTERED,
            Stage.SEND,
            claim,
            attempt=claim.attempts,
            reason=reason,
            error=error,
        )
