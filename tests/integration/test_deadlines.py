"""The deadline figures end to end: events published on RabbitMQ, stored by the daemon, the
applications they modify answered by the simulator, and the messages still on their way
counted near or past their deadline by ``vsb-adapter status`` and the gauges of ``/metrics``.

A message is kept from the central application the way production keeps it: behind a gap
(its dossier's previous number never comes). One daemon and one simulator serve the module;
the simulator's "today" is the real Brussels day, so the dates of each row, counted from it,
are judged by both sides alike. Each row has its own dossiers and person, and looks at what
its own events add to the figures.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.request import urlopen
from zoneinfo import ZoneInfo

import pytest
from prometheus_client.parser import text_string_to_metric_families

from adapter.clock import SystemClock
from adapter.daemon import Daemon, broker_address
from adapter.devpki import DevPki
from adapter.settings import load_settings
from adapter.support import SupportDesk
from queues import AnswerWatcher, ConfirmedPublisher
from simulator import Simulator
from tests.conftest import signing_config
from tests.support import reva
from tests.support.cli import cli_json
from tests.support.events import example, placed
from tests.support.processes import adapter_environ, unique_broker_names
from tests.support.rig import Harness, outcome, wait_for

TODAY = datetime.now(ZoneInfo("Europe/Brussels")).date()
WARNING_DAYS = 7
RULES = ("30-day", "5-day")
Figures = dict[str, tuple[int, int]]
"""Per rule: (near, passed)."""


@dataclass
class Rig:
    """The daemon, its simulator and the CLI on its store, for the whole module."""

    adapter: Harness
    simulator: Simulator
    desk: SupportDesk
    rows: int = 0

    def status(self, capsys: pytest.CaptureFixture[str]) -> Figures:
        """The deadline figures ``vsb-adapter status --json`` prints."""
        shown = cli_json(capsys, "status")["deadlines"]
        assert shown["warning_days"] == WARNING_DAYS
        return {rule: (shown[rule]["near"], shown[rule]["passed"]) for rule in RULES}

    def gauges(self) -> Figures:
        """The deadline gauges of the daemon's ``/metrics``, read over HTTP."""
        port = self.adapter.daemon.health_server.port
        with urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            body = response.read().decode()
        values: dict[tuple[str, str], float] = {
            (sample.name, sample.labels["rule"]): sample.value
            for family in text_string_to_metric_families(body)
            for sample in family.samples
            if sample.name.startswith("vsb_messages_deadline_")
        }
        return {
            rule: (
                int(values[("vsb_messages_deadline_near", rule)]),
                int(values[("vsb_messages_deadline_passed", rule)]),
            )
            for rule in RULES
        }

    def new_row(self) -> Row:
        """A row's own dossier tag and person."""
        self.rows += 1
        return Row(self, f"dl{self.rows}-{uuid.uuid4().hex[:6]}", self.rows)


@dataclass
class Row:
    """One row being played: its dossier and person."""

    rig: Rig
    tag: str
    serial: int

    @property
    def person(self) -> str:
        return reva.insz(date(1975, 3, 3), self.serial)

    def accepted(self, document: dict[str, Any], sequence: int) -> None:
        """Send ``document`` as number ``sequence`` of the row's dossier; it is accepted."""
        self.rig.simulator.set_person(self.person, "affiliated", "180", date(2001, 10, 1))
        event_id = f"{self.tag}-{sequence}"
        [sent] = self.rig.adapter.send(placed(document, event_id, self.tag, sequence, self.person))
        answer = self.rig.adapter.answers([sent])[sent][-1]
        assert outcome(answer) == "accepted", answer

    def held(self, document: dict[str, Any], sequence: int) -> None:
        """Send ``document`` as number ``sequence``, after a gap: stored, never sent."""
        event_id = f"{self.tag}-{sequence}"
        self.rig.adapter.send(placed(document, event_id, self.tag, sequence, self.person))
        assert wait_for(
            lambda: any(m.event_id == event_id for m in self.rig.desk.dossier(self.tag))
        ), f"{event_id} was not stored"


def application(start: date) -> dict[str, Any]:
    """A REVA application (a new request) starting on ``start``."""
    return reva.application(start, start + timedelta(days=300))


def pvt_admission(start: date) -> dict[str, Any]:
    """A PVT admission (a new request) from ``start``."""
    document = example("26-pvt-admission-new")
    claim = next(
        e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == "Claim"
    )
    claim["billablePeriod"] = {"start": start.isoformat()}
    claim["created"] = start.isoformat()
    return document


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


Play = Callable[[Row], None]


def held_application(start: int) -> Play:
    """An application started ``start`` days from today, held behind a gap."""
    return lambda row: row.held(application(days(start)), 2)


def held_admission(start: int) -> Play:
    """A PVT admission from ``start`` days from today, held behind a gap."""
    return lambda row: row.held(pvt_admission(days(start)), 2)


def change_after_end(end: int, change: Callable[[], dict[str, Any]] = reva.data_change) -> Play:
    """An application accepted whose period ends ``end`` days from today, then a change of it
    held behind a gap."""

    def play(row: Row) -> None:
        row.accepted(reva.application(days(-20), days(end)), 1)
        row.held(change(), 3)

    return play


def change_after_stop(stop: int, *, cancelled: bool = False) -> Play:
    """An application accepted (its period ends in 200 days), stopped ``stop`` days from today
    (and the stop cancelled), then a change held behind a gap."""

    def play(row: Row) -> None:
        row.accepted(reva.application(days(-20), days(200)), 1)
        row.accepted(reva.stop(days(stop)), 2)
        if cancelled:
            row.accepted(reva.stop_cancel(), 3)
        row.held(reva.data_change(), 5 if cancelled else 4)

    return play


