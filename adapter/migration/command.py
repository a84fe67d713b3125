"""``vsb-adapter migration plan|send|status EXPORT``: the migration the vendor leads.

``plan`` is a dry run: the class and reason of every file, every invalid row with its line
and column. ``send`` publishes each file's events on the normal path (the daemon checks,
orders and delivers them like any other event) and skips what the store already holds, so
a second run, or a run after a crash, sends nothing twice. ``status`` tells, per file,
whether it was answered and how.

Exit codes: 0 done (plan: no invalid row; status: every file answered), 1 otherwise.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from adapter import crashpoints
from adapter.crashpoints import CrashPoint
from adapter.engine.answers import outcome_of
from adapter.migration.bundles import PlannedEvent
from adapter.migration.plan import Plan, PlannedFile
from adapter.store import Store
from adapter.store.progress import EventProgress, event_progress
from mappings.migration import MigrationClass
from queues import ConfirmedPublisher

_FINAL = frozenset({"accepted", "refused", "invalid"})


@dataclass(frozen=True)
class FileStatus:
    """Where one planned file stands: its events' outcomes, or why it is not sent."""

    planned: PlannedFile
    outcomes: tuple[str, ...]
    """Per event: ``not sent``, ``waiting`` (stored, no final answer yet), or the outcome."""

    @property
    def answered(self) -> bool:
        """Every event has its final answer (or the file is not sent at all)."""
        return all(outcome in _FINAL for outcome in self.outcomes)

    @property
    def summary(self) -> str:
        """One word for the file: its first event's state, or ``not sent (class)``."""
        if not self.outcomes:
            return "not sent"
        return self.outcomes[0] if len(set(self.outcomes)) == 1 else "/".join(self.outcomes)


def print_plan(plan: Plan, out: TextIO, *, as_json: bool = False) -> int:
    """The dry-run report; 1 when a row is invalid."""
    if as_json:
        json.dump(_plan_json(plan), out, indent=2)
        out.write("\n")
        return 1 if plan.errors else 0
    console = _console(out)
    invalid = len({error.line for error in plan.errors})
    table = Table(title=f"{len(plan.files)} files to classify, {invalid} invalid rows")
    for column in ("class", "files", "events"):
        table.add_column(column, justify="left" if column == "class" else "right")
    counts = plan.counts()
    events = Counter(planned.classification.kind for planned in plan.files for _ in planned.events)
    for kind in MigrationClass:
        table.add_row(kind.value, str(counts[kind]), str(events[kind]))
    console.print(table)
    for planned in plan.files:
        file = planned.file
        console.print(
            f"line {file.line:<6} {file.sector.value:<4} {file.dossier_id:<20}"
            f" {planned.classification.kind.value:<34} {planned.classification.reason}",
            markup=False,
        )
    for error in plan.errors:
        console.print(f"invalid  {error}", markup=False)
    return 1 if plan.errors else 0


def _plan_json(plan: Plan) -> dict[str, Any]:
    counts = plan.counts()
    return {
        "counts": {kind.value: counts[kind] for kind in MigrationClass},
        "files": [
            {
                "line": planned.file.line,
                "sector": planned.file.sector.value,
                "dossier_id": planned.file.dossier_id,
                "class": planned.classification.kind.value,
                "reason": planned.classification.reason,
                "events": [{"id": e.event_id, "code": e.code} for e in planned.events],
            }
            for planned in plan.files
        ],
        "invalid": [
            {"line": e.line, "column": e.column, "problem": e.problem} for e in plan.errors
        ],
    }


def publish_missing(
    plan: Plan, store: Store, publish: Callable[[PlannedEvent], None], out: TextIO
) -> None:
    """Publish every event of the plan the store does not hold yet, in the plan's order."""
    events = plan.events()
    held = event_progress(store, [event.event_id for event in events])
    todo = [event for event in events if event.event_id not in held]
    console = _console(out)
    with _progress(console) as progress:
        task = progress.add_task("publishing", total=len(todo))
        for index, event in enumerate(todo, start=1):
            publish(event)
            progress.advance(task)
            if index == len(todo) // 2:
                crashpoints.reach(CrashPoint.MIGRATION_HALFWAY)
    console.print(
        f"published {len(todo)} events; {len(held)} were with the adapter already"
        f" ({len(plan.files)} files, {len(events)} events in the plan)",
        markup=False,
    )


def follow(plan: Plan, store: Store, out: TextIO, wait_seconds: float) -> int:
    """Wait until every file is answered (or the time is up); 0 when every one is."""
    console = _console(out)
    statuses = _follow(plan, store, console, wait_seconds)
    _print_summary(statuses, console)
    return 0 if all(status.answered for status in statuses) else 1


def _follow(plan: Plan, store: Store, console: Console, wait_seconds: float) -> list[FileStatus]:
    deadline = time.monotonic() + wait_seconds
    with _progress(console) as progress:
        task = progress.add_task("answered", total=len(plan.files))
        while True:
            statuses = file_statuses(plan, store)
            progress.update(task, completed=sum(status.answered for status in statuses))
            if all(status.answered for status in statuses) or time.monotonic() > deadline:
                return statuses
            time.sleep(0.5)


def file_statuses(plan: Plan, store: Store) -> list[FileStatus]:
    """Each planned file's events as the store has them now."""
    progress = event_progress(store, [event.event_id for event in plan.events()])
    return [
        FileStatus(planned, tuple(_outcome(progress.get(e.event_id)) for e in planned.events))
        for planned in plan.files
    ]


def _outcome(progress: EventProgress | None) -> str:
    if progress is None:
        return "not sent"
    if progress.answer_body is None:
        return "waiting"
    return outcome_of(json.loads(progress.answer_body)) or "waiting"


def print_status(plan: Plan, store: Store, out: TextIO, *, as_json: bool = False) -> int:
    """Per file: class and outcome; 0 when every file has its final answer."""
    statuses = file_statuses(plan, store)
    if as_json:
        rows = [
            {
                "line": s.planned.file.line,
                "dossier_id": s.planned.file.dossier_id,
                "class": s.planned.classification.kind.value,
                "outcomes": list(s.outcomes),
            }
            for s in statuses
        ]
        json.dump({"files": rows}, out, indent=2)
        out.write("\n")
    else:
        console = _console(out)
        for status in statuses:
            file = status.planned.file
            console.print(
                f"line {file.line:<6} {file.dossier_id:<20}"
                f" {status.planned.classification.kind.value:<34} {status.summary}",
                markup=False,
            )
        _print_summary(statuses, console)
    return 0 if all(status.answered for status in statuses) else 1


def _print_summary(statuses: list[FileStatus], console: Console) -> None:
    counts = Counter(status.summary for status in statuses)
    words = ", ".join(f"{count} {what}" for what, count in sorted(counts.items()))
    console.print(f"{len(statuses)} files: {words}", markup=False)


def _console(out: TextIO) -> Console:
    # soft wrap: one file per line however long its reason, for grep and for diffs
    return Console(file=out, width=200, highlight=False, soft_wrap=True)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    )


def publisher_for(publisher: ConfirmedPublisher, exchange: str) -> Callable[[PlannedEvent], None]:
    """Publish one planned event as the EPD would (message id = event id), confirmed."""

    def publish(event: PlannedEvent) -> None:
        publisher.publish(
            exchange,
            "event",
            event.body,
            message_id=event.event_id,
            content_type="application/fhir+json",
        )

    return publish
