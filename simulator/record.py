"""The record of Submit calls, for tests: what came in, when, and how it was answered.

``received_at`` and ``finished_at`` are ``time.monotonic()`` values (comparable within one
process, so in-process tests can check that two messages of a dossier never overlapped);
the ``*_wall`` fields are ISO wall-clock times. ``finished_at`` is taken *before* the
response is written: a client may send its next message as soon as it has read the answer,
and that message must never look as if it overlapped the previous one.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Call:
    """One Submit call."""

    received_at: float
    received_wall: str
    message_id: str | None = None
    kind: str | None = None
    dossier_id: str | None = None
    sequence: int | None = None
    outcome: str | None = None
    answer_id: str | None = None
    duplicate: bool = False
    http_status: int | None = None
    """``None`` when the connection was dropped without a response."""
    fault: str | None = None
    """``"soap:Client: <reason>"`` or ``"soap:Server: <reason>"`` for a SOAP fault."""
    injected: str | None = None
    """The fault kind injected into this call, if any."""
    finished_at: float | None = None
    finished_wall: str | None = None
    abandoned_at: float | None = None
    """When the client hung up during an injected stall, before it had an answer."""

    @property
    def open_until(self) -> float:
        """When the call stopped being in processing for the client (``inf`` while open)."""
        ends = [t for t in (self.finished_at, self.abandoned_at) if t is not None]
        return min(ends, default=float("inf"))

    def to_json(self) -> dict[str, Any]:
        """The admin API's JSON shape."""
        return asdict(self)


class Recorder:
    """A thread-safe list of calls."""

    def __init__(self) -> None:
        self._calls: list[Call] = []
        self._lock = threading.Lock()

    def add(self, call: Call) -> None:
        """Append a call (the handler keeps filling it in; reads copy it under the lock)."""
        with self._lock:
            self._calls.append(call)

    def calls(self) -> list[Call]:
        """Copies of the calls so far, in the order they arrived."""
        with self._lock:
            return [Call(**asdict(call)) for call in self._calls]

    def update(self, call: Call, **fields: Any) -> None:
        """Change fields of a recorded call under the lock."""
        with self._lock:
            for name, value in fields.items():
                setattr(call, name, value)

    def reset(self) -> None:
        """Forget every call."""
        with self._lock:
            self._calls.clear()


def overlaps(calls: list[Call]) -> list[tuple[Call, Call]]:
    """Pairs of calls of the same dossier that were in processing at the same time.

    A call still in processing counts as open-ended. Calls without a dossier id (look-ups)
    are never paired. A call the client gave up on during a stall (a timeout) counts until the
    client hung up: its resend, and the next message of its dossier, may then come while the
    simulator is still "working" on it, as they would against the real central application.
    """
    found = []
    for index, first in enumerate(calls):
        for second in calls[index + 1 :]:
            if first.dossier_id is None or first.dossier_id != second.dossier_id:
                continue
            if first.received_at < second.open_until and second.received_at < first.open_until:
                found.append((first, second))
    return found
