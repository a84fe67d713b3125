"""The support commands that act: replay, discard, restore (one message or a selection, with
a progress bar), skip a gap, purge. Each needs ``--actor`` and ``--reason`` for the audit."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from adapter.bulk import BulkResult
from adapter.selection import Selection
from adapter.settings import Settings
from adapter.store import MessageView
from adapter.support import SupportDesk
from adapter.support_cli import desk_of, os_user


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


def replay(settings: Settings, args: argparse.Namespace) -> int:
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


def discard(settings: Settings, args: argparse.Namespace) -> int:
    desk = desk_of(settings)
    single = _single(args)
    if single is not None:
        desk.discard(single, args.actor, args.reason, os_user=os_user())
        print(f"discarded {single}; the EPD gets an answer, the dossier moves on")
        return 0
    return _run_bulk(desk, args, desk.discard_many, "discarded")


def restore(settings: Settings, args: argparse.Namespace) -> int:
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


def skip_gap(settings: Settings, args: argparse.Namespace) -> int:
    head = desk_of(settings).skip_gap(
        args.dossier_id, args.actor, reason=args.reason, os_user=os_user()
    )
    print(f"dossier {args.dossier_id} now continues at sequence {head}")
    return 0


def purge(settings: Settings, args: argparse.Namespace) -> int:
    counts = desk_of(settings).purge(
        args.older_than_days, args.actor, reason=args.reason, os_user=os_user()
    )
    print(", ".join(f"{n} {what}" for what, n in counts.items()) + " deleted")
    return 0
