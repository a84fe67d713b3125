"""Which messages a bulk support action takes: a group of dead letters, a filter, a list.

Pure functions over ``MessageView``s: the support desk reads the messages, these decide
which of them a selection names and how dead letters group by cause.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from adapter.causes import Cause, cause_of
from adapter.store import MessageView


@dataclass(frozen=True)
class Selection:
    """What a bulk action takes; every criterion given must hold (none given: nothing).

    ``group`` is a cause's group id (``Cause.group_id``) or its full key; ``dossier_keys``
    the store's ordering keys of the dossiers named (the desk resolves an EPD dossier id
    or a log tag); ``since`` inclusive and ``until`` exclusive compare with the time the
    message reached its state (``updated_at``).
    """

    group: str | None = None
    dossier_keys: tuple[str, ...] | None = None
    event_code: str | None = None
    error_code: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    message_ids: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """True if no criterion is given: a bulk action refuses to take everything."""
        return (
            self.group is None
            and self.dossier_keys is None
            and self.event_code is None
            and self.error_code is None
            and self.since is None
            and self.until is None
            and not self.message_ids
        )

    def describe(self) -> dict[str, object]:
        """The criteria given, for the audit and the log (no personal data: ordering keys
        are the store's, dossier ids appear only as the user typed them elsewhere)."""
        found: dict[str, object] = {}
        for name in ("group", "event_code", "error_code"):
            value = getattr(self, name)
            if value is not None:
                found[name] = value
        if self.dossier_keys is not None:
            found["dossiers"] = len(self.dossier_keys)
        if self.since is not None:
            found["since"] = self.since.isoformat()
        if self.until is not None:
            found["until"] = self.until.isoformat()
        if self.message_ids:
            found["message_ids"] = len(self.message_ids)
        return found

    def matches(self, message: MessageView) -> bool:
        """Whether ``message`` meets every criterion given."""
        cause = cause_of(message.last_error)
        checks = (
            self.group is None or self.group in (cause.group_id, cause.key),
            self.dossier_keys is None or message.dossier_key in self.dossier_keys,
            self.event_code is None or message.event_code == self.event_code,
            self.error_code is None or cause.code == self.error_code,
            self.since is None or message.updated_at >= self.since,
            self.until is None or message.updated_at < self.until,
            not self.message_ids or message.message_id in self.message_ids,
        )
        return all(checks)


def in_dossier_order(messages: Iterable[MessageView]) -> list[MessageView]:
    """Messages by dossier, then sequence number: a bulk action's order."""
    return sorted(messages, key=lambda m: (m.dossier_key or "", m.sequence or 0, m.message_id))


@dataclass(frozen=True)
class DeadLetterGroup:
    """The dead letters of one cause: how many, since when, which dossiers."""

    cause: Cause
    count: int
    first_seen: datetime
    last_seen: datetime
    dossiers: int
    """Dossiers blocked by the group's dead letters."""
    event_codes: dict[str, int]
    message_ids: tuple[str, ...] = field(repr=False)
    """Oldest first."""


def grouped(dead_letters: Sequence[MessageView]) -> list[DeadLetterGroup]:
    """Dead letters grouped by cause, the largest group first (then the oldest)."""
    by_key: dict[str, list[MessageView]] = {}
    causes: dict[str, Cause] = {}
    for message in dead_letters:
        cause = cause_of(message.last_error)
        causes[cause.key] = cause
        by_key.setdefault(cause.key, []).append(message)
    groups = []
    for key, members in by_key.items():
        members.sort(key=lambda m: (m.updated_at, m.message_id))
        codes: dict[str, int] = {}
        for m in members:
            codes[m.event_code] = codes.get(m.event_code, 0) + 1
        groups.append(
            DeadLetterGroup(
                cause=causes[key],
                count=len(members),
                first_seen=members[0].updated_at,
                last_seen=members[-1].updated_at,
                dossiers=len({m.dossier_key or m.message_id for m in members}),
                event_codes=dict(sorted(codes.items())),
                message_ids=tuple(m.message_id for m in members),
            )
        )
    groups.sort(key=lambda g: (-g.count, g.first_seen, g.cause.key))
    return groups
