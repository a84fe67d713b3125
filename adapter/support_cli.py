"""What the support commands share: the desk on the settings' store, the OS account behind a
command, a console that keeps lines whole, times and the JSON of messages and answers."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

from rich.console import Console

from adapter.clock import SystemClock
from adapter.settings import Settings
from adapter.store import MessageView, Sealer, Store, StoredAnswer, create_store_engine
from adapter.support import SupportDesk
from mappings.model import Facility


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


def console() -> Console:
    """Rich output on stdout."""
    # Piped or captured, rich would wrap at 80 columns and cut ids: lines stay whole.
    return Console(file=sys.stdout, width=None if sys.stdout.isatty() else 200)


def stamp(at: datetime) -> str:
    """A time as the listings show it: UTC, to the second."""
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
            f"  {stamp(answer.created_at)}  {published}"
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
