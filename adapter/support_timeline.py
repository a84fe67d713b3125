"""A dossier's timeline in words: one sentence for why it waits, one line per entry.

The store gives the facts (``adapter.store.timeline``); the CLI's ``dossier`` command and
the console's dossier page both print these words, so support reads the same on either.
Times are ISO 8601 in UTC. The words name messages, events and sequence numbers, never the
dossier id or anything of the person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from adapter import lifecycle
from adapter.store import MessageView
from adapter.store.records import MessageState
from adapter.store.timeline import EntryKind, Timeline, TimelineEntry, Wait, WaitReason
from mappings.deadline import DeadlineRule


@dataclass(frozen=True)
class DossierTimeline:
    """A dossier as support sees it: its messages, its timeline and why it waits."""

    tag: str
    """The dossier as the logs tag it (``d:…``): pages and JSON show this, not the id."""
    messages: tuple[MessageView, ...]
    """In sequence order."""
    timeline: Timeline
    why: str
    """One sentence: why the dossier waits and what to do (``explain``)."""


def iso(at: datetime) -> str:
    """A time as the timeline shows it: ISO 8601, UTC, to the millisecond (what happens in
    one second, a try and its answer, stays apart)."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _named(sequence: int | None, event_code: str | None, message_id: str | None) -> str:
    """``#3 (reva-stop, <message id>)``: a message as the sentences name it."""
    number = f"#{sequence}" if sequence is not None else "(a look-up)"
    return f"{number} ({event_code}, {message_id})" if event_code else f"{number} ({message_id})"


def explain(wait: Wait, dossier: str) -> str:
    """The sentence for ``wait``; ``dossier`` is how a command should name the dossier."""
    since = iso(wait.since) if wait.since is not None else "an unknown time"
    what = "message " + _named(wait.sequence, wait.event_code, wait.message_id)
    match wait.reason:
        case WaitReason.NOTHING:
            return "Nothing to wait for: every message of the dossier has its final answer."
        case WaitReason.DUE:
            return (
                f"The dossier waits for its turn: {what} is due since {since} and the next"
                " sender takes it; nothing to do (if it stays, check that the daemon runs)."
            )
        case WaitReason.IN_FLIGHT:
            return (
                f"In flight: {what} is being sent since {since}"
                f" by {wait.lease_owner or 'an unknown instance'}; nothing to do."
            )
        case WaitReason.RETRYING:
            next_try = iso(wait.next_try) if wait.next_try is not None else "its next turn"
            return (
                f"Retrying: {what} failed transiently (failing since {since}), next try at"
                f" {next_try}, last error: {wait.error}; nothing to do unless it keeps failing."
            )
        case WaitReason.BLOCKED:
            return (
                f"Blocked: {what} is a dead letter since {since} (error: {wait.error}); read it"
                f" with `vsb-adapter show {wait.message_id}`, then `replay` it (unchanged or"
                f" --corrected) or `discard` it."
            )
        case WaitReason.GAP:
            # skip-gap takes the dossier's id: a tag (all a console user has) does not do.
            skip = (
                "the console's skip-gap button (or `vsb-adapter skip-gap` with the dossier's id)"
                if lifecycle.is_tag(dossier)
                else f"`vsb-adapter skip-gap {dossier}`"
            )
            first, after = wait.missing or 0, wait.sequence or 0
            missing = (
                f"sequence numbers {first} to {after - 1} were"
                if after - first > 1
                else f"sequence number {first} was"
            )
            return (
                f"Gap: {missing} not received while {what} and later ones wait since {since};"
                f" ask the EPD to send it, or once it confirmed it never will, {skip}."
            )
        case WaitReason.IN_BERAAD:
            return (
                f'In beraad: {what} was answered "in beraad" at {since}; the dossier waits for'
                " the decision, which comes from the central application's mailbox; nothing"
                " to do."
            )
        case WaitReason.HELD_FOR_REFERENCE:
            application = _named(wait.application_sequence, None, wait.application_id)
            status = (
                'answered "in beraad" and waits for its decision from the mailbox'
                if wait.application_state is MessageState.WAITING
                else "not answered yet"
            )
            return (
                f"Held for a reference: modification"
                f" {_named(wait.sequence, wait.event_code, wait.message_id)} waits since {since}"
                f" for the VSB reference of application {application}, which is {status};"
                " nothing to do: it goes on once the application has its final answer."
            )
    raise AssertionError(wait.reason)  # pragma: no cover - every reason is matched above


def deadline_sentence(timeline: Timeline, today: date) -> str:
    """A sentence on the deadlines the dossier's messages on their way must meet (empty:
    none), with what happens after them (docs/support.md, "Deadlines near or passed")."""
    parts = []
    for due in timeline.dues:
        left = (due.due - today).days
        when = (
            f"passed {-left} day(s) ago"
            if left < 0
            else "today"
            if left == 0
            else f"in {left} day(s)"
        )
        after = (
            "an application received later is refused"
            if due.rule is DeadlineRule.APPLICATION
            else 'a change received later goes "in beraad"'
        )
        what = _named(due.sequence, due.event_code, due.message_id)
        parts.append(
            f"{what} must reach the central application by {due.due.isoformat()} ({when};"
            f" {due.rule} rule: {after})"
        )
    return ("Deadline: " + "; ".join(parts) + ".") if parts else ""


def describe(entry: TimelineEntry) -> str:
    """What one entry says, in a few words (no time, no sequence: the line has those)."""
    match entry.kind:
        case EntryKind.RECEIVED:
            return f"event {entry.event_id} received, {'valid' if entry.valid else 'invalid'}"
        case EntryKind.ATTEMPT:
            ended = entry.ended.value if entry.ended is not None else "-"
            return f"try {entry.attempt} of {entry.message_id} ended {ended}: {entry.error}"
        case EntryKind.ANSWER:
            outcome = entry.outcome.value if entry.outcome is not None else "-"
            source = entry.source.value if entry.source is not None else "-"
            reference = f", VSB reference {entry.vsb_reference}" if entry.vsb_reference else ""
            published = "published" if entry.published else "not yet published"
            return f"answer {entry.answer_id}: {outcome} ({source}){reference}, {published}"
        case EntryKind.STATE:
            state = entry.state.value if entry.state is not None else "-"
            outcome = f" ({entry.outcome.value})" if entry.outcome is not None else ""
            error = f", last error: {entry.error}" if entry.error else ""
            return f"{entry.message_id} is {state}{outcome} now, attempts={entry.attempt}{error}"
    raise AssertionError(entry.kind)  # pragma: no cover - every kind is matched above
