"""Rows in and out: inserting events and answers, claiming messages, rows as plain values.

The store's edge: enums become strings and issues JSON here, and back again, nowhere else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from adapter.errors import SealError
from adapter.store.records import (
    AnswerSource,
    Claim,
    IngestResult,
    MessageState,
    MessageView,
    NewEvent,
    PreparedAnswer,
)
from adapter.store.sealing import Sealer
from adapter.store.sequencing import advance_many, ordering_heads
from adapter.store.tables import (
    ANSWERS,
    APPLICATIONS,
    EVENTS,
    MESSAGES,
    ORDERINGS,
    AnswerRow,
    MessageRow,
)
from mappings.model import Issue, Outcome
from mappings.role import Application, ApplicationChange

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
PAYLOAD = "events.payload"
"""Associated data of a sealed event payload (with the event id)."""
BODY = "answers.body"
"""Associated data of a sealed answer body (with the answer id)."""


def storable(text: str) -> str:
    """``text`` as both stores can hold it: NUL and unpaired surrogates become U+FFFD.

    PostgreSQL refuses NUL in text, and neither store can encode a lone surrogate. Only
    events the adapter refuses can hold either (a body that is not JSON, a string with a
    lone surrogate): what is stored of them is their text with those characters replaced.
    """
    return _UNSTORABLE.sub("\ufffd", text) if _UNSTORABLE.search(text) else text


def issues_json(issues: Sequence[Issue]) -> str | None:
    """Issues as stored JSON (their texts carry no personal data)."""
    if not issues:
        return None
    return json.dumps(
        [
            {"code": i.code, "text": i.text, "expression": i.expression, "level": i.level}
            for i in issues
        ]
    )


def issues_of(text: str | None) -> tuple[Issue, ...]:
    """The inverse of ``issues_json``."""
    if not text:
        return ()
    return tuple(Issue(**item) for item in json.loads(text))


def message_view(row: MessageRow) -> MessageView:
    """A message row as support staff see it."""
    return MessageView(
        message_id=row.message_id,
        event_id=row.event_id,
        event_code=row.event_code,
        dossier_key=row.ordering_key,
        sequence=row.sequence,
        state=MessageState(row.state),
        outcome=Outcome(row.outcome) if row.outcome is not None else None,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        updated_at=row.updated_at,
        replaces_message_id=row.replaces_message_id,
    )


def prepared_answer(
    row: AnswerRow | Row[Any], sealer: Sealer, *, with_body: bool = True
) -> PreparedAnswer:
    """An answer row as a value, its body opened (``SealError`` if it cannot be).

    Without ``with_body`` the body is left empty and not opened: for callers that need the
    outcome only (an early decision), so they neither pay for nor fail on the body.
    """
    return PreparedAnswer(
        answer_id=row.answer_id,
        event_id=row.event_id,
        event_code=row.event_code,
        message_id=row.message_id,
        outcome=Outcome(row.outcome),
        source=AnswerSource(row.source),
        body=sealer.open(row.body, BODY, row.answer_id) if with_body else "",
        vsb_reference=row.vsb_reference,
        issues=issues_of(row.issues),
    )


def add_answer(db: Connection, answer: PreparedAnswer, now: datetime, sealer: Sealer) -> None:
    """Insert an answer unless its id is stored already (a resend's answer comes again)."""
    add_answers(db, [answer], now, sealer)


def add_answers(
    db: Connection, answers: Sequence[PreparedAnswer], now: datetime, sealer: Sealer
) -> None:
    """Insert answers, ignoring those whose id is stored already, in one statement.

    Every answer body the store holds is written here, sealed (bodies quote the patient).
    """
    if not answers:
        return
    rows = [
        {
            "answer_id": answer.answer_id,
            "event_id": answer.event_id,
            "event_code": answer.event_code,
            "message_id": answer.message_id,
            "outcome": answer.outcome.value,
            "source": answer.source.value,
            "body": sealer.seal(storable(answer.body), BODY, answer.answer_id),
            "vsb_reference": answer.vsb_reference,
            "issues": issues_json(answer.issues),
            "created_at": now,
        }
        for answer in answers
    ]
    # Ignoring a duplicate in SQL instead of a look-up and an insert.
    insert = postgresql_insert if db.dialect.name == "postgresql" else sqlite_insert
    db.execute(insert(ANSWERS).on_conflict_do_nothing(), rows)


def insert_events(
    db: Connection, events: Sequence[NewEvent], now: datetime, sealer: Sealer
) -> list[IngestResult]:
    """Insert a batch of events, their messages or refusals; the checks ``Store.ingest`` promises.

    A handful of statements for the whole batch (the ingest runs for every event): the known
    ids, the taken numbers and the dossiers' heads are read once, the checks run here, and
    the rows go in as one multi-row insert per table. Events of one dossier in the batch see
    each other, as if they had been inserted one by one.
    """
    known: dict[str, str | None] = {
        event_id: digest
        for event_id, digest in db.execute(
            select(EVENTS.c.event_id, EVENTS.c.body_digest).where(
                EVENTS.c.event_id.in_({e.event_id for e in events})
            )
        )
    }
    numbered = [e for e in events if e.ordering_key is not None and e.sequence is not None]
    heads = ordering_heads(db, {e.ordering_key for e in numbered if e.ordering_key}, now)
    taken: set[tuple[str, int]] = set()
    if numbered:
        taken = {
            (key, sequence)
            for key, sequence in db.execute(
                select(MESSAGES.c.ordering_key, MESSAGES.c.sequence).where(
                    MESSAGES.c.ordering_key.in_(list(heads)),
                    MESSAGES.c.sequence.in_({e.sequence for e in numbered}),
                )
            )
        }
    results: list[IngestResult] = []
    event_rows: list[dict[str, object]] = []
    message_rows: list[dict[str, object]] = []
    answers: list[PreparedAnswer] = []
    to_advance: set[str] = set()
    for event in events:
        key, sequence = event.ordering_key, event.sequence
        if event.event_id in known:
            digest = known[event.event_id]
            # An event stored before digests were kept is taken for a redelivery.
            same = digest is None or digest == event.body_digest
            results.append(IngestResult.DUPLICATE if same else IngestResult.CONFLICT)
            continue
        if key is not None and sequence is not None:
            if (key, sequence) in taken:
                results.append(IngestResult.SEQUENCE_TAKEN)
                continue
            if sequence < heads[key]:
                results.append(IngestResult.SEQUENCE_PASSED)
                continue
            taken.add((key, sequence))
        known[event.event_id] = event.body_digest
        event_rows.append(_event_row(event, now, sealer))
        if event.valid or (key is not None and sequence is not None):
            message_rows.append(_message_row(event, now))
        if event.answer is not None:
            answers.append(event.answer)
        if key is not None and (not event.ordered or not event.valid):
            # A number that is never sent (a look-up, an invalid event) may move its dossier
            # at once; a pending message moves it when it is finished.
            to_advance.add(key)
        results.append(IngestResult.STORED)
    if event_rows:
        db.execute(insert(EVENTS), event_rows)
    if message_rows:
        db.execute(insert(MESSAGES), message_rows)
    add_answers(db, answers, now, sealer)
    advance_many(db, to_advance, now)
    return results


def _event_row(event: NewEvent, now: datetime, sealer: Sealer) -> dict[str, object]:
    return {
        "event_id": event.event_id,
        "received_at": now,
        "event_code": event.event_code,
        "dossier_id": event.dossier_id,
        "sequence": event.sequence,
        "valid": event.valid,
        "issues": issues_json(event.issues),
        "payload": seal_payload(sealer, event.event_id, event.payload),
        "body_digest": event.body_digest,
    }


def seal_payload(sealer: Sealer, event_id: str, payload: str) -> str:
    """An event's payload as stored: made storable, then sealed to its event id.

    Every writer of ``events.payload`` (ingest, a corrected replay, the rekey) goes through
    here, so no payload reaches the store in clear.
    """
    return sealer.seal(storable(payload), PAYLOAD, event_id)


def _message_row(event: NewEvent, now: datetime) -> dict[str, object]:
    return {
        "message_id": event.message_id or f"invalid-{event.event_id}",
        "event_id": event.event_id,
        "event_code": event.event_code or "",
        "ordering_key": event.ordering_key,
        "sequence": event.sequence,
        "ordered": event.ordered and event.valid,
        "state": _first_state(event).value,
        "outcome": None if event.valid else Outcome.INVALID.value,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
        "next_attempt_at": now,
        "fence": 0,
        "deadline_rule": event.dates.rule,
        "due_on": event.dates.due_on,
        "period_effect": event.dates.period,
        "period_date": event.dates.period_date,
    }


def _first_state(event: NewEvent) -> MessageState:
    if not event.valid:
        return MessageState.DONE
    return MessageState.PART if event.part else MessageState.PENDING


def claim_rows(
    db: Connection,
    ids: Sequence[int],
    owner: str,
    now: datetime,
    lease: timedelta,
    sealer: Sealer,
) -> list[Claim]:
    """Compare-and-set ``pending`` to ``sending`` and read back what this owner won.

    An ordered message is won only if it is still its ordering key's head when claimed:
    ``ids`` were picked earlier (another statement, or another transaction for ``Store.claim``)
    and a restore may have moved the head back since (``lock_heads``). A payload that cannot
    be opened does not fail the batch: its claim carries the reason (``Claim.unreadable``) and
    an empty payload, and the sender makes it a dead letter.
    """
    expires = now + lease
    lock_heads(db, ids)
    m, o = MESSAGES.c, ORDERINGS.c
    still_head = (
        select(o.key).where(o.key == m.ordering_key, o.next_sequence == m.sequence).exists()
    )
    db.execute(
        update(MESSAGES)
        .where(
            m.id.in_(ids),
            m.state == MessageState.PENDING.value,
            or_(m.ordered.is_(False), still_head),
        )
        .values(
            state=MessageState.SENDING.value,
            lease_owner=owner,
            lease_expires_at=expires,
            fence=MESSAGES.c.fence + 1,
            attempts=MESSAGES.c.attempts + 1,
            updated_at=now,
        )
    )
    rows = db.execute(
        select(
            m.id,
            m.message_id,
            m.replaces_message_id,
            m.event_id,
            m.event_code,
            m.ordering_key,
            m.sequence,
            m.fence,
            m.attempts,
            m.created_at,
            EVENTS.c.payload,
            m.failing_since,
            APPLICATIONS.c.outcome.label("application_outcome"),
            APPLICATIONS.c.vsb_reference,
            APPLICATIONS.c.issues,
            APPLICATIONS.c.closed,
        )
        .join(EVENTS, EVENTS.c.event_id == m.event_id)
        .outerjoin(APPLICATIONS, APPLICATIONS.c.dossier_key == m.ordering_key)
        .where(
            m.id.in_(ids),
            m.state == MessageState.SENDING.value,
            m.lease_owner == owner,
            m.lease_expires_at == expires,
        )
        .order_by(m.next_attempt_at, m.id)
    ).all()
    return [_claim(row, sealer) for row in rows]


def lock_heads(db: Connection, ids: Sequence[int]) -> None:
    """Share-lock the ordering rows of the ordered messages in ``ids`` until the commit.

    On PostgreSQL (READ COMMITTED) the claim's ``UPDATE`` re-checks only the message rows it
    targets against their newest versions; its head check reads ``orderings`` in the
    statement's snapshot. Without this lock a restore committing while the ``UPDATE`` runs
    goes unseen, and a restore that checks the dossier while the claim is not yet committed
    sees the later message untried. The share lock waits for a restore (``FOR UPDATE``) to
    commit, so the ``UPDATE``'s later snapshot sees the moved head, and keeps restores (and
    every other mover of a head) out until this claim commits. Claims do not block each
    other (shared), and the rows are locked in key order as ``advance_many`` locks them, so
    they cannot deadlock with it. SQLite has one writer at a time (``BEGIN IMMEDIATE``):
    nothing can move a head during the transaction, so the statement is left out there.
    """
    if db.dialect.name == "sqlite":
        return
    m, o = MESSAGES.c, ORDERINGS.c
    keys = select(m.ordering_key).where(m.id.in_(ids), m.ordered.is_(True))
    db.execute(select(o.key).where(o.key.in_(keys)).order_by(o.key).with_for_update(read=True))


def _claim(row: Any, sealer: Sealer) -> Claim:
    values = row._asdict()
    try:
        values["payload"] = sealer.open(values["payload"], PAYLOAD, values["event_id"])
        values["unreadable"] = None
    except SealError as exc:
        values["payload"], values["unreadable"] = "", str(exc)
    outcome = values.pop("application_outcome")
    reference, issues, closed = (
        values.pop("vsb_reference"),
        values.pop("issues"),
        values.pop("closed"),
    )
    application = None
    if outcome is not None:
        application = Application(Outcome(outcome), reference, issues_of(issues), bool(closed))
    return Claim(**values, application=application)


def apply_changes(db: Connection, changes: Mapping[str, ApplicationChange], now: datetime) -> None:
    """What answers did to their dossiers' applications: set (opened, decided) or closed.

    Set: inserted, or updated keeping the known VSB reference when the answer has none (an
    in-beraad answer, then its decision). Closed: the application stays, marked closed.
    """
    opened = [
        {
            "dossier_key": key,
            "outcome": change.outcome.value,
            "vsb_reference": change.vsb_reference or None,
            "issues": issues_json(change.issues),
            "closed": False,
            "updated_at": now,
        }
        for key, change in sorted(changes.items())
        if change.outcome is not None
    ]
    if opened:
        upsert = postgresql_insert if db.dialect.name == "postgresql" else sqlite_insert
        statement = upsert(APPLICATIONS)
        db.execute(
            statement.on_conflict_do_update(
                index_elements=[APPLICATIONS.c.dossier_key],
                set_={
                    "outcome": statement.excluded.outcome,
                    "issues": statement.excluded.issues,
                    "updated_at": statement.excluded.updated_at,
                    "vsb_reference": func.coalesce(
                        statement.excluded.vsb_reference, APPLICATIONS.c.vsb_reference
                    ),
                },
            ),
            opened,
        )
    closed = sorted(key for key, change in changes.items() if change.close)
    if closed:
        db.execute(
            update(APPLICATIONS)
            .where(APPLICATIONS.c.dossier_key.in_(closed))
            .values(closed=True, updated_at=now)
        )


def early_decision(db: Connection, claim: Claim, sealer: Sealer) -> PreparedAnswer | None:
    """The latest final mailbox answer already stored for the claimed message, if any."""
    ids = [claim.message_id, *([claim.replaces_message_id] if claim.replaces_message_id else [])]
    row = db.execute(
        select(ANSWERS)
        .where(
            ANSWERS.c.message_id.in_(ids),
            ANSWERS.c.source == AnswerSource.MAILBOX.value,
            ANSWERS.c.outcome != Outcome.IN_BERAAD.value,
        )
        .order_by(ANSWERS.c.created_at.desc())
    ).first()
    # Only the decision's outcome, reference and issues are applied; its body is published
    # from its own row, so it is not opened here.
    return None if row is None else prepared_answer(row, sealer, with_body=False)
