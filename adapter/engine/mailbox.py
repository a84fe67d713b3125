"""Where later answers come in: poll the central application's mailbox, store, publish, confirm.

A fetched answer is confirmed to the central application only after it is stored and RabbitMQ
confirmed its publish, so a crash anywhere in between fetches it again instead of losing it
(the store ignores an answer id it already has).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable

from lxml import etree

from adapter import crashpoints
from adapter.central import CentralTransport
from adapter.clock import Clock
from adapter.crashpoints import CrashPoint
from adapter.engine.answers import classified, from_central
from adapter.engine.batches import BatchAnswers
from adapter.errors import DeliveryError, SealError, StoreError
from adapter.failure_log import FailureLog
from adapter.lifecycle import Stage, Step, step
from adapter.store import AnswerSource, Store
from mappings import MESSAGE_TYPES, parse_answer
from mappings.errors import AnswerFormatError
from mappings.message_type import Carriage
from monitoring import Metrics

log = logging.getLogger(__name__)


class MailboxPoller:
    """Fetches later answers every ``poll_seconds`` on its own thread."""

    def __init__(
        self,
        store: Store,
        central: CentralTransport,
        nihdi: str,
        clock: Clock,
        metrics: Metrics,
        *,
        on_stored: Callable[[], None],
        poll_seconds: float = 5.0,
        batch: int = 50,
        publish_wait_seconds: float = 10.0,
        on_turn: Callable[[float], None] = lambda _within: None,
    ) -> None:
        self._store = store
        self._central = central
        self._nihdi = nihdi
        self._clock = clock
        self._metrics = metrics
        self._on_stored = on_stored
        self._poll = poll_seconds
        self._batch = batch
        self._publish_wait = publish_wait_seconds
        self._on_turn = on_turn
        self._batches = BatchAnswers(store, clock)
        self._failures = FailureLog(log, "polling the mailbox", clock)
        self._reported: set[str] = set()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self.run, name="mailbox", daemon=True)

    def start(self) -> None:
        """Start polling in a background thread."""
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop polling."""
        self._stopping.set()
        self._thread.join(timeout)

    def run(self) -> None:
        """Poll until stopped; a full batch is followed at once by the next one."""
        while not self._stopping.is_set():
            # A turn is two calls to the central application (each within its HTTP timeout),
            # the wait for publication, and the poll interval.
            self._on_turn(self._poll + self._publish_wait + 120)
            try:
                fetched = self.poll_once()
                self._failures.succeeded()
            except (DeliveryError, StoreError) as exc:
                self._failures.failed(exc)
                if isinstance(exc, StoreError):
                    self._metrics.store_failures.labels("mailbox", "transient").inc()
                fetched = 0
            except Exception as exc:
                # Never end the thread: later answers would wait for a restart.
                log.exception("mailbox poll failed unexpectedly")
                self._failures.failed(exc)
                fetched = 0
            if fetched < self._batch:
                self._stopping.wait(self._poll)

    def poll_once(self) -> int:
        """Fetch, store, wait for publication, confirm; returns how many answers were fetched."""
        elements = self._central.fetch_answers(self._nihdi, self._batch)
        keep: list[str] = []
        for element in elements:
            try:
                answer = parse_answer(element)
            except AnswerFormatError as exc:
                self._report_once(
                    element, f"unreadable answer in the mailbox, left unconfirmed: {exc}"
                )
                continue
            message = self._store.message(answer.in_reply_to)
            if message is None:
                self._report_once(
                    element,
                    f"mailbox answer {answer.answer_id} is for unknown message"
                    f" {answer.in_reply_to}; left unconfirmed",
                )
                continue
            message_type = MESSAGE_TYPES[message.event_code]
            try:
                payload = (
                    self._store.event_payload(message.event_id)
                    if message_type.request.classify is not None
                    else None
                )
            except SealError as exc:
                # Its answer cannot be rendered without the event: it stays in the central
                # mailbox, fetched again once the keyring is fixed.
                self._report_once(
                    element, f"mailbox answer {answer.answer_id} left unconfirmed: {exc}"
                )
                continue
            effect = None
            if message_type.carriage is Carriage.BATCH:
                prepared, effect = self._batches.answered(
                    answer, message_type, event_id=message.event_id, source=AnswerSource.MAILBOX
                )
            else:
                prepared = from_central(
                    answer,
                    message_type,
                    event_id=message.event_id,
                    source=AnswerSource.MAILBOX,
                    classification=classified(message_type, payload),
                )
            new = self._store.record_later_answer(
                message.message_id,
                prepared,
                self._clock.now(),
                role=message_type.role,
                effect=effect,
            )
            if new:
                self._metrics.mailbox_answers.inc()
                step(
                    Step.ANSWERED,
                    Stage.MAILBOX,
                    event_id=message.event_id,
                    message_id=message.message_id,
                    answer_id=prepared.answer_id,
                    ordering_key=message.dossier_key,
                    event_code=message.event_code,
                    seconds=(self._clock.now() - message.created_at).total_seconds(),
                    outcome=prepared.outcome.value,
                    source=prepared.source.value,
                )
            keep.append(answer.answer_id)
        if keep:
            self._on_stored()
            self._confirm_when_published(keep)
        # Answers left unconfirmed come again: a full batch of them is no reason to poll again
        # at once, or an unreadable batch would be fetched in a tight loop.
        return len(keep)

    def _report_once(self, element: etree._Element, text: str) -> None:
        """Log a mailbox answer left unconfirmed the first time it is seen, not every poll."""
        digest = hashlib.sha256(etree.tostring(element)).hexdigest()
        if digest in self._reported:
            return
        if len(self._reported) > 10_000:
            self._reported.clear()  # bounded: at worst a line is logged once more
        self._reported.add(digest)
        log.error("%s", text)

    def _confirm_when_published(self, answer_ids: list[str]) -> None:
        deadline = time.monotonic() + self._publish_wait
        published: set[str] = set()
        while time.monotonic() < deadline and not self._stopping.is_set():
            published = self._store.published(answer_ids)
            if len(published) == len(answer_ids):
                break
            self._stopping.wait(0.05)
        if not published:
            return  # not published yet: the next poll fetches them again
        ids = sorted(published)
        crashpoints.reach(CrashPoint.AFTER_PUBLISH_BEFORE_CONFIRM)
        self._central.confirm_answers(self._nihdi, ids)
        self._store.mark_confirmed(ids, self._clock.now())
