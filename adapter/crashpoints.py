"""Crash points for fault tests: the process kills itself at a named state change.

Armed once at start from ``settings.crash_point`` (``VSB_CRASH_POINT``); unarmed in
production, where ``reach`` costs one string comparison. The kill is SIGKILL, as a power cut
or the OOM killer would do it: no cleanup, no flush, no goodbye.
"""

from __future__ import annotations

import enum
import logging
import os
import signal
import threading

log = logging.getLogger(__name__)


class CrashPoint(enum.StrEnum):
    """The state changes a fault test may kill the adapter at."""

    AFTER_STORE_BEFORE_ACK = "after-store-before-ack"
    """The event is committed to the store; RabbitMQ has not been told."""
    AFTER_SENDING_BEFORE_ANSWER = "after-sending-before-answer"
    """The message is committed as ``sending`` and was submitted; its answer is not stored."""
    AFTER_ANSWER_BEFORE_PUBLISH = "after-answer-before-publish"
    """The answer is stored; it has not been published (or its confirm not recorded)."""
    AFTER_PUBLISH_BEFORE_CONFIRM = "after-publish-before-mailbox-confirm"
    """A mailbox answer was published; the central application was not told we have it."""
    MIGRATION_HALFWAY = "migration-halfway"
    """``migration send`` has published (and RabbitMQ confirmed) half of its events."""
    DISPATCHER_HANG = "dispatcher-hang"
    """Not a kill: the dispatcher thread hangs forever once it claimed a message, as a
    deadlock would (the watchdog test)."""


_armed: CrashPoint | None = None


def arm(name: str) -> None:
    """Arm the named crash point (an empty name disarms)."""
    global _armed
    _armed = CrashPoint(name) if name else None
    if _armed is not None:
        log.warning("crash point %s is armed: this process will kill itself there", _armed)


def hang(point: CrashPoint) -> None:
    """Block the calling thread for good if ``point`` is the armed one."""
    if _armed is point:
        log.warning("hang point %s reached: this thread stops here", point)
        threading.Event().wait()


def reach(point: CrashPoint) -> None:
    """Kill the process if ``point`` is the armed one."""
    if _armed is point:
        os.kill(os.getpid(), signal.SIGKILL)
