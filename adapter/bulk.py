"""Bulk support actions: one message at a time, each in its own transaction, resumable.

The support desk picks the messages (``adapter.selection``) and gives the action for one
message; this runs it over them in order, counts what was done and skipped, stops cleanly
on Ctrl-C, and logs one lifecycle line per batch of ``BULK_BATCH`` messages.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping

from adapter.clock import Clock
from adapter.lifecycle import Stage, Step, step
from adapter.selection import Selection
from adapter.store import MessageView, SupportError

BULK_BATCH = 50
"""Messages per log line of a bulk action (each message is still its own transaction)."""


@dataclasses.dataclass
class BulkResult:
    """What a bulk action did, filled as it goes (``interrupted``: stopped by Ctrl-C, after
    the message in hand was committed or rolled back as a whole)."""

    action: str
    selected: list[MessageView]
    dry_run: bool
    done: list[str] = dataclasses.field(default_factory=list)
    skipped: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    """(message id, why): no longer in the state the action takes, or unknown."""
    interrupted: bool = False


Progress = Callable[[MessageView, bool], None]
"""Called after each message of a bulk action: the message and whether it was done."""

OneMessage = Callable[[str, Mapping[str, object]], MessageView]
"""The action on one message id, with the audit detail; ``SupportError`` if it does not
apply (any more)."""


def run_bulk(
    result: BulkResult,
    one: OneMessage,
    name: Step,
    selection: Selection,
    audited: Mapping[str, object],
    clock: Clock,
    progress: Progress | None = None,
) -> BulkResult:
    """Run ``one`` over ``result.selected`` in order; ``result`` filled and returned.

    A message another run or the console handled meanwhile is skipped with the reason; a
    KeyboardInterrupt ends the run between two messages' transactions (``interrupted``).
    """
    if result.dry_run:
        return result
    batch: list[str] = []
    started = clock.monotonic()
    try:
        for message in result.selected:
            try:
                one(message.message_id, audited)
            except SupportError as exc:
                result.skipped.append((message.message_id, str(exc)))
                done = False
            else:
                result.done.append(message.message_id)
                batch.append(message.message_id)
                done = True
            if progress is not None:
                progress(message, done)
            if len(batch) == BULK_BATCH:
                _log_batch(name, result.action, batch, clock.monotonic() - started, selection)
                batch, started = [], clock.monotonic()
    except KeyboardInterrupt:
        result.interrupted = True
    _log_batch(name, result.action, batch, clock.monotonic() - started, selection)
    return result


def _log_batch(
    name: Step, action: str, batch: list[str], seconds: float, selection: Selection
) -> None:
    """One lifecycle line for a batch of a bulk action, naming its messages."""
    if not batch:
        return
    step(
        name,
        Stage.SUPPORT,
        message_id=batch[0] if len(batch) == 1 else None,
        seconds=seconds,
        bulk=action,
        count=len(batch),
        message_ids=",".join(batch),
        selection=json.dumps(selection.describe(), sort_keys=True),
    )
