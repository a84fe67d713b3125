"""Support's actions on many dead letters at once: by cause, dossier, event code, time.

``BulkActions`` is the part of ``adapter.support.SupportDesk`` that selects messages
(``adapter.selection``) and runs one action on each, in its own transaction, only while it
is still in the state the action takes (``adapter.bulk``): an interrupted run is run again
and does nothing twice. The single-message actions stay on the desk; these call them.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping

from adapter.bulk import BulkResult, OneMessage, Progress, run_bulk
from adapter.clock import Clock
from adapter.lifecycle import Step
from adapter.selection import DeadLetterGroup, Selection, grouped, in_dossier_order
from adapter.store import MessageView, Store, Support, SupportError
from adapter.store.records import MessageState, PreparedAnswer


def why(reason: str | None, os_user: str | None) -> dict[str, object]:
    """The audit detail of an action: why, and the OS account it ran under."""
    found: dict[str, object] = {}
    if reason is not None:
        found["reason"] = reason
    if os_user is not None:
        found["os_user"] = os_user
    return found


def require(actor: str, reason: str) -> None:
    """Refuse an action without a person and a reason for the audit log."""
    if not actor.strip():
        raise SupportError("--actor is required: who does this, for the audit log")
    if not reason.strip():
        raise SupportError("--reason is required: why, for the audit log")


class BulkActions(abc.ABC):
    """Replay, discard and restore over a selection; the desk provides the single ones."""

    _support: Support
    _store: Store
    _clock: Clock

    @abc.abstractmethod
    def _discard_one(
        self, message_id: str, actor: str, reason: str, audited: Mapping[str, object]
    ) -> tuple[MessageView, PreparedAnswer]:
        """Discard one dead letter; its view and the answer made for the EPD."""

    @abc.abstractmethod
    def _restore_one(
        self, message_id: str, actor: str, audited: Mapping[str, object]
    ) -> MessageView:
        """Restore one discarded message."""

    def dead_letter_groups(self) -> list[DeadLetterGroup]:
        """Every dead letter grouped by cause (``adapter.causes``), the largest group first."""
        return grouped(self._support.dead_letters(None))

    def selected(
        self, selection: Selection, state: MessageState = MessageState.DEAD
    ) -> list[MessageView]:
        """The messages in ``state`` that ``selection`` names, in dossier order."""
        if selection.empty:
            raise SupportError(
                "name what to take: message ids, --group, --dossier, --event-code,"
                " --error-code or --since/--until"
            )
        found = self._support.in_state(state)
        return in_dossier_order(m for m in found if selection.matches(m))

    def replay_many(
        self,
        selection: Selection,
        actor: str,
        reason: str,
        *,
        os_user: str | None = None,
        dry_run: bool = False,
        limit: int | None = None,
        progress: Progress | None = None,
    ) -> BulkResult:
        """Replay every dead letter ``selection`` names, each in its own transaction and
        only while it is still a dead letter: run again, it replays nothing twice."""

        def one(message_id: str, audited: Mapping[str, object]) -> MessageView:
            now = self._clock.now()
            return self._support.replay(message_id, actor, now, audited=audited)

        return self._bulk(
            "replay", Step.REPLAYED, MessageState.DEAD, one, selection, actor, reason,
            os_user, dry_run, limit, progress,
        )  # fmt: skip

    def discard_many(
        self,
        selection: Selection,
        actor: str,
        reason: str,
        *,
        os_user: str | None = None,
        dry_run: bool = False,
        limit: int | None = None,
        progress: Progress | None = None,
    ) -> BulkResult:
        """Discard every dead letter ``selection`` names (``discard``, one transaction each)."""

        def one(message_id: str, audited: Mapping[str, object]) -> MessageView:
            return self._discard_one(message_id, actor, reason, audited)[0]

        return self._bulk(
            "discard", Step.DISCARDED, MessageState.DEAD, one, selection, actor, reason,
            os_user, dry_run, limit, progress,
        )  # fmt: skip

    def restore_many(
        self,
        selection: Selection,
        actor: str,
        reason: str,
        *,
        os_user: str | None = None,
        dry_run: bool = False,
        limit: int | None = None,
        progress: Progress | None = None,
    ) -> BulkResult:
        """Restore every discarded message ``selection`` names (``restore``, one each)."""

        def one(message_id: str, audited: Mapping[str, object]) -> MessageView:
            return self._restore_one(message_id, actor, audited)

        return self._bulk(
            "restore", Step.RESTORED, MessageState.DISCARDED, one, selection, actor, reason,
            os_user, dry_run, limit, progress,
        )  # fmt: skip

    def _why_not(self, message_id: str, state: MessageState) -> str:
        """Why a message named by id is not among those a selection takes."""
        known = self._store.message(message_id)
        if known is None:
            return "unknown"
        if known.state is not state:
            return f"{known.state}, not {state.value}"
        # In the right state again (replayed and failed anew), but past the other criteria.
        return "outside the selection's other criteria"

    def _bulk(
        self,
        action: str,
        name: Step,
        state: MessageState,
        one: OneMessage,
        selection: Selection,
        actor: str,
        reason: str,
        os_user: str | None,
        dry_run: bool,
        limit: int | None,
        progress: Progress | None,
    ) -> BulkResult:
        require(actor, reason)
        chosen = self.selected(selection, state)
        result = BulkResult(action, chosen[:limit] if limit is not None else chosen, dry_run)
        taken = {m.message_id for m in chosen}
        for message_id in selection.message_ids:
            if message_id not in taken:
                result.skipped.append((message_id, self._why_not(message_id, state)))
        audited = {**why(reason, os_user), "bulk": selection.describe()}
        return run_bulk(result, one, name, selection, audited, self._clock, progress)
