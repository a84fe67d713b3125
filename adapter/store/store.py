"""The store: every state change of the flow, each one SQL transaction.

The store is where the guarantees live. A dossier's order is ``orderings.next_sequence``: only
the message with that number may be sent, and only while it is ``pending``. A message is
claimed with a compare-and-set that bumps its fencing token, so a finish from a process whose
lease expired changes nothing. No row lock is ever held across a SOAP call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, update
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, aliased, sessionmaker

from adapter.errors import SealError, StoreError, StoreUnavailable, UnstorableData
from adapter.store.attempts import AttemptKind, record_attempt
from adapter.store.database import READ_ONLY
from adapter.store.deadlines import DeadlineCounts, apply_periods
from adapter.store.deadlines import count as count_deadlines
from adapter.store.group_commit import GroupCommit
from adapter.store.parts import Part, load_parts
from adapter.store.records import (
    Claim,
    IngestResult,
    MessageState,
    MessageView,
    NewEvent,
    PreparedAnswer,
    StoreStats,
)
from adapter.store.rows import (
    PAYLOAD,
    add_answer,
    add_answers,
    apply_changes,
    claim_rows,
    early_decision,
    insert_events,
    message_view,
    prepared_answer,
)
from adapter.store.sealing import Sealer
from adapter.store.sequencing import advance, advance_many, due_ids
from adapter.store.tables import (
    ANSWERS,
    INSTANCES,
    MESSAGES,
    AnswerRow,
    EventRow,
    MessageRow,
    OrderingRow,
)
from adapter.store.write_watch import WriteWatch
from mappings.deadline import Days
from mappings.model import Outcome
from mappings.role import ApplicationChange, Role

T = TypeVar("T")
log = logging.getLogger(__name__)


def translated(exc: SQLAlchemyError | UnicodeError) -> StoreError:
    """The store's error for an exception raised by SQLAlchemy or the database driver.

    Permanent (``UnstorableData``): the values themselves are refused (``DataError``: a NUL
    byte in PostgreSQL text, a value too long; an encoding error raised by the driver).
    Everything else the database says is taken as passing (``StoreUnavailable``): lost
    connections, timeouts, locks, a full disk. The engine hides statement parameters
    (``hide_parameters``), so the text carries no event data.
    """
    if isinstance(exc, DataError | UnicodeError):
        return UnstorableData(f"the store refused the data: {describe(exc)}")
    return StoreUnavailable(f"store failed: {describe(exc)}")


def describe(exc: BaseException) -> str:
    """An error as operators may read it: its kind and where, never the values involved.

    PostgreSQL's messages quote values ("Key (event_id)=(…) already exists", "invalid input
    syntax for type integer: …"), so for it only the SQLSTATE, the driver's error class and
    the table and constraint are kept. SQLite's messages name columns, not values. An
    encoding error says which codec failed, not on what.
    """
    if isinstance(exc, UnicodeError):
        return f"{exc.__class__.__name__} ({getattr(exc, 'reason', 'encoding')})"
    orig = getattr(exc, "orig", None)
    diag = getattr(orig, "diag", None)
    if diag is not None:
        where = ", ".join(
            f"{label} {value}"
            for label, value in (("table", diag.table_name), ("constraint", diag.constraint_name))
            if value
        )
        detail = f"SQLSTATE {diag.sqlstate}, {orig.__class__.__name__}" + (
            f", {where}" if where else ""
        )
        return f"{exc.__class__.__name__} ({detail})"
    if orig is not None:
        return f"{exc.__class__.__name__} ({orig})"
    return exc.__class__.__name__


@dataclass(frozen=True)
class _AnswerToRecord:
    claim: Claim
    answer: PreparedAnswer
    now: datetime
    role: Role
    effect: Effect | None


Effect = Callable[[Connection], None]
"""More writes of a message type that go with recording its answer, in the same transaction
(an invoice batch's ledger)."""


class Store:
    """Transactions over the store's tables; thread-safe (one connection per call).

    ``sealer`` seals every event payload and answer body written and opens every one read
    (``adapter.store.sealing``): the rest of the engine sees plain text, the tables none.
    """

    def __init__(self, engine: Engine, *, sealer: Sealer) -> None:
        self._engine = engine
        self._sealer = sealer
        self._unreadable_answers: set[str] = set()
        """Answers whose body did not open, left out of the outbox's reads (this process)."""
        self._reader = engine.execution_options(**{READ_ONLY: True})
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._reader_sessions = sessionmaker(self._reader, expire_on_commit=False)
        # SQLite has one writer at a time and its busy handler waits by sleeping (1, 2, 5 …
        # 100 ms) and unfairly: under contention some writers starve for seconds. This
        # process's writers queue on a lock here instead, and the next one starts the moment
        # the previous one commits (another process, the support CLI say, still meets
        # SQLite's own lock).
        self._write_lock: AbstractContextManager[object] = (
            threading.Lock() if engine.dialect.name == "sqlite" else nullcontext()
        )
        self._answers = GroupCommit(self.connection, self._record_answers)
        self.writes = WriteWatch()
        """How write transactions fare; readiness reads it (a full disk fails only writes)."""

    @property
    def sealer(self) -> Sealer:
        """Seals and opens the store's personal values (support and the rekey use it too)."""
        return self._sealer

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for health checks and tests)."""
        return self._engine

    @contextmanager
    def connection(self, *, read_only: bool = False) -> Iterator[Connection]:
        """One connection in one transaction, for Core statements (the hot paths).

        ``read_only`` transactions must not write (on SQLite they take no write lock).
        Errors are translated (``translated``), except ``IntegrityError``, which passes
        through untranslated for the callers that retry on it.
        """
        engine = self._reader if read_only else self._engine
        with (
            self._watched(read_only),
            self._translated(),
            self._writing(read_only),
            engine.begin() as connection,
        ):
            yield connection

    @contextmanager
    def transaction(self, *, read_only: bool = False) -> Iterator[Session]:
        """One ORM session in one transaction (support, rare paths); errors as ``connection``."""
        sessions = self._reader_sessions if read_only else self._sessions
        with (
            self._watched(read_only),
            self._translated(),
            self._writing(read_only),
            sessions() as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def _watched(self, read_only: bool) -> Iterator[None]:
        if read_only:
            yield
            return
        try:
            yield
        except StoreUnavailable as exc:
            self.writes.failed(exc.__cause__.__class__.__name__ if exc.__cause__ else "error")
            raise
        self.writes.succeeded()

    def _writing(self, read_only: bool) -> AbstractContextManager[object]:
        return nullcontext() if read_only else self._write_lock

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except IntegrityError:
            raise
        except (SQLAlchemyError, UnicodeError) as exc:
            raise translated(exc) from exc

    def _retrying(self, work: Callable[[Connection], T]) -> T:
        # Two instances may create the same dossier row at once; the loser simply tries again.
        for attempt in range(3):
            try:
                with self.connection() as db:
                    return work(db)
            except IntegrityError as exc:
                if attempt == 2:
                    # Not a race any more: a constraint these values break every time.
                    raise UnstorableData(f"store conflict: {describe(exc)}") from exc
        raise AssertionError("unreachable")

    # ---- ingest -------------------------------------------------------------------------

    def ingest(self, event: NewEvent, now: datetime) -> IngestResult:
        """Store an event (and its message or its refusal) once; a known event id is a no-op."""
        return self.ingest_many([event], now)[0]

    def ingest_many(self, events: Sequence[NewEvent], now: datetime) -> list[IngestResult]:
        """Store a batch of events in one transaction (one commit, one fsync); results in order.

        Events of one dossier in the same batch see each other, as if stored one by one.
        """
        return self._retrying(lambda db: insert_events(db, events, now, self._sealer))

    def add_answers(self, answers: Sequence[PreparedAnswer], now: datetime) -> None:
        """Store answers that belong to no state change (a refused reuse of an event id)."""
        with self.connection() as db:
            add_answers(db, answers, now, self._sealer)

    # ---- dispatch -----------------------------------------------------------------------

    def due(self, now: datetime, limit: int) -> list[int]:
        """Ids of messages that may be sent now: dossier heads and look-ups, oldest due first."""
        with self.connection(read_only=True) as db:
            return due_ids(db, now, limit)

    def claim(self, message_pk: int, owner: str, now: datetime, lease: timedelta) -> Claim | None:
        """Mark one pending message ``sending`` under a lease (committed before any SOAP call).

        Returns None when another thread or process claimed it first.
        """
        with self.connection() as db:
            claims = claim_rows(db, [message_pk], owner, now, lease, self._sealer)
        return claims[0] if claims else None

    def claim_due(self, now: datetime, owner: str, lease: timedelta, limit: int) -> list[Claim]:
        """Find and claim up to ``limit`` due messages in one transaction (the dispatcher's way)."""
        # The dispatcher asks after every event and every answer, mostly to find nothing new:
        # a read needs no write lock (SQLite), so look first.
        with self.connection(read_only=True) as db:
            if not due_ids(db, now, 1):
                return []
        with self.connection() as db:
            ids = due_ids(db, now, limit)
            return claim_rows(db, ids, owner, now, lease, self._sealer) if ids else []

    def release_expired_leases(self, now: datetime) -> int:
        """Put in-doubt messages (``sending`` past their lease) back to ``pending``.

        They keep their message id, so the central application deduplicates the resend.
        """
        with self.connection() as db:
            result = db.execute(
                update(MESSAGES)
                .where(
                    MESSAGES.c.state == MessageState.SENDING.value,
                    MESSAGES.c.lease_expires_at < now,
                )
                .values(state=MessageState.PENDING.value, lease_owner=None, next_attempt_at=now)
            )
            return int(result.rowcount)

    def release_leases(self, owner: str | None, now: datetime) -> int:
        """At start: messages left ``sending`` by ``owner`` (None: by anyone) are in doubt.

        With SQLite only one instance can hold the file, so every ``sending`` row is an orphan
        of a previous run. They go back to ``pending`` with their message id unchanged.
        """
        conditions = [MESSAGES.c.state == MessageState.SENDING.value]
        if owner is not None:
            conditions.append(MESSAGES.c.lease_owner == owner)
        with self.connection() as db:
            result = db.execute(
                update(MESSAGES)
                .where(*conditions)
                .values(state=MessageState.PENDING.value, lease_owner=None, next_attempt_at=now)
            )
            return int(result.rowcount)

    # ---- outcomes of a send -------------------------------------------------------------

    def record_answer(
        self,
        claim: Claim,
        answer: PreparedAnswer,
        now: datetime,
        *,
        role: Role,
        effect: Effect | None = None,
    ) -> bool:
        """Store the answer to a claimed message; a final one lets the dossier move on.

        An in-beraad answer parks the message in ``waiting`` (no send slot held) until the
        decision arrives through the mailbox, unless that decision is already here (fetched
        while a resend of the message was under way). The message type's ``role`` says what
        the answer (or that decision) does to the dossier's application. Returns False if
        the claim was fenced off (another process holds the message now). Answers of
        concurrent senders are committed together (``GroupCommit``). ``effect`` runs in the
        same transaction when the answer is recorded.
        """
        return self._answers.submit(_AnswerToRecord(claim, answer, now, role, effect))

    def _record_answers(self, db: Connection, batch: list[_AnswerToRecord]) -> list[bool]:
        recorded: list[bool] = []
        answers: list[PreparedAnswer] = []
        keys: set[str] = set()
        changes: dict[str, ApplicationChange] = {}
        accepted: list[int] = []
        for item in batch:
            decision = item.answer
            if not item.answer.final:
                decision = early_decision(db, item.claim, self._sealer) or item.answer
            state = MessageState.DONE if decision.final else MessageState.WAITING
            finished = self._finish(
                db, item.claim, item.now, state=state.value, outcome=decision.outcome.value
            )
            recorded.append(finished)
            if not finished:
                continue
            if item.effect is not None:
                item.effect(db)
            if decision is item.answer:
                # An "in beraad" answer whose decision is already stored (the mailbox was
                # quicker than this Submit's reply) would reach the EPD after that decision.
                answers.append(item.answer)
            key = item.claim.ordering_key
            if key is None:
                continue
            # A dossier whose head is now waiting does not move; it learns its answer.
            keys.add(key)
            change = item.role.change(decision.outcome, decision.vsb_reference, decision.issues)
            if change is not None:
                changes[key] = change
            if decision.outcome is Outcome.ACCEPTED:
                accepted.append(item.claim.id)
        now = max(item.now for item in batch)
        add_answers(db, answers, now, self._sealer)
        apply_changes(db, changes, now)
        apply_periods(db, accepted, now)
        advance_many(db, keys, now)
        return recorded

    def schedule_retry(
        self, claim: Claim, error: str, at: datetime, now: datetime, *, count: bool = True
    ) -> bool:
        """Put a message back to ``pending`` until ``at`` after a transient failure.

        With ``count`` False the attempt is given back: it was spent on an outage the circuit
        breaker has recognised (the probe, or a send that opened the breaker).
        """
        with self.connection() as db:
            finished = self._finish(
                db,
                claim,
                now,
                state=MessageState.PENDING.value,
                next_attempt_at=at,
                last_error=error,
                # An outage's failures do not start the age clock; the breaker accounts for them.
                failing_since=claim.failing_since or (now if count else None),
                attempts=claim.attempts if count else claim.attempts - 1,
            )
            if finished:  # every try kept for support (vsb-adapter show), not only the last
                kind = AttemptKind.RETRY if count else AttemptKind.OUTAGE
                record_attempt(db, claim.message_id, now, kind, claim.attempts, error)
            return finished

    def exclude_outage(self, seconds: float, now: datetime) -> int:
        """Move failing messages' ``failing_since`` later by an outage the breaker absorbed.

        Retry age caps then leave the time the central application was down out. Only
        messages that failed before the breaker opened have a ``failing_since`` (failures
        during the outage do not set it); they are few. Never moved past ``now``: with several
        instances each one's breaker reports the same outage.
        """
        shift = timedelta(seconds=seconds)
        with self.transaction() as session:
            rows = session.scalars(
                select(MessageRow).where(
                    MessageRow.state == MessageState.PENDING.value,
                    MessageRow.failing_since.is_not(None),
                )
            ).all()
            for row in rows:
                assert row.failing_since is not None
                row.failing_since = min(row.failing_since + shift, now)
            return len(rows)

    def dead_letter(self, claim: Claim, error: str, now: datetime) -> bool:
        """Make a message a dead letter: it blocks its dossier until replayed or discarded."""
        with self.connection() as db:
            finished = self._finish(db, claim, now, state=MessageState.DEAD.value, last_error=error)
            if finished:
                record_attempt(db, claim.message_id, now, AttemptKind.DEAD, claim.attempts, error)
            return finished

    def _finish(self, db: Connection, claim: Claim, now: datetime, **values: object) -> bool:
        result = db.execute(
            update(MESSAGES)
            .where(
                MESSAGES.c.id == claim.id,
                MESSAGES.c.fence == claim.fence,
                MESSAGES.c.state == MessageState.SENDING.value,
            )
            .values(lease_owner=None, lease_expires_at=None, updated_at=now, **values)
        )
        return bool(result.rowcount == 1)

    # ---- later answers (mailbox) --------------------------------------------------------

    def message(self, message_id: str) -> MessageView | None:
        """A message by its (current or replaced) message id."""
        with self.transaction(read_only=True) as session:
            row = session.scalar(
                select(MessageRow).where(
                    or_(
                        MessageRow.message_id == message_id,
                        MessageRow.replaces_message_id == message_id,
                    )
                )
            )
            return None if row is None else message_view(row)

    def event_payload(self, event_id: str) -> str | None:
        """The stored body of an event, opened (None if there is no such event).

        ``SealError`` if it cannot be opened (its key is not in the keyring, or it was
        altered or moved).
        """
        with self.transaction(read_only=True) as session:
            row = session.get(EventRow, event_id)
            if row is None:
                return None
            return self._sealer.open(row.payload, PAYLOAD, event_id)

    def parts(self, event_ids: Sequence[str]) -> dict[str, Part]:
        """The stored events a batch lists, by event id (``adapter.store.parts``)."""
        with self.connection(read_only=True) as db:
            return load_parts(db, self._sealer, event_ids)

    def record_later_answer(
        self,
        message_id: str,
        answer: PreparedAnswer,
        now: datetime,
        *,
        role: Role,
        effect: Effect | None = None,
    ) -> bool:
        """Store an answer fetched from the mailbox; returns False if it was stored before.

        A final answer to a ``waiting`` message ends it, does to the dossier's application
        what ``role`` says, and lets the dossier move on. A final answer to a message not yet
        ``waiting`` (its in-beraad answer was lost in a crash and it is being resent) is
        kept; ``record_answer`` applies it when the resend returns. ``effect`` runs in the
        same transaction whenever the answer is new, whatever the message's state.
        """
        with self.transaction() as session:
            if session.get(AnswerRow, answer.answer_id) is not None:
                return False
            db = session.connection()
            add_answer(db, answer, now, self._sealer)
            if effect is not None:
                effect(db)
            row = session.scalar(select(MessageRow).where(MessageRow.message_id == message_id))
            if row is None or row.state != MessageState.WAITING.value or not answer.final:
                return True
            row.state = MessageState.DONE.value
            row.outcome = answer.outcome.value
            row.updated_at = now
            if row.ordering_key is not None:
                session.flush()  # advance reads the message's new state in SQL
                change = role.change(answer.outcome, answer.vsb_reference, answer.issues)
                if change is not None:
                    apply_changes(db, {row.ordering_key: change}, now)
                if answer.outcome is Outcome.ACCEPTED:
                    apply_periods(db, [row.id], now)
                advance(db, row.ordering_key, now)
            return True

    # ---- answers outbox -----------------------------------------------------------------

    def unpublished_answers(self, limit: int) -> list[PreparedAnswer]:
        """Answers not yet confirmed by RabbitMQ, oldest first.

        An answer whose body does not open is logged once (answer id and reason), left
        unpublished and skipped from then on in this process, so it cannot hold up the
        others; after the keyring is fixed, a restart publishes it.
        """
        with self.connection(read_only=True) as db:
            statement = select(ANSWERS).where(ANSWERS.c.published_at.is_(None))
            if self._unreadable_answers:
                statement = statement.where(
                    ANSWERS.c.answer_id.not_in(sorted(self._unreadable_answers))
                )
            rows = db.execute(statement.order_by(ANSWERS.c.created_at).limit(limit)).all()
        answers: list[PreparedAnswer] = []
        for row in rows:
            try:
                answers.append(prepared_answer(row, self._sealer))
            except SealError as exc:
                self._unreadable_answers.add(row.answer_id)
                log.error("answer %s cannot be published: %s", row.answer_id, exc)
        return answers

    def mark_published(self, answer_ids: Sequence[str], now: datetime) -> None:
        """Record that RabbitMQ confirmed these answers."""
        if not answer_ids:
            return
        with self.connection() as db:
            db.execute(
                update(ANSWERS).where(ANSWERS.c.answer_id.in_(answer_ids)).values(published_at=now)
            )

    def published(self, answer_ids: Sequence[str]) -> set[str]:
        """Which of these answers RabbitMQ has confirmed."""
        with self.connection(read_only=True) as db:
            return set(
                db.scalars(
                    select(ANSWERS.c.answer_id).where(
                        ANSWERS.c.answer_id.in_(answer_ids), ANSWERS.c.published_at.is_not(None)
                    )
                )
            )

    def mark_confirmed(self, answer_ids: Sequence[str], now: datetime) -> None:
        """Record that the central application was told these mailbox answers are safe here."""
        with self.connection() as db:
            db.execute(
                update(ANSWERS).where(ANSWERS.c.answer_id.in_(answer_ids)).values(confirmed_at=now)
            )

    # ---- figures ------------------------------------------------------------------------

    def heartbeat(self, instance_id: str, now: datetime) -> None:
        """Record that ``instance_id`` is alive: a small write that proves the store takes them."""
        with self.connection() as db:
            updated = db.execute(
                update(INSTANCES).where(INSTANCES.c.instance_id == instance_id).values(seen_at=now)
            ).rowcount
            if not updated:
                db.execute(insert(INSTANCES).values(instance_id=instance_id, seen_at=now))

    def stats(self, now: datetime, gap_alert: timedelta) -> StoreStats:
        """Counts for the metrics (a handful of aggregate queries)."""
        with self.transaction(read_only=True) as session:
            by_state = {
                state: int(count)
                for state, count in session.execute(
                    select(MessageRow.state, func.count()).group_by(MessageRow.state)
                )
            }
            head_states = dict(
                session.execute(
                    select(MessageRow.state, func.count())
                    .join(
                        OrderingRow,
                        and_(
                            OrderingRow.key == MessageRow.ordering_key,
                            OrderingRow.next_sequence == MessageRow.sequence,
                        ),
                    )
                    .where(MessageRow.ordered.is_(True))
                    .group_by(MessageRow.state)
                ).all()
            )
            oldest = session.scalar(
                select(func.min(MessageRow.created_at)).where(
                    MessageRow.state.in_([MessageState.PENDING.value, MessageState.SENDING.value])
                )
            )
            gaps = self._gaps(session)
            unpublished = session.scalar(
                select(func.count()).select_from(AnswerRow).where(AnswerRow.published_at.is_(None))
            )
        return StoreStats(
            by_state=by_state,
            blocked_dossiers=int(head_states.get(MessageState.DEAD.value, 0)),
            waiting_dossiers=int(head_states.get(MessageState.WAITING.value, 0)),
            gapped_dossiers=len(gaps),
            stuck_dossiers=sum(1 for since in gaps.values() if now - since >= gap_alert),
            oldest_pending_seconds=(now - oldest).total_seconds() if oldest else 0.0,
            unpublished_answers=int(unpublished or 0),
        )

    def deadlines(self, days: Days) -> DeadlineCounts:
        """Messages not yet received by the central application, near or past their domain
        deadline on ``days.today`` (``adapter.store.deadlines``)."""
        with self.connection(read_only=True) as db:
            return count_deadlines(db, days)

    def _gaps(self, session: Session) -> dict[str, datetime]:
        """Dossiers whose next sequence number is missing while later ones wait, and since when."""
        head = aliased(MessageRow)
        head_exists = (
            select(head.id)
            .where(head.ordering_key == OrderingRow.key, head.sequence == OrderingRow.next_sequence)
            .correlate(OrderingRow)
            .exists()
        )
        # Headless dossiers first (one index probe each), then their waiting messages: the
        # other way round the planner probes every stored message of every dossier.
        headless = select(OrderingRow.key, OrderingRow.next_sequence).where(~head_exists).cte()
        rows = session.execute(
            select(headless.c.key, func.min(MessageRow.created_at))
            .join(MessageRow, MessageRow.ordering_key == headless.c.key)
            .where(MessageRow.sequence > headless.c.next_sequence)
            .group_by(headless.c.key)
        ).all()
        return {key: since for key, since in rows}
