"""The console's bulk action by filter and the audit's time range, through Flask's test client
on a real SQLite store: a daemon on the local RabbitMQ makes dead letters of two causes (the
simulator answers HTTP 500, then a soap:Server fault) and stops; the console selects among
them with a dry run, then confirms, as ``vsb-adapter replay|discard|restore`` do."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from adapter.console.server import console_app
from adapter.console.users import Role, write_user
from adapter.daemon import Daemon, broker_address
from adapter.devpki import DevPki
from adapter.lifecycle import tags
from adapter.settings import load_settings
from adapter.store import MessageView
from adapter.store.records import MessageState
from adapter.support import SupportDesk
from adapter.support_cli import desk_of
from queues import ConfirmedPublisher
from simulator import Simulator
from tests.integration.test_console_security import PASSWORD, logged_in, token
from tests.support import events
from tests.support.processes import adapter_environ
from tests.support.rig import publish_events, wait_for

pytestmark = pytest.mark.rabbitmq

GIVE_UP_FAST = {
    # Two tries, then a dead letter; the breaker never opens (it would hold the attempts).
    "VSB_DELIVERY__MAX_ATTEMPTS": "2",
    "VSB_DELIVERY__QUICK_TRIES": "1",
    "VSB_DELIVERY__BREAKER_FAILURES": "1000",
}
DOSSIER_A = "EPD-85073003328-A"
"""An EPD dossier id as it may come, with an INSZ in it: it must stay out of every address."""


class Letters(NamedTuple):
    """The console over a store of four dead letters, and a desk on the same store."""

    app: Flask
    desk: SupportDesk
    by_event: dict[str, MessageView]
    between: datetime
    """After the three HTTP 500 letters died, before the soap:Server one was sent."""


@pytest.fixture
def letters(
    pki: DevPki,
    broker_names: dict[str, str],
    simulator: Simulator,
    sqlite_url: str,
    tmp_path: Path,
) -> Letters:
    """HTTP 500: dossier A's application, B's application, C's insurance look-up; then a
    soap:Server fault: D's application. The daemon stops, so a replayed letter stays pending."""
    users = tmp_path / "users"
    write_user(users, "olivia", Role.OPERATOR, PASSWORD)
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
    settings = load_settings(None, environ)
    desk = desk_of(settings)
    daemon = Daemon(settings)
    daemon.start()
    publisher = ConfirmedPublisher(broker_address(settings))
    exchange = settings.broker.events_exchange
    try:
        simulator.set_faults("http500", next=1000)
        publish_events(
            publisher,
            exchange,
            [
                events.application("A-1", DOSSIER_A, 1),
                events.application("B-1", "EPD-B", 1),
                events.lookup("C-1", "EPD-C", 1),
            ],
        )
        assert wait_for(lambda: len(desk.dead_letters()) == 3, timeout=60), [
            (m.event_id, m.state, m.last_error)
            for d in ("EPD-B", "EPD-C", DOSSIER_A)
            for m in desk.dossier(d)
        ]
        between = datetime.now(UTC)
        simulator.set_faults("soap-server-fault", next=1000)
        publish_events(publisher, exchange, [events.application("D-1", "EPD-D", 1)])
        assert wait_for(lambda: len(desk.dead_letters()) == 4, timeout=60)
    finally:
        publisher.close()
        daemon.stop()
    by_event = {m.event_id: m for m in desk.dead_letters()}
    return Letters(console_app(settings, desk), desk, by_event, between)


def dry_run(client: FlaskClient, **criteria: str) -> TestResponse:
    """The dry run of ``criteria`` posted from the bulk page's form."""
    return client.post("/bulk", data={"csrf_token": token(client, "/bulk"), **criteria})


def confirm_form(page: str) -> dict[str, list[str]]:
    """The hidden fields of the dry run's confirm form (the CSRF token among them)."""
    form = re.search(r'<form[^>]*id="bulk-confirm".*?</form>', page, re.S)
    assert form, "no confirm form on the page"
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(
        r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(0)
    ):
        fields.setdefault(name, []).append(value)
    return fields


def confirm(client: FlaskClient, page: str, reason: str = "INC-7 over") -> TestResponse:
    """The confirm of the dry run ``page`` shows, with ``reason``; its redirect followed."""
    return client.post(
        "/bulk/confirm", data={**confirm_form(page), "reason": reason}, follow_redirects=True
    )


def listed(page: str) -> set[str]:
    """The message ids in the dry run's table."""
    table = re.search(r'<table id="selected">.*?</table>', page, re.S)
    return set(re.findall(r'data-message-id="([^"]+)"', table.group(0))) if table else set()


def flashed(page: str) -> list[str]:
    return [text.strip() for text in re.findall(r'<p class="flash[^"]*"[^>]*>(.*?)</p>', page)]


def states(letters: Letters) -> dict[str, MessageState]:
    """Every test message's state now, by event id."""
    return {
        event_id: letters.desk.show(m.message_id).message.state
        for event_id, m in letters.by_event.items()
    }


