"""The support commands of ``vsb-adapter``: parse, call ``SupportDesk``, print (rich or JSON).

Exit codes (docs/support.md, "Exit codes"): 0 done, 1 the operation failed or was
interrupted, 2 bad usage, 3 what was named is not in the store. Every read command takes
``--json``; every action asks ``--actor`` and ``--reason`` and records the OS account
(``SUDO_USER`` when run through sudo).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from adapter.bulk import BulkResult
from adapter.clock import SystemClock
from adapter.selection import Selection
from adapter.settings import Settings
from adapter.store import MessageView, Sealer, Store, StoredAnswer, create_store_engine
from adapter.store.support import NotFound
from adapter.support import SupportDesk
from mappings.model import Facility

Command = Callable[[str, Callable[[Settings, argparse.Namespace], int], str], Any]


def register(command: Command) -> None:
    """Add the support commands through the parser's ``command(name, func, help)``."""
    dead = command("dead-letters", _dead_letters, "list dead letters, or their groups by cause")
    dead.add_argument("--group", action="store_true", help="one line per cause, with counts")
    dead.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    dossier = command("dossier", _dossier, "show a dossier's messages in order")
    dossier.add_argument("dossier_id", help="the EPD's dossier id, or its tag in the logs (d:…)")
    for name, func, text in (
        ("replay", _replay, "put dead letters back at the head of their dossiers"),
        ("discard", _discard, "give dead letters up; the EPD is told"),
        ("restore", _restore, "make discarded messages dead letters again (before purge)"),
    ):
        p = command(name, func, text)
        _selection_arguments(p)
        if name == "replay":
            p.add_argument("--corrected", type=Path, help="a corrected event file (one message)")
    skip = command("skip-gap", _skip_gap, "let a dossier stop waiting for a missing number")
    skip.add_argument("dossier_id")
    _actor_arguments(skip)
    purge = command("purge", _purge, "delete finished events older than N days (keeps order)")
    purge.add_argument("--older-than-days", type=int, required=True)
    purge.add_argument("--actor", required=True, help="who does this, for the audit log")
    purge.add_argument("--reason", default="retention", help="why (default: retention)")
    audit = command("audit", _audit, "show support actions, newest first")
    audit.add_argument("--limit", type=int, default=50)
    audit.add_argument("--actor", help="only this actor's")
    audit.add_argument("--target", help="only those on this message, event or dossier key")
    audit.add_argument("--action", help="only this action (replay, discard, restore, unmask…)")
    audit.add_argument("--since", type=moment, help="from this time on (ISO 8601, UTC if no zone)")
    audit.add_argument("--until", type=moment, help="before this time")
    show = command("show", _show, "one message: its event, answers and every failed try")
    show.add_argument("message_id")
    show.add_argument(
        "--unmask", action="store_true", help="the event in full (audited; needs --actor, --reason)"
    )
    show.add_argument("--actor", help="who reads the personal data, for the audit log")
    show.add_argument("--reason", help="why it is read, for the audit log")
    for p in (dead, dossier, audit, show):
        p.add_argument("--json", action="store_true", help="machine-readable output")


def register_event(command: Command) -> None:
    """The ``event`` command (masked, or unmasked and audited)."""
    event = command("event", _event, "show an event and its answers as stored (masked)")
    event.add_argument("event_id")
    event.add_argument(
        "--unmask", action="store_true", help="decrypt in full (audited; needs --actor, --reason)"
    )
    event.add_argument("--actor", help="who reads the personal data, for the audit log")
    event.add_argument("--reason", help="why it is read, for the audit log")
    event.add_argument("--json", action="store_true", help="machine-readable output")


def _selection_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("message_ids", nargs="*", metavar="MESSAGE_ID")
    p.add_argument("--group", help="a cause's group id (dead-letters --group) or its key")
    p.add_argument("--dossier", help="the EPD's dossier id, or its tag in the logs (d:…)")
    p.add_argument("--event-code", help="only messages of this event code")
    p.add_argument("--error-code", help="only dead letters whose cause has this code")
    p.add_argument("--since", type=moment, help="reached its state at or after (ISO 8601)")
    p.add_argument("--until", type=moment, help="reached its state before (ISO 8601)")
    p.add_argument(
        "--dry-run", action="store_true", help="list what would be taken; change nothing"
    )
    p.add_argument("--limit", type=int, help="take at most this many (the rest on a next run)")
    p.add_argument("--json", action="store_true", help="machine-readable summary")
    _actor_arguments(p)


def _actor_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--actor", required=True, help="who does this, for the audit log")
    p.add_argument("--reason", required=True, help="why, for the audit log")


