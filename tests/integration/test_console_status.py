"""The console's status page on a store of known content: a daemon on SQLite and the local
RabbitMQ gives one message up (the simulator answers HTTP 500) and holds another behind a
sequence gap, their starts dated so that one is past and one near the 30-day rule; the page,
read through Flask's test client, shows the figures ``vsb-adapter status --json`` prints.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from adapter.console.server import console_app
from adapter.console.users import Role, write_user
from adapter.daemon import Daemon, broker_address
from adapter.devpki import DevPki
from adapter.settings import load_settings
from adapter.support_cli import desk_of
from queues import AnswerWatcher, ConfirmedPublisher
from simulator import Simulator
from tests.integration.test_console_security import PASSWORD, logged_in
from tests.support import reva
from tests.support.cli import cli_json
from tests.support.events import placed
from tests.support.processes import adapter_environ
from tests.support.rig import Harness, wait_for

TODAY = datetime.now(ZoneInfo("Europe/Brussels")).date()
"""The day the store judges deadlines by (the Brussels day of the real clock)."""
GIVE_UP_FAST = {
    # Two tries, then a dead letter; the breaker never opens (it would hold the attempts).
    "VSB_DELIVERY__MAX_ATTEMPTS": "2",
    "VSB_DELIVERY__QUICK_TRIES": "1",
    "VSB_DELIVERY__BREAKER_FAILURES": "1000",
}


class Content(NamedTuple):
    """The console over a store that holds one dead letter and one held message."""

    app: Flask
    cli_status: dict[str, Any]


def application(event_id: str, dossier: str, sequence: int, started: int, serial: int) -> bytes:
    """A REVA application started ``started`` days from today, of a person of its own."""
    start = TODAY + timedelta(days=started)
    document = reva.application(start, start + timedelta(days=300))
    return placed(document, event_id, dossier, sequence, reva.insz(date(1972, 5, 5), serial))


@pytest.fixture
def content(
    pki: DevPki,
    broker_names: dict[str, str],
    simulator: Simulator,
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Content]:
    """Dossier A's application (started 31 days ago) a dead letter, dossier B's (29 days
    ago) stored as number 2 and held behind its missing number 1; the console and the CLI's
    status on that store."""
    users = tmp_path / "users"
    write_user(users, "victor", Role.VIEWER, PASSWORD)
    environ = adapter_environ(
        sqlite_url,
        broker_names,
        simulator.url,
        pki,
        **GIVE_UP_FAST,
        VSB_CONSOLE__ENABLED="true",
        VSB_CONSOLE__USERS_FILE=str(users),
    )
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    settings = load_settings(None, environ)
    desk = desk_of(settings)
    daemon = Daemon(settings)
    address = broker_address(settings)
    with AnswerWatcher(address, settings.broker.answers_exchange) as watcher:
        daemon.start()
        publisher = ConfirmedPublisher(address)
        try:
            adapter = Harness(settings, daemon, watcher, publisher)
            simulator.set_faults("http500", next=1000)
            adapter.send(application("A-1", "A", 1, -31, 1), application("B-2", "B", 2, -29, 3))
            assert wait_for(lambda: len(desk.dead_letters()) == 1, timeout=60)
            assert wait_for(lambda: [m.event_id for m in desk.dossier("B")] == ["B-2"])
            yield Content(console_app(settings, desk), cli_json(capsys, "status"))
        finally:
            publisher.close()
            daemon.stop()


def shown(page: str, element: str) -> str:
    """The text of the element with id ``element`` (its tags taken out)."""
    found = re.search(rf'<(td|span) id="{element}"[^>]*>(.*?)</\1>', page, re.S)
    assert found, f"no #{element} on the page"
    return re.sub(r"<[^>]+>", "", found.group(2)).strip()


def deadline(page: str, rule: str) -> tuple[int, int]:
    """(near, passed) of ``rule`` in the page's deadline table."""
    found = re.search(
        rf'data-rule="{rule}">.*?class="near">(\d+)<.*?class="passed">(\d+)<', page, re.S
    )
    assert found, f"no row of the {rule} rule"
    return int(found.group(1)), int(found.group(2))


class TestStatusPage:
    """``/status`` shows the store's figures as ``vsb-adapter status`` prints them."""

    def test_a_dead_letter_and_a_held_message(self, content: Content) -> None:
        """One dead, one pending; a dossier blocked and one on a gap; the dead letter past
        the 30-day rule and the held message near it; the same as the CLI's figures."""
        client = logged_in(content.app, "victor")  # a viewer may read it
        answer = client.get("/status")
        assert answer.status_code == 200
        page = answer.text
        assert shown(page, "messages") == "1 dead, 1 pending"
        assert (shown(page, "blocked"), shown(page, "gapped"), shown(page, "stuck")) == (
            "1",
            "1",
            "0",
        )
        assert (shown(page, "dead-letters"), shown(page, "dead-letter-groups")) == ("1", "1")
        assert shown(page, "unpublished") == "0"
        assert deadline(page, "30-day") == (1, 1)
        assert deadline(page, "5-day") == (0, 0)
        assert "due within 7 days" in page

        cli = content.cli_status
        assert cli["messages_by_state"] == {"dead": 1, "pending": 1}
        assert (cli["blocked_dossiers"], cli["gapped_dossiers"]) == (1, 1)
        assert cli["dead_letter_groups"] == 1
        assert {rule: (cli["deadlines"][rule]["near"], cli["deadlines"][rule]["passed"])
                for rule in ("30-day", "5-day")} == {
            "30-day": deadline(page, "30-day"),
            "5-day": deadline(page, "5-day"),
        }  # fmt: skip

    def test_what_the_page_leaves_to_the_host(self, content: Content) -> None:
        """No connection checks and no certificate from a web request: the page says where
        to find them, and links the status from the navigation."""
        page = logged_in(content.app, "victor").get("/status").text
        assert "vsb-adapter check" in page
        assert "certificate" in page
        assert "VsbSigningCertificateExpiring" in page
        assert "OK   RabbitMQ" not in page
        assert 'href="/status"' in logged_in(content.app, "victor").get("/dead-letters").text
