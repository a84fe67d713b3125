"""The store's side of ``vsb-adapter status``, for the CLI and the web console alike.

One summary, read through ``SupportDesk``: messages per state, the oldest pending, the
dossiers that cannot move, the dead letters and their groups by cause, the answers not yet
published, and the messages near or past their domain deadline. The CLI prints it (text or
JSON) with ``check``'s lines and the certificate; the console renders it as a page, without
the checks (they wait seconds on the broker and the central application).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from adapter.settings import Settings
from adapter.support import SupportDesk
from mappings.deadline import DeadlineRule


@dataclass(frozen=True)
class Thresholds:
    """What the summary judges by: when a gap counts as stuck, when a deadline as near."""

    gap_alert: timedelta
    """A dossier waiting longer than this on a missing number is stuck."""
    warning_days: int
    """A message due within this many days counts as near its deadline."""

    @classmethod
    def of(cls, settings: Settings) -> Thresholds:
        """The thresholds of ``settings`` (``delivery.gap_alert_seconds``,
        ``monitoring.deadline_warning_days``), as the metrics use them."""
        return cls(
            timedelta(seconds=settings.delivery.gap_alert_seconds),
            settings.monitoring.deadline_warning_days,
        )


@dataclass(frozen=True)
class RuleFigures:
    """The messages on their way near or past one rule's deadline."""

    rule: DeadlineRule
    near: int
    passed: int


@dataclass(frozen=True)
class StoreSummary:
    """The store's figures as ``vsb-adapter status`` shows them."""

    messages_by_state: dict[str, int]
    """Sorted by state."""
    oldest_pending_seconds: float
    dead_letters: int
    dead_letter_groups: int
    blocked_dossiers: int
    waiting_dossiers: int
    gapped_dossiers: int
    stuck_dossiers: int
    unpublished_answers: int
    warning_days: int
    deadlines: tuple[RuleFigures, ...]
    """One per ``DeadlineRule``, in its order."""

    def lines(self) -> list[str]:
        """The summary as the lines ``vsb-adapter status`` prints."""
        states = ", ".join(f"{n} {state}" for state, n in self.messages_by_state.items())
        near = ", ".join(
            f"{d.rule.value} rule: {d.near} near, {d.passed} passed" for d in self.deadlines
        )
        return [
            f"messages: {states or 'none'}",
            f"oldest pending: {self.oldest_pending_seconds:.0f} s",
            f"dossiers: {self.blocked_dossiers} blocked by a dead letter,"
            f" {self.waiting_dossiers} waiting for a decision, {self.gapped_dossiers} on a gap"
            f" ({self.stuck_dossiers} stuck)",
            f"dead letters: {self.dead_letters} in {self.dead_letter_groups} group(s) by cause"
            " (dead-letters --group)",
            f"answers not yet published: {self.unpublished_answers}",
            f"deadlines (not yet sent, due within {self.warning_days} days or past): {near}",
        ]

    def as_json(self) -> dict[str, object]:
        """The summary under the keys of ``vsb-adapter status --json``."""
        return {
            "messages_by_state": dict(self.messages_by_state),
            "oldest_pending_seconds": round(self.oldest_pending_seconds, 1),
            "dead_letters": self.dead_letters,
            "dead_letter_groups": self.dead_letter_groups,
            "blocked_dossiers": self.blocked_dossiers,
            "waiting_dossiers": self.waiting_dossiers,
            "gapped_dossiers": self.gapped_dossiers,
            "stuck_dossiers": self.stuck_dossiers,
            "unpublished_answers": self.unpublished_answers,
            "deadlines": {
                "warning_days": self.warning_days,
                **{d.rule.value: {"near": d.near, "passed": d.passed} for d in self.deadlines},
            },
        }


def store_summary(desk: SupportDesk, thresholds: Thresholds) -> StoreSummary:
    """The store's figures now, read through ``desk``."""
    stats = desk.store_status(thresholds.gap_alert)
    deadlines = desk.deadlines(thresholds.warning_days)
    groups = desk.dead_letter_groups()
    return StoreSummary(
        messages_by_state=dict(sorted(stats.by_state.items())),
        oldest_pending_seconds=stats.oldest_pending_seconds,
        dead_letters=stats.by_state.get("dead", 0),
        dead_letter_groups=len(groups),
        blocked_dossiers=stats.blocked_dossiers,
        waiting_dossiers=stats.waiting_dossiers,
        gapped_dossiers=stats.gapped_dossiers,
        stuck_dossiers=stats.stuck_dossiers,
        unpublished_answers=stats.unpublished_answers,
        warning_days=thresholds.warning_days,
        deadlines=tuple(
            RuleFigures(rule, deadlines.near.get(rule, 0), deadlines.passed.get(rule, 0))
            for rule in DeadlineRule
        ),
    )
