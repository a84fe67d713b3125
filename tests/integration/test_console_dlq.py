"""The console's pages of the broker's dead-letter queue, on the local RabbitMQ: a daemon
with a small ``broker.max_event_bytes`` dead-letters two events it cannot store, then stops;
the console (Flask's test client, a real SQLite store) lists and shows them masked, refuses a
viewer's and a token-less action, and an operator's requeue and purge act on the queue and
are audited as ``vsb-adapter dlq`` audits them.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import NamedTuple

import pytest
from flask import Flask
from flask.testing import FlaskClient

from adapter.console.server import console_app
from adapter.console.users import Role, write_user
from adapter.daemon import Daemon, broker_address
from adapter.devpki import DevPki
from adapter.dlq import DeadLetterQueue
from adapter.settings import Settings, load_settings
from adapter.store import create_store_engine, migrate
from adapter.support import SupportDesk
from adapter.support_cli import desk_of
from adapter.testing import keyring_file
from queues import AnswerWatcher, ConfirmedPublisher
from simulator import Simulator
from tests.integration.test_console_security import PASSWORD, logged_in, token
from tests.support import events, reva
from tests.support.processes import adapter_environ
from tests.support.rig import Harness, wait_for


class Queued(NamedTuple):
    """Two oversized events in the dead-letter queue, the console over the adapter's store."""

    app: Flask
    settings: Settings
    desk: SupportDesk
    queue: DeadLetterQueue
    insz: str


def person(simulator: Simulator, serial: int) -> str:
    """An affiliated person of its own."""
    insz = reva.insz(date(1970, 1, 1), serial)
    simulator.set_person(insz, "affiliated", "180", date(2001, 10, 1))
    return insz


@pytest.fixture
def queued(
    pki: DevPki,
    broker_names: dict[str, str],
    simulator: Simulator,
    sqlite_url: str,
    tmp_path: Path,
) -> Queued:
    """``big-1`` and ``big-2`` dead-lettered as oversized (1 KiB allowed), the daemon
    stopped so that a requeued event stays in the events queue; an operator and a viewer."""
    users = tmp_path / "users"
    write_user(users, "olivia", Role.OPERATOR, PASSWORD)
    write_user(users, "victor", Role.VIEWER, PASSWORD)
    environ = adapter_environ(
        sqlite_url,
        broker_names,
        simulator.url,
        pki,
        VSB_BROKER__MAX_EVENT_BYTES="1024",
        VSB_CONSOLE__ENABLED="true",
        VSB_CONSOLE__USERS_FILE=str(users),
    )
    settings = load_settings(None, environ)
    b = settings.broker
    queue = DeadLetterQueue(broker_address(settings), b.dead_letter_queue, b.events_exchange)
    insz = person(simulator, 41)
    daemon = Daemon(settings)
    address = broker_address(settings)
    with AnswerWatcher(address, b.answers_exchange) as watcher:
        daemon.start()
        publisher = ConfirmedPublisher(address)
        try:
            Harness(settings, daemon, watcher, publisher).send(
                events.application("big-1", "BIG1", 1, insz),
                events.application("big-2", "BIG2", 1, person(simulator, 43)),
            )
            assert wait_for(lambda: len(queue.look()) == 2, timeout=20)
        finally:
            publisher.close()
            daemon.stop()
    desk = desk_of(settings)
    return Queued(console_app(settings, desk), settings, desk, queue, insz)


def events_waiting(settings: Settings) -> int:
    """How many messages the events queue holds (the daemon is stopped: none is taken)."""
    connection = broker_address(settings).connect("test events queue")
    try:
        declared = connection.channel().queue_declare(settings.broker.events_queue, passive=True)
        return int(declared.method.message_count)
    finally:
        connection.close()


def action_form(client: FlaskClient, position: int) -> dict[str, str]:
    """The hidden fields of the requeue form on message ``position``'s page."""
    page = client.get(f"/dlq/{position}").text
    fields = dict(re.findall(r'type="hidden" name="(event_id|fingerprint)" value="([^"]*)"', page))
    assert set(fields) == {"event_id", "fingerprint"}, "no action form on the page"
    return fields


class TestDeadLetterQueuePages:
    """``/dlq`` and ``/dlq/N`` read the queue as ``vsb-adapter dlq list`` and ``show`` do."""

    def test_a_viewer_reads_the_list_and_a_masked_message(self, queued: Queued) -> None:
        """Position, event id, size and RabbitMQ's or the adapter's reason; the body masked
        (the person's INSZ never on a page); no action buttons; looking takes nothing off."""
        viewer = logged_in(queued.app, "victor")
        listing = viewer.get("/dlq")
        assert listing.status_code == 200
        rows = re.findall(
            r'data-position="(\d)">.*?class="event-id">([^<]*)<.*?class="reason">([^<]*)<',
            listing.text,
            re.S,
        )
        assert [(p, e) for p, e, _ in rows] == [("1", "big-1"), ("2", "big-2")]
        assert all(reason.startswith("oversized: ") for _, _, reason in rows)
        assert "2 message(s) in" in listing.text
        assert queued.insz not in listing.text

        shown = viewer.get("/dlq/1")
        assert shown.status_code == 200
        assert 'id="event-id">big-1<' in shown.text
        assert "&#34;resourceType&#34;: &#34;Bundle&#34;" in shown.text  # masked keeps its shape
        assert queued.insz not in shown.text
        assert "dlq-requeue" not in shown.text
        assert "dlq-purge" not in shown.text
        assert [d.event_id for d in queued.queue.look()] == ["big-1", "big-2"]

    def test_an_unknown_number_is_a_clear_404(self, queued: Queued) -> None:
        """A position past the queue's end names the queue and what may have happened."""
        answer = logged_in(queued.app, "victor").get("/dlq/9")
        assert answer.status_code == 404
        assert f"no message 9 in {queued.settings.broker.dead_letter_queue}" in answer.text
        assert "requeued or purged" in answer.text