def moment(text: str) -> datetime:
    """An ISO 8601 date or time from the command line; UTC if it names no zone."""
    try:
        found = (
            datetime.combine(date.fromisoformat(text), time())
            if len(text) == 10
            else datetime.fromisoformat(text)
        )
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or time: {text!r}") from None
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def desk_of(settings: Settings) -> SupportDesk:
    """The support desk on the settings' store, facility and the system clock."""
    sealer, warnings = Sealer.from_file(settings.store.key_file)
    for warning in warnings:
        print(f"vsb-adapter: warning: {warning}", file=sys.stderr)
    store = Store(create_store_engine(settings.store.url, 2), sealer=sealer)
    facility = Facility(settings.facility.nihdi, settings.facility.hco)
    return SupportDesk(store, facility, SystemClock())


def os_user() -> str:
    """The account behind the command: the real one when run through sudo."""
    return os.environ.get("SUDO_USER") or getpass.getuser()


def _console() -> Console:
    # Piped or captured, rich would wrap at 80 columns and cut ids: lines stay whole.
    return Console(file=sys.stdout, width=None if sys.stdout.isatty() else 200)


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def answer_json(a: StoredAnswer) -> dict[str, object]:
    """One stored answer for ``--json``."""
    return {
        "answer_id": a.answer_id,
        "outcome": a.outcome,
        "source": a.source,
        "created_at": a.created_at.isoformat(),
        "published": a.published,
        "body": a.body,
    }


def print_answers(answers: Iterable[StoredAnswer]) -> None:
    """Each stored answer: a head line, then its body."""
    for answer in answers:
        published = "published" if answer.published else "not published"
        print(
            f"\nanswer {answer.answer_id}  {answer.outcome}  {answer.source}"
            f"  {_stamp(answer.created_at)}  {published}"
        )
        print(answer.body)


def view_json(m: MessageView) -> dict[str, object]:
    """A message as ``--json`` shows it."""
    from adapter.causes import cause_of

    cause = cause_of(m.last_error) if m.last_error else None
    return {
        "message_id": m.message_id,
        "event_id": m.event_id,
        "event_code": m.event_code,
        "dossier_key": m.dossier_key,
        "sequence": m.sequence,
        "state": m.state.value,
        "outcome": m.outcome.value if m.outcome is not None else None,
        "attempts": m.attempts,
        "last_error": m.last_error,
        "cause": None if cause is None else {"group": cause.group_id, "code": cause.code},
        "created_at": m.created_at.isoformat(),
        "updated_at": m.updated_at.isoformat(),
        "replaces_message_id": m.replaces_message_id,
    }


# ---- reading ------------------------------------------------------------------------------


def _dead_letters(settings: Settings, args: argparse.Namespace) -> int:
    desk = desk_of(settings)
    if args.group:
        groups = desk.dead_letter_groups()
        if args.json:
            found = [
                {
                    "group": g.cause.group_id,
                    "code": g.cause.code,
                    "cause": g.cause.text,
                    "count": g.count,
                    "first_seen": g.first_seen.isoformat(),
                    "last_seen": g.last_seen.isoformat(),
                    "dossiers": g.dossiers,
                    "event_codes": g.event_codes,
                    "message_ids": list(g.message_ids),
                }
                for g in groups
            ]
            print(json.dumps(found, indent=2))
            return 0
        table = Table(title=f"{sum(g.count for g in groups)} dead letter(s) by cause")
        for column in ("group", "code", "count", "dossiers", "first seen", "last seen", "cause"):
            table.add_column(column, overflow="fold")
        for g in groups:
            table.add_row(
                g.cause.group_id,
                g.cause.code,
                str(g.count),
                str(g.dossiers),
                _stamp(g.first_seen),
                _stamp(g.last_seen),
                g.cause.text,
            )
        _console().print(table)
        return 0
    rows = desk.dead_letters(args.limit)
    if args.json:
        print(json.dumps([view_json(m) for m in rows], indent=2))
        return 0
    for m in rows:
        print(
            f"{m.message_id}  {m.event_code:<20} {m.dossier_key or '-'} #{m.sequence}"
            f"  attempts={m.attempts}  {m.updated_at:%Y-%m-%d %H:%M}  {m.last_error}"
        )
    print(f"{len(rows)} dead letter(s)")
    return 0


def _dossier(settings: Settings, args: argparse.Namespace) -> int:
    rows = desk_of(settings).dossier(args.dossier_id)
    if not rows:
        print(
            f"vsb-adapter: no dossier {args.dossier_id}: no message of it is stored (an unknown"
            " dossier id, or one whose messages were all purged after the retention period)",
            file=sys.stderr,
        )
        return 3
    if args.json:
        print(json.dumps([view_json(m) for m in rows], indent=2))
        return 0
    for m in rows:
        outcome = m.outcome.value if m.outcome is not None else "-"
        print(
            f"#{m.sequence:<4} {m.state:<9} {outcome:<10} {m.event_code:<20}"
            f" {m.message_id}  attempts={m.attempts}  {m.last_error or ''}"
        )
    return 0