def ids(letters: Letters, *event_ids: str) -> set[str]:
    return {letters.by_event[e].message_id for e in event_ids}


class TestDryRun:
    """A dry run lists what the CLI's ``--dry-run`` would and changes nothing."""

    def test_it_lists_exactly_the_selection_and_changes_nothing(self, letters: Letters) -> None:
        """Error code http-500 and the look-up's event code: only C-1, with no action audited
        and every letter still dead."""
        client = logged_in(letters.app, "olivia")
        lookup_code = letters.by_event["C-1"].event_code
        answer = dry_run(client, verb="replay", error_code="http-500", event_code=lookup_code)
        assert answer.status_code == 200, answer.text
        assert listed(answer.text) == ids(letters, "C-1")
        assert "Dry run: 1 message(s) would be replayed; nothing changed" in answer.text
        answer = dry_run(client, verb="replay", error_code="http-500")
        assert listed(answer.text) == ids(letters, "A-1", "B-1", "C-1")
        assert set(states(letters).values()) == {MessageState.DEAD}
        assert letters.desk.audit_lines() == []

    def test_since_and_until_read_as_the_cli_reads_them(self, letters: Letters) -> None:
        """A time without a zone is UTC; since is inclusive, until exclusive."""
        client = logged_in(letters.app, "olivia")
        naive = letters.between.replace(tzinfo=None).isoformat()
        after = dry_run(client, verb="discard", since=naive)
        assert listed(after.text) == ids(letters, "D-1")
        before = dry_run(client, verb="discard", until=letters.between.isoformat())
        assert listed(before.text) == ids(letters, "A-1", "B-1", "C-1")
        bad = dry_run(client, verb="discard", since="yesterday")
        assert bad.status_code == 400
        assert "since: not an ISO 8601 date or time" in bad.text

    def test_a_dossier_id_stays_out_of_every_address(self, letters: Letters) -> None:
        """The id typed is posted; the page shows and carries its tag, no address holds it."""
        client = logged_in(letters.app, "olivia")
        answer = dry_run(client, verb="replay", dossier=DOSSIER_A)
        assert answer.status_code == 200
        assert "Location" not in answer.headers
        assert answer.request.url.endswith("/bulk")
        assert listed(answer.text) == ids(letters, "A-1")
        assert DOSSIER_A not in answer.text
        assert confirm_form(answer.text)["dossier"] == [tags().of_id(DOSSIER_A)]
        posted = client.post(
            "/bulk/confirm", data={**confirm_form(answer.text), "reason": "EPD ticket 12"}
        )
        assert posted.status_code == 302
        assert DOSSIER_A not in posted.headers["Location"]
        assert DOSSIER_A not in client.get(posted.headers["Location"]).text

    def test_an_empty_selection_is_refused(self, letters: Letters) -> None:
        """No criterion: a 400 page that says what to name, and nothing listed."""
        client = logged_in(letters.app, "olivia")
        answer = dry_run(client, verb="replay", dossier="  ", since="")
        assert answer.status_code == 400
        assert "name what to take" in answer.text
        assert "never takes every message at once" in answer.text
        assert listed(answer.text) == set()


