"""The support commands that read: dead letters, a dossier's timeline, the audit, a message,
an event. Each takes ``--json``; none changes anything (``event --unmask`` and ``show
--unmask`` write their audit line before they show)."""

from __future__ import annotations

import argparse
import dataclasses
import enum
import json
import sys
from datetime import datetime

from rich.table import Table

from adapter.settings import Settings
from adapter.support_cli import (
    answer_json,
    console,
    desk_of,
    os_user,
    print_answers,
    stamp,
    view_json,
)
from adapter.support_timeline import DossierTimeline, describe, iso


def dead_letters(settings: Settings, args: argparse.Namespace) -> int:
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
                stamp(g.first_seen),
                stamp(g.last_seen),
                g.cause.text,
            )
        console().print(table)
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


def dossier(settings: Settings, args: argparse.Namespace) -> int:
    """A dossier's messages, its timeline and why it waits (``SupportDesk.timelines``)."""
    found = desk_of(settings).timelines(args.dossier_id)
    if not found:
        print(
            f"vsb-adapter: no dossier {args.dossier_id}: no message of it is stored (an unknown"
            " dossier id, or one whose messages were all purged after the retention period)",
            file=sys.stderr,
        )
        return 3
    if args.json:
        shown = [timeline_json(d) for d in found]
        # One dossier (nearly always): its object; a tag two dossiers share: both, listed.
        print(json.dumps(shown[0] if len(shown) == 1 else shown, indent=2))
        return 0
    for i, d in enumerate(found):
        if i:
            print()
        print(f"dossier {d.tag}")
        for m in d.messages:
            outcome = m.outcome.value if m.outcome is not None else "-"
            print(
                f"#{m.sequence:<4} {m.state:<9} {outcome:<10} {m.event_code:<20}"
                f" {m.message_id}  attempts={m.attempts}  {m.last_error or ''}"
            )
        print("\ntimeline (UTC)")
        for e in d.timeline.entries:
            number = f"#{e.sequence}" if e.sequence is not None else "-"
            print(f"{iso(e.at)}  {number:<5} {e.kind:<9} {e.event_code or '-':<20} {describe(e)}")
        print(f"\nwhy it waits: {d.why}")
    return 0


def timeline_json(d: DossierTimeline) -> dict[str, object]:
    """A dossier's timeline for ``--json``: its messages, entries in time order, and
    ``waits`` (``reason``, ``text``, ``message_id``, ``since`` and the reason's facts)."""
    wait = {k: _plain(v) for k, v in dataclasses.asdict(d.timeline.wait).items()}
    since = wait.pop("since")
    reason = wait.pop("reason")
    message_id = wait.pop("message_id")
    return {
        "dossier": d.tag,
        "messages": [view_json(m) for m in d.messages],
        "timeline": [
            {k: _plain(v) for k, v in dataclasses.asdict(e).items() if v is not None}
            for e in d.timeline.entries
        ],
        "waits": {
            "reason": reason,
            "text": d.why,
            "message_id": message_id,
            "since": since,
            **{k: v for k, v in wait.items() if v is not None},
        },
    }


def _plain(value: object) -> object:
    """A timeline value as JSON has it: times in ISO 8601 UTC, enums by their value."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def audit(settings: Settings, args: argparse.Namespace) -> int:
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
        print(f"{stamp(a.at)}  {a.actor:<16} {a.action:<10} {a.target}  {detail}")
    return 0


def show(settings: Settings, args: argparse.Namespace) -> int:
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
    out = console()
    out.print(
        f"message {m.message_id}  {m.state.value}  {m.event_code}  {m.dossier_key or '-'}"
        f" #{m.sequence}  attempts={m.attempts}  created {stamp(m.created_at)}"
        f"  updated {stamp(m.updated_at)}",
        markup=False,
    )
    if m.replaces_message_id:
        out.print(f"replaces {m.replaces_message_id} (a corrected replay)", markup=False)
    table = Table(title=f"{len(attempts)} failed tr{'y' if len(attempts) == 1 else 'ies'}")
    for column in ("at", "try", "ended", "error"):
        table.add_column(column, overflow="fold")
    for tried in report.attempts:
        table.add_row(stamp(tried.at), str(tried.attempt), tried.kind.value, tried.error)
    out.print(table)
    if m.last_error and not attempts:
        out.print(f"last error (tries before release 0.3 were not kept): {m.last_error}")
    out.print(
        f"\nevent {event.event_id}  received {stamp(event.received_at)}"
        + ("" if not report.masked else "  (masked; --unmask --actor NAME --reason TEXT)"),
        markup=False,
    )
    print(event.payload)
    print_answers(event.answers)
    return 0


def event(settings: Settings, args: argparse.Namespace) -> int:
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