def _audit(settings: Settings, args: argparse.Namespace) -> int:
    lines = desk_of(settings).audit_lines(
        args.limit,
        actor=args.actor,
        target=args.target,
        action=args.action,
        since=args.since,
        until=args.until,
    )
    if args.json:
        found = [
            {
                "at": a.at.isoformat(),
                "actor": a.actor,
                "action": a.action,
                "target": a.target,
                "detail": a.detail,
            }
            for a in lines
        ]
        print(json.dumps(found, indent=2, default=str))
        return 0
    for a in lines:
        detail = json.dumps(a.detail, default=str) if a.detail else ""
        print(f"{_stamp(a.at)}  {a.actor:<16} {a.action:<10} {a.target}  {detail}")
    return 0


def _show(settings: Settings, args: argparse.Namespace) -> int:
    if not args.unmask and (args.actor or args.reason):
        print("vsb-adapter: --actor and --reason go with --unmask", file=sys.stderr)
        return 2
    report = desk_of(settings).show(
        args.message_id,
        unmask=args.unmask,
        actor=args.actor or "",
        reason=args.reason or "",
        os_user=os_user(),
    )
    m, event = report.message, report.event
    attempts = [
        {
            "message_id": a.message_id,
            "at": a.at.isoformat(),
            "kind": a.kind.value,
            "attempt": a.attempt,
            "error": a.error,
        }
        for a in report.attempts
    ]
    answers = [answer_json(a) for a in event.answers]
    if args.json:
        shown = {
            "message": view_json(m),
            "masked": report.masked,
            "event": {"event_id": event.event_id, "payload": event.payload},
            "attempts": attempts,
            "answers": answers,
        }
        print(json.dumps(shown, indent=2))
        return 0
    console = _console()
    console.print(
        f"message {m.message_id}  {m.state.value}  {m.event_code}  {m.dossier_key or '-'}"
        f" #{m.sequence}  attempts={m.attempts}  created {_stamp(m.created_at)}"
        f"  updated {_stamp(m.updated_at)}",
        markup=False,
    )
    if m.replaces_message_id:
        console.print(f"replaces {m.replaces_message_id} (a corrected replay)", markup=False)
    table = Table(title=f"{len(attempts)} failed tr{'y' if len(attempts) == 1 else 'ies'}")
    for column in ("at", "try", "ended", "error"):
        table.add_column(column, overflow="fold")
    for tried in report.attempts:
        table.add_row(_stamp(tried.at), str(tried.attempt), tried.kind.value, tried.error)
    console.print(table)
    if m.last_error and not attempts:
        console.print(f"last error (tries before release 0.3 were not kept): {m.last_error}")
    console.print(
        f"\nevent {event.event_id}  received {_stamp(event.received_at)}"
        + ("" if not report.masked else "  (masked; --unmask --actor NAME --reason TEXT)"),
        markup=False,
    )
    print(event.payload)
    print_answers(event.answers)
    return 0


def _event(settings: Settings, args: argparse.Namespace) -> int:
    desk = desk_of(settings)
    if args.unmask:
        # The person names themselves; the account (the real one behind sudo) is recorded
        # beside it, as the commands run under the service account.
        stored = desk.unmasked_event(args.event_id, args.actor or "", args.reason or "", os_user())
    else:
        if args.actor or args.reason:
            print("vsb-adapter: --actor and --reason go with --unmask", file=sys.stderr)
            return 2
        stored = desk.event(args.event_id)
    if args.json:
        print(
            json.dumps(
                {
                    "event_id": stored.event_id,
                    "event_code": stored.event_code,
                    "dossier_id": stored.dossier_id,
                    "sequence": stored.sequence,
                    "valid": stored.valid,
                    "received_at": stored.received_at.isoformat(),
                    "key_id": stored.key_id,
                    "masked": not args.unmask,
                    "payload": stored.payload,
                    "answers": [answer_json(a) for a in stored.answers],
                },
                indent=2,
            )
        )
        return 0
    sealed = f"sealed under key {stored.key_id}" if stored.key_id else "stored in clear (old row)"
    print(
        f"event {stored.event_id}  {stored.event_code or '-'}  dossier {stored.dossier_id or '-'}"
        f" #{stored.sequence}  {'valid' if stored.valid else 'invalid'}"
        f"  received {stored.received_at:%Y-%m-%d %H:%M:%S}  {sealed}"
    )
    print("" if args.unmask else "(masked; --unmask --actor NAME --reason TEXT shows it in full)")
    print(stored.payload)
    print_answers(stored.answers)
    return 0


# ---- acting -------------------------------------------------------------------------------


