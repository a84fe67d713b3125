"""The rows of the PVT rule tables and how one is played over HTTP (as ``scenario`` does
for REVA): "today" pinned through the admin API, the admission opened (it must be
accepted), the earlier steps sent, then the row's message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from .conftest import NS, SoapReply, admin
from .scenario import Expect, Run, Send, Step, errors

Build = Callable[..., etree._Element]


@dataclass(frozen=True)
class Admit:
    """A PvtAdmission sent on ``day``: ``build(message_id=…, **kwargs)``."""

    day: str
    build: Build
    kwargs: dict[str, Any] = field(default_factory=dict)

    def submit(self, run: Run, message_id: str) -> SoapReply:
        """Pin today and submit it."""
        admin(run.simulator, "POST", "today", {"date": self.day})
        return run.client.submit(run.sign(self.build(message_id=message_id, **self.kwargs)))


@dataclass(frozen=True)
class PvtRow:
    """One rule at one boundary: the message, the answer, the period granted if accepted."""

    id: str
    send: Send | Admit
    expect: Expect
    granted: tuple[str, str | None] | None = None
    """(Start, End) of the answer's GrantedPeriod; ``None``: no GrantedPeriod."""
    opening: Admit | None = None
    """The admission a modification names (must be accepted); none for an admission row."""
    before: tuple[Step, ...] = ()


def granted(reply: SoapReply) -> tuple[str, str | None] | None:
    """(Start, End) of the answer's GrantedPeriod, ``None`` without one."""
    period = reply.answer.find("v:GrantedPeriod", NS)
    if period is None:
        return None
    return period.findtext("v:Start", namespaces=NS) or "", period.findtext("v:End", namespaces=NS)


def open_admission(run: Run, opening: Admit) -> None:
    """Send the row's admission as ``m-0``; it must be accepted."""
    reply = opening.submit(run, "m-0")
    assert reply.text("v:Outcome") == "accepted", errors(reply)
    run.reference = reply.text("v:VsbReference") or ""


def play_pvt(run: Run, row: PvtRow) -> SoapReply:
    """Open the row's admission (if any), take its earlier steps, send its message."""
    if row.opening is not None:
        open_admission(run, row.opening)
    for position, step in enumerate(row.before, start=1):
        step.prepare(run, f"m-{position}")
    return row.send.submit(run, f"m-{len(row.before) + 1}")


def check_pvt(reply: SoapReply, row: PvtRow, run: Run) -> None:
    """The row's outcome and codes in order, its granted period, and the reference: new for
    an accepted admission, echoed by an accepted modification, none otherwise."""
    assert (reply.text("v:Outcome"), errors(reply)) == (row.expect.outcome, list(row.expect.codes))
    assert granted(reply) == row.granted
    reference = reply.text("v:VsbReference")
    if row.expect.outcome != "accepted":
        assert reference is None
    elif isinstance(row.send, Admit):
        assert reference is not None
        assert reference.startswith("VSB-")
    else:
        assert reference == (row.send.to or run.reference)
