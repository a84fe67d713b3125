"""The support commands of ``vsb-adapter``: their arguments; ``support_reads`` and
``support_actions`` run them, calling ``SupportDesk`` and printing (rich or JSON).

Exit codes (docs/support.md, "Exit codes"): 0 done, 1 the operation failed or was
interrupted, 2 bad usage, 3 what was named is not in the store. Every read command takes
``--json``; every action asks ``--actor`` and ``--reason`` and records the OS account
(``SUDO_USER`` when run through sudo).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from adapter import support_actions as acting
from adapter import support_reads as reading
from adapter.settings import Settings
from adapter.store.support import NotFound
from adapter.support_cli import desk_of, os_user

Command = Callable[[str, Callable[[Settings, argparse.Namespace], int], str], Any]


def register(command: Command) -> None:
    """Add the support commands through the parser's ``command(name, func, help)``."""
    dead = command(
        "dead-letters", reading.dead_letters, "list dead letters, or their groups by cause"
    )
    dead.add_argument("--group", action="store_true", help="one line per cause, with counts")
    dead.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    dossier = command("dossier", reading.dossier, "a dossier's timeline and why it waits")
    dossier.add_argument("dossier_id", help="the EPD's dossier id, or its tag in the logs (d:…)")
    for name, func, text in (
        ("replay", acting.replay, "put dead letters back at the head of their dossiers"),
        ("discard", acting.discard, "give dead letters up; the EPD is told"),
        ("restore", acting.restore, "make discarded messages dead letters again (before purge)"),
    ):
        p = command(name, func, text)
        _selection_arguments(p)
        if name == "replay":
            p.add_argument("--corrected", type=Path, help="a corrected event file (one message)")
    skip = command("skip-gap", acting.skip_gap, "let a dossier stop waiting for a missing number")
    skip.add_argument("dossier_id")
    _actor_arguments(skip)
    purge = command("purge", acting.purge, "delete finished events older than N days (keeps order)")
    purge.add_argument("--older-than-days", type=int, required=True)
    purge.add_argument("--actor", required=True, help="who does this, for the audit log")
    purge.add_argument("--reason", default="retention", help="why (default: retention)")
    audit = command("audit", reading.audit, "show support actions, newest first")
    audit.add_argument("--limit", type=int, default=50)
    audit.add_argument("--actor", help="only this actor's")
    audit.add_argument("--target", help="only those on this message, event or dossier key")
    audit.add_argument("--action", help="only this action (replay, discard, restore, unmask…)")
    audit.add_argument("--since", type=moment, help="from this time on (ISO 8601, UTC if no zone)")
    audit.add_argument("--until", type=moment, help="before this time")
    show = command("show", reading.show, "one message: its event, answers and every failed try")
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
    event = command("event", reading.event, "show an event and its answers as stored (masked)")
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


__all__ = ["NotFound", "desk_of", "moment", "os_user", "register", "register_event"]