def _selection(desk: SupportDesk, args: argparse.Namespace) -> Selection:
    return Selection(
        group=args.group,
        dossier_keys=desk.dossier_keys(args.dossier) if args.dossier else None,
        event_code=args.event_code,
        error_code=args.error_code,
        since=args.since,
        until=args.until,
        message_ids=tuple(args.message_ids),
    )


def _single(args: argparse.Namespace) -> str | None:
    """The one message id of a plain ``ACTION MESSAGE_ID`` (no filter, no dry run)."""
    filters = (args.group, args.dossier, args.event_code, args.error_code, args.since, args.until)
    plain = not args.dry_run and args.limit is None and not args.json
    if len(args.message_ids) == 1 and all(f is None for f in filters) and plain:
        return str(args.message_ids[0])
    return None


def _replay(settings: Settings, args: argparse.Namespace) -> int:
    desk = desk_of(settings)
    single = _single(args)
    if args.corrected is not None and single is None:
        print("vsb-adapter: --corrected goes with exactly one MESSAGE_ID", file=sys.stderr)
        return 2
    if single is not None:
        corrected = args.corrected.read_text() if args.corrected is not None else None
        view = desk.replay(single, args.actor, corrected, reason=args.reason, os_user=os_user())
        print(f"replayed {single} as {view.message_id}, head of {view.dossier_key}")
        return 0
    return _run_bulk(desk, args, desk.replay_many, "replayed")


def _discard(settings: Settings, args: argparse.Namespace) -> int:
    desk = desk_of(settings)
    single = _single(args)
    if single is not None:
        desk.discard(single, args.actor, args.reason, os_user=os_user())
        print(f"discarded {single}; the EPD gets an answer, the dossier moves on")
        return 0
    return _run_bulk(desk, args, desk.discard_many, "discarded")


def _restore(settings: Settings, args: argparse.Namespace) -> int:
    desk = desk_of(settings)
    single = _single(args)
    if single is not None:
        view = desk.restore(single, args.actor, args.reason, os_user=os_user())
        print(f"restored {single}: a dead letter again, head of {view.dossier_key}")
        return 0
    return _run_bulk(desk, args, desk.restore_many, "restored")


def _run_bulk(
    desk: SupportDesk, args: argparse.Namespace, action: Callable[..., BulkResult], verb: str
) -> int:
    """A bulk action with a progress bar on stderr and a summary on stdout."""
    selection = _selection(desk, args)
    bar = Progress(
        TextColumn(f"{verb.removesuffix('ed')}ing"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(file=sys.stderr),
        transient=True,
        disable=args.dry_run or args.json or not sys.stderr.isatty(),
    )
    with bar:
        task = bar.add_task(verb, total=None)

        def progress(_message: MessageView, _done: bool) -> None:
            bar.advance(task)

        result = action(
            selection,
            args.actor,
            args.reason,
            os_user=os_user(),
            dry_run=args.dry_run,
            limit=args.limit,
            progress=progress,
        )
    unknown = [m for m, why in result.skipped if why == "unknown"]
    code = 1 if result.interrupted else 3 if unknown else 0
    if args.json:
        print(
            json.dumps(
                {
                    "action": result.action,
                    "dry_run": result.dry_run,
                    "selected": [m.message_id for m in result.selected],
                    "done": result.done,
                    "skipped": [{"message_id": m, "why": why} for m, why in result.skipped],
                    "interrupted": result.interrupted,
                },
                indent=2,
            )
        )
        return code
    if result.dry_run:
        for m in result.selected:
            print(
                f"would be {verb}: {m.message_id}  {m.event_code:<20}"
                f" {m.dossier_key or '-'} #{m.sequence}  {m.last_error or ''}"
            )
        print(f"dry run: {len(result.selected)} message(s) would be {verb}; nothing changed")
    else:
        print(f"{verb} {len(result.done)} of {len(result.selected)} selected message(s)")
    for message_id, why in result.skipped:
        print(f"skipped {message_id}: {why}")
    if result.interrupted:
        print("interrupted: run the same command again to go on (nothing is done twice)")
    return code


def _skip_gap(settings: Settings, args: argparse.Namespace) -> int:
    head = desk_of(settings).skip_gap(
        args.dossier_id, args.actor, reason=args.reason, os_user=os_user()
    )
    print(f"dossier {args.dossier_id} now continues at sequence {head}")
    return 0


def _purge(settings: Settings, args: argparse.Namespace) -> int:
    counts = desk_of(settings).purge(
        args.older_than_days, args.actor, reason=args.reason, os_user=os_user()
    )
    print(", ".join(f"{n} {what}" for what, n in counts.items()) + " deleted")
    return 0


__all__ = ["NotFound", "desk_of", "register", "register_event"]
