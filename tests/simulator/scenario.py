"""The rows of the REVA rule tables and how one is played over HTTP.

A row opens an application on its day, sends the earlier messages of the row on their days
(each must be accepted: a row that fails to set itself up says so), feeds the sessions
ledger, and then sends the one message the row is about, with "today" pinned through the
admin API. Message ids are per position in the row (``m-0`` is the application): a
repeated message within a row is a new message, and a row can name an earlier one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from simulator import Simulator

from .conftest import AFFILIATED, NIHDI, NS, SoapClient, SoapReply, admin, reva_application

Signer = Callable[[etree._Element], etree._Element]

UNKNOWN_REFERENCE = "VSB-2026-999999"
OTHER_NIHDI = "71000028895"

# Persons not in population.json (so affiliated), by birth date; check digits computed.
BORN_2008_02_28 = "08022800149"
BORN_2008_02_29 = "08022900119"
BORN_2008_03_01 = "08030100190"
BORN_2008_03_02 = "08030200160"
MINOR = "10051500117"
"""Born 2010-05-15."""
BIS_PLUS_20 = "10251500160"
"""BIS number, month + 20: born 2010-05-15."""
BIS_PLUS_40 = "10451500106"
"""BIS number, month + 40: born 2010-05-15."""
BIS_NO_BIRTH_DATE = "10400000133"
"""BIS number, month + 40 and day 00: no birth date."""


@dataclass(frozen=True)
class Opening:
    """The accepted application a row starts from (dates as YYYY-MM-DD)."""

    request_type: str = "new"
    start: str = "2026-03-01"
    end: str = "2031-02-28"
    request_date: str | None = None
    """Default: the start date."""
    insz: str = AFFILIATED

    def element(self, message_id: str) -> etree._Element:
        """The unsigned RevaApplication."""
        return reva_application(
            self.insz,
            message_id=message_id,
            request_type=self.request_type,
            start=self.start,
            end=self.end,
            request_date=self.request_date or self.start,
        )

    @property
    def sent_on(self) -> str:
        """The day it is sent: its request date."""
        return self.request_date or self.start


class Send:
    """A message sent on a day: ``build(reference, *args, message_id=…, **kwargs)``."""

    def __init__(
        self,
        day: str,
        build: Callable[..., etree._Element],
        *args: Any,
        to: str | None = None,
        **kwargs: Any,
    ):
        self.day, self.build, self.args, self.to, self.kwargs = day, build, args, to, kwargs

    def submit(self, run: Run, message_id: str) -> SoapReply:
        """Pin today, build the message for the row's reference (or ``to``), submit it."""
        admin(run.simulator, "POST", "today", {"date": self.day})
        element = self.build(
            self.to or run.reference, *self.args, message_id=message_id, **self.kwargs
        )
        return run.client.submit(run.sign(element))

    def prepare(self, run: Run, message_id: str) -> None:
        """Send it as a row's earlier step: it must be accepted."""
        reply = self.submit(run, message_id)
        assert reply.text("v:Outcome") == "accepted", errors(reply)

    def __repr__(self) -> str:
        return f"{self.build.__name__}@{self.day}"


@dataclass(frozen=True)
class Sessions:
    """Sessions fed to the row's application's ledger; all must fit in the quota."""

    day: str
    count: int

    def prepare(self, run: Run, _: str) -> None:
        """Post them through the admin API."""
        body = {"vsb_reference": run.reference, "date": self.day, "count": self.count}
        assert admin(run.simulator, "POST", "sessions", body)["refused"] == 0


@dataclass(frozen=True)
class Recognise:
    """Recognise only these facilities from now on."""

    nihdi: tuple[str, ...] = (NIHDI,)

    def prepare(self, run: Run, _: str) -> None:
        """Set them through the admin API."""
        admin(run.simulator, "POST", "facilities", {"nihdi": list(self.nihdi)})


Step = Send | Sessions | Recognise


@dataclass(frozen=True)
class Expect:
    """The outcome and the error codes, in order, of the row's answer."""

    outcome: str
    codes: tuple[str, ...] = ()


ACCEPTED = Expect("accepted")


def refused(*codes: str) -> Expect:
    """Refused with these codes."""
    return Expect("refused", codes)


def in_beraad(*codes: str) -> Expect:
    """In beraad with these codes."""
    return Expect("in-beraad", codes)


@dataclass(frozen=True)
class Row:
    """One rule at one boundary."""

    id: str
    send: Send
    expect: Expect
    opening: Opening = field(default_factory=Opening)
    before: tuple[Step, ...] = ()


@dataclass
class Run:
    """A row being played."""

    simulator: Simulator
    client: SoapClient
    sign: Signer
    reference: str = ""

    @classmethod
    def on(cls, simulator: Simulator, sign: Signer) -> Run:
        """A run against ``simulator`` with a SOAP client of its own (a connection per call:
        the tables send hundreds of short calls)."""
        return cls(simulator, SoapClient(simulator.url, keep_alive=False), sign)


def errors(reply: SoapReply) -> list[str]:
    """The error codes of an answer, in order."""
    return [code.text or "" for code in reply.answer.findall("v:Error/v:Code", NS)]


def open_application(run: Run, opening: Opening) -> None:
    """Send the row's application on its request date; it must be accepted."""
    admin(run.simulator, "POST", "today", {"date": opening.sent_on})
    reply = run.client.submit(run.sign(opening.element("m-0")))
    assert reply.text("v:Outcome") == "accepted", errors(reply)
    run.reference = reply.text("v:VsbReference") or ""


def play(run: Run, row: Row) -> SoapReply:
    """Open the row's application, take its earlier steps, send its message; the answer."""
    open_application(run, row.opening)
    for position, step in enumerate(row.before, start=1):
        step.prepare(run, f"m-{position}")
    return row.send.submit(run, f"m-{len(row.before) + 1}")


def facility_change(reference: str, **kwargs: Any) -> etree._Element:
    """An application at another facility continuing the one of ``reference``."""
    return reva_application(previous=reference, dossier="D-2", sequence=1, **kwargs)


def check(reply: SoapReply, row: Row, run: Run) -> None:
    """The answer has the row's outcome and codes, in order; an accepted modification
    echoes the reference, an accepted application has a new one, anything else none."""
    outcome = (reply.text("v:Outcome"), errors(reply))
    assert outcome == (row.expect.outcome, list(row.expect.codes))
    reference = reply.text("v:VsbReference")
    if row.expect.outcome != "accepted":
        assert reference is None
    elif row.send.build is facility_change:
        assert reference not in (None, run.reference)
    else:
        assert reference == (row.send.to or run.reference)