class TestConfirm:
    """The confirm runs the same bulk call on what the dry run showed."""

    def test_it_replays_the_selection_and_audits_each(self, letters: Letters) -> None:
        """The HTTP 500 letters become pending, D-1 stays dead; an audit line per message
        names the user, the console, the reason and the selection."""
        client = logged_in(letters.app, "olivia")
        page = dry_run(client, verb="replay", error_code="http-500").text
        answer = confirm(client, page)
        assert flashed(answer.text) == ["replay: 3 of 3 message(s)"]
        assert states(letters) == {
            "A-1": MessageState.PENDING,
            "B-1": MessageState.PENDING,
            "C-1": MessageState.PENDING,
            "D-1": MessageState.DEAD,
        }
        lines = letters.desk.audit_lines(action="replay")
        assert {line.target for line in lines} == ids(letters, "A-1", "B-1", "C-1")
        for line in lines:
            assert line.actor == "olivia (console)"
            assert line.detail["reason"] == "INC-7 over"
            assert line.detail["bulk"] == {"error_code": "http-500", "message_ids": 3}

    def test_a_second_confirm_does_nothing_twice(self, letters: Letters) -> None:
        """The same form again: every message skipped, no audit line more."""
        client = logged_in(letters.app, "olivia")
        page = dry_run(client, verb="discard", error_code="soap-fault soap:Server").text
        assert flashed(confirm(client, page).text) == ["discard: 1 of 1 message(s)"]
        assert flashed(confirm(client, page).text) == ["discard: 0 of 0 message(s); 1 skipped"]
        assert len(letters.desk.audit_lines(action="discard")) == 1
        assert states(letters)["D-1"] is MessageState.DISCARDED

    def test_only_the_listed_messages_are_taken(self, letters: Letters) -> None:
        """A dead letter the criteria select but the dry run did not list is left alone."""
        client = logged_in(letters.app, "olivia")
        page = dry_run(client, verb="discard", error_code="http-500").text
        form = confirm_form(page)
        form["message_id"] = [m for m in form["message_id"] if m not in ids(letters, "B-1")]
        answer = client.post(
            "/bulk/confirm", data={**form, "reason": "EPD resends"}, follow_redirects=True
        )
        assert flashed(answer.text) == ["discard: 2 of 2 message(s)"]
        assert states(letters)["B-1"] is MessageState.DEAD

    def test_restore_takes_discarded_messages(self, letters: Letters) -> None:
        """Discarded by filter, then restored by the same filter: dead letters again."""
        client = logged_in(letters.app, "olivia")
        confirm(client, dry_run(client, verb="discard", error_code="http-500").text)
        page = dry_run(client, verb="restore", error_code="http-500").text
        assert listed(page) == ids(letters, "A-1", "B-1", "C-1")
        assert flashed(confirm(client, page, "by mistake").text) == ["restore: 3 of 3 message(s)"]
        assert set(states(letters).values()) == {MessageState.DEAD}

    def test_a_confirm_without_criteria_is_refused(self, letters: Letters) -> None:
        """Message ids alone (a form made by hand): refused, nothing done."""
        client = logged_in(letters.app, "olivia")
        answer = client.post(
            "/bulk/confirm",
            data={
                "csrf_token": token(client, "/bulk"),
                "verb": "replay",
                "message_id": sorted(ids(letters, "A-1")),
                "reason": "r",
            },
            follow_redirects=True,
        )
        assert "name what to take" in flashed(answer.text)[0]
        assert letters.desk.audit_lines() == []


class TestGuards:
    """Operators only, with the session's CSRF token."""

    def test_a_viewer_gets_403(self, letters: Letters) -> None:
        """The form, the dry run and the confirm answer a viewer 403; nothing changes."""
        operator = logged_in(letters.app, "olivia")
        form = confirm_form(dry_run(operator, verb="replay", error_code="http-500").text)
        viewer = logged_in(letters.app, "victor")
        form["csrf_token"] = [token(viewer, "/audit")]
        assert viewer.get("/bulk").status_code == 403
        assert viewer.post("/bulk", data={**form}).status_code == 403
        answer = viewer.post("/bulk/confirm", data={**form, "reason": "r"})
        assert answer.status_code == 403
        assert set(states(letters).values()) == {MessageState.DEAD}
        assert letters.desk.audit_lines() == []
        assert 'id="bulk-link"' not in viewer.get("/dead-letters").text

    def test_a_confirm_without_the_csrf_token_is_refused(self, letters: Letters) -> None:
        """An operator's confirm without its token: 403, nothing replayed."""
        client = logged_in(letters.app, "olivia")
        form = confirm_form(dry_run(client, verb="replay", error_code="http-500").text)
        del form["csrf_token"]
        assert client.post("/bulk/confirm", data={**form, "reason": "r"}).status_code == 403
        assert client.post("/bulk", data={"verb": "replay", "group": "x"}).status_code == 403
        assert set(states(letters).values()) == {MessageState.DEAD}
        assert letters.desk.audit_lines() == []


class TestAuditTimeRange:
    """The audit page's since and until, as ``vsb-adapter audit --since/--until``."""

    def test_since_and_until_split_the_lines(self, letters: Letters) -> None:
        """A replay before a moment, a discard after it: each side of it shows its own."""
        client = logged_in(letters.app, "olivia")
        confirm(
            client,
            dry_run(client, verb="replay", event_code=letters.by_event["C-1"].event_code).text,
        )
        [replayed] = letters.desk.audit_lines(action="replay")
        assert wait_for(lambda: datetime.now(UTC) > replayed.at)
        moment = datetime.now(UTC)
        assert wait_for(lambda: datetime.now(UTC) > moment)
        confirm(client, dry_run(client, verb="discard", dossier="EPD-D").text)
        [discarded] = letters.desk.audit_lines(action="discard")

        def shown(**query: str) -> set[str]:
            page = client.get("/audit", query_string=query)
            assert page.status_code == 200, page.text
            return set(re.findall(r'<td class="target">([^<]+)</td>', page.text))

        assert shown() == {replayed.target, discarded.target}
        assert shown(since=moment.isoformat()) == {discarded.target}
        assert shown(until=moment.isoformat()) == {replayed.target}
        assert shown(until=moment.replace(tzinfo=None).isoformat()) == {replayed.target}
        assert shown(since=moment.date().isoformat(), action="discard") == {discarded.target}
        bad = client.get("/audit", query_string={"until": "tomorrow"})
        assert bad.status_code == 400
        assert "until: not an ISO 8601 date or time" in bad.text
