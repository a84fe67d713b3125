"""The store's side of the domain deadlines (``mappings.deadline``).

Two halves: the accepted answers write what their messages do to the dossier's period
(``apply_periods``, in the answer's transaction), and the metrics count the messages still
on their way to the central application by how close their deadline is (``count``).

A message is on its way while ``pending`` (its turn, its retry, a gap before it),
``sending`` (in flight, or in doubt after a crash) or ``dead`` (blocking its dossier): the
central application has not received it. Once answered — even "in beraad" — it was
received, and no deadline of it can pass any more.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from sqlalchemy import Connection, func, select, update

from adapter.store.records import MessageState
from adapter.store.tables import APPLICATIONS, MESSAGES
from mappings.deadline import Days, DeadlineRule, PeriodEffect, due_for_change

ON_THE_WAY: Final = (MessageState.PENDING, MessageState.SENDING, MessageState.DEAD)
"""States of a message the central application has not received."""


def apply_periods(db: Connection, message_pks: Sequence[int], now: datetime) -> None:
    """What the accepted messages ``message_pks`` do to their dossiers' periods.

    In sequence order per dossier, so that a stop and its cancel accepted in one batch of
    answers leave the cancel's effect. The application row exists: an application's own
    answer created it just before, and a modification is refused without one.
    """
    if not message_pks:
        return
    m = MESSAGES.c
    rows = db.execute(
        select(m.ordering_key, m.period_effect, m.period_date)
        .where(m.id.in_(list(message_pks)), m.period_effect.is_not(None))
        .order_by(m.ordering_key, m.sequence)
    ).all()
    for key, effect, day in rows:
        values: dict[str, date | None] = {
            PeriodEffect.ENDS: {"period_ends_on": day},
            PeriodEffect.STOPS: {"stopped_on": day},
            PeriodEffect.RESUMES: {"stopped_on": None},
        }[PeriodEffect(effect)]
        db.execute(
            update(APPLICATIONS)
            .where(APPLICATIONS.c.dossier_key == key)
            .values(**values, updated_at=now)
        )


@dataclass(frozen=True)
class DeadlineCounts:
    """Messages on their way whose deadline is near (due within the horizon) or passed."""

    near: dict[DeadlineRule, int]
    passed: dict[DeadlineRule, int]


def count(db: Connection, days: Days) -> DeadlineCounts:
    """The messages on their way by rule, near or past their deadline on ``days.today``.

    Grouped by due day in SQL (a backlog of thousands of messages gives a handful of rows),
    judged here: the 5-day window's due day comes from the dossier's period, joined in.
    """
    m, a = MESSAGES.c, APPLICATIONS.c
    on_the_way = [state.value for state in ON_THE_WAY]
    rows = db.execute(
        select(m.deadline_rule, m.due_on, a.period_ends_on, a.stopped_on, func.count())
        .select_from(MESSAGES.outerjoin(APPLICATIONS, a.dossier_key == m.ordering_key))
        .where(m.deadline_rule.is_not(None), m.state.in_(on_the_way))
        .group_by(m.deadline_rule, m.due_on, a.period_ends_on, a.stopped_on)
    ).all()
    near: Counter[DeadlineRule] = Counter()
    passed: Counter[DeadlineRule] = Counter()
    for rule_text, due_on, ends_on, stopped_on, n in rows:
        rule = DeadlineRule(rule_text)
        due = due_on if rule is DeadlineRule.APPLICATION else due_for_change(ends_on, stopped_on)
        if due is None:
            continue
        if days.passed(due):
            passed[rule] += int(n)
        elif days.near(due):
            near[rule] += int(n)
    return DeadlineCounts(dict(near), dict(passed))
