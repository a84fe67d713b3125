"""The console's bulk action by filter: the CLI's selection of ``replay``, ``discard`` and
``restore`` (group, dossier, event code, error code, since/until), a dry run, then the same
call confirmed.

Both steps call the desk's ``replay_many``, ``discard_many`` or ``restore_many``, the dry run
with ``dry_run=True``, as ``--dry-run`` does. The confirm carries the criteria and the
message ids the dry run listed in hidden fields: it takes those of them the criteria still
select and that are still in the state the action takes, never a message the operator did
not see; run twice, it does nothing twice (the desk skips what was handled meanwhile).
Operators only, the dry run too: it is the first half of an action.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask, abort, flash, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as WerkzeugResponse

from adapter import lifecycle
from adapter.bulk import BulkResult
from adapter.console import guard
from adapter.selection import Selection
from adapter.store import SupportError
from adapter.support import SupportDesk
from adapter.support_commands import moment

Acted = Callable[[Callable[[str, str], str], str], WerkzeugResponse]
"""The console's ``_acted``: run an action with the form's reason, flash, redirect."""

VERBS = {"replay": "replayed", "discard": "discarded", "restore": "restored"}
"""The bulk actions the console offers, and their past tense."""
MOST = 500
"""Messages one dry run lists and one confirm takes (the CLI's ``--limit``, at most): their
ids travel in the confirm's form, which is held under the console's 64 KiB."""
_FIELDS = ("group", "dossier", "event_code", "error_code", "since", "until")
_DRY_RUN_REASON = "dry run"
"""The desk asks a reason of every bulk call; a dry run records nothing, so none is kept."""


def parse_moment(text: str, name: str) -> datetime | None:
    """A time typed in a form, read as the CLI reads ``--since`` and ``--until`` (ISO 8601,
    UTC without a zone); None when empty, ``SupportError`` when it is no time."""
    text = text.strip()
    if not text:
        return None
    try:
        found = moment(text)
        found.astimezone(UTC)  # an offset that overflows the calendar fails here, not later
    except (argparse.ArgumentTypeError, OverflowError):
        raise SupportError(
            f"{name}: not an ISO 8601 date or time (2026-11-20, 2026-11-20T09:00+01:00)"
        ) from None
    return found


@dataclass(frozen=True)
class Criteria:
    """A bulk selection as the form gives it: the dossier as its log tag (never the EPD's
    id, which the operator typed once, in a POST), times as ISO 8601 in full."""

    verb: str
    group: str | None = None
    dossier: str | None = None
    event_code: str | None = None
    error_code: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = MOST

    @classmethod
    def of_form(cls, form: MultiDict[str, str]) -> Criteria:
        """The criteria of a posted form; ``SupportError`` for an unknown verb or a bad time."""
        verb = form.get("verb", "")
        if verb not in VERBS:
            raise SupportError("choose replay, discard or restore")
        text = {name: form.get(name, "").strip() or None for name in _FIELDS}
        dossier = text["dossier"]
        if dossier is not None and not lifecycle.is_tag(dossier):
            dossier = lifecycle.tags().of_id(dossier)
        limit = form.get("limit", MOST, type=int) or MOST
        return cls(
            verb=verb,
            group=text["group"],
            dossier=dossier,
            event_code=text["event_code"],
            error_code=text["error_code"],
            since=parse_moment(form.get("since", ""), "since"),
            until=parse_moment(form.get("until", ""), "until"),
            limit=min(max(limit, 1), MOST),
        )

    def selection(self, desk: SupportDesk, message_ids: tuple[str, ...] = ()) -> Selection:
        """The desk's selection of these criteria (and of these messages, if any)."""
        return Selection(
            group=self.group,
            dossier_keys=desk.dossier_keys(self.dossier) if self.dossier else None,
            event_code=self.event_code,
            error_code=self.error_code,
            since=self.since,
            until=self.until,
            message_ids=message_ids,
        )

    def fields(self) -> dict[str, str]:
        """The criteria as the form's fields (empty for those not given)."""
        return {
            "verb": self.verb,
            "group": self.group or "",
            "dossier": self.dossier or "",
            "event_code": self.event_code or "",
            "error_code": self.error_code or "",
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "limit": str(self.limit),
        }


def summary(verb: str, result: BulkResult) -> str:
    """The flashed line of a bulk action: done of selected, and how many were skipped."""
    skipped = f"; {len(result.skipped)} skipped" if result.skipped else ""
    return f"{verb}: {len(result.done)} of {len(result.selected)} message(s){skipped}"


def register(
    app: Flask, desk: SupportDesk, acted: Acted, os_user: Callable[[], str | None]
) -> None:
    """Add ``/bulk`` (the form), its dry run and its confirm to ``app``."""

    calls: dict[str, Callable[..., BulkResult]] = {
        "replay": desk.replay_many,
        "discard": desk.discard_many,
        "restore": desk.restore_many,
    }

    def criteria_of(form: MultiDict[str, str]) -> tuple[Criteria, Selection]:
        criteria = Criteria.of_form(form)
        selection = criteria.selection(desk)
        if selection.empty:
            # The desk refuses too, in the CLI's words (--group, …): these are the form's.
            raise SupportError(
                "name what to take: a group, a dossier, an event code, an error code, or a"
                " time (since, until); the console never takes every message at once"
            )
        return criteria, selection

    @app.get("/bulk")
    @guard.operator_only
    def bulk() -> str:
        return render_template("bulk.html", criteria=None, result=None, verbs=VERBS)

    @app.post("/bulk")
    @guard.operator_only
    def bulk_dry_run() -> tuple[str, int]:
        # Answered here, not redirected: the criteria (a dossier) stay out of the address.
        try:
            criteria, selection = criteria_of(request.form)
            result = calls[criteria.verb](
                selection,
                guard.actor(),
                _DRY_RUN_REASON,
                os_user=os_user(),
                dry_run=True,
                limit=criteria.limit,
            )
        except SupportError as exc:
            flash(str(exc), "error")
            return render_template("bulk.html", criteria=None, result=None, verbs=VERBS), 400
        return render_template(
            "bulk.html", criteria=criteria, result=result, verbs=VERBS, most=MOST
        ), 200

    @app.post("/bulk/confirm")
    @guard.operator_only
    def bulk_confirm() -> WerkzeugResponse:
        message_ids = tuple(request.form.getlist("message_id"))

        def act(actor: str, reason: str) -> str:
            criteria, _ = criteria_of(request.form)
            if not message_ids:
                raise SupportError("nothing to confirm: run the dry run first")
            if len(message_ids) > MOST:
                abort(400, f"at most {MOST} messages at a time")
            result = calls[criteria.verb](
                criteria.selection(desk, message_ids), actor, reason, os_user=os_user()
            )
            return summary(criteria.verb, result)

        return acted(act, url_for("dead_letters"))