ZERO: Figures = {"30-day": (0, 0), "5-day": (0, 0)}
NEAR_30: Figures = {"30-day": (1, 0), "5-day": (0, 0)}
PAST_30: Figures = {"30-day": (0, 1), "5-day": (0, 0)}
NEAR_5: Figures = {"30-day": (0, 0), "5-day": (1, 0)}
PAST_5: Figures = {"30-day": (0, 0), "5-day": (0, 1)}

ROWS: list[tuple[str, Play, Figures]] = [
    # The 30-day rule: started on D, due on D+30 (DOMAIN.md, "REVA: rehabilitation applications").
    ("30-day: due the day after the warning horizon", held_application(-22), ZERO),
    ("30-day: due on the horizon's last day", held_application(-23), NEAR_30),
    ("30-day: due tomorrow", held_application(-29), NEAR_30),
    ("30-day: due today", held_application(-30), NEAR_30),
    ("30-day: due yesterday", held_application(-31), PAST_30),
    ("30-day: a PVT admission due today", held_admission(-30), NEAR_30),
    ("30-day: a PVT admission due yesterday", held_admission(-31), PAST_30),
    # The 5-day window: the period closed on D, a change is due on D+5 ("Late changes").
    ("5-day: period ends in 3 days (due after the horizon)", change_after_end(3), ZERO),
    ("5-day: period ends in 2 days (due on the horizon)", change_after_end(2), NEAR_5),
    ("5-day: period ended 4 days ago (due tomorrow)", change_after_end(-4), NEAR_5),
    ("5-day: period ended 5 days ago (due today)", change_after_end(-5), NEAR_5),
    ("5-day: period ended 6 days ago (due yesterday)", change_after_end(-6), PAST_5),
    ("5-day: a document, processed whenever it comes", change_after_end(-6, reva.document), ZERO),
    ("5-day: stopped 5 days ago (due today)", change_after_stop(-5), NEAR_5),
    ("5-day: stopped 6 days ago (due yesterday)", change_after_stop(-6), PAST_5),
    # Its cancel is a change too: on D+5 it is still processed automatically.
    ("5-day: stopped 5 days ago, the stop cancelled", change_after_stop(-5, cancelled=True), ZERO),
]


@pytest.fixture(scope="module")
def rig(pki: DevPki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    """A simulator on today's date, a daemon on SQLite, the CLI's environment on its store."""
    store = tmp_path_factory.mktemp("deadlines") / "store.db"
    with (
        Simulator(signing_config(pki, today=TODAY)) as simulator,
        unique_broker_names() as names,
        pytest.MonkeyPatch.context() as monkeypatch,
    ):
        environ = adapter_environ(f"sqlite:///{store}", names, simulator.url, pki)
        for key, value in environ.items():
            monkeypatch.setenv(key, value)
        settings = load_settings(None, environ)
        assert settings.monitoring.deadline_warning_days == WARNING_DAYS  # the default
        daemon = Daemon(settings)
        address = broker_address(settings)
        with AnswerWatcher(address, settings.broker.answers_exchange) as watcher:
            daemon.start()
            publisher = ConfirmedPublisher(address)
            try:
                harness = Harness(settings, daemon, watcher, publisher)
                desk = SupportDesk(daemon.store, daemon.facility, SystemClock())
                yield Rig(harness, simulator, desk)
            finally:
                publisher.close()
                daemon.stop()


class TestDeadlineFigures:
    """Each rule at its boundaries: what a row's held message adds to the figures."""

    @pytest.mark.parametrize(("play", "added"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
    def test_row(
        self, rig: Rig, capsys: pytest.CaptureFixture[str], play: Play, added: Figures
    ) -> None:
        """``status`` counts the row's message near, past or not at all, as the rule says."""
        before = rig.status(capsys)
        play(rig.new_row())
        after = rig.status(capsys)
        found = {
            rule: (after[rule][0] - before[rule][0], after[rule][1] - before[rule][1])
            for rule in RULES
        }
        assert found == added

    @pytest.mark.parametrize(
        ("play", "due", "words"),
        [
            (held_application(-29), days(1), "(in 1 day(s); 30-day rule: an application"),
            (change_after_end(-6), days(-1), "(passed 1 day(s) ago; 5-day rule: a change"),
        ],
        ids=["30-day due tomorrow", "5-day passed yesterday"],
    )
    def test_the_dossier_says_its_deadline(
        self,
        rig: Rig,
        capsys: pytest.CaptureFixture[str],
        play: Play,
        due: date,
        words: str,
    ) -> None:
        """``vsb-adapter dossier`` names the held message's due day and what comes after it."""
        row = rig.new_row()
        play(row)
        text = cli_json(capsys, "dossier", row.tag)["waits"]["text"]
        assert f"must reach the central application by {due.isoformat()} {words}" in text

    def test_the_gauges_show_what_status_shows(
        self, rig: Rig, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """After the rows (or on their own), ``/metrics`` settles on the figures of ``status``,
        which are not all zero."""
        if rig.rows == 0:
            for _, play, _ in ROWS[1:5]:
                play(rig.new_row())
        expected = rig.status(capsys)
        assert expected["30-day"] != (0, 0)
        assert wait_for(lambda: rig.gauges() == expected), (rig.gauges(), expected)