class TestDeadLetterQueueActions:
    """Requeue and purge: operators only, with the CSRF token and a reason, audited."""

    def test_a_viewer_may_not_requeue_or_purge(self, queued: Queued) -> None:
        """403 for both, even with the session's token and the page's fields; nothing moves
        and nothing is audited."""
        viewer = logged_in(queued.app, "victor")
        operator = logged_in(queued.app, "olivia")
        fields = action_form(operator, 1)
        for verb in ("requeue", "purge"):
            answer = viewer.post(
                f"/dlq/{verb}",
                data={**fields, "reason": "r", "csrf_token": token(viewer, "/dlq")},
            )
            assert answer.status_code == 403, verb
        assert [d.event_id for d in queued.queue.look()] == ["big-1", "big-2"]
        assert queued.desk.audit_lines(10) == []

    def test_an_operator_without_the_token_is_refused(self, queued: Queued) -> None:
        """A requeue posted without the session's CSRF token (from another site) gets 403."""
        operator = logged_in(queued.app, "olivia")
        answer = operator.post(
            "/dlq/requeue", data={**action_form(operator, 1), "reason": "limit raised"}
        )
        assert answer.status_code == 403
        assert len(queued.queue.look()) == 2
        assert events_waiting(queued.settings) == 0

    def test_an_operator_requeues_and_purges_with_a_reason(self, queued: Queued) -> None:
        """The requeued event is back in the events queue, the purged one gone; each is an
        audit line with the user, the reason and the reason RabbitMQ recorded; acting again
        on the same page says it is no longer there."""
        operator = logged_in(queued.app, "olivia")
        first = action_form(operator, 1)
        csrf = token(operator, "/dlq")
        refused = operator.post(
            "/dlq/requeue", data={**first, "csrf_token": csrf}, follow_redirects=True
        )
        assert "this needs a reason" in refused.text
        assert len(queued.queue.look()) == 2

        done = operator.post(
            "/dlq/requeue",
            data={**first, "reason": "limit raised", "csrf_token": csrf},
            follow_redirects=True,
        )
        assert "requeued big-1  (oversized: " in done.text
        assert wait_for(lambda: events_waiting(queued.settings) == 1)
        assert [d.event_id for d in queued.queue.look()] == ["big-2"]

        second = action_form(operator, 1)
        assert second["event_id"] == "big-2"
        purged = operator.post(
            "/dlq/purge",
            data={**second, "reason": "EPD resent it", "csrf_token": csrf},
            follow_redirects=True,
        )
        assert "purged big-2" in purged.text
        assert queued.queue.look() == []
        assert events_waiting(queued.settings) == 1

        again = operator.post(
            "/dlq/requeue",
            data={**first, "reason": "again", "csrf_token": csrf},
            follow_redirects=True,
        )
        assert "big-1 is not in" in again.text
        assert "nothing requeued" in again.text

        audit = queued.desk.audit_lines(10)
        assert [(a.actor, a.action, a.target) for a in audit] == [
            ("olivia (console)", "dlq-purge", "big-2"),
            ("olivia (console)", "dlq-requeue", "big-1"),
        ]
        requeued = audit[1].detail
        assert requeued["reason"] == "limit raised"
        assert str(requeued["reason_recorded"]).startswith("oversized: ")
        recorded = re.match(r"oversized: (\d+) bytes", str(requeued["reason_recorded"]))
        assert recorded, requeued
        assert requeued["size"] == int(recorded.group(1))
        assert audit[0].detail["reason"] == "EPD resent it"
        assert "os_user" in requeued


class TestBrokerUnreachable:
    """Without RabbitMQ the queue's pages say so; the store's pages still work."""

    def test_the_list_answers_503_with_the_reason(self, tmp_path: Path, sqlite_url: str) -> None:
        """A broker URL nobody listens on: ``/dlq`` is a 503 naming it, ``/status`` a 200."""
        users = tmp_path / "users"
        write_user(users, "victor", Role.VIEWER, PASSWORD)
        settings = load_settings(
            None,
            {
                "VSB_STORE__URL": sqlite_url,
                "VSB_STORE__KEY_FILE": str(keyring_file(tmp_path / "keyring")),
                "VSB_BROKER__URL": "amqp://guest:guest@127.0.0.1:1/%2F",
                "VSB_CONSOLE__ENABLED": "true",
                "VSB_CONSOLE__USERS_FILE": str(users),
            },
        )
        migrate(create_store_engine(settings.store.url, 1))
        viewer = logged_in(console_app(settings, desk_of(settings)), "victor")
        answer = viewer.get("/dlq")
        assert answer.status_code == 503
        assert "cannot read the dead-letter queue" in answer.text
        assert "guest:guest" not in answer.text  # the URL without its password
        assert viewer.get("/status").status_code == 200
